// Portal pages for the integration pipeline: the integrations a staff member may see, one integration's stage
// tracker (each gate's status, the latest run of each kind, the actions this role may take now), and a form per
// step: solution design, endpoint, checklist evidence, sandbox credentials (shown once), safety and DSPT sign-off,
// connection agreement, go-live (with check your answers) and retirement. Starting runs posts to the runs pages.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import { suiteFor } from '../conformance/suites.ts';
import { GovernanceError, hasRole, type GovernanceActor } from '../governance/governance-access.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import {
  advance, authorize, checkGoLive, integrationInfo, completeChecklistItem, DSPT_STATUSES, gateReport, goLive, IDENTITY_LEVELS, issueCredentials, listIntegrations, nextStage,
  recordAgreement, recordDesign, recordDspt, registerEndpoint, retire, ROUTE, signOffSafety, STAGE_NAMES, viewIntegration,
  type Gate, type Integration, type PipelineDeps, type Stage,
} from '../pipeline/integrations.ts';
import { latestRuns } from '../pipeline/runs/run-service.ts';
import { formErrorsFrom } from './decisions-web.ts';
import { runsWeb } from './runs-web.ts';
import { requirePortalStaff, type PortalPage } from './portal-web.ts';

type Body = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? String(v[0] ?? '') : v === undefined ? '' : String(v));
const flat = (b: Body | undefined): Record<string, string> => Object.fromEntries(Object.entries(b ?? {}).map(([k, v]) => [k, one(v)]));

const STAGE_TAGS: Record<Stage, string> = {
  'solution-design': 'nhsuk-tag--blue', development: 'nhsuk-tag--blue', assurance: 'nhsuk-tag--purple', 'connection-agreement': 'nhsuk-tag--yellow', live: 'nhsuk-tag--green', retired: 'nhsuk-tag--grey',
};
const GATE_TAGS: Record<Gate['state'], { text: string; classes: string }> = {
  passed: { text: 'Passed', classes: 'nhsuk-tag--green' }, 'not-yet': { text: 'Not yet', classes: 'nhsuk-tag--grey' }, failed: { text: 'Failed', classes: 'nhsuk-tag--red' },
};
const DONE: Record<string, string> = {
  design: 'Solution design saved', endpoint: 'Endpoint registered', checklist: 'Evidence saved', safety: 'Clinical safety signed off', dspt: 'DSPT status recorded',
  agreement: 'Connection agreement recorded', advanced: 'Stage moved on', live: 'The service is live: ICBs can now commission it', retired: 'The service is retired and no longer offered',
};

/** The conformance suite for an integration: web integrations share one; native ones use their service type's. */
export function suiteOf(i: Pick<Integration, 'integrationMethod' | 'serviceType'>): string {
  return i.integrationMethod === 'web' ? 'web' : i.serviceType === 'gp-system' ? 'gp' : i.serviceType;
}

interface Field {
  kind: 'input' | 'textarea' | 'radios';
  name: string;
  label: string;
  hint?: string;
  items?: { value: string; text: string }[];
}

interface StepForm {
  title: string;
  intro?: string;
  fields: Field[];
  button: string;
  /** Who may use the form, as the domain would decide; the domain still checks. */
  run: (deps: PipelineDeps, actor: GovernanceActor, id: string, body: Record<string, string>) => Promise<unknown>;
  prefill?: (i: Integration) => Record<string, string>;
}

