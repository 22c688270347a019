// Benchmark `national`: demographics read and update through Front Door against the same calls made to the PDS
// sandbox direct, in one run. The agency sandbox and Front Door each run in their own process, as deployed; this
// process only generates load. Reads: the citizen API (GET /api/me/national-record: session, audited read through
// the PDS adapter, JSON) against GET /Patient/{nhs} on the sandbox. Updates: the app's API (a fresh read for the
// version, then PATCH with If-Match and an Idempotency-Key) and the citizen's confirmed change through the pages,
// each against the same two agency calls made direct (read for the version, then the guarded JSON Patch).
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { newRequestId } from '../src/integrations/national/http.ts';
import { createDemographicsService } from '../src/integrations/national/registry.ts';
import { SupplierPolicy } from '../src/integrations/resilience.ts';
import { alternatingRounds, perCall, startPlatformProcess, startSandboxProcess, stop } from './processes.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = 32;
const WARMUP_SECONDS = 2;
const UPDATES = Number(process.env.BENCH_UPDATES ?? 300);
/** Untimed updates first on both sides, as the reads have their warm-up: the first change compiles its code path. */
const WARMUP_UPDATES = 10;
const NHS = '9990079196';
/** Direct updates change another person's record, so they never make the platform's kept copy out of date. */
const DIRECT_NHS = '9990237573';

const ROUNDS = 5;

/**
 * Untimed load first, with the measured rounds' connections: the first round otherwise still pays for the process's
 * heap and code settling under that load (the platform's first 3 s round ran 5–8% below its later ones).
 */
async function warm(url: string, headers: Record<string, string> = {}) {
  await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_SECONDS, headers });
}

async function load(url: string, seconds: number, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { calls: r.requests.total, seconds: r.duration, p50: r.latency.p50, p99: r.latency.p99 };
}

type Load = Awaited<ReturnType<typeof load>>;
/** Rounds of one side taken together: throughput over all of them, and each percentile's mean. */
const pooled = (rounds: Load[]) => ({
  rps: rounds.reduce((a, r) => a + r.calls, 0) / rounds.reduce((a, r) => a + r.seconds, 0),
  calls: rounds.reduce((a, r) => a + r.calls, 0),
  p50: rounds.reduce((a, r) => a + r.p50, 0) / rounds.length,
  p99: rounds.reduce((a, r) => a + r.p99, 0) / rounds.length,
});

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

