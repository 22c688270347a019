// The simulated GP system's business state, shared by the four GP sandboxes: each sandbox is only a dialect
// in front of this. Records are generated deterministically (seeded by NHS number, slots by ODS code) and
// all state is in memory for the life of the process.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as codes from './reference-codes.ts';
import type { Spine } from './spine.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const DAY = 86_400_000;

export type Mode = 'in-person' | 'phone' | 'video';
export type RecordAccess = 'none' | 'summary' | 'detailed';
export type RequestStatus = 'requested' | 'approved' | 'rejected' | 'issued';
export type Section = 'allergies' | 'medications' | 'problems' | 'immunisations' | 'test-results' | 'consultations';
export const sections: Section[] = ['allergies', 'medications', 'problems', 'immunisations', 'test-results', 'consultations'];

/** Business failures; each dialect renders them in its own error shape. */
export type WorldErrorCode =
  | 'no-record' | 'online-services-disabled' | 'not-matched' | 'unauthorised'
  | 'slot-unavailable' | 'slot-in-past' | 'unknown-appointment-type' | 'not-found'
  | 'already-cancelled' | 'appointment-in-past' | 'not-on-repeat' | 'too-early' | 'invalid-pharmacy' | 'invalid-request';

export class WorldError extends Error {
  constructor(readonly code: WorldErrorCode, message: string) {
    super(message);
  }
}

export interface Slot { id: string; odsCode: string; start: string; end: string; type: string; clinician: string; mode: Mode; location: string }
export interface Appointment { id: string; nhsNumber: string; slotId: string; start: string; end: string; type: string; clinician: string; mode: Mode; reason: string; status: 'booked' | 'cancelled'; cancellationReason?: string; bookedAt: string }
export interface Repeat { id: string; dmdCode: string; name: string; dose: string; quantity: string; lastIssued?: string; reviewDue: boolean }
export interface RepeatRequest { id: string; requestedAt: number; medicationIds: string[]; note?: string; fixed?: { status: RequestStatus; rejectionReason?: string } }
export interface Pharmacy { odsCode: string; name: string; address: string }

export interface PatientRecord {
  nhsNumber: string; birthdate: string; givenName: string; familyName: string; odsCode: string;
  onlineServices: boolean; accountId: string; linkageKey: string; linked: boolean;
  repeats: Repeat[]; requests: RepeatRequest[]; pharmacy?: Pharmacy;
  allergies: { code: string; term: string; reaction?: string; severity?: string; recorded: string }[];
  medications: { code: string; term: string; dose: string; status: 'current' | 'past'; start: string; end?: string }[];
  problems: { code: string; term: string; onset: string; status: 'active' | 'resolved' }[];
  immunisations: { code: string; term: string; date: string }[];
  results: { code: string; term: string; value: number; unit: string; low?: number; high?: number; date: string }[];
  consultations: { id: string; date: string; clinician: string; type: string; summary: string; codes: { code: string; term: string }[] }[];
}

export const appointmentTypes = ['General practice appointment', 'Nurse appointment', 'Phone consultation'];

export const pharmacies: Pharmacy[] = [
  { odsCode: 'FA123', name: 'High Street Pharmacy', address: '1 High Street' },
  { odsCode: 'FC456', name: 'Riverside Chemist', address: '22 Riverside Walk' },
  { odsCode: 'FK789', name: 'Station Road Pharmacy', address: '5 Station Road' },
  { odsCode: 'FP012', name: 'Parkside Dispensary', address: 'Parkside Health Centre' },
];
/** A pharmacy by its code: one of the demo pharmacies, else named only by its code. */
const pharmacyFor = (odsCode: string): Pharmacy => pharmacies.find((p) => p.odsCode === odsCode) ?? { odsCode, name: `Pharmacy ${odsCode}`, address: '' };

/** A practice's record-access setting; most allow the detailed coded record. */
const recordAccessByPractice: Record<string, RecordAccess> = { C81058: 'summary', Y99999: 'none' };
export function recordAccessFor(odsCode: string): RecordAccess {
  return recordAccessByPractice[odsCode] ?? 'detailed';
}
export function sectionVisible(access: RecordAccess, section: Section): boolean {
  if (access === 'detailed') return true;
  if (access === 'summary') return section === 'allergies' || section === 'medications';
  return false;
}

