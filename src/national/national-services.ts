// The citizen's national services between the web and the agency adapters: every read and write opens access
// through the request context and is audited; writes are kept by request id, reconciled, never doubled.
import type { RequestContext, PatientAccess } from '../access/request-context.ts';
import type { IdentityLevel } from '../identity/provider/accounts.ts';
import { SupplierDomainError, SupplierUnavailableError } from '../integrations/resilience.ts';
import type { Store } from '../store/store.ts';
import { createContactPreferencesService, createDemographicsService, createOrganDonationService } from '../integrations/national/registry.ts';
import type { SupplierPolicies, SupplierPolicy } from '../integrations/resilience.ts';
import type { ContactPreferences, ContactPreferencesHistoryEntry, ContactPreferencesIntent, ContactPreferencesService } from '../integrations/national/contact-preferences.ts';
import type { DemographicsChange, DemographicsRecord, DemographicsService } from '../integrations/national/demographics.ts';
import { DemographicsError } from '../integrations/national/demographics.ts';
import type { OrganDonationHistoryEntry, OrganDonationIntent, OrganDonationRecord, OrganDonationService, ReferenceItem } from '../integrations/national/organ-donation.ts';
import { isOutcomeUnknown, type Reconciled } from '../integrations/national/write-outcome.ts';

/** Identity level each national service needs, as the catalog lists them. */
export const NATIONAL_LEVELS = { record: 'P9', organDonation: 'P5', contactPreferences: 'P5' } as const satisfies Record<string, IdentityLevel>;

/** A read: the agency's answer, or that it cannot answer right now (the page says so for that part only). */
export type ReadResult<R> = { ok: true; value: R } | { ok: false; unavailable: true; reason: string };

/**
 * A write's end: `done` (applied once), `conflict` (someone changed it first: `current` is what it holds now),
 * `refused` (the agency said no, with its words and path), `unavailable` (not sent, or not applied: safe to try
 * again with the same request id), `unknown` (sent, and the read-back could not say: still pending).
 */
export type WriteResult<R> =
  | { status: 'done'; record: R; replayed: boolean }
  | { status: 'conflict'; current: R }
  | { status: 'refused'; message: string; path?: string; whoCanChange?: string; requestId?: 'invalid' | 'reused' }
  | { status: 'unavailable' }
  | { status: 'unknown' };

type Agency = 'pds' | 'organ-donation' | 'contact-preferences';

export interface NationalAdapters {
  demographics: DemographicsService;
  organDonation: OrganDonationService;
  contactPreferences: ContactPreferencesService;
}

interface WriteSpec<R extends { version: number }> {
  agency: Agency;
  resource: string;
  requestId: string;
  intent: unknown;
  send: () => Promise<R>;
  reconcile: () => Promise<Reconciled<R>>;
  read: () => Promise<R>;
}

/** Request ids (and the API's Idempotency-Key) are UUIDs. */
export const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

export interface NationalServicesOptions {
  /**
   * How long a demographics read may be reused for the same person (0: never). Any change made through us drops
   * it at once; a change made elsewhere shows within this time, and a change made against an older version meets
   * the agency's version check and the conflict page, so staleness can never overwrite anything.
   */
  recordCacheMs?: number;
}

export class NationalServices {
  /** Recent demographics reads by NHS number: PDS is rate-limited per app, and most page views repeat a read. */
  private readonly records = new Map<string, { record: DemographicsRecord; until: number }>();

  constructor(private readonly db: Store, private readonly adapters: NationalAdapters, private readonly options: NationalServicesOptions = {}) {}

  private async access(ctx: RequestContext, nhsNumber: string, level: IdentityLevel, action: string): Promise<PatientAccess> {
    return ctx.forPatient(nhsNumber, level, action);
  }

  /** One audited agency read; a fault becomes `unavailable`, a domain answer is rethrown. */
  private async read<R>(access: PatientAccess, agency: Agency, resource: string, fn: () => Promise<R>): Promise<ReadResult<R>> {
    try {
      const value = await fn();
      await access.audit('read', resource, 'success', { supplier: agency });
      return { ok: true, value };
    } catch (err) {
      const notFound = err instanceof SupplierDomainError && err.code === 'not-found';
      await access.audit('read', resource, notFound ? 'not-found' : 'failed', { supplier: agency });
      if (err instanceof SupplierUnavailableError) return { ok: false, unavailable: true, reason: err.reason };
      throw err;
    }
  }

