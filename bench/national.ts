// Benchmark `national`: demographics read and update through Front Door (the citizen's national record page and
// its confirmed change) against the same calls made to the PDS sandbox direct, in one run. The sandbox runs in
// its own process, as an agency would; Front Door and the load generator share this one.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { freePort, signedInCitizen, startTestSystem } from '../src/testing/factories.ts';
import { newRequestId } from '../src/integrations/national/http.ts';
import { createDemographicsService } from '../src/integrations/national/registry.ts';
import { SupplierPolicy } from '../src/integrations/resilience.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 32;
const UPDATES = Number(process.env.BENCH_UPDATES ?? 300);
const NHS = '9990079196';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function startPds(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'sandboxes/cli.ts', 'pds', '--port', String(port), '--host', '127.0.0.1'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('pds sandbox did not start')), 20_000);
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) { clearTimeout(timer); resolve(); } });
    child.once('exit', (code) => reject(new Error(`pds sandbox exited ${code}`)));
  });
  // Never leave the agency process behind, even when the benchmark is interrupted.
  process.once('exit', () => child.kill('SIGTERM'));
  return { url: `http://127.0.0.1:${port}`, child };
}

async function load(url: string, headers: Record<string, string> = {}) {
  await autocannon({ url, connections: 8, duration: 1, headers });
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

export async function nationalBenchmark() {
  const pds = await startPds();
  const system = await startTestSystem({}, { supplierUrls: { pds: pds.url } });
  try {
    const { cookie } = await signedInCitizen(system, { level: 'P9', nhsNumber: NHS });
    const direct = `${pds.url}/Patient/${NHS}`;
    const page = `${system.url}/services/national-record`;

    // Reads: throughput and latency under concurrent load.
    const directRead = await load(direct);
    const platformRead = await load(page, { cookie });

    // Updates: a version chain, so one at a time; alternate direct and platform so drift hits both alike.
    const form = await fetch(`${system.url}/services/national-record/change/mobile`, { headers: { cookie } });
    const html = await form.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const csrfCookie = (form.headers.getSetCookie().find((c) => c.startsWith('fd_csrf=')) ?? '').split(';')[0];
    const agency = createDemographicsService({ baseUrl: pds.url, policy: new SupplierPolicy('pds-direct') });
    const directMs: number[] = [];
    const platformMs: number[] = [];
    for (let i = 0; i < UPDATES; i++) {
      const mobile = `07700${String(900000 + i).padStart(6, '0')}`;
      // Direct: the same two agency calls the platform makes (read for the version, guarded JSON Patch), no platform.
      let t = performance.now();
      const cur = await agency.get(NHS);
      await agency.update(NHS, { changes: [{ kind: 'mobile', value: mobile }], expectedVersion: cur.version, requestId: newRequestId() });
      directMs.push(performance.now() - t);

      t = performance.now();
      const view = await fetch(page, { headers: { cookie } });
      const version = /Record version (\d+)/.exec(await view.text())?.[1];
      const done = await fetch(`${system.url}/services/national-record/change/mobile`, {
        method: 'POST',
        headers: { cookie: `${cookie}; ${csrfCookie}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: token, nhsNumber: NHS, version: version ?? '', value: mobile, requestId: newRequestId(), seen: '' }).toString(),
      });
      const body = await done.text();
      if (done.status !== 200 || !body.includes('Your details have been updated')) throw new Error(`platform update ${i}: ${done.status}`);
      platformMs.push(performance.now() - t);
    }
    return {
      name: 'national',
      direct_rps: Math.round(directRead.rps),
      platform_rps: Math.round(platformRead.rps),
      ratio: round(platformRead.rps / directRead.rps),
      added_p50_ms: round(platformRead.p50 - directRead.p50, 2),
      added_p99_ms: round(platformRead.p99 - directRead.p99, 2),
      update_added_p50_ms: round(pct(platformMs, 50) - pct(directMs, 50), 2),
      update_added_p99_ms: round(pct(platformMs, 99) - pct(directMs, 99), 2),
      platform_route: 'GET /services/national-record (read); GET it then POST /services/national-record/change/mobile confirmed (update)',
    };
  } finally {
    await system.close();
    pds.child.kill('SIGTERM');
  }
}
