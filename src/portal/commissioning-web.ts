// Portal pages for commissioning: an ICB's services (live local ones it may commission, GP services that come
// nationally through GP IT Futures), commissioning one for all or chosen practices with dates, check your answers,
// confirmation, and decommissioning with a reason. The national team may look at any ICB; only its commissioner changes it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import {
  checkCommissioning, commission, commissionableServices, commissionerRole, decommission, GP_IT_FUTURES, icbCommissioning,
  parseCodes, todayIso, viewableIcb, type CommissioningDeps, type CommissioningInput, type CommissioningRecord,
} from '../commissioning/commissioning.ts';
import { GovernanceError, hasRole, type GovernanceActor } from '../governance/governance-access.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import { REGION_NAMES } from '../reference/regions.ts';
import { formErrorsFrom } from './decisions-web.ts';
import { requirePortalStaff, type PortalPage } from './portal-web.ts';

type Body = Record<string, string | string[] | undefined>;

const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? String(v[0] ?? '') : v === undefined ? '' : String(v));
const many = (v: string | string[] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String).filter(Boolean));

function inputFrom(body: Body): CommissioningInput {
  const date = (p: string) => ({ day: one(body[`${p}[day]`]), month: one(body[`${p}[month]`]), year: one(body[`${p}[year]`]) });
  return { serviceId: one(body.serviceId) || undefined, scope: one(body.scope) || undefined, practices: many(body.practices), practiceCodes: one(body.practiceCodes), start: date('start'), end: date('end') };
}

/** The form's fields as hidden inputs, so check-your-answers can submit or go back with everything typed. */
function hiddenFrom(input: CommissioningInput): { name: string; value: string }[] {
  const d = (p: string, v?: { day?: string; month?: string; year?: string }) => ['day', 'month', 'year'].map((k) => ({ name: `${p}[${k}]`, value: (v as Record<string, string> | undefined)?.[k] ?? '' }));
  return [
    { name: 'serviceId', value: input.serviceId ?? '' }, { name: 'scope', value: input.scope ?? '' }, { name: 'practiceCodes', value: input.practiceCodes ?? '' },
    ...(input.practices ?? []).map((value) => ({ name: 'practices', value })), ...d('start', input.start), ...d('end', input.end),
  ];
}

const longDate = (iso?: string) => (iso ? new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }) : '');

