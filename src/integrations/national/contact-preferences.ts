// Contract for the contact preferences service: preferred channels, quiet hours and the national data
// opt-out (research and planning), versioned, with history, and the domain errors an adapter raises.
import { SupplierDomainError } from '../resilience.ts';
import type { Reconciled } from './write-outcome.ts';

export const CONTACT_CHANNELS = ['app', 'sms', 'email', 'letter'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

export interface QuietHours {
  /** 24-hour HH:MM; an end before the start spans midnight. */
  start: string;
  end: string;
}

export interface ContactPreferences {
  nhsNumber: string;
  version: number;
  channels: ContactChannel[];
  quietHours: QuietHours | null;
  /** The national data opt-out for research and planning (not a GP-level objection). */
  dataOptOut: { optedOut: boolean; changedAt?: string };
}

export interface ContactPreferencesHistoryEntry {
  version: number;
  kind: 'preferences' | 'data-opt-out';
  at: string;
  channels?: ContactChannel[];
  quietHours?: QuietHours | null;
  optedOut?: boolean;
}

interface WriteGuard {
  expectedVersion: number;
  /** Made once per intended change and reused on every retry. */
  requestId: string;
}

export type ContactPreferencesIntent =
  | ({ action: 'set-preferences'; channels: ContactChannel[]; quietHours: QuietHours | null } & WriteGuard)
  | ({ action: 'set-data-opt-out'; optedOut: boolean } & WriteGuard);

export type ContactPreferencesErrorCode = 'version-conflict' | 'invalid' | 'not-found';

export class ContactPreferencesError extends SupplierDomainError {
  declare readonly code: ContactPreferencesErrorCode;
  constructor(code: ContactPreferencesErrorCode, message: string, readonly info: { current?: ContactPreferences; field?: string } = {}) {
    super(code, message, info);
    this.name = 'ContactPreferencesError';
  }
}

export interface ContactPreferencesService {
  get(nhsNumber: string): Promise<ContactPreferences>;
  change(nhsNumber: string, intent: ContactPreferencesIntent): Promise<ContactPreferences>;
  history(nhsNumber: string): Promise<ContactPreferencesHistoryEntry[]>;
  /** After a change whose outcome is unknown: reads back and says whether it was applied. */
  reconcile(nhsNumber: string, intent: ContactPreferencesIntent): Promise<Reconciled<ContactPreferences>>;
}

export function intentIsReflected(p: ContactPreferences, intent: ContactPreferencesIntent): boolean {
  if (intent.action === 'set-data-opt-out') return p.dataOptOut.optedOut === intent.optedOut;
  const sameChannels = [...new Set(intent.channels)].sort().join() === [...p.channels].sort().join();
  return sameChannels && JSON.stringify(p.quietHours) === JSON.stringify(intent.quietHours);
}
