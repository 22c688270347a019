// Citizen pages over HTTP: what each kind of user sees, and every denial.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { signedInCitizen, startTestSystem } from '../testing/factories.ts';
import type { RunningSystem } from '../system.ts';

let system: RunningSystem;
before(async () => { system = await startTestSystem(); });
after(async () => system.close());

async function get(path: string, cookie?: string) {
  return system.app.inject({ method: 'GET', url: path, headers: cookie ? { cookie } : {} });
}

describe('citizen pages', () => {
  it('shows the sign-in start page to a visitor, with security headers and a CSP nonce', async () => {
    const res = await get('/');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Continue with NHS login/);
    const csp = String(res.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, 'CSP carries a nonce');
    assert.match(res.body, new RegExp(`<script nonce="${nonce}">`), 'the one inline script uses it');
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
  });

  it('sends a visitor to sign in for any signed-in page, remembering where they were going', async () => {
    for (const path of ['/account', '/services/organ-donation', '/access-log', '/prove-your-identity']) {
      const res = await get(path);
      assert.equal(res.statusCode, 303, path);
      assert.equal(res.headers.location, `/auth/sign-in?returnTo=${encodeURIComponent(path)}`);
    }
  });

  it('shows a P9 citizen the national services plus those commissioned for their ICB only', async () => {
    const { cookie } = await signedInCitizen(system, { practice: 'A81001', level: 'P9', givenName: 'Ada' });
    const res = await get('/', cookie);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Hello Ada/);
    for (const text of ['GP services', 'Appointments', 'Prescriptions', 'GP health record', 'NHS 111 online', 'Organ donation decision', 'Your details on the national record', 'Ask your GP surgery online']) {
      assert.ok(res.body.includes(text), `hub lists ${text}`);
    }
    assert.ok(!res.body.includes('TriagePoint'), 'London consultation not shown in the North East');
    assert.ok(!res.body.includes('CareBook'), 'Derbyshire PHR not shown in the North East');
    assert.ok(!res.body.includes('Prove your identity to use this'), 'P9 can use everything listed');
  });

  it('commissioning for listed practices reaches only those practices', async () => {
    const listed = await get('/', (await signedInCitizen(system, { practice: 'E83003' })).cookie);
    assert.match(listed.body, /TriagePoint/);
    const derby = await get('/', (await signedInCitizen(system, { practice: 'C81001' })).cookie);
    assert.match(derby.body, /CareBook/);
    assert.doesNotMatch(derby.body, /TriagePoint|Ask your GP surgery online/);
  });

  it('says so when a practice has no commissioned local services', async () => {
    const res = await get('/', (await signedInCitizen(system, { practice: 'J81002' })).cookie);
    assert.match(res.body, /does not offer online consultations or other local services/);
    assert.match(res.body, /GP services/);
  });

  it('lists P9 services to a P5 citizen with a route to prove their identity, not hidden', async () => {
    const { cookie } = await signedInCitizen(system, { practice: 'A81001', level: 'P5' });
    const res = await get('/', cookie);
    assert.match(res.body, /Prove your identity to use this/);
    assert.match(res.body, /href="\/prove-your-identity\?service=gp-services-/);
    const blocked = await get('/services/national-record', cookie);
    assert.equal(blocked.statusCode, 403);
    assert.match(blocked.body, /Prove your identity to use this service/);
    const allowed = await get('/services/organ-donation', cookie);
    assert.equal(allowed.statusCode, 200);
  });

  it('explains a closed practice, an unknown practice and no GP registration', async () => {
    const closed = await get('/', (await signedInCitizen(system, { practice: 'A81003' })).cookie);
    assert.match(closed.body, /Your GP surgery has closed/);
    assert.doesNotMatch(closed.body, /Appointments/);
    assert.match(closed.body, /NHS 111 online/);
    const unknown = await get('/', (await signedInCitizen(system, { practice: 'ZZZ999' })).cookie);
    assert.match(unknown.body, /We could not find your GP surgery/);
    const none = await get('/', (await signedInCitizen(system, { practice: null, level: 'P0' })).cookie);
    assert.match(none.body, /We could not find a GP surgery for you/);
    assert.match(none.body, /NHS 111 online/);
  });

  it('shows the account: NHS number, practice and identity level', async () => {
    const res = await get('/account', (await signedInCitizen(system, { practice: 'A81001', nhsNumber: '9990079196' })).cookie);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /999 007 9196/);
    assert.match(res.body, /Densham Surgery \(A81001\)/);
    assert.match(res.body, /High \(P9\)/);
    assert.match(res.body, /1 January 1980/, 'the date of birth as people write it');
  });

  it('answers 404 for a service not commissioned for this citizen, and for unknown pages', async () => {
    const { cookie } = await signedInCitizen(system, { practice: 'A81001' });
    const res = await get('/services/phr-carebook', cookie);
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /Page not found/);
    assert.equal((await get('/no-such-page', cookie)).statusCode, 404);
  });

  it('treats an expired session as signed out', async () => {
    const { cookie } = await signedInCitizen(system, { timeouts: { absoluteMs: 1 } });
    await new Promise((r) => setTimeout(r, 20));
    const res = await get('/account', cookie);
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), /^\/auth\/sign-in/);
    const idle = await signedInCitizen(system, { timeouts: { idleMs: 1 } });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await get('/account', idle.cookie)).statusCode, 303);
  });

  it('refuses an open redirect through returnTo', async () => {
    const res = await get('/auth/sign-in?returnTo=//evil.example/');
    assert.equal(res.statusCode, 303);
    const tx = await system.sessions.take(/fd_login=([^;]+)/.exec(String(res.headers['set-cookie']))![1]);
    assert.equal(tx?.kind === 'login' && tx.returnTo, '/');
  });

  it('rate-limits sign-in attempts', async () => {
    let last = 0;
    for (let i = 0; i < 35; i++) last = (await system.app.inject({ method: 'GET', url: '/auth/callback', remoteAddress: '10.9.9.9' })).statusCode;
    assert.equal(last, 429);
  });

  it('serves health and readiness for a load balancer', async () => {
    assert.equal((await get('/healthz')).statusCode, 200);
    const ready = await get('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.equal(JSON.parse(ready.body).status, 'ready');
  });
});

