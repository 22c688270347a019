// National services over HTTP against the agency sandboxes: each flow, denials, bad input sent nowhere,
// version conflicts, retries not doubled, one agency's fault degrading only its own pages, and the access log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningSystem } from '../../system.ts';
import { signedInCitizen, startTestSystem } from '../../testing/factories.ts';
import { sandboxes } from '../../../sandboxes/registry.ts';
import { startSandbox } from '../../../sandboxes/common/server.ts';
import { createDemographicsService } from '../../integrations/national/registry.ts';
import { newRequestId } from '../../integrations/national/http.ts';

const AMIRA = '9990079196';
const DANIEL = '9990237573';
const THIRD = '9990316767';
const FOURTH = '9990633525';
const FIFTH = '9990395950';

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const text = (html: string) => decode(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ');

interface Form { cookie: string; fields: Record<string, string[]> }

function hiddenFields(html: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) (out[decode(m[1])] ??= []).push(decode(m[2]));
  return out;
}

function encode(fields: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

describe('national services on the web', () => {
  let s: RunningSystem;
  before(async () => { s = await startTestSystem({}, { withSandboxes: true }); });
  after(async () => { await s.close(); });

  const get = (url: string, cookie?: string) => s.app.inject({ url, headers: cookie ? { cookie } : {} });

  /** GETs a form page: its CSRF cookie joined to the session cookie, and its hidden fields. */
  async function form(url: string, session: string): Promise<Form> {
    const r = await get(url, session);
    assert.equal(r.statusCode, 200, `${url}: ${text(r.body).slice(0, 300)}`);
    const csrf = [r.headers['set-cookie']].flat().map(String).find((c) => c.startsWith('fd_csrf='))?.split(';')[0];
    return { cookie: csrf ? `${session}; ${csrf}` : session, fields: hiddenFields(r.body) };
  }

  /** POSTs the page's hidden fields plus answers; returns the response and the next page's hidden fields. */
  async function post(url: string, f: Form, answers: Record<string, string | string[]>) {
    const r = await s.app.inject({ method: 'POST', url, headers: { cookie: f.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: encode({ ...f.fields, ...answers }) });
    return { r, next: { cookie: f.cookie, fields: hiddenFields(r.body) } as Form, text: text(r.body) };
  }

  const writesFor = async (nhs: string) => Number((await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM national_writes WHERE nhs_number = $1', [nhs]))[0].n);

  it('a P9 citizen changes their home address and mobile: check answers, confirmation, new version shown', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: AMIRA });
    const view = await get('/services/national-record', cookie);
    const v0 = Number(/Record version (\d+)/.exec(text(view.body))?.[1]);
    assert.ok(Number.isInteger(v0));
    assert.match(text(view.body), /Your name can be changed by your GP practice/);
    assert.match(text(view.body), /Your NHS number never changes\./);

    const f = await form('/services/national-record/change/home-address', cookie);
    const check = await post('/services/national-record/change/home-address', f, { line1: '4 Mill Lane', line2: '', city: 'Leeds', postcode: 'ls1 4ap', 'movedIn[day]': '1', 'movedIn[month]': '2', 'movedIn[year]': '2024' });
    assert.equal(check.r.statusCode, 200);
    assert.match(check.text, /Check your answers/);
    assert.match(check.text, /4 Mill Lane, Leeds, LS1 4AP/);
    assert.equal(await writesFor(AMIRA), 0, 'nothing is sent before the citizen confirms');
    const done = await post('/services/national-record/change/home-address', check.next, {});
    assert.equal(done.r.statusCode, 200, done.text);
    assert.match(done.text, /Your details have been updated/);
    assert.match(done.text, new RegExp(`Version ${v0 + 1} of this record`));

    const m = await form('/services/national-record/change/mobile', cookie);
    const mc = await post('/services/national-record/change/mobile', m, { value: '07700 900 456' });
    const md = await post('/services/national-record/change/mobile', mc.next, {});
    assert.match(md.text, new RegExp(`Version ${v0 + 2} of this record`));
    const after = text((await get('/services/national-record', cookie)).body);
    assert.match(after, /4 Mill Lane, Leeds, LS1 4AP/);
    assert.match(after, /07700900456/);
    assert.match(after, new RegExp(`Record version ${v0 + 2}`));
  });

  it('changes the nominated pharmacy, the emergency contact and the communication language', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: FIFTH });
    const before = text((await get('/services/national-record', cookie)).body);
    assert.match(before, /Nominated pharmacy FK789 Change/, 'the pharmacy demo/people.json gives this person, as their GP system holds it');
    assert.match(before, /Communication language English Change/);
    assert.match(before, /Date of birth \d{1,2} [A-Z][a-z]+ \d{4} /, 'a date of birth as people write it');
    assert.match(before, /GP surgery Orchid House Surgery \(J81002\)/);
    const v0 = Number(/Record version (\d+)/.exec(before)?.[1]);

    const change = async (field: string, answers: Record<string, string>, shown: RegExp) => {
      const f = await form(`/services/national-record/change/${field}`, cookie);
      const check = await post(`/services/national-record/change/${field}`, f, answers);
      assert.equal(check.r.statusCode, 200, check.text.slice(0, 300));
      assert.match(check.text, /Check your answers/);
      assert.match(check.text, shown);
      const done = await post(`/services/national-record/change/${field}`, check.next, {});
      assert.equal(done.r.statusCode, 200, done.text.slice(0, 300));
      assert.match(done.text, /Your details have been updated/);
      assert.match(done.text, shown);
    };
    await change('nominated-pharmacy', { pharmacy: ' fx 123 ' }, /FX123/);
    await change('emergency-contact', { contactName: 'Grace Okafor', contactRelationship: 'Daughter', contactPhone: '01632 960 001' }, /Grace Okafor.*Daughter.*01632960001/);
    await change('language', { language: 'pl' }, /Polish/);

    const after = text((await get('/services/national-record', cookie)).body);
    assert.match(after, /Nominated pharmacy FX123 Change/);
    assert.match(after, /Emergency contact Grace Okafor \(Daughter\), 01632960001 Change/);
    assert.match(after, /Communication language Polish Change/);
    assert.match(after, new RegExp(`Record version ${v0 + 3}`));
    // As the agency holds it, read straight from the sandbox.
    const pds = createDemographicsService({ baseUrl: s.supplierUrls.pds, policy: s.policies.for('pds-check') });
    const rec = await pds.get(FIFTH);
    assert.equal(rec.nominatedPharmacyOdsCode, 'FX123');
    assert.deepEqual(rec.emergencyContact, { name: 'Grace Okafor', relationship: 'Daughter', phone: '01632960001' });
    assert.equal(rec.language?.code, 'pl');

    const remove = await form('/services/national-record/change/remove-emergency-contact', cookie);
    const removed = await post('/services/national-record/change/remove-emergency-contact', remove, {});
    assert.match(removed.text, /Emergency contact removed from the national record/);
    assert.equal((await pds.get(FIFTH)).emergencyContact, undefined);
    assert.match(text((await get('/services/national-record', cookie)).body), /Emergency contact None Add/);
  });

  it('a temporary address is accepted for up to 90 days, refused beyond', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: FIFTH });
    const today = new Date();
    const day = (n: number) => new Date(today.getTime() + n * 86_400_000);
    const parts = (p: string, d: Date) => ({ [`${p}[day]`]: String(d.getUTCDate()), [`${p}[month]`]: String(d.getUTCMonth() + 1), [`${p}[year]`]: String(d.getUTCFullYear()) });
    const f = await form('/services/national-record/change/temporary-address', cookie);
    const bad = await post('/services/national-record/change/temporary-address', f, { line1: '1 Sea View', postcode: 'SW1A 1AA', ...parts('from', day(0)), ...parts('to', day(120)) });
    assert.equal(bad.r.statusCode, 400);
    assert.match(bad.text, /90 days at most/);
    const ok = await post('/services/national-record/change/temporary-address', f, { line1: '1 Sea View', postcode: 'SW1A 1AA', ...parts('from', day(0)), ...parts('to', day(60)) });
    const done = await post('/services/national-record/change/temporary-address', ok.next, {});
    assert.equal(done.r.statusCode, 200, done.text);
    assert.match(text((await get('/services/national-record', cookie)).body), /1 Sea View, SW1A 1AA \(\d{1,2} [A-Z][a-z]+ \d{4} to \d{1,2} [A-Z][a-z]+ \d{4}\)/);

    // Removing it: the check page is the question, with a warning button; then the record holds none.
    const remove = await form('/services/national-record/change/remove-temporary-address', cookie);
    const question = text((await get('/services/national-record/change/remove-temporary-address', cookie)).body);
    assert.match(question, /Remove your temporary address/);
    assert.match(question, /1 Sea View, SW1A 1AA/);
    const removed = await post('/services/national-record/change/remove-temporary-address', remove, {});
    assert.equal(removed.r.statusCode, 200, removed.text.slice(0, 300));
    assert.match(removed.text, /Temporary address removed from the national record/);
    assert.match(text((await get('/services/national-record', cookie)).body), /Temporary address None Add/);
    // Nothing left to remove: back to the record, nothing sent.
    const nothing = await get('/services/national-record/change/remove-temporary-address', cookie);
    assert.equal(nothing.statusCode, 303);
  });

  it('bad answers get precise NHS-pattern errors and nothing is sent to the agency', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: FOURTH });
    const cases: [string, Record<string, string>, RegExp][] = [
      ['home-address', { line1: '1 High St', postcode: 'ZZ99 ZZZZ' }, /Enter a real postcode, like AA1 1AA/],
      ['home-address', { line1: '', postcode: 'LS1 4AP' }, /Enter the first line of the address/],
      ['home-address', { line1: '1 High St', postcode: 'LS1 4AP', 'movedIn[day]': '1', 'movedIn[month]': '1', 'movedIn[year]': String(new Date().getUTCFullYear() + 2) }, /The date you moved in must be today or in the past/],
      ['email', { value: 'amira@@example' }, /Enter an email address in the correct format/],
      ['mobile', { value: '0113 496 0000' }, /Enter a UK mobile phone number/],
      ['mobile', { value: '' }, /Enter a mobile phone number/],
      ['nominated-pharmacy', { pharmacy: 'B86001' }, /Enter a pharmacy code in the right format, like FA123/],
      ['nominated-pharmacy', { pharmacy: '' }, /Enter the pharmacy code/],
      ['emergency-contact', { contactName: '', contactRelationship: 'Friend', contactPhone: '07700900111' }, /Enter the full name of your emergency contact/],
      ['emergency-contact', { contactName: 'Sam Taylor', contactRelationship: '', contactPhone: '07700900111' }, /Enter how your emergency contact is related to you/],
      ['emergency-contact', { contactName: 'Sam Taylor', contactRelationship: 'Friend', contactPhone: '12345' }, /Enter a UK phone number, like 01632 960 001/],
      ['language', { language: '' }, /Select the language you want the NHS to use with you/],
      ['language', { language: 'xx-evil' }, /Select a language from the list/],
    ];
    for (const [field, answers, message] of cases) {
      const f = await form(`/services/national-record/change/${field}`, cookie);
      const r = await post(`/services/national-record/change/${field}`, f, answers);
      assert.equal(r.r.statusCode, 400, `${field} ${JSON.stringify(answers)}`);
      assert.match(r.text, /There is a problem/);
      assert.match(r.text, message);
      assert.match(r.r.body, /<title>Error: /);
      assert.match(r.r.body, /nhsuk-error-message/);
    }
    // A patch outside the allowed list: refused here, with who can change it, and never sent.
    const f = await form('/services/national-record/change/mobile', cookie);
    const name = await post('/services/national-record/change/name', f, { value: 'Someone Else' });
    assert.equal(name.r.statusCode, 403);
    assert.match(name.text, /Only your GP practice can change your name/);
    const gp = await post('/services/national-record/change/gp-practice', f, { value: 'B86001' });
    assert.equal(gp.r.statusCode, 403);
    const nhsNumber = await post('/services/national-record/change/nhs-number', f, { value: '9990079196' });
    assert.equal(nhsNumber.r.statusCode, 403);
    assert.match(nhsNumber.text, /Your NHS number never changes\. Nothing was sent\./);
    assert.equal((await get('/services/national-record/change/birth-date', cookie)).statusCode, 404);
    assert.equal(await writesFor(FOURTH), 0);
  });

  it('a resubmitted confirmation is not applied twice', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: THIRD });
    const f = await form('/services/national-record/change/email', cookie);
    const check = await post('/services/national-record/change/email', f, { value: 'third@example.com' });
    const first = await post('/services/national-record/change/email', check.next, {});
    const second = await post('/services/national-record/change/email', check.next, {});
    assert.equal(first.r.statusCode, 200);
    assert.equal(second.r.statusCode, 200);
    const v1 = /Version (\d+) of this record/.exec(first.text)?.[1];
    assert.ok(v1);
    assert.equal(/Version (\d+) of this record/.exec(second.text)?.[1], v1, 'the second submit answers from the record, not a second change');
    assert.equal(await writesFor(THIRD), 1);
  });

  it('a version conflict re-reads and shows what changed before asking again', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: DANIEL });
    const f = await form('/services/national-record/change/mobile', cookie);
    const check = await post('/services/national-record/change/mobile', f, { value: '07700 900 111' });
    // Someone else changes the record first (say, the GP surgery).
    const pds = createDemographicsService({ baseUrl: s.supplierUrls['pds'], policy: s.policies.for('pds-test') });
    const now = await pds.get(DANIEL);
    await pds.update(DANIEL, { changes: [{ kind: 'mobile', value: '07700900999' }], expectedVersion: now.version, requestId: newRequestId() });
    const conflict = await post('/services/national-record/change/mobile', check.next, {});
    assert.equal(conflict.r.statusCode, 409);
    assert.match(conflict.text, /What changed/);
    assert.match(conflict.text, /on the record now 07700900999/);
    assert.match(conflict.text, /07700900111/);
    const again = await post('/services/national-record/change/mobile', conflict.next, {});
    assert.equal(again.r.statusCode, 200, again.text);
    assert.match(again.text, new RegExp(`Version ${now.version + 2} of this record`));
    assert.equal((await pds.get(DANIEL)).mobile, '07700900111');
  });

  it('denies without a session, below P9 for the record, and for another citizen on every route', async () => {
    const none = await get('/services/national-record');
    assert.equal(none.statusCode, 303);
    assert.match(String(none.headers.location), /^\/auth\/sign-in/);
    const p5 = await signedInCitizen(s, { level: 'P5', nhsNumber: '9990475148' });
    const up = await get('/services/national-record', p5.cookie);
    assert.equal(up.statusCode, 403);
    assert.match(text(up.body), /Prove your identity/);
    assert.equal((await get('/services/organ-donation', p5.cookie)).statusCode, 200, 'organ donation needs only P5');
    assert.equal((await get('/services/contact-preferences', p5.cookie)).statusCode, 200);

    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: AMIRA });
    const gets = ['/services/national-record', '/services/national-record/change/mobile', '/services/national-record/change/nominated-pharmacy',
      '/services/national-record/change/emergency-contact', '/services/national-record/change/language', '/services/national-record/change/remove-emergency-contact', '/services/organ-donation', '/services/organ-donation/decision', '/services/organ-donation/record/opt-in',
      '/services/organ-donation/reaffirm', '/services/organ-donation/withdraw', '/services/organ-donation/history', '/services/contact-preferences', '/services/contact-preferences/channels',
      '/services/contact-preferences/data-opt-out', '/services/contact-preferences/history'];
    for (const u of gets) {
      const r = await get(`${u}?nhsNumber=${DANIEL}`, cookie);
      assert.equal(r.statusCode, 403, u);
      assert.match(text(r.body), /You can only see your own information/);
    }
    const f = await form('/services/national-record/change/mobile', cookie);
    const posts: [string, Record<string, string>][] = [
      ['/services/national-record/change/mobile', { value: '07700900222' }], ['/services/national-record/change/nominated-pharmacy', { pharmacy: 'FA123' }],
      ['/services/national-record/change/emergency-contact', { contactName: 'Sam Taylor', contactRelationship: 'Friend', contactPhone: '07700900111' }],
      ['/services/national-record/change/language', { language: 'cy' }], ['/services/national-record/change/remove-temporary-address', {}],
      ['/services/national-record/change/remove-emergency-contact', { requestId: newRequestId() }], ['/services/organ-donation/decision', { decision: 'opt-out' }],
      ['/services/organ-donation/record/opt-out', {}], ['/services/organ-donation/reaffirm', { requestId: newRequestId() }], ['/services/organ-donation/withdraw', { reason: 'x' }],
      ['/services/contact-preferences/channels', { channels: 'sms', quiet: 'no' }], ['/services/contact-preferences/data-opt-out', { optedOut: 'yes' }],
    ];
    for (const [u, answers] of posts) {
      const r = await post(u, f, { ...answers, nhsNumber: DANIEL });
      assert.equal(r.r.statusCode, 403, u);
    }
    assert.equal(await writesFor(DANIEL), 2, 'only the conflict test wrote for this person (its conflicted try and its second try)');
    const denied = await s.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE subject_nhs_number = $1 AND outcome = 'denied'", [DANIEL]);
    assert.ok(denied[0].n >= gets.length + posts.length);
  });

  it('records, amends, reaffirms and withdraws an organ donation decision, with history', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P5', nhsNumber: '9990475148' });
    const none = text((await get('/services/organ-donation', cookie)).body);
    assert.match(none, /No decision recorded/);
    assert.doesNotMatch(none, /Register version/, 'no version to show before anything is registered');
    const d = await form('/services/organ-donation/decision', cookie);
    const empty = await post('/services/organ-donation/decision', d, {});
    assert.equal(empty.r.statusCode, 400);
    assert.match(empty.text, /Select your organ donation decision/);
    const go = await post('/services/organ-donation/decision', d, { decision: 'opt-in' });
    assert.equal(go.r.statusCode, 303);
    assert.equal(go.r.headers.location, '/services/organ-donation/record/opt-in');

    const f = await form('/services/organ-donation/record/opt-in', cookie);
    const noFaith = await post('/services/organ-donation/record/opt-in', f, { organs: 'all' });
    assert.equal(noFaith.r.statusCode, 400);
    assert.match(noFaith.text, /Select whether NHS staff should speak to your family about your faith or beliefs/);
    const tampered = await post('/services/organ-donation/record/opt-in', f, { organs: 'some', 'organ-heart': 'yes', 'organ-spleen': 'yes', faith: 'no' });
    assert.equal(tampered.r.statusCode, 400);
    assert.match(tampered.text, /"spleen" is not an organ you can choose/);
    const badReligion = await post('/services/organ-donation/record/opt-in', f, { organs: 'all', faith: 'no', religion: 'NOT-A-CODE' });
    assert.equal(badReligion.r.statusCode, 400);
    assert.equal(await writesFor('9990475148'), 0);

    const check = await post('/services/organ-donation/record/opt-in', f, { organs: 'some', 'organ-heart': 'yes', 'organ-kidneys': 'yes', 'organ-corneas': 'no', faith: 'not-applicable' });
    assert.equal(check.r.statusCode, 200, check.text);
    assert.match(check.text, /Heart, Kidneys; not: Corneas/);
    const done = await post('/services/organ-donation/record/opt-in', check.next, {});
    assert.equal(done.r.statusCode, 200, done.text);
    assert.match(done.text, /Your decision has been recorded/);

    const amend = await form('/services/organ-donation/record/opt-out', cookie);
    const ac = await post('/services/organ-donation/record/opt-out', amend, {});
    const ad = await post('/services/organ-donation/record/opt-out', ac.next, {});
    assert.match(ad.text, /do not want to donate/);

    const re = await form('/services/organ-donation/reaffirm', cookie);
    const rd = await post('/services/organ-donation/reaffirm', re, {});
    assert.match(rd.text, /Your decision has been confirmed/);

    const w = await form('/services/organ-donation/withdraw', cookie);
    assert.match(text((await get('/services/organ-donation/withdraw', cookie)).body), /Withdrawing is not opting out/);
    const noReason = await post('/services/organ-donation/withdraw', w, { reason: ' ' });
    assert.equal(noReason.r.statusCode, 400);
    assert.match(noReason.text, /Enter why you are withdrawing your decision/);
    const wc = await post('/services/organ-donation/withdraw', w, { reason: 'I want to talk to my family first' });
    const wd = await post('/services/organ-donation/withdraw', wc.next, {});
    assert.match(wd.text, /Your decision has been withdrawn/);
    assert.match(wd.text, /not the same as opting out/);
    assert.match(text((await get('/services/organ-donation', cookie)).body), /No decision recorded/);

    const h = text((await get('/services/organ-donation/history', cookie)).body);
    for (const a of ['Recorded', 'Amended', 'Reaffirmed', 'Withdrawn']) assert.match(h, new RegExp(`Version \\d What happened ${a} When \\d{1,2} [A-Z][a-z]+ \\d{4} at \\d{2}:\\d{2}`));
    assert.match(h, /I want to talk to my family first/);
  });

  it('sets contact preferences and the national data opt-out, with history', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: THIRD });
    const f = await form('/services/contact-preferences/channels', cookie);
    const bad = await post('/services/contact-preferences/channels', f, { channels: 'sms', quiet: 'yes', start: '25:00', end: '07:00' });
    assert.equal(bad.r.statusCode, 400);
    assert.match(bad.text, /Enter the start time in 24-hour format/);
    const none = await post('/services/contact-preferences/channels', f, { quiet: 'no' });
    assert.match(none.text, /Select at least one way we can contact you/);
    const check = await post('/services/contact-preferences/channels', f, { channels: ['sms', 'email'], quiet: 'yes', start: '21:30', end: '07:30' });
    const done = await post('/services/contact-preferences/channels', check.next, {});
    assert.equal(done.r.statusCode, 200, done.text);
    assert.match(done.text, /Text message, Email/);

    const page = text((await get('/services/contact-preferences/data-opt-out', cookie)).body);
    assert.match(page, /GP-level objection/);
    assert.match(page, /child under 13/);
    const o = await form('/services/contact-preferences/data-opt-out', cookie);
    const oc = await post('/services/contact-preferences/data-opt-out', o, { optedOut: 'yes' });
    const od = await post('/services/contact-preferences/data-opt-out', oc.next, {});
    assert.match(od.text, /Opted out/);
    const view = text((await get('/services/contact-preferences', cookie)).body);
    assert.match(view, /21:30 to 07:30/);
    assert.match(view, /Opted out/);
    const h = text((await get('/services/contact-preferences/history', cookie)).body);
    assert.match(h, /What changed National data opt-out When \d{1,2} [A-Z][a-z]+ \d{4} at \d{2}:\d{2}/);
    assert.match(h, /Text message, Email; quiet hours 21:30 to 07:30/);
  });

  it('the account page shows the details as the national record holds them, for P9 only', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: AMIRA });
    const account = text((await get('/account', cookie)).body);
    assert.match(account, /Your details on the national record/);
    assert.match(account, /4 Mill Lane, Leeds, LS1 4AP/);
    const p5 = await signedInCitizen(s, { level: 'P5', nhsNumber: '9990475148' });
    assert.doesNotMatch(text((await get('/account', p5.cookie)).body), /Your details on the national record/);
  });

  it('shows every agency read and write on the access log', async () => {
    const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: AMIRA });
    const page = (await get('/access-log', cookie)).body;
    assert.match(page, /<table class="nhsuk-table nhsuk-table--responsive" role="table">/, 'the table stacks on a narrow screen');
    const log = text(page);
    // Each cell carries its column's heading, shown when the table stacks on a narrow screen.
    assert.match(log, /Who You What Viewed your details on the national record Held by the Personal Demographics Service Outcome Done/);
    assert.match(log, /Who You What Changed your details on the national record Held by the Personal Demographics Service Outcome Done/);
  });
});

