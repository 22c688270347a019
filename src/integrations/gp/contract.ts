// The GP system contract: what every GP system adapter (one per supplier) offers the platform, in the
// domain's words and shared types. No supplier's own shapes cross this line.
import type { Coding } from 'fhir/r4.d.ts';
import { SupplierDomainError, type SupplierPolicy } from '../resilience.ts';

export const SNOMED = 'http://snomed.info/sct';
export const DMD = 'https://dmd.nhs.uk';

// --- linkage ---------------------------------------------------------------------------------------
/** IM1-style credentials that reach one patient's record at one practice. Every call below is scoped to it. */
export interface GpLinkage { accountId: string; linkageKey: string; odsCode: string; nhsNumber: string }
export interface LinkRequest { nhsNumber: string; /** YYYY-MM-DD */ dateOfBirth: string; odsCode: string }

// --- appointments ----------------------------------------------------------------------------------
export type AppointmentMode = 'in-person' | 'phone' | 'video';
export const appointmentModes: AppointmentMode[] = ['in-person', 'phone', 'video'];

export interface SlotQuery {
  /** ISO date-time, inclusive. */
  from: string;
  /** ISO date-time, exclusive. */
  to: string;
  appointmentType?: string;
  /** Part of the clinician's name. */
  clinician?: string;
  mode?: AppointmentMode;
}

export interface GpSlot {
  /** Opaque to the platform: only the adapter that returned it can book it. */
  id: string;
  start: string;
  end: string;
  appointmentType: string;
  clinician: string;
  mode: AppointmentMode;
  location?: string;
}

export interface BookingRequest { slotId: string; reason: string }

export interface GpAppointment {
  id: string;
  start: string;
  end: string;
  appointmentType: string;
  clinician: string;
  mode: AppointmentMode;
  reason?: string;
  status: 'booked' | 'cancelled';
  cancellationReason?: string;
}

export interface AppointmentList { upcoming: GpAppointment[]; past: GpAppointment[] }

// --- repeat prescriptions --------------------------------------------------------------------------
export interface RepeatMedication {
  id: string;
  name: string;
  dose: string;
  quantity?: string;
  /** dm+d concept id (VMP/AMP). */
  dmdCode: string;
  /** YYYY-MM-DD */
  lastIssued?: string;
  canRequestNow: boolean;
  cannotRequestReason?: string;
}

export interface RepeatRequestInput { medicationIds: string[]; note?: string }

export type RepeatRequestStatus = 'requested' | 'approved' | 'rejected' | 'issued';

export interface RepeatRequest {
  id: string;
  requestedAt: string;
  status: RepeatRequestStatus;
  rejectionReason?: string;
  statusChangedAt?: string;
  note?: string;
  items: { medicationId: string; name: string; dmdCode: string }[];
}

export interface NominatedPharmacy { odsCode: string; name?: string; address?: string }

// --- GP record -------------------------------------------------------------------------------------
export type RecordSection = 'allergies' | 'medications' | 'problems' | 'immunisations' | 'test-results' | 'consultations';
export const recordSections: RecordSection[] = ['allergies', 'medications', 'problems', 'immunisations', 'test-results', 'consultations'];

/** The practice's record-access setting for online users. */
export type RecordAccess = 'none' | 'summary' | 'detailed';

/** Codings are FHIR R4 `Coding`s: SNOMED CT (`SNOMED`) or dm+d (`DMD`). */
export interface AllergyEntry { code: Coding; recordedDate?: string; reaction?: string; severity?: string }
export interface MedicationEntry { code: Coding; dose?: string; status: 'current' | 'past'; startDate?: string; endDate?: string }
export interface ProblemEntry { code: Coding; onsetDate?: string; status: 'active' | 'resolved' }
export interface ImmunisationEntry { code: Coding; date: string }
export interface TestResultEntry { code: Coding; date: string; value: number; unit: string; referenceRange?: { low?: number; high?: number } }
export interface ConsultationEntry { id?: string; date: string; clinician?: string; type: string; summary: string; codes: Coding[] }

export interface RecordEntries {
  allergies: AllergyEntry;
  medications: MedicationEntry;
  problems: ProblemEntry;
  immunisations: ImmunisationEntry;
  'test-results': TestResultEntry;
  consultations: ConsultationEntry;
}

