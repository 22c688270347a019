// Every conformance suite by service type: one line each.
import type { ConformanceSuite } from './kit.ts';

export const suites: ConformanceSuite[] = [
];

export function suiteFor(type: string): ConformanceSuite | undefined {
  return suites.find((s) => s.type === type);
}