describe('catalog API', () => {
  it('publishes the national catalog to anyone', async () => {
    const res = await get('/api/catalog');
    assert.equal(res.statusCode, 200);
    const ids = JSON.parse(res.body).services.map((s: { id: string }) => s.id).sort();
    assert.deepEqual(ids, ['contact-preferences', 'national-record', 'nhs-111-online', 'organ-donation']);
  });

  it('lists my services only when signed in', async () => {
    const denied = await get('/api/me/services');
    assert.equal(denied.statusCode, 401);
    assert.match(JSON.parse(denied.body).message, /Sign in/);
    const res = await get('/api/me/services', (await signedInCitizen(system, { practice: 'C81001', level: 'P5' })).cookie);
    const body = JSON.parse(res.body);
    assert.equal(body.practice.icbCode, 'QJ2');
    const carebook = body.services.find((s: { service: { id: string } }) => s.service.id === 'phr-carebook');
    assert.equal(carebook.usable, false, 'P9 service listed as not usable yet for P5');
  });

  it('serves OpenAPI documentation generated from the schemas', async () => {
    const res = await get('/api/docs/json');
    assert.equal(res.statusCode, 200);
    const doc = JSON.parse(res.body);
    assert.ok(doc.paths['/api/catalog'] && doc.paths['/api/me/services']);
    const change = doc.paths['/api/me/national-record']?.patch;
    assert.ok(change, 'the change to the national record is documented');
    assert.ok(change.parameters.some((p: { name: string; in: string }) => p.name === 'idempotency-key' && p.in === 'header'));
    assert.ok(change.responses['409'] && change.responses['428']);
    // Each answer says what it means, and only the conflict carries the record as it is now.
    for (const [code, r] of Object.entries(change.responses as Record<string, { description: string; content: { 'application/json': { schema: { properties?: object } } } }>)) {
      assert.notEqual(r.description, 'Default Response', `${code} has its own description`);
      assert.equal('current' in (r.content['application/json'].schema.properties ?? {}), code === '409', `${code}: the record as it is now only with a conflict`);
    }
    assert.match(change.responses['504'].description, /same Idempotency-Key/);
    // The page's scripts and styles resolve (relative to /api/docs/), so it does not come up blank.
    const bare = await get('/api/docs');
    assert.equal(bare.statusCode, 301);
    assert.equal(bare.headers.location, '/api/docs/');
    const html = (await get('/api/docs/')).body;
    const assets = [...html.matchAll(/(?:src|href)="(\.\/[^"]+\.(?:js|css))"/g)].map((m) => new URL(m[1], 'http://x/api/docs/').pathname);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), `assets found: ${assets.join(', ')}`);
    for (const a of assets) {
      const r = await get(a);
      assert.equal(r.statusCode, 200, a);
      assert.match(String(r.headers['content-type']), a.endsWith('.js') ? /javascript/ : /text\/css/, a);
    }
  });

  it('answers JSON errors for unknown API routes', async () => {
    const res = await get('/api/nope');
    assert.equal(res.statusCode, 404);
    assert.equal(JSON.parse(res.body).error, 'Not Found');
  });
});

