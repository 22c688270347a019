// Portal pages for assurance runs: start a run (the URL is checked before anything is queued), then watch it
// (a progress bar that follows the run by script, with a refresh link without JavaScript) and read its result: per-check table,
// accessibility violations, or capacity steps with a latency-versus-load chart and the cost model's inputs.
// Register inside the /portal plugin; who may start or view is decided by the injected `authorize`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StaffActor } from '../access/request-context.ts';
import { suiteFor } from '../conformance/suites.ts';
import { OutboundUrlRefused } from '../integrations/outbound-guard.ts';
import type { StepResult } from '../pipeline/runs/capacity-model.ts';
import { RUN_KINDS, type RunKind } from '../pipeline/runs/run-context.ts';
import { RunRequestInvalid, type RunRecord, type RunService } from '../pipeline/runs/run-service.ts';
import { FormErrors } from '../views/form-errors.ts';
import { createPortalRenderer, requirePortalStaff, type PortalPage } from './portal-web.ts';

export interface IntegrationInfo {
  supplierId: string;
  serviceType: string;
  integrationMethod: 'native' | 'web' | string;
  populationCovered: number;
}

export interface RunsWebOptions {
  /** Throws AccessDeniedError when this staff member may not view, or start runs for, the integration. */
  authorize(staff: StaffActor, integrationId: string, action: 'view' | 'start'): Promise<void>;
  integrationInfo(id: string): Promise<IntegrationInfo | undefined>;
  /** The portal's page renderer; made here when not given. */
  page?: PortalPage;
}

const KIND_NAMES: Record<RunKind, string> = { conformance: 'Conformance', accessibility: 'Accessibility', capacity: 'Capacity' };
const STATUS_TAGS: Record<RunRecord['status'], [string, string]> = {
  queued: ['Queued', 'nhsuk-tag--grey'], running: ['Running', 'nhsuk-tag--blue'], passed: ['Passed', 'nhsuk-tag--green'], failed: ['Failed', 'nhsuk-tag--red'], error: ['Could not run', 'nhsuk-tag--orange'],
};
const CAPACITY_FIELDS = ['populationCovered', 'uptake', 'peakFactor', 'busyWindowHours', 'p99TargetMs', 'stepSeconds', 'path', 'requestsPerUserPerMonth', 'costPer1000Requests', 'fixedMonthlyCost'] as const;

