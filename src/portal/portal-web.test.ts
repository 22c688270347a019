// Staff sign-in to the portal through the separate staff client, and the wall between staff and citizen pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrowserLikeClient, formAction, hiddenInput } from '../testing/browser-like-client.ts';
import { signedInCitizen, signedInStaff, startTestSystem } from '../testing/factories.ts';
import type { RunningSystem } from '../system.ts';
import { validateStaffClaims, StaffClaimsError } from './staff-claims.ts';

let system: RunningSystem;
before(async () => { system = await startTestSystem(); });
after(async () => system.close());

const staff = (sub: string) => system.demoStaff.find((s) => s.sub === sub)!;

async function portalSignInUntilCallback(client: BrowserLikeClient, email: string, password: string, returnTo?: string): Promise<string> {
  const loginPage = await client.follow(`${system.url}/portal/auth/sign-in${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`);
  assert.equal(loginPage.status, 200);
  assert.match(loginPage.body, /Sign in to NHS login/);
  const hop = await client.follow(new URL(formAction(loginPage.body)!, loginPage.url).href, (u) => u.startsWith(`${system.url}/portal/auth/callback`), {
    form: { email, password, _csrf: hiddenInput(loginPage.body, '_csrf')! },
  });
  assert.ok(hop.location?.startsWith(`${system.url}/portal/auth/callback`), `expected the portal callback, got ${hop.status} ${hop.location}`);
  return hop.location!;
}

describe('portal sign-in', () => {
  it('signs a commissioner in through the staff client and shows their role at their ICB', async () => {
    const client = new BrowserLikeClient();
    const me = staff('demo-staff-icb-qhm');
    const callback = await portalSignInUntilCallback(client, me.email, me.password);
    const home = await client.follow(callback);
    assert.equal(home.status, 200);
    assert.match(home.body, /Hello Claire/);
    assert.match(home.body, /Commissioner \(integrated care board\)/);
    assert.match(home.body, /ICB QHM \(North East and Yorkshire\)/);
    assert.match(home.body, /Front Door portal/);
    const row = await system.db.query<{ actor_id: string; organisation: string }>("SELECT actor_id, organisation FROM audit_events WHERE action = 'sign-in' AND resource = 'portal-session'");
    assert.deepEqual(row.map((r) => [r.actor_id, r.organisation]), [['demo-staff-icb-qhm', 'QHM']]);

    const out = await client.request(`${system.url}/portal/sign-out`);
    assert.equal(out.status, 303);
    assert.ok(out.location!.startsWith(system.issuer), 'the provider is asked to end its session too');
    assert.match(out.location!, /post_logout_redirect_uri=.*%2Fportal%2Fsigned-out/);
    const after = await client.request(`${system.url}/portal`);
    assert.match(after.body, /You need a staff account/, 'signed out: the start page again');
  });

  it('returns to the portal page asked for, and never outside the portal', async () => {
    const me = staff('demo-staff-national');
    const inside = new BrowserLikeClient();
    const a = await inside.request(await portalSignInUntilCallback(inside, me.email, me.password, '/portal?x=1'));
    assert.equal(a.location, `${system.url}/portal?x=1`);
    const outside = new BrowserLikeClient();
    const b = await outside.request(await portalSignInUntilCallback(outside, me.email, me.password, '/account'));
    assert.equal(b.location, `${system.url}/portal`);
  });

  it('refuses a citizen account signing in to the portal: no staff role, no session', async () => {
    const client = new BrowserLikeClient();
    const person = system.demoPeople.find((p) => p.sub === 'demo-p9-stockton')!;
    const res = await client.request(await portalSignInUntilCallback(client, person.email, person.password));
    assert.equal(res.status, 403);
    assert.match(res.body, /Your account has no staff role/);
    assert.equal(client.cookieFor(system.url, 'fd_session'), undefined);
  });

  it('refuses a tampered state, a replayed callback and a citizen sign-in transaction', async () => {
    const me = staff('demo-staff-region-y63');
    const tampered = new BrowserLikeClient();
    const cb = new URL(await portalSignInUntilCallback(tampered, me.email, me.password));
    cb.searchParams.set('state', 'tampered');
    const t = await tampered.request(cb.href);
    assert.equal(t.status, 400);
    assert.equal(tampered.cookieFor(system.url, 'fd_session'), undefined);

    const client = new BrowserLikeClient();
    const callback = await portalSignInUntilCallback(client, me.email, me.password);
    const loginCookie = client.cookieFor(system.url, 'fd_login')!;
    assert.equal((await client.request(callback)).status, 303);
    const attacker = new BrowserLikeClient();
    attacker.setCookie(system.url, 'fd_login', loginCookie);
    const replay = await attacker.request(callback);
    assert.equal(replay.status, 400);
    assert.match(replay.body, /sign-in has expired/);
    assert.equal(attacker.cookieFor(system.url, 'fd_session'), undefined);

    // A transaction begun by the citizen client cannot complete at the portal's callback.
    const citizenTx = await system.sessions.create({ kind: 'login', state: 's', nonce: 'n', codeVerifier: 'v', returnTo: '/', client: 'citizen' });
    const mixed = new BrowserLikeClient();
    mixed.setCookie(system.url, 'fd_login', citizenTx);
    const m = await mixed.request(`${system.url}/portal/auth/callback?code=x&state=s`);
    assert.equal(m.status, 400);
  });
});

