// The national agency conformance suite (PDS-style demographics, organ donation register, contact preferences):
// CI's contract test for our adapters and sandboxes, and the assurance kit an agency runs against its endpoint.
import { request } from 'undici';
import { SupplierDomainError, SupplierPolicy, SupplierUnavailableError } from '../integrations/resilience.ts';
import type { ContactChannel, ContactPreferencesService } from '../integrations/national/contact-preferences.ts';
import { DemographicsError, type DemographicsService } from '../integrations/national/demographics.ts';
import { newRequestId } from '../integrations/national/http.ts';
import type { OrganDonationService } from '../integrations/national/organ-donation.ts';
import { contactPreferencesAdapters, demographicsAdapters, nationalSystems, organDonationAdapters } from '../integrations/national/registry.ts';
import type { ConformanceCheck, ConformanceSuite, ConformanceTarget } from './kit.ts';

/** The assurance test pack: people every national agency under test holds (the sandboxes load them from demo/people.json). */
export const nationalTestPeople = {
  pds: '9990079196',
  'organ-donation': '9990237573',
  'contact-preferences': '9990316767',
  /** Valid by modulus 11 but held by no agency. */
  unknown: '9434765919',
  /** Fails the modulus 11 check. */
  invalid: '9990079197',
};

/** Fault checks: the adapter must give up within this, plus a margin. */
const FAULT_TIMEOUT_MS = 300;

