// Runs on the real job queue (pg-boss on PGlite): conformance against a GP sandbox passes with a row per check,
// against a faulty sandbox fails with reasons, an unreachable endpoint is an error, a refused URL queues nothing;
// a capacity run with small bounds records its steps and cost estimate.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSandbox, type RunningSandbox } from '../../../sandboxes/common/server.ts';
import { sandboxes } from '../../../sandboxes/registry.ts';
import { DEFAULT_OUTBOUND_ALLOW_LIST, OutboundGuard, OutboundUrlRefused } from '../../integrations/outbound-guard.ts';
import { AuditLog } from '../../audit/audit.ts';
import { governanceAudit } from '../../governance/governance-access.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { freePort } from '../../testing/factories.ts';
import { insertTestIntegration } from './test-integrations.ts';
import { latestRuns, RunRequestInvalid, RunService, type RunRecord } from './run-service.ts';

let db: Store;
const ids: string[] = [];
let runs: RunService;
let healthy: RunningSandbox;
let faulty: RunningSandbox;
const sandbox = (name: string) => sandboxes.find((s) => s.name === name)!;

async function finished(id: string, timeoutMs = 40_000): Promise<RunRecord> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await runs.get(id);
    if (run && run.status !== 'queued' && run.status !== 'running') return run;
    if (Date.now() > until) throw new Error(`run ${id} still ${run?.status} (${run?.progressNote})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  db = await openStore({});
  for (let i = 1; i <= 6; i++) ids[i] = await insertTestIntegration(db);
  const guard = new OutboundGuard({ allow: DEFAULT_OUTBOUND_ALLOW_LIST, resolve: async (h) => (h === 'evil.test' ? [{ address: '10.0.0.1', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]) });
  runs = new RunService({ db, audit: new AuditLog(db), guard, capacityMaxRps: 50, pollingIntervalSeconds: 0.5 });
  await runs.start();
  [healthy, faulty] = await Promise.all([startSandbox(sandbox('gp-emis'), { port: 0 }), startSandbox(sandbox('gp-tpp'), { port: 0, faultMode: 'error=500' })]);
});
after(async () => {
  await runs.stop();
  await Promise.all([healthy.close(), faulty.close()]);
  await db.close();
});

describe('interrupted runs', () => {
  test('a run still running long after any run could take is recorded as an error, so nothing waits on it', async () => {
    const [row] = await db.query<{ id: string }>(
      `INSERT INTO pipeline_runs (integration_id, kind, target_url, status, started_at, created_at, requested_by)
       VALUES ($1, 'conformance', 'http://127.0.0.1:1/', 'running', now() - interval '20 minutes', now() - interval '20 minutes', 'supplier-x') RETURNING id`, [ids[6]]);
    const run = await runs.get(String(row.id));
    assert.equal(run?.status, 'error');
    assert.match(run?.error ?? '', /interrupted/);
  });
});

describe('conformance runs', () => {
  test('against a healthy GP sandbox: passed, with a PASS row per check and progress to 100', async () => {
    const queued = await runs.request({ integrationId: ids[1], kind: 'conformance', targetUrl: healthy.url, params: { suite: 'gp', system: 'emis' }, requestedBy: 'supplier-x', requestedAs: 'supplier:runs-test-supplier' });
    assert.equal(queued.status, 'queued');
    const run = await finished(queued.id);
    assert.equal(run.status, 'passed', run.error);
    assert.equal(run.progress, 100);
    const result = run.result as { checks: { name: string; passed: boolean }[]; failed: number };
    assert.ok(result.checks.length >= 25, `${result.checks.length} checks`);
    assert.ok(result.checks.every((c) => c.passed));
    assert.ok(run.startedAt && run.finishedAt);
    assert.equal((await latestRuns(db, ids[1])).conformance?.id, run.id);
    // Both the request and the gate result are on the national team's audit page, newest first.
    const trail = (await governanceAudit(db)).filter((e) => e.resource === `integration:${ids[1]}`);
    assert.deepEqual(trail.map((e) => [e.actorId, e.organisation, e.action, e.outcome]), [
      ['assurance-runner', null, 'conformance run passed', 'success'],
      ['supplier-x', 'supplier:runs-test-supplier', 'start conformance run', 'success'],
    ]);
    assert.deepEqual((trail[0].detail as { after: { status: string } }).after.status, 'passed');
  });

  test('against a sandbox answering 500: failed, with a reason per failed check', async () => {
    const queued = await runs.request({ integrationId: ids[2], kind: 'conformance', targetUrl: faulty.url, params: { suite: 'gp', system: 'tpp' }, requestedBy: 'supplier-x' });
    const run = await finished(queued.id);
    assert.equal(run.status, 'failed');
    const result = run.result as { checks: { name: string; passed: boolean; reason?: string }[]; failed: number };
    assert.ok(result.failed >= 20);
    assert.ok(result.checks.filter((c) => !c.passed).every((c) => c.reason && c.reason.length > 0));
    assert.ok(result.checks.some((c) => /server-error|500/.test(c.reason ?? '')));
  });

  test('against an endpoint where nothing listens: error with a clear message, no crash', async () => {
    const port = await freePort();
    const queued = await runs.request({ integrationId: ids[3], kind: 'conformance', targetUrl: `http://127.0.0.1:${port}`, params: { suite: 'gp', system: 'emis' }, requestedBy: 'supplier-x' });
    const run = await finished(queued.id);
    assert.equal(run.status, 'error');
    assert.match(run.error ?? '', /could not be reached: nothing is listening there \(connection refused\)/);
  });

  test('a refused URL or bad parameters queue nothing', async () => {
    const before = (await db.query('SELECT count(*)::int AS n FROM pipeline_runs'))[0].n;
    const jobsBefore = (await db.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'pipeline-runs'`))[0].n;
    await assert.rejects(runs.request({ integrationId: ids[4], kind: 'conformance', targetUrl: 'http://169.254.169.254/', params: { suite: 'gp', system: 'emis' }, requestedBy: 'x' }), OutboundUrlRefused);
    await assert.rejects(runs.request({ integrationId: ids[4], kind: 'conformance', targetUrl: 'http://evil.test/', params: { suite: 'gp', system: 'emis' }, requestedBy: 'x' }), /evil\.test resolves to 10\.0\.0\.1/);
    await assert.rejects(runs.request({ integrationId: ids[4], kind: 'conformance', targetUrl: healthy.url, params: { suite: 'gp', system: 'nope' }, requestedBy: 'x' }), RunRequestInvalid);
    await assert.rejects(runs.request({ integrationId: ids[4], kind: 'capacity', targetUrl: healthy.url, params: {}, requestedBy: 'x' }), (e: unknown) => e instanceof RunRequestInvalid && e.field === 'populationCovered');
    assert.equal((await db.query('SELECT count(*)::int AS n FROM pipeline_runs'))[0].n, before);
    // The refusals queued no job either.
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'pipeline-runs'`))[0].n, jobsBefore);
    assert.deepEqual(await runs.list(ids[4]), []);
  });
});

