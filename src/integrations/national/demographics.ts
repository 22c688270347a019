// Contract for the national demographics agency (the person's details on the national record): what the
// platform reads, the changes a citizen may ask for, and the domain errors an adapter raises.
import { SupplierDomainError } from '../resilience.ts';
import type { Reconciled } from './write-outcome.ts';

export interface PostalAddress {
  lines: string[];
  city?: string;
  postcode: string;
}

export interface DemographicsAddress extends PostalAddress {
  id?: string;
  use: 'home' | 'temp' | 'work' | 'billing' | 'old';
  /** ISO dates of the period the address applies. */
  from?: string;
  to?: string;
}

export interface EmergencyContact {
  name: string;
  relationship?: string;
  phone: string;
}

export interface DemographicsRecord {
  nhsNumber: string;
  /** The agency's version: pass it back as `expectedVersion` when changing the record. */
  version: number;
  name: { given: string[]; family: string; prefix?: string[] };
  birthDate?: string;
  gender?: string;
  /** ODS code of the registered GP practice. */
  gpOdsCode?: string;
  addresses: DemographicsAddress[];
  homeAddress?: DemographicsAddress;
  temporaryAddress?: DemographicsAddress;
  mobile?: string;
  email?: string;
  nominatedPharmacyOdsCode?: string;
  emergencyContact?: EmergencyContact;
  language?: { code: string; display?: string };
}

/**
 * The languages a citizen can choose as their communication language (BCP 47 tags, as the national record holds
 * them): English, Welsh and British Sign Language, then the most common main languages in England and Wales.
 */
export const LANGUAGES: { code: string; display: string }[] = [
  { code: 'en', display: 'English' }, { code: 'cy', display: 'Welsh' }, { code: 'bfi', display: 'British Sign Language' },
  { code: 'ar', display: 'Arabic' }, { code: 'bn', display: 'Bengali' }, { code: 'bg', display: 'Bulgarian' },
  { code: 'zh', display: 'Chinese' }, { code: 'fa', display: 'Persian (Farsi)' }, { code: 'fr', display: 'French' },
  { code: 'gu', display: 'Gujarati' }, { code: 'it', display: 'Italian' }, { code: 'lt', display: 'Lithuanian' },
  { code: 'pa', display: 'Panjabi' }, { code: 'pl', display: 'Polish' }, { code: 'pt', display: 'Portuguese' },
  { code: 'ro', display: 'Romanian' }, { code: 'so', display: 'Somali' }, { code: 'es', display: 'Spanish' },
  { code: 'ta', display: 'Tamil' }, { code: 'tr', display: 'Turkish' }, { code: 'ur', display: 'Urdu' },
];

/** Fields a citizen cannot change through the app. */
export type RestrictedField = 'name' | 'birthDate' | 'gender' | 'gpOdsCode' | 'nhsNumber';

/** Who can change each restricted field, in words a page can show. */
export const WHO_CAN_CHANGE: Record<RestrictedField, string> = {
  name: 'your GP practice',
  birthDate: 'your GP practice',
  gender: 'your GP practice',
  gpOdsCode: 'the GP practice you register with',
  nhsNumber: 'no one: an NHS number does not change',
};

/** One change the citizen intends; `null` removes the item. */
export type DemographicsChange =
  | { kind: 'home-address'; address: PostalAddress; from?: string }
  | { kind: 'temporary-address'; address: PostalAddress; from: string; to: string }
  | { kind: 'remove-temporary-address' }
  | { kind: 'mobile'; value: string | null }
  | { kind: 'email'; value: string | null }
  | { kind: 'nominated-pharmacy'; odsCode: string | null }
  | { kind: 'emergency-contact'; contact: EmergencyContact | null }
  | { kind: 'language'; code: string; display?: string }
  /** Never allowed: sent only so the agency's refusal can be shown (and tested). */
  | { kind: 'restricted'; field: RestrictedField; value: unknown };

export interface DemographicsUpdate {
  changes: DemographicsChange[];
  /** The version the citizen saw; a different current version is a conflict, never overwritten. */
  expectedVersion: number;
  /** Made once per intended update (newRequestId()) and reused on every retry, so it is applied at most once. */
  requestId: string;
}

export type DemographicsErrorCode = 'version-conflict' | 'not-allowed' | 'invalid' | 'not-found';

export interface DemographicsErrorInfo {
  /** version-conflict: what the record holds now, to show the citizen what changed. */
  current?: DemographicsRecord;
  /** not-allowed / invalid: the path the agency named (e.g. `Patient.name[0].family`). */
  path?: string;
  /** not-allowed: who can change it instead. */
  whoCanChange?: string;
}

export class DemographicsError extends SupplierDomainError {
  declare readonly code: DemographicsErrorCode;
  constructor(code: DemographicsErrorCode, message: string, readonly info: DemographicsErrorInfo = {}) {
    super(code, message, info);
    this.name = 'DemographicsError';
  }
}

export interface DemographicsService {
  /** Reads the record with its version. Throws DemographicsError('not-found' | 'invalid') or SupplierUnavailableError. */
  get(nhsNumber: string): Promise<DemographicsRecord>;
  /** Applies all changes or none; returns the new record (with its new version). */
  update(nhsNumber: string, update: DemographicsUpdate): Promise<DemographicsRecord>;
  /** After a write whose outcome is unknown (isOutcomeUnknown): reads back and says whether it was applied. */
  reconcile(nhsNumber: string, update: DemographicsUpdate): Promise<Reconciled<DemographicsRecord>>;
}

const sameText = (a?: string, b?: string) => (a ?? '').replace(/\s+/g, '').toUpperCase() === (b ?? '').replace(/\s+/g, '').toUpperCase();
const sameAddress = (a: PostalAddress | undefined, b: PostalAddress) =>
  !!a && sameText(a.postcode, b.postcode) && a.lines.length === b.lines.length && a.lines.every((l, i) => sameText(l, b.lines[i]));

/** Whether a record already shows a change: the read-back half of reconciliation. */
export function changeIsReflected(record: DemographicsRecord, change: DemographicsChange): boolean {
  switch (change.kind) {
    case 'home-address': return sameAddress(record.homeAddress, change.address);
    case 'temporary-address': return sameAddress(record.temporaryAddress, change.address) && record.temporaryAddress?.to === change.to;
    case 'remove-temporary-address': return !record.temporaryAddress;
    case 'mobile': return change.value === null ? !record.mobile : sameText(record.mobile, change.value);
    case 'email': return change.value === null ? !record.email : sameText(record.email, change.value);
    case 'nominated-pharmacy': return change.odsCode === null ? !record.nominatedPharmacyOdsCode : sameText(record.nominatedPharmacyOdsCode, change.odsCode);
    case 'emergency-contact': return change.contact === null ? !record.emergencyContact : (!!record.emergencyContact && record.emergencyContact.name === change.contact.name && sameText(record.emergencyContact.phone, change.contact.phone));
    case 'language': return record.language?.code === change.code;
    case 'restricted': return false;
  }
}
