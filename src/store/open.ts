// Chooses the store from configuration: a PostgreSQL server when a URL is given, else embedded PGlite.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { migrate } from './migrate.ts';
import { openPgliteStore } from './pglite-store.ts';
import { openPostgresStore } from './postgres-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  databaseUrl?: string;
  /** Folder for embedded data; undefined keeps PGlite in memory. */
  dataDir?: string;
  schema?: string;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  let db: Store;
  if (opts.databaseUrl) {
    db = await openPostgresStore({ connectionString: opts.databaseUrl, schema: opts.schema });
  } else if (opts.dataDir) {
    const dir = path.join(opts.dataDir, 'pglite');
    await mkdir(dir, { recursive: true });
    db = await openPgliteStore(dir);
  } else {
    db = await openPgliteStore();
  }
  await migrate(db);
  return db;
}
