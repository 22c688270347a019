// The GP system conformance suite: the same checks, through the named system's adapter, against any endpoint.
// It is CI's contract test for our adapters and sandboxes, and the assurance kit a GP supplier runs.
import { SupplierPolicy, SupplierUnavailableError } from '../integrations/resilience.ts';
import {
  DMD, GpDomainError, SNOMED, SlotUnavailableError, appointmentModes, recordSections,
  type GpAdapterFactory, type GpAppointment, type GpLinkage, type GpSlot, type GpSystemAdapter, type LinkRequest, type RecordSection,
} from '../integrations/gp/contract.ts';
import { gpSystems } from '../integrations/gp/registry.ts';
import type { ConformanceCheck, ConformanceSuite, ConformanceTarget } from './kit.ts';

/** The assurance test pack: patients every GP system under test holds (the sandboxes load them from demo/people.json). */
export const gpTestPatients = {
  main: { nhsNumber: '9990079196', dateOfBirth: '1984-03-12', odsCode: 'A81001' },
  other: { nhsNumber: '9990237573', dateOfBirth: '1958-11-02', odsCode: 'E83003' },
  offline: { nhsNumber: '9990000018', dateOfBirth: '1970-04-04', odsCode: 'A81001' },
  /** Registered at a practice whose record-access setting is "summary" (allergies and medications only). */
  summary: { nhsNumber: '9990316767', dateOfBirth: '1992-07-21', odsCode: 'C81058' },
} satisfies Record<string, LinkRequest>;

const DAY = 86_400_000;
/** How long a supplier may take to be declared timed out in the fault checks. */
const FAULT_TIMEOUT_MS = 300;

