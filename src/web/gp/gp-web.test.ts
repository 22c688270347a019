// GP pages over HTTP against the four GP sandboxes: every flow on at least two GP systems, denials, bad input,
// double submits, a faulty or stopped supplier degrading only the GP part, and the audit trail.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem } from '../../testing/factories.ts';
import type { RunningSystem } from '../../system.ts';
import { startSandbox, type RunningSandbox } from '../../../sandboxes/common/server.ts';
import { gpTppSandbox } from '../../../sandboxes/gp-tpp/index.ts';
import { gpSystems } from '../../integrations/gp/registry.ts';
import { SupplierPolicy } from '../../integrations/resilience.ts';
import { choices, demoCitizen, type CitizenClient, type Page } from './gp-test-client.ts';

const DAY = 86_400_000;
// Demo people on different GP systems (see demo/people.json and the ODS fixture).
const PEOPLE = {
  tpp: '9990395950', // J81002
  emis: '9990237573', // E83003
  emis2: '9990079196', // A81001, also emis
  vision: '9990316767', // C81058, summary record access
  microtest: '9990633525', // E83005
  p5: '9990475148',
};

let system: RunningSystem;
before(async () => {
  system = await startTestSystem({}, { withSandboxes: true });
});
after(async () => {
  await system?.close();
});

const auditRows = (nhs: string) =>
  system.db.query<{ action: string; resource: string; supplier: string | null; outcome: string; actor_id: string }>(
    'SELECT action, resource, supplier, outcome, actor_id FROM audit_events WHERE subject_nhs_number = $1 ORDER BY id', [nhs]);

const count = (text: string, part: string) => text.split(part).length - 1;

/** Through the pages: type → slot → check → confirm. Returns the check page and confirmation. */
async function bookThroughPages(c: CitizenClient, reason: string) {
  const types = await c.get('/gp/appointments/book');
  assert.equal(types.status, 200, types.body);
  const type = choices(types.body, 'type')[0];
  assert.ok(type, 'no appointment types offered');
  const toSlots = await c.post('/gp/appointments/book', { type }, types);
  assert.equal(toSlots.status, 303);
  const slots = await c.get(toSlots.location!);
  assert.equal(slots.status, 200);
  const slot = choices(slots.body, 'slot')[0];
  assert.ok(slot, 'no free slots');
  const toCheck = await c.post('/gp/appointments/slots', { slot }, slots);
  assert.equal(toCheck.status, 303);
  const check = await c.get(toCheck.location!);
  assert.equal(check.status, 200, check.body);
  assert.match(check.body, /Check and book your appointment/);
  const done = await c.post('/gp/appointments/check', { reason }, check);
  assert.equal(done.status, 303, done.body.slice(done.body.indexOf("<h1"), done.body.indexOf("<h1") + 400));
  assert.match(done.location!, /^\/gp\/appointments\/confirmation\?ref=/);
  return { type, slot, check, done };
}

