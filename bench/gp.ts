// Benchmark `gp`: slot search, booking and cancelling through Front Door versus the same calls made straight to
// the GP sandbox, in one run. The sandbox and Front Door each run in their own process, as deployed; this process
// only generates load. The platform path is JSON routes over the same GP service layer the pages use (session,
// linkage, audit rows, idempotency table, resilience policy), so the difference is what Front Door adds to each
// supplier call. Failures are slot races (two workers picking one free slot), counted on both paths.
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { loadDemoPeople } from '../src/identity/provider/accounts.ts';
import type { GpSlot } from '../src/integrations/gp/contract.ts';
import { gpSystems } from '../src/integrations/gp/registry.ts';
import { SupplierPolicy } from '../src/integrations/resilience.ts';
import { alternatingRounds, perCall, startPlatformProcess, startSandboxProcess, stop, type PlatformProcess } from './processes.ts';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
/** Latency is measured with journeys offered at this share of the platform's measured throughput, on both sides. */
const LATENCY_LOAD = 0.5;
const LATENCY_MS = Number(process.env.BENCH_LATENCY_SECONDS ?? 6) * 1000;
const LATENCY_ROUNDS = 2;
const WARMUP_MS = 1000;
const ROUNDS = 5;
const WORKERS = 16;
const DAY = 86_400_000;
const SYSTEM = process.env.BENCH_GP_SYSTEM ?? 'emis';
/** Days a citizen looks at before booking (a journey, not a write loop); BENCH_GP_SEARCHES=1 gives one each. */
const SEARCHES = Number(process.env.BENCH_GP_SEARCHES ?? 3);
type Kind = 'search' | 'book' | 'cancel';
interface Drive { calls: number; failures: number; latencies: number[]; byKind: Record<Kind, number[]>; seconds: number }
const PERSON: Record<string, string> = { emis: '9990079196', tpp: '9990395950', vision: '9990316767', microtest: '9990633525' };

interface Ops {
  search(from: string, to: string): Promise<GpSlot[]>;
  book(slotId: string): Promise<{ id: string } | undefined>;
  cancel(id: string): Promise<void>;
}

/** Times every call of a side, by kind; a failed call counts, with its time. */
function recorder() {
  const rec = { calls: 0, failures: 0, latencies: [] as number[], byKind: { search: [], book: [], cancel: [] } as Record<Kind, number[]> };
  const timed = async <T>(kind: Kind, fn: () => Promise<T>): Promise<T | undefined> => {
    const t = performance.now();
    try {
      return await fn();
    } catch {
      rec.failures++;
      return undefined;
    } finally {
      const d = performance.now() - t;
      rec.latencies.push(d);
      rec.byKind[kind].push(d);
      rec.calls++;
    }
  };
  return { rec, timed };
}

/**
 * One citizen booking: look at SEARCHES days in the next four weeks, book a free slot on the last one, then
 * cancel it (so the practice never runs out of slots).
 */
async function journey(ops: Ops, timed: ReturnType<typeof recorder>['timed']): Promise<void> {
  let slots: GpSlot[] | undefined;
  for (let i = 0; i < SEARCHES; i++) {
    const day0 = Date.now() + (1 + Math.floor(Math.random() * 26)) * DAY;
    slots = await timed('search', () => ops.search(new Date(day0).toISOString(), new Date(day0 + DAY).toISOString()));
  }
  if (!slots?.length) return;
  const booked = await timed('book', () => ops.book(slots[Math.floor(Math.random() * slots.length)].id));
  if (booked) await timed('cancel', () => ops.cancel(booked.id));
}

/** Throughput: WORKERS citizens, each starting a new journey as soon as the last ends, as fast as the side allows. */
async function drive(ops: Ops, ms: number): Promise<Drive> {
  const { rec, timed } = recorder();
  const started = performance.now();
  const end = started + ms;
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (performance.now() < end) await journey(ops, timed);
  }));
  return { ...rec, seconds: (performance.now() - started) / 1000 };
}

/**
 * Latency: journeys start at a fixed rate whatever the answers, the same on both sides, so each call's time is
 * what that side adds at that load, not queueing behind a saturated side's lower throughput (which the ratio
 * already measures).
 */
async function offer(ops: Ops, journeysPerSecond: number, ms: number): Promise<Drive> {
  const { rec, timed } = recorder();
  const started = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i * 1000 < ms * journeysPerSecond; i++) {
    const due = started + (i * 1000) / journeysPerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    running.push(journey(ops, timed));
  }
  await Promise.all(running);
  return { ...rec, seconds: (performance.now() - started) / 1000 };
}

