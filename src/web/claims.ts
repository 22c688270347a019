// Checks the identity claims a provider sends before a session is made from them: a malformed claim is refused,
// never guessed at.
import type { AccountClaims, IdentityLevel } from '../identity/provider/accounts.ts';
import type { CitizenSession } from '../identity/sessions.ts';

export class ClaimsError extends Error {
  constructor(readonly claim: string) {
    super(`malformed claim ${claim}`);
    this.name = 'ClaimsError';
  }
}

export function isValidNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * (10 - i);
  const check = 11 - (sum % 11);
  const expected = check === 11 ? 0 : check;
  return expected !== 10 && expected === Number(value[9]);
}

export function validateCitizenClaims(c: AccountClaims): Omit<CitizenSession, 'kind' | 'idToken'> {
  if (!c.sub || typeof c.sub !== 'string') throw new ClaimsError('sub');
  const level = c.identity_proofing_level;
  if (level !== 'P0' && level !== 'P5' && level !== 'P9') throw new ClaimsError('identity_proofing_level');
  if (c.nhs_number !== undefined && (typeof c.nhs_number !== 'string' || !isValidNhsNumber(c.nhs_number))) throw new ClaimsError('nhs_number');
  if (level !== 'P0' && !c.nhs_number) throw new ClaimsError('nhs_number');
  const ods = c.gp_registration_details?.gp_ods_code;
  if (ods !== undefined && (typeof ods !== 'string' || !/^[A-Z0-9]{3,8}$/.test(ods))) throw new ClaimsError('gp_registration_details');
  if (c.birthdate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(c.birthdate)) throw new ClaimsError('birthdate');
  return {
    sub: c.sub,
    givenName: c.given_name,
    familyName: c.family_name,
    birthdate: c.birthdate,
    nhsNumber: c.nhs_number,
    identityLevel: level as IdentityLevel,
    gpOdsCode: ods,
  };
}