  /**
   * One write, at most once: the request id's row is claimed by a UNIQUE key before anything is sent. A replayed
   * id that already succeeded is answered from a read, not resent; one whose outcome is unknown is reconciled.
   */
  private async write<R extends { version: number }>(access: PatientAccess, spec: WriteSpec<R>): Promise<WriteResult<R>> {
    if (!isUuid(spec.requestId)) return { status: 'refused', message: 'This form has expired. Go back and start again.', requestId: 'invalid' };
    const claimed = await this.db.query(
      `INSERT INTO national_writes (request_id, agency, nhs_number, intent, status) VALUES ($1, $2, $3, $4, 'pending')
       ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
      [spec.requestId, spec.agency, access.nhsNumber, JSON.stringify(spec.intent)],
    );
    if (!claimed.length) {
      const [prior] = await this.db.query<{ status: string; nhs_number: string; agency: string; same: boolean }>(
        'SELECT status, nhs_number, agency, intent = $2::jsonb AS same FROM national_writes WHERE request_id = $1', [spec.requestId, JSON.stringify(spec.intent)]);
      // A request id names one intended change: used again for anything else, it is refused, never applied.
      if (!prior || prior.nhs_number !== access.nhsNumber || prior.agency !== spec.agency || !prior.same) {
        return { status: 'refused', message: 'This form has expired. Go back and start again.', requestId: 'reused' };
      }
      if (prior.status === 'applied') {
        const r = await this.read(access, spec.agency, spec.resource, spec.read);
        return r.ok ? { status: 'done', record: r.value, replayed: true } : { status: 'unavailable' };
      }
      if (prior.status === 'pending') return this.reconcile(access, spec);
      if (prior.status === 'conflict' || prior.status === 'refused') {
        const r = await this.read(access, spec.agency, spec.resource, spec.read);
        return r.ok ? { status: 'conflict', current: r.value } : { status: 'unavailable' };
      }
      // 'failed': nothing was applied (the agency refused to take it or was not reached), so it may be sent again.
      await this.mark(spec.requestId, 'pending');
    }
    return this.send(access, spec);
  }

  private async send<R extends { version: number }>(access: PatientAccess, spec: WriteSpec<R>): Promise<WriteResult<R>> {
    try {
      const record = await spec.send();
      await this.settle(access, spec, 'applied', record.version, 'success', { version: record.version });
      return { status: 'done', record, replayed: false };
    } catch (err) {
      if (isOutcomeUnknown(err)) return this.reconcile(access, spec);
      return this.failed(access, spec, err);
    }
  }

  private async reconcile<R extends { version: number }>(access: PatientAccess, spec: WriteSpec<R>): Promise<WriteResult<R>> {
    let r: Reconciled<R>;
    try {
      r = await spec.reconcile();
    } catch (err) {
      if (err instanceof SupplierUnavailableError) {
        // Still unknown: the row stays pending and the next attempt with this id reconciles again.
        await access.audit('change', spec.resource, 'failed', { supplier: spec.agency, detail: { outcome: 'unknown' } });
        return { status: 'unknown' };
      }
      return this.failed(access, spec, err);
    }
    await access.audit('read', spec.resource, 'success', { supplier: spec.agency, detail: { reconcile: r.outcome } });
    if (r.outcome === 'applied') {
      await this.settle(access, spec, 'applied', r.record.version, 'success', { version: r.record.version, reconciled: true });
      return { status: 'done', record: r.record, replayed: false };
    }
    if (r.outcome === 'superseded') {
      await this.settle(access, spec, 'conflict', undefined, 'failed', { outcome: 'conflict' });
      return { status: 'conflict', current: r.record };
    }
    // Not applied and nothing else changed: sending again with the same request id is safe.
    try {
      const record = await spec.send();
      await this.settle(access, spec, 'applied', record.version, 'success', { version: record.version });
      return { status: 'done', record, replayed: false };
    } catch (err) {
      if (isOutcomeUnknown(err)) {
        await access.audit('change', spec.resource, 'failed', { supplier: spec.agency, detail: { outcome: 'unknown' } });
        return { status: 'unknown' };
      }
      return this.failed(access, spec, err);
    }
  }

  private async failed<R extends { version: number }>(access: PatientAccess, spec: WriteSpec<R>, err: unknown): Promise<WriteResult<R>> {
    if (err instanceof SupplierUnavailableError) {
      await this.settle(access, spec, 'failed', undefined, 'failed', { reason: err.reason });
      return { status: 'unavailable' };
    }
    if (err instanceof SupplierDomainError && err.code === 'version-conflict') {
      await this.settle(access, spec, 'conflict', undefined, 'failed', { outcome: 'conflict' });
      const info = (err as { info?: { current?: R } }).info;
      if (info?.current) return { status: 'conflict', current: info.current };
      const r = await this.read(access, spec.agency, spec.resource, spec.read);
      return r.ok ? { status: 'conflict', current: r.value } : { status: 'unavailable' };
    }
    if (err instanceof SupplierDomainError) {
      await this.settle(access, spec, 'refused', undefined, 'denied', { code: err.code });
      const info = err instanceof DemographicsError ? err.info : {};
      return { status: 'refused', message: err.message, path: info.path, whoCanChange: info.whoCanChange };
    }
    throw err;
  }

  /** The write's row and its audit record, written side by side (on PGlite, one round for both). */
  private async settle(access: PatientAccess, spec: WriteSpec<{ version: number }>, status: string, version: number | undefined, outcome: 'success' | 'failed' | 'denied', detail: Record<string, unknown>): Promise<void> {
    await Promise.all([this.mark(spec.requestId, status, version), access.audit('change', spec.resource, outcome, { supplier: spec.agency, detail })]);
  }

  private async mark(requestId: string, status: string, version?: number): Promise<void> {
    await this.db.query('UPDATE national_writes SET status = $2, result_version = COALESCE($3, result_version), updated_at = now() WHERE request_id = $1', [requestId, status, version ?? null]);
  }

  // --- national record (demographics) ---

  /** The person's national record; `fresh` skips the short-lived copy (the citizen asked for the latest). */
  async record(ctx: RequestContext, nhsNumber: string, opts: { fresh?: boolean } = {}): Promise<ReadResult<DemographicsRecord>> {
    const access = await this.access(ctx, nhsNumber, NATIONAL_LEVELS.record, 'view-national-record');
    const ttl = this.options.recordCacheMs ?? 0;
    const kept = ttl > 0 && !opts.fresh ? this.records.get(nhsNumber) : undefined;
    if (kept && kept.until > Date.now()) {
      // Still an access to the person's data, so still audited; the detail says no agency call was made.
      await access.audit('read', 'national-record', 'success', { supplier: 'pds', detail: { cached: true, version: kept.record.version } });
      return { ok: true, value: kept.record };
    }
    const r = await this.read(access, 'pds', 'national-record', () => this.adapters.demographics.get(nhsNumber));
    if (r.ok && ttl > 0) {
      if (this.records.size >= 100_000) this.records.clear();
      this.records.set(nhsNumber, { record: r.value, until: Date.now() + ttl });
    }
    return r;
  }

  async changeRecord(ctx: RequestContext, nhsNumber: string, change: DemographicsChange, expectedVersion: number, requestId: string): Promise<WriteResult<DemographicsRecord>> {
    const access = await this.access(ctx, nhsNumber, NATIONAL_LEVELS.record, 'change-national-record');
    // Whatever the outcome, the next read goes to the agency: it must show what the change did.
    this.records.delete(nhsNumber);
    try {
      return await this.sendRecordChange(access, nhsNumber, change, expectedVersion, requestId);
    } finally {
      this.records.delete(nhsNumber);
    }
  }

  private sendRecordChange(access: PatientAccess, nhsNumber: string, change: DemographicsChange, expectedVersion: number, requestId: string): Promise<WriteResult<DemographicsRecord>> {
    const update = { changes: [change], expectedVersion, requestId };
    const d = this.adapters.demographics;
    return this.write(access, {
      agency: 'pds', resource: 'national-record', requestId, intent: update,
      send: () => d.update(nhsNumber, update),
      reconcile: () => d.reconcile(nhsNumber, update),
      read: () => d.get(nhsNumber),
    });
  }

  // --- organ donation ---

  async organDonation(ctx: RequestContext, nhsNumber: string): Promise<ReadResult<OrganDonationRecord>> {
    const access = await this.access(ctx, nhsNumber, NATIONAL_LEVELS.organDonation, 'view-organ-donation');
    return this.read(access, 'organ-donation', 'organ-donation-decision', () => this.adapters.organDonation.get(nhsNumber));
  }

  async organDonationHistory(ctx: RequestContext, nhsNumber: string): Promise<ReadResult<OrganDonationHistoryEntry[]>> {
    const access = await this.access(ctx, nhsNumber, NATIONAL_LEVELS.organDonation, 'view-organ-donation-history');
    return this.read(access, 'organ-donation', 'organ-donation-history', () => this.adapters.organDonation.history(nhsNumber));
  }

  /** The agency's ethnicity and religion lists: reference data, not personal data, so not audited. */
  async organDonationReferenceData(): Promise<ReadResult<{ ethnicities: ReferenceItem[]; religions: ReferenceItem[] }>> {
    try {
      return { ok: true, value: await this.adapters.organDonation.referenceData() };
    } catch (err) {
      if (err instanceof SupplierUnavailableError) return { ok: false, unavailable: true, reason: err.reason };
      throw err;
    }
  }

  async changeOrganDonation(ctx: RequestContext, nhsNumber: string, intent: OrganDonationIntent): Promise<WriteResult<OrganDonationRecord>> {
    const access = await this.access(ctx, nhsNumber, NATIONAL_LEVELS.organDonation, `${intent.action}-organ-donation`);
    const o = this.adapters.organDonation;
    return this.write(access, {
      agency: 'organ-donation', resource: 'organ-donation-decision', requestId: intent.requestId, intent,
      send: () => o.change(nhsNumber, intent),
      reconcile: () => o.reconcile(nhsNumber, intent),
      read: () => o.get(nhsNumber),
    });
  }

  // --- contact preferences and the national data opt-out ---

  async contactPreferences(ctx: RequestContext, nhsNumber: string): Promise<ReadResult<ContactPreferences>> {
    const access = await this.access(ctx, nhsNumber, NATIONAL_LEVELS.contactPreferences, 'view-contact-preferences');
    return this.read(access, 'contact-preferences', 'contact-preferences', () => this.adapters.contactPreferences.get(nhsNumber));
  }

  async contactPreferencesHistory(ctx: RequestContext, nhsNumber: string): Promise<ReadResult<ContactPreferencesHistoryEntry[]>> {
    const access = await this.access(ctx, nhsNumber, NATIONAL_LEVELS.contactPreferences, 'view-contact-preferences-history');
    return this.read(access, 'contact-preferences', 'contact-preferences-history', () => this.adapters.contactPreferences.history(nhsNumber));
  }

  async changeContactPreferences(ctx: RequestContext, nhsNumber: string, intent: ContactPreferencesIntent): Promise<WriteResult<ContactPreferences>> {
    const access = await this.access(ctx, nhsNumber, NATIONAL_LEVELS.contactPreferences, `${intent.action}`);
    const c = this.adapters.contactPreferences;
    return this.write(access, {
      agency: 'contact-preferences', resource: intent.action === 'set-data-opt-out' ? 'data-opt-out' : 'contact-preferences', requestId: intent.requestId, intent,
      send: () => c.change(nhsNumber, intent),
      reconcile: () => c.reconcile(nhsNumber, intent),
      read: () => c.get(nhsNumber),
    });
  }
}

const shared = new WeakMap<SupplierPolicies, NationalServices>();

/**
 * The app's one NationalServices, shared by the pages and the JSON API (and so their agencies' connection pools).
 * An agency with no configured address is simply unavailable: its parts of the app say so, the rest runs.
 */
export function nationalServicesFor(deps: { db: Store; supplierUrls: Record<string, string>; policies: SupplierPolicies; config: { nationalRecordCacheSeconds: number } }): NationalServices {
  let services = shared.get(deps.policies);
  if (services) return services;
  const adapter = <S extends object>(agency: string, create: (o: { baseUrl: string; policy: SupplierPolicy }) => S): S => {
    const baseUrl = deps.supplierUrls[agency];
    if (baseUrl) return create({ baseUrl, policy: deps.policies.for(agency) });
    return new Proxy({} as S, { get: () => async () => { throw new SupplierUnavailableError(agency, 'unreachable', `${agency}: no address configured`); } });
  };
  services = new NationalServices(deps.db, {
    demographics: adapter('pds', createDemographicsService),
    organDonation: adapter('organ-donation', createOrganDonationService),
    contactPreferences: adapter('contact-preferences', createContactPreferencesService),
  }, { recordCacheMs: deps.config.nationalRecordCacheSeconds * 1000 });
  shared.set(deps.policies, services);
  return services;
}
