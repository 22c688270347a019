// The conformance kit: a suite is a list of named checks against one supplier endpoint. The same suites run
// in CI against our adapters and sandboxes, and from the CLI (and the assurance pipeline) against a supplier's URL.

export interface ConformanceTarget {
  /** Service type, e.g. 'gp' or 'national'. */
  type: string;
  /** The system or agency name, e.g. 'emis' or 'pds': picks the adapter that speaks its dialect. */
  system: string;
  /** Base URL of the supplier endpoint under test. */
  url: string;
  /**
   * Issues a hand-off token as the platform does (signed with its hand-off key, for this audience). Given it,
   * the web suite signs in with real tokens and also checks that forged and replayed ones are refused.
   */
  handOff?: (audience: string) => Promise<string>;
}

export interface ConformanceCheck {
  name: string;
  /** Throws (an assertion or Error) with a readable reason when the endpoint does not conform. */
  run(target: ConformanceTarget): Promise<void>;
}

export interface ConformanceSuite {
  type: string;
  /** Systems this suite knows how to talk to. */
  systems: string[];
  checks(target: ConformanceTarget): ConformanceCheck[];
}

export interface CheckResult {
  name: string;
  passed: boolean;
  reason?: string;
  ms: number;
}

export async function runSuite(
  suite: ConformanceSuite,
  target: ConformanceTarget,
  onProgress?: (done: number, total: number, last: CheckResult) => void,
): Promise<CheckResult[]> {
  const checks = suite.checks(target);
  const results: CheckResult[] = [];
  for (const check of checks) {
    const started = performance.now();
    let result: CheckResult;
    try {
      await check.run(target);
      result = { name: check.name, passed: true, ms: Math.round(performance.now() - started) };
    } catch (err) {
      result = { name: check.name, passed: false, reason: oneLine((err as Error)?.message ?? String(err)), ms: Math.round(performance.now() - started) };
    }
    results.push(result);
    onProgress?.(results.length, checks.length, result);
  }
  return results;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 300);
}

export function formatTable(results: CheckResult[]): string {
  const width = Math.max(4, ...results.map((r) => r.name.length));
  const lines = [`${'TEST'.padEnd(width)}  RESULT  REASON`];
  for (const r of results) lines.push(`${r.name.padEnd(width)}  ${r.passed ? 'PASS  ' : 'FAIL  '}  ${r.reason ?? ''}`.trimEnd());
  const failed = results.filter((r) => !r.passed).length;
  lines.push(`${results.length - failed} passed, ${failed} failed`);
  return lines.join('\n');
}