describe('one agency failing', () => {
  it('degrades only its own pages: the others keep working', async () => {
    const defs = sandboxes.filter((d) => d.name === 'organ-donation' || d.name === 'contact-preferences');
    const running = await Promise.all(defs.map((d) => startSandbox(d, { port: 0 })));
    const urls = Object.fromEntries(running.map((r) => [r.name, r.url]));
    // Nothing listens on port 9 here: every call to the demographics agency fails at once.
    const s = await startTestSystem({}, { supplierUrls: { ...urls, pds: 'http://127.0.0.1:9' } });
    try {
      const { cookie } = await signedInCitizen(s, { level: 'P9', nhsNumber: AMIRA });
      const rec = await s.app.inject({ url: '/services/national-record', headers: { cookie } });
      assert.equal(rec.statusCode, 200);
      assert.match(text(rec.body), /not available right now/);
      const form = await s.app.inject({ url: '/services/national-record/change/mobile', headers: { cookie } });
      assert.equal(form.statusCode, 503);
      const od = await s.app.inject({ url: '/services/organ-donation', headers: { cookie } });
      assert.equal(od.statusCode, 200);
      assert.doesNotMatch(text(od.body), /not available right now/);
      const account = await s.app.inject({ url: '/account', headers: { cookie } });
      assert.equal(account.statusCode, 200);
      assert.match(text(account.body), /Your details on the national record are not available right now/);
      assert.match(text(account.body), /999 007 9196/);
      const cp = await s.app.inject({ url: '/services/contact-preferences', headers: { cookie } });
      assert.doesNotMatch(text(cp.body), /not available right now/);
      const failed = await s.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE subject_nhs_number = $1 AND supplier = 'pds' AND outcome = 'failed'", [AMIRA]);
      assert.ok(failed[0].n >= 1);
    } finally {
      await s.close();
      await Promise.all(running.map((r) => r.close()));
    }
  });
});