function appointmentIdFor(page: Page, reason: string): string {
  // Each card: summary rows, then its cancel link; find the card that holds this reason.
  const at = page.body.indexOf(reason);
  assert.ok(at >= 0, `reason "${reason}" not on the page`);
  const m = /\/gp\/appointments\/([^/"]+)\/cancel/.exec(page.body.slice(at));
  assert.ok(m, 'no cancel link after the appointment');
  return decodeURIComponent(m[1]);
}

describe('GP appointments', () => {
  for (const sys of ['tpp', 'emis', 'vision', 'microtest'] as const) {
    it(`${sys}: lists, books with a reason, refuses a second booking of the same form, cancels with a reason`, async () => {
      const c = await demoCitizen(system, PEOPLE[sys]);
      const list = await c.get('/gp/appointments');
      assert.equal(list.status, 200, list.body);
      assert.match(list.body, /Upcoming appointments/);
      assert.match(list.body, /Past appointments/);
      // The practice as the hub names it, not in the register's capitals.
      const practice = /<p>At ([^<]+)\.<\/p>/.exec(list.body)?.[1] ?? '';
      assert.match(practice, /^[A-Z][a-z]+( [A-Z][a-z]+)+$/);

      const reason = `Knee pain ${sys} ${Date.now()}`;
      const { check, done } = await bookThroughPages(c, reason);
      // The same form sent again (double click, retry): the same confirmation, nothing booked twice.
      const again = await c.post('/gp/appointments/check', { reason }, check);
      assert.equal(again.status, 303);
      assert.equal(again.location, done.location);
      const confirmation = await c.get(done.location!);
      assert.equal(confirmation.status, 200);
      assert.match(confirmation.body, /Appointment booked/);
      assert.match(confirmation.body, new RegExp(reason));

      const after = await c.get('/gp/appointments');
      assert.equal(count(after.body, reason), 1, 'booked exactly once');
      const id = appointmentIdFor(after, reason);

      const cancelPage = await c.get(`/gp/appointments/${encodeURIComponent(id)}/cancel`);
      assert.equal(cancelPage.status, 200);
      const empty = await c.post(`/gp/appointments/${encodeURIComponent(id)}/cancel`, { reason: '  ' }, cancelPage);
      assert.equal(empty.status, 400);
      assert.match(empty.body, /There is a problem/);
      assert.match(empty.body, /Enter why you are cancelling the appointment/);
      const cancelled = await c.post(`/gp/appointments/${encodeURIComponent(id)}/cancel`, { reason: 'Feeling better' }, cancelPage);
      assert.equal(cancelled.status, 303, cancelled.body);
      const panel = await c.get(cancelled.location!);
      assert.match(panel.body, /Appointment cancelled/);
      const twice = await c.post(`/gp/appointments/${encodeURIComponent(id)}/cancel`, { reason: 'Again' }, cancelPage);
      assert.equal(twice.status, 400);
      assert.match(twice.body, /This appointment has already been cancelled/);

      const rows = await auditRows(PEOPLE[sys]);
      const supplier = `gp-${sys}`;
      assert.equal(rows.filter((r) => r.action === 'book' && r.outcome === 'success' && r.supplier === supplier).length, 1);
      assert.equal(rows.filter((r) => r.action === 'cancel' && r.outcome === 'success' && r.supplier === supplier).length, 1);
      assert.ok(rows.some((r) => r.action === 'cancel' && r.outcome === 'failed'), 'the refused second cancel is audited');
    });
  }

  it('narrows the free times to one clinician, offering only clinicians who have free times', async () => {
    const c = await demoCitizen(system, PEOPLE.emis);
    const type = choices((await c.get('/gp/appointments/book')).body, 'type')[0];
    const withWhom = (html: string) => [...html.slice(html.indexOf('Free times')).matchAll(/ with ((?:Dr|Nurse) [A-Z][a-z]+ [A-Z][a-z]+)/g)].map((m) => m[1]);
    const all = await c.get(`/gp/appointments/slots?type=${encodeURIComponent(type)}&range=28`);
    const select = /<select[^>]*id="clinician"[\s\S]*?<\/select>/.exec(all.body)?.[0] ?? '';
    const offered = [...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]).filter(Boolean);
    assert.ok(offered.length >= 2, 'a choice of clinicians');
    assert.deepEqual(new Set(withWhom(all.body)).size > 1, true);
    const one = offered[0];
    const narrowed = await c.get(`/gp/appointments/slots?type=${encodeURIComponent(type)}&range=28&clinician=${encodeURIComponent(one)}`);
    assert.equal(narrowed.status, 200);
    const shown = withWhom(narrowed.body);
    assert.ok(shown.length > 0);
    assert.ok(shown.every((n) => n === one), `only ${one}: ${[...new Set(shown)].join(', ')}`);
    assert.match(narrowed.body, new RegExp(`<option value="${one}" selected`));
    // The choice goes with the chosen time, so an error re-shows the same narrowed list.
    const missed = await c.post('/gp/appointments/slots', {}, narrowed);
    assert.equal(missed.status, 400);
    assert.ok(withWhom(missed.body).every((n) => n === one));
    const nobody = await c.get(`/gp/appointments/slots?type=${encodeURIComponent(type)}&range=28&clinician=${encodeURIComponent('Dr No Such Person')}`);
    assert.match(nobody.body, /There are no free times for these choices/);
  });

  it('two submits of one form at once book once and show the same confirmation', async () => {
    const c = await demoCitizen(system, PEOPLE.emis);
    const types = await c.get('/gp/appointments/book');
    const slots = await c.get(`/gp/appointments/slots?type=${encodeURIComponent(choices(types.body, 'type')[0])}&range=28`);
    const slot = choices(slots.body, 'slot').at(-1)!;
    const check = await c.get((await c.post('/gp/appointments/slots', { slot }, slots)).location!);
    const reason = `Concurrent ${Date.now()}`;
    const [a, b] = await Promise.all([c.post('/gp/appointments/check', { reason }, check), c.post('/gp/appointments/check', { reason }, check)]);
    assert.equal(a.status, 303);
    assert.equal(b.status, 303);
    assert.equal(a.location, b.location);
    const list = await c.get('/gp/appointments');
    assert.equal(count(list.body, reason), 1);
    const writes = await system.db.query("SELECT * FROM gp_writes WHERE nhs_number = $1 AND kind = 'booking' AND state = 'done' AND result->>'reason' = $2", [PEOPLE.emis, reason]);
    assert.equal(writes.length, 1);
  });

  it('errors: no slot chosen, empty reason, unknown type, a slot in the past, a slot that has gone', async () => {
    const c = await demoCitizen(system, PEOPLE.tpp);
    const types = await c.get('/gp/appointments/book');
    const none = await c.post('/gp/appointments/book', {}, types);
    assert.equal(none.status, 400);
    assert.match(none.body, /Select the type of appointment you need/);
    const unknown = await c.post('/gp/appointments/book', { type: 'Séance' }, types);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /Select a type of appointment from the list/);
    assert.match(unknown.body, /<title>Error: /);
    const unknownGet = await c.get('/gp/appointments/slots?type=S%C3%A9ance');
    assert.equal(unknownGet.status, 400);
    assert.match(unknownGet.body, /Select a type of appointment from the list/);

    const type = choices(types.body, 'type')[0];
    const slots = await c.get(`/gp/appointments/slots?type=${encodeURIComponent(type)}`);
    const noSlot = await c.post('/gp/appointments/slots', {}, slots);
    assert.equal(noSlot.status, 400);
    assert.match(noSlot.body, /Select an appointment time/);

    // Two check pages for one slot: the first books, the second finds the slot gone and is offered fresh ones.
    const slot = choices(slots.body, 'slot')[1];
    const first = await c.get(`/gp/appointments/check?type=${encodeURIComponent(type)}&slot=${encodeURIComponent(slot)}`);
    const second = await c.get(`/gp/appointments/check?type=${encodeURIComponent(type)}&slot=${encodeURIComponent(slot)}`);
    const emptyReason = await c.post('/gp/appointments/check', { reason: '' }, first);
    assert.equal(emptyReason.status, 400);
    assert.match(emptyReason.body, /Enter what the appointment is for/);
    assert.equal((await c.post('/gp/appointments/check', { reason: 'First' }, first)).status, 303);
    const gone = await c.post('/gp/appointments/check', { reason: 'Second' }, second);
    assert.equal(gone.status, 409);
    assert.match(gone.body, /That appointment time has gone/);
    const fresh = choices(gone.body, 'slot');
    assert.ok(fresh.length > 0 && !fresh.includes(slot), 'fresh slots offered, without the one that went');

    // A past slot, found straight from the supplier.
    const adapter = gpSystems.tpp({ baseUrl: system.supplierUrls['gp-tpp'], policy: new SupplierPolicy('test-tpp') });
    const person = system.demoPeople.find((p) => p.nhsNumber === PEOPLE.tpp)!;
    const l = await adapter.link({ nhsNumber: PEOPLE.tpp, dateOfBirth: person.birthdate, odsCode: 'J81002' });
    const past = await adapter.searchSlots(l, { from: new Date(Date.now() - 5 * DAY).toISOString(), to: new Date(Date.now() - 3_600_000).toISOString() });
    await adapter.close?.();
    assert.ok(past.length > 0);
    const pastPage = await c.get(`/gp/appointments/check?type=${encodeURIComponent(past[0].appointmentType)}&slot=${encodeURIComponent(past[0].id)}`);
    assert.equal(pastPage.status, 400);
    assert.match(pastPage.body, /That appointment time has passed/);
    const pastPost = await c.post('/gp/appointments/check', { reason: 'Past', slot: past[0].id, type: past[0].appointmentType, formToken: 'pastpastpastpastpast' }, first);
    assert.equal(pastPost.status, 400);
    assert.match(pastPost.body, /That appointment time has passed/);
  });

  it("another citizen's appointment id is not found, and the attempt is audited as denied", async () => {
    const owner = await demoCitizen(system, PEOPLE.tpp);
    const reason = `Owners appointment ${Date.now()}`;
    await bookThroughPages(owner, reason);
    const id = appointmentIdFor(await owner.get('/gp/appointments'), reason);

    const other = await demoCitizen(system, PEOPLE.emis);
    const page = await other.get(`/gp/appointments/${encodeURIComponent(id)}/cancel`);
    assert.equal(page.status, 404);
    assert.match(page.body, /Page not found/);
    const own = await other.get('/gp/prescriptions/pharmacy'); // any page with a CSRF token
    const post = await other.post(`/gp/appointments/${encodeURIComponent(id)}/cancel`, { reason: 'Not mine' }, own);
    assert.equal(post.status, 404);
    const rows = await auditRows(PEOPLE.emis);
    assert.ok(rows.filter((r) => r.resource === 'gp-appointment' && r.outcome === 'denied').length >= 2);
    // The owner's appointment is untouched.
    assert.equal(count((await owner.get('/gp/appointments')).body, reason), 1);
    assert.doesNotMatch((await owner.get('/gp/appointments')).body, /Not mine/);
  });

  it('denials: no session goes to sign-in, P5 and P0 are asked to prove their identity', async () => {
    const anonymous = await system.app.inject({ url: '/gp/appointments' });
    assert.equal(anonymous.statusCode, 303);
    assert.match(anonymous.headers.location as string, /^\/auth\/sign-in\?returnTo=%2Fgp%2Fappointments/);
    const p5 = await demoCitizen(system, PEOPLE.p5);
    for (const url of ['/gp/appointments', '/gp/prescriptions', '/gp/record', '/gp/record/allergies']) {
      const r = await p5.get(url);
      assert.equal(r.status, 403, url);
      assert.match(r.body, /Prove your identity/);
    }
    const p0 = await demoCitizen(system, PEOPLE.tpp, { level: 'P0' });
    assert.equal((await p0.get('/gp/record/allergies')).status, 403);
    assert.equal((await auditRows(PEOPLE.p5)).filter((r) => r.supplier).length, 0, 'no supplier was asked for a P5 user');
  });

  it('a citizen whose details do not match their GP record is told so, and linkage is kept once made', async () => {
    const wrong = await demoCitizen(system, PEOPLE.emis2, { birthdate: '1900-01-01' }); // never linked before
    const r = await wrong.get('/gp/appointments');
    assert.equal(r.status, 403);
    assert.match(r.body, /We could not match your details with your GP record/);
    const c = await demoCitizen(system, PEOPLE.vision);
    await c.get('/gp/record/allergies');
    await c.get('/gp/record/medications');
    const links = await system.db.query('SELECT * FROM gp_linkages WHERE nhs_number = $1', [PEOPLE.vision]);
    assert.equal(links.length, 1);
    const linkAudits = (await auditRows(PEOPLE.vision)).filter((x) => x.action === 'link' && x.outcome === 'success');
    assert.equal(linkAudits.length, 1, 'linked once, then reused');
  });
});

