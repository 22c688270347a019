// GP services for one signed-in citizen: picks the adapter for their practice's GP system, links them to their
// record once (kept in gp_linkages), audits every supplier read and write, and makes bookings and repeat
// requests idempotent with a database key derived from the form token.
import { createHash, randomBytes } from 'node:crypto';
import type { PatientAccess, RequestContext } from '../access/request-context.ts';
import type { AuditEvent } from '../audit/audit.ts';
import type { CatalogIndex, PracticeInfo } from '../catalog/resolution.ts';
import {
  GpDomainError,
  type AppointmentList,
  type BookingRequest,
  type GpAdapterFactory,
  type GpAppointment,
  type GpLinkage,
  type GpRecordSection,
  type GpSlot,
  type GpSystemAdapter,
  type NominatedPharmacy,
  type RecordSection,
  type RepeatMedication,
  type RepeatRequest,
  type RepeatRequestInput,
  type SlotQuery,
} from '../integrations/gp/contract.ts';
import { gpSystems } from '../integrations/gp/registry.ts';
import { SupplierUnavailableError, type SupplierPolicies } from '../integrations/resilience.ts';
import type { Queryable } from '../store/store.ts';
import { GpWrites, type GpWriteKind } from './gp-writes.ts';
import type { LinkageVault } from './linkage-vault.ts';

/** The citizen's practice offers no GP services through us (no practice, closed, or an unknown GP system). */
export class GpNotOfferedError extends Error {
  constructor(readonly reason: 'no-practice' | 'unsupported-system') {
    super(`GP services not offered: ${reason}`);
    this.name = 'GpNotOfferedError';
  }
}

export type { GpWriteKind };

export interface GpServicesOptions {
  db: Queryable;
  catalog: CatalogIndex;
  /** Read on every call, so a changed URL (another supplier endpoint) takes effect without restart. */
  supplierUrls: Record<string, string>;
  policies: SupplierPolicies;
  /** GP systems by id; the registry unless a test adds one. */
  systems?: Record<string, GpAdapterFactory>;
  /** Seals linkage keys before they are stored. */
  vault: LinkageVault;
}

const FORM_TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

/** A fresh token for a check-your-answers form; the submitted token decides the idempotency key. */
export function newFormToken(): string {
  return randomBytes(18).toString('base64url');
}

export function isFormToken(v: unknown): v is string {
  return typeof v === 'string' && FORM_TOKEN.test(v);
}

/** The supplier name used for policies, supplier URLs and audit rows. */
export const supplierName = (system: string) => `gp-${system}`;

export class GpServices {
  private readonly adapters = new Map<string, GpSystemAdapter>();
  /** Linkages by nhs|ods|system: a read-through copy of gp_linkages (linkages change only when relinked). */
  private readonly linkages = new Map<string, GpLinkage>();
  private readonly linking = new Map<string, Promise<GpLinkage>>();
  /** Internal: idempotency claims and outcomes, shared by every request of this process. */
  readonly writes: GpWrites;

  constructor(private readonly opts: GpServicesOptions) {
    this.writes = new GpWrites(opts.db);
  }

  /** The adapter for a GP system at its current supplier URL, made once per (system, URL). */
  adapter(system: string): GpSystemAdapter {
    const factory = (this.opts.systems ?? gpSystems)[system];
    const supplier = supplierName(system);
    const baseUrl = this.opts.supplierUrls[supplier];
    if (!factory || !baseUrl) throw new GpNotOfferedError('unsupported-system');
    const key = `${system}|${baseUrl}`;
    let a = this.adapters.get(key);
    if (!a) this.adapters.set(key, (a = factory({ baseUrl, policy: this.opts.policies.for(supplier) })));
    return a;
  }

  /**
   * GP services for the signed-in citizen: needs P9 and goes through `forPatient`, so a P5 user meets the
   * uplift route and every later call is audited against the citizen's own NHS number.
   */
  async forCitizen(ctx: RequestContext, action: string): Promise<GpPatient> {
    const me = ctx.requireCitizen('P9');
    const access = await ctx.forPatient(me.nhsNumber ?? '', 'P9', action);
    const r = this.opts.catalog.resolve(me.gpOdsCode, me.identityLevel);
    if (!r.practice || r.practiceProblem) throw new GpNotOfferedError('no-practice');
    return new GpPatient(this, this.opts.db, access, r.practice, this.adapter(r.practice.gpSystem), me.birthdate);
  }