// --- deterministic randomness -------------------------------------------------------------------
function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
function prng(seed: string): () => number {
  let a = hash(seed);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T,>(rnd: () => number, xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const startOfDay = (ms: number) => Math.floor(ms / DAY) * DAY;

/** `nominatedPharmacy` is the one the national record (the PDS sandbox) holds too, so the two agree at the start. */
interface Person { nhsNumber?: string | null; birthdate: string; givenName: string; familyName: string; gpOdsCode?: string | null; nominatedPharmacy?: string }

function loadPeople(): Person[] {
  const file = process.env.FRONT_DOOR_PEOPLE ?? path.resolve(here, '../../demo/people.json');
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { people: Person[] }).people;
  } catch {
    return [];
  }
}

/** Extra people every GP sandbox holds for conformance: online services are off for this one. */
export const sharedTestPatients: (Person & { onlineServices: boolean })[] = [
  { nhsNumber: '9990000018', birthdate: '1970-04-04', givenName: 'Olive', familyName: 'Offline', gpOdsCode: 'A81001', onlineServices: false },
];

// --- the world ------------------------------------------------------------------------------------
export class GpWorld {
  private readonly patients = new Map<string, PatientRecord>(); // by NHS number
  private readonly byAccount = new Map<string, PatientRecord>();
  private readonly slotCache = new Map<string, { day: number; slots: Slot[]; byId: Map<string, Slot> }>();
  private readonly bookedSlots = new Map<string, string>(); // slot id → appointment id
  private readonly appointments = new Map<string, Appointment>();
  private readonly bookingKeys = new Map<string, string>(); // nhs|key → appointment id
  private readonly requestKeys = new Map<string, string>(); // nhs|key → request id
  /** Seconds a new repeat request stays "requested", then "approved", before it is "issued". */
  readonly requestStepMs: number;

  /** The national record, where nominated pharmacies are held; without it the world keeps its own copy. */
  private readonly spine?: Spine;

  constructor(readonly system: string, opts: { extraPatients?: (Person & { onlineServices?: boolean })[]; requestStepMs?: number; spine?: Spine } = {}) {
    this.requestStepMs = opts.requestStepMs ?? 20_000;
    this.spine = opts.spine;
    const people = [...loadPeople(), ...sharedTestPatients, ...(opts.extraPatients ?? [])];
    for (const p of people) {
      if (!p.nhsNumber || !p.gpOdsCode) continue;
      const rec = this.generate(p, (p as { onlineServices?: boolean }).onlineServices ?? true);
      this.patients.set(rec.nhsNumber, rec);
      this.byAccount.set(rec.accountId, rec);
    }
  }

  // Linkage -----------------------------------------------------------------------------------------
  link(nhsNumber: string, birthdate: string, odsCode: string): PatientRecord {
    const rec = this.patients.get(nhsNumber);
    if (!rec || rec.odsCode !== odsCode) throw new WorldError('no-record', 'No record for this NHS number at this practice');
    if (rec.birthdate !== birthdate) throw new WorldError('not-matched', 'The details given do not match the record');
    if (!rec.onlineServices) throw new WorldError('online-services-disabled', 'Online services are not enabled for this patient');
    rec.linked = true;
    return rec;
  }

  /** The patient a session or linkage key belongs to; every other call is scoped to it. */
  authenticate(accountId: string, linkageKey: string, odsCode: string): PatientRecord {
    const rec = this.byAccount.get(accountId);
    if (!rec || rec.linkageKey !== linkageKey || rec.odsCode !== odsCode) throw new WorldError('unauthorised', 'Linkage details are not valid');
    if (!rec.onlineServices) throw new WorldError('online-services-disabled', 'Online services are not enabled for this patient');
    return rec;
  }