class CheckFailed extends Error {}
function ensure(ok: unknown, reason: string): asserts ok {
  if (!ok) throw new CheckFailed(reason);
}
function describe(err: unknown): string {
  if (err instanceof GpDomainError) return `GP error '${err.code}' (${err.message})`;
  if (err instanceof SupplierUnavailableError) return `supplier unavailable: ${err.reason} (${err.message})`;
  return `${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`;
}
async function expectDomain(p: Promise<unknown>, code: string): Promise<GpDomainError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GpDomainError && err.code === code) return err;
    throw new CheckFailed(`expected GP error '${code}', got ${describe(err)}`);
  }
  throw new CheckFailed(`expected GP error '${code}', but the call succeeded`);
}
async function expectUnavailable(p: Promise<unknown>, reasons: string[]): Promise<SupplierUnavailableError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SupplierUnavailableError && reasons.includes(err.reason)) return err;
    throw new CheckFailed(`expected supplier unavailable (${reasons.join(' or ')}), got ${describe(err)}`);
  }
  throw new CheckFailed(`expected supplier unavailable (${reasons.join(' or ')}), but the call succeeded`);
}
/** Runs a step; an unexpected failure becomes a readable reason naming the step. */
async function step<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    throw new CheckFailed(`${what} failed: ${describe(err)}`);
  }
}
const isIso = (s: unknown) => typeof s === 'string' && !Number.isNaN(Date.parse(s));
const isConcept = (s: unknown) => typeof s === 'string' && /^\d{6,18}$/.test(s);
const key = (label: string) => `conformance-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

function checkSlot(s: GpSlot, i: number): void {
  ensure(typeof s.id === 'string' && s.id.length > 0, `slot ${i} has no id`);
  ensure(isIso(s.start) && isIso(s.end) && Date.parse(s.start) < Date.parse(s.end), `slot ${s.id} has bad times ${s.start}–${s.end}`);
  ensure(s.appointmentType && s.clinician, `slot ${s.id} lacks appointment type or clinician`);
  ensure(appointmentModes.includes(s.mode), `slot ${s.id} has unknown mode ${s.mode}`);
}
function checkAppointment(a: GpAppointment, where: string): void {
  ensure(a.id && isIso(a.start) && isIso(a.end), `${where}: appointment lacks id or times`);
  ensure(a.status === 'booked' || a.status === 'cancelled', `${where}: status ${a.status}`);
  ensure(appointmentModes.includes(a.mode), `${where}: mode ${a.mode}`);
}

/** Shared state of one run: linkages and the appointment booked are reused by later checks. */
class Run {
  readonly adapter: GpSystemAdapter;
  private linked = new Map<string, Promise<GpLinkage>>();
  booked?: { slot: GpSlot; appointment: GpAppointment; key: string };

  constructor(readonly target: ConformanceTarget, readonly factory: GpAdapterFactory) {
    this.adapter = this.adapterWith();
  }

  adapterWith(extraHeaders?: Record<string, string>, timeoutMs = 10_000): GpSystemAdapter {
    // No retries and a breaker that never opens: the kit wants each answer as it is.
    const policy = new SupplierPolicy(`conformance-${this.target.system}`, { timeoutMs, readRetries: 0, breakAfter: 1_000_000 });
    return this.factory({ baseUrl: this.target.url, policy, extraHeaders });
  }

  linkage(who: keyof typeof gpTestPatients): Promise<GpLinkage> {
    let p = this.linked.get(who);
    if (!p) {
      p = step(`linking test patient ${gpTestPatients[who].nhsNumber}`, this.adapter.link(gpTestPatients[who]));
      this.linked.set(who, p);
      p.catch(() => this.linked.delete(who));
    }
    return p;
  }

  async freeSlots(days = 14): Promise<GpSlot[]> {
    const l = await this.linkage('main');
    const now = Date.now() + 60_000;
    return step('searching slots', this.adapter.searchSlots(l, { from: new Date(now).toISOString(), to: new Date(now + days * DAY).toISOString() }));
  }

  async ensureBooked(): Promise<NonNullable<Run['booked']>> {
    if (this.booked) return this.booked;
    const l = await this.linkage('main');
    const slots = await this.freeSlots();
    ensure(slots.length > 0, 'no free slots in the next 14 days to book');
    const slot = slots[Math.floor(slots.length / 2)];
    const k = key('book');
    const appointment = await step('booking', this.adapter.book(l, { slotId: slot.id, reason: 'Conformance check: blood pressure review' }, k));
    this.booked = { slot, appointment, key: k };
    return this.booked;
  }
}

export function createGpSuite(systems: Record<string, GpAdapterFactory> = gpSystems): ConformanceSuite {
  return {
    type: 'gp',
    systems: Object.keys(systems),
    checks(target: ConformanceTarget): ConformanceCheck[] {
      const factory = systems[target.system];
      if (!factory) return [{ name: 'system is known', run: async () => { throw new CheckFailed(`no adapter for GP system "${target.system}"`); } }];
      const run = new Run(target, factory);
      const a = run.adapter;
      const check = (name: string, fn: () => Promise<void>): ConformanceCheck => ({ name, run: fn });

      const list: ConformanceCheck[] = [
        check('link: first-time linkage by NHS number and date of birth', async () => {
          const l = await run.linkage('main');
          ensure(l.accountId && l.linkageKey, 'linkage has no account id or linkage key');
          ensure(l.odsCode === gpTestPatients.main.odsCode && l.nhsNumber === gpTestPatients.main.nhsNumber, `linkage is for ${l.nhsNumber}@${l.odsCode}`);
        }),
        check('link: no record at this practice', async () => {
          await expectDomain(a.link({ ...gpTestPatients.main, odsCode: gpTestPatients.other.odsCode }), 'no-record');
        }),
        check('link: record not matched (wrong date of birth)', async () => {
          await expectDomain(a.link({ ...gpTestPatients.main, dateOfBirth: '1901-01-01' }), 'not-matched');
        }),
        check('link: online services not enabled', async () => {
          await expectDomain(a.link(gpTestPatients.offline), 'online-services-disabled');
        }),
        check('slots: search the next two weeks', async () => {
          const slots = await run.freeSlots();
          ensure(slots.length > 0, 'no free slots in the next 14 days');
          slots.forEach(checkSlot);
          ensure(new Set(slots.map((s) => s.id)).size === slots.length, 'slot ids are not unique');
          const end = Date.now() + 15 * DAY;
          ensure(slots.every((s) => Date.parse(s.start) <= end), 'slots outside the requested range');
          ensure(new Set(slots.map((s) => s.appointmentType)).size >= 2, 'fewer than two appointment types on offer');
        }),
        check('slots: filter by type, mode and clinician', async () => {
          const l = await run.linkage('main');
          const all = await run.freeSlots();
          const sample = all[0];
          ensure(sample, 'no free slots to filter');
          const from = new Date(Date.now() + 60_000).toISOString();
          const to = new Date(Date.now() + 14 * DAY).toISOString();
          const byType = await step('search by type', a.searchSlots(l, { from, to, appointmentType: sample.appointmentType }));
          ensure(byType.length > 0 && byType.every((s) => s.appointmentType === sample.appointmentType), `type filter "${sample.appointmentType}" not honoured`);
          const byMode = await step('search by mode', a.searchSlots(l, { from, to, mode: sample.mode }));
          ensure(byMode.length > 0 && byMode.every((s) => s.mode === sample.mode), `mode filter "${sample.mode}" not honoured`);
          const byClinician = await step('search by clinician', a.searchSlots(l, { from, to, clinician: sample.clinician }));
          ensure(byClinician.length > 0 && byClinician.every((s) => s.clinician === sample.clinician), `clinician filter "${sample.clinician}" not honoured`);
        }),
        check('slots: unknown appointment type rejected', async () => {
          const l = await run.linkage('main');
          await expectDomain(a.searchSlots(l, { from: new Date().toISOString(), to: new Date(Date.now() + 7 * DAY).toISOString(), appointmentType: 'Séance de spiritisme' }), 'unknown-appointment-type');
        }),
        check('book: a free slot with a reason', async () => {
          const { slot, appointment } = await run.ensureBooked();
          checkAppointment(appointment, 'booked');
          ensure(appointment.status === 'booked', `status is ${appointment.status}`);
          ensure(Date.parse(appointment.start) === Date.parse(slot.start), `appointment starts ${appointment.start}, slot ${slot.start}`);
          const after = await run.freeSlots();
          ensure(!after.some((s) => s.id === slot.id), 'the booked slot is still offered as free');
        }),
        check('book: same idempotency key books once', async () => {
          const l = await run.linkage('main');
          const { slot, appointment, key: k } = await run.ensureBooked();
          const again = await step('repeating the booking', a.book(l, { slotId: slot.id, reason: 'Conformance check: blood pressure review' }, k));
          ensure(again.id === appointment.id, `a retry with the same key gave appointment ${again.id}, first was ${appointment.id}`);
          const listed = await step('listing appointments', a.listAppointments(l));
          const matches = [...listed.upcoming, ...listed.past].filter((x) => Date.parse(x.start) === Date.parse(slot.start) && x.status === 'booked');
          ensure(matches.length === 1, `found ${matches.length} booked appointments for the slot`);
        }),
        check('book: slot already taken gives slot-unavailable with fresh slots', async () => {
          const l = await run.linkage('main');
          const { slot } = await run.ensureBooked();
          const err = await expectDomain(a.book(l, { slotId: slot.id, reason: 'Conformance check: second booking' }, key('conflict')), 'slot-unavailable');
          ensure(err instanceof SlotUnavailableError, 'slot-unavailable is not a SlotUnavailableError');
          ensure(Array.isArray(err.freshSlots) && !err.freshSlots.some((s) => s.id === slot.id), 'fresh slots include the slot that has gone');
        }),
        check('book: slot in the past rejected', async () => {
          const l = await run.linkage('main');
          const past = await step('searching past slots', a.searchSlots(l, { from: new Date(Date.now() - 7 * DAY).toISOString(), to: new Date(Date.now() - 3_600_000).toISOString() }));
          ensure(past.length > 0, 'the system offers no past slots to try (search of the last week returned none)');
          await expectDomain(a.book(l, { slotId: past[0].id, reason: 'Conformance check: past slot' }, key('past')), 'slot-in-past');
        }),
        check("appointments: another patient's appointment is not found", async () => {
          const { appointment } = await run.ensureBooked();
          const other = await run.linkage('other');
          await expectDomain(a.cancel(other, appointment.id, 'Not mine'), 'not-found');
        }),
        check('cancel: with a reason, and cancelling again rejected', async () => {
          const l = await run.linkage('main');
          const { appointment } = await run.ensureBooked();
          const cancelled = await step('cancelling', a.cancel(l, appointment.id, 'Conformance check: no longer needed'));
          ensure(cancelled.id === appointment.id && cancelled.status === 'cancelled', `cancel answered status ${cancelled.status}`);
          ensure(cancelled.cancellationReason === 'Conformance check: no longer needed', `the cancellation reason was not kept (got ${JSON.stringify(cancelled.cancellationReason)})`);
          await expectDomain(a.cancel(l, appointment.id, 'again'), 'already-cancelled');
        }),
        check('appointments: upcoming and past listed', async () => {
          const l = await run.linkage('main');
          const list = await step('listing appointments', a.listAppointments(l));
          list.upcoming.forEach((x, i) => checkAppointment(x, `upcoming[${i}]`));
          list.past.forEach((x, i) => checkAppointment(x, `past[${i}]`));
          ensure(list.past.length > 0, 'no past appointments for the test patient');
          ensure(list.past.every((x) => Date.parse(x.start) < Date.now()) && list.upcoming.every((x) => Date.parse(x.start) >= Date.now() - 60_000), 'appointments filed under the wrong heading');
          if (run.booked) ensure(list.upcoming.some((x) => x.id === run.booked!.appointment.id), 'the appointment booked in this run is not listed');
        }),
        check('repeats: listed with name, dose and dm+d code', async () => {
          const l = await run.linkage('main');
          const meds = await step('listing repeats', a.listRepeats(l));
          ensure(meds.length > 0, 'no repeat medications for the test patient');
          for (const m of meds) {
            ensure(m.id && m.name && m.dose, `repeat ${m.id} lacks name or dose`);
            ensure(isConcept(m.dmdCode), `repeat ${m.name} has dm+d code ${m.dmdCode}`);
            ensure(typeof m.canRequestNow === 'boolean', `repeat ${m.name} does not say whether it can be requested`);
          }
        }),
        check('repeats: request with a note, once per idempotency key', async () => {
          const l = await run.linkage('main');
          const meds = await step('listing repeats', a.listRepeats(l));
          const med = meds.find((m) => m.canRequestNow);
          ensure(med, 'no repeat can be requested now');
          const k = key('repeat');
          const first = await step('requesting', a.requestRepeats(l, { medicationIds: [med.id], note: 'Conformance check' }, k));
          ensure(first.status === 'requested', `new request has status ${first.status}`);
          ensure(first.items.some((x) => x.medicationId === med.id), 'request does not list the medication');
          const again = await step('repeating the request', a.requestRepeats(l, { medicationIds: [med.id], note: 'Conformance check' }, k));
          ensure(again.id === first.id, `a retry with the same key gave request ${again.id}, first was ${first.id}`);
          const history = await step('listing requests', a.listRequests(l));
          ensure(history.filter((r) => r.id === first.id).length === 1, 'the request is not in the history exactly once');
        }),
        check('repeats: a medication not on repeat rejected', async () => {
          const l = await run.linkage('main');
          await expectDomain(a.requestRepeats(l, { medicationIds: ['not-on-repeat-0000'], note: 'Conformance check' }, key('notrepeat')), 'not-on-repeat');
        }),
        check('repeats: request history with statuses', async () => {
          const l = await run.linkage('main');
          const history = await step('listing requests', a.listRequests(l));
          ensure(history.length > 0, 'no request history');
          for (const r of history) {
            ensure(['requested', 'approved', 'rejected', 'issued'].includes(r.status), `request ${r.id} has status ${r.status}`);
            ensure(isIso(r.requestedAt) && r.items.length > 0, `request ${r.id} lacks date or items`);
            if (r.status === 'rejected') ensure(r.rejectionReason, `rejected request ${r.id} gives no reason`);
          }
          for (let i = 1; i < history.length; i++) ensure(history[i - 1].requestedAt >= history[i].requestedAt, 'history is not newest first');
        }),
        check('pharmacy: view and change the nominated pharmacy', async () => {
          const l = await run.linkage('main');
          const before = await step('reading pharmacy', a.getNominatedPharmacy(l));
          const target = before?.odsCode === 'FA123' ? 'FC456' : 'FA123';
          const set = await step('changing pharmacy', a.setNominatedPharmacy(l, target));
          ensure(set.odsCode === target, `change answered ${set.odsCode}`);
          const after = await step('reading pharmacy', a.getNominatedPharmacy(l));
          ensure(after?.odsCode === target, `pharmacy reads ${after?.odsCode} after changing to ${target}`);
          await expectDomain(a.setNominatedPharmacy(l, 'NOT A CODE'), 'invalid-pharmacy');
        }),
        ...recordSections.map((section) => check(`record: ${section} well formed and coded`, () => checkSection(run, section))),
        check("record: the practice's record-access setting is followed", async () => {
          const l = await run.linkage('summary');
          const allergies = await step('reading allergies', a.getRecord(l, 'allergies'));
          ensure(allergies.access === 'summary' && allergies.visible, `summary practice: allergies ${allergies.access}/${allergies.visible ? 'visible' : 'hidden'}`);
          const problems = await step('reading problems', a.getRecord(l, 'problems'));
          ensure(problems.access === 'summary' && !problems.visible && problems.entries.length === 0, `summary practice: problems ${problems.visible ? 'visible' : 'hidden'} with ${problems.entries.length} entries`);
        }),
        check('faults: a supplier that does not answer times out in bound', async () => {
          const l = await run.linkage('main');
          const slow = run.adapterWith({ 'X-Sandbox-Fault': 'timeout' }, FAULT_TIMEOUT_MS);
          const started = performance.now();
          await expectUnavailable(slow.listRepeats(l), ['timeout']);
          const took = performance.now() - started;
          ensure(took < FAULT_TIMEOUT_MS + 1000, `timing out took ${Math.round(took)} ms`);
        }),
        check('faults: a malformed body is a bad response', async () => {
          const l = await run.linkage('main');
          await expectUnavailable(run.adapterWith({ 'X-Sandbox-Fault': 'garbage' }).listRepeats(l), ['bad-response']);
          await expectUnavailable(run.adapterWith({ 'X-Sandbox-Fault': 'garbage' }).getRecord(l, 'allergies'), ['bad-response']);
        }),
        check('faults: a server error is a supplier failure, not an answer', async () => {
          const l = await run.linkage('main');
          await expectUnavailable(run.adapterWith({ 'X-Sandbox-Fault': 'error=503' }).searchSlots(l, { from: new Date().toISOString(), to: new Date(Date.now() + DAY).toISOString() }), ['server-error']);
          await expectUnavailable(run.adapterWith({ 'X-Sandbox-Fault': 'drop' }).listAppointments(l), ['unreachable', 'bad-response']);
        }),
      ];
      return list;
    },
  };
}

async function checkSection(run: Run, section: RecordSection): Promise<void> {
  const l = await run.linkage('main');
  const rec = await step(`reading ${section}`, run.adapter.getRecord(l, section));
  ensure(rec.section === section, `asked for ${section}, got ${rec.section}`);
  ensure(rec.access === 'detailed' && rec.visible, `test patient's practice should allow the detailed record; got ${rec.access}${rec.visible ? '' : ' (hidden)'}`);
  ensure(rec.entries.length > 0, `no ${section} entries`);
  const coded = (c: { system?: string; code?: string; display?: string } | undefined, where: string, systems = [SNOMED]) => {
    ensure(c && systems.includes(c.system ?? '') && isConcept(c.code) && c.display, `${where}: coding ${JSON.stringify(c)} is not a ${systems.join('/')} concept with a term`);
  };
  rec.entries.forEach((e, i) => {
    const where = `${section}[${i}]`;
    const x = e as unknown as Record<string, unknown> & { code?: { system?: string; code?: string; display?: string } };
    switch (section) {
      case 'medications':
        coded(x.code, where, [DMD, SNOMED]);
        ensure(x.status === 'current' || x.status === 'past', `${where}: status ${String(x.status)}`);
        break;
      case 'test-results':
        coded(x.code, where);
        ensure(typeof x.value === 'number' && typeof x.unit === 'string' && x.unit && isIso(x.date), `${where}: value/unit/date missing`);
        break;
      case 'immunisations':
        coded(x.code, where);
        ensure(isIso(x.date), `${where}: no date`);
        break;
      case 'consultations':
        ensure(isIso(x.date) && x.type && x.summary, `${where}: date/type/summary missing`);
        (x.codes as unknown[] ?? []).forEach((c, j) => coded(c as never, `${where}.codes[${j}]`, [SNOMED, DMD]));
        break;
      default:
        coded(x.code, where);
    }
  });
  if (section === 'test-results') ensure(rec.entries.some((e) => (e as { referenceRange?: unknown }).referenceRange), 'no test result has a reference range');
}

export const gpSuite: ConformanceSuite = createGpSuite();
