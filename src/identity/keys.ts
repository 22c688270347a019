// Key material for the embedded identity provider and the relying party: generated once with jose, kept in the store.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';

async function stored<T>(db: Store, key: string, make: () => Promise<T>): Promise<T> {
  const rows = await db.query<{ value: T }>('SELECT value FROM settings WHERE key = $1', [key]);
  if (rows[0]) return rows[0].value;
  const value = await make();
  // Two nodes starting together: the first insert wins and both use it.
  await db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, JSON.stringify(value)]);
  return (await db.query<{ value: T }>('SELECT value FROM settings WHERE key = $1', [key]))[0].value;
}

/** A new RS256 private key as a JWK, with a key id. */
export async function newSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

export async function privateSigningJwk(db: Store, key: string): Promise<JWK> {
  return stored(db, key, newSigningJwk);
}

export function publicJwk(jwk: JWK): JWK {
  const { kty, n, e, kid, alg, use, crv, x, y } = jwk;
  return Object.fromEntries(Object.entries({ kty, n, e, kid, alg, use, crv, x, y }).filter(([, v]) => v !== undefined)) as JWK;
}

export async function secretKeys(db: Store, key: string): Promise<string[]> {
  return stored(db, key, async () => [randomBytes(32).toString('base64url')]);
}
