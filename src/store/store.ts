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
  /**
   * Appends many rows to one table in one statement: COPY on PGlite (much cheaper per row than bound
   * parameters), a multi-row INSERT on a server. Table and columns are the caller's constants, never input.
   */
  insertRows(table: string, columns: string[], rows: unknown[][]): Promise<void>;
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

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** True for a plain lower-case SQL identifier (table, column, schema, channel), safe to write into SQL as it is. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** Checks a table and its columns are plain identifiers, so they can be written into SQL as they are. */
export function checkIdentifiers(table: string, columns: string[]): void {
  for (const name of [table, ...columns]) if (!isIdentifier(name)) throw new Error(`not a plain SQL identifier: ${name}`);
}

/** `($1, $2, …), ($n+1, …)`: the VALUES tuples for `rows` rows of `columns` parameters each, with optional casts. */
export function valuesTuples(rows: number, columns: number, casts: string[] = []): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cols: string[] = [];
    for (let c = 0; c < columns; c++) cols.push(`$${r * columns + c + 1}${casts[c] ? `::${casts[c]}` : ''}`);
    out.push(`(${cols.join(', ')})`);
  }
  return out.join(', ');
}

/** `INSERT … VALUES ($1, …), (…)` for rows of equal length, with their parameters. */
export function multiRowInsert(table: string, columns: string[], rows: unknown[][]): { sql: string; params: unknown[] } {
  checkIdentifiers(table, columns);
  return { sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${valuesTuples(rows.length, columns.length)}`, params: rows.flat() };
}

/** Rows as CSV for COPY … WITH (FORMAT csv): every value quoted (so empty text stays text), NULL left bare. */
export function csvRows(rows: unknown[][]): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (i) out += ',';
      if (v === null || v === undefined) continue;
      const s = String(v);
      out += s.includes('"') ? `"${s.replaceAll('"', '""')}"` : `"${s}"`;
    }
    out += '\n';
  }
  return out;
}
