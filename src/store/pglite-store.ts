// Embedded PostgreSQL (PGlite) in-process: in memory for tests, a folder under DATA_DIR otherwise.
import { PGlite } from '@electric-sql/pglite';
import { checkIdentifiers, csvRows, type Queryable, type Row, type Store } from './store.ts';

export async function openPgliteStore(dataDir?: string): Promise<Store> {
  const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const query = async <R extends Row>(sql: string, params?: unknown[]) => (await pg.query<R>(sql, params)).rows;
  return {
    kind: 'pglite',
    query,
    async transaction(fn) {
      return pg.transaction((tx) => fn({ query: async <R extends Row>(sql: string, params?: unknown[]) => (await tx.query<R>(sql, params)).rows } as Queryable));
    },
    async listen(channel, onNotify) {
      const unsub = await pg.listen(channel, onNotify);
      return async () => unsub();
    },
    async insertRows(table, columns, rows) {
      if (!rows.length) return;
      checkIdentifiers(table, columns);
      // PGlite reads COPY data from a Blob at the virtual path /dev/blob.
      // Through the simple protocol (exec): one round into the database instead of the six a parameterised
      // query takes, which is most of the cost of a small COPY.
      await pg.exec(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`, { blob: new Blob([csvRows(rows)]) });
    },
    async script(sql) {
      await pg.exec(sql);
    },
    async close() {
      await pg.close();
    },
  };
}