/** Which suite a type of service is assured against: web integrations by the web suite, GP systems by 'gp'. */
export function suiteNameFor(info: IntegrationInfo): string | undefined {
  if (info.integrationMethod === 'web' && suiteFor('web')) return 'web';
  const name = info.serviceType === 'gp-system' ? 'gp' : info.serviceType;
  return suiteFor(name) ? name : undefined;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Latency (p50, p99) against load step, as SVG with presentation attributes only (the CSP allows no inline styles). */
export function latencyChart(steps: StepResult[], p99TargetMs: number): string {
  const w = 600, h = 300, left = 60, right = 50, top = 20, bottom = 50; // right leaves room for the last step's label
  const maxY = Math.max(p99TargetMs, ...steps.map((s) => s.p99), 1) * 1.1;
  const x = (i: number) => left + (steps.length <= 1 ? 0 : (i * (w - left - right)) / (steps.length - 1));
  const y = (v: number) => top + (h - top - bottom) * (1 - v / maxY);
  const line = (key: 'p50' | 'p99') => steps.map((s, i) => `${x(i).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');
  const summary = steps.map((s) => `${s.percent}% (${s.rps} rps): p50 ${s.p50} ms, p99 ${s.p99} ms`).join('; ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(maxY * f));
  return [
    `<svg class="app-run-chart" viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="chart-title">Latency against load</title>`,
    `<desc id="chart-desc">${esc(`p50 and p99 latency in milliseconds at each load step; agreed p99 ${p99TargetMs} ms. ${summary}`)}</desc>`,
    ...ticks.map((t) => `<line x1="${left}" x2="${w - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#d8dde0" stroke-width="1"/><text x="${left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#212b32">${t}</text>`),
    `<line x1="${left}" x2="${w - right}" y1="${y(p99TargetMs).toFixed(1)}" y2="${y(p99TargetMs).toFixed(1)}" stroke="#d5281b" stroke-width="2" stroke-dasharray="6 4"/>`,
    `<text x="${w - right}" y="${(y(p99TargetMs) - 6).toFixed(1)}" text-anchor="end" font-size="12" fill="#d5281b">agreed p99 ${p99TargetMs} ms</text>`,
    `<polyline points="${line('p50')}" fill="none" stroke="#005eb8" stroke-width="3"/>`,
    `<polyline points="${line('p99')}" fill="none" stroke="#330072" stroke-width="3" stroke-dasharray="2 0"/>`,
    ...steps.map((s, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(s.p50).toFixed(1)}" r="4" fill="#005eb8"/><rect x="${(x(i) - 4).toFixed(1)}" y="${(y(s.p99) - 4).toFixed(1)}" width="8" height="8" fill="#330072"/><text x="${x(i).toFixed(1)}" y="${h - bottom + 20}" text-anchor="middle" font-size="12" fill="#212b32">${s.percent}% (${s.rps} rps)</text>`),
    `<text x="${(left + w - right) / 2}" y="${h - 8}" text-anchor="middle" font-size="12" fill="#212b32">Load step (share of projected peak)</text>`,
    `<text x="14" y="${(top + h - bottom) / 2}" text-anchor="middle" font-size="12" fill="#212b32" transform="rotate(-90 14 ${(top + h - bottom) / 2})">Latency (ms)</text>`,
    `<rect x="${left + 10}" y="${top}" width="12" height="4" fill="#005eb8"/><text x="${left + 28}" y="${top + 5}" font-size="12" fill="#212b32">p50</text>`,
    `<rect x="${left + 70}" y="${top - 2}" width="8" height="8" fill="#330072"/><text x="${left + 84}" y="${top + 5}" font-size="12" fill="#212b32">p99</text>`,
    `</svg>`,
  ].join('');
}

function formValues(body: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(body).filter(([k]) => k !== '_csrf').map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v ?? '')]));
}

