// GET /api/me/national-record: the citizen's own record as JSON, audited, with a precise error for each refusal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type RunningSandbox } from '../../sandboxes/common/server.ts';
import { sandboxes } from '../../sandboxes/registry.ts';
import { freePort, signedInCitizen, startTestSystem } from '../testing/factories.ts';
import { newRequestId } from '../integrations/national/http.ts';
import { createDemographicsService } from '../integrations/national/registry.ts';
import { SupplierPolicy } from '../integrations/resilience.ts';
import type { RunningSystem } from '../system.ts';

const NHS = '9990079196';
let pds: RunningSandbox;
let system: RunningSystem;
let down: RunningSystem;
before(async () => {
  pds = await startSandbox(sandboxes.find((s) => s.name === 'pds')!, { port: 0 });
  system = await startTestSystem({ CITIZEN_API_PER_MINUTE: '5' }, { supplierUrls: { pds: pds.url } });
  // An agency address nothing listens on: the agency is down.
  down = await startTestSystem({}, { supplierUrls: { pds: `http://127.0.0.1:${await freePort()}` } });
});
after(async () => {
  await system?.close();
  await down?.close();
  await pds?.close();
});

const get = (s: RunningSystem, cookie?: string) => fetch(`${s.url}/api/me/national-record`, { headers: cookie ? { cookie } : {} });

describe('GET /api/me/national-record', () => {
  it('gives a P9 citizen their own record with its version, and audits the read', async () => {
    const { cookie } = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    const res = await get(system, cookie);
    assert.equal(res.status, 200);
    const body = await res.json() as { nhsNumber: string; version: number; name: { family: string } };
    assert.equal(body.nhsNumber, NHS);
    assert.ok(Number.isInteger(body.version) && body.version >= 1);
    assert.ok(body.name.family.length > 0);
    const rows = await system.db.query<{ outcome: string }>("SELECT outcome FROM audit_events WHERE subject_nhs_number = $1 AND resource = 'national-record' AND supplier = 'pds'", [NHS]);
    assert.deepEqual(rows.map((r) => r.outcome), ['success']);
  });

  it("answers with the API's own security headers (never cached, never framed, nothing to render), not a page's", async () => {
    const { cookie } = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    const res = await get(system, cookie);
    assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    // Within the limit, the limit is not told on every answer.
    assert.equal(res.headers.get('x-ratelimit-remaining'), null);
    // A page keeps the page policy, with its script nonce.
    const page = await fetch(`${system.url}/`);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self' 'nonce-/);
    assert.equal(page.headers.get('x-frame-options'), 'SAMEORIGIN');
  });

  it('refuses without a session (401) and below P9 (403, naming the uplift)', async () => {
    const none = await get(system);
    assert.equal(none.status, 401);
    assert.match(((await none.json()) as { message: string }).message, /Sign in/);
    const { cookie } = await signedInCitizen(system, { level: 'P5', nhsNumber: NHS });
    const p5 = await get(system, cookie);
    assert.equal(p5.status, 403);
    assert.match(((await p5.json()) as { message: string }).message, /P9.*P5.*uplift/);
  });

  it('says the agency is unavailable (503 with Retry-After) when it is down, and audits the failure', async () => {
    const { cookie } = await signedInCitizen(down, { level: 'P9', nhsNumber: NHS });
    const res = await get(down, cookie);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '30');
    assert.match(((await res.json()) as { message: string }).message, /not available right now/);
    const rows = await down.db.query<{ outcome: string }>("SELECT outcome FROM audit_events WHERE subject_nhs_number = $1 AND resource = 'national-record'", [NHS]);
    assert.deepEqual(rows.map((r) => r.outcome), ['failed']);
  });

  it('reuses a read for a few seconds (still audited), and Cache-Control: no-cache or a change made elsewhere is seen fresh', async () => {
    const nhs = '9990237573';
    const { cookie } = await signedInCitizen(system, { level: 'P9', nhsNumber: nhs });
    const first = await (await get(system, cookie)).json() as { version: number; mobile?: string };
    // Someone else changes the record at the agency (the GP practice, say).
    const agency = createDemographicsService({ baseUrl: pds.url, policy: new SupplierPolicy('pds-elsewhere') });
    const changed = await agency.update(nhs, { changes: [{ kind: 'mobile', value: '07700900123' }], expectedVersion: first.version, requestId: newRequestId() });
    const again = await (await get(system, cookie)).json() as { version: number };
    assert.equal(again.version, first.version, 'a read within the reuse window is the kept copy');
    const fresh = await (await fetch(`${system.url}/api/me/national-record`, { headers: { cookie, 'cache-control': 'no-cache' } })).json() as { version: number; mobile?: string };
    assert.equal(fresh.version, changed.version);
    assert.equal(fresh.mobile, '07700900123');
    const rows = await system.db.query<{ detail: { cached?: boolean } | string | null }>("SELECT detail FROM audit_events WHERE subject_nhs_number = $1 AND resource = 'national-record' AND action = 'read' ORDER BY id", [nhs]);
    const cached = rows.map((r) => Boolean((typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail)?.cached));
    assert.deepEqual(cached, [false, true, false], 'every read is audited, kept copies marked as such');
  });

  it('limits each session, not everyone: one citizen over the limit gets 429 while another still gets through', async () => {
    const first = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(system, first.cookie)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const over = await get(system, first.cookie);
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get('retry-after')) > 0, 'a refused call says when to try again');
    const second = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    assert.equal((await get(system, second.cookie)).status, 200);
  });
});