export async function commissioningWeb(portal: FastifyInstance, deps: AppDeps, page: PortalPage): Promise<void> {
  const domain = async (): Promise<CommissioningDeps> => ({ ...(await governanceDeps(deps.db, deps.audit)), catalog: deps.catalog });
  const actorOf = (req: FastifyRequest): GovernanceActor => {
    const me = requirePortalStaff(req);
    return { sub: me.sub, roles: me.roles, requestId: req.id };
  };

  const practiceText = (d: CommissioningDeps, c: { practiceCodes?: string[] }) =>
    c.practiceCodes ? c.practiceCodes.map((code) => `${d.practices.get(code)?.name ?? code} (${code})`).join(', ') : 'All practices in the ICB';
  const datesText = (c: { startDate?: string; endDate?: string }) =>
    `${c.startDate ? `From ${longDate(c.startDate)}` : 'Since before records began'}${c.endDate ? ` to ${longDate(c.endDate)}` : ', no end date'}`;

  // ---- an ICB's commissioning ---------------------------------------------------------------------------------------
  portal.get<{ Querystring: { icb?: string; done?: string } }>('/commissioning', async (req, reply) => {
    const actor = actorOf(req);
    const d = await domain();
    const requested = typeof req.query.icb === 'string' && /^[A-Z0-9]{3}$/.test(req.query.icb) ? req.query.icb : undefined;
    const icbCode = viewableIcb(d, actor, requested);
    const view = await icbCommissioning(d, actor, icbCode);
    const canChange = hasRole(actor, 'commissioner', icbCode);
    const { local } = await commissionableServices(deps.db);
    const icb = d.practices.listIcbs().find((i) => i.code === icbCode);
    const row = (c: CommissioningRecord, withAction: boolean) => [
      { text: c.service?.name ?? c.serviceId }, { text: practiceText(d, c) }, { text: datesText(c) },
      ...(withAction ? [{ html: canChange ? `<a href="/portal/commissioning/${c.id}/decommission">Decommission<span class="nhsuk-u-visually-hidden"> ${escape(c.service?.name ?? c.serviceId)}</span></a>` : '' }] : []),
    ];
    const pastRow = (c: CommissioningRecord) => [
      { text: c.service?.name ?? c.serviceId }, { text: practiceText(d, c) }, { text: datesText(c) },
      { text: c.ended ? `${c.ended.withdrawn ? 'Withdrawn' : 'Decommissioned'} on ${longDate(c.ended.on)}: ${c.ended.reason}` : `Ended on ${longDate(c.endDate)}` },
    ];
    const gpServices = view.national.filter((c) => c.service?.type === 'gp-system');
    return page(reply, 'portal-commissioning.njk', {
      title: `Commissioning for ICB ${icbCode}`, back: { href: '/portal' }, icbCode, canChange,
      regionName: icb ? REGION_NAMES[icb.regionCode] ?? icb.regionCode : '',
      done: req.query.done === 'decommissioned' ? 'Service decommissioned. Citizens no longer see it.' : undefined,
      national: hasRole(actor, 'national-team'),
      icbItems: d.practices.listIcbs().filter((i) => i.inEngland).map((i) => ({ value: i.code, text: `${i.code} (${REGION_NAMES[i.regionCode] ?? i.regionCode})`, selected: i.code === icbCode })),
      currentRows: view.current.map((c) => row(c, true)), pastRows: view.past.map(pastRow),
      gpRows: gpServices.map((c) => [{ text: `${c.service!.name}: ${c.service!.supplier}` }, { text: `Commissioned nationally through ${GP_IT_FUTURES} for every ICB` }]),
      availableRows: local.map((s) => [{ text: s.name }, { text: s.supplier }, { text: s.description }]),
    });
  });

  // ---- commissioning a service: form, check your answers, confirmation -----------------------------------------------
  const form = async (req: FastifyRequest, reply: FastifyReply, values: CommissioningInput, err?: GovernanceError) => {
    const actor = actorOf(req);
    const role = commissionerRole(actor);
    const d = await domain();
    const { local, national } = await commissionableServices(deps.db);
    const chosen = new Set([...(values.practices ?? []), ...parseCodes(values.practiceCodes)]);
    const practices = d.practices.practicesInIcb(role.organisation).filter((p) => p.status === 'A' && p.isGpPractice);
    return page(reply, 'portal-commissioning-form.njk', {
      title: 'Commission a service', back: { href: '/portal/commissioning' }, icbCode: role.organisation, values,
      serviceItems: local.map((s) => ({ value: s.id, text: s.name, hint: { text: `${s.supplier}. ${s.description}` }, checked: s.id === values.serviceId })),
      nationalNote: national.length ? `GP services (${national.map((s) => s.supplier).join(', ')}) are commissioned nationally through ${GP_IT_FUTURES} for every ICB, so they are not listed here.` : '',
      scopeItems: [{ value: 'all', text: `All practices in ICB ${role.organisation}` }, { value: 'chosen', text: 'Chosen practices' }].map((i) => ({ ...i, checked: i.value === values.scope })),
      practiceItems: practices.map((p) => ({ value: p.odsCode, text: `${p.name} (${p.odsCode})`, checked: chosen.has(p.odsCode) })),
      csrfToken: reply.generateCsrf(), ...(err ? formErrorsFrom(err).toView() : {}),
    }, err ? 400 : 200);
  };

  portal.get<{ Querystring: { service?: string } }>('/commissioning/new', async (req, reply) =>
    form(req, reply, { serviceId: typeof req.query.service === 'string' ? req.query.service : undefined }));

  portal.post<{ Body: Body }>('/commissioning/new', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const actor = actorOf(req);
    const input = inputFrom(req.body ?? {});
    const d = await domain();
    let checked;
    try {
      checked = await checkCommissioning(d, actor, input);
    } catch (err) {
      if (err instanceof GovernanceError && err.kind === 'invalid') return form(req, reply, input, err);
      throw err;
    }
    const rows = [
      ['Service', checked.service.name],
      ['Supplier', checked.service.supplier],
      ['ICB', checked.icbCode],
      ['Practices', practiceText(d, checked)],
      ['Start date', longDate(checked.startDate)],
      ['End date', checked.endDate ? longDate(checked.endDate) : 'No end date'],
    ].map(([key, value]) => ({ key: { text: key }, value: { text: value } }));
    return page(reply, 'portal-commissioning-check.njk', {
      title: 'Check before you commission this service', rows, hidden: hiddenFrom(input), csrfToken: reply.generateCsrf(), back: { href: '/portal/commissioning/new' },
      startsToday: checked.startDate === todayIso(),
    });
  });

  portal.post<{ Body: Body }>('/commissioning/edit', { preHandler: portal.csrfProtection }, async (req, reply) => form(req, reply, inputFrom(req.body ?? {})));

  portal.post<{ Body: Body }>('/commissioning', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const actor = actorOf(req);
    const input = inputFrom(req.body ?? {});
    let id;
    try {
      id = await commission(await domain(), actor, input);
    } catch (err) {
      if (err instanceof GovernanceError && err.kind === 'invalid') return form(req, reply, input, err);
      throw err;
    }
    return reply.redirect(`/portal/commissioning/${id}/commissioned`, 303);
  });

  portal.get<{ Params: { id: string } }>('/commissioning/:id/commissioned', async (req, reply) => {
    const actor = actorOf(req);
    const d = await domain();
    const role = commissionerRole(actor);
    const view = await icbCommissioning(d, actor, role.organisation);
    const c = view.current.find((x) => x.id === req.params.id);
    if (!c) return reply.redirect('/portal/commissioning', 303);
    return page(reply, 'portal-commissioning-done.njk', {
      title: 'Service commissioned', c, serviceName: c.service?.name ?? c.serviceId, practices: practiceText(d, c), dates: datesText(c),
      startsToday: c.startDate === todayIso(),
    });
  });

  // ---- decommissioning -------------------------------------------------------------------------------------------------
  const decommissionForm = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, reason = '', err?: GovernanceError) => {
    const actor = actorOf(req);
    const d = await domain();
    const role = commissionerRole(actor);
    const view = await icbCommissioning(d, actor, role.organisation);
    const c = view.current.find((x) => x.id === req.params.id);
    if (!c) throw new GovernanceError('not-found', 'Your ICB has no current commissioning with that reference');
    return page(reply, 'portal-commissioning-decommission.njk', {
      title: `Decommission ${c.service?.name ?? c.serviceId}`, back: { href: '/portal/commissioning' }, c,
      rows: [['Practices', practiceText(d, c)], ['Dates', datesText(c)]].map(([key, value]) => ({ key: { text: key }, value: { text: value } })),
      reason, csrfToken: reply.generateCsrf(), ...(err ? formErrorsFrom(err).toView() : {}),
    }, err ? 400 : 200);
  };

  portal.get<{ Params: { id: string } }>('/commissioning/:id/decommission', async (req, reply) => decommissionForm(req, reply));

  portal.post<{ Params: { id: string }; Body: Body }>('/commissioning/:id/decommission', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const reason = one(req.body?.reason);
    try {
      await decommission(await domain(), actorOf(req), req.params.id, reason);
    } catch (err) {
      if (err instanceof GovernanceError && err.kind === 'invalid') return decommissionForm(req, reply, reason, err);
      throw err;
    }
    return reply.redirect('/portal/commissioning?done=decommissioned', 303);
  });
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
