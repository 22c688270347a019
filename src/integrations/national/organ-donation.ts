// Contract for the organ donation register: a citizen's decision (opt in, opt out, or a representative),
// its versions and history, and the domain errors an adapter raises.
import { SupplierDomainError } from '../resilience.ts';
import type { OrganCode } from './validation.ts';
import type { Reconciled } from './write-outcome.ts';

export { ORGAN_CODES, isOrganCode, type OrganCode } from './validation.ts';

export type OrganChoice = 'yes' | 'no' | 'not-stated';
/** Whether NHS staff should speak to the family about donation going ahead in line with the person's faith or beliefs. */
export type FaithDeclaration = 'yes' | 'no' | 'not-applicable';

export type OrganDonationDecision =
  | { kind: 'opt-in'; organs: 'all' | Partial<Record<OrganCode, OrganChoice>>; faithDeclaration: FaithDeclaration }
  | { kind: 'opt-out' }
  | { kind: 'representative'; representative: { name: string; relationship: string; contact: string } };

export interface OrganDonationRecord {
  nhsNumber: string;
  version: number;
  /** null: no decision recorded (never made, or withdrawn). That is not an opt-out. */
  decision: OrganDonationDecision | null;
  ethnicity?: string;
  religion?: string;
  registeredAt?: string;
  lastConfirmedAt?: string;
}

export interface OrganDonationHistoryEntry {
  version: number;
  action: 'recorded' | 'amended' | 'reaffirmed' | 'withdrawn';
  at: string;
  decision: OrganDonationDecision | null;
  withdrawalReason?: string;
}

export interface ReferenceItem { code: string; display: string }

interface WriteGuard {
  expectedVersion: number;
  /** Made once per intended change and reused on every retry. */
  requestId: string;
}

/** One intended change, as passed to `change` and `reconcile`. */
export type OrganDonationIntent =
  | ({ action: 'record'; decision: OrganDonationDecision; ethnicity?: string; religion?: string } & WriteGuard)
  | ({ action: 'reaffirm' } & WriteGuard)
  | ({ action: 'withdraw'; reason: string } & WriteGuard);

export type OrganDonationErrorCode = 'version-conflict' | 'invalid' | 'not-found' | 'no-decision';

export class OrganDonationError extends SupplierDomainError {
  declare readonly code: OrganDonationErrorCode;
  constructor(code: OrganDonationErrorCode, message: string, readonly info: { current?: OrganDonationRecord; field?: string } = {}) {
    super(code, message, info);
    this.name = 'OrganDonationError';
  }
}

export interface OrganDonationService {
  get(nhsNumber: string): Promise<OrganDonationRecord>;
  /** Records a first decision or amends the current one, reaffirms it, or withdraws it (leaving no decision). */
  change(nhsNumber: string, intent: OrganDonationIntent): Promise<OrganDonationRecord>;
  history(nhsNumber: string): Promise<OrganDonationHistoryEntry[]>;
  referenceData(): Promise<{ ethnicities: ReferenceItem[]; religions: ReferenceItem[] }>;
  /** After a change whose outcome is unknown: reads back and says whether it was applied. */
  reconcile(nhsNumber: string, intent: OrganDonationIntent): Promise<Reconciled<OrganDonationRecord>>;
}

function normalOrgans(organs: 'all' | Partial<Record<string, OrganChoice>>): string {
  if (organs === 'all') return 'all';
  return JSON.stringify(Object.entries(organs).filter(([, v]) => v !== 'not-stated').sort());
}

/** Whether two decisions say the same thing (organs left unstated count as not stated). */
export function sameDecision(a: OrganDonationDecision | null, b: OrganDonationDecision | null): boolean {
  if (!a || !b) return a === b;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'opt-in' && b.kind === 'opt-in') return a.faithDeclaration === b.faithDeclaration && normalOrgans(a.organs) === normalOrgans(b.organs);
  if (a.kind === 'representative' && b.kind === 'representative') return JSON.stringify(a.representative) === JSON.stringify(b.representative);
  return true;
}

export function intentIsReflected(record: OrganDonationRecord, intent: OrganDonationIntent): boolean {
  switch (intent.action) {
    case 'record': return sameDecision(record.decision, intent.decision);
    case 'reaffirm': return record.decision !== null;
    case 'withdraw': return record.decision === null;
  }
}