  /** Internal: the vault linkage keys are sealed with. */
  get vault(): LinkageVault { return this.opts.vault; }

  /** Internal: the linkage cache shared by every request. */
  cachedLinkage(key: string): GpLinkage | undefined { return this.linkages.get(key); }

  /** Internal: one look-up (or first-time linkage) per person at a time; callers meanwhile share its outcome. */
  sharedLinkage(key: string, find: () => Promise<GpLinkage>): Promise<GpLinkage> {
    let flight = this.linking.get(key);
    if (!flight) {
      flight = find().finally(() => this.linking.delete(key));
      this.linking.set(key, flight);
    }
    return flight;
  }
  rememberLinkage(key: string, l: GpLinkage | undefined): void {
    if (!l) this.linkages.delete(key);
    else {
      if (this.linkages.size > 50_000) this.linkages.clear();
      this.linkages.set(key, l);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.adapters.values()].map((a) => a.close?.().catch(() => {})));
    this.adapters.clear();
  }
}

type Outcome = AuditEvent['outcome'];

function outcomeOf(err: unknown): Outcome {
  return err instanceof GpDomainError && err.code === 'not-found' ? 'not-found' : 'failed';
}

function detailOf(err: unknown): Record<string, unknown> {
  if (err instanceof GpDomainError) return { error: err.code };
  if (err instanceof SupplierUnavailableError) return { error: err.reason };
  return { error: 'failed' };
}

/** One citizen's GP services at their practice; every method is one audited supplier read or write. */
export class GpPatient {
  readonly system: string;
  readonly supplier: string;
  private readonly linkageKey: string;

  constructor(
    private readonly services: GpServices,
    private readonly db: Queryable,
    readonly access: PatientAccess,
    readonly practice: PracticeInfo,
    private readonly adapter: GpSystemAdapter,
    private readonly birthdate: string | undefined,
  ) {
    this.system = adapter.system;
    this.supplier = supplierName(adapter.system);
    this.linkageKey = `${access.nhsNumber}|${practice.odsCode}|${this.system}`;
  }

  get nhsNumber(): string { return this.access.nhsNumber; }

  // --- linkage ---------------------------------------------------------------------------------------
  private linkage(): Promise<GpLinkage> {
    const cached = this.services.cachedLinkage(this.linkageKey);
    if (cached) return Promise.resolve(cached);
    // A page asks for several things at once (repeats, requests, pharmacy): one linkage for them all, not one each
    // racing to the supplier.
    return this.services.sharedLinkage(this.linkageKey, () => this.storedLinkage());
  }

  private async storedLinkage(): Promise<GpLinkage> {
    const rows = await this.db.query<{ account_id: string; linkage_key: string }>(
      'SELECT account_id, linkage_key FROM gp_linkages WHERE nhs_number = $1 AND ods_code = $2 AND gp_system = $3',
      [this.nhsNumber, this.practice.odsCode, this.system],
    );
    // A key that does not unseal (tampered, copied from another row, or stored before keys were sealed) is as
    // good as none: link again.
    const linkageKey = rows[0] ? await this.services.vault.unseal(rows[0].linkage_key, this.linkageKey) : undefined;
    if (rows[0] && linkageKey) {
      const l: GpLinkage = { accountId: rows[0].account_id, linkageKey, odsCode: this.practice.odsCode, nhsNumber: this.nhsNumber };
      this.services.rememberLinkage(this.linkageKey, l);
      return l;
    }
    return this.link();
  }

