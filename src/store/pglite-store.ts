// Embedded PostgreSQL (PGlite) in-process: in memory for tests, a folder under DATA_DIR otherwise.
import { PGlite, parse, protocol } from '@electric-sql/pglite';
import { checkIdentifiers, csvRows, type Queryable, type Row, type Store } from './store.ts';

/** How many statement texts are kept prepared; beyond this, statements are planned each time. */
const MAX_PREPARED = 500;

export async function openPgliteStore(dataDir?: string): Promise<Store> {
  const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const prepared = preparedStatements(pg);
  const query = async <R extends Row>(sql: string, params?: unknown[]) =>
    (await prepared.query<R>(sql, params)) ?? (await pg.query<R>(sql, params)).rows;
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
      // PGlite reads COPY data from a Blob at the virtual path /dev/blob. Through the simple protocol (exec): one
      // round into the database instead of the six a parameterised query takes, most of the cost of a small COPY.
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

/**
 * Statements prepared once and then only bound and executed, in one round into the database. PGlite's own query
 * parses, plans and describes every statement first, in six rounds: on a small write that is about three
 * fifths of the cost. Only for parameters that go as text exactly as PGlite would send them (strings, finite
 * numbers, null); anything else (booleans, dates, arrays, objects) returns undefined and takes PGlite's path,
 * which asks the server for the parameter types to serialise them. Same locks as PGlite's query, so a statement
 * never runs inside another caller's transaction.
 */
function preparedStatements(pg: PGlite) {
  const names = new Map<string, string>();
  let made = 0;
  const { serialize } = protocol;

  const asText = (params: unknown[]): (string | null)[] | undefined => {
    const out: (string | null)[] = [];
    for (const v of params) {
      if (v === null || v === undefined) out.push(null);
      else if (typeof v === 'string') out.push(v);
      else if (typeof v === 'number' && Number.isFinite(v)) out.push(String(v));
      else return undefined;
    }
    return out;
  };

  const run = async <R extends Row>(parts: Uint8Array[]): Promise<R[]> => {
    const { messages } = await pg.execProtocol(concat(parts));
    return (parse.parseResults(messages, pg.parsers)[0]?.rows ?? []) as R[];
  };

  return {
    async query<R extends Row>(sql: string, params: unknown[] = []): Promise<R[] | undefined> {
      const values = asText(params);
      if (!values) return undefined;
      return pg._runExclusiveTransaction(() => pg.runExclusive(async () => {
        let name = names.get(sql);
        if (name === undefined && names.size < MAX_PREPARED) {
          // Prepared in a round of its own, so a statement that does not parse is never taken for prepared.
          const fresh = `fd_${++made}`;
          await pg.execProtocol(concat([serialize.parse({ name: fresh, text: sql }), serialize.sync()]));
          names.set(sql, (name = fresh));
        }
        const execute = [serialize.bind({ statement: name ?? '', values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()];
        try {
          return await run<R>(name === undefined ? [serialize.parse({ text: sql }), ...execute] : execute);
        } catch (err) {
          // A table changed under a prepared SELECT * ("cached plan must not change result type"): forget it and
          // let PGlite's own path plan it afresh.
          if ((err as { code?: string }).code !== '0A000') throw err;
          names.delete(sql);
          return undefined;
        }
      }));
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
