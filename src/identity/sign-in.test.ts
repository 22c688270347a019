// The real sign-in flow across Front Door and the embedded identity provider, and every way it must refuse.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { BrowserLikeClient, formAction, hiddenInput } from '../testing/browser-like-client.ts';
import { startTestSystem } from '../testing/factories.ts';
import type { RunningSystem } from '../system.ts';

const logs: string[] = [];
const logStream = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });

let system: RunningSystem;
before(async () => {
  system = await startTestSystem({}, { logger: { level: 'info', stream: logStream } });
});
after(async () => system.close());

const p9 = () => system.demoPeople.find((p) => p.sub === 'demo-p9-stockton')!;

/** Runs sign-in up to the moment the provider redirects back, and returns that callback URL unrequested. */
async function signInUntilCallback(client: BrowserLikeClient, email: string, password: string): Promise<string> {
  const loginPage = await client.follow(`${system.url}/auth/sign-in`);
  assert.equal(loginPage.status, 200, 'identity provider shows its sign-in page');
  assert.match(loginPage.body, /Sign in to NHS login/);
  const action = formAction(loginPage.body)!;
  const csrf = hiddenInput(loginPage.body, '_csrf')!;
  const hop = await client.follow(new URL(action, loginPage.url).href, (u) => u.startsWith(`${system.url}/auth/callback`), { form: { email, password, _csrf: csrf } });
  assert.ok(hop.location?.startsWith(`${system.url}/auth/callback`), `expected a redirect to the callback, got ${hop.status} ${hop.location}`);
  return hop.location!;
}

describe('sign-in with the embedded NHS-login-style provider', () => {
  it('signs a P9 user in with PKCE and private_key_jwt, shows their hub, and signs out at both ends', async () => {
    const client = new BrowserLikeClient();
    const callback = await signInUntilCallback(client, p9().email, p9().password);
    assert.match(callback, /[?&]code=/);
    const hub = await client.follow(callback);
    assert.equal(hub.status, 200);
    assert.match(hub.body, /Hello Amira/);
    assert.match(hub.body, /Ask your GP surgery online/, 'QHM practice sees the AskDoc consultation');
    assert.doesNotMatch(hub.body, /CareBook/, 'the Derbyshire PHR is not commissioned here');

    const api = await client.request(`${system.url}/api/me/services`);
    const json = JSON.parse(api.body);
    assert.equal(json.practice.odsCode, 'A81001');
    assert.equal(json.identityLevel, 'P9');

    // Sign out: the app session ends, then the provider asks to end its own session.
    const out = await client.request(`${system.url}/sign-out`);
    assert.equal(out.status, 303);
    assert.ok(out.location!.startsWith(system.issuer), 'redirected to the provider to end its session');
    const confirm = await client.follow(out.location!);
    assert.match(confirm.body, /Sign out of NHS login/);
    const logoutAction = formAction(confirm.body)!;
    const xsrf = hiddenInput(confirm.body, 'xsrf')!;
    const done = await client.follow(new URL(logoutAction, confirm.url).href, undefined, { form: { xsrf, logout: 'yes' } });
    assert.match(done.body, /You have signed out/);
    const afterOut = await client.request(`${system.url}/account`);
    assert.equal(afterOut.status, 303, 'no session left in the app');
    // And the provider asks for a password again.
    const again = await client.follow(`${system.url}/auth/sign-in`);
    assert.match(again.body, /Sign in to NHS login/, 'provider session ended too');
  });

  it('refuses a wrong password with the NHS error pattern and keeps the email typed', async () => {
    const client = new BrowserLikeClient();
    const loginPage = await client.follow(`${system.url}/auth/sign-in`);
    const res = await client.request(new URL(formAction(loginPage.body)!, loginPage.url).href, { form: { email: p9().email, password: 'wrong', _csrf: hiddenInput(loginPage.body, '_csrf')! } });
    assert.equal(res.status, 400);
    assert.match(res.body, /There is a problem/);
    assert.match(res.body, /Email address or password is not correct/);
    assert.match(res.body, /<title>Error: /);
    assert.match(res.body, new RegExp(`value="${p9().email.replace(/\./g, '\\.')}"`));
  });

  it('refuses a sign-in form posted without its CSRF token', async () => {
    const client = new BrowserLikeClient();
    const loginPage = await client.follow(`${system.url}/auth/sign-in`);
    const res = await client.request(new URL(formAction(loginPage.body)!, loginPage.url).href, { form: { email: p9().email, password: p9().password } });
    assert.equal(res.status, 403);
  });

  it('refuses a tampered state: error page and no session', async () => {
    const client = new BrowserLikeClient();
    const callback = new URL(await signInUntilCallback(client, p9().email, p9().password));
    callback.searchParams.set('state', 'tampered');
    const res = await client.request(callback.href);
    assert.equal(res.status, 400);
    assert.match(res.body, /problem signing you in/);
    assert.equal(client.cookieFor(system.url, 'fd_session'), undefined);
  });

  it('refuses a replayed callback (code used twice)', async () => {
    const client = new BrowserLikeClient();
    const callback = await signInUntilCallback(client, p9().email, p9().password);
    const loginCookie = client.cookieFor(system.url, 'fd_login')!;
    const first = await client.request(callback);
    assert.equal(first.status, 303);
    const sessionCookie = client.cookieFor(system.url, 'fd_session');
    assert.ok(sessionCookie);
    // An attacker replays the same callback with the same login cookie.
    const attacker = new BrowserLikeClient();
    attacker.setCookie(system.url, 'fd_login', loginCookie);
    const replay = await attacker.request(callback);
    assert.equal(replay.status, 400);
    assert.match(replay.body, /sign-in has expired/);
    assert.equal(attacker.cookieFor(system.url, 'fd_session'), undefined);
  });

  it('refuses an ID token whose nonce does not match', async () => {
    const client = new BrowserLikeClient();
    const callback = await signInUntilCallback(client, p9().email, p9().password);
    const tx = await system.sessions.take(client.cookieFor(system.url, 'fd_login')!);
    assert.equal(tx?.kind, 'login');
    const forged = await system.sessions.create({ ...(tx as Extract<typeof tx, { kind: 'login' }>)!, nonce: 'not-the-nonce-sent' });
    client.setCookie(system.url, 'fd_login', forged);
    const res = await client.request(callback);
    assert.equal(res.status, 400);
    assert.match(res.body, /problem signing you in/);
    assert.equal(client.cookieFor(system.url, 'fd_session'), undefined);
  });

  it('shows a clear page when the user cancels at the provider', async () => {
    const client = new BrowserLikeClient();
    await client.request(`${system.url}/auth/sign-in`);
    const res = await client.request(`${system.url}/auth/callback?error=access_denied&state=x`);
    assert.equal(res.status, 400);
    assert.match(res.body, /You did not sign in/);
  });

  it('never writes personal data or tokens to the logs', async () => {
    const client = new BrowserLikeClient();
    const callback = await signInUntilCallback(client, p9().email, p9().password);
    await client.follow(callback);
    await client.request(`${system.url}/account`);
    const text = logs.join('');
    assert.ok(text.includes('"reqId"'), 'requests are logged with a request id');
    for (const secret of [p9().nhsNumber!, p9().givenName, p9().familyName, p9().email, p9().birthdate, 'code=', 'id_token', client.cookieFor(system.url, 'fd_session')!]) {
      assert.ok(!text.includes(secret), `log must not contain ${secret}`);
    }
  });
});
