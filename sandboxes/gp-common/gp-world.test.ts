// The simulated GP practice state: deterministic records from real codelists, four weeks of slots, and
// booking, cancelling and repeat-request rules every GP sandbox relies on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GpWorld, WorldError, appointmentTypes } from './gp-world.ts';
import { NOMINATED_PHARMACY_URL, loadDemoPeople, patientFor } from '../pds/patients.ts';

const DAY = 86_400_000;
const people = (JSON.parse(readFileSync(new URL('../../demo/people.json', import.meta.url), 'utf8')) as { people: { nhsNumber?: string | null; birthdate: string; gpOdsCode?: string | null }[] }).people;
const codelist = (name: string) => readFileSync(new URL(`../../../shared/data/codes/${name}`, import.meta.url), 'utf8');
const code = (err: unknown) => (err as WorldError).code;

describe('GP world', () => {
  it("holds the nominated pharmacy the national record holds, in every GP system", () => {
    const national = new Map(loadDemoPeople().filter((p) => p.nhsNumber).map((p, i) => [p.nhsNumber!, patientFor(p, i).extension?.find((e) => e.url === NOMINATED_PHARMACY_URL)?.valueReference?.identifier?.value]));
    for (const system of ['emis', 'tpp', 'vision', 'microtest']) {
      const w = new GpWorld(system);
      for (const p of people) {
        if (!p.nhsNumber || !p.gpOdsCode) continue;
        const held = w.link(p.nhsNumber, p.birthdate, p.gpOdsCode).pharmacy?.odsCode;
        assert.ok(held, `${system} ${p.nhsNumber}: a pharmacy`);
        assert.equal(held, national.get(p.nhsNumber), `${system} ${p.nhsNumber}: the same pharmacy as the national record`);
      }
    }
  });

  it('holds a record for every demo person with an NHS number and practice, and no one else', () => {
    const w = new GpWorld('test');
    for (const p of people) {
      if (p.nhsNumber && p.gpOdsCode) assert.equal(w.link(p.nhsNumber, p.birthdate, p.gpOdsCode).nhsNumber, p.nhsNumber);
    }
    assert.throws(() => w.link('9990079196', '1984-03-12', 'E83003'), (e) => code(e) === 'no-record');
    assert.throws(() => w.link('9990079196', '1984-03-13', 'A81001'), (e) => code(e) === 'not-matched');
    assert.throws(() => w.link('9990000018', '1970-04-04', 'A81001'), (e) => code(e) === 'online-services-disabled');
  });

  it('generates the same record for the same NHS number, with real dm+d and SNOMED CT codes', () => {
    const a = new GpWorld('test').link('9990237573', '1958-11-02', 'E83003');
    const b = new GpWorld('test').link('9990237573', '1958-11-02', 'E83003');
    assert.deepEqual(a.repeats, b.repeats);
    assert.deepEqual(a.problems, b.problems);
    const dmd = codelist('opensafely-FLUCATS__opensafely-statin-medication.csv') + codelist('opensafely-FLUCATS__opensafely-ace-inhibitor-medications.csv');
    for (const m of a.repeats) assert.ok(dmd.includes(`\n${m.dmdCode},${m.name},`), `${m.dmdCode} ${m.name} is in the dm+d codelists`);
    assert.ok(codelist('opensafely-FLUCATS__opensafely-hypertension-snomed.csv').includes(`\n${a.problems[0].code},`));
    assert.ok(a.results.every((r) => typeof r.value === 'number' && r.unit));
  });

  it('offers free slots of several types and modes over the next four weeks, and books each once', () => {
    const w = new GpWorld('test');
    const rec = w.link('9990079196', '1984-03-12', 'A81001');
    const slots = w.searchSlots('A81001', { from: new Date().toISOString(), to: new Date(Date.now() + 28 * DAY).toISOString() });
    assert.ok(slots.length > 300);
    assert.deepEqual(new Set(slots.map((s) => s.type)), new Set(appointmentTypes));
    assert.deepEqual(new Set(slots.map((s) => s.mode)), new Set(['in-person', 'phone', 'video']));
    assert.ok(Date.parse(slots.at(-1)!.start) > Date.now() + 24 * DAY);
    const first = w.book(rec, slots[5].id, 'Cough', 'k1');
    assert.equal(w.book(rec, slots[5].id, 'Cough', 'k1').appointment.id, first.appointment.id);
    assert.throws(() => w.book(rec, slots[5].id, 'Cough', 'k2'), (e) => code(e) === 'slot-unavailable');
    assert.throws(() => w.searchSlots('A81001', { type: 'Astrology' }), (e) => code(e) === 'unknown-appointment-type');
    const other = w.link('9990237573', '1958-11-02', 'E83003');
    assert.throws(() => w.cancel(other, first.appointment.id, 'x'), (e) => code(e) === 'not-found');
    w.cancel(rec, first.appointment.id, 'Better');
    assert.throws(() => w.cancel(rec, first.appointment.id, 'again'), (e) => code(e) === 'already-cancelled');
    assert.ok(w.searchSlots('A81001', { from: slots[5].start, to: slots[5].end }).some((s) => s.id === slots[5].id), 'a cancelled slot is free again');
  });

  it('moves a new repeat request from requested to approved to issued over time', async () => {
    const w = new GpWorld('test', { requestStepMs: 200 });
    const rec = w.link('9990079196', '1984-03-12', 'A81001');
    const med = rec.repeats.find((m) => w.canRequest(rec, m).ok)!;
    assert.throws(() => w.requestRepeats(rec, ['nope'], undefined), (e) => code(e) === 'not-on-repeat');
    const { request } = w.requestRepeats(rec, [med.id], 'note', 'key');
    assert.equal(w.requestRepeats(rec, [med.id], 'note', 'key').request.id, request.id);
    assert.equal(w.requestStatus(request).status, 'requested');
    assert.equal(w.canRequest(rec, med).ok, false);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(w.requestStatus(request).status, 'approved');
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(w.requestStatus(request).status, 'issued');
    assert.equal(w.canRequest(rec, med).ok, true);
  });
});