export async function runsWeb(app: FastifyInstance, deps: { runs?: RunService }, opts: RunsWebOptions): Promise<void> {
  let page = opts.page;
  if (!page) {
    const renderer = await createPortalRenderer();
    page = (reply, view, ctx, status = 200) => reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .send(renderer.render(view, { cspNonce: reply.scriptNonce, serviceName: 'Front Door portal', nav: 'signedIn', ...ctx }));
  }
  const render = page;
  const runs = () => {
    if (!deps.runs) throw new Error('the run service is not wired into the app');
    return deps.runs;
  };
  const notFound = (reply: FastifyReply) => render(reply, 'portal-problem.njk', { title: 'Page not found', message: 'There is no such run for this integration.' }, 404);

  const form = async (req: FastifyRequest, reply: FastifyReply, id: string, info: IntegrationInfo, values: Record<string, string>, errors?: FormErrors) => {
    const kind = (RUN_KINDS as string[]).includes(values.kind ?? '') ? (values.kind as RunKind) : undefined;
    const suiteName = suiteNameFor(info);
    const suite = suiteName ? suiteFor(suiteName) : undefined;
    return render(reply, 'portal-run-new.njk', {
      title: kind ? `Start a ${kind} run` : 'Start an assurance run', back: { href: `/portal/integrations/${id}` }, id, kind, values,
      kindItems: RUN_KINDS.map((k) => ({ value: k, text: KIND_NAMES[k], checked: k === kind })),
      suiteName, systemItems: suite && suite.systems.length > 1 ? [{ value: '', text: 'Select a system' }, ...suite.systems.map((s) => ({ value: s, text: s, selected: s === values.system }))] : undefined,
      capacityFields: CAPACITY_FIELDS,
      csrfToken: reply.generateCsrf(), ...(errors?.any ? errors.toView() : {}),
    }, errors?.any ? 400 : 200);
  };

  app.get<{ Params: { id: string }; Querystring: { kind?: string } }>('/integrations/:id/runs/new', async (req, reply) => {
    const me = requirePortalStaff(req);
    const info = await opts.integrationInfo(req.params.id);
    if (!info) return notFound(reply);
    await opts.authorize(me, req.params.id, 'start');
    return form(req, reply, req.params.id, info, { kind: req.query.kind ?? '', populationCovered: String(info.populationCovered || '') });
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/integrations/:id/runs', { preHandler: app.csrfProtection }, async (req, reply) => {
    const me = requirePortalStaff(req);
    const info = await opts.integrationInfo(req.params.id);
    if (!info) return notFound(reply);
    await opts.authorize(me, req.params.id, 'start');
    const values = formValues(req.body ?? {});
    const kind = values.kind as RunKind;
    const errors = new FormErrors();
    if (!(RUN_KINDS as string[]).includes(kind)) errors.add('kind', 'Select which check to run');
    if (!values.targetUrl?.trim()) errors.add('targetUrl', 'Enter the web address of the endpoint to test');
    if (errors.any) return form(req, reply, req.params.id, info, values, errors);
    const params: Record<string, unknown> = kind === 'conformance' ? { suite: suiteNameFor(info) ?? '', system: values.system }
      : kind === 'accessibility' ? { paths: values.paths ?? '' }
      : Object.fromEntries(CAPACITY_FIELDS.map((f) => [f, values[f] ?? '']));
    try {
      const role = me.roles.find((r) => r.role === 'national-team' || (r.role === 'supplier' && r.organisation === info.supplierId)) ?? me.roles[0];
      const run = await runs().request({ integrationId: req.params.id, kind, targetUrl: values.targetUrl, params, requestedBy: me.sub, requestedAs: role ? `${role.role}:${role.organisation}` : undefined });
      return reply.redirect(`/portal/integrations/${req.params.id}/runs/${run.id}`, 303);
    } catch (err) {
      if (err instanceof OutboundUrlRefused) return form(req, reply, req.params.id, info, values, errors.add('targetUrl', err.message));
      if (err instanceof RunRequestInvalid) return form(req, reply, req.params.id, info, values, errors.add(err.field === 'kind' ? 'kind' : err.field, err.message));
      throw err;
    }
  });

  app.get<{ Params: { id: string; runId: string } }>('/integrations/:id/runs/:runId', async (req, reply) => {
    const me = requirePortalStaff(req);
    const json = req.params.runId.endsWith('.json');
    const runId = json ? req.params.runId.slice(0, -5) : req.params.runId;
    await opts.authorize(me, req.params.id, 'view');
    const run = await runs().get(runId);
    if (!run || run.integrationId !== req.params.id) {
      return json ? reply.code(404).header('cache-control', 'no-store').send({ error: 'not found' }) : notFound(reply);
    }
    if (json) {
      return reply.header('cache-control', 'no-store').send({ id: run.id, kind: run.kind, status: run.status, progress: run.progress, progressNote: run.progressNote ?? null, error: run.error ?? null, finished: !!run.finishedAt });
    }
    return render(reply, 'portal-run.njk', runView(run));
  });
}

