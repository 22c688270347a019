// Demo staff accounts (demo/staff.json) for the portal: each carries its roles and organisations as the `staff_roles` claim.
import { readFile } from 'node:fs/promises';
import type { Store } from '../../store/store.ts';
import { upsertAccount, type AccountClaims, type StaffRole } from './accounts.ts';

export interface DemoStaffMember {
  sub: string;
  email: string;
  password: string;
  givenName: string;
  familyName: string;
  roles: StaffRole[];
}

export async function loadDemoStaff(file = new URL('../../../demo/staff.json', import.meta.url)): Promise<DemoStaffMember[]> {
  return (JSON.parse(await readFile(file, 'utf8')) as { staff: DemoStaffMember[] }).staff;
}

export function claimsForStaff(s: DemoStaffMember): AccountClaims {
  // Staff sign in at a low identity level: the portal gates on roles, never on proofing.
  return { sub: s.sub, given_name: s.givenName, family_name: s.familyName, email: s.email, email_verified: true, identity_proofing_level: 'P0', staff_roles: s.roles };
}

export async function seedDemoStaff(db: Store, staff: DemoStaffMember[]): Promise<void> {
  for (const s of staff) await upsertAccount(db, s.email, s.password, claimsForStaff(s));
}
