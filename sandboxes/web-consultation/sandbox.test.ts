// The web-consultation sandbox on its own: the hand-off rules (in a sandpit, and verifying a platform's signed
// tokens), its sign-in and form validation, CSRF, the GAD-7 questionnaire and triage, and one reference per request.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { startSandbox } from '../common/server.ts';
import { HANDOFF_JWKS_PATH, webConsultationSandbox } from './sandbox.ts';
import { loadQuestionnaire, triage } from './questionnaire.ts';

let app: FastifyInstance;
before(async () => { app = await webConsultationSandbox.build({}); });
after(async () => { await app.close(); });

const token = (claims: Record<string, unknown>, exp: string | number = '5m') => new UnsecuredJWT(claims).setSubject('nhs-login-subject-1').setExpirationTime(exp).encode();
const cookieOf = (res: LightMyRequestResponse) => {
  const c = res.cookies.find((x) => x.name === 'tp_session');
  assert.ok(c, 'no session cookie');
  return `tp_session=${c.value}`;
};
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
const form = (fields: Record<string, string>) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });

async function handedOff(): Promise<{ cookie: string; csrf: string }> {
  const res = await app.inject({ url: `/?assertedLoginIdentity=${await token({ identity_proofing_level: 'P9' })}` });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/', 'the token is dropped from the address');
  const cookie = cookieOf(res);
  const start = await app.inject({ url: '/', headers: { cookie } });
  assert.equal(start.statusCode, 200);
  assert.match(start.body, /<h1>Get help with anxiety or worry<\/h1>/);
  const q1 = await app.inject({ url: '/questions/1', headers: { cookie } });
  return { cookie, csrf: csrfOf(q1.body) };
}

describe('web-consultation sandbox', () => {
  it('asks the published GAD-7 items, one per page, after its own description question, and triages by score', () => {
    const { title, questions } = loadQuestionnaire();
    assert.equal(title, 'Generalized Anxiety Disorder - 7');
    assert.equal(questions.length, 8);
    assert.equal(questions[1]!.text, 'Feeling nervous, anxious, or on edge');
    const q = questions[1]!;
    assert.ok(q.kind === 'choice' && q.options.map((o) => o.score).join() === '0,1,2,3');
    const all = (i: number) => Object.fromEntries(questions.map((x) => [x.linkId, x.kind === 'choice' ? x.options[i]!.code : 'text']));
    assert.deepEqual([triage(questions, all(0)).band, triage(questions, all(2)).band, triage(questions, all(3))], ['minimal', 'moderate', { score: 21, band: 'severe', outcome: 'A clinician will call you today.' }]);
  });

  it('refuses a hand-off that is malformed, names no subject or has expired, with a page saying why', async () => {
    const cases: [string, RegExp][] = [
      ['not-a-jwt', /not a well-formed JWT/],
      [await new UnsecuredJWT({}).encode(), /names no subject/],
      [await token({}, Math.floor(Date.now() / 1000) - 60), /has expired/],
    ];
    for (const [t, reason] of cases) {
      const res = await app.inject({ url: `/?assertedLoginIdentity=${encodeURIComponent(t)}` });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, reason);
      assert.equal(res.cookies.length, 0, 'no session for a refused hand-off');
    }
  });

  it('without a hand-off shows its own sign-in, which validates and checks CSRF', async () => {
    const first = await app.inject({ url: '/' });
    assert.match(first.body, /<h1>Sign in to TriagePoint<\/h1>/);
    const cookie = cookieOf(first);
    const csrf = csrfOf(first.body);
    const noCsrf = await app.inject({ method: 'POST', url: '/sign-in', headers: { cookie, ...form({}).headers }, payload: form({ email: 'a@example.com', password: 'x' }).payload });
    assert.equal(noCsrf.statusCode, 403);
    const bad = await app.inject({ method: 'POST', url: '/sign-in', headers: { cookie, ...form({}).headers }, payload: form({ _csrf: csrf, email: 'nope', password: '' }).payload });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /<title>Error: Sign in/);
    assert.match(bad.body, /There is a problem.*href="#email">Enter your email address.*href="#password">Enter your password/s);
    assert.match(bad.body, /value="nope"/, 'what the user typed is kept');
    const ok = await app.inject({ method: 'POST', url: '/sign-in', headers: { cookie, ...form({}).headers }, payload: form({ _csrf: csrf, email: 'a@example.com', password: 'x' }).payload });
    assert.equal(ok.statusCode, 303);
    assert.match((await app.inject({ url: '/', headers: { cookie } })).body, /Start now/);
  });

  it('keeps pages for signed-in users, refuses a missing CSRF token and an out-of-range question', async () => {
    assert.equal((await app.inject({ url: '/questions/1' })).headers.location, '/');
    const { cookie } = await handedOff();
    const noCsrf = await app.inject({ method: 'POST', url: '/questions/1', headers: { cookie, ...form({}).headers }, payload: form({ answer: 'hello' }).payload });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal((await app.inject({ url: '/questions/99', headers: { cookie } })).statusCode, 404);
    const check = await app.inject({ url: '/check', headers: { cookie } });
    assert.equal(check.headers.location, '/questions/1', 'check answers sends you to the first unanswered question');
  });

  it('takes answers, shows them to check, and gives one reference however often it is sent', async () => {
    const { cookie, csrf } = await handedOff();
    const post = (url: string, fields: Record<string, string>) => app.inject({ method: 'POST', url, headers: { cookie, ...form({}).headers }, payload: form({ _csrf: csrf, ...fields }).payload });
    const empty = await post('/questions/2', {});
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Select how often you have been bothered by: feeling nervous, anxious, or on edge/);
    assert.equal((await post('/questions/1', { answer: '  Worried all the time  ' })).headers.location, '/questions/2');
    for (let n = 2; n <= 8; n++) assert.equal((await post(`/questions/${n}`, { answer: 'Nearly every day' })).statusCode, 303);
    const check = await app.inject({ url: '/check', headers: { cookie } });
    assert.match(check.body, /Worried all the time<\/dd>/);
    assert.equal((check.body.match(/Nearly every day/g) ?? []).length, 7);
    const sent = await post('/check', {});
    assert.equal(sent.headers.location, '/confirmation');
    const confirmation = await app.inject({ url: '/confirmation', headers: { cookie } });
    const reference = /class="app-reference">(TP-[A-Z2-9]{4}-[A-Z2-9]{4})</.exec(confirmation.body)?.[1];
    assert.ok(reference, confirmation.body);
    assert.match(confirmation.body, /A clinician will call you today/);
    await post('/check', {});
    assert.match((await app.inject({ url: '/confirmation', headers: { cookie } })).body, new RegExp(reference));
  });

  it('serves security headers, a health endpoint and a 404 page', async () => {
    const res = await app.inject({ url: '/' });
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.deepEqual((await app.inject({ url: '/health' })).json().status, 'ok');
    const missing = await app.inject({ url: '/nowhere' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /<html lang="en">[\s\S]*<h1>Page not found<\/h1>/);
  });
});

