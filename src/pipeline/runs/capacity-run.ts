// A capacity run: projected peak demand from the population covered, then a stepped load test at 25–150% of it
// (each step bounded in time and rate) recording latency percentiles and errors, and the cost model's estimate.
import autocannon from 'autocannon';
import {
  capacityVerdict, COST_DEFAULTS, costEstimate, DEMAND_DEFAULTS, loadPlan, percentile, projectedPeak, type PlannedStep, type StepResult,
} from './capacity-model.ts';
import { probe, RunCouldNotComplete, stopped, type RunContext, type RunOutcome } from './run-context.ts';

/** Every load test together stays under this, whatever the parameters ask. */
export const MAX_TOTAL_SECONDS = 30;

export interface CapacityParams {
  populationCovered: number;
  uptake: number;
  peakFactor: number;
  busyWindowHours: number;
  p99TargetMs: number;
  stepSeconds: number;
  path: string;
  requestsPerUserPerMonth: number;
  costPer1000Requests: number;
  fixedMonthlyCost: number;
}

export const CAPACITY_DEFAULTS = { ...DEMAND_DEFAULTS, ...COST_DEFAULTS, p99TargetMs: 1000, stepSeconds: 5, path: '/' } as const;

async function loadStep(url: string, host: string, step: PlannedStep, seconds: number, signal: AbortSignal): Promise<{ step: StepResult; answered: number }> {
  const times: number[] = [];
  let instance: autocannon.Instance | undefined;
  const stop = () => (instance as unknown as { stop(): void } | undefined)?.stop();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({
      url,
      headers: { host },
      duration: seconds,
      overallRate: step.rps,
      connections: Math.max(1, Math.min(50, Math.ceil(step.rps / 10))),
      timeout: 10,
    }, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', (_client, _status, _bytes, ms) => times.push(ms));
    signal.addEventListener('abort', stop, { once: true });
  }).finally(() => signal.removeEventListener('abort', stop));
  times.sort((a, b) => a - b);
  const answered = times.length;
  const errors = result.errors + result['5xx'];
  return { answered, step: {
    ...step,
    requests: answered + result.errors,
    achievedRps: Math.round((answered / Math.max(result.duration, 0.001)) * 10) / 10,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    errors,
    clientErrors: result['4xx'],
  } };
}

export async function runCapacity(ctx: RunContext, maxRps: number): Promise<RunOutcome> {
  const p = ctx.params as unknown as CapacityParams;
  const demand = projectedPeak({ populationCovered: p.populationCovered, uptake: p.uptake, peakFactor: p.peakFactor, busyWindowHours: p.busyWindowHours });
  const cost = costEstimate({ populationCovered: p.populationCovered, uptake: p.uptake, requestsPerUserPerMonth: p.requestsPerUserPerMonth, costPer1000Requests: p.costPer1000Requests, fixedMonthlyCost: p.fixedMonthlyCost });
  const plan = loadPlan(demand.peakRps, maxRps);
  const stepSeconds = Math.max(1, Math.min(p.stepSeconds, Math.floor(MAX_TOTAL_SECONDS / plan.length)));
  const target = new URL(p.path, ctx.targetUrl).toString();
  const checked = await ctx.guard.check(target);
  await probe(ctx.guard, target);
  const base = { demand, cost, plan, stepSeconds, maxRps, p99TargetMs: p.p99TargetMs, path: p.path };
  const steps: StepResult[] = [];
  for (const [i, step] of plan.entries()) {
    stopped(ctx.signal);
    await ctx.progress(Math.floor((i / plan.length) * 100), `Step ${i + 1} of ${plan.length}: ${step.percent}% of projected peak, ${step.rps} requests per second`);
    let result: StepResult;
    let answered: number;
    try {
      // The load goes to the address the guard checked (http); the Host header keeps the name the supplier serves.
      ({ step: result, answered } = await loadStep(checked.pinnedUrl, checked.url.host, step, stepSeconds, ctx.signal));
    } catch (err) {
      throw new RunCouldNotComplete(`The load test could not run at ${step.percent}% of peak: ${(err as Error).message}`, { ...base, steps });
    }
    steps.push(result);
    if (answered === 0 && step.percent <= 100) {
      throw new RunCouldNotComplete(`The endpoint ${checked.url.host} stopped answering during the load test (no answer at ${step.percent}% of peak)`, { ...base, steps });
    }
  }
  stopped(ctx.signal);
  const verdict = capacityVerdict(steps, p.p99TargetMs);
  return { status: verdict.passed ? 'passed' : 'failed', result: { ...base, steps, verdict } };
}
