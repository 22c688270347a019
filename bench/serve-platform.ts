// Front Door in its own process for a benchmark, as a deployment runs it: the benchmark process only generates
// load. Started by processes.ts; prints one JSON line (its URL and a signed-in citizen's cookie), then
// serves until SIGTERM.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { startTestSystem } from '../src/testing/factories.ts';
import { gpBenchRoutes } from './gp-routes.ts';

interface ServeOptions {
  supplierUrls: Record<string, string>;
  nhsNumber: string;
  /** Adds the JSON faces of the GP service layer that the gp benchmark drives. */
  gpRoutes?: boolean;
  /** A PostgreSQL server (a private schema, dropped afterwards) instead of embedded PGlite. */
  databaseUrl?: string;
  /** Configuration (as environment variables) on top of the test defaults. */
  env?: Record<string, string>;
}

const opts = JSON.parse(process.env.BENCH_PLATFORM ?? '{}') as ServeOptions;
const schema = `bench_${randomBytes(4).toString('hex')}`;
const db: Store | undefined = opts.databaseUrl ? await openStore({ databaseUrl: opts.databaseUrl, schema }) : undefined;
const gp = opts.gpRoutes ? gpBenchRoutes() : undefined;
// Embedded PGlite keeps its files in a data folder, as `npm start` does (not in memory, as tests do).
const dataDir = db ? undefined : await mkdtemp(path.join(tmpdir(), 'front-door-bench-'));
const system = await startTestSystem({ ...opts.env, ...(dataDir ? { DATA_DIR: dataDir } : {}) }, { db, inMemory: !dataDir, supplierUrls: opts.supplierUrls, beforeListen: gp?.register });
await gp?.attach(system);

const person = system.demoPeople.find((p) => p.nhsNumber === opts.nhsNumber);
if (!person) throw new Error(`no demo person with NHS number ${opts.nhsNumber}`);
const sessionId = await system.sessions.create({
  kind: 'citizen', sub: person.sub, givenName: person.givenName, familyName: person.familyName, birthdate: person.birthdate,
  nhsNumber: person.nhsNumber ?? undefined, identityLevel: 'P9', gpOdsCode: person.gpOdsCode!, idToken: 'bench',
});
console.log(JSON.stringify({ url: system.url, cookie: `fd_session=${sessionId}`, store: db ? 'postgres' : 'pglite' }));

process.once('SIGTERM', async () => {
  await gp?.close();
  await system.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (db && opts.databaseUrl) {
    await db.close();
    const c = new pg.Client({ connectionString: opts.databaseUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
  process.exit(0);
});