describe('web-consultation sandbox trusting a platform', () => {
  // The platform here is a stand-in publishing one RS256 key, as Front Door publishes its hand-off key.
  const platform = Fastify();
  let platformUrl: string;
  let sandboxUrl: string;
  let signingKey: CryptoKey;
  let closeSandbox: () => Promise<void>;
  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    signingKey = privateKey;
    platform.get(HANDOFF_JWKS_PATH, async () => ({ keys: [{ ...(await exportJWK(publicKey)), kid: 'platform-1', alg: 'RS256', use: 'sig' }] }));
    platformUrl = await platform.listen({ port: 0, host: '127.0.0.1' });
    const s = await startSandbox(webConsultationSandbox, { port: 0, platformUrl });
    sandboxUrl = s.url;
    closeSandbox = s.close;
  });
  after(async () => {
    await closeSandbox();
    await platform.close();
  });

  const signed = (o: { key?: CryptoKey; issuer?: string; audience?: string; exp?: string | number } = {}) =>
    new SignJWT({ identity_proofing_level: 'P9' })
      .setProtectedHeader({ alg: 'RS256', kid: 'platform-1' })
      .setIssuer(o.issuer ?? platformUrl).setAudience(o.audience ?? sandboxUrl).setSubject('nhs-login-subject-1')
      .setIssuedAt().setExpirationTime(o.exp ?? '1m').setJti(randomUUID())
      .sign(o.key ?? signingKey);
  const arrive = (base: string, t: string) => fetch(`${base}/?assertedLoginIdentity=${encodeURIComponent(t)}`, { redirect: 'manual' });

  it('signs in with a token the platform signed for this service, once only', async () => {
    const token = await signed();
    const first = await arrive(sandboxUrl, token);
    assert.equal(first.status, 303);
    assert.match(String(first.headers.get('set-cookie')), /tp_session=/);
    const again = await arrive(sandboxUrl, token);
    assert.equal(again.status, 400);
    assert.match(await again.text(), /already been used/);
    assert.equal(again.headers.get('set-cookie'), null);
    assert.match((await (await fetch(`${sandboxUrl}/health`)).json() as { handOff: string }).handOff, /signature verified against http:\/\/127\.0\.0\.1:\d+\/\.well-known\/handoff-jwks\.json/);
  });

  it('refuses a token with a forged signature, for another service, from another issuer, expired or unsigned', async () => {
    const cases: [string, RegExp][] = [
      [await signed({ key: (await generateKeyPair('RS256')).privateKey }), /signature does not match the NHS App&#39;s published keys/],
      [await signed({ audience: 'https://another-supplier.example' }), /issued for another service/],
      [await signed({ issuer: 'https://someone-else.example' }), /not issued by the NHS App/],
      [await signed({ exp: Math.floor(Date.now() / 1000) - 60 }), /has expired/],
      [await token({ identity_proofing_level: 'P9' }), /not accepted/],
      ['not-a-jwt', /not a well-formed JWT/],
    ];
    for (const [t, reason] of cases) {
      const res = await arrive(sandboxUrl, t);
      assert.equal(res.status, 400, String(reason));
      assert.match(await res.text(), reason);
      assert.equal(res.headers.get('set-cookie'), null, 'no session for a refused hand-off');
    }
  });

  it('says to try again later when the platform\'s keys cannot be fetched, and signs nobody in', async () => {
    const down = await startSandbox(webConsultationSandbox, { port: 0, platformUrl: 'http://127.0.0.1:9/' });
    try {
      const res = await arrive(down.url, await signed({ audience: down.url }));
      assert.equal(res.status, 503);
      assert.match(await res.text(), /published keys could not be fetched/);
      assert.equal(res.headers.get('set-cookie'), null);
    } finally {
      await down.close();
    }
  });
});