describe('staff and citizen pages are apart', () => {
  it('a citizen session cannot open the portal', async () => {
    const { cookie } = await signedInCitizen(system);
    const res = await system.app.inject({ url: '/portal', headers: { cookie } });
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /You are signed in to Front Door as a patient/);
    assert.doesNotMatch(res.body, /Your roles/);
  });

  it('a staff session cannot open citizen patient pages or the citizen API', async () => {
    const { cookie } = await signedInStaff(system, { role: 'national-team', organisation: 'national' });
    for (const url of ['/account', '/access-log', '/services/consult-online-askdoc']) {
      const res = await system.app.inject({ url, headers: { cookie } });
      assert.equal(res.statusCode, 303, url);
      assert.match(res.headers.location as string, /^\/auth\/sign-in/, url);
    }
    const api = await system.app.inject({ url: '/api/me/services', headers: { cookie } });
    assert.equal(api.statusCode, 401);
  });

  it('anonymous visitors see the portal start page, and a staff session its home', async () => {
    const anon = await system.app.inject({ url: '/portal' });
    assert.equal(anon.statusCode, 200);
    assert.match(anon.body, /href="\/portal\/auth\/sign-in"/);
    const { cookie } = await signedInStaff(system, { role: 'supplier', organisation: 'askdoc' });
    const home = await system.app.inject({ url: '/portal', headers: { cookie } });
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /Supplier/);
    assert.match(home.body, /askdoc/);
  });
});

describe('staff claims', () => {
  it('accepts well-formed roles and refuses none, unknown roles and odd organisations', () => {
    assert.deepEqual(validateStaffClaims({ sub: 's', staff_roles: [{ role: 'region', organisation: 'Y63' }] }).roles, [{ role: 'region', organisation: 'Y63' }]);
    assert.throws(() => validateStaffClaims({ sub: 's' }), (e: unknown) => e instanceof StaffClaimsError && e.reason === 'no-roles');
    assert.throws(() => validateStaffClaims({ sub: 's', staff_roles: [] }), (e: unknown) => e instanceof StaffClaimsError && e.reason === 'no-roles');
    assert.throws(() => validateStaffClaims({ sub: 's', staff_roles: [{ role: 'admin' as never, organisation: 'X' }] }), StaffClaimsError);
    assert.throws(() => validateStaffClaims({ sub: 's', staff_roles: [{ role: 'region', organisation: '<script>' }] }), StaffClaimsError);
  });
});
