// `npm run bench -- NAME` runs one named benchmark and prints one JSON line last; `npm run bench` runs them all
// and rewrites bench/RESULTS.md with the date and machine.
import { cpus, totalmem } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { hubBenchmark } from './hub.ts';
import { nationalBenchmark } from './national.ts';
import { gpBenchmark } from './gp.ts';

const benchmarks: Record<string, { run: () => Promise<Record<string, unknown>>; targets: string; how: string }> = {
  hub: {
    run: hubBenchmark, targets: 'ratio ≥ 0.05, overhead_ratio ≥ 0.7, hub_p99_ms < 50',
    how: 'One process, autocannon with 50 connections: a bare Fastify route, the hub template with a fixed context, and the signed-in hub.',
  },
  national: {
    run: nationalBenchmark, targets: 'ratio ≥ 0.5, added_p99_ms ≤ 10, update_added_p99_ms ≤ 10',
    how: 'Front Door and the PDS sandbox each in their own process; autocannon (32 connections) on GET /api/me/national-record against GET /Patient/{nhs} on the sandbox, after 2 s of untimed load on each, in five alternating rounds of 3 s a side (throughput over all rounds, the mean of each round\'s percentiles); updates one at a time (after 10 untimed on each side), taking turns: through the API (GET with no-cache for the version, then PATCH with If-Match and an Idempotency-Key; update_added_*) and through the change pages (page_update_added_*), with an undici pool as the client, each against the same two agency calls made direct through the adapter. CPU per read per process from /proc.',
  },
  gp: {
    run: gpBenchmark, targets: 'ratio ≥ 0.5, added_p99_ms ≤ 10 (goal 5)',
    how: 'Front Door and the GP sandbox each in their own process; citizens each search three days, book a slot and cancel it, through Front Door (session, audit, idempotency, policy) and through the adapter straight to the sandbox. Throughput: 16 citizens back to back, in five alternating rounds of 2 s a side. Latency (added_p50/p99): journeys started at a fixed rate, half the platform\'s measured throughput, the same on both sides, in two alternating rounds of 3 s a side; saturated_added_* are the throughput rounds\' own percentiles, where calls also queue behind the slower side. CPU per call per process from /proc.',
  },
};

const name = process.argv[2];
if (name) {
  const b = benchmarks[name];
  if (!b) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}`);
    process.exit(2);
  }
  console.log(JSON.stringify(await b.run()));
  process.exit(0);
}

const rows: string[] = [];
for (const [n, b] of Object.entries(benchmarks)) {
  const result = await b.run();
  console.log(JSON.stringify(result));
  rows.push(`| ${n} | \`${JSON.stringify(result)}\` | ${b.targets} |`);
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
await writeFile(new URL('./RESULTS.md', import.meta.url), [
  '# Benchmark results',
  '',
  `Run on ${new Date().toISOString()} — ${machine}. Load generator and server share the machine, so figures are`,
  'noisy: compare ratios measured in the same run, not absolute numbers across runs.',
  '',
  '| benchmark | result | targets |',
  '|---|---|---|',
  ...rows,
  '',
  '## How each is measured',
  '',
  ...Object.entries(benchmarks).map(([n, b]) => `- **${n}**: ${b.how}`),
  '',
].join('\n'));
process.exit(0);
