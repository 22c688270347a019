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

describe('PATCH /api/me/national-record', () => {
  const patch = (s: RunningSystem, cookie: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}/api/me/national-record`, {
      method: 'PATCH', body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}), ...headers },
    });
  const agency = () => createDemographicsService({ baseUrl: pds.url, policy: new SupplierPolicy('pds-check') });
  const writes = async (key: string) => (await system.db.query('SELECT 1 FROM national_writes WHERE request_id = $1', [key])).length;

  it('changes one detail against the version read, once however often the same key is retried, and audits it', async () => {
    const { cookie } = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    const read = await fetch(`${system.url}/api/me/national-record`, { headers: { cookie, 'cache-control': 'no-cache' } });
    const etag = read.headers.get('etag') ?? '';
    const before = await read.json() as { version: number };
    assert.equal(etag, `W/"${before.version}"`);
    const key = newRequestId();
    const res = await patch(system, cookie, { kind: 'mobile', value: '07700 900456' }, { 'if-match': etag, 'idempotency-key': key });
    assert.equal(res.status, 200);
    const after = await res.json() as { version: number; mobile: string };
    assert.equal(after.mobile, '07700900456');
    assert.equal(after.version, before.version + 1);
    assert.equal(res.headers.get('etag'), `W/"${after.version}"`);
    assert.equal((await agency().get(NHS)).mobile, '07700900456', 'the agency holds the change');
    // The app retries (say its connection dropped before the answer came): answered from a read, not sent again.
    const again = await patch(system, cookie, { kind: 'mobile', value: '07700 900456' }, { 'if-match': etag, 'idempotency-key': key });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal((await agency().get(NHS)).version, after.version, 'applied once');
    const audit = await system.db.query<{ outcome: string }>("SELECT outcome FROM audit_events WHERE subject_nhs_number = $1 AND action = 'change' AND resource = 'national-record' AND request_id IS NOT NULL", [NHS]);
    assert.ok(audit.some((a) => a.outcome === 'success'), 'the change is in the audit');
  });

  it('refuses a key used before for a different change (422), and a version no longer current (409, with the record as it is now)', async () => {
    const { cookie } = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    const current = await agency().get(NHS);
    const key = newRequestId();
    const first = await patch(system, cookie, { kind: 'email', value: 'first@example.com' }, { 'if-match': `W/"${current.version}"`, 'idempotency-key': key });
    assert.equal(first.status, 200);
    const reused = await patch(system, cookie, { kind: 'email', value: 'second@example.com' }, { 'if-match': `W/"${current.version}"`, 'idempotency-key': key });
    assert.equal(reused.status, 422);
    assert.match(((await reused.json()) as { message: string }).message, /already used for a different change/);
    assert.equal((await agency().get(NHS)).email, 'first@example.com', 'the second change was never sent');
    const stale = await patch(system, cookie, { kind: 'email', value: 'third@example.com' }, { 'if-match': `W/"${current.version}"`, 'idempotency-key': newRequestId() });
    assert.equal(stale.status, 409);
    const body = await stale.json() as { message: string; current: { version: number; email: string } };
    assert.equal(body.current.version, current.version + 1);
    assert.equal(body.current.email, 'first@example.com');
    assert.equal(stale.headers.get('etag'), `W/"${current.version + 1}"`);
    assert.equal((await agency().get(NHS)).email, 'first@example.com', 'nothing overwritten');
  });

  it('says precisely what is wrong with a change, and sends nothing', async () => {
    const { cookie } = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    const version = (await agency().get(NHS)).version;
    const ok = { 'if-match': `W/"${version}"` };
    const noMatch = await patch(system, cookie, { kind: 'mobile', value: '07700900111' }, { 'idempotency-key': newRequestId() });
    assert.equal(noMatch.status, 428);
    assert.match(((await noMatch.json()) as { message: string }).message, /If-Match/);
    const noKey = await patch(system, cookie, { kind: 'mobile', value: '07700900111' }, ok);
    assert.equal(noKey.status, 400);
    assert.match(((await noKey.json()) as { message: string }).message, /Idempotency-Key/);
    const key = newRequestId();
    const bad = await patch(system, cookie, { kind: 'temporary-address', address: { lines: ['1 High Street'], postcode: 'NOT A POSTCODE' }, from: '2026-02-30', to: '2026-13-01' }, { ...ok, 'idempotency-key': key });
    assert.equal(bad.status, 400);
    const problems = ((await bad.json()) as { errors: { path: string; message: string }[] }).errors;
    assert.deepEqual(problems.map((p) => p.path), ['/address/postcode', '/from', '/to']);
    assert.match(problems[0].message, /postcode/i);
    const restricted = await patch(system, cookie, { kind: 'name', value: 'Someone Else' }, { ...ok, 'idempotency-key': newRequestId() });
    assert.equal(restricted.status, 400);
    assert.match(((await restricted.json()) as { message: string }).message, /\/kind: kind must be one of home-address/);
    assert.equal(await writes(key), 0, 'nothing was claimed for a change that was refused here');
    assert.equal((await agency().get(NHS)).version, version, 'nothing reached the agency');
  });

  it('refuses without a session (401), below P9 (403), from another site (403) and as a form post (415)', async () => {
    const body = { kind: 'mobile', value: '07700900222' };
    const headers = { 'if-match': 'W/"1"', 'idempotency-key': newRequestId() };
    assert.equal((await patch(system, undefined, body, headers)).status, 401);
    const p5 = await signedInCitizen(system, { level: 'P5', nhsNumber: NHS });
    const low = await patch(system, p5.cookie, body, headers);
    assert.equal(low.status, 403);
    assert.match(((await low.json()) as { message: string }).message, /Changing the national record needs identity level P9; you have P5/);
    const { cookie } = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    const version = (await agency().get(NHS)).version;
    const fromElsewhere = await patch(system, cookie, body, { ...headers, origin: 'https://attacker.example' });
    assert.equal(fromElsewhere.status, 403);
    assert.equal((await patch(system, cookie, body, { ...headers, 'sec-fetch-site': 'cross-site' })).status, 403);
    const form = await fetch(`${system.url}/api/me/national-record`, { method: 'PATCH', body: 'kind=mobile&value=07700900222', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    assert.equal(form.status, 415);
    assert.equal((await agency().get(NHS)).version, version, 'none of them reached the agency');
  });

  it('says nothing was changed (503 with Retry-After) when the agency is down', async () => {
    const { cookie } = await signedInCitizen(down, { level: 'P9', nhsNumber: NHS });
    const res = await patch(down, cookie, { kind: 'mobile', value: '07700900333' }, { 'if-match': 'W/"1"', 'idempotency-key': newRequestId() });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '30');
    assert.match(((await res.json()) as { message: string }).message, /nothing was changed.*same Idempotency-Key/);
  });
});
