// Identity claims are checked before a session is made: malformed ones are refused, never guessed at.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClaimsError, isValidNhsNumber, validateCitizenClaims } from './claims.ts';

const good = { sub: 'u1', identity_proofing_level: 'P9' as const, nhs_number: '9990079196', birthdate: '1984-03-12', gp_registration_details: { gp_ods_code: 'A81001' } };

describe('citizen claims', () => {
  it('accepts NHS-login-shaped claims', () => {
    const c = validateCitizenClaims(good);
    assert.deepEqual([c.nhsNumber, c.identityLevel, c.gpOdsCode], ['9990079196', 'P9', 'A81001']);
    assert.equal(validateCitizenClaims({ sub: 'p0', identity_proofing_level: 'P0' }).nhsNumber, undefined);
  });

  it('refuses each malformed or missing claim, naming it', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, identity_proofing_level: 'P7' }, 'identity_proofing_level'],
      [{ ...good, identity_proofing_level: undefined }, 'identity_proofing_level'],
      [{ ...good, nhs_number: '9990079197' }, 'nhs_number'],
      [{ ...good, nhs_number: undefined }, 'nhs_number'],
      [{ ...good, gp_registration_details: { gp_ods_code: 'a81001; drop' } }, 'gp_registration_details'],
      [{ ...good, birthdate: '12/03/1984' }, 'birthdate'],
      [{ ...good, sub: '' }, 'sub'],
    ];
    for (const [claims, name] of cases) {
      assert.throws(() => validateCitizenClaims(claims as never), (e: unknown) => e instanceof ClaimsError && e.claim === name, name);
    }
  });

  it('checks NHS numbers with the modulus 11 check digit', () => {
    assert.equal(isValidNhsNumber('9990079196'), true);
    assert.equal(isValidNhsNumber('9990079195'), false);
    assert.equal(isValidNhsNumber('999007919'), false);
  });
});
