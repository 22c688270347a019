import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { migrate } from './migrate.ts';
import { testStores } from './test-stores.ts';

for (const t of testStores()) {
  describe(`store on ${t.name}`, () => {
    it('migrates once and is idempotent', async () => {
      await t.use(async (db) => {
        assert.deepEqual(await migrate(db), [], 'second migrate applies nothing');
        const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
        assert.ok(rows.some((r) => r.name === '001-foundation.sql'));
      });
    });

    it('rolls a failed transaction back', async () => {
      await t.use(async (db) => {
        await assert.rejects(db.transaction(async (tx) => {
          await tx.query("INSERT INTO settings (key, value) VALUES ('k', '1')");
          throw new Error('boom');
        }), /boom/);
        assert.equal((await db.query("SELECT * FROM settings WHERE key = 'k'")).length, 0);
        await db.transaction(async (tx) => tx.query("INSERT INTO settings (key, value) VALUES ('k', '2')"));
        assert.equal((await db.query("SELECT * FROM settings WHERE key = 'k'")).length, 1);
      });
    });

    it('answers a statement run many times (prepared on PGlite) with typed values, every time', async () => {
      await t.use(async (db) => {
        await db.query('CREATE TABLE prep_t (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, n int, doc jsonb, at timestamptz DEFAULT now())');
        for (let i = 0; i < 5; i++) {
          const [row] = await db.query<{ id: string | number; name: string; n: number; doc: { i: number }; at: Date }>(
            'INSERT INTO prep_t (name, n, doc) VALUES ($1, $2, $3) RETURNING *', [`name-${i}`, i, JSON.stringify({ i, quote: "it's" })]);
          assert.equal(row.name, `name-${i}`);
          assert.equal(row.n, i);
          assert.deepEqual(row.doc, { i, quote: "it's" });
          assert.ok(row.at instanceof Date);
        }
        // Parameters that are not plain text or numbers (dates, booleans, arrays) still go through.
        const since = new Date(Date.now() - 60_000);
        const found = await db.query<{ name: string }>('SELECT name FROM prep_t WHERE at > $1 AND name = ANY($2::text[]) AND $3::boolean ORDER BY name', [since, ['name-1', 'name-3'], true]);
        assert.deepEqual(found.map((r) => r.name), ['name-1', 'name-3']);
        // A statement that does not parse fails the same way each time; an error keeps its SQLSTATE.
        for (let i = 0; i < 2; i++) await assert.rejects(db.query('SELEC name FROM prep_t WHERE n = $1', [1]), /syntax error/);
        await assert.rejects(db.query('INSERT INTO prep_t (name) VALUES ($1)', ['name-1']), (err: { code?: string }) => err.code === '23505');
        // A table that changes under a statement already run is read afresh, not with the old row shape.
        const before = await db.query<Record<string, unknown>>('SELECT * FROM prep_t WHERE name = $1', ['name-2']);
        await db.query('ALTER TABLE prep_t ADD COLUMN extra text');
        const after = await db.query<Record<string, unknown>>('SELECT * FROM prep_t WHERE name = $1', ['name-2']);
        assert.ok(!('extra' in before[0]) && 'extra' in after[0]);
      });
    });

    it('answers statements sent at the same moment (one round on PGlite) each with its own rows or its own error', async () => {
      await t.use(async (db) => {
        await db.query('CREATE TABLE pipe_t (k text PRIMARY KEY, n int NOT NULL)');
        const insert = (k: string, n: number) => db.query<{ k: string; n: number }>('INSERT INTO pipe_t (k, n) VALUES ($1, $2) RETURNING k, n', [k, n]);
        await db.query('INSERT INTO pipe_t (k, n) VALUES ($1, $2)', ['seed', 0]);
        // Statements with rows, without rows (no RETURNING, nothing matched) and reads, answered in order.
        const first = await Promise.all([
          insert('a', 1), db.query('INSERT INTO pipe_t (k, n) VALUES ($1, $2)', ['b', 2]), db.query('UPDATE pipe_t SET n = 0 WHERE k = $1', ['none']),
          db.query<{ n: number }>('SELECT n FROM pipe_t WHERE k = $1', ['seed']), db.query('SELECT n FROM pipe_t WHERE k = $1', ['zz']),
        ]);
        assert.deepEqual(first, [[{ k: 'a', n: 1 }], [], [], [{ n: 0 }], []]);
        // One statement fails in the middle of a round: only its caller sees the failure, and the others' writes stay.
        const second = await Promise.allSettled([insert('c', 3), insert('a', 9), insert('d', 4), db.query('UPDATE pipe_t SET n = n + 10 WHERE k = $1 RETURNING n', ['b'])]);
        assert.deepEqual(second[0], { status: 'fulfilled', value: [{ k: 'c', n: 3 }] });
        assert.equal(second[1].status === 'rejected' && (second[1].reason as { code?: string }).code, '23505');
        assert.deepEqual(second[2], { status: 'fulfilled', value: [{ k: 'd', n: 4 }] });
        assert.deepEqual(second[3], { status: 'fulfilled', value: [{ n: 12 }] });
        const rows = await db.query<{ k: string; n: number }>('SELECT k, n FROM pipe_t ORDER BY k');
        assert.deepEqual(rows, [{ k: 'a', n: 1 }, { k: 'b', n: 12 }, { k: 'c', n: 3 }, { k: 'd', n: 4 }, { k: 'seed', n: 0 }]);
      });
    });

    it('never runs a statement inside another caller\'s open transaction', async () => {
      await t.use(async (db) => {
        await db.query('CREATE TABLE prep_iso (k text PRIMARY KEY)');
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let opened!: () => void;
        const open = new Promise<void>((r) => (opened = r));
        const tx = db.transaction(async (q) => {
          await q.query('INSERT INTO prep_iso (k) VALUES ($1)', ['in-tx']);
          opened();
          await held;
          throw new Error('rolled back');
        });
        await open;
        // While the transaction is open, a statement from elsewhere either waits for it or runs apart from it;
        // it must never become part of it and be rolled back with it.
        const outside = db.query('INSERT INTO prep_iso (k) VALUES ($1)', ['outside']);
        await new Promise((r) => setTimeout(r, 20));
        release();
        await assert.rejects(tx, /rolled back/);
        await outside;
        assert.deepEqual((await db.query<{ k: string }>('SELECT k FROM prep_iso ORDER BY k')).map((r) => r.k), ['outside']);
      });
    });

    it('delivers notifications to listeners', async () => {
      await t.use(async (db) => {
        const got: string[] = [];
        const stop = await db.listen('catalog_changed', (p) => got.push(p));
        await db.query("SELECT pg_notify('catalog_changed', 'v2')");
        for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(got, ['v2']);
        await stop();
      });
    });
  });
}