  // Appointments ------------------------------------------------------------------------------------
  slots(odsCode: string): Slot[] {
    const today = startOfDay(Date.now());
    let cached = this.slotCache.get(odsCode);
    if (!cached || cached.day !== today) {
      const slots = generateSlots(odsCode, today);
      cached = { day: today, slots, byId: new Map(slots.map((s) => [s.id, s])) };
      this.slotCache.set(odsCode, cached);
    }
    return cached.slots;
  }

  slot(odsCode: string, id: string): Slot | undefined {
    this.slots(odsCode);
    return this.slotCache.get(odsCode)!.byId.get(id);
  }

  searchSlots(odsCode: string, q: { from?: string; to?: string; type?: string; clinician?: string; mode?: string }): Slot[] {
    if (q.type && !appointmentTypes.includes(q.type)) throw new WorldError('unknown-appointment-type', `Unknown appointment type "${q.type}"`);
    const from = q.from ? Date.parse(q.from) : Date.now();
    const to = q.to ? Date.parse(q.to) : from + 7 * DAY;
    if (Number.isNaN(from) || Number.isNaN(to)) throw new WorldError('invalid-request', 'Dates are not valid');
    const clinician = q.clinician?.toLowerCase();
    return this.slots(odsCode).filter((s) => {
      const t = Date.parse(s.start);
      return t >= from && t < to && !this.bookedSlots.has(s.id)
        && (!q.type || s.type === q.type) && (!q.mode || s.mode === q.mode)
        && (!clinician || s.clinician.toLowerCase().includes(clinician));
    });
  }

  book(rec: PatientRecord, slotId: string, reason: string, key?: string): { appointment: Appointment; replayed: boolean } {
    const k = key ? `${rec.nhsNumber}|${key}` : undefined;
    const previous = k ? this.bookingKeys.get(k) : undefined;
    if (previous) return { appointment: this.appointments.get(previous)!, replayed: true };
    const slot = this.slot(rec.odsCode, slotId);
    if (!slot) throw new WorldError('not-found', `No slot ${slotId} at this practice`);
    if (Date.parse(slot.start) <= Date.now()) throw new WorldError('slot-in-past', 'That slot is in the past');
    if (this.bookedSlots.has(slot.id)) throw new WorldError('slot-unavailable', 'That slot has already been booked');
    const appointment: Appointment = {
      id: randomUUID(), nhsNumber: rec.nhsNumber, slotId: slot.id, start: slot.start, end: slot.end, type: slot.type,
      clinician: slot.clinician, mode: slot.mode, reason: reason.slice(0, 500), status: 'booked', bookedAt: new Date().toISOString(),
    };
    this.bookedSlots.set(slot.id, appointment.id);
    this.appointments.set(appointment.id, appointment);
    if (k) this.bookingKeys.set(k, appointment.id);
    return { appointment, replayed: false };
  }

  appointment(rec: PatientRecord, id: string): Appointment {
    const a = this.appointments.get(id);
    // Another patient's appointment looks exactly like one that does not exist.
    if (!a || a.nhsNumber !== rec.nhsNumber) throw new WorldError('not-found', 'No such appointment');
    return a;
  }

  cancel(rec: PatientRecord, id: string, reason: string): Appointment {
    const a = this.appointment(rec, id);
    if (a.status === 'cancelled') throw new WorldError('already-cancelled', 'That appointment is already cancelled');
    if (Date.parse(a.start) <= Date.now()) throw new WorldError('appointment-in-past', 'That appointment has already happened');
    a.status = 'cancelled';
    a.cancellationReason = reason.slice(0, 500);
    this.bookedSlots.delete(a.slotId);
    return a;
  }

  appointmentsFor(rec: PatientRecord): Appointment[] {
    return [...this.appointments.values()].filter((a) => a.nhsNumber === rec.nhsNumber).sort((a, b) => a.start.localeCompare(b.start));
  }

