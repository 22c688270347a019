// Portal pages for governance: proposing a service (supplier, ICB, region) with a check-your-answers step,
// recording support (ICB, provider), and the national team's review (scores, feedback), assessment and decision;
// plus the supplier registry, feedback moderation and the audit of every change.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import { feedbackSummary, moderateFeedback, pendingFeedback, RATING_NAMES } from '../governance/feedback.ts';
import { denied, GovernanceError, governanceAudit, hasRole, type GovernanceActor } from '../governance/governance-access.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import {
  assessCriterion, backlog, checkProposal, decide, ELIGIBILITY, listProposals, recordSupport, strategicPriorities, submitProposal, viewProposal,
  type Proposal, type ProposalInput,
} from '../governance/proposals.ts';
import { loadScoringModel, MAX_POINTS, POPULATION_ASSUMPTION } from '../governance/scoring.ts';
import { FRAMEWORKS, listSuppliers, logEngagement, registerSupplier, SERVICE_TYPE_NAMES, supplierRecord } from '../governance/suppliers.ts';
import { ENGLAND_REGIONS } from '../reference/regions.ts';
import { integrationForProposal } from '../pipeline/integrations.ts';
import { roundOf } from '../pipeline/rounds.ts';
import { OUTCOME_NAMES, formErrorsFrom } from './decisions-web.ts';
import { requirePortalStaff, type PortalPage } from './portal-web.ts';

const STATUS_NAMES: Record<Proposal['status'], string> = { open: 'Open', deferred: 'Deferred', approved: 'Approved', rejected: 'Rejected' };
const STATUS_TAGS: Record<Proposal['status'], string> = { open: 'nhsuk-tag--blue', deferred: 'nhsuk-tag--yellow', approved: 'nhsuk-tag--green', rejected: 'nhsuk-tag--red' };
const PROPOSAL_FIELDS = ['eligibleCommissioned', 'eligibleFree', 'eligiblePersonalised', 'title', 'summary', 'serviceType', 'integrationMethod', 'supplierId', 'regionCode', 'userNeed', 'userNeedSource', 'citizenFacing', 'citizenFacingExplanation', 'priorityExplanation', 'providerSupport', 'processChange', 'commissionerSupport', 'icbs', 'addedValue'] as const;

type Body = Record<string, string | string[] | undefined>;

function proposalInput(body: Body): ProposalInput {
  const one = (k: string) => (Array.isArray(body[k]) ? String((body[k] as string[])[0]) : body[k] === undefined ? undefined : String(body[k]));
  const input: ProposalInput = Object.fromEntries(PROPOSAL_FIELDS.map((k) => [k, one(k)]));
  const p = body.priorities;
  input.priorities = p === undefined ? [] : (Array.isArray(p) ? p : [p]).map(String);
  return input;
}

