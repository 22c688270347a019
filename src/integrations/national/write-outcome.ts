// Shared vocabulary for national writes whose outcome is unknown: which failures need a read-back, and what it found.
import { SupplierUnavailableError } from '../resilience.ts';

/**
 * After reading back: `applied` (the change is there), `not-applied` (nothing changed since the expected
 * version: safe to send again with the same request id), `superseded` (someone else changed the record
 * first: show the citizen what it holds now and ask again).
 */
export type Reconciled<R> =
  | { outcome: 'applied'; record: R }
  | { outcome: 'not-applied'; record: R }
  | { outcome: 'superseded'; record: R };

/** A write failed in a way that leaves its outcome unknown (it may have reached the agency): reconcile, never resend blindly. */
export function isOutcomeUnknown(err: unknown): boolean {
  return err instanceof SupplierUnavailableError && err.reason !== 'circuit-open';
}

export function decideOutcome<R extends { version: number }>(current: R, expectedVersion: number, reflected: boolean): Reconciled<R> {
  if (current.version === expectedVersion) return { outcome: 'not-applied', record: current };
  if (current.version > expectedVersion && reflected) return { outcome: 'applied', record: current };
  return { outcome: 'superseded', record: current };
}
