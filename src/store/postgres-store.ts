// A PostgreSQL server through node-postgres; an optional schema isolates test runs on a shared server.
import pg from 'pg';
import { isIdentifier, multiRowInsert, type Queryable, type Row, type Store } from './store.ts';

export interface PostgresOptions {
  connectionString: string;
  /** Every connection uses this schema first (created if missing). */
  schema?: string;
  max?: number;
}

export async function openPostgresStore(opts: PostgresOptions): Promise<Store> {
  if (opts.schema && !isIdentifier(opts.schema)) throw new Error(`invalid schema name ${opts.schema}`);
  if (opts.schema) {
    const c = new pg.Client({ connectionString: opts.connectionString });
    await c.connect();
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    await c.end();
  }
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
  });
  const query = async <R extends Row>(sql: string, params?: unknown[]) => (await pool.query(sql, params as unknown[])).rows as R[];
  const listeners: pg.PoolClient[] = [];
  return {
    kind: 'postgres',
    query,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = { query: async <R extends Row>(sql: string, params?: unknown[]) => (await client.query(sql, params as unknown[])).rows as R[] };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      if (!isIdentifier(channel)) throw new Error(`invalid channel ${channel}`);
      const client = await pool.connect();
      listeners.push(client);
      client.on('notification', (msg) => { if (msg.channel === channel) onNotify(msg.payload ?? ''); });
      await client.query(`LISTEN ${channel}`);
      return async () => {
        await client.query(`UNLISTEN ${channel}`).catch(() => {});
        client.release();
        listeners.splice(listeners.indexOf(client), 1);
      };
    },
    async insertRows(table, columns, rows) {
      if (!rows.length) return;
      const { sql, params } = multiRowInsert(table, columns, rows);
      await pool.query(sql, params);
    },
    async script(sql) {
      // Without parameters node-postgres sends the simple protocol, which takes several statements.
      await pool.query(sql);
    },
    async close() {
      for (const c of listeners.splice(0)) c.release();
      await pool.end();
    },
  };
}