  // Repeat prescriptions --------------------------------------------------------------------------
  requestStatus(r: RepeatRequest): { status: RequestStatus; rejectionReason?: string; updatedAt: number } {
    if (r.fixed) return { ...r.fixed, updatedAt: r.requestedAt + DAY };
    const age = Date.now() - r.requestedAt;
    if (age < this.requestStepMs) return { status: 'requested', updatedAt: r.requestedAt };
    if (age < 2 * this.requestStepMs) return { status: 'approved', updatedAt: r.requestedAt + this.requestStepMs };
    return { status: 'issued', updatedAt: r.requestedAt + 2 * this.requestStepMs };
  }

  canRequest(rec: PatientRecord, m: Repeat): { ok: boolean; reason?: string } {
    if (m.reviewDue) return { ok: false, reason: 'Medication review due: contact the practice' };
    const open = rec.requests.some((r) => r.medicationIds.includes(m.id) && ['requested', 'approved'].includes(this.requestStatus(r).status));
    return open ? { ok: false, reason: 'Already requested' } : { ok: true };
  }

  requestRepeats(rec: PatientRecord, medicationIds: string[], note: string | undefined, key?: string): { request: RepeatRequest; replayed: boolean } {
    const k = key ? `${rec.nhsNumber}|${key}` : undefined;
    const previous = k ? this.requestKeys.get(k) : undefined;
    if (previous) return { request: rec.requests.find((r) => r.id === previous)!, replayed: true };
    if (!medicationIds.length) throw new WorldError('invalid-request', 'Choose at least one medication');
    for (const id of medicationIds) {
      const m = rec.repeats.find((x) => x.id === id);
      if (!m) throw new WorldError('not-on-repeat', `Medication ${id} is not on repeat for this patient`);
      const can = this.canRequest(rec, m);
      if (!can.ok) throw new WorldError('too-early', `${m.name}: ${can.reason}`);
    }
    const request: RepeatRequest = { id: randomUUID(), requestedAt: Date.now(), medicationIds: [...new Set(medicationIds)], note: note?.slice(0, 500) };
    rec.requests.push(request);
    if (k) this.requestKeys.set(k, request.id);
    return { request, replayed: false };
  }

  /** The patient's nominated pharmacy as the Spine holds it; the world's own copy when the Spine is not there. */
  async pharmacyOf(rec: PatientRecord): Promise<Pharmacy | undefined> {
    // A GP system that cannot reach the Spine shows the nomination it last saw.
    const onSpine = await this.spine?.nominatedPharmacy(rec.nhsNumber).catch(() => undefined);
    if (onSpine !== undefined) rec.pharmacy = onSpine === null ? undefined : pharmacyFor(onSpine);
    return rec.pharmacy;
  }

  /** Nominates a pharmacy on the Spine first: when the Spine refuses or cannot be reached, nothing changes. */
  async setPharmacy(rec: PatientRecord, odsCode: string): Promise<Pharmacy> {
    if (!/^F[A-Z0-9]{4}$/.test(odsCode)) throw new WorldError('invalid-pharmacy', `"${odsCode}" is not a pharmacy ODS code`);
    await this.spine?.nominate(rec.nhsNumber, odsCode);
    rec.pharmacy = pharmacyFor(odsCode);
    return rec.pharmacy;
  }

