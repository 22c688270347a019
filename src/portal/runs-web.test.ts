// The run pages: starting a run (CSRF, a refused URL shown in the NHS error pattern with nothing queued), the
// progress page that follows the run while it is active, the result with its per-check table, the capacity
// chart, the JSON progress, and denials through the injected authorize.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSandbox, type RunningSandbox } from '../../sandboxes/common/server.ts';
import { sandboxes } from '../../sandboxes/registry.ts';
import { insertTestIntegration } from '../pipeline/runs/test-integrations.ts';
import type { RunningSystem } from '../system.ts';
import { postFormAsBrowser, signedInCitizen, signedInStaff, startTestSystem } from '../testing/factories.ts';
import { latencyChart } from './runs-web.ts';

let system: RunningSystem;
let emis: RunningSandbox;
let integrationId: string;
const cookies: Record<string, string> = {};

before(async () => {
  emis = await startSandbox(sandboxes.find((s) => s.name === 'gp-emis')!, { port: 0 });
  // The run pages as the portal registers them, with the pipeline's access rules: the integration's supplier
  // and the national team may start runs; the proposal's region may only look.
  system = await startTestSystem();
  integrationId = await insertTestIntegration(system.db);
  cookies.supplier = (await signedInStaff(system, { role: 'supplier', organisation: 'runs-test-supplier' })).cookie;
  cookies.other = (await signedInStaff(system, { role: 'supplier', organisation: 'someone-else' })).cookie;
  cookies.region = (await signedInStaff(system, { role: 'region', organisation: 'Y56' })).cookie;
  cookies.citizen = (await signedInCitizen(system)).cookie;
});
after(async () => {
  await system.close();
  await emis.close();
});

const get = (who: string | undefined, url: string) => system.app.inject({ url, headers: who ? { cookie: cookies[who] } : {} });
const post = (who: string, form: Record<string, string>, withToken = true) =>
  postFormAsBrowser(system.app, cookies[who] ?? '', `/portal/integrations/${integrationId}/runs/new`, `/portal/integrations/${integrationId}/runs`, form, { withToken });
const runCount = async () => (await system.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pipeline_runs'))[0].n;

async function waitFinished(url: string) {
  for (let i = 0; i < 300; i++) {
    const j = (await get('supplier', `${url}.json`)).json() as { finished: boolean; status: string };
    if (j.finished) return j;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('run did not finish');
}

describe('run pages', () => {
  test('a refused URL is shown in the error summary and beside the field; nothing is queued', async () => {
    const before = await runCount();
    const res = await post('supplier', { kind: 'conformance', targetUrl: 'http://169.254.169.254/latest', system: 'emis' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /nhsuk-error-summary/);
    assert.match(res.body, /href="#targetUrl"/);
    assert.match(res.body, /169\.254\.169\.254 is not on the list of hosts Front Door may call/);
    assert.match(res.body, /<title>Error: /);
    const bad = await post('supplier', { kind: 'capacity', targetUrl: emis.url, populationCovered: 'lots' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Enter the population covered as a number/);
    assert.equal(await runCount(), before);
  });

  test('denials: other supplier, viewer starting, citizen, no session, missing CSRF', async () => {
    assert.equal((await get('other', `/portal/integrations/${integrationId}/runs/new`)).statusCode, 403);
    assert.equal((await get('region', `/portal/integrations/${integrationId}/runs/new`)).statusCode, 403);
    assert.equal((await get('citizen', `/portal/integrations/${integrationId}/runs/new`)).statusCode, 403);
    assert.equal((await get(undefined, `/portal/integrations/${integrationId}/runs/new`)).statusCode, 303);
    const before = await runCount();
    assert.equal((await post('supplier', { kind: 'conformance', targetUrl: emis.url, system: 'emis' }, false)).statusCode, 403);
    assert.equal(await runCount(), before);
  });

  test('a conformance run: progress page follows the run while active, then shows PASS rows', async () => {
    const res = await post('supplier', { kind: 'conformance', targetUrl: emis.url, system: 'emis' });
    assert.equal(res.statusCode, 303, res.body);
    const url = String(res.headers.location);
    assert.match(url, new RegExp(`^/portal/integrations/${integrationId}/runs/\\d+$`));
    const early = await get('supplier', url);
    if (/Queued|Running/.test(early.body)) {
      assert.doesNotMatch(early.body, /http-equiv="refresh"/, 'no timed reload (WCAG 2.2.1): the bar follows the JSON status by script');
      assert.match(early.body, new RegExp(`data-run-status-url="${url}\\.json"`));
      assert.match(early.body, new RegExp(`<a href="${url}">Refresh to see the latest progress</a>`), 'a refresh the user chooses, without JavaScript');
      assert.match(early.body, /<progress id="run-progress"[^>]*max="100"/);
    }
    const j = await waitFinished(url);
    assert.equal(j.status, 'passed');
    // The region may look at a run it cannot start.
    const done = await get('region', url);
    assert.equal(done.statusCode, 200);
    assert.doesNotMatch(done.body, /http-equiv="refresh"/);
    assert.match(done.body, /PASS/);
    assert.match(done.body, /Conformance checks/);
    assert.equal((await get('other', url)).statusCode, 403);
    assert.equal((await get('supplier', `/portal/integrations/${integrationId}/runs/999999`)).statusCode, 404);
  });

  test('a capacity run shows the demand formula, steps table, SVG chart and cost model', async () => {
    const res = await post('supplier', { kind: 'capacity', targetUrl: emis.url, populationCovered: '100000', stepSeconds: '1' });
    assert.equal(res.statusCode, 303, res.body);
    const url = String(res.headers.location);
    await waitFinished(url);
    const page = await get('supplier', url);
    assert.match(page.body, /100,000 people × 0\.05 uptake × 3 peak factor/);
    assert.match(page.body, /<svg[^>]*role="img"[^>]*aria-labelledby="chart-title chart-desc"/);
    assert.match(page.body, /Latency and errors at each load step/);
    assert.match(page.body, /£400 fixed/);
    assert.doesNotMatch(page.body, /style="/);
  });

  test('the chart is accessible SVG with no inline styles', () => {
    const svg = latencyChart([{ percent: 25, rps: 1, capped: false, requests: 5, achievedRps: 1, p50: 2, p95: 3, p99: 4, errors: 0, clientErrors: 0 }, { percent: 100, rps: 4, capped: false, requests: 20, achievedRps: 4, p50: 3, p95: 5, p99: 9, errors: 0, clientErrors: 0 }], 1000);
    assert.match(svg, /<title id="chart-title">/);
    assert.match(svg, /<desc id="chart-desc">[^<]*25% \(1 rps\): p50 2 ms, p99 4 ms/);
    assert.doesNotMatch(svg, /style=/);
  });
});