/** Rounds of one side taken together. */
function pooled(rounds: Drive[]): Drive {
  const byKind: Record<Kind, number[]> = { search: [], book: [], cancel: [] };
  for (const r of rounds) for (const k of Object.keys(byKind) as Kind[]) byKind[k].push(...r.byKind[k]);
  return {
    calls: rounds.reduce((a, r) => a + r.calls, 0), failures: rounds.reduce((a, r) => a + r.failures, 0),
    latencies: rounds.flatMap((r) => r.latencies), byKind, seconds: rounds.reduce((a, r) => a + r.seconds, 0),
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : 0;
}

export async function gpBenchmark() {
  const sandbox = await startSandboxProcess(`gp-${SYSTEM}`);
  const nhsNumber = PERSON[SYSTEM];
  const platform = await startPlatformProcess({ supplierUrls: { [`gp-${SYSTEM}`]: sandbox.url }, nhsNumber, gpRoutes: true });
  try {
    return { ...(await measure(sandbox.url, sandbox.child.pid!, platform, nhsNumber)), store: platform.store };
  } finally {
    await stop(platform.child);
    await stop(sandbox.child);
  }
}

async function measure(sandboxUrl: string, sandboxPid: number, front: PlatformProcess, nhsNumber: string) {
  const person = (await loadDemoPeople()).find((p) => p.nhsNumber === nhsNumber)!;
  const adapter = gpSystems[SYSTEM]({ baseUrl: sandboxUrl, policy: new SupplierPolicy(`direct-${SYSTEM}`) });
  const linkage = await adapter.link({ nhsNumber, dateOfBirth: person.birthdate, odsCode: person.gpOdsCode! });
  const direct: Ops = {
    search: (from, to) => adapter.searchSlots(linkage, { from, to }),
    book: (slotId) => adapter.book(linkage, { slotId, reason: 'Benchmark' }, randomUUID()),
    cancel: async (id) => { await adapter.cancel(linkage, id, 'Benchmark'); },
  };

  const headers = { cookie: front.cookie, 'content-type': 'application/json' };
  // More connections than workers: at a fixed offered rate, calls in flight can outnumber the workers for a moment.
  const pool = new Pool(front.url, { connections: 4 * WORKERS, pipelining: 1 });
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
    const rounds = await alternatingRounds(ROUNDS, { load: process.pid, platform: front.child.pid!, sandbox: sandboxPid }, {
      direct: () => drive(direct, DURATION_MS / ROUNDS),
      platform: () => drive(platform, DURATION_MS / ROUNDS),
    });
    const d = pooled(rounds.direct);
    const p = pooled(rounds.platform);
    const directCpu = perCall(rounds.cpu.direct, d.calls);
    const platformCpu = perCall(rounds.cpu.platform, p.calls);
    const directRps = d.calls / d.seconds;
    const platformRps = p.calls / p.seconds;

    // Latency at one offered load for both sides: LATENCY_LOAD of the platform's measured throughput.
    const journeysPerSecond = (LATENCY_LOAD * platformRps) / (p.calls / Math.max(1, p.byKind.book.length));
    const steady = await alternatingRounds(LATENCY_ROUNDS, {}, {
      direct: () => offer(direct, journeysPerSecond, LATENCY_MS / LATENCY_ROUNDS),
      platform: () => offer(platform, journeysPerSecond, LATENCY_MS / LATENCY_ROUNDS),
    });
    const ld = pooled(steady.direct);
    const lp = pooled(steady.platform);
    return {
      name: 'gp',
      system: SYSTEM,
      direct_rps: Math.round(directRps),
      platform_rps: Math.round(platformRps),
      ratio: round(platformRps / directRps),
      added_p50_ms: round(pct(lp.latencies, 50) - pct(ld.latencies, 50)),
      added_p99_ms: round(pct(lp.latencies, 99) - pct(ld.latencies, 99)),
      latency_load_rps: Math.round(lp.calls / lp.seconds),
      searches_per_booking: SEARCHES,
      ...Object.fromEntries((['search', 'book', 'cancel'] as const).flatMap((k) => [
        [`${k}_added_p50_ms`, round(pct(lp.byKind[k], 50) - pct(ld.byKind[k], 50))],
        [`${k}_added_p99_ms`, round(pct(lp.byKind[k], 99) - pct(ld.byKind[k], 99))],
      ])),
      direct_p99_ms: round(pct(ld.latencies, 99)),
      platform_p99_ms: round(pct(lp.latencies, 99)),
      // At saturation (the throughput rounds) every call also queues behind the slower side's lower throughput.
      saturated_added_p50_ms: round(pct(p.latencies, 50) - pct(d.latencies, 50)),
      saturated_added_p99_ms: round(pct(p.latencies, 99) - pct(d.latencies, 99)),
      failures: d.failures + p.failures + ld.failures + lp.failures,
      // CPU microseconds per call in each process (from /proc): where the platform's cost goes.
      direct_cpu_us_per_call: directCpu,
      platform_cpu_us_per_call: platformCpu,
    };
  } finally {
    await pool.close();
    await adapter.close?.();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