export async function nationalBenchmark() {
  const pds = await startSandboxProcess('pds');
  // The per-session API limit bounds one citizen, not the platform: one benchmark session stands in for many.
  const front = await startPlatformProcess({ supplierUrls: { pds: pds.url }, nhsNumber: NHS, env: { CITIZEN_API_PER_MINUTE: '100000000' } });
  let client: Pool | undefined;
  try {
    const { cookie } = front;
    const direct = `${pds.url}/Patient/${NHS}`;
    const api = `${front.url}/api/me/national-record`;

    // Reads: throughput and latency under concurrent load.
    await warm(direct);
    await warm(api, { cookie });
    const rounds = await alternatingRounds(ROUNDS, { load: process.pid, platform: front.child.pid!, agency: pds.child.pid! }, {
      direct: () => load(direct, DURATION / ROUNDS),
      platform: () => load(api, DURATION / ROUNDS, { cookie }),
    });
    const directRead = pooled(rounds.direct);
    const platformRead = pooled(rounds.platform);
    const directCpu = perCall(rounds.cpu.direct, directRead.calls);
    const platformCpu = perCall(rounds.cpu.platform, platformRead.calls);

    // Updates: a version chain, so one at a time; direct, API and pages take turns so drift hits all alike.
    const form = await fetch(`${front.url}/services/national-record/change/mobile`, { headers: { cookie } });
    const html = await form.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const csrfCookie = (form.headers.getSetCookie().find((c) => c.startsWith('fd_csrf=')) ?? '').split(';')[0];
    const agency = createDemographicsService({ baseUrl: pds.url, policy: new SupplierPolicy('pds-direct') });
    // The platform side's client is a plain undici pool, as lean as the direct side's adapter (fetch costs a few
    // hundred microseconds more a call, which would be counted as the platform's).
    client = new Pool(front.url, { connections: 1 });
    const page = async (method: 'GET' | 'POST', headers: Record<string, string>, body?: string) => {
      const r = await client!.request({ method, path: '/services/national-record/change/mobile', headers, body });
      return { status: r.statusCode, text: await r.body.text() };
    };
    const directMs: number[] = [];
    const apiMs: number[] = [];
    const pageMs: number[] = [];
    const mobile = (i: number, side: number) => `07700${String(900000 + 3 * (WARMUP_UPDATES + i) + side).padStart(6, '0')}`;
    for (let i = -WARMUP_UPDATES; i < UPDATES; i++) {
      // Direct: the same two agency calls the platform makes (read for the version, guarded JSON Patch), no platform.
      let t = performance.now();
      const cur = await agency.get(DIRECT_NHS);
      await agency.update(DIRECT_NHS, { changes: [{ kind: 'mobile', value: mobile(i, 0) }], expectedVersion: cur.version, requestId: newRequestId() });
      if (i >= 0) directMs.push(performance.now() - t);

      // The app's API: a fresh read for the version (ETag), then the change with If-Match and an Idempotency-Key.
      t = performance.now();
      const read = await client!.request({ method: 'GET', path: '/api/me/national-record', headers: { cookie, 'cache-control': 'no-cache' } });
      await read.body.dump();
      const changed = await client!.request({
        method: 'PATCH', path: '/api/me/national-record', body: JSON.stringify({ kind: 'mobile', value: mobile(i, 1) }),
        headers: { cookie, 'content-type': 'application/json', 'if-match': String(read.headers.etag), 'idempotency-key': newRequestId() },
      });
      await changed.body.dump();
      if (changed.statusCode !== 200) throw new Error(`api update ${i}: ${changed.statusCode}`);
      if (i >= 0) apiMs.push(performance.now() - t);

      t = performance.now();
      // The pages: the change form reads the agency's latest version, as a citizen starting a change does.
      const version = /name="version" value="(\d+)"/.exec((await page('GET', { cookie })).text)?.[1];
      const done = await page('POST', { cookie: `${cookie}; ${csrfCookie}`, 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ _csrf: token, nhsNumber: NHS, version: version ?? '', value: mobile(i, 2), requestId: newRequestId(), seen: '' }).toString());
      if (done.status !== 200 || !done.text.includes('Your details have been updated')) throw new Error(`platform update ${i}: ${done.status}`);
      if (i >= 0) pageMs.push(performance.now() - t);
    }
    return {
      name: 'national',
      direct_rps: Math.round(directRead.rps),
      platform_rps: Math.round(platformRead.rps),
      ratio: round(platformRead.rps / directRead.rps),
      added_p50_ms: round(platformRead.p50 - directRead.p50, 2),
      added_p99_ms: round(platformRead.p99 - directRead.p99, 2),
      update_added_p50_ms: round(pct(apiMs, 50) - pct(directMs, 50), 2),
      update_added_p99_ms: round(pct(apiMs, 99) - pct(directMs, 99), 2),
      page_update_added_p50_ms: round(pct(pageMs, 50) - pct(directMs, 50), 2),
      page_update_added_p99_ms: round(pct(pageMs, 99) - pct(directMs, 99), 2),
      // CPU microseconds per read in each process (from /proc): where the platform's cost goes.
      direct_cpu_us_per_read: directCpu,
      platform_cpu_us_per_read: platformCpu,
      store: front.store,
      platform_route: 'read: GET /api/me/national-record (a read is reused for NATIONAL_RECORD_CACHE_SECONDS); update: the same GET with no-cache, then PATCH /api/me/national-record; page_update: GET /services/national-record/change/mobile (a fresh read), then its confirmed POST',
    };
  } finally {
    await client?.close();
    await stop(front.child);
    await stop(pds.child);
  }
}