  /** First-time linkage by NHS number, date of birth and practice; kept so later requests reuse it. */
  private async link(): Promise<GpLinkage> {
    if (!this.birthdate) {
      await this.audit('link', 'gp-linkage', 'failed', { error: 'no-date-of-birth' });
      throw new GpDomainError('not-matched', 'Your NHS login has no date of birth to match your GP record with');
    }
    const l = await this.audited('link', 'gp-linkage', () =>
      this.adapter.link({ nhsNumber: this.nhsNumber, dateOfBirth: this.birthdate!, odsCode: this.practice.odsCode }));
    // Upsert: two first requests racing both link; the supplier gives the same account, the last write wins.
    await this.db.query(
      `INSERT INTO gp_linkages (nhs_number, ods_code, gp_system, account_id, linkage_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (nhs_number, ods_code, gp_system) DO UPDATE SET account_id = EXCLUDED.account_id, linkage_key = EXCLUDED.linkage_key, linked_at = now()`,
      [this.nhsNumber, this.practice.odsCode, this.system, l.accountId, await this.services.vault.seal(l.linkageKey, this.linkageKey)],
    );
    this.services.rememberLinkage(this.linkageKey, l);
    return l;
  }

  private async forget(): Promise<void> {
    this.services.rememberLinkage(this.linkageKey, undefined);
    await this.db.query('DELETE FROM gp_linkages WHERE nhs_number = $1 AND ods_code = $2 AND gp_system = $3', [this.nhsNumber, this.practice.odsCode, this.system]);
  }

  // --- the audited call ------------------------------------------------------------------------------
  private audit(action: string, resource: string, outcome: Outcome, detail?: Record<string, unknown>): Promise<void> {
    return this.access.audit(action, resource, outcome, { supplier: this.supplier, detail });
  }