describe('GP repeat prescriptions', () => {
  for (const sys of ['tpp', 'emis'] as const) {
    it(`${sys}: lists repeats and history, orders with a note once, changes the pharmacy`, async () => {
      const c = await demoCitizen(system, PEOPLE[sys]);
      const home = await c.get('/gp/prescriptions');
      assert.equal(home.status, 200, home.body);
      assert.match(home.body, /Repeat medicines/);
      assert.match(home.body, /Rejected/);
      assert.match(home.body, /Too early to reorder/);
      assert.match(home.body, /Issued/);

      const order = await c.get('/gp/prescriptions/order');
      assert.equal(order.status, 200);
      const meds = choices(order.body, 'medicines');
      assert.ok(meds.length > 0, 'something can be ordered');
      const none = await c.post('/gp/prescriptions/order', {}, order);
      assert.equal(none.status, 400);
      assert.match(none.body, /Select the medicines you need/);
      const notOnRepeat = await c.post('/gp/prescriptions/order', { medicines: 'rx-not-on-repeat' }, order);
      assert.equal(notOnRepeat.status, 400);
      assert.match(notOnRepeat.body, /Select only medicines on your repeat prescription list/);

      const note = `Going on holiday ${sys}`;
      const check = await c.post('/gp/prescriptions/order', { medicines: meds[0], note }, order);
      assert.equal(check.status, 200, check.body);
      assert.match(check.body, /Check your prescription request/);
      const sent = await c.post('/gp/prescriptions/check', {}, check);
      assert.equal(sent.status, 303, sent.body);
      const again = await c.post('/gp/prescriptions/check', {}, check);
      assert.equal(again.location, sent.location);
      const confirmation = await c.get(sent.location!);
      assert.match(confirmation.body, /Prescription request sent/);
      assert.match(confirmation.body, new RegExp(note));
      const requests = (await auditRows(PEOPLE[sys])).filter((r) => r.action === 'request' && r.outcome === 'success');
      assert.equal(requests.length, 1, 'requested once');

      // Now requested, the medicine can no longer be ordered: a crafted post is refused precisely.
      const order2 = await c.get('/gp/prescriptions/order');
      assert.ok(!choices(order2.body, 'medicines').includes(meds[0]));
      const tooEarly = await c.post('/gp/prescriptions/order', { medicines: meds[0] }, order2);
      assert.equal(tooEarly.status, 400);
      assert.match(tooEarly.body, /You cannot order/);

      const pharmacy = await c.get('/gp/prescriptions/pharmacy');
      assert.equal(pharmacy.status, 200);
      const bad = await c.post('/gp/prescriptions/pharmacy', { pharmacy: 'XYZ' }, pharmacy);
      assert.equal(bad.status, 400);
      assert.match(bad.body, /Enter a pharmacy code in the right format/);
      // A pharmacy other than the current one, so the change shows.
      const target = /\bFK789\b/.test((await c.get('/gp/prescriptions')).body) ? 'FP012' : 'FK789';
      assert.doesNotMatch((await c.get('/services/national-record')).body, new RegExp(`\\b${target}\\b`), 'the national record before');
      const changed = await c.post('/gp/prescriptions/pharmacy', { pharmacy: target.toLowerCase() }, pharmacy);
      assert.equal(changed.status, 303);
      const after = await c.get(changed.location!);
      assert.match(after.body, /Your nominated pharmacy has been changed/);
      assert.match(after.body, new RegExp(`code ${target}`));
      // The GP system nominates on the Spine, and the details page reads the national record afresh: one pharmacy.
      assert.match((await c.get('/services/national-record')).body, new RegExp(`\\b${target}\\b`));
    });
  }
});

