// Benchmark `gp`: slot search, booking and cancelling through Front Door versus the same calls made straight to
// the GP sandbox, in one run. The sandbox runs in its own process (a supplier is another system); the platform
// path is JSON routes that call the same GP service layer the pages use (session, linkage, audit rows,
// idempotency table, resilience policy), so the difference is what Front Door adds to each supplier call.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { GpServices, newFormToken } from '../src/gp/gp-services.ts';
import type { GpSlot } from '../src/integrations/gp/contract.ts';
import { gpSystems } from '../src/integrations/gp/registry.ts';
import { SupplierPolicy } from '../src/integrations/resilience.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { freePort, startTestSystem } from '../src/testing/factories.ts';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 6) * 1000;
const WARMUP_MS = 1000;
const WORKERS = 16;
const DAY = 86_400_000;
const SYSTEM = process.env.BENCH_GP_SYSTEM ?? 'emis';
const PERSON: Record<string, string> = { emis: '9990079196', tpp: '9990395950', vision: '9990316767', microtest: '9990633525' };
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Ops {
  search(from: string, to: string): Promise<GpSlot[]>;
  book(slotId: string): Promise<{ id: string } | undefined>;
  cancel(id: string): Promise<void>;
}

/** Workers loop: search one random day in the next four weeks, book a random free slot, cancel it. */
async function drive(ops: Ops, ms: number): Promise<{ calls: number; failures: number; latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let calls = 0;
  let failures = 0;
  const end = performance.now() + ms;
  const timed = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    const t = performance.now();
    try {
      return await fn();
    } catch {
      failures++;
      return undefined;
    } finally {
      latencies.push(performance.now() - t);
      calls++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (performance.now() < end) {
      const day0 = Date.now() + (1 + Math.floor(Math.random() * 26)) * DAY;
      const slots = await timed(() => ops.search(new Date(day0).toISOString(), new Date(day0 + DAY).toISOString()));
      if (!slots?.length) continue;
      const booked = await timed(() => ops.book(slots[Math.floor(Math.random() * slots.length)].id));
      if (booked) await timed(() => ops.cancel(booked.id));
    }
  }));
  return { calls, failures, latencies, seconds: (performance.now() - started) / 1000 };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : 0;
}

async function startSandboxProcess(name: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'sandboxes/cli.ts'), name, '--port', String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited ${code}`)); });
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

export async function gpBenchmark() {
  const sandbox = await startSandboxProcess(`gp-${SYSTEM}`);
  try {
    return await measure(sandbox.url);
  } finally {
    sandbox.child.kill('SIGTERM');
  }
}

/**
 * The store: a PostgreSQL server when BENCH_DATABASE_URL is set (a private schema, dropped afterwards), as a
 * deployment runs; else embedded PGlite, whose single thread then bounds every audited call.
 */
async function benchStore(): Promise<{ db?: Store; kind: string; dispose(): Promise<void> }> {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) return { kind: 'pglite', dispose: async () => {} };
  const schema = `bench_gp_${randomBytes(4).toString('hex')}`;
  const db = await openStore({ databaseUrl: url, schema });
  return {
    db, kind: 'postgres',
    async dispose() {
      await db.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

async function measure(sandboxUrl: string) {
  const store = await benchStore();
  try {
    return { ...(await measureWith(sandboxUrl, store.db)), store: store.kind };
  } finally {
    await store.dispose();
  }
}

async function measureWith(sandboxUrl: string, db: Store | undefined) {
  let services: GpServices | undefined;
  const system = await startTestSystem({}, {
    db,
    supplierUrls: { [`gp-${SYSTEM}`]: sandboxUrl },
    beforeListen: (app) => {
      // JSON faces of the GP service layer, as the pages call it (after the first request, linkage comes from cache).
      app.get<{ Querystring: { from: string; to: string } }>('/bench/gp/slots', async (req) =>
        (await services!.forCitizen(req.ctx, 'book appointment')).searchSlots({ from: req.query.from, to: req.query.to }));
      app.post<{ Body: { slotId: string } }>('/bench/gp/appointments', async (req) =>
        (await (await services!.forCitizen(req.ctx, 'book appointment')).book({ slotId: req.body.slotId, reason: 'Benchmark' }, newFormToken())).appointment);
      app.post<{ Params: { id: string } }>('/bench/gp/appointments/:id/cancel', async (req) =>
        (await services!.forCitizen(req.ctx, 'cancel appointment')).cancel(req.params.id, 'Benchmark'));
    },
  });
  services = new GpServices({ db: system.db, catalog: system.catalog, supplierUrls: system.supplierUrls, policies: system.policies });
  const nhsNumber = PERSON[SYSTEM];
  const person = system.demoPeople.find((p) => p.nhsNumber === nhsNumber)!;
  const sessionId = await system.sessions.create({
    kind: 'citizen', sub: person.sub, givenName: person.givenName, familyName: person.familyName, birthdate: person.birthdate,
    nhsNumber, identityLevel: 'P9', gpOdsCode: person.gpOdsCode!, idToken: 'bench',
  });
  const headers = { cookie: `fd_session=${sessionId}`, 'content-type': 'application/json' };

  const adapter = gpSystems[SYSTEM]({ baseUrl: sandboxUrl, policy: new SupplierPolicy(`direct-${SYSTEM}`) });
  const linkage = await adapter.link({ nhsNumber, dateOfBirth: person.birthdate, odsCode: person.gpOdsCode! });
  const direct: Ops = {
    search: (from, to) => adapter.searchSlots(linkage, { from, to }),
    book: (slotId) => adapter.book(linkage, { slotId, reason: 'Benchmark' }, randomUUID()),
    cancel: async (id) => { await adapter.cancel(linkage, id, 'Benchmark'); },
  };

  const pool = new Pool(system.url, { connections: WORKERS, pipelining: 1 });
  const call = async <T>(method: 'GET' | 'POST', p: string, body?: unknown): Promise<T> => {
    const r = await pool.request({ method, path: p, headers, body: body === undefined ? (method === 'POST' ? '{}' : undefined) : JSON.stringify(body) });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${p}: ${r.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  };
  const platform: Ops = {
    search: (from, to) => call('GET', `/bench/gp/slots?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
    book: (slotId) => call('POST', '/bench/gp/appointments', { slotId }),
    cancel: async (id) => { await call('POST', `/bench/gp/appointments/${encodeURIComponent(id)}/cancel`); },
  };

  try {
    await drive(direct, WARMUP_MS);
    await drive(platform, WARMUP_MS);
    const d = await drive(direct, DURATION_MS);
    const p = await drive(platform, DURATION_MS);
    const directRps = d.calls / d.seconds;
    const platformRps = p.calls / p.seconds;
    return {
      name: 'gp',
      system: SYSTEM,
      direct_rps: Math.round(directRps),
      platform_rps: Math.round(platformRps),
      ratio: round(platformRps / directRps),
      added_p50_ms: round(pct(p.latencies, 50) - pct(d.latencies, 50)),
      added_p99_ms: round(pct(p.latencies, 99) - pct(d.latencies, 99)),
      direct_p99_ms: round(pct(d.latencies, 99)),
      platform_p99_ms: round(pct(p.latencies, 99)),
      failures: d.failures + p.failures,
    };
  } finally {
    await pool.close();
    await adapter.close?.();
    await services.close();
    await system.close();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