const STEPS: Record<string, StepForm> = {
  design: {
    title: 'Record the solution design', button: 'Save solution design',
    intro: 'A short design record: what the integration uses, what data moves, the identity level citizens need and who is accountable for clinical safety.',
    fields: [
      { kind: 'textarea', name: 'apis', label: 'APIs used', hint: 'For example, the online consultation API v1 and NHS login.' },
      { kind: 'textarea', name: 'dataFlows', label: 'Data flows', hint: 'What data passes between the app and the service, in which direction.' },
      { kind: 'radios', name: 'identityLevel', label: 'NHS login identity level citizens need', items: IDENTITY_LEVELS.map((l) => ({ value: l, text: l })) },
      { kind: 'input', name: 'safetyOfficer', label: 'Clinical safety officer', hint: 'The named person who signs the DCB0129 safety case.' },
    ],
    run: recordDesign,
    prefill: (i): Record<string, string> => (i.design ? { apis: i.design.apis, dataFlows: i.design.dataFlows, identityLevel: i.design.identityLevel, safetyOfficer: i.design.safetyOfficer } : {}),
  },
  endpoint: {
    title: 'Register your endpoint', button: 'Register endpoint',
    intro: 'Assurance runs call these addresses. Only addresses on the allow-list are called; anything else is refused when a run starts.',
    fields: [
      { kind: 'input', name: 'endpointUrl', label: 'Endpoint base URL', hint: 'For example, http://127.0.0.1:7101/api' },
      { kind: 'input', name: 'webUrl', label: 'Web address citizens are sent to', hint: 'Web integrations only: the page the app opens, signed in through NHS login.' },
    ],
    run: registerEndpoint,
    prefill: (i) => ({ endpointUrl: i.endpointUrl ?? '', webUrl: i.webUrl ?? '' }),
  },
  safety: {
    title: 'Sign off clinical safety', button: 'Sign off clinical safety',
    intro: 'Confirm you have reviewed the supplier\'s DCB0129 clinical safety case and hazard log.',
    fields: [{ kind: 'input', name: 'reference', label: 'Safety case reference and version reviewed' }],
    run: signOffSafety,
  },
  dspt: {
    title: 'Record the DSPT status', button: 'Record DSPT status',
    intro: 'The status of the supplier\'s latest Data Security and Protection Toolkit submission. Only Standards met passes the gate.',
    fields: [{ kind: 'radios', name: 'status', label: 'DSPT status', items: DSPT_STATUSES.map((s) => ({ value: s, text: s })) }],
    run: recordDspt,
  },
  agreement: {
    title: 'Record the connection agreement', button: 'Record signed agreement',
    fields: [{ kind: 'input', name: 'signatory', label: 'Who signed the agreement for the supplier', hint: 'Name and role, for example Priya Shah, Director.' }],
    run: recordAgreement,
  },
  retire: {
    title: 'Retire this service', button: 'Retire service',
    intro: 'Citizens stop seeing the service at once, everywhere it is commissioned.',
    fields: [{ kind: 'textarea', name: 'reason', label: 'Why is the service being retired?' }],
    run: retire,
  },
};

