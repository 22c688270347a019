// Embedded PostgreSQL (PGlite) in-process: in memory for tests, a folder under DATA_DIR otherwise.
import { PGlite, parse, protocol } from '@electric-sql/pglite';
import { checkIdentifiers, csvRows, multiRowInsert, type Queryable, type Row, type Store } from './store.ts';

/** How many statement texts are kept prepared; beyond this, statements are planned each time. */
const MAX_PREPARED = 500;
/**
 * PGlite copies its files to a browser's storage after each statement when asked (syncToFs). In Node its files
 * are the real ones and that step does nothing but take one more lock, so it is skipped.
 */
const NO_SYNC = { syncToFs: false };
/** Up to this many rows, insertRows is a prepared multi-row INSERT; beyond it, a COPY (measured crossover). */
const SMALL_INSERT_ROWS = 8;

export async function openPgliteStore(dataDir?: string): Promise<Store> {
  const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const prepared = preparedStatements(pg);
  const query = async <R extends Row>(sql: string, params?: unknown[]) =>
    ((await prepared.query(sql, params)) ?? (await pg.query<R>(sql, params)).rows) as R[];
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
      if (rows.length <= SMALL_INSERT_ROWS) {
        // A few rows go as one prepared INSERT, which can share a round with other statements; COPY has a
        // round of its own and a fixed cost (the Blob, its file) that only pays off for longer batches.
        const { sql, params } = multiRowInsert(table, columns, rows);
        await query(sql, params);
        return;
      }
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
 * Statements prepared once and then only bound and executed. PGlite's own query parses, plans and describes every
 * statement first, in six rounds: on a small write that is about three fifths of the cost. Only for parameters
 * that go as text exactly as PGlite would send them (strings, finite numbers, null); anything else (booleans,
 * dates, arrays, objects) returns undefined and takes PGlite's path, which asks the server for the parameter
 * types to serialise them. Same locks as PGlite's query, so a statement never runs inside another caller's
 * transaction.
 *
 * Statements that arrive in the same turn of the event loop, from different requests, go into the database
 * together as one pipeline: one round and one commit instead of one each, which is most of a small write's cost.
 * A pipeline is one implicit transaction, so when any statement in it fails the whole round rolls back, and
 * then each statement runs alone: every caller gets exactly its own rows or its own error.
 */
function preparedStatements(pg: PGlite) {
  const names = new Map<string, string>();
  let made = 0;
  const { serialize } = protocol;
  interface Pending { sql: string; values: (string | null)[]; resolve: (rows: Row[] | undefined) => void; reject: (err: unknown) => void }
  let queue: Pending[] = [];

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

  /** The statement's prepared name, preparing it first in a round of its own (so one that does not parse is never taken for prepared). */
  const prepare = async (sql: string): Promise<string | undefined> => {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_PREPARED) {
      const fresh = `fd_${++made}`;
      await pg.execProtocol(concat([serialize.parse({ name: fresh, text: sql }), serialize.sync()]), NO_SYNC);
      names.set(sql, (name = fresh));
    }
    return name;
  };

  /** Bind, describe and execute; beyond MAX_PREPARED texts, the unnamed statement is parsed in the same round. */
  const steps = (p: Pending, name: string | undefined): Uint8Array[] => {
    const run = [serialize.bind({ statement: name ?? '', values: p.values }), serialize.describe({ type: 'P' }), serialize.execute({})];
    return name === undefined ? [serialize.parse({ text: p.sql }), ...run] : run;
  };

  /** One statement in a round of its own; undefined when PGlite's own path must plan it afresh. */
  const alone = async (p: Pending, name: string | undefined): Promise<Row[] | undefined> => {
    try {
      const { messages } = await pg.execProtocol(concat([...steps(p, name), serialize.sync()]), NO_SYNC);
      return parse.parseResults(messages, pg.parsers)[0]?.rows ?? [];
    } catch (err) {
      // A table changed under a prepared SELECT * ("cached plan must not change result type"): forget it and
      // let PGlite's own path plan it afresh.
      if ((err as { code?: string }).code !== '0A000') throw err;
      names.delete(p.sql);
      return undefined;
    }
  };

  const flush = async (batch: Pending[]) => {
    const ready: { p: Pending; name: string | undefined }[] = [];
    for (const p of batch) {
      try {
        ready.push({ p, name: await prepare(p.sql) });
      } catch (err) {
        p.reject(err);
      }
    }
    if (ready.length > 1) {
      const { messages } = await pg.execProtocol(concat([...ready.flatMap((r) => steps(r.p, r.name)), serialize.sync()]), { ...NO_SYNC, throwOnError: false });
      if (!messages.some((m) => m.name === 'error')) {
        const results = parse.parseResults(messages, pg.parsers);
        ready.forEach((r, i) => r.p.resolve(results[i]?.rows ?? []));
        return;
      }
    }
    for (const r of ready) await alone(r.p, r.name).then(r.p.resolve, r.p.reject);
  };

  return {
    query(sql: string, params: unknown[] = []): Promise<Row[] | undefined> | undefined {
      const values = asText(params);
      if (!values) return undefined;
      return new Promise<Row[] | undefined>((resolve, reject) => {
        if (queue.push({ sql, values, resolve, reject }) > 1) return;
        // The first statement of a turn takes the locks for every statement that arrives before they are free.
        setImmediate(() => {
          void pg._runExclusiveTransaction(() => pg.runExclusive(async () => {
            const batch = queue;
            queue = [];
            await flush(batch).catch((err) => batch.forEach((p) => p.reject(err)));
          }));
        });
      });
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
