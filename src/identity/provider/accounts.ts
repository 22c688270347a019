// The embedded identity provider's accounts: demo people (from demo/people.json) and staff, with scrypt-hashed passwords.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Store } from '../../store/store.ts';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export type IdentityLevel = 'P0' | 'P5' | 'P9';

export interface DemoPerson {
  sub: string;
  email: string;
  password: string;
  identityLevel: IdentityLevel;
  nhsNumber: string | null;
  givenName: string;
  familyName: string;
  birthdate: string;
  gender?: string;
  phone: string | null;
  gpOdsCode: string | null;
}

export interface StaffRole {
  role: 'national-team' | 'region' | 'commissioner' | 'provider' | 'supplier' | 'practice-staff';
  organisation: string;
}

export interface AccountClaims {
  sub: string;
  given_name?: string;
  family_name?: string;
  birthdate?: string;
  email?: string;
  email_verified?: boolean;
  phone_number?: string;
  phone_number_verified?: boolean;
  nhs_number?: string;
  identity_proofing_level?: IdentityLevel;
  gp_registration_details?: { gp_ods_code: string };
  staff_roles?: StaffRole[];
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(expected, actual);
}

export function claimsForPerson(p: DemoPerson): AccountClaims {
  const claims: AccountClaims = {
    sub: p.sub,
    given_name: p.givenName,
    family_name: p.familyName,
    birthdate: p.birthdate,
    email: p.email,
    email_verified: true,
    identity_proofing_level: p.identityLevel,
  };
  if (p.phone) Object.assign(claims, { phone_number: p.phone, phone_number_verified: true });
  if (p.nhsNumber && p.identityLevel !== 'P0') claims.nhs_number = p.nhsNumber;
  if (p.gpOdsCode && p.identityLevel !== 'P0') claims.gp_registration_details = { gp_ods_code: p.gpOdsCode };
  return claims;
}

export async function loadDemoPeople(file = new URL('../../../demo/people.json', import.meta.url)): Promise<DemoPerson[]> {
  return (JSON.parse(await readFile(file, 'utf8')) as { people: DemoPerson[] }).people;
}

export async function upsertAccount(db: Store, email: string, password: string, claims: AccountClaims): Promise<void> {
  const existing = await db.query<{ password_hash: string }>('SELECT password_hash FROM idp_users WHERE sub = $1', [claims.sub]);
  // Keep the stored hash when the password has not changed: scrypt is deliberately slow.
  const hash = existing[0] && (await verifyPassword(password, existing[0].password_hash)) ? existing[0].password_hash : await hashPassword(password);
  await db.query(
    `INSERT INTO idp_users (sub, email, password_hash, claims, staff_roles) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (sub) DO UPDATE SET email = EXCLUDED.email, password_hash = EXCLUDED.password_hash,
       claims = EXCLUDED.claims, staff_roles = EXCLUDED.staff_roles`,
    [claims.sub, email.toLowerCase(), hash, JSON.stringify(claims), claims.staff_roles ? JSON.stringify(claims.staff_roles) : null],
  );
}

export async function seedDemoAccounts(db: Store, people: DemoPerson[]): Promise<void> {
  for (const p of people) await upsertAccount(db, p.email, p.password, claimsForPerson(p));
}

export async function authenticate(db: Store, email: string, password: string): Promise<string | undefined> {
  const rows = await db.query<{ sub: string; password_hash: string }>('SELECT sub, password_hash FROM idp_users WHERE email = $1', [email.trim().toLowerCase()]);
  if (!rows[0]) {
    // Same work whether or not the account exists, so timing does not reveal which emails are registered.
    await hashPassword(password);
    return undefined;
  }
  return (await verifyPassword(password, rows[0].password_hash)) ? rows[0].sub : undefined;
}

export async function findClaims(db: Store, sub: string): Promise<AccountClaims | undefined> {
  const rows = await db.query<{ claims: AccountClaims }>('SELECT claims FROM idp_users WHERE sub = $1', [sub]);
  return rows[0]?.claims;
}