describe('GP record', () => {
  for (const sys of ['tpp', 'emis'] as const) {
    it(`${sys}: every section, with test results' value, unit, range and date`, async () => {
      const c = await demoCitizen(system, PEOPLE[sys]);
      const index = await c.get('/gp/record');
      assert.equal(index.status, 200);
      for (const section of ['allergies', 'medications', 'problems', 'immunisations', 'test-results', 'consultations']) {
        const r = await c.get(`/gp/record/${section}`);
        assert.equal(r.status, 200, `${section}: ${r.body.slice(0, 200)}`);
        assert.doesNotMatch(r.body, /does not share/);
      }
      const results = await c.get('/gp/record/test-results');
      assert.match(results.body, /SNOMED CT \d+/);
      // Units as people read them, not as UCUM codes: 128 mmHg, 36.5°C, 93 per minute, 18.5 to 24.9 kg/m².
      assert.match(results.body, /\d+ mmHg/);
      assert.match(results.body, /\d+(\.\d)?°C/);
      assert.match(results.body, /\d+ per minute/);
      assert.match(results.body, /\d+(\.\d+)? to \d+(\.\d+)? kg\/m²/);
      assert.doesNotMatch(results.body, /mm\[Hg\]|\d Cel\b|\/min\b/);
      assert.equal((await c.get('/gp/record/not-a-section')).status, 404);
      const audits = (await auditRows(PEOPLE[sys])).filter((x) => x.resource.startsWith('gp-record:'));
      assert.ok(audits.length >= 7 && audits.every((x) => x.supplier === `gp-${sys}`));
    });
  }

  it("follows the practice's record-access setting (summary: no problems shown)", async () => {
    const c = await demoCitizen(system, PEOPLE.vision);
    const allergies = await c.get('/gp/record/allergies');
    assert.doesNotMatch(allergies.body, /does not share/);
    const problems = await c.get('/gp/record/problems');
    assert.equal(problems.status, 200);
    assert.match(problems.body, /does not share this part of your record online/);
  });
});

