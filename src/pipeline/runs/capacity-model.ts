// The capacity check's arithmetic, as small pure functions whose inputs and formulas are kept with the result:
// projected peak demand, the stepped load plan, the verdict at the projected peak, and the cost model.

export interface DemandInputs {
  /** People registered at the practices covered (from the proposal's commissioner support). */
  populationCovered: number;
  /** Share of those people active in a month (0.05 = 5%). */
  uptake: number;
  /** How many times the average rate the busiest moments reach. */
  peakFactor: number;
  /** Hours of the busy day over which the day's demand is spread. */
  busyWindowHours: number;
}

export const DEMAND_DEFAULTS = { uptake: 0.05, peakFactor: 3, busyWindowHours: 8 } as const;

export interface Demand {
  inputs: DemandInputs;
  peakRps: number;
  formula: string;
}

/** Projected peak requests per second: population × uptake × peak factor ÷ seconds in the busy window. */
export function projectedPeak(inputs: DemandInputs): Demand {
  const seconds = inputs.busyWindowHours * 3600;
  const peakRps = (inputs.populationCovered * inputs.uptake * inputs.peakFactor) / seconds;
  return {
    inputs,
    peakRps: round(peakRps, 2),
    formula: `${fmt(inputs.populationCovered)} people × ${inputs.uptake} uptake × ${inputs.peakFactor} peak factor ÷ ${fmt(seconds)} seconds (${inputs.busyWindowHours}-hour busy window) = ${round(peakRps, 2)} requests per second`,
  };
}

export const LOAD_STEPS = [25, 50, 100, 150] as const;

export interface PlannedStep {
  percent: number;
  /** The rate asked for: the share of projected peak, at least 1, at most the configured ceiling. */
  rps: number;
  capped: boolean;
}

export function loadPlan(peakRps: number, maxRps: number): PlannedStep[] {
  return LOAD_STEPS.map((percent) => {
    const wanted = Math.max(1, Math.ceil((peakRps * percent) / 100));
    return { percent, rps: Math.min(wanted, maxRps), capped: wanted > maxRps };
  });
}

export interface StepResult extends PlannedStep {
  requests: number;
  achievedRps: number;
  p50: number;
  p95: number;
  p99: number;
  /** Connection errors, timeouts and 5xx answers. */
  errors: number;
  /** 4xx answers: the endpoint answered, but refused the request. */
  clientErrors: number;
}

export interface Verdict {
  passed: boolean;
  reason: string;
}

/** Passed when, at 100% of projected peak, p99 is within the agreed level and fewer than 1% of requests failed. */
export function capacityVerdict(steps: StepResult[], p99TargetMs: number): Verdict {
  const atPeak = steps.find((s) => s.percent === 100);
  if (!atPeak) return { passed: false, reason: 'The step at 100% of projected peak did not run' };
  if (atPeak.requests === 0) return { passed: false, reason: 'No requests were answered at 100% of projected peak' };
  const errorRate = atPeak.errors / atPeak.requests;
  const problems: string[] = [];
  if (atPeak.p99 > p99TargetMs) problems.push(`p99 latency ${atPeak.p99} ms is above the agreed ${p99TargetMs} ms`);
  if (errorRate >= 0.01) problems.push(`${(errorRate * 100).toFixed(1)}% of requests failed (the limit is under 1%)`);
  return problems.length
    ? { passed: false, reason: `At 100% of projected peak: ${problems.join('; ')}` }
    : { passed: true, reason: `At 100% of projected peak: p99 ${atPeak.p99} ms within ${p99TargetMs} ms, ${(errorRate * 100).toFixed(1)}% errors` };
}

export interface CostInputs {
  populationCovered: number;
  uptake: number;
  /** Requests each active user makes in a month. */
  requestsPerUserPerMonth: number;
  /** Variable cost, in pounds, of serving 1,000 requests (hosting, the supplier's per-transaction charge). */
  costPer1000Requests: number;
  /** Fixed monthly cost in pounds (platform, support, monitoring). */
  fixedMonthlyCost: number;
}

export const COST_DEFAULTS = { requestsPerUserPerMonth: 20, costPer1000Requests: 0.5, fixedMonthlyCost: 400 } as const;

export interface CostEstimate {
  inputs: CostInputs;
  monthlyActiveUsers: number;
  monthlyRequests: number;
  monthlyCost: number;
  yearlyCost: number;
  costPerActiveUserPerYear: number;
  costPerPersonCoveredPerYear: number;
  formula: string;
}

export function costEstimate(i: CostInputs): CostEstimate {
  const monthlyActiveUsers = Math.round(i.populationCovered * i.uptake);
  const monthlyRequests = monthlyActiveUsers * i.requestsPerUserPerMonth;
  const monthlyCost = round(i.fixedMonthlyCost + (monthlyRequests / 1000) * i.costPer1000Requests, 2);
  const yearlyCost = round(monthlyCost * 12, 2);
  return {
    inputs: i,
    monthlyActiveUsers,
    monthlyRequests,
    monthlyCost,
    yearlyCost,
    costPerActiveUserPerYear: monthlyActiveUsers ? round(yearlyCost / monthlyActiveUsers, 2) : 0,
    costPerPersonCoveredPerYear: i.populationCovered ? round(yearlyCost / i.populationCovered, 4) : 0,
    formula: `£${i.fixedMonthlyCost} fixed + (${fmt(i.populationCovered)} people × ${i.uptake} uptake × ${i.requestsPerUserPerMonth} requests per user ÷ 1,000) × £${i.costPer1000Requests} = £${monthlyCost.toFixed(2)} a month`,
  };
}

/** Latency percentile by nearest rank, over the response times of one step. */
export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return 0;
  const rank = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return round(sortedMs[rank], 1);
}

function round(n: number, places: number): number {
  const f = 10 ** places;
  return Math.round(n * f) / f;
}
function fmt(n: number): string {
  return n.toLocaleString('en-GB');
}