  /** `alongside` is written with the success audit row, side by side (on PGlite, one round for both). */
  private async audited<T>(action: string, resource: string, fn: () => Promise<T>, detail?: (r: T) => Record<string, unknown>, alongside?: (r: T) => Promise<unknown>): Promise<T> {
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await this.audit(action, resource, outcomeOf(err), detailOf(err));
      throw err;
    }
    await Promise.all([this.audit(action, resource, 'success', detail?.(result)), alongside?.(result)]);
    return result;
  }

  /** One supplier call with the citizen's linkage; a linkage the supplier no longer accepts is renewed once. */
  private async call<T>(action: string, resource: string, fn: (l: GpLinkage) => Promise<T>, detail?: (r: T) => Record<string, unknown>, alongside?: (r: T) => Promise<unknown>): Promise<T> {
    const l = await this.linkage();
    try {
      return await this.audited(action, resource, () => fn(l), detail, alongside);
    } catch (err) {
      if (!(err instanceof GpDomainError && err.code === 'linkage-invalid')) throw err;
      const fresh = await this.renewed(l);
      return this.audited(action, resource, () => fn(fresh), detail, alongside);
    }
  }

  /**
   * A linkage in place of one the supplier refused. Calls refused together (a page's several reads) share one
   * renewal, and one refused after it finished uses its result, so the supplier is asked to link once.
   */
  private renewed(refused: GpLinkage): Promise<GpLinkage> {
    const current = this.services.cachedLinkage(this.linkageKey);
    if (current && current.linkageKey !== refused.linkageKey) return Promise.resolve(current);
    return this.services.sharedLinkage(`${this.linkageKey}|renewal`, async () => {
      await this.forget();
      return this.link();
    });
  }

  // --- appointments ----------------------------------------------------------------------------------
  listAppointments(): Promise<AppointmentList> {
    return this.call('read', 'gp-appointments', (l) => this.adapter.listAppointments(l));
  }

  searchSlots(q: SlotQuery): Promise<GpSlot[]> {
    return this.call('read', 'gp-slots', (l) => this.adapter.searchSlots(l, q));
  }

  /**
   * One of the citizen's own appointments. An id that belongs to another citizen (known from bookings made
   * here) is refused without asking the supplier and audited as denied; both look like "not found".
   */
  async appointment(id: string): Promise<GpAppointment> {
    await this.refuseOthers(id, 'gp-appointment');
    const list = await this.listAppointments();
    const found = [...list.upcoming, ...list.past].find((a) => a.id === id);
    if (!found) {
      await this.audit('read', 'gp-appointment', 'not-found');
      throw new GpDomainError('not-found', 'No such appointment');
    }
    return found;
  }

  async book(booking: BookingRequest, formToken: string): Promise<{ appointment: GpAppointment; replayed: boolean }> {
    const { result, replayed } = await this.idempotentWrite<GpAppointment>('booking', formToken, 'gp-appointment',
      (l, key) => this.adapter.book(l, booking, key), (a) => ({ appointmentId: a.id }));
    return { appointment: result, replayed };
  }

  async cancel(id: string, reason: string): Promise<GpAppointment> {
    await this.refuseOthers(id, 'gp-appointment');
    return this.call('cancel', 'gp-appointment', (l) => this.adapter.cancel(l, id, reason), (a) => ({ appointmentId: a.id }));
  }

  // --- repeat prescriptions --------------------------------------------------------------------------
  listRepeats(): Promise<RepeatMedication[]> {
    return this.call('read', 'gp-repeats', (l) => this.adapter.listRepeats(l));
  }

  async requestRepeats(input: RepeatRequestInput, formToken: string): Promise<{ request: RepeatRequest; replayed: boolean }> {
    const { result, replayed } = await this.idempotentWrite<RepeatRequest>('repeat-request', formToken, 'gp-repeat-request',
      (l, key) => this.adapter.requestRepeats(l, input, key), (r) => ({ requestId: r.id }));
    return { request: result, replayed };
  }

  listRequests(): Promise<RepeatRequest[]> {
    return this.call('read', 'gp-repeat-requests', (l) => this.adapter.listRequests(l));
  }

  getNominatedPharmacy(): Promise<NominatedPharmacy | undefined> {
    return this.call('read', 'gp-pharmacy', (l) => this.adapter.getNominatedPharmacy(l));
  }

  setNominatedPharmacy(odsCode: string): Promise<NominatedPharmacy> {
    return this.call('update', 'gp-pharmacy', (l) => this.adapter.setNominatedPharmacy(l, odsCode), (p) => ({ pharmacy: p.odsCode }));
  }

  // --- GP record -------------------------------------------------------------------------------------
  getRecord<S extends RecordSection>(section: S): Promise<GpRecordSection<S>> {
    return this.call('read', `gp-record:${section}`, (l) => this.adapter.getRecord(l, section));
  }

  // --- idempotent writes -----------------------------------------------------------------------------
  private writeKey(kind: GpWriteKind, formToken: string): string {
    // The NHS number is part of the key: one citizen's token can never find another's write.
    return createHash('sha256').update(`${kind}|${this.nhsNumber}|${formToken}`).digest('base64url');
  }

  /** The finished write for a form token (the confirmation page), or undefined. */
  writeResult<T>(kind: GpWriteKind, formToken: string): Promise<T | undefined> {
    return this.services.writes.result<T>(this.writeKey(kind, formToken), this.nhsNumber, kind);
  }

  /**
   * The UNIQUE key decides who writes: the first submit claims it and calls the supplier with the same key;
   * a repeat finds the finished result, or waits briefly for the first to finish. A write that failed or
   * timed out stays pending, and a retry calls the supplier again with the same key, which writes at most once.
   */
  private async idempotentWrite<T extends { id: string }>(
    kind: GpWriteKind, formToken: string, resource: string,
    write: (l: GpLinkage, key: string) => Promise<T>, detail: (r: T) => Record<string, unknown>,
  ): Promise<{ result: T; replayed: boolean }> {
    const key = this.writeKey(kind, formToken);
    const claimed = await this.services.writes.claim(key, this.nhsNumber, kind, this.system);
    if (!claimed) {
      for (let i = 0; i < 30; i++) {
        const done = await this.writeResult<T>(kind, formToken);
        if (done) {
          await this.audit('replay', resource, 'success', detail(done));
          return { result: done, replayed: true };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const result = await this.call(kind === 'booking' ? 'book' : 'request', resource, (l) => write(l, key), detail,
      (r) => this.services.writes.complete(key, r.id, r, { nhsNumber: this.nhsNumber, kind }));
    return { result, replayed: !claimed };
  }

  private async refuseOthers(id: string, resource: string): Promise<void> {
    const owners = await this.services.writes.bookedBy(id);
    if (owners.some((n) => n !== this.nhsNumber)) {
      await this.audit('read', resource, 'denied', { reason: "another person's appointment" });
      throw new GpDomainError('not-found', 'No such appointment');
    }
  }
}
