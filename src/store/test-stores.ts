// Test helper: the stores a store-backed test runs against — PGlite always, the server when TEST_DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore } from './open.ts';
import type { Store } from './store.ts';

export interface TestStore {
  name: 'pglite' | 'postgres';
  open(): Promise<Store & { dispose(): Promise<void> }>;
  /** Opens a fresh store, runs fn on it and disposes of it, whether fn passes or throws. */
  use<T>(fn: (db: Store) => Promise<T>): Promise<T>;
}

export function testStores(): TestStore[] {
  const stores: TestStore[] = [usable({ name: 'pglite', open: async () => withDispose(await openStore({}), async () => {}) })];
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    stores.push(usable({
      name: 'postgres',
      async open() {
        // A uniquely named schema per test store, dropped afterwards: the server is shared and never assumed empty.
        const schema = `t_${randomBytes(6).toString('hex')}`;
        const db = await openStore({ databaseUrl: url, schema });
        return withDispose(db, async () => {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await c.end();
        });
      },
    }));
  }
  return stores;
}

function usable(s: Omit<TestStore, 'use'>): TestStore {
  return {
    ...s,
    async use(fn) {
      const db = await s.open();
      try {
        return await fn(db);
      } finally {
        await db.dispose();
      }
    },
  };
}

function withDispose(db: Store, drop: () => Promise<void>): Store & { dispose(): Promise<void> } {
  return Object.assign(db, {
    async dispose() {
      await db.close();
      await drop();
    },
  });
}
