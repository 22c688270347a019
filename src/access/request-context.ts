// One context per request: who is acting, for whom, at which practice and identity level. Every read and write of
// personal data goes through `forPatient`, so the access check and the audit row cannot be skipped.
import type { AuditLog, AuditEvent } from '../audit/audit.ts';
import type { IdentityLevel, StaffRole } from '../identity/provider/accounts.ts';

export type Actor =
  | { type: 'anonymous' }
  | { type: 'citizen'; sub: string; nhsNumber?: string; identityLevel: IdentityLevel; gpOdsCode?: string; givenName?: string; familyName?: string; birthdate?: string }
  | { type: 'staff'; sub: string; givenName?: string; familyName?: string; roles: StaffRole[] };

export type CitizenActor = Extract<Actor, { type: 'citizen' }>;
export type StaffActor = Extract<Actor, { type: 'staff' }>;

const LEVELS: Record<IdentityLevel, number> = { P0: 0, P5: 5, P9: 9 };

export function meetsLevel(actual: IdentityLevel, needed: IdentityLevel): boolean {
  return LEVELS[actual] >= LEVELS[needed];
}

export class NotSignedInError extends Error {
  constructor() { super('not signed in'); this.name = 'NotSignedInError'; }
}
export class AccessDeniedError extends Error {
  constructor(message = 'access denied') { super(message); this.name = 'AccessDeniedError'; }
}
export class UpliftRequiredError extends Error {
  constructor(readonly needed: IdentityLevel, readonly actual: IdentityLevel) {
    super(`identity level ${needed} needed, have ${actual}`);
    this.name = 'UpliftRequiredError';
  }
}

export interface PatientAccess {
  nhsNumber: string;
  /** Records one access to this patient's data (called by services for each supplier read or write). */
  audit(action: string, resource: string, outcome: AuditEvent['outcome'], extra?: { supplier?: string; detail?: Record<string, unknown> }): Promise<void>;
}

export class RequestContext {
  constructor(readonly requestId: string, readonly actor: Actor, private readonly auditLog: AuditLog) {}

  get signedIn(): boolean {
    return this.actor.type !== 'anonymous';
  }

  requireCitizen(minLevel: IdentityLevel = 'P0'): CitizenActor {
    if (this.actor.type !== 'citizen') throw new NotSignedInError();
    if (!meetsLevel(this.actor.identityLevel, minLevel)) throw new UpliftRequiredError(minLevel, this.actor.identityLevel);
    return this.actor;
  }

  requireStaff(): StaffActor {
    if (this.actor.type !== 'staff') throw new NotSignedInError();
    return this.actor;
  }

  /**
   * Opens access to one patient's data. A citizen reaches only their own record (a linked profile would be
   * checked here too); everything else is denied and the denial audited.
   */
  async forPatient(nhsNumber: string, minLevel: IdentityLevel, action: string): Promise<PatientAccess> {
    const citizen = this.requireCitizen(minLevel);
    const access = new CitizenAccess(this.auditLog, citizen, this.requestId, nhsNumber);
    if (!citizen.nhsNumber || citizen.nhsNumber !== nhsNumber) {
      await access.audit(action, 'patient', 'denied');
      throw new AccessDeniedError('you can only see your own record');
    }
    return access;
  }

  /** Audit of a non-patient action (governance changes, sign-in events). */
  audit(e: Omit<AuditEvent, 'actorType' | 'actorId' | 'requestId'>): Promise<void> {
    const actorId = this.actor.type === 'anonymous' ? 'anonymous' : this.actor.sub;
    return this.auditLog.record({ ...e, actorType: this.actor.type, actorId, requestId: this.requestId });
  }
}

/** A citizen's access to one person's data: every audit row it writes names both, and the request. */
class CitizenAccess implements PatientAccess {
  constructor(private readonly log: AuditLog, private readonly citizen: CitizenActor, private readonly requestId: string, readonly nhsNumber: string) {}

  audit(action: string, resource: string, outcome: AuditEvent['outcome'], extra?: { supplier?: string; detail?: Record<string, unknown> }): Promise<void> {
    // Written out in full rather than spread from a shared base: on this path (every audited read) a spread
    // cost V8 microseconds, more than the rest of the audit's work in JavaScript together.
    return this.log.record({
      actorType: 'citizen', actorId: this.citizen.sub, requestId: this.requestId, organisation: this.citizen.gpOdsCode,
      subjectNhsNumber: this.nhsNumber, action, resource, outcome, supplier: extra?.supplier, detail: extra?.detail,
    });
  }
}
