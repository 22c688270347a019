// The one SQL path: a small interface over PGlite (embedded) or node-postgres (server), same SQL for both.
export type Row = Record<string, unknown>;

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface Store extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction; rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Calls onNotify for each NOTIFY on channel (used to rebuild in-memory indexes on change). */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Runs several statements at once, without parameters (a library's own schema scripts, e.g. the job queue's). */
  script?(sql: string): Promise<void>;
  close(): Promise<void>;
}

export async function one<R extends Row>(db: Queryable, sql: string, params?: unknown[]): Promise<R> {
  const rows = await db.query<R>(sql, params);
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
  return rows[0];
}

export async function maybeOne<R extends Row>(db: Queryable, sql: string, params?: unknown[]): Promise<R | undefined> {
  const rows = await db.query<R>(sql, params);
  return rows[0];
}
