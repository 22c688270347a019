// Runs the GP conformance suite through every registered adapter against its sandbox over HTTP, shows it
// failing against faulty sandboxes, and shows a fifth GP system joining with new code only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { installFaults } from '../../../sandboxes/common/faults.ts';
import { startSandbox, type RunningSandbox } from '../../../sandboxes/common/server.ts';
import { sandboxes } from '../../../sandboxes/registry.ts';
import { GpWorld, WorldError, recordAccessFor, sectionVisible, type PatientRecord } from '../../../sandboxes/gp-common/gp-world.ts';
import { runSuite, type CheckResult } from '../../conformance/kit.ts';
import { createGpSuite, gpSuite } from '../../conformance/gp-suite.ts';
import { suiteFor } from '../../conformance/suites.ts';
import { SupplierPolicy } from '../resilience.ts';
import { GpDomainError, SlotUnavailableError, splitAppointments, type GpAdapterFactory, type GpErrorCode, type GpLinkage, type GpSystemAdapter } from './contract.ts';
import { gpSystems } from './registry.ts';
import { policyCalls } from './supplier-http.ts';

const systems = ['emis', 'tpp', 'vision', 'microtest'];
const failures = (results: CheckResult[]) => results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.reason}`);

describe('GP conformance suite against the four sandboxes', () => {
  const running = new Map<string, RunningSandbox>();
  before(async () => {
    for (const system of systems) {
      const def = sandboxes.find((s) => s.name === `gp-${system}`);
      assert.ok(def, `sandbox gp-${system} is registered`);
      running.set(system, await startSandbox(def, { port: 0 }));
    }
  });
  after(async () => {
    for (const r of running.values()) await r.close();
  });

  it('is registered as the gp suite for exactly the registered systems', () => {
    assert.equal(suiteFor('gp'), gpSuite);
    assert.deepEqual([...gpSuite.systems].sort(), [...systems].sort());
    assert.deepEqual(Object.keys(gpSystems).sort(), [...systems].sort());
  });

  for (const system of systems) {
    it(`passes every check through the ${system} adapter`, async () => {
      const results = await runSuite(gpSuite, { type: 'gp', system, url: running.get(system)!.url });
      assert.ok(results.length >= 25, `only ${results.length} checks`);
      assert.deepEqual(failures(results), []);
    });
  }
});

describe('GP conformance suite against faulty sandboxes', () => {
  it('fails with readable reasons when every answer is garbage (emis) or a 500 (tpp)', async () => {
    const garbage = await startSandbox(sandboxes.find((s) => s.name === 'gp-emis')!, { port: 0, faultMode: 'garbage' });
    const broken = await startSandbox(sandboxes.find((s) => s.name === 'gp-tpp')!, { port: 0, faultMode: 'error=500' });
    try {
      const g = await runSuite(gpSuite, { type: 'gp', system: 'emis', url: garbage.url });
      const linkCheck = g.find((r) => r.name.startsWith('link: first-time'))!;
      assert.equal(linkCheck.passed, false);
      assert.match(linkCheck.reason ?? '', /bad-response.*not JSON/);
      assert.ok(g.filter((r) => !r.passed).length >= 20, 'most checks fail against garbage');
      const b = await runSuite(gpSuite, { type: 'gp', system: 'tpp', url: broken.url });
      assert.ok(b.filter((r) => !r.passed).length >= 20, 'most checks fail against a 500 sandbox');
      assert.match(b.find((r) => r.name.startsWith('book: a free slot'))!.reason ?? '', /server-error/);
    } finally {
      await garbage.close();
      await broken.close();
    }
  });

  it('fails when the system answers with the wrong domain codes', async () => {
    // A sandbox in the emis dialect that says "not found" where it should say "slot already taken".
    const def = sandboxes.find((s) => s.name === 'gp-emis')!;
    const app = await def.build({});
    app.addHook('onSend', async (_req, reply, payload) => (reply.statusCode === 409 && typeof payload === 'string' && payload.includes('"ErrorCode":2001') ? payload.replace('"ErrorCode":2001', '"ErrorCode":2004') : payload));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const results = await runSuite(gpSuite, { type: 'gp', system: 'emis', url });
      const conflict = results.find((r) => r.name.startsWith('book: slot already taken'))!;
      assert.equal(conflict.passed, false);
      assert.match(conflict.reason ?? '', /expected GP error 'slot-unavailable', got GP error 'not-found'/);
    } finally {
      await app.close();
    }
  });
});

// --- a fifth GP system, added with new code only: its own sandbox, its own adapter, one registration line ----
const rpcErrors: Record<string, GpErrorCode> = {
  'no-record': 'no-record', 'online-services-disabled': 'online-services-disabled', 'not-matched': 'not-matched', unauthorised: 'linkage-invalid',
  'slot-unavailable': 'slot-unavailable', 'slot-in-past': 'slot-in-past', 'unknown-appointment-type': 'unknown-appointment-type', 'not-found': 'not-found',
  'already-cancelled': 'already-cancelled', 'appointment-in-past': 'appointment-in-past', 'not-on-repeat': 'not-on-repeat', 'too-early': 'too-early',
  'invalid-pharmacy': 'invalid-pharmacy', 'invalid-request': 'invalid-request',
};

/** The fake supplier: one JSON-RPC endpoint over the shared simulated practice. */
async function startFakeSandbox(): Promise<{ url: string; close: () => Promise<void> }> {
  const world = new GpWorld('fake');
  const app = Fastify({ logger: false, forceCloseConnections: true });
  installFaults(app, { errorBody: (status) => ({ contentType: 'application/json', body: JSON.stringify({ fault: status }) }) });
  const patientOf = (auth: { a: string; k: string; o: string }) => world.authenticate(auth.a, auth.k, auth.o);
  const ops: Record<string, (p: PatientRecord, args: Record<string, any>) => unknown> = {
    slots: (p, a) => world.searchSlots(p.odsCode, a),
    book: (p, a) => world.book(p, a.slotId, a.reason, a.key).appointment,
    cancel: (p, a) => world.cancel(p, a.id, a.reason),
    appointments: (p) => world.appointmentsFor(p),
    repeats: (p) => p.repeats.map((m) => ({ ...m, can: world.canRequest(p, m) })),
    order: (p, a) => { const r = world.requestRepeats(p, a.ids, a.note, a.key).request; return { ...r, ...world.requestStatus(r) }; },
    requests: (p) => [...p.requests].reverse().map((r) => ({ ...r, ...world.requestStatus(r) })),
    pharmacy: (p) => p.pharmacy ?? null,
    setPharmacy: (p, a) => world.setPharmacy(p, a.code),
    record: (p, a) => ({ access: recordAccessFor(p.odsCode), visible: sectionVisible(recordAccessFor(p.odsCode), a.section), rec: p }),
  };
  app.post('/rpc', async (req, reply) => {
    const { op, args, auth } = req.body as { op: string; args: Record<string, any>; auth?: { a: string; k: string; o: string } };
    try {
      if (op === 'link') { const r = world.link(args.nhsNumber, args.dateOfBirth, args.odsCode); return { result: { accountId: r.accountId, linkageKey: r.linkageKey, odsCode: r.odsCode } }; }
      return { result: await ops[op](patientOf(auth!), args) };
    } catch (err) {
      if (err instanceof WorldError) return reply.code(422).send({ error: err.code, message: err.message });
      throw err;
    }
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

const createFakeAdapter: GpAdapterFactory = ({ baseUrl, policy, extraHeaders }) => {
  const calls = policyCalls(policy);
  const rpc = async (signal: AbortSignal, op: string, args: object, l?: GpLinkage): Promise<any> => {
    const res = await fetch(`${baseUrl}/rpc`, { method: 'POST', signal, headers: { 'content-type': 'application/json', ...extraHeaders }, body: JSON.stringify({ op, args, auth: l && { a: l.accountId, k: l.linkageKey, o: l.odsCode } }) });
    const text = await res.text();
    let body: any;
    try { body = JSON.parse(text); } catch { throw new (await import('../resilience.ts')).SupplierUnavailableError('fake', 'bad-response', 'fake: not JSON'); }
    if (res.status >= 500) throw new (await import('../resilience.ts')).SupplierUnavailableError('fake', 'server-error');
    if (body.error) throw body.error === 'slot-unavailable' ? new SlotUnavailableError(body.message) : new GpDomainError(rpcErrors[body.error], body.message);
    return body.result;
  };
  const appt = (a: any) => ({ id: a.id, start: a.start, end: a.end, appointmentType: a.type, clinician: a.clinician, mode: a.mode, reason: a.reason, status: a.status, cancellationReason: a.cancellationReason });
  const request = (p: any) => (r: any) => ({ id: r.id, requestedAt: new Date(r.requestedAt).toISOString(), status: r.status, rejectionReason: r.rejectionReason, note: r.note, items: r.medicationIds.map((id: string) => ({ medicationId: id, name: 'x', dmdCode: p?.find?.((m: any) => m.id === id)?.dmdCode ?? '320030001' })) });
  const sct = (x: any, system = 'http://snomed.info/sct') => ({ system, code: x.code, display: x.term });
  const adapter: GpSystemAdapter = {
    system: 'fake',
    link: (r) => calls.write(async (s) => ({ ...(await rpc(s, 'link', r)), nhsNumber: r.nhsNumber })),
    searchSlots: (l, q) => calls.read(async (s) => (await rpc(s, 'slots', { from: q.from, to: q.to, type: q.appointmentType, clinician: q.clinician, mode: q.mode }, l)).map((x: any) => ({ id: x.id, start: x.start, end: x.end, appointmentType: x.type, clinician: x.clinician, mode: x.mode }))),
    book: (l, b, key) => calls.write(async (s) => appt(await rpc(s, 'book', { ...b, key }, l))),
    cancel: (l, id, reason) => calls.write(async (s) => appt(await rpc(s, 'cancel', { id, reason }, l))),
    listAppointments: (l) => calls.read(async (s) => splitAppointments((await rpc(s, 'appointments', {}, l)).map(appt))),
    listRepeats: (l) => calls.read(async (s) => (await rpc(s, 'repeats', {}, l)).map((m: any) => ({ id: m.id, name: m.name, dose: m.dose, dmdCode: m.dmdCode, lastIssued: m.lastIssued, canRequestNow: m.can.ok }))),
    requestRepeats: (l, r, key) => calls.write(async (s) => request(undefined)(await rpc(s, 'order', { ids: r.medicationIds, note: r.note, key }, l))),
    listRequests: (l) => calls.read(async (s) => (await rpc(s, 'requests', {}, l)).map(request(undefined))),
    getNominatedPharmacy: (l) => calls.read(async (s) => (await rpc(s, 'pharmacy', {}, l)) ?? undefined),
    setNominatedPharmacy: (l, code) => calls.write(async (s) => rpc(s, 'setPharmacy', { code }, l)),
    getRecord: (l, section) => calls.read(async (s) => {
      const { access, visible, rec } = await rpc(s, 'record', { section }, l);
      const entries = !visible ? [] : {
        allergies: () => rec.allergies.map((a: any) => ({ code: sct(a), recordedDate: a.recorded })),
        medications: () => rec.medications.map((m: any) => ({ code: sct(m, 'https://dmd.nhs.uk'), status: m.status })),
        problems: () => rec.problems.map((p: any) => ({ code: sct(p), status: p.status })),
        immunisations: () => rec.immunisations.map((i: any) => ({ code: sct(i), date: i.date })),
        'test-results': () => rec.results.map((r: any) => ({ code: sct(r), date: r.date, value: r.value, unit: r.unit, referenceRange: { low: r.low, high: r.high } })),
        consultations: () => rec.consultations.map((c: any) => ({ date: c.date, type: c.type, summary: c.summary, codes: c.codes.map((x: any) => sct(x)) })),
      }[section]();
      return { section, access, visible, entries };
    }),
  };
  return adapter;
};

describe('adding a fifth GP system', () => {
  it('needs only its own sandbox, its own adapter and one registration line', async () => {
    const fake = await startFakeSandbox();
    try {
      const registry = { ...gpSystems, fake: createFakeAdapter };
      const suite = createGpSuite(registry);
      assert.ok(suite.systems.includes('fake'));
      assert.ok(!('fake' in gpSystems), 'the real registry is untouched');
      const results = await runSuite(suite, { type: 'gp', system: 'fake', url: fake.url });
      assert.deepEqual(failures(results), []);
      // The same adapter is usable by the platform the way any registered one is.
      const adapter = registry.fake({ baseUrl: fake.url, policy: new SupplierPolicy('fake') });
      await assert.rejects(adapter.link({ nhsNumber: '9990079196', dateOfBirth: '1984-03-12', odsCode: 'E83003' }), (e: unknown) => e instanceof GpDomainError && e.code === 'no-record');
    } finally {
      await fake.close();
    }
  });
});
