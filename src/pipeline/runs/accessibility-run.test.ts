// Accessibility runs in headless Chromium on the job queue: a page with a deliberate violation fails with it
// listed, a page too wide for a 320 px window fails reflow, a clean page passes, and a request to a host not
// allowed is aborted and listed, never made.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { DEFAULT_OUTBOUND_ALLOW_LIST, OutboundGuard } from '../../integrations/outbound-guard.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { insertTestIntegration } from './test-integrations.ts';
import { RunService, type RunRecord } from './run-service.ts';
import type { AccessibilityViolation } from './accessibility-run.ts';

const clean = `<!doctype html><html lang="en"><head><title>Clean</title></head><body><main><h1>Book a consultation</h1>
<form><label for="q">Your question</label><input id="q" name="q"><button>Send</button></form></main></body></html>`;
// An image with no alternative text and an input with no label: serious/critical under axe.
const broken = `<!doctype html><html lang="en"><head><title>Broken</title></head><body><main><h1>Start</h1>
<img src="/pic.png"><input name="q"><img src="http://evil.test/track.png" alt="tracker"></main></body></html>`;

// Clean for axe, but a fixed-width table scrolls sideways in a narrow window.
const wide = `<!doctype html><html lang="en"><head><title>Wide</title></head><body><main><h1>Your results</h1>
<table style="width:640px"><caption>Results</caption><tr><th scope="col">Test</th><th scope="col">Value</th></tr><tr><td>Heart rate</td><td>74</td></tr></table></main></body></html>`;

let server: Server;
let base: string;
let db: Store;
const ids: string[] = [];
let runs: RunService;
const resolved: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/clean') return res.writeHead(200, { 'content-type': 'text/html' }).end(clean);
    if (req.url === '/wide') return res.writeHead(200, { 'content-type': 'text/html' }).end(wide);
    if (req.url === '/broken') return res.writeHead(200, { 'content-type': 'text/html' }).end(broken);
    if (req.url === '/pic.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(0));
    res.writeHead(200, { 'content-type': 'text/html' }).end(clean);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = await openStore({});
  for (let i = 1; i <= 3; i++) ids[i] = await insertTestIntegration(db);
  const guard = new OutboundGuard({ allow: DEFAULT_OUTBOUND_ALLOW_LIST, resolve: async (h) => { resolved.push(h); return [{ address: h === 'evil.test' ? '10.0.0.1' : '127.0.0.1', family: 4 }]; } });
  runs = new RunService({ db, guard, capacityMaxRps: 10, pollingIntervalSeconds: 0.5 });
  await runs.start();
});
after(async () => {
  await runs.stop();
  await db.close();
  await new Promise((r) => server.close(r));
});

async function finished(id: string): Promise<RunRecord> {
  for (let i = 0; i < 400; i++) {
    const run = await runs.get(id);
    if (run && run.status !== 'queued' && run.status !== 'running') return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} did not finish`);
}

test('a page with missing alternative text and an unlabelled input fails, violations listed; the other host is refused', async () => {
  const queued = await runs.request({ integrationId: ids[1], kind: 'accessibility', targetUrl: base, params: { paths: '/broken /clean' }, requestedBy: 'supplier-x' });
  const run = await finished(queued.id);
  assert.equal(run.status, 'failed', run.error);
  const r = run.result as { violations: AccessibilityViolation[]; pages: { page: string }[]; refusedRequests: { url: string; reason: string }[] };
  assert.deepEqual(r.pages.map((p) => p.page), ['/broken', '/clean']);
  const rules = r.violations.filter((v) => v.page === '/broken').map((v) => v.id);
  assert.ok(rules.includes('image-alt'), rules.join());
  assert.ok(rules.includes('label'), rules.join());
  const imageAlt = r.violations.find((v) => v.id === 'image-alt')!;
  assert.equal(imageAlt.impact, 'critical');
  assert.equal(imageAlt.nodes, 1);
  assert.equal(r.violations.filter((v) => v.page === '/clean' && (v.impact === 'serious' || v.impact === 'critical')).length, 0);
  assert.ok(r.refusedRequests.some((x) => x.url.startsWith('http://evil.test/') && /10\.0\.0\.1/.test(x.reason)), JSON.stringify(r.refusedRequests));
});

test('a clean page passes', async () => {
  const queued = await runs.request({ integrationId: ids[2], kind: 'accessibility', targetUrl: `${base}/`, params: { paths: ['/clean'] }, requestedBy: 'supplier-x' });
  const run = await finished(queued.id);
  assert.equal(run.status, 'passed', run.error ?? JSON.stringify(run.result));
  assert.equal(run.progress, 100);
});

test('a page that scrolls sideways at 320 px fails reflow, naming what is too wide', async () => {
  const queued = await runs.request({ integrationId: ids[3], kind: 'accessibility', targetUrl: base, params: { paths: '/wide /clean' }, requestedBy: 'supplier-x' });
  const run = await finished(queued.id);
  assert.equal(run.status, 'failed', run.error ?? JSON.stringify(run.result));
  const r = run.result as { violations: AccessibilityViolation[] };
  const reflow = r.violations.filter((v) => v.id === 'reflow');
  assert.deepEqual(reflow.map((v) => [v.page, v.impact]), [['/wide', 'serious']]);
  assert.match(reflow[0]!.help, /320 CSS pixels.*WCAG 1\.4\.10.*table \(right edge 6\d\d px\)/);
  assert.equal(r.violations.filter((v) => v.page === '/wide' && v.id !== 'reflow' && (v.impact === 'serious' || v.impact === 'critical')).length, 0, 'axe itself finds nothing');
});
