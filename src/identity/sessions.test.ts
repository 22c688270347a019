// Sessions in the store (PGlite and, when configured, a PostgreSQL server) and in Redis: same behaviour.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testStores } from '../store/test-stores.ts';
import { cachedSessions, redisSessions, storeSessions, type SessionStore } from './sessions.ts';

const citizen = { kind: 'citizen' as const, sub: 's1', identityLevel: 'P9' as const, nhsNumber: '9990079196', idToken: 't' };
const timeouts = { idleMs: 60_000, absoluteMs: 3_600_000 };

const backends: { name: string; open(): Promise<{ store: SessionStore; done(): Promise<void> }> }[] = testStores().map((t) => ({
  name: `store on ${t.name}`,
  async open() {
    const db = await t.open();
    return { store: storeSessions(db, timeouts), done: () => db.dispose() };
  },
}));
if (process.env.TEST_REDIS_URL) {
  backends.push({
    name: 'redis',
    async open() {
      const store = redisSessions(process.env.TEST_REDIS_URL!, timeouts, `fd-test-${process.pid}-${Date.now()}:`);
      return { store, done: () => store.close() };
    },
  });
}

for (const b of backends) {
  describe(`sessions: ${b.name}`, () => {
    it('creates, reads, destroys', async () => {
      const { store, done } = await b.open();
      try {
        const id = await store.create(citizen);
        assert.deepEqual(await store.get(id), citizen);
        assert.equal(await store.get(id + 'x'), undefined, 'a guessed id finds nothing');
        await store.destroy(id);
        assert.equal(await store.get(id), undefined);
      } finally { await done(); }
    });

    it('expires on the absolute and idle timeouts', async () => {
      const { store, done } = await b.open();
      try {
        const a = await store.create(citizen, { absoluteMs: 300 });
        const i = await store.create(citizen, { idleMs: 300 });
        assert.ok(await store.get(a));
        await new Promise((r) => setTimeout(r, 400));
        assert.equal(await store.get(a), undefined);
        assert.equal(await store.get(i), undefined);
      } finally { await done(); }
    });

    it('take is single-use', async () => {
      const { store, done } = await b.open();
      try {
        const id = await store.create({ kind: 'login', state: 's', nonce: 'n', codeVerifier: 'v', returnTo: '/', client: 'citizen' });
        assert.equal((await store.take(id))?.kind, 'login');
        assert.equal(await store.take(id), undefined);
      } finally { await done(); }
    });
  });
}

for (const t of testStores()) {
  describe(`cached sessions on ${t.name}`, () => {
    it('a session ended on one node is evicted from another node\'s cache', async () => {
      const db = await t.open();
      const nodeA = await cachedSessions(storeSessions(db, timeouts), db);
      const nodeB = await cachedSessions(storeSessions(db, timeouts), db);
      try {
        const id = await nodeA.create(citizen);
        assert.ok(await nodeB.get(id), 'node B reads and caches it');
        await nodeA.destroy(id);
        let seen = true;
        for (let i = 0; i < 50 && seen; i++) {
          seen = (await nodeB.get(id)) !== undefined;
          if (seen) await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal(seen, false, 'node B no longer honours it');
      } finally {
        await nodeA.close();
        await nodeB.close();
        await db.dispose();
      }
    });

    it('still applies the absolute timeout to a cached session', async () => {
      const db = await t.open();
      const node = await cachedSessions(storeSessions(db, timeouts), db, 60_000);
      try {
        const id = await node.create(citizen, { absoluteMs: 300 });
        assert.ok(await node.get(id));
        await new Promise((r) => setTimeout(r, 400));
        assert.equal(await node.get(id), undefined);
      } finally {
        await node.close();
        await db.dispose();
      }
    });
  });
}