  // Generation ------------------------------------------------------------------------------------
  private generate(p: Person, onlineServices: boolean): PatientRecord {
    const nhs = p.nhsNumber!;
    const rnd = prng(`${this.system}|${nhs}`);
    const now = Date.now();
    const daysAgo = (min: number, max: number) => isoDate(startOfDay(now) - Math.floor(min + rnd() * (max - min)) * DAY);
    const statin = pick(rnd, codes.statins);
    const ace = pick(rnd, codes.aceInhibitors);
    const repeats: Repeat[] = [
      { id: `rx-${hash(nhs + statin.code).toString(36)}`, dmdCode: statin.code, name: statin.term, dose: 'One tablet at night', quantity: '28 tablets', lastIssued: daysAgo(20, 45), reviewDue: false },
      { id: `rx-${hash(nhs + ace.code).toString(36)}`, dmdCode: ace.code, name: ace.term, dose: 'One tablet once a day', quantity: '28 tablets', lastIssued: daysAgo(20, 45), reviewDue: false },
    ];
    const third = pick(rnd, codes.aceInhibitors.filter((a) => a.code !== ace.code));
    if (rnd() < 0.5) repeats.push({ id: `rx-${hash(nhs + third.code).toString(36)}`, dmdCode: third.code, name: third.term, dose: 'One tablet twice a day', quantity: '56 tablets', lastIssued: daysAgo(150, 200), reviewDue: true });
    const hyper = pick(rnd, codes.hypertension);
    const clinicians = cliniciansFor(p.gpOdsCode!);
    const allergyCount = Math.floor(rnd() * 3);
    const allergies = allergyCount === 0
      ? [{ code: codes.noKnownAllergy.code, term: codes.noKnownAllergy.term, recorded: daysAgo(400, 3000) }]
      : codes.allergens.slice(0, allergyCount).map((a) => ({ code: a.code, term: a.term, reaction: a.reaction, severity: a.severity, recorded: daysAgo(400, 3000) }));
    const problems: PatientRecord['problems'] = [
      { code: hyper.code, term: hyper.term, onset: daysAgo(700, 3000), status: 'active' },
    ];
    if (rnd() < 0.6) { const pn = pick(rnd, codes.pneumonia); problems.push({ code: pn.code, term: pn.term, onset: daysAgo(300, 900), status: 'resolved' }); }
    if (rnd() < 0.4) { const d = pick(rnd, codes.diabetesComplications); problems.push({ code: d.code, term: d.term, onset: daysAgo(300, 2000), status: 'active' }); }
    const results: PatientRecord['results'] = [];
    for (const when of [daysAgo(10, 60), daysAgo(200, 400)]) {
      for (const o of codes.observables) {
        const value = Number((o.min + rnd() * (o.max - o.min)).toFixed(o.decimals));
        results.push({ code: o.code, term: o.term, value, unit: o.unit, low: o.low, high: o.high, date: when });
      }
    }
    // Drawn even when the person names a pharmacy, so every later draw (the rest of the record) stays the same.
    const drawnPharmacy = pick(rnd, pharmacies);
    const rec: PatientRecord = {
      nhsNumber: nhs, birthdate: p.birthdate, givenName: p.givenName, familyName: p.familyName, odsCode: p.gpOdsCode!,
      onlineServices, accountId: `${this.system.slice(0, 2).toUpperCase()}${hash(`${this.system}|acct|${nhs}`).toString().padStart(10, '0')}`,
      linkageKey: hash(`${this.system}|key|${nhs}`).toString(36).toUpperCase() + hash(`${nhs}|${this.system}|k2`).toString(36).toUpperCase(),
      linked: false, repeats, requests: [],
      pharmacy: p.nominatedPharmacy ? pharmacyFor(p.nominatedPharmacy) : drawnPharmacy,
      allergies,
      medications: [
        ...repeats.map((r) => ({ code: r.dmdCode, term: r.name, dose: r.dose, status: 'current' as const, start: daysAgo(400, 1500) })),
        { code: codes.pastCourse.code, term: codes.pastCourse.term, dose: 'One capsule three times a day for 7 days', status: 'past', start: daysAgo(300, 320), end: daysAgo(290, 299) },
      ],
      problems,
      immunisations: codes.vaccinations.map((v) => ({ code: v.code, term: v.term, date: daysAgo(30, 1500) })),
      results,
      consultations: [
        { id: `c-${hash(nhs + 'c1').toString(36)}`, date: daysAgo(10, 60), clinician: clinicians[0].name, type: 'Surgery consultation', summary: 'Blood pressure review. Continue current medication; recheck in 3 months.', codes: [{ code: hyper.code, term: hyper.term }] },
        { id: `c-${hash(nhs + 'c2').toString(36)}`, date: daysAgo(100, 300), clinician: clinicians[2].name, type: 'Telephone consultation', summary: 'Medication review by telephone. No side effects reported.', codes: [{ code: repeats[0].dmdCode, term: repeats[0].name }] },
      ],
    };
    // A request history that already shows every status a citizen may see.
    rec.requests.push(
      { id: `rq-${hash(nhs + 'h1').toString(36)}`, requestedAt: now - 60 * DAY, medicationIds: [repeats[0].id], fixed: { status: 'issued' } },
      { id: `rq-${hash(nhs + 'h2').toString(36)}`, requestedAt: now - 40 * DAY, medicationIds: [repeats[1].id], note: 'Running low', fixed: { status: 'rejected', rejectionReason: 'Too early to reorder: please request nearer the time' } },
      { id: `rq-${hash(nhs + 'h3').toString(36)}`, requestedAt: now - 25 * DAY, medicationIds: repeats.slice(0, 2).map((r) => r.id), fixed: { status: 'issued' } },
    );
    // Past appointments so "past" is never empty.
    for (const [i, offset] of [[1, 45], [2, 120]] as const) {
      const start = new Date(startOfDay(now) - offset * DAY + 9.5 * 3600_000).toISOString();
      const c = clinicians[i % clinicians.length];
      const a: Appointment = {
        id: `past-${hash(nhs + this.system + i).toString(36)}`, nhsNumber: nhs, slotId: `past-${i}`, start, end: new Date(Date.parse(start) + 10 * 60_000).toISOString(),
        type: c.nurse ? 'Nurse appointment' : 'General practice appointment', clinician: c.name, mode: 'in-person', reason: i === 1 ? 'Blood pressure check' : 'Cough',
        status: i === 2 ? 'cancelled' : 'booked', cancellationReason: i === 2 ? 'Feeling better' : undefined, bookedAt: new Date(Date.parse(start) - 7 * DAY).toISOString(),
      };
      this.appointments.set(a.id, a);
    }
    return rec;
  }
}