describe('signing in to a supplier\'s web integration', () => {
  it('hands a commissioned citizen over with a one-minute token only that supplier accepts, verifiable by the published key, and logs it', async () => {
    const { cookie, nhsNumber } = await signedInCitizen(system, { practice: 'E83003', level: 'P9', nhsNumber: '9990237573' });
    const pageRes = await get('/services/consult-online-triagepoint', cookie);
    assert.equal(pageRes.statusCode, 200);
    assert.match(pageRes.body, /href="\/services\/consult-online-triagepoint\/open"/);
    const res = await get('/services/consult-online-triagepoint/open', cookie);
    assert.equal(res.statusCode, 303);
    const to = new URL(String(res.headers.location));
    const site = new URL(system.catalog.service('consult-online-triagepoint')!.webUrl!);
    assert.equal(to.origin, site.origin);
    const token = to.searchParams.get('assertedLoginIdentity')!;
    const jwks = createLocalJWKSet((await get('/.well-known/handoff-jwks.json')).json());
    const { payload } = await jwtVerify(token, jwks, { issuer: system.config.publicUrl, audience: site.origin });
    assert.equal(payload.identity_proofing_level, 'P9');
    assert.ok(payload.sub && payload.jti);
    assert.ok(payload.exp! - payload.iat! <= 60);
    await assert.rejects(jwtVerify(token, jwks, { issuer: system.config.publicUrl, audience: 'http://127.0.0.1:1' }), 'another supplier cannot use it');
    const log = await system.db.query<{ action: string; supplier: string }>("SELECT action, supplier FROM audit_events WHERE subject_nhs_number = $1 AND resource = 'service:consult-online-triagepoint'", [nhsNumber]);
    assert.deepEqual(log.map((r) => r.action), ['sign-in hand-off']);
  });

  it('refuses where the service is not commissioned, below its identity level, not a web service, or signed out', async () => {
    const elsewhere = await signedInCitizen(system, { practice: 'A81001', level: 'P9' });
    assert.equal((await get('/services/consult-online-triagepoint/open', elsewhere.cookie)).statusCode, 404);
    const p0 = await signedInCitizen(system, { practice: 'E83003', level: 'P0' });
    const low = await get('/services/consult-online-triagepoint/open', p0.cookie);
    assert.notEqual(low.statusCode, 303);
    assert.match(low.body, /[Pp]rove your identity/);
    const p9 = await signedInCitizen(system, { practice: 'E83003', level: 'P9' });
    assert.equal((await get('/services/organ-donation/open', p9.cookie)).statusCode, 404, 'a native service has nowhere to hand over to');
    const none = await get('/services/consult-online-triagepoint/open');
    assert.equal(none.statusCode, 303);
    assert.match(String(none.headers.location), /sign-in/);
  });
});
