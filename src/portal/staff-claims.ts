// Checks the staff claims the identity provider returns before a portal session is made from them.
import type { AccountClaims, StaffRole } from '../identity/provider/accounts.ts';

export const STAFF_ROLES: readonly StaffRole['role'][] = ['national-team', 'region', 'commissioner', 'provider', 'supplier', 'practice-staff'];

export class StaffClaimsError extends Error {
  constructor(readonly reason: 'no-roles' | 'malformed') {
    super(`staff claims: ${reason}`);
    this.name = 'StaffClaimsError';
  }
}

export interface StaffClaims {
  sub: string;
  givenName?: string;
  familyName?: string;
  roles: StaffRole[];
}

/** A staff member must hold at least one well-formed role; an account without any (a citizen) is refused. */
export function validateStaffClaims(claims: AccountClaims): StaffClaims {
  if (typeof claims.sub !== 'string' || !claims.sub) throw new StaffClaimsError('malformed');
  const raw = claims.staff_roles;
  if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0)) throw new StaffClaimsError('no-roles');
  if (!Array.isArray(raw)) throw new StaffClaimsError('malformed');
  const roles = raw.map((r) => {
    if (!r || typeof r !== 'object' || !STAFF_ROLES.includes(r.role) || typeof r.organisation !== 'string' || !/^[\w-]{1,40}$/.test(r.organisation)) {
      throw new StaffClaimsError('malformed');
    }
    return { role: r.role, organisation: r.organisation };
  });
  const name = (v: unknown) => (typeof v === 'string' && v.length <= 100 ? v : undefined);
  return { sub: claims.sub, givenName: name(claims.given_name), familyName: name(claims.family_name), roles };
}
