import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { migrate } from './migrate.ts';
import { testStores } from './test-stores.ts';

for (const t of testStores()) {
  describe(`store on ${t.name}`, () => {
    it('migrates once and is idempotent', async () => {
      const db = await t.open();
      try {
        assert.deepEqual(await migrate(db), [], 'second migrate applies nothing');
        const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
        assert.ok(rows.some((r) => r.name === '001-foundation.sql'));
      } finally {
        await db.dispose();
      }
    });

    it('rolls a failed transaction back', async () => {
      const db = await t.open();
      try {
        await assert.rejects(db.transaction(async (tx) => {
          await tx.query("INSERT INTO settings (key, value) VALUES ('k', '1')");
          throw new Error('boom');
        }), /boom/);
        assert.equal((await db.query("SELECT * FROM settings WHERE key = 'k'")).length, 0);
        await db.transaction(async (tx) => tx.query("INSERT INTO settings (key, value) VALUES ('k', '2')"));
        assert.equal((await db.query("SELECT * FROM settings WHERE key = 'k'")).length, 1);
      } finally {
        await db.dispose();
      }
    });

    it('delivers notifications to listeners', async () => {
      const db = await t.open();
      try {
        const got: string[] = [];
        const stop = await db.listen('catalog_changed', (p) => got.push(p));
        await db.query("SELECT pg_notify('catalog_changed', 'v2')");
        for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(got, ['v2']);
        await stop();
      } finally {
        await db.dispose();
      }
    });
  });
}