class CheckFailed extends Error {}
function ensure(ok: unknown, reason: string): asserts ok {
  if (!ok) throw new CheckFailed(reason);
}
function describe(err: unknown): string {
  if (err instanceof SupplierDomainError) return `agency error '${err.code}' (${err.message})`;
  if (err instanceof SupplierUnavailableError) return `agency unavailable: ${err.reason} (${err.message})`;
  return `${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`;
}
async function step<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    throw new CheckFailed(`${what} failed: ${describe(err)}`);
  }
}
async function expectDomain<E extends SupplierDomainError>(p: Promise<unknown>, code: string): Promise<E> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SupplierDomainError && err.code === code) return err as E;
    throw new CheckFailed(`expected agency error '${code}', got ${describe(err)}`);
  }
  throw new CheckFailed(`expected agency error '${code}', but the call succeeded`);
}
async function expectUnavailable(p: Promise<unknown>, reasons: string[]): Promise<SupplierUnavailableError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SupplierUnavailableError && reasons.includes(err.reason)) return err;
    throw new CheckFailed(`expected agency unavailable (${reasons.join(' or ')}), got ${describe(err)}`);
  }
  throw new CheckFailed(`expected agency unavailable (${reasons.join(' or ')}), but the call succeeded`);
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw call for protocol checks the adapter deliberately never makes (no If-Match, an unguarded remove…). */
async function raw(target: ConformanceTarget, method: 'GET' | 'PATCH', path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await request(new URL(target.url.replace(/\/+$/, '') + path), {
    method,
    headers: { accept: 'application/fhir+json', ...(body !== undefined ? { 'content-type': 'application/json-patch+json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await res.body.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { throw new CheckFailed(`${method} ${path} answered ${res.statusCode} with a body that is not JSON`); }
  return { status: res.statusCode, headers: res.headers, json: json as Record<string, unknown> | undefined };
}
function spineCode(body: unknown): string | undefined {
  const issue = (body as { issue?: { details?: { coding?: { code?: string }[] } }[] } | undefined)?.issue?.[0];
  return issue?.details?.coding?.[0]?.code;
}

function adapters<S>(factories: Record<string, (o: { baseUrl: string; policy: SupplierPolicy; extraHeaders?: Record<string, string> }) => S>, target: ConformanceTarget) {
  const factory = factories[target.system];
  if (!factory) throw new CheckFailed(`no adapter for ${target.system}`);
  return {
    // A fresh policy per check: one failing check never opens the breaker for the next.
    healthy: () => factory({ baseUrl: target.url, policy: new SupplierPolicy(target.system, { timeoutMs: 3000, readRetries: 1, breakAfter: 1000 }) }),
    faulty: (fault: string, timeoutMs = FAULT_TIMEOUT_MS) => factory({ baseUrl: target.url, policy: new SupplierPolicy(target.system, { timeoutMs, readRetries: 1, breakAfter: 1000 }), extraHeaders: { 'X-Sandbox-Fault': fault } }),
  };
}

function faultChecks(get: (fault: string) => Promise<unknown>): ConformanceCheck[] {
  return [
    {
      name: 'fault: timeout is reported within bound',
      async run() {
        const started = performance.now();
        await expectUnavailable(get('timeout'), ['timeout']);
        const ms = performance.now() - started;
        // One read retry is allowed: two attempts plus backoff.
        ensure(ms < FAULT_TIMEOUT_MS * 2 + 1000, `gave up only after ${Math.round(ms)} ms`);
      },
    },
    { name: 'fault: malformed body is bad-response', run: async () => { await expectUnavailable(get('garbage'), ['bad-response']); } },
    { name: 'fault: 5xx is server-error', run: async () => { await expectUnavailable(get('error=500'), ['server-error']); } },
  ];
}

function pdsChecks(target: ConformanceTarget): ConformanceCheck[] {
  const nhs = nationalTestPeople.pds;
  const { healthy, faulty } = adapters<DemographicsService>(demographicsAdapters, target);
  const fresh = () => step('reading the patient', healthy().get(nhs));
  return [
    {
      name: 'read: Patient with weak ETag version',
      async run() {
        const r = await step('GET /Patient', raw(target, 'GET', `/Patient/${nhs}`));
        ensure(r.status === 200, `GET /Patient/${nhs} answered ${r.status}`);
        ensure(/^W\/"\d+"$/.test(String(r.headers.etag ?? '')), `ETag "${String(r.headers.etag)}" is not W/"n"`);
        ensure(r.json?.resourceType === 'Patient', 'the body is not a Patient');
        const rec = await fresh();
        ensure(rec.nhsNumber === nhs, `record is for ${rec.nhsNumber}, not ${nhs}`);
        ensure(rec.name.family && rec.birthDate && rec.gpOdsCode && rec.homeAddress, 'name, birth date, GP ODS code or home address missing');
      },
    },
    {
      name: 'read: invalid NHS number is 400, unknown is 404',
      async run() {
        await expectDomain(healthy().get(nationalTestPeople.invalid), 'invalid');
        await expectDomain(healthy().get(nationalTestPeople.unknown), 'not-found');
        const r = await step('GET unknown', raw(target, 'GET', `/Patient/${nationalTestPeople.unknown}`));
        ensure(r.status === 404 && r.json?.resourceType === 'OperationOutcome', `unknown patient answered ${r.status} without an OperationOutcome`);
      },
    },
    {
      name: 'update: allowed change applied, version bumped',
      async run() {
        const before = await fresh();
        const email = `conformance.${Date.now().toString(36)}@example.com`;
        const after = await step('update email', healthy().update(nhs, { expectedVersion: before.version, requestId: newRequestId(), changes: [{ kind: 'email', value: email }] }));
        ensure(after.version === before.version + 1, `version went from ${before.version} to ${after.version}`);
        ensure(after.email === email, `email is ${after.email}, not ${email}`);
      },
    },
    {
      name: 'update: missing If-Match is 412',
      async run() {
        const r = await step('PATCH without If-Match', raw(target, 'PATCH', `/Patient/${nhs}`, {}, [{ op: 'replace', path: '/telecom/0/value', value: '07700900000' }]));
        ensure(r.status === 412, `answered ${r.status}, not 412`);
        ensure(r.json?.resourceType === 'OperationOutcome', 'no OperationOutcome');
      },
    },
    {
      name: 'update: stale version is 409, adapter gives current record',
      async run() {
        const rec = await fresh();
        const r = await step('PATCH stale', raw(target, 'PATCH', `/Patient/${nhs}`, { 'If-Match': `W/"${rec.version + 7}"` }, [{ op: 'test', path: '/id', value: nhs }]));
        ensure(r.status === 409, `answered ${r.status}, not 409`);
        ensure(spineCode(r.json), 'the 409 OperationOutcome has no error code');
        const e = await expectDomain<DemographicsError>(healthy().update(nhs, { expectedVersion: rec.version - 1, requestId: newRequestId(), changes: [{ kind: 'mobile', value: '07700900001' }] }), 'version-conflict');
        ensure(e.info.current?.version === rec.version, `conflict carried version ${e.info.current?.version}, the record is at ${rec.version}`);
      },
    },
    {
      name: 'update: disallowed path refused, names who can change it, nothing applied',
      async run() {
        const rec = await fresh();
        const e = await expectDomain<DemographicsError>(healthy().update(nhs, { expectedVersion: rec.version, requestId: newRequestId(), changes: [{ kind: 'mobile', value: '07700900002' }, { kind: 'restricted', field: 'name', value: { given: ['X'], family: 'Y' } }] }), 'not-allowed');
        ensure(/name/i.test(e.info.path ?? ''), `refusal names path "${e.info.path}", not the name`);
        ensure(e.info.whoCanChange, 'refusal does not say who can change it');
        const now = await fresh();
        ensure(now.version === rec.version && now.mobile === rec.mobile, 'part of a refused patch was applied');
      },
    },
    {
      name: 'update: list removal must be preceded by a test',
      async run() {
        const rec = await fresh();
        const temp = { id: `conf-${Date.now().toString(36)}`, use: 'temp', line: ['1 Test Row'], postalCode: 'LS17 7DF', period: { start: '2026-01-01', end: '2026-02-01' } };
        const added = await step('add temporary address', raw(target, 'PATCH', `/Patient/${nhs}`, { 'If-Match': `W/"${rec.version}"` }, [{ op: 'add', path: '/address/-', value: temp }]));
        ensure(added.status === 200, `adding a temporary address answered ${added.status}`);
        const index = (added.json?.address as unknown[]).length - 1;
        const etag = String(added.headers.etag);
        const bare = await step('unguarded remove', raw(target, 'PATCH', `/Patient/${nhs}`, { 'If-Match': etag }, [{ op: 'remove', path: `/address/${index}` }]));
        ensure(bare.status === 400, `a remove without a test answered ${bare.status}, not 400`);
        const guarded = await step('guarded remove', raw(target, 'PATCH', `/Patient/${nhs}`, { 'If-Match': etag }, [{ op: 'test', path: `/address/${index}/id`, value: temp.id }, { op: 'remove', path: `/address/${index}` }]));
        ensure(guarded.status === 200, `a remove after a test answered ${guarded.status}`);
      },
    },
    {
      name: 'update: temporary address over 90 days refused',
      async run() {
        const rec = await fresh();
        await expectDomain(healthy().update(nhs, { expectedVersion: rec.version, requestId: newRequestId(), changes: [{ kind: 'temporary-address', address: { lines: ['2 Long Stay'], postcode: 'LS17 7DF' }, from: '2026-01-01', to: '2026-06-01' }] }), 'invalid');
      },
    },
    {
      name: 'idempotency: retry with same request id applied once',
      async run() {
        const rec = await fresh();
        const update = { expectedVersion: rec.version, requestId: newRequestId(), changes: [{ kind: 'mobile' as const, value: `077009${String(Date.now() % 100000).padStart(5, '0')}` }] };
        const first = await step('first send', healthy().update(nhs, update));
        const retry = await step('retry', healthy().update(nhs, update));
        ensure(retry.version === first.version, `retry answered version ${retry.version}, first ${first.version}`);
        const now = await fresh();
        ensure(now.version === rec.version + 1, `version moved from ${rec.version} to ${now.version}: applied more than once`);
      },
    },
    {
      name: 'reconcile: late answer read back as applied',
      async run() {
        const rec = await fresh();
        const update = { expectedVersion: rec.version, requestId: newRequestId(), changes: [{ kind: 'language' as const, code: rec.language?.code === 'cy' ? 'en' : 'cy' }] };
        await expectUnavailable(faulty(`late-answer=${FAULT_TIMEOUT_MS * 2}`).update(nhs, update), ['timeout']);
        await pause(FAULT_TIMEOUT_MS * 2);
        const r = await step('reconcile', healthy().reconcile(nhs, update));
        ensure(r.outcome === 'applied', `reconcile said ${r.outcome}`);
      },
    },
    {
      name: 'slow request is 503 with Retry-After',
      async run() {
        const r = await step('GET slow', raw(target, 'GET', `/Patient/${nhs}`, { 'X-Sandbox-Fault': 'slow' }));
        ensure(r.status === 503, `answered ${r.status}, not 503`);
        ensure(r.headers['retry-after'], 'no Retry-After header');
      },
    },
    ...faultChecks((fault) => faulty(fault).get(nhs)),
  ];
}

function organDonationChecks(target: ConformanceTarget): ConformanceCheck[] {
  const nhs = nationalTestPeople['organ-donation'];
  const { healthy, faulty } = adapters<OrganDonationService>(organDonationAdapters, target);
  const fresh = () => step('reading the decision', healthy().get(nhs));
  const optIn = { kind: 'opt-in' as const, organs: { heart: 'yes' as const, corneas: 'no' as const }, faithDeclaration: 'no' as const };
  return [
    {
      name: 'read: decision with version, reference lists',
      async run() {
        const rec = await fresh();
        ensure(rec.nhsNumber === nhs && Number.isInteger(rec.version), 'record lacks NHS number or version');
        const refs = await step('reference data', healthy().referenceData());
        ensure(refs.ethnicities.length > 0 && refs.religions.length > 0, 'reference lists are empty');
        await expectDomain(healthy().get(nationalTestPeople.invalid), 'invalid');
      },
    },
    {
      name: 'record opt-in per organ, then amend to opt-out',
      async run() {
        const rec = await fresh();
        const a = await step('record opt-in', healthy().change(nhs, { action: 'record', expectedVersion: rec.version, requestId: newRequestId(), decision: optIn }));
        ensure(a.version === rec.version + 1 && a.decision?.kind === 'opt-in', 'opt-in not recorded as a new version');
        ensure(a.decision.kind === 'opt-in' && a.decision.organs !== 'all' && a.decision.organs.heart === 'yes' && a.decision.organs.corneas === 'no', 'organ choices not kept');
        const b = await step('amend to opt-out', healthy().change(nhs, { action: 'record', expectedVersion: a.version, requestId: newRequestId(), decision: { kind: 'opt-out' } }));
        ensure(b.decision?.kind === 'opt-out', 'amendment not applied');
        const h = await step('history', healthy().history(nhs));
        ensure(h.at(-1)?.action === 'amended' && h.at(-1)?.version === b.version, 'history does not end with the amendment');
      },
    },
    {
      name: 'reaffirm bumps version',
      async run() {
        let rec = await fresh();
        if (!rec.decision) rec = await step('record', healthy().change(nhs, { action: 'record', expectedVersion: rec.version, requestId: newRequestId(), decision: { kind: 'opt-out' } }));
        const r = await step('reaffirm', healthy().change(nhs, { action: 'reaffirm', expectedVersion: rec.version, requestId: newRequestId() }));
        ensure(r.version === rec.version + 1 && r.decision, 'reaffirm did not make a new version of the same decision');
      },
    },
    {
      name: 'withdraw leaves no decision (not an opt-out)',
      async run() {
        let rec = await fresh();
        if (!rec.decision) rec = await step('record', healthy().change(nhs, { action: 'record', expectedVersion: rec.version, requestId: newRequestId(), decision: { kind: 'opt-out' } }));
        await expectDomain(healthy().change(nhs, { action: 'withdraw', expectedVersion: rec.version, requestId: newRequestId(), reason: '' }), 'invalid');
        const w = await step('withdraw', healthy().change(nhs, { action: 'withdraw', expectedVersion: rec.version, requestId: newRequestId(), reason: 'conformance' }));
        ensure(w.decision === null, `after withdrawal the register holds ${JSON.stringify(w.decision)}`);
        const h = await step('history', healthy().history(nhs));
        ensure(h.at(-1)?.action === 'withdrawn' && h.at(-1)?.withdrawalReason === 'conformance', 'history does not record the withdrawal and its reason');
      },
    },
    {
      name: 'stale version is a conflict carrying the current decision',
      async run() {
        const rec = await fresh();
        const e = await expectDomain<SupplierDomainError & { info: { current?: { version: number } } }>(healthy().change(nhs, { action: 'record', expectedVersion: rec.version + 3, requestId: newRequestId(), decision: { kind: 'opt-out' } }), 'version-conflict');
        ensure(e.info.current?.version === rec.version, 'conflict does not carry what the register holds');
      },
    },
    {
      name: 'unknown organ and missing faith declaration refused precisely',
      async run() {
        const rec = await fresh();
        const organs = { spleen: 'yes' } as unknown as Record<'heart', 'yes'>;
        const e = await expectDomain<SupplierDomainError & { info: { field?: string } }>(healthy().change(nhs, { action: 'record', expectedVersion: rec.version, requestId: newRequestId(), decision: { kind: 'opt-in', organs, faithDeclaration: 'no' } }), 'invalid');
        ensure(/spleen/i.test(`${e.info.field} ${e.message}`), `refusal does not name the organ: ${e.message}`);
        const noFaith = { kind: 'opt-in', organs: 'all' } as unknown as typeof optIn;
        await expectDomain(healthy().change(nhs, { action: 'record', expectedVersion: rec.version, requestId: newRequestId(), decision: noFaith }), 'invalid');
      },
    },
    {
      name: 'idempotency: retry with same request id applied once',
      async run() {
        const rec = await fresh();
        const intent = { action: 'record' as const, expectedVersion: rec.version, requestId: newRequestId(), decision: optIn };
        const a = await step('first send', healthy().change(nhs, intent));
        const b = await step('retry', healthy().change(nhs, intent));
        ensure(a.version === b.version && (await fresh()).version === rec.version + 1, 'the retry was applied again');
      },
    },
    {
      name: 'reconcile: late answer read back as applied',
      async run() {
        const rec = await fresh();
        const intent = { action: 'record' as const, expectedVersion: rec.version, requestId: newRequestId(), decision: rec.decision?.kind === 'opt-out' ? optIn : { kind: 'opt-out' as const } };
        await expectUnavailable(faulty(`late-answer=${FAULT_TIMEOUT_MS * 2}`).change(nhs, intent), ['timeout']);
        await pause(FAULT_TIMEOUT_MS * 2);
        const r = await step('reconcile', healthy().reconcile(nhs, intent));
        ensure(r.outcome === 'applied', `reconcile said ${r.outcome}`);
      },
    },
    ...faultChecks((fault) => faulty(fault).get(nhs)),
  ];
}

function contactPreferencesChecks(target: ConformanceTarget): ConformanceCheck[] {
  const nhs = nationalTestPeople['contact-preferences'];
  const { healthy, faulty } = adapters<ContactPreferencesService>(contactPreferencesAdapters, target);
  const fresh = () => step('reading preferences', healthy().get(nhs));
  return [
    {
      name: 'read: preferences with version',
      async run() {
        const p = await fresh();
        ensure(p.nhsNumber === nhs && Number.isInteger(p.version) && p.channels.length > 0, 'preferences lack NHS number, version or channels');
        await expectDomain(healthy().get(nationalTestPeople.unknown), 'not-found');
      },
    },
    {
      name: 'set channels and quiet hours',
      async run() {
        const p = await fresh();
        const q = await step('set', healthy().change(nhs, { action: 'set-preferences', expectedVersion: p.version, requestId: newRequestId(), channels: ['email', 'sms'], quietHours: { start: '21:00', end: '08:00' } }));
        ensure(q.version === p.version + 1 && q.channels.includes('email') && q.quietHours?.start === '21:00', 'preferences not applied as a new version');
      },
    },
    {
      name: 'data opt-out change kept in history',
      async run() {
        const p = await fresh();
        const q = await step('set opt-out', healthy().change(nhs, { action: 'set-data-opt-out', expectedVersion: p.version, requestId: newRequestId(), optedOut: !p.dataOptOut.optedOut }));
        ensure(q.dataOptOut.optedOut === !p.dataOptOut.optedOut, 'opt-out not changed');
        const h = await step('history', healthy().history(nhs));
        ensure(h.at(-1)?.kind === 'data-opt-out' && h.at(-1)?.optedOut === q.dataOptOut.optedOut, 'history does not end with the opt-out change');
      },
    },
    {
      name: 'stale version is a conflict carrying current preferences',
      async run() {
        const p = await fresh();
        const e = await expectDomain<SupplierDomainError & { info: { current?: { version: number } } }>(healthy().change(nhs, { action: 'set-data-opt-out', expectedVersion: p.version + 2, requestId: newRequestId(), optedOut: true }), 'version-conflict');
        ensure(e.info.current?.version === p.version, 'conflict does not carry current preferences');
      },
    },
    {
      name: 'unknown channel and bad quiet hours refused',
      async run() {
        const p = await fresh();
        await expectDomain(healthy().change(nhs, { action: 'set-preferences', expectedVersion: p.version, requestId: newRequestId(), channels: ['pigeon' as ContactChannel], quietHours: null }), 'invalid');
        await expectDomain(healthy().change(nhs, { action: 'set-preferences', expectedVersion: p.version, requestId: newRequestId(), channels: ['app'], quietHours: { start: '9pm', end: '08:00' } }), 'invalid');
      },
    },
    {
      name: 'idempotency: retry with same request id applied once',
      async run() {
        const p = await fresh();
        const intent = { action: 'set-data-opt-out' as const, expectedVersion: p.version, requestId: newRequestId(), optedOut: !p.dataOptOut.optedOut };
        const a = await step('first send', healthy().change(nhs, intent));
        const b = await step('retry', healthy().change(nhs, intent));
        ensure(a.version === b.version && (await fresh()).version === p.version + 1, 'the retry was applied again');
      },
    },
    {
      name: 'reconcile: late answer read back as applied',
      async run() {
        const p = await fresh();
        const intent = { action: 'set-data-opt-out' as const, expectedVersion: p.version, requestId: newRequestId(), optedOut: !p.dataOptOut.optedOut };
        await expectUnavailable(faulty(`late-answer=${FAULT_TIMEOUT_MS * 2}`).change(nhs, intent), ['timeout']);
        await pause(FAULT_TIMEOUT_MS * 2);
        const r = await step('reconcile', healthy().reconcile(nhs, intent));
        ensure(r.outcome === 'applied', `reconcile said ${r.outcome}`);
      },
    },
    ...faultChecks((fault) => faulty(fault).get(nhs)),
  ];
}

export const nationalSuite: ConformanceSuite = {
  type: 'national',
  systems: [...nationalSystems],
  checks(target) {
    switch (target.system) {
      case 'pds': return pdsChecks(target);
      case 'organ-donation': return organDonationChecks(target);
      case 'contact-preferences': return contactPreferencesChecks(target);
      default: return [{ name: 'system is known', run: async () => { throw new CheckFailed(`unknown national system "${target.system}"`); } }];
    }
  },
};
