// Server-side sessions with idle and absolute timeouts, in the store (default) or Redis (REDIS_URL), so app nodes
// keep no state of their own. The cookie holds a random id; only its SHA-256 is stored.
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Store } from '../store/store.ts';
import type { IdentityLevel, StaffRole } from './provider/accounts.ts';

export interface CitizenSession {
  kind: 'citizen';
  sub: string;
  givenName?: string;
  familyName?: string;
  birthdate?: string;
  nhsNumber?: string;
  identityLevel: IdentityLevel;
  gpOdsCode?: string;
  idToken: string;
}

export interface StaffSession {
  kind: 'staff';
  sub: string;
  givenName?: string;
  familyName?: string;
  roles: StaffRole[];
  idToken: string;
}

/** A sign-in under way: what the callback must check, used once. */
export interface LoginTransaction {
  kind: 'login';
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  client: 'citizen' | 'staff';
}

export type SessionData = CitizenSession | StaffSession | LoginTransaction;

interface Stored {
  data: SessionData;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

export interface SessionStore {
  create(data: SessionData, timeouts?: Partial<SessionTimeouts>): Promise<string>;
  /** The live session for a cookie value, refreshing its idle timer; undefined when missing or expired. */
  get(id: string): Promise<SessionData | undefined>;
  /** As get, with the moment the session expires unless used again. */
  lookup(id: string): Promise<{ data: SessionData; expiresAt: number } | undefined>;
  /** Reads and deletes in one step: a second take of the same id finds nothing (replay protection). */
  take(id: string): Promise<SessionData | undefined>;
  destroy(id: string): Promise<void>;
  close(): Promise<void>;
}

export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

const key = (id: string) => createHash('sha256').update(id).digest('base64url');

// Refresh the idle timer at most this often, so most requests cost one read and no write.
const TOUCH_EVERY_MS = 60_000;

function expiry(s: Stored, t: SessionTimeouts): number {
  return Math.min(s.lastSeenAt + t.idleMs, s.createdAt + t.absoluteMs);
}

export function storeSessions(db: Store, defaults: SessionTimeouts): SessionStore {
  return {
    async create(data, timeouts) {
      const t = { ...defaults, ...timeouts };
      const id = newSessionId();
      const now = Date.now();
      const stored: Stored = { data, createdAt: now, lastSeenAt: now };
      await db.query('INSERT INTO sessions (id, data, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
        key(id), JSON.stringify({ ...stored, t }), new Date(now), new Date(expiry(stored, t)),
      ]);
      return id;
    },
    async get(id) {
      return (await this.lookup(id))?.data;
    },
    async lookup(id) {
      const rows = await db.query<{ data: Stored & { t: SessionTimeouts } }>('SELECT data FROM sessions WHERE id = $1 AND expires_at > now()', [key(id)]);
      let s = rows[0]?.data;
      if (!s) return undefined;
      const now = Date.now();
      if (now >= expiry(s, s.t)) return undefined;
      if (now - s.lastSeenAt > TOUCH_EVERY_MS) {
        s = { ...s, lastSeenAt: now };
        await db.query('UPDATE sessions SET data = $2, expires_at = $3 WHERE id = $1', [key(id), JSON.stringify(s), new Date(expiry(s, s.t))]);
      }
      return { data: s.data, expiresAt: expiry(s, s.t) };
    },
    async take(id) {
      const rows = await db.query<{ data: Stored }>('DELETE FROM sessions WHERE id = $1 AND expires_at > now() RETURNING data', [key(id)]);
      return rows[0]?.data.data;
    },
    async destroy(id) {
      await db.query('DELETE FROM sessions WHERE id = $1', [key(id)]);
    },
    async close() {},
  };
}

export const SESSION_ENDED_CHANNEL = 'session_ended';

/**
 * A read-through cache in front of the store's sessions: the hot path (every signed-in page) costs no query.
 * The store stays the truth: an ended session is evicted on every node at once through NOTIFY, an entry is
 * re-read after `ttlMs` at most (which also refreshes the idle timer), and timeouts are checked on each read.
 */
export async function cachedSessions(inner: SessionStore, db: Store, ttlMs = 5_000): Promise<SessionStore> {
  // Keyed by the cookie value itself (memory only), so a hit costs no hashing; ends are announced by hash.
  const cache = new Map<string, { data: SessionData; expiresAt: number; readAt: number }>();
  const idByHash = new Map<string, string>();
  const forget = (id: string) => {
    cache.delete(id);
    idByHash.delete(key(id));
  };
  const stopListening = await db.listen(SESSION_ENDED_CHANNEL, (hash) => {
    const id = idByHash.get(hash);
    if (id) forget(id);
  });
  const ended = async (id: string) => {
    forget(id);
    await db.query(`SELECT pg_notify('${SESSION_ENDED_CHANNEL}', $1)`, [key(id)]);
  };
  const store: SessionStore = {
    create: (data, timeouts) => inner.create(data, timeouts),
    async get(id) {
      return (await store.lookup(id))?.data;
    },
    async lookup(id) {
      const now = Date.now();
      const hit = cache.get(id);
      if (hit && now - hit.readAt < ttlMs && now < hit.expiresAt) return hit;
      const found = await inner.lookup(id);
      if (found) {
        if (cache.size > 100_000) {
          cache.clear();
          idByHash.clear();
        }
        cache.set(id, { ...found, readAt: now });
        idByHash.set(key(id), id);
      } else forget(id);
      return found;
    },
    async take(id) {
      const data = await inner.take(id);
      await ended(id);
      return data;
    },
    async destroy(id) {
      await inner.destroy(id);
      await ended(id);
    },
    async close() {
      await stopListening();
      await inner.close();
    },
  };
  return store;
}

export function redisSessions(url: string, defaults: SessionTimeouts, prefix = 'fd:session:'): SessionStore {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const k = (id: string) => prefix + key(id);
  const ttl = (s: Stored, t: SessionTimeouts) => Math.max(1, expiry(s, t) - Date.now());
  return {
    async create(data, timeouts) {
      const t = { ...defaults, ...timeouts };
      const id = newSessionId();
      const now = Date.now();
      const stored = { data, createdAt: now, lastSeenAt: now, t };
      await redis.set(k(id), JSON.stringify(stored), 'PX', ttl(stored, t));
      return id;
    },
    async get(id) {
      return (await this.lookup(id))?.data;
    },
    async lookup(id) {
      const raw = await redis.get(k(id));
      if (!raw) return undefined;
      let s = JSON.parse(raw) as Stored & { t: SessionTimeouts };
      const now = Date.now();
      if (now >= expiry(s, s.t)) return undefined;
      if (now - s.lastSeenAt > TOUCH_EVERY_MS) {
        s = { ...s, lastSeenAt: now };
        await redis.set(k(id), JSON.stringify(s), 'PX', ttl(s, s.t));
      }
      return { data: s.data, expiresAt: expiry(s, s.t) };
    },
    async take(id) {
      const raw = await redis.getdel(k(id));
      return raw ? (JSON.parse(raw) as Stored).data : undefined;
    },
    async destroy(id) {
      await redis.del(k(id));
    },
    async close() {
      redis.disconnect();
    },
  };
}
