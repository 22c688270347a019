// Every conformance suite by service type: one line each.
import type { ConformanceSuite } from './kit.ts';
import { gpSuite } from './gp-suite.ts';
import { nationalSuite } from './national-suite.ts';
import { webSuite } from './web-suite.ts';

export const suites: ConformanceSuite[] = [
  gpSuite,
  nationalSuite,
  webSuite,
];

export function suiteFor(type: string): ConformanceSuite | undefined {
  return suites.find((s) => s.type === type);
}