describe('capacity runs', () => {
  test('steps at 25–150% of projected peak with latency percentiles, errors, verdict and cost estimate', async () => {
    // 100,000 people × 0.05 × 3 ÷ 28,800 s ≈ 0.52 rps: every step asks for at least 1 rps.
    const queued = await runs.request({ integrationId: ids[5], kind: 'capacity', targetUrl: healthy.url, params: { populationCovered: 100_000, stepSeconds: 1, path: '/api/linkage' }, requestedBy: 'supplier-x' });
    const run = await finished(queued.id);
    assert.equal(run.status, 'passed', run.error ?? JSON.stringify(run.result));
    const r = run.result as { demand: { peakRps: number; formula: string }; steps: { percent: number; rps: number; requests: number; p50: number; p95: number; p99: number; errors: number; clientErrors: number }[]; cost: { monthlyCost: number; formula: string }; verdict: { passed: boolean } };
    assert.equal(r.demand.peakRps, 0.52);
    assert.match(r.demand.formula, /100,000 people × 0\.05 uptake × 3 peak factor/);
    assert.deepEqual(r.steps.map((s) => s.percent), [25, 50, 100, 150]);
    for (const s of r.steps) {
      assert.ok(s.requests >= 1, `step ${s.percent}% sent ${s.requests}`);
      assert.ok(s.p99 >= s.p95 && s.p95 >= s.p50);
      assert.equal(s.errors, 0);
    }
    assert.equal(r.cost.monthlyCost, 450); // £400 + 100,000 requests ÷ 1,000 × £0.50
    assert.match(r.cost.formula, /£400 fixed/);
  });

  test('against a sandbox answering 500: failed, errors counted at each step', async () => {
    const queued = await runs.request({ integrationId: ids[6], kind: 'capacity', targetUrl: faulty.url, params: { populationCovered: 100_000, stepSeconds: 1 }, requestedBy: 'supplier-x' });
    const run = await finished(queued.id);
    assert.equal(run.status, 'failed');
    const r = run.result as { steps: { errors: number }[]; verdict: { reason: string } };
    assert.ok(r.steps.every((s) => s.errors > 0));
    assert.match(r.verdict.reason, /of requests failed/);
  });
});
