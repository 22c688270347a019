// The web conformance suite, over HTTP, passes against the healthy web-consultation sandbox and fails with
// readable reasons against each of its faulty modes; given the platform's hand-off signer (as the pipeline
// gives it), it also shows a service that does not verify signatures failing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { startSandbox, type RunningSandbox } from '../../sandboxes/common/server.ts';
import { HandoffSigner } from '../identity/handoff.ts';
import { newSigningJwk } from '../identity/keys.ts';
import { HANDOFF_JWKS_PATH, webConsultationSandbox } from '../../sandboxes/web-consultation/sandbox.ts';
import { formatTable, runSuite, type CheckResult } from './kit.ts';
import { suiteFor } from './suites.ts';
import { PAGE_BOUND_MS, webSuite } from './web-suite.ts';

const modes = ['', 'inaccessible', 'no-sso', 'insecure', 'soft-404', 'garbage', 'error=503', `delay=${PAGE_BOUND_MS + 500}`] as const;
const running: RunningSandbox[] = [];
const results = new Map<string, CheckResult[]>();

// Every mode runs at once: the slow one (each check waits out the page bound) sets the test's length.
before(async () => {
  await Promise.all(modes.map(async (mode) => {
    const s = await startSandbox(webConsultationSandbox, { port: 0, faultMode: mode || undefined });
    running.push(s);
    results.set(mode, await runSuite(webSuite, { type: 'web', system: 'web-consultation', url: `${s.url}/` }));
  }));
});
after(async () => {
  await Promise.all(running.map((s) => s.close()));
});

const byName = (mode: string) => new Map(results.get(mode)!.map((r) => [r.name, r]));
const failedNames = (mode: string) => results.get(mode)!.filter((r) => !r.passed).map((r) => r.name);
const reasonOf = (mode: string, prefix: string) => [...byName(mode).values()].find((r) => r.name.startsWith(prefix))?.reason ?? '';

describe('web conformance suite', () => {
  it('is registered under type web for web-consultation and any web integration', () => {
    assert.equal(suiteFor('web'), webSuite);
    assert.deepEqual(webSuite.systems, ['web-consultation', 'any']);
  });

  it('passes every check against the healthy sandbox', () => {
    const r = results.get('')!;
    assert.ok(r.length >= 10, `only ${r.length} checks`);
    assert.ok(r.every((x) => x.passed), formatTable(r));
  });

  it('inaccessible mode fails only the accessibility check, naming unlabelled controls and images without alt text', () => {
    assert.deepEqual(failedNames('inaccessible'), ['accessibility basics: labelled controls, image alt text, lang and title'], formatTable(results.get('inaccessible')!));
    const reason = reasonOf('inaccessible', 'accessibility');
    assert.match(reason, /has no label/);
    assert.match(reason, /logo\.svg has no alt text/);
  });

  it('no-sso mode fails the hand-off check because it asks the user to sign in again', () => {
    const failed = failedNames('no-sso');
    assert.ok(failed.includes('single sign-on: assertedLoginIdentity lands on the service without a second login'), formatTable(results.get('no-sso')!));
    assert.ok(failed.some((n) => n.startsWith('journey')));
    assert.match(reasonOf('no-sso', 'single sign-on: assertedLoginIdentity lands'), /asked the user to sign in again .*password field/);
    assert.ok(byName('no-sso').get('health endpoint answers')!.passed);
  });

  it('insecure mode fails the security header and allowed-host checks, naming headers and addresses', () => {
    assert.deepEqual(failedNames('insecure'), ['security headers: framing restricted and nosniff on every page', 'links, images and forms use HTTPS and allowed hosts only'], formatTable(results.get('insecure')!));
    assert.match(reasonOf('insecure', 'security headers'), /no Content-Security-Policy frame-ancestors and no X-Frame-Options.*no X-Content-Type-Options: nosniff/);
    assert.match(reasonOf('insecure', 'links'), /image http:\/\/cdn\.triagepoint\.example\/banner\.png is plain HTTP to a host that is not allowed/);
  });

  it('soft-404 mode fails the 404 check', () => {
    assert.deepEqual(failedNames('soft-404'), ['an unknown page is a proper 404 page']);
    assert.match(reasonOf('soft-404', 'an unknown page'), /answered 200 \(a "soft 404"/);
  });

  it('garbage, 5xx and slow modes fail every check with the reason', () => {
    const expect: [string, RegExp][] = [['garbage', /not text\/html|not JSON/], ['error=503', /answered 503/], [`delay=${PAGE_BOUND_MS + 500}`, new RegExp(`no answer within ${PAGE_BOUND_MS} ms`)]];
    for (const [mode, reason] of expect) {
      const r = results.get(mode)!;
      assert.ok(r.every((x) => !x.passed && reason.test(x.reason ?? '')), `${mode}:\n${formatTable(r)}`);
    }
  });
});

describe('web conformance suite with the platform\'s hand-off signer', () => {
  // A stand-in platform: the real hand-off signer with its own key, publishing the public half as Front Door does.
  const platform = Fastify();
  let signer: HandoffSigner;
  const checked = new Map<'verifying' | 'sandpit', CheckResult[]>();
  const sandboxes: RunningSandbox[] = [];
  before(async () => {
    platform.get(HANDOFF_JWKS_PATH, async () => signer.jwks());
    const platformUrl = await platform.listen({ port: 0, host: '127.0.0.1' });
    signer = await HandoffSigner.withKey(await newSigningJwk(), platformUrl);
    const handOff = (audience: string) => signer.sign({ sub: 'assurance-test-user', identityLevel: 'P9' }, audience);
    for (const [name, opts] of [['verifying', { platformUrl }], ['sandpit', {}]] as const) {
      const s = await startSandbox(webConsultationSandbox, { port: 0, ...opts });
      sandboxes.push(s);
      checked.set(name, await runSuite(webSuite, { type: 'web', system: 'web-consultation', url: `${s.url}/`, handOff }));
    }
  });
  after(async () => {
    await Promise.all(sandboxes.map((s) => s.close()));
    await platform.close();
  });
  const forged = 'single sign-on: an assertedLoginIdentity token not signed by the NHS App is refused';
  const reused = 'single sign-on: an assertedLoginIdentity token used a second time is refused';

  it('signs in with the platform\'s tokens and passes every check, forged and reused tokens included, against a verifying service', () => {
    const r = checked.get('verifying')!;
    assert.ok(r.every((x) => x.passed), formatTable(r));
    assert.ok([forged, reused].every((n) => r.some((x) => x.name === n)), formatTable(r));
  });

  it('fails a service that checks only the token\'s shape, saying a forged token signed the user in', () => {
    const r = checked.get('sandpit')!;
    assert.deepEqual(r.filter((x) => !x.passed).map((x) => x.name), [forged], formatTable(r));
    assert.match(r.find((x) => x.name === forged)!.reason ?? '', /a token signed with a key the NHS App never published signed the user in: it landed on 'Get help with anxiety or worry/);
  });

  it('leaves those two checks out without a signer (the command line has no platform key)', () => {
    assert.ok(!results.get('')!.some((x) => x.name === forged || x.name === reused));
  });
});