function runView(run: RunRecord): Record<string, unknown> {
  const active = run.status === 'queued' || run.status === 'running';
  const [statusText, statusTag] = STATUS_TAGS[run.status];
  const r = (run.result ?? {}) as Record<string, unknown>;
  const view: Record<string, unknown> = {
    title: `${KIND_NAMES[run.kind]} run ${run.id}`, run, active, statusText, statusTag,
    back: { href: `/portal/integrations/${run.integrationId}` },
    summaryRows: [
      ['Endpoint', run.targetUrl], ['Requested by', run.requestedBy], ['Requested', run.createdAt.toISOString().replace('T', ' ').slice(0, 19) + ' UTC'],
      ...(run.finishedAt ? [['Finished', run.finishedAt.toISOString().replace('T', ' ').slice(0, 19) + ' UTC']] : []),
    ].map(([k, v]) => ({ key: { text: k }, value: { text: v } })),
  };
  if (run.kind === 'conformance' && Array.isArray(r.checks)) {
    const checks = r.checks as { name: string; passed: boolean; reason?: string; ms: number }[];
    view.checkRows = checks.map((c) => [{ text: c.name }, { html: c.passed ? '<strong class="nhsuk-tag nhsuk-tag--green">PASS</strong>' : '<strong class="nhsuk-tag nhsuk-tag--red">FAIL</strong>' }, { text: c.reason ?? '' }, { text: String(c.ms), format: 'numeric' }]);
    view.checkSummary = `${r.passed} passed, ${r.failed} failed (suite ${r.suite}, system ${r.system})`;
  }
  if (run.kind === 'accessibility' && Array.isArray(r.violations)) {
    const vs = r.violations as { page: string; id: string; impact: string | null; help: string; nodes: number }[];
    view.violationRows = vs.map((v) => [{ text: v.page }, { text: v.id }, { text: v.impact ?? 'unknown' }, { text: v.help }, { text: String(v.nodes), format: 'numeric' }]);
    view.pagesChecked = (r.pages as { page: string }[]).map((p) => p.page).join(', ');
    view.refusedRows = ((r.refusedRequests as { url: string; reason: string }[]) ?? []).map((x) => [{ text: x.url }, { text: x.reason }]);
  }
  if (run.kind === 'capacity' && r.demand) {
    const steps = (r.steps as StepResult[]) ?? [];
    const demand = r.demand as { peakRps: number; formula: string; inputs: Record<string, number> };
    const cost = r.cost as { formula: string; monthlyCost: number; yearlyCost: number; costPerActiveUserPerYear: number; costPerPersonCoveredPerYear: number; monthlyActiveUsers: number; monthlyRequests: number; inputs: Record<string, number> };
    const gbp = (n: number) => `£${n.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: n < 1 ? 4 : 2 })}`;
    view.demandFormula = demand.formula;
    view.stepRows = steps.map((s) => [
      { text: `${s.percent}%` }, { text: `${s.rps}${s.capped ? ' (capped)' : ''}`, format: 'numeric' }, { text: String(s.achievedRps), format: 'numeric' }, { text: String(s.requests), format: 'numeric' },
      { text: String(s.p50), format: 'numeric' }, { text: String(s.p95), format: 'numeric' }, { text: String(s.p99), format: 'numeric' }, { text: String(s.errors), format: 'numeric' }, { text: String(s.clientErrors), format: 'numeric' },
    ]);
    view.chart = steps.length ? latencyChart(steps, Number(r.p99TargetMs)) : undefined;
    view.verdict = (r.verdict as { reason: string } | undefined)?.reason;
    view.stepSeconds = r.stepSeconds;
    view.costFormula = cost.formula;
    view.costRows = [
      ['Population covered', cost.inputs.populationCovered.toLocaleString('en-GB')], ['Expected uptake (monthly active share)', String(cost.inputs.uptake)],
      ['Requests per active user per month', String(cost.inputs.requestsPerUserPerMonth)], ['Cost per 1,000 requests', gbp(cost.inputs.costPer1000Requests)],
      ['Fixed monthly cost', gbp(cost.inputs.fixedMonthlyCost)], ['Monthly active users', cost.monthlyActiveUsers.toLocaleString('en-GB')],
      ['Monthly requests', cost.monthlyRequests.toLocaleString('en-GB')], ['Estimated monthly cost', gbp(cost.monthlyCost)], ['Estimated yearly cost', gbp(cost.yearlyCost)],
      ['Yearly cost per active user', gbp(cost.costPerActiveUserPerYear)], ['Yearly cost per person covered', gbp(cost.costPerPersonCoveredPerYear)],
    ].map(([k, v]) => ({ key: { text: k }, value: { text: v } }));
    view.demandRows = [
      ['Population covered', demand.inputs.populationCovered.toLocaleString('en-GB')], ['Expected uptake', String(demand.inputs.uptake)],
      ['Peak factor', String(demand.inputs.peakFactor)], ['Busy window', `${demand.inputs.busyWindowHours} hours`], ['Projected peak', `${demand.peakRps} requests per second`],
    ].map(([k, v]) => ({ key: { text: k }, value: { text: v } }));
  }
  return view;
}