export async function pipelineWeb(portal: FastifyInstance, deps: AppDeps, page: PortalPage): Promise<void> {
  const pipeline = async (): Promise<PipelineDeps> => ({ ...(await governanceDeps(deps.db, deps.audit)), catalog: deps.catalog });
  const actorOf = (req: FastifyRequest): GovernanceActor => {
    const me = requirePortalStaff(req);
    return { sub: me.sub, roles: me.roles, requestId: req.id };
  };

  portal.get('/integrations', async (req, reply) => {
    const actor = actorOf(req);
    const list = await listIntegrations(await pipeline(), actor);
    return page(reply, 'portal-integrations.njk', {
      title: 'Integrations', back: { href: '/portal' },
      integrations: list.map((i) => ({ ...i, stageName: STAGE_NAMES[i.stage], stageTag: STAGE_TAGS[i.stage] })),
    });
  });

  const integrationPage = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, err?: GovernanceError) => {
    const actor = actorOf(req);
    const p = await pipeline();
    const i = await viewIntegration(p, actor, req.params.id);
    const [gates, runs] = await Promise.all([gateReport(p, i), latestRuns(deps.db, i.id)]);
    const national = hasRole(actor, 'national-team');
    const supplier = actor.roles.some((r) => r.role === 'supplier' && r.organisation === i.supplierId);
    const at = ROUTE.indexOf(i.stage);
    const stageItems = ROUTE.map((s, n) => ({
      title: { text: STAGE_NAMES[s] },
      hint: s === 'eligibility' ? (i.eligibility ? 'Commissioned in England, free at the point of use, personalised' : 'Proposed before eligibility was asked')
        : s === 'expression-of-interest' ? `Proposal ${i.proposalId}` : s === 'prioritisation' ? `Approved in round ${i.round}` : undefined,
      status: n < at || (s === 'retired' && i.stage === 'retired') || (s === 'live' && i.stage === 'retired') ? { tag: { text: 'Completed', classes: 'nhsuk-tag--green' } }
        : n === at ? { tag: { text: 'Current stage', classes: 'nhsuk-tag--blue' } } : { text: 'Not yet' },
    }));
    const next = nextStage(i.stage);
    const open = ['development', 'assurance'].includes(i.stage);
    const actions: { text: string; href: string }[] = [];
    if ((supplier || national) && ['solution-design', 'development'].includes(i.stage)) actions.push({ text: i.design ? 'Change the solution design' : 'Record the solution design', href: `/portal/integrations/${i.id}/design` });
    if (supplier && open) actions.push({ text: i.endpointUrl ? 'Change your registered endpoint' : 'Register your endpoint', href: `/portal/integrations/${i.id}/endpoint` });
    if ((supplier || national) && open) actions.push({ text: supplier ? 'Complete the assurance checklist' : 'See the assurance checklist', href: `/portal/integrations/${i.id}/checklist` });
    if (national && i.stage === 'assurance') {
      actions.push({ text: 'Sign off clinical safety', href: `/portal/integrations/${i.id}/safety` }, { text: 'Record the DSPT status', href: `/portal/integrations/${i.id}/dspt` });
    }
    if (national && i.stage === 'connection-agreement') {
      actions.push({ text: 'Record the connection agreement', href: `/portal/integrations/${i.id}/agreement` }, { text: 'Go live', href: `/portal/integrations/${i.id}/go-live` });
    }
    if (national && i.stage === 'live') actions.push({ text: 'Retire this service', href: `/portal/integrations/${i.id}/retire` });
    const suite = suiteFor(suiteOf(i));
    const runRows = (['conformance', 'accessibility', 'capacity'] as const).filter((k) => k !== 'accessibility' || i.integrationMethod === 'web').map((k) => {
      const r = runs[k];
      return { kind: k, name: k[0].toUpperCase() + k.slice(1), run: r, href: r ? `/portal/integrations/${i.id}/runs/${r.id}` : undefined, status: r ? `${r.status[0].toUpperCase()}${r.status.slice(1)}${r.status === 'running' || r.status === 'queued' ? ` (${r.progress}%)` : ''}` : 'No run yet' };
    });
    const summary = [
      ['Supplier', i.supplierName], ['Service', `${i.serviceTypeName} (${i.integrationMethod === 'web' ? 'web integration' : 'native'})`], ['Region', i.regionName],
      ['Prioritisation round', i.round], ['Population covered by supporting ICBs', `${i.populationCovered.toLocaleString('en-GB')} (${i.supportingIcbs.join(', ') || 'none'})`],
      ['Endpoint', i.endpointUrl ?? 'Not registered'], ...(i.integrationMethod === 'web' ? [['Web address', i.webUrl ?? 'Not registered']] : []),
      ['Solution design', i.design ? `APIs: ${i.design.apis}. Data flows: ${i.design.dataFlows}. Identity level ${i.design.identityLevel}. Clinical safety officer: ${i.design.safetyOfficer}.` : 'Not recorded'],
      ['Sandbox credentials', i.credentials ? `Client ID ${i.credentials.clientId}, issued by ${i.credentials.issuedBy}` : 'Not issued'],
      ...(i.agreement ? [['Connection agreement', `Signed for the supplier by ${i.agreement.signatory}; recorded by ${i.agreement.by}`]] : []),
      ...(i.live ? [['Went live', `${i.live.at.toISOString().slice(0, 10)} by ${i.live.by}: ${i.live.reason}`]] : []),
      ...(i.retired ? [['Retired', `${i.retired.at.toISOString().slice(0, 10)} by ${i.retired.by}: ${i.retired.reason}`]] : []),
    ].map(([key, value]) => ({ key: { text: key }, value: { text: value } }));
    return page(reply, 'portal-integration.njk', {
      title: i.title, i, back: { href: '/portal/integrations' }, done: DONE[(req.query as { done?: string }).done ?? ''],
      stageName: STAGE_NAMES[i.stage], stageTag: STAGE_TAGS[i.stage], stageItems, summary,
      gates: gates.map((g) => ({ ...g, tag: GATE_TAGS[g.state], neededFor: STAGE_NAMES[g.toEnter] })),
      runRows, actions, national, canRun: (supplier || national) && open,
      advanceTo: national && next && next !== 'live' && next !== 'retired' ? { value: next, text: STAGE_NAMES[next] } : undefined,
      suite: suite ? { type: suite.type, systems: suite.systems.map((s) => ({ value: s, text: s })) } : undefined,
      csrfToken: reply.generateCsrf(), ...(err ? { errors: [{ text: err.message, href: '#gates' }] } : {}),
    }, err ? (err.kind === 'invalid' ? 400 : 409) : 200);
  };

  portal.get<{ Params: { id: string } }>('/integrations/:id', async (req, reply) => integrationPage(req, reply));

  portal.post<{ Params: { id: string }; Body: Body }>('/integrations/:id/advance', { preHandler: portal.csrfProtection }, async (req, reply) => {
    try {
      await advance(await pipeline(), actorOf(req), req.params.id, { to: one(req.body?.to) });
    } catch (err) {
      if (err instanceof GovernanceError && (err.kind === 'conflict' || err.kind === 'invalid')) return integrationPage(req, reply, err);
      throw err;
    }
    return reply.redirect(`/portal/integrations/${req.params.id}?done=advanced`, 303);
  });

  // ---- one form per step ------------------------------------------------------------------------------------------
  const stepPage = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, step: string, values?: Record<string, string>, err?: GovernanceError) => {
    const i = await viewIntegration(await pipeline(), actorOf(req), req.params.id);
    const form = STEPS[step];
    const v = values ?? form.prefill?.(i) ?? {};
    const fields = form.fields.filter((f) => f.name !== 'webUrl' || i.integrationMethod === 'web')
      .map((f) => ({ ...f, value: v[f.name] ?? '', items: f.items?.map((it) => ({ ...it, checked: v[f.name] === it.value })) }));
    return page(reply, 'portal-integration-form.njk', {
      title: form.title, caption: `${i.title} (integration ${i.id})`, intro: form.intro, fields, buttonText: form.button,
      action: `/portal/integrations/${i.id}/${step}`, back: { href: `/portal/integrations/${i.id}` }, csrfToken: reply.generateCsrf(),
      ...(err ? formErrorsFrom(err).toView() : {}),
    }, err ? (err.kind === 'invalid' ? 400 : 409) : 200);
  };

  for (const step of Object.keys(STEPS)) {
    portal.get<{ Params: { id: string } }>(`/integrations/:id/${step}`, async (req, reply) => stepPage(req, reply, step));
    portal.post<{ Params: { id: string }; Body: Body }>(`/integrations/:id/${step}`, { preHandler: portal.csrfProtection }, async (req, reply) => {
      const body = flat(req.body);
      try {
        await STEPS[step].run(await pipeline(), actorOf(req), req.params.id, body);
      } catch (err) {
        // A step not open yet (its prerequisite missing) is shown on the form too, with what is missing.
        if (err instanceof GovernanceError && (err.kind === 'invalid' || err.kind === 'conflict')) return stepPage(req, reply, step, body, err);
        throw err;
      }
      return reply.redirect(`/portal/integrations/${req.params.id}?done=${step === 'retire' ? 'retired' : step}`, 303);
    });
  }

  // ---- assurance checklist: one evidence box per item -------------------------------------------------------------
  const checklistPage = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, values: Record<string, string> = {}, err?: GovernanceError) => {
    const actor = actorOf(req);
    const i = await viewIntegration(await pipeline(), actor, req.params.id);
    const supplier = actor.roles.some((r) => r.role === 'supplier' && r.organisation === i.supplierId);
    const done = i.checklist.filter((c) => c.evidence).length;
    return page(reply, 'portal-integration-checklist.njk', {
      title: 'Assurance checklist', caption: `${i.title} (integration ${i.id})`, i, back: { href: `/portal/integrations/${i.id}` },
      editable: supplier && ['development', 'assurance'].includes(i.stage), progress: `${done} of ${i.checklist.length} items have evidence`,
      items: i.checklist.map((c) => ({ ...c, value: values.item === c.item ? values[`evidence-${c.item}`] : c.evidence?.text ?? '', by: c.evidence ? `${c.evidence.by}, ${c.evidence.at.toISOString().slice(0, 10)}` : undefined })),
      saved: (req.query as { saved?: string }).saved, csrfToken: reply.generateCsrf(), ...(err ? formErrorsFrom(err).toView() : {}),
    }, err ? 400 : 200);
  };
  portal.get<{ Params: { id: string } }>('/integrations/:id/checklist', async (req, reply) => checklistPage(req, reply));
  portal.post<{ Params: { id: string }; Body: Body }>('/integrations/:id/checklist', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const body = flat(req.body);
    try {
      await completeChecklistItem(await pipeline(), actorOf(req), req.params.id, { item: body.item, evidence: body[`evidence-${body.item}`] });
    } catch (err) {
      if (err instanceof GovernanceError && err.kind === 'invalid') return checklistPage(req, reply, body, err);
      throw err;
    }
    return reply.redirect(`/portal/integrations/${req.params.id}/checklist?saved=${encodeURIComponent(body.item)}#${encodeURIComponent(`evidence-${body.item}`)}`, 303);
  });

  // ---- sandbox credentials: the secret is shown on this one response and never again -------------------------------
  portal.post<{ Params: { id: string } }>('/integrations/:id/credentials', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const p = await pipeline();
    const actor = actorOf(req);
    const creds = await issueCredentials(p, actor, req.params.id);
    const i = await viewIntegration(p, actor, req.params.id);
    const base = deps.config.publicUrl.replace(/\/$/, '');
    const sandboxes = Object.entries(deps.supplierUrls).filter(([name]) => name !== 'pds').map(([name, url]) => ({ key: { text: name }, value: { text: url } }));
    return page(reply, 'portal-integration-credentials.njk', {
      title: 'Sandbox credentials issued', i, creds, back: { href: `/portal/integrations/${i.id}` }, apiDocs: `${base}/api/docs/`, sandboxes,
    });
  });

  // ---- go-live: reason, check your answers, then live ------------------------------------------------------------------
  const goLiveForm = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, values: Record<string, string> = {}, err?: GovernanceError) => {
    const actor = actorOf(req);
    const p = await pipeline();
    const i = await viewIntegration(p, actor, req.params.id);
    const gates = await gateReport(p, i);
    return page(reply, 'portal-integration-form.njk', {
      title: 'Put this service live', caption: `${i.title} (integration ${i.id})`, buttonText: 'Continue', action: `/portal/integrations/${i.id}/go-live/check`,
      intro: `Going live needs every gate passed (${gates.filter((g) => g.state === 'passed').length} of ${gates.length} have). The service then joins the catalog, for ICBs to commission.`,
      fields: [{ kind: 'textarea', name: 'reason', label: 'Why is the service ready to go live?', value: values.reason ?? '' }],
      back: { href: `/portal/integrations/${i.id}` }, csrfToken: reply.generateCsrf(), ...(err ? formErrorsFrom(err).toView() : {}),
    }, err ? (err.kind === 'invalid' ? 400 : 409) : 200);
  };
  portal.get<{ Params: { id: string } }>('/integrations/:id/go-live', async (req, reply) => goLiveForm(req, reply));
  // From the check page: back to the form with the reason as typed.
  portal.post<{ Params: { id: string }; Body: Body }>('/integrations/:id/go-live/change', { preHandler: portal.csrfProtection }, async (req, reply) =>
    goLiveForm(req, reply, { reason: flat(req.body).reason ?? '' }));
  portal.post<{ Params: { id: string }; Body: Body }>('/integrations/:id/go-live/check', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const body = flat(req.body);
    let checked;
    try {
      checked = await checkGoLive(await pipeline(), actorOf(req), req.params.id, body);
    } catch (err) {
      if (err instanceof GovernanceError && (err.kind === 'invalid' || err.kind === 'conflict')) return goLiveForm(req, reply, body, err);
      throw err;
    }
    const { integration: i, service, reason, gates } = checked;
    const rows = [
      ['Catalog service', `${service.name} (${service.id})`], ['Supplier', service.supplier], ['Integration', service.integrationMethod === 'web' ? `Web integration at ${service.webUrl}` : 'Native'],
      ['Identity level citizens need', service.minIdentityLevel], ['Gates', gates.map((g) => g.name).join(', ') + ': all passed'], ['Why it is ready', reason],
    ].map(([key, value]) => ({ key: { text: key }, value: { text: value } }));
    return page(reply, 'portal-integration-check.njk', {
      title: 'Check before the service goes live', i, rows, reason, back: { href: `/portal/integrations/${i.id}/go-live` }, csrfToken: reply.generateCsrf(),
    });
  });
  portal.post<{ Params: { id: string }; Body: Body }>('/integrations/:id/go-live', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const body = flat(req.body);
    try {
      await goLive(await pipeline(), actorOf(req), req.params.id, body);
    } catch (err) {
      if (err instanceof GovernanceError && (err.kind === 'invalid' || err.kind === 'conflict')) return goLiveForm(req, reply, body, err);
      throw err;
    }
    return reply.redirect(`/portal/integrations/${req.params.id}?done=live`, 303);
  });

  // ---- assurance runs: their pages decide access through this pipeline's rules ------------------------------------
  await runsWeb(portal, deps, {
    page,
    authorize: async (staff, integrationId, action) => authorize(await pipeline(), staff, integrationId, action),
    integrationInfo: async (integrationId) => {
      try {
        return await integrationInfo(await pipeline(), integrationId);
      } catch (err) {
        if (err instanceof GovernanceError && err.kind === 'not-found') return undefined;
        throw err;
      }
    },
  });
}