const firstNames = ['Sarah', 'James', 'Priya', 'Ali', 'Helen', 'Tom', 'Ngozi', 'Mark', 'Fatima', 'Owen'];
const lastNames = ['Patel', 'Wood', 'Rahman', 'Price', 'Jones', 'Okoro', 'Hughes', 'Clarke', 'Shah', 'Evans'];

function cliniciansFor(odsCode: string): { name: string; nurse: boolean }[] {
  const rnd = prng(`clinicians|${odsCode}`);
  const name = () => `${pick(rnd, firstNames)} ${pick(rnd, lastNames)}`;
  return [{ name: `Dr ${name()}`, nurse: false }, { name: `Dr ${name()}`, nurse: false }, { name: `Nurse ${name()}`, nurse: true }];
}

/** A week back (so past slots exist for tests) and four weeks ahead, weekdays, two sessions a day. */
function generateSlots(odsCode: string, today: number): Slot[] {
  const clinicians = cliniciansFor(odsCode);
  const out: Slot[] = [];
  for (let d = -7; d < 28; d++) {
    const day = today + d * DAY;
    const dow = new Date(day).getUTCDay();
    if (dow === 0 || dow === 6) continue;
    const rnd = prng(`slots|${odsCode}|${isoDate(day)}`);
    clinicians.forEach((c, ci) => {
      for (const [fromH, toH] of [[9, 12], [14, 17]]) {
        const length = c.nurse ? 15 : 10;
        for (let m = fromH * 60; m + length <= toH * 60; m += length) {
          if (rnd() < 0.45) continue; // already taken by other patients
          const start = day + m * 60_000;
          const phone = !c.nurse && fromH === 14 && rnd() < 0.5;
          const mode: Mode = phone ? 'phone' : !c.nurse && rnd() < 0.15 ? 'video' : 'in-person';
          out.push({
            id: `${odsCode}-${ci}-${Math.floor(start / 60_000)}`, odsCode,
            start: new Date(start).toISOString(), end: new Date(start + length * 60_000).toISOString(),
            type: c.nurse ? 'Nurse appointment' : phone ? 'Phone consultation' : 'General practice appointment',
            clinician: c.name, mode, location: mode === 'in-person' ? `${odsCode} surgery, room ${ci + 1}` : mode === 'phone' ? 'Telephone' : 'Video call',
          });
        }
      }
    });
  }
  return out.sort((a, b) => a.start.localeCompare(b.start));
}
