// insertRows on every store: awkward text (quotes, commas, new lines, backslashes, non-Latin letters), empty text
// versus NULL and JSON all arrive exactly as given; names that are not plain identifiers are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testStores } from './test-stores.ts';

const awkward = ['say "hello", then\nleave', '', 'back\\slash \\N', 'Zoë Ōkubo — 東京', ',', '"'];

for (const store of testStores()) {
  describe(`insertRows on ${store.name}`, () => {
    // A short batch and a long one: on PGlite they take different paths (a prepared INSERT, a COPY).
    for (const copies of [1, 4]) {
      it(`round-trips awkward text, empty text, NULL and JSON (${copies * awkward.length} rows)`, async () => {
        await store.use(async (db) => {
          await db.query('CREATE TABLE t_rows (n integer, body text, note text, detail jsonb)');
          const bodies = Array.from({ length: copies }, () => awkward).flat();
          const rows = bodies.map((body, i) => [i, body, i % 2 ? null : 'x', JSON.stringify({ i, body })]);
          await db.insertRows('t_rows', ['n', 'body', 'note', 'detail'], rows);
          const got = await db.query<{ n: number; body: string; note: string | null; detail: { i: number; body: string } | string }>('SELECT n, body, note, detail FROM t_rows ORDER BY n');
          assert.deepEqual(got.map((r) => r.body), bodies);
          assert.deepEqual(got.map((r) => r.note), bodies.map((_, i) => (i % 2 ? null : 'x')));
          assert.deepEqual(got.map((r) => (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail)), bodies.map((body, i) => ({ i, body })));
          await db.insertRows('t_rows', ['n'], []);
          assert.equal((await db.query('SELECT 1 FROM t_rows')).length, bodies.length);
        });
      });
    }

    it('refuses a table or column that is not a plain identifier, writing nothing', async () => {
      await store.use(async (db) => {
        await db.query('CREATE TABLE t_safe (a text)');
        await assert.rejects(db.insertRows('t_safe; DROP TABLE t_safe', ['a'], [['x']]), /plain SQL identifier/);
        await assert.rejects(db.insertRows('t_safe', ['a) VALUES (1); --'], [['x']]), /plain SQL identifier/);
        assert.equal((await db.query('SELECT 1 FROM t_safe')).length, 0);
      });
    });
  });
}
