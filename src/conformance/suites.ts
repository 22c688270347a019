// Every conformance suite by service type: one line each.
import type { ConformanceSuite } from './kit.ts';
import { gpSuite } from './gp-suite.ts';

export const suites: ConformanceSuite[] = [
  gpSuite,
];

export function suiteFor(type: string): ConformanceSuite | undefined {
  return suites.find((s) => s.type === type);
}