export interface GpRecordSection<S extends RecordSection = RecordSection> {
  section: S;
  access: RecordAccess;
  /** False when the practice's record-access setting hides this section (entries are then empty). */
  visible: boolean;
  entries: RecordEntries[S][];
}

// --- the adapter -----------------------------------------------------------------------------------
export interface GpSystemAdapter {
  /** The system id, e.g. 'emis'. */
  readonly system: string;

  /** First-time linkage by NHS number + date of birth at a practice. Throws no-record / online-services-disabled / not-matched. */
  link(request: LinkRequest): Promise<GpLinkage>;

  /** Free slots. Throws unknown-appointment-type. */
  searchSlots(linkage: GpLinkage, query: SlotQuery): Promise<GpSlot[]>;
  /** Books once per idempotency key: a retry with the same key returns the same appointment. Throws slot-unavailable (with fresh slots), slot-in-past, not-found. */
  book(linkage: GpLinkage, booking: BookingRequest, idempotencyKey: string): Promise<GpAppointment>;
  /** Throws not-found (including another patient's appointment) and already-cancelled. */
  cancel(linkage: GpLinkage, appointmentId: string, reason: string): Promise<GpAppointment>;
  listAppointments(linkage: GpLinkage): Promise<AppointmentList>;

  listRepeats(linkage: GpLinkage): Promise<RepeatMedication[]>;
  /** Requests once per idempotency key. Throws not-on-repeat, too-early. */
  requestRepeats(linkage: GpLinkage, request: RepeatRequestInput, idempotencyKey: string): Promise<RepeatRequest>;
  /** Newest first. */
  listRequests(linkage: GpLinkage): Promise<RepeatRequest[]>;
  getNominatedPharmacy(linkage: GpLinkage): Promise<NominatedPharmacy | undefined>;
  /** Throws invalid-pharmacy. */
  setNominatedPharmacy(linkage: GpLinkage, odsCode: string): Promise<NominatedPharmacy>;

  getRecord<S extends RecordSection>(linkage: GpLinkage, section: S): Promise<GpRecordSection<S>>;

  /** Releases the adapter's connections (at shutdown). */
  close?(): Promise<void>;
}

export interface GpAdapterOptions {
  baseUrl: string;
  policy: SupplierPolicy;
  /** Sent on every request (the conformance kit uses it for `X-Sandbox-Fault`). */
  extraHeaders?: Record<string, string>;
}
export type GpAdapterFactory = (opts: GpAdapterOptions) => GpSystemAdapter;

// --- failures --------------------------------------------------------------------------------------
export type GpErrorCode =
  | 'no-record' | 'online-services-disabled' | 'not-matched' | 'linkage-invalid'
  | 'slot-unavailable' | 'slot-in-past' | 'unknown-appointment-type' | 'not-found'
  | 'already-cancelled' | 'appointment-in-past' | 'not-on-repeat' | 'too-early' | 'invalid-pharmacy' | 'invalid-request';

/** A GP system's definite business answer; pages show `message`, code decides the flow. */
export class GpDomainError extends SupplierDomainError {
  declare readonly code: GpErrorCode;
  constructor(code: GpErrorCode, message: string, details?: unknown) {
    super(code, message, details);
    this.name = 'GpDomainError';
  }
}

/** The chosen slot has gone; carries fresh slots of the same kind when the adapter could fetch them. */
export class SlotUnavailableError extends GpDomainError {
  constructor(message: string, readonly freshSlots: GpSlot[] = []) {
    super('slot-unavailable', message, { freshSlots });
    this.name = 'SlotUnavailableError';
  }
}

/** Splits appointments into upcoming (start in the future) and past, each in the natural reading order. */
export function splitAppointments(all: GpAppointment[], now = Date.now()): AppointmentList {
  const upcoming = all.filter((a) => Date.parse(a.start) >= now).sort((a, b) => a.start.localeCompare(b.start));
  const past = all.filter((a) => Date.parse(a.start) < now).sort((a, b) => b.start.localeCompare(a.start));
  return { upcoming, past };
}
