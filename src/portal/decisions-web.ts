// The public decision register (/decisions, no sign-in): decisions with evidence and scores, the scoring model
// with its weights, and a feedback form on the criteria and open proposals, held for moderation.
import type { FastifyInstance, FastifyReply } from 'fastify';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppDeps } from '../app.ts';
import { decisionRegister, openProposals, type RegisterEntry } from '../governance/decision-register.ts';
import { feedbackSummary, RATING_NAMES, submitFeedback, COMMENT_MAX } from '../governance/feedback.ts';
import { GovernanceError } from '../governance/governance-access.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import { loadScoringModel, MAX_POINTS, POPULATION_ASSUMPTION } from '../governance/scoring.ts';
import { createRenderer } from '../views/renderer.ts';
import { FormErrors } from '../views/form-errors.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export const OUTCOME_NAMES = { approve: 'Approved', defer: 'Deferred', reject: 'Rejected' } as const;

/** Turns a governance refusal into the NHS error pattern's summary and inline messages. */
export function formErrorsFrom(err: GovernanceError): FormErrors {
  const errors = new FormErrors();
  const fields = Object.entries(err.fields);
  if (!fields.length) errors.add('main', err.message);
  for (const [field, message] of fields) errors.add(field, message);
  return errors;
}

export async function decisionsWeb(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const renderer = await createRenderer({
    viewDirs: [path.join(here, 'views'), path.join(here, '../views')],
    serviceName: 'Front Door',
    serviceHref: '/',
    navigations: { public: [{ text: 'Decision register', href: '/decisions' }] },
    footerLinks: [{ text: 'Accessibility statement', href: '/accessibility' }, { text: 'API documentation', href: '/api/docs/' }, { text: 'Staff portal', href: '/portal' }],
  });
  const page = (reply: FastifyReply, view: string, ctx: Record<string, unknown>, status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderer.render(view, { cspNonce: reply.scriptNonce, nav: 'public', ...ctx }));
  const gov = () => governanceDeps(deps.db, deps.audit);

  app.get('/decisions', async (_req, reply) => {
    const g = await gov();
    const [register, model, open, feedback] = await Promise.all([decisionRegister(g), loadScoringModel(deps.db), openProposals(g), feedbackSummary(deps.db)]);
    return page(reply, 'decisions.njk', {
      title: 'Integration decisions', register: register.map((d) => ({ ...d, rows: registerRows(d), breakdownRows: breakdownRows(d) })), model, open, outcomeNames: OUTCOME_NAMES, maxPoints: MAX_POINTS, assumption: POPULATION_ASSUMPTION,
      criterionFeedback: feedback.byCriterion,
      modelRows: model.map((c) => [{ text: c.name }, { text: c.description }, { text: String(c.weight), format: 'numeric' }, { text: c.rule }]),
    });
  });

  const feedbackForm = async (reply: FastifyReply, values: Record<string, string>, errors?: FormErrors, status = 200) => {
    const [model, open] = await Promise.all([loadScoringModel(deps.db), openProposals(await gov())]);
    const targets = [
      ...model.map((c) => ({ value: `criterion:${c.criterion}`, text: `The criterion: ${c.name}` })),
      ...open.map((p) => ({ value: `proposal:${p.id}`, text: `The proposal: ${p.title}`, hint: { text: `${p.serviceTypeName} from ${p.supplier}, ${p.regionName}` } })),
    ].map((t) => ({ ...t, checked: t.value === values.target }));
    return page(reply, 'decisions-feedback.njk', {
      title: 'Tell us what you think', back: { href: '/decisions' }, values, targets, commentMax: COMMENT_MAX,
      ratings: Object.entries(RATING_NAMES).map(([value, text]) => ({ value, text, checked: value === values.rating })),
      csrfToken: reply.generateCsrf(), ...(errors?.toView() ?? {}),
    }, status);
  };

  app.get<{ Querystring: { about?: string } }>('/decisions/feedback', async (req, reply) => feedbackForm(reply, { target: typeof req.query.about === 'string' ? req.query.about : '' }));

  app.post<{ Body: { target?: string; rating?: string; comment?: string } }>('/decisions/feedback', {
    preHandler: app.csrfProtection,
    config: { rateLimit: { max: 5, timeWindow: '10 minutes' } },
  }, async (req, reply) => {
    const values = { target: String(req.body?.target ?? ''), rating: String(req.body?.rating ?? ''), comment: String(req.body?.comment ?? '') };
    try {
      await submitFeedback(deps.db, values);
    } catch (err) {
      if (err instanceof GovernanceError) return feedbackForm(reply, values, formErrorsFrom(err), 400);
      throw err;
    }
    return reply.redirect('/decisions/feedback/sent', 303);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      return page(reply, 'portal-problem.njk', { title: 'Your form has expired', message: 'For your security, forms expire. Go back, refresh the page and try again. Nothing was sent.' }, 403);
    }
    if (err.statusCode === 429) return page(reply, 'portal-problem.njk', { title: 'Too many attempts', message: 'You have sent a lot of feedback in a short time. Wait 10 minutes, then try again.' }, 429);
    if (err.statusCode && err.statusCode < 500) return page(reply, 'portal-problem.njk', { title: 'Sorry, there is a problem with this request', message: 'Check the address or go back and try again.' }, err.statusCode);
    req.log.error({ err: { type: err.name, message: err.message, stack: err.stack } }, 'unhandled register error');
    return page(reply, 'portal-problem.njk', { title: 'Sorry, there is a problem with the service', message: `Try again later. Reference: ${req.id}` }, 500);
  });

  app.get('/decisions/feedback/sent', async (_req, reply) => page(reply, 'decisions-feedback-sent.njk', { title: 'Thank you for your feedback' }));
}

const people = (n: number) => n.toLocaleString('en-GB');

function registerRows(d: RegisterEntry) {
  const e = d.evidence;
  const c = e.commissionerSupport;
  return [
    ['Service', `${d.serviceTypeName} from ${d.supplier}`],
    ['Region', d.regionName],
    ['Reasons', d.rationale],
    ['Score', `${d.score} out of 100`],
    ['User need', `${e.userNeed.statement} (source: ${e.userNeed.source})`],
    ['Citizen facing', e.citizenFacing ? 'Yes' : 'No'],
    ['Strategic priorities', e.strategicPriorities.join(', ')],
    ['Provider support', `${e.providerSupport.providers} provider${e.providerSupport.providers === 1 ? '' : 's'} recorded support; business processes ${e.providerSupport.processChange ? 'must change' : 'need not change'}`],
    ['Commissioner support', `${c.icbs.length} ICB${c.icbs.length === 1 ? '' : 's'} (${c.icbs.map((i) => i.icbCode).join(', ') || 'none'}), ${people(c.practices)} practice${c.practices === 1 ? '' : 's'}, about ${people(c.population)} people${c.icbs.some((i) => i.basis === 'estimated') ? ' (estimated from practices × 10,000)' : ''}`],
    ['Added value', e.addedValue],
    ['Public feedback considered', `${d.feedbackConsidered} response${d.feedbackConsidered === 1 ? '' : 's'}`],
  ].map(([key, value]) => ({ key: { text: key }, value: { text: value } }));
}

function breakdownRows(d: RegisterEntry) {
  return d.breakdown.map((l) => [
    { text: l.name },
    { text: String(l.weight), format: 'numeric' },
    { text: l.points === null ? 'not assessed' : `${l.points} of ${l.maxPoints}`, format: 'numeric' },
    { text: String(l.weighted), format: 'numeric' },
  ]);
}
