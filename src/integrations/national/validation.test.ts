// Tests for the pre-send validators the citizen pages and the API use.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRealDate, isValidNhsNumber, temporaryStayProblem, validateAddressLine, validateEmergencyContact, validateEmail, validateNhsNumber, validateOrganCode, validatePastDate, validatePharmacyCode, validatePostcode, validateTime, validateUkMobile, validateUkPhone } from './validation.ts';

describe('validation', () => {
  it('checks NHS numbers by modulus 11', () => {
    assert.equal(isValidNhsNumber('9990079196'), true);
    assert.equal(isValidNhsNumber('9990079197'), false);
    assert.deepEqual(validateNhsNumber('999 007 9196'), { ok: true, value: '9990079196' });
    assert.equal(validateNhsNumber('12345').ok, false);
    assert.equal(validateNhsNumber('').ok, false);
  });
  it('normalises and rejects postcodes', () => {
    assert.deepEqual(validatePostcode('ts181hu'), { ok: true, value: 'TS18 1HU' });
    assert.deepEqual(validatePostcode(' SW1A 1AA '), { ok: true, value: 'SW1A 1AA' });
    assert.equal(validatePostcode('EC1A1BB').ok, true);
    for (const bad of ['', 'TS18', '12345', 'QQ1 1AA', 'TS18 1CI']) assert.equal(validatePostcode(bad).ok, false, bad);
  });
  it('checks emails', () => {
    assert.equal(validateEmail('a.b@example.co.uk').ok, true);
    for (const bad of ['', 'no-at.example.com', 'a@b', 'a b@example.com', 'a@example..com']) assert.equal(validateEmail(bad).ok, false, bad);
  });
  it('checks and normalises UK mobiles', () => {
    assert.deepEqual(validateUkMobile('07700 900 982'), { ok: true, value: '07700900982' });
    assert.deepEqual(validateUkMobile('+44 7700 900982'), { ok: true, value: '07700900982' });
    for (const bad of ['', '01131231234', '0770090098', 'seven']) assert.equal(validateUkMobile(bad).ok, false, bad);
  });
  it('checks and normalises UK phone numbers, landline or mobile', () => {
    assert.deepEqual(validateUkPhone('01632 960 001'), { ok: true, value: '01632960001' });
    assert.deepEqual(validateUkPhone('(020) 7946 0000'), { ok: true, value: '02079460000' });
    assert.deepEqual(validateUkPhone('+44 7700 900982'), { ok: true, value: '07700900982' });
    assert.deepEqual(validateUkPhone('016977 3456'), { ok: true, value: '0169773456' });
    for (const bad of ['', '12345', '09098 790 000', '0800 123 4567', '+33 1 23 45 67 89', 'phone me']) assert.equal(validateUkPhone(bad).ok, false, bad);
  });
  it('checks pharmacy codes', () => {
    assert.deepEqual(validatePharmacyCode(' fa 424 '), { ok: true, value: 'FA424' });
    for (const bad of ['', 'B86001', 'F123', 'FA4245', 'FA-42']) assert.equal(validatePharmacyCode(bad).ok, false, bad);
  });
  it('refuses future and impossible dates', () => {
    const today = new Date('2026-11-27T10:00:00Z');
    assert.equal(validatePastDate('2026-11-27', today).ok, true);
    assert.equal(validatePastDate('2026-11-28', today).ok, false);
    assert.equal(validatePastDate('2023-02-30', today).ok, false);
    assert.equal(validatePastDate('27/11/2020', today).ok, false);
  });
  it('knows organ codes and times', () => {
    assert.equal(validateOrganCode('Small-Bowel').ok, true);
    const bad = validateOrganCode('spleen');
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.message : '', /spleen/);
    assert.equal(validateTime('21:30').ok, true);
    assert.equal(validateTime('24:00').ok, false);
  });

  it('knows real calendar days, and a temporary stay that has not ended and lasts at most 90 days', () => {
    assert.equal(isRealDate('2028-02-29'), true);
    assert.equal(isRealDate('2026-02-29'), false);
    assert.equal(isRealDate('2026-2-1'), false);
    const today = new Date('2026-11-27T12:00:00Z');
    assert.equal(temporaryStayProblem('2026-11-27', '2026-11-27', today), undefined);
    assert.equal(temporaryStayProblem('2026-11-01', '2027-01-30', today), undefined, '90 days');
    assert.match(temporaryStayProblem('2026-11-01', '2027-01-31', today) ?? '', /90 days at most/);
    assert.match(temporaryStayProblem('2026-12-10', '2026-12-01', today) ?? '', /same as or after the start date/);
    assert.match(temporaryStayProblem('2026-11-01', '2026-11-26', today) ?? '', /today or in the future/);
    assert.match(temporaryStayProblem(undefined, '2026-11-26', today) ?? '', /today or in the future/, 'an end already past, whatever the start');
    assert.equal(temporaryStayProblem(undefined, '2027-06-01', today), undefined, 'no length to check without a start');
  });

  it('checks an address line and an emergency contact with messages that say what they are about', () => {
    assert.deepEqual(validateAddressLine(' 10 High Street '), { ok: true, value: '10 High Street' });
    assert.equal(validateAddressLine('').ok, false);
    const empty = validateEmergencyContact({ name: '', relationship: ' ', phone: '' });
    assert.deepEqual(Object.values(empty).map((r) => (r.ok ? '' : r.message)), [
      'Enter the full name of your emergency contact',
      'Enter how your emergency contact is related to you, like partner or friend',
      'Enter a phone number for your emergency contact',
    ]);
    const given = validateEmergencyContact({ name: 'Sam Okafor', relationship: 'brother', phone: '+44 1632 960001' });
    assert.deepEqual(given.phone, { ok: true, value: '01632960001' });
    assert.equal(validateEmergencyContact({ name: 'A', relationship: 'B', phone: '123' }).phone.ok, false);
  });
});
