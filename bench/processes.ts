// Benchmark processes: each supplier sandbox and Front Door itself run in their own process, as they are
// deployed, so the load generator never shares an event loop with what it measures.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/testing/factories.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function started(child: ChildProcess, what: string, ready: (line: string) => boolean): Promise<string> {
  // Never leave a child behind, even when the benchmark is interrupted.
  process.once('exit', () => child.kill('SIGTERM'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 60_000);
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const line = buffered.split('\n').find(ready);
      if (line) { clearTimeout(timer); resolve(line); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited ${code}`)); });
  });
}

export async function startSandboxProcess(name: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'sandboxes/cli.ts'), name, '--port', String(port), '--host', '127.0.0.1'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await started(child, name, (l) => l.includes('listening'));
  return { url: `http://127.0.0.1:${port}`, child };
}

export interface PlatformProcess { url: string; cookie: string; store: string; child: ChildProcess }

export async function startPlatformProcess(opts: { supplierUrls: Record<string, string>; nhsNumber: string; gpRoutes?: boolean; env?: Record<string, string> }): Promise<PlatformProcess> {
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(root, 'bench/serve-platform.ts')], {
    cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_PLATFORM: JSON.stringify({ ...opts, databaseUrl }) },
  });
  const line = await started(child, 'Front Door', (l) => l.startsWith('{') && l.includes('"url"'));
  return { ...(JSON.parse(line) as { url: string; cookie: string; store: string }), child };
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); });
}

/** CPU microseconds each named process has used (Linux /proc); empty where /proc is missing. */
function cpuTotals(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      out[name] = (Number(fields[11]) + Number(fields[12])) * (1_000_000 / CLOCK_TICKS);
    } catch {
      // Not Linux, or the process has gone: no figure rather than a wrong one.
    }
  }
  return out;
}

/**
 * Runs the direct and platform sides in alternating rounds, so that the machine's own drift (other tenants,
 * frequency) falls on both alike. Returns each side's rounds and the CPU microseconds each process used during
 * that side's rounds.
 */
export async function alternatingRounds<T>(rounds: number, pids: Record<string, number>, side: { direct: () => Promise<T>; platform: () => Promise<T> }) {
  const out = { direct: [] as T[], platform: [] as T[] };
  const cpu = { direct: {} as Record<string, number>, platform: {} as Record<string, number> };
  let last = cpuTotals(pids);
  for (let i = 0; i < rounds; i++) {
    for (const s of ['direct', 'platform'] as const) {
      out[s].push(await side[s]());
      const now = cpuTotals(pids);
      for (const k of Object.keys(now)) if (k in last) cpu[s][k] = (cpu[s][k] ?? 0) + now[k] - last[k];
      last = now;
    }
  }
  return { ...out, cpu };
}

/** CPU microseconds per call from a side's total. */
export function perCall(used: Record<string, number>, calls: number): Record<string, number> {
  return Object.fromEntries(Object.entries(used).map(([k, v]) => [k, Math.round(v / Math.max(1, calls))]));
}

// utime and stime in /proc/PID/stat count clock ticks, 100 a second on Linux.
const CLOCK_TICKS = 100;
