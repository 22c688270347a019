// The capacity arithmetic: projected peak, load plan, verdict and cost model, each with its formula shown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capacityVerdict, costEstimate, loadPlan, percentile, projectedPeak, type StepResult } from './capacity-model.ts';

test('projected peak: population × uptake × peak factor ÷ seconds in the busy window', () => {
  const d = projectedPeak({ populationCovered: 1_000_000, uptake: 0.05, peakFactor: 3, busyWindowHours: 8 });
  assert.equal(d.peakRps, 5.21); // 150,000 ÷ 28,800
  assert.match(d.formula, /1,000,000 people × 0\.05 uptake × 3 peak factor ÷ 28,800 seconds \(8-hour busy window\) = 5\.21/);
});

test('load plan: 25, 50, 100 and 150% of peak, at least 1 rps, capped at the configured ceiling', () => {
  assert.deepEqual(loadPlan(40, 200).map((s) => s.rps), [10, 20, 40, 60]);
  assert.deepEqual(loadPlan(0.5, 200).map((s) => s.rps), [1, 1, 1, 1]);
  const capped = loadPlan(400, 200);
  assert.deepEqual(capped.map((s) => [s.rps, s.capped]), [[100, false], [200, false], [200, true], [200, true]]);
});

const step = (over: Partial<StepResult>): StepResult => ({ percent: 100, rps: 10, capped: false, requests: 100, achievedRps: 10, p50: 5, p95: 10, p99: 20, errors: 0, clientErrors: 0, ...over });

test('verdict: p99 within the agreed level and under 1% errors at 100% of peak', () => {
  assert.equal(capacityVerdict([step({})], 1000).passed, true);
  const slow = capacityVerdict([step({ p99: 1500 })], 1000);
  assert.equal(slow.passed, false);
  assert.match(slow.reason, /p99 latency 1500 ms is above the agreed 1000 ms/);
  const failing = capacityVerdict([step({ errors: 1 })], 1000);
  assert.match(failing.reason, /1\.0% of requests failed/);
  assert.equal(capacityVerdict([step({ percent: 50 })], 1000).passed, false);
  assert.equal(capacityVerdict([step({ requests: 0 })], 1000).passed, false);
  // Overload beyond the peak does not fail the check.
  assert.equal(capacityVerdict([step({}), step({ percent: 150, errors: 50 })], 1000).passed, true);
});

test('cost model: fixed cost plus requests at a price per thousand, with its inputs and formula', () => {
  const c = costEstimate({ populationCovered: 200_000, uptake: 0.05, requestsPerUserPerMonth: 20, costPer1000Requests: 0.5, fixedMonthlyCost: 400 });
  assert.equal(c.monthlyActiveUsers, 10_000);
  assert.equal(c.monthlyRequests, 200_000);
  assert.equal(c.monthlyCost, 500); // 400 + 200 × 0.5
  assert.equal(c.yearlyCost, 6000);
  assert.equal(c.costPerActiveUserPerYear, 0.6);
  assert.equal(c.costPerPersonCoveredPerYear, 0.03);
  assert.match(c.formula, /£400 fixed \+ \(200,000 people × 0\.05 uptake × 20 requests per user ÷ 1,000\) × £0\.5 = £500\.00 a month/);
});

test('percentiles by nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 95), 95);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile([], 99), 0);
});
