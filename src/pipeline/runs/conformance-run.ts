// A conformance run: the service type's suite against the supplier's endpoint, one stored row per check.
import { runSuite, type CheckResult } from '../../conformance/kit.ts';
import { suiteFor } from '../../conformance/suites.ts';
import { probe, RunCouldNotComplete, stopped, type RunContext, type RunOutcome } from './run-context.ts';

export async function runConformance(ctx: RunContext): Promise<RunOutcome> {
  const suiteName = String(ctx.params.suite ?? '');
  const suite = suiteFor(suiteName);
  if (!suite) throw new RunCouldNotComplete(`There is no conformance suite called "${suiteName}"`);
  const system = String(ctx.params.system ?? suite.systems[0] ?? '');
  const checked = await ctx.guard.check(ctx.targetUrl);
  await probe(ctx.guard, ctx.targetUrl);
  await ctx.progress(0, `Running the ${suite.type} suite (${system})`);
  // The suite's adapters open their own connections: give them the checked address (http), not the name again.
  const results: CheckResult[] = await runSuite(suite, { type: suite.type, system, url: checked.pinnedUrl, handOff: ctx.handOff }, (done, total, last) => {
    stopped(ctx.signal);
    void ctx.progress(Math.floor((done / total) * 100), `${done} of ${total} checks: ${last.name} ${last.passed ? 'passed' : 'failed'}`);
  }).catch((err) => {
    if (err instanceof RunCouldNotComplete) throw err;
    throw new RunCouldNotComplete(`The suite could not run: ${(err as Error).message}`);
  });
  const failed = results.filter((r) => !r.passed).length;
  return {
    status: results.length > 0 && failed === 0 ? 'passed' : 'failed',
    result: { suite: suite.type, system, checks: results, passed: results.length - failed, failed },
  };
}