describe('GP supplier faults and the access log', () => {
  let faulty: RunningSandbox;
  before(async () => {
    faulty = await startSandbox(gpTppSandbox, { port: 0, faultMode: 'garbage' });
  });
  after(async () => {
    await faulty?.close();
  });

  it('the access log shows GP reads and writes with the supplier', async () => {
    const c = await demoCitizen(system, PEOPLE.emis);
    const log = await c.get('/access-log');
    assert.equal(log.status, 200);
    assert.match(log.body, /Booked a GP appointment<br><span class="nhsuk-body-s">Held by your GP surgery&#39;s system \(EMIS\)/);
    assert.match(log.body, /Cancelled a GP appointment/);
    assert.match(log.body, /Viewed your repeat prescriptions/);
    assert.match(log.body, /Refused/);
    assert.doesNotMatch(log.body, /gp-appointment|gp-emis/, 'no audit codes on the citizen\'s page');
  });

  it('a garbage-speaking supplier: only the GP part says so; the hub and other suppliers work', async () => {
    const healthyUrl = system.supplierUrls['gp-tpp'];
    system.supplierUrls['gp-tpp'] = faulty.url;
    try {
      const c = await demoCitizen(system, PEOPLE.tpp);
      const page = await c.get('/gp/prescriptions');
      assert.equal(page.status, 200);
      assert.equal(count(page.body, 'GP services are not available right now'), 3, 'each GP section says so');
      assert.match(page.body, /Your prescriptions/);
      assert.match(page.body, /Sign out/, 'the rest of the page is there');
      const appts = await c.get('/gp/appointments');
      assert.equal(appts.status, 503);
      assert.match(appts.body, /GP services are not available right now/);
      const hub = await c.get('/');
      assert.equal(hub.status, 200);
      assert.match(hub.body, /GP services/);
      const failures = (await auditRows(PEOPLE.tpp)).filter((r) => r.supplier === 'gp-tpp' && r.outcome === 'failed');
      assert.ok(failures.length >= 3, 'failed supplier reads are audited');

      const emis = await demoCitizen(system, PEOPLE.emis);
      const ok = await emis.get('/gp/prescriptions');
      assert.equal(ok.status, 200);
      assert.doesNotMatch(ok.body, /not available right now/);
    } finally {
      system.supplierUrls['gp-tpp'] = healthyUrl;
    }
  });

  it('a stopped supplier: the record section says GP services are not available', async () => {
    const healthyUrl = system.supplierUrls['gp-microtest'];
    system.supplierUrls['gp-microtest'] = 'http://127.0.0.1:9'; // discard port: nothing listens
    try {
      const c = await demoCitizen(system, PEOPLE.microtest);
      const r = await c.get('/gp/record/allergies');
      assert.equal(r.status, 503);
      assert.match(r.body, /GP services are not available right now/);
      assert.match(r.body, /Nothing has been booked|not available right now/);
      const ok = await (await demoCitizen(system, PEOPLE.emis)).get('/gp/record/allergies');
      assert.equal(ok.status, 200);
    } finally {
      system.supplierUrls['gp-microtest'] = healthyUrl;
    }
  });
});