export async function governanceWeb(portal: FastifyInstance, deps: AppDeps, page: PortalPage): Promise<void> {
  const gov = () => governanceDeps(deps.db, deps.audit);
  const actorOf = (req: FastifyRequest): GovernanceActor => {
    const me = requirePortalStaff(req);
    return { sub: me.sub, roles: me.roles, requestId: req.id };
  };
  const requireNational = (actor: GovernanceActor) => {
    if (!hasRole(actor, 'national-team')) throw denied('Only the national app team can see this page');
  };

  // ---- proposals: list and backlog -------------------------------------------------------------------------
  portal.get<{ Querystring: { region?: string } }>('/proposals', async (req, reply) => {
    const actor = actorOf(req);
    const g = await gov();
    const region = typeof req.query.region === 'string' && req.query.region in ENGLAND_REGIONS ? req.query.region : undefined;
    const national = hasRole(actor, 'national-team');
    const list = national ? await backlog(g, region) : await listProposals(g, actor);
    const decided = national ? (await listProposals(g, actor)).filter((p) => p.status === 'approved' || p.status === 'rejected') : [];
    const row = (p: Proposal, i: number) => [
      { text: String(i + 1), format: 'numeric' },
      { html: `<a href="/portal/proposals/${p.id}">${escape(p.title)}</a>` },
      { text: `${p.serviceTypeName}, ${p.supplierName}` },
      { text: p.regionName },
      { text: String(p.score.score), format: 'numeric' },
      { text: STATUS_NAMES[p.status] },
    ];
    return page(reply, 'portal-proposals.njk', {
      title: national ? (region ? `Backlog for ${ENGLAND_REGIONS[region]}` : 'National backlog') : 'Proposals', round: roundOf(new Date()),
      national, region, regions: Object.entries(ENGLAND_REGIONS).map(([value, text]) => ({ value, text, selected: value === region })),
      canPropose: actor.roles.some((r) => ['supplier', 'commissioner', 'region'].includes(r.role)),
      rows: list.map(row), decidedRows: decided.map(row), back: { href: '/portal' },
    });
  });

  // ---- proposing: form, check your answers, submit ------------------------------------------------------------
  const proposalForm = async (req: FastifyRequest, reply: FastifyReply, values: ProposalInput, err?: GovernanceError) => {
    const actor = actorOf(req);
    const role = actor.roles.find((r) => ['supplier', 'commissioner', 'region'].includes(r.role));
    if (!role) throw denied('Only suppliers, ICBs and regions can propose services');
    const [suppliers, priorities] = await Promise.all([listSuppliers(deps.db), strategicPriorities(deps.db)]);
    const visibleSuppliers = role.role === 'supplier' ? suppliers.filter((s) => s.id === role.organisation) : suppliers;
    if (role.role === 'supplier') values = { ...values, supplierId: role.organisation };
    return page(reply, 'portal-proposal-form.njk', {
      title: 'Propose a service for integration', back: { href: '/portal/proposals' }, values, role,
      supplierItems: [{ value: '', text: 'Select a supplier' }, ...visibleSuppliers.map((s) => ({ value: s.id, text: `${s.name} (${s.frameworks.map((f) => f.name).join(', ')})`, selected: s.id === values.supplierId }))],
      typeItems: Object.entries(SERVICE_TYPE_NAMES).map(([value, text]) => ({ value, text, checked: value === values.serviceType })),
      methodItems: [{ value: 'native', text: 'Native: the app calls the supplier\'s API' }, { value: 'web', text: 'Web integration: the supplier\'s own pages, with single sign-on' }].map((m) => ({ ...m, checked: m.value === values.integrationMethod })),
      regionItems: [{ value: '', text: 'Select a region' }, ...Object.entries(ENGLAND_REGIONS).map(([value, text]) => ({ value, text, selected: value === values.regionCode }))],
      priorityItems: priorities.map((p) => ({ value: p.code, text: p.name, checked: (values.priorities ?? []).includes(p.code) })),
      eligibilityQuestions: ELIGIBILITY.map((q) => ({ field: q.field, question: q.question, value: values[q.field] })),
      yesNo: (v?: string) => [{ value: 'yes', text: 'Yes', checked: v === 'yes' }, { value: 'no', text: 'No', checked: v === 'no' }],
      frameworks: Object.values(FRAMEWORKS).map((f) => `${f.name}: ${SERVICE_TYPE_NAMES[f.serviceType].toLowerCase()}`).join('; '),
      csrfToken: reply.generateCsrf(), ...(err ? formErrorsFrom(err).toView() : {}),
    }, err ? 400 : 200);
  };

  portal.get('/proposals/new', async (req, reply) => proposalForm(req, reply, { priorities: [] }));

  portal.post<{ Body: Body }>('/proposals/new', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const actor = actorOf(req);
    const input = proposalInput(req.body ?? {});
    let checked;
    try {
      checked = await checkProposal(await gov(), actor, input);
    } catch (err) {
      if (err instanceof GovernanceError && err.kind === 'invalid') return proposalForm(req, reply, input, err);
      throw err;
    }
    const priorities = await strategicPriorities(deps.db);
    const e = checked.evidence;
    const rows = [
      ['Eligibility', 'Commissioned in England, free at the point of use, personalised to the citizen'],
      ['Title', checked.title], ['Description', checked.summary], ['Type of service', SERVICE_TYPE_NAMES[checked.serviceType]],
      ['Integration', checked.integrationMethod === 'native' ? 'Native' : 'Web integration'], ['Supplier', checked.supplierName], ['Region', ENGLAND_REGIONS[checked.regionCode] ?? checked.regionCode],
      ['User need', e['user-need'].statement], ['Source of the evidence', e['user-need'].source],
      ['Citizen facing', e['citizen-facing'].citizenFacing ? 'Yes' : 'No'],
      ['Strategic priorities', e['strategic-priority'].priorities.map((c) => priorities.find((p) => p.code === c)?.name ?? c).join(', ')],
      ['How it serves them', e['strategic-priority'].explanation],
      ['Provider support', e['provider-support'].statement], ['Business processes must change', e['provider-support'].processChange ? 'Yes' : 'No'],
      ['Commissioner support', e['commissioner-support'].statement], ['Supporting ICBs named', e['commissioner-support'].icbs.join(', ') || 'None named'],
      ['Added value', e['added-value'].statement],
    ].map(([key, value]) => ({ key: { text: key }, value: { text: value } }));
    const hidden = [...PROPOSAL_FIELDS.map((name) => ({ name, value: input[name] ?? '' })), ...(input.priorities ?? []).map((value) => ({ name: 'priorities', value }))];
    return page(reply, 'portal-proposal-check.njk', { title: 'Check your proposal before submitting it', rows, hidden, csrfToken: reply.generateCsrf(), back: { href: '/portal/proposals/new' } });
  });

  // "Change" on the check page: back to the form with everything typed so far.
  portal.post<{ Body: Body }>('/proposals/edit', { preHandler: portal.csrfProtection }, async (req, reply) => proposalForm(req, reply, proposalInput(req.body ?? {})));

  portal.post<{ Body: Body }>('/proposals', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const actor = actorOf(req);
    const input = proposalInput(req.body ?? {});
    let id;
    try {
      id = await submitProposal(await gov(), actor, input);
    } catch (err) {
      if (err instanceof GovernanceError && err.kind === 'invalid') return proposalForm(req, reply, input, err);
      throw err;
    }
    return reply.redirect(`/portal/proposals/${id}?done=submitted`, 303);
  });

  // ---- one proposal: review, support, assess, decide --------------------------------------------------------------
  const DONE: Record<string, string> = { submitted: 'Proposal submitted', support: 'Support recorded', assessed: 'Assessment saved', decided: 'Decision recorded' };

  const proposalPage = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, opts: { err?: GovernanceError; form?: string; values?: Record<string, string> } = {}) => {
    const actor = actorOf(req);
    const g = await gov();
    const p = await viewProposal(g, actor, req.params.id);
    const national = hasRole(actor, 'national-team');
    const open = p.status === 'open' || p.status === 'deferred';
    const [model, priorities, feedback] = await Promise.all([loadScoringModel(deps.db), strategicPriorities(deps.db), national ? feedbackSummary(deps.db) : undefined]);
    const supportRole = actor.roles.find((r) => (r.role === 'commissioner' || r.role === 'provider') && !p.support.some((s) => s.kind === r.role && s.organisation === r.organisation));
    const e = p.evidence;
    const evidenceRows = [
      ['User need', `${e['user-need'].statement} (source: ${e['user-need'].source})`],
      ['Citizen facing', `${e['citizen-facing'].citizenFacing ? 'Yes' : 'No'}${e['citizen-facing'].explanation ? `: ${e['citizen-facing'].explanation}` : ''}`],
      ['Strategic priorities', `${e['strategic-priority'].priorities.map((c) => priorities.find((x) => x.code === c)?.name ?? c).join(', ')}: ${e['strategic-priority'].explanation}`],
      ['Provider support', `${e['provider-support'].statement} (business processes ${e['provider-support'].processChange ? 'must' : 'need not'} change)`],
      ['Commissioner support', `${e['commissioner-support'].statement} (ICBs named: ${e['commissioner-support'].icbs.join(', ') || 'none'})`],
      ['Added value', e['added-value'].statement],
    ].map(([key, value]) => ({ key: { text: key }, value: { text: value } }));
    const scoreRows = p.score.lines.map((l) => [
      { text: l.name }, { text: l.method === 'computed' ? 'Computed' : 'Assessed' }, { text: String(l.weight), format: 'numeric' },
      { text: l.points === null ? 'Not assessed' : `${l.points} of ${l.maxPoints}`, format: 'numeric' }, { text: String(l.weighted), format: 'numeric' }, { text: l.basis },
    ]);
    const supportRows = p.support.map((s) => [
      { text: s.organisationName }, { text: s.kind === 'commissioner' ? 'Commissioner' : 'Provider' }, { text: s.statement },
      { text: s.coverage ? `${plural(s.coverage.practices, 'practice')}, ${s.coverage.population.toLocaleString('en-GB')} people (${s.coverage.basis === 'stated' ? 'stated by the ICB' : 'estimated'})` : s.processChange ? 'Processes must change' : 'No process change' },
    ]);
    const fb = feedback?.byProposal[p.id];
    const criterionFeedbackRows = feedback ? model.map((c) => {
      const n = feedback.byCriterion[c.criterion];
      return [{ text: c.name }, { text: String(n.agree), format: 'numeric' }, { text: String(n.partly), format: 'numeric' }, { text: String(n.disagree), format: 'numeric' }];
    }) : [];
    const assessed = model.filter((c) => c.method === 'assessed');
    const values = opts.values ?? {};
    return page(reply, 'portal-proposal.njk', {
      title: p.title, p, back: { href: '/portal/proposals' }, integrationId: p.status === 'approved' ? await integrationForProposal(deps.db, p.id) : undefined, done: DONE[(req.query as { done?: string }).done ?? ''],
      statusName: STATUS_NAMES[p.status], statusTag: STATUS_TAGS[p.status], evidenceRows, scoreRows, supportRows, assumption: POPULATION_ASSUMPTION,
      decisions: p.decisions.map((d) => ({ ...d, outcomeName: OUTCOME_NAMES[d.outcome], responses: plural(d.feedbackConsidered, 'public response') })),
      coverageText: `${p.coverage.population.toLocaleString('en-GB')} people in ${plural(p.coverage.practices, 'practice')}`,
      national, open, supportRole, values, form: opts.form,
      proposalFeedback: fb ?? { agree: 0, partly: 0, disagree: 0, total: 0 },
      proposalComments: feedback ? feedback.published.filter((f) => f.proposalId === p.id).map((f) => ({ rating: RATING_NAMES[f.rating], comment: f.comment })) : [],
      criterionFeedbackRows,
      assessItems: assessed.map((c) => ({ value: c.criterion, text: `${c.name} (now ${p.assessments[c.criterion] ? `${p.assessments[c.criterion]!.points} of ${MAX_POINTS}` : 'not assessed'})`, selected: values.criterion === c.criterion })),
      outcomeItems: [['approve', 'Approve'], ['defer', 'Defer to a later round'], ['reject', 'Reject']].map(([value, text]) => ({ value, text, checked: values.outcome === value })),
      csrfToken: reply.generateCsrf(), ...(opts.err ? formErrorsFrom(opts.err).toView() : {}),
    }, opts.err ? 400 : 200);
  };

  portal.get<{ Params: { id: string }; Querystring: { done?: string } }>('/proposals/:id', async (req, reply) => proposalPage(req, reply));

  const action = (path: string, form: string, run: (actor: GovernanceActor, id: string, body: Record<string, string>) => Promise<unknown>, done: string) =>
    portal.post<{ Params: { id: string }; Body: Record<string, string> }>(`/proposals/:id/${path}`, { preHandler: portal.csrfProtection }, async (req, reply) => {
      const body = Object.fromEntries(Object.entries(req.body ?? {}).map(([k, v]) => [k, String(v)]));
      try {
        await run(actorOf(req), req.params.id, body);
      } catch (err) {
        if (err instanceof GovernanceError && err.kind === 'invalid') return proposalPage(req, reply, { err, form, values: body });
        throw err;
      }
      return reply.redirect(`/portal/proposals/${req.params.id}?done=${done}`, 303);
    });

  action('support', 'support', async (actor, id, b) => recordSupport(await gov(), actor, id, b), 'support');
  action('assess', 'assess', async (actor, id, b) => assessCriterion(await gov(), actor, id, b), 'assessed');
  action('decide', 'decide', async (actor, id, b) => decide(await gov(), actor, id, b), 'decided');

  // ---- feedback moderation --------------------------------------------------------------------------------------------
  portal.get('/feedback', async (req, reply) => {
    const actor = actorOf(req);
    const items = await pendingFeedback(await gov(), actor);
    const model = await loadScoringModel(deps.db);
    return page(reply, 'portal-feedback.njk', {
      title: 'Moderate public feedback', back: { href: '/portal' }, csrfToken: reply.generateCsrf(),
      items: items.map((f) => ({ ...f, about: f.criterion ? `Criterion: ${model.find((c) => c.criterion === f.criterion)?.name ?? f.criterion}` : `Proposal ${f.proposalId}`, ratingName: RATING_NAMES[f.rating] })),
    });
  });

  portal.post<{ Params: { id: string }; Body: { action?: string } }>('/feedback/:id', { preHandler: portal.csrfProtection }, async (req, reply) => {
    await moderateFeedback(await gov(), actorOf(req), req.params.id, String(req.body?.action ?? ''));
    return reply.redirect('/portal/feedback', 303);
  });

  // ---- supplier registry ----------------------------------------------------------------------------------------------
  const suppliersPage = async (req: FastifyRequest, reply: FastifyReply, values: Record<string, string | string[]> = {}, err?: GovernanceError) => {
    requireNational(actorOf(req));
    const suppliers = await listSuppliers(deps.db);
    const chosen = ([] as string[]).concat(values.frameworks ?? []);
    return page(reply, 'portal-suppliers.njk', {
      title: 'Supplier registry', back: { href: '/portal' }, values, csrfToken: reply.generateCsrf(),
      rows: suppliers.map((s) => [{ html: `<a href="/portal/suppliers/${s.id}">${escape(s.name)}</a>` }, { text: s.id }, { text: s.frameworks.map((f) => f.name).join(', ') }]),
      frameworkItems: Object.entries(FRAMEWORKS).map(([value, f]) => ({ value, text: `${f.name} (${SERVICE_TYPE_NAMES[f.serviceType].toLowerCase()})`, checked: chosen.includes(value) })),
      ...(err ? formErrorsFrom(err).toView() : {}),
    }, err ? 400 : 200);
  };
  portal.get('/suppliers', async (req, reply) => suppliersPage(req, reply));
  portal.post<{ Body: Record<string, string | string[]> }>('/suppliers', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const b = req.body ?? {};
    const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
    try {
      await registerSupplier(await gov(), actorOf(req), { id: str('id'), name: str('name'), contactName: str('contactName'), contactEmail: str('contactEmail'), frameworks: ([] as string[]).concat(b.frameworks ?? []) });
    } catch (err) {
      if (err instanceof GovernanceError && err.kind === 'invalid') return suppliersPage(req, reply, b, err);
      throw err;
    }
    return reply.redirect(`/portal/suppliers/${str('id')}`, 303);
  });

  const supplierPage = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, values: Record<string, string> = {}, err?: GovernanceError) => {
    const actor = actorOf(req);
    const { supplier, engagement } = await supplierRecord(deps.db, actor, req.params.id);
    return page(reply, 'portal-supplier.njk', {
      title: supplier.name, supplier, back: { href: hasRole(actor, 'national-team') ? '/portal/suppliers' : '/portal' }, values, national: hasRole(actor, 'national-team'),
      frameworkRows: supplier.frameworks.map((f) => ({ key: { text: f.name }, value: { text: `May propose ${SERVICE_TYPE_NAMES[f.serviceType].toLowerCase()} services${f.awardedOn ? ` (since ${f.awardedOn})` : ''}` } })),
      engagementRows: engagement.map((e) => [{ text: e.onDate }, { text: e.kind }, { text: e.summary }]),
      kindItems: ['meeting', 'agreement', 'issue'].map((k) => ({ value: k, text: k[0].toUpperCase() + k.slice(1), checked: values.kind === k })),
      csrfToken: reply.generateCsrf(), ...(err ? formErrorsFrom(err).toView() : {}),
    }, err ? 400 : 200);
  };
  portal.get<{ Params: { id: string } }>('/suppliers/:id', async (req, reply) => supplierPage(req, reply));
  portal.post<{ Params: { id: string }; Body: Record<string, string> }>('/suppliers/:id/engagement', { preHandler: portal.csrfProtection }, async (req, reply) => {
    const b = req.body ?? {};
    try {
      await logEngagement(await gov(), actorOf(req), req.params.id, { onDate: String(b.onDate ?? ''), kind: String(b.kind ?? ''), summary: String(b.summary ?? '') });
    } catch (err) {
      if (err instanceof GovernanceError && err.kind === 'invalid') return supplierPage(req, reply, b, err);
      throw err;
    }
    return reply.redirect(`/portal/suppliers/${req.params.id}`, 303);
  });

  // ---- audit of governance changes ------------------------------------------------------------------------------------
  portal.get('/audit', async (req, reply) => {
    requireNational(actorOf(req));
    const entries = await governanceAudit(deps.db, 300);
    return page(reply, 'portal-audit.njk', {
      title: 'Governance changes', back: { href: '/portal' },
      rows: entries.map((e) => [
        { text: e.at.toISOString().replace('T', ' ').slice(0, 19) }, { text: e.actorId }, { text: e.organisation ?? '' }, { text: e.action }, { text: e.resource },
        { text: JSON.stringify((e.detail as { before?: unknown })?.before ?? null) }, { text: JSON.stringify((e.detail as { after?: unknown })?.after ?? null) },
      ]),
    });
  });
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-GB')} ${noun}${n === 1 ? '' : 's'}`;
}
