// GP system adapter for the cursor-paged REST dialect with asynchronous booking (system id "microtest"):
// follows cursors to the end (bounded), polls booking operations until settled (bounded), snake_case fields.
import { SupplierUnavailableError, type SupplierPolicy } from '../../resilience.ts';
import {
  DMD, GpDomainError, SNOMED, SlotUnavailableError, splitAppointments,
  type AppointmentList, type AppointmentMode, type BookingRequest, type GpAdapterFactory, type GpAppointment, type GpErrorCode,
  type GpLinkage, type GpRecordSection, type GpSlot, type GpSystemAdapter, type LinkRequest, type NominatedPharmacy,
  type RecordAccess, type RecordEntries, type RecordSection, type RepeatMedication, type RepeatRequest, type RepeatRequestInput, type RepeatRequestStatus, type SlotQuery,
} from '../contract.ts';
import { Shape, SupplierHttp, nextWeek, policyCalls, parseJson, slotGone, unexpectedAnswer, type CallOptions, type SupplierAnswer, type PolicyCalls } from '../supplier-http.ts';

const SYSTEM = 'microtest';
const errorCodes: Record<string, GpErrorCode> = {
  patient_not_registered: 'no-record', demographics_mismatch: 'not-matched', online_access_disabled: 'online-services-disabled', invalid_credentials: 'linkage-invalid',
  slot_taken: 'slot-unavailable', slot_in_past: 'slot-in-past', unknown_appointment_type: 'unknown-appointment-type', not_found: 'not-found',
  already_cancelled: 'already-cancelled', appointment_in_past: 'appointment-in-past', not_a_repeat: 'not-on-repeat', too_early: 'too-early',
  invalid_pharmacy: 'invalid-pharmacy', invalid_request: 'invalid-request',
};
const modes: Record<string, AppointmentMode> = { in_person: 'in-person', phone: 'phone', video: 'video' };
const statuses: Record<string, RepeatRequestStatus> = { requested: 'requested', approved: 'approved', rejected: 'rejected', issued: 'issued' };
const accessLevels: Record<string, RecordAccess> = { none: 'none', summary: 'summary', detailed: 'detailed' };
/** Bounds: a misbehaving supplier cannot keep an adapter paging or polling for ever. */
const MAX_PAGES = 100;
const MAX_POLLS = 100;
const POLL_MS = 5;

type Obj = Record<string, unknown>;

/** Reads the dialect's answers; exported for focused tests of bad answers. */
export class MicrotestReader {
  readonly s = new Shape(SYSTEM);

  domainError(e: unknown): GpDomainError | undefined {
    const code = (e as { code?: unknown } | undefined)?.code;
    const known = typeof code === 'string' ? errorCodes[code] : undefined;
    if (!known) return undefined;
    const m = (e as { message?: unknown }).message;
    const message = typeof m === 'string' ? m : known;
    return known === 'slot-unavailable' ? new SlotUnavailableError(message) : new GpDomainError(known, message);
  }

  error(answer: SupplierAnswer): Error {
    let body: Obj;
    try { body = JSON.parse(answer.text) as Obj; } catch { return unexpectedAnswer(SYSTEM, answer); }
    if (answer.status >= 500) return unexpectedAnswer(SYSTEM, answer);
    return this.domainError(body?.error) ?? unexpectedAnswer(SYSTEM, answer);
  }

  page(v: unknown): { data: unknown[]; next?: string; body: Obj } {
    const o = this.s.obj(v, 'page');
    const next = o.next_cursor;
    if (next !== null && next !== undefined && typeof next !== 'string') this.s.wrong(`next_cursor should be a string or null, got ${JSON.stringify(next)}`);
    return { data: this.s.arr(o.data, 'data'), next: (next as string | null) ?? undefined, body: o };
  }

  slot(v: unknown, w: string): GpSlot {
    const o = this.s.obj(v, w);
    return {
      id: this.s.str(o.id, `${w}.id`), start: this.s.dateTime(o.starts_at, `${w}.starts_at`), end: this.s.dateTime(o.ends_at, `${w}.ends_at`),
      appointmentType: this.s.str(o.appointment_type, `${w}.appointment_type`), clinician: this.s.str(o.clinician, `${w}.clinician`),
      mode: this.s.oneOf(o.mode, modes, `${w}.mode`), location: this.s.optStr(o.location, `${w}.location`),
    };
  }
  appointment(v: unknown, w = 'appointment'): GpAppointment {
    const o = this.s.obj(v, w);
    return {
      id: this.s.str(o.id, `${w}.id`), start: this.s.dateTime(o.starts_at, `${w}.starts_at`), end: this.s.dateTime(o.ends_at, `${w}.ends_at`),
      appointmentType: this.s.str(o.appointment_type, `${w}.appointment_type`), clinician: this.s.str(o.clinician, `${w}.clinician`),
      mode: this.s.oneOf(o.mode, modes, `${w}.mode`), reason: this.s.optStr(o.reason, `${w}.reason`),
      status: this.s.oneOf(o.state, { booked: 'booked', cancelled: 'cancelled' } as const, `${w}.state`), cancellationReason: this.s.optStr(o.cancellation_reason, `${w}.cancellation_reason`),
    };
  }
  repeat(v: unknown, w: string): RepeatMedication {
    const o = this.s.obj(v, w);
    return {
      id: this.s.str(o.id, `${w}.id`), dmdCode: this.s.conceptId(o.dmd_code, `${w}.dmd_code`), name: this.s.str(o.name, `${w}.name`), dose: this.s.str(o.dosage, `${w}.dosage`),
      quantity: this.s.optStr(o.quantity, `${w}.quantity`), lastIssued: this.s.optDate(o.last_issued_on, `${w}.last_issued_on`),
      canRequestNow: this.s.bool(o.orderable, `${w}.orderable`), cannotRequestReason: this.s.optStr(o.not_orderable_reason, `${w}.not_orderable_reason`),
    };
  }
  request(v: unknown, w = 'request'): RepeatRequest {
    const o = this.s.obj(v, w);
    return {
      id: this.s.str(o.id, `${w}.id`), requestedAt: this.s.dateTime(o.requested_at, `${w}.requested_at`), status: this.s.oneOf(o.status, statuses, `${w}.status`),
      rejectionReason: this.s.optStr(o.rejection_reason, `${w}.rejection_reason`), statusChangedAt: o.status_changed_at ? this.s.dateTime(o.status_changed_at, `${w}.status_changed_at`) : undefined,
      note: this.s.optStr(o.note, `${w}.note`),
      items: this.s.arr(o.items, `${w}.items`).map((x, i) => { const y = this.s.obj(x, `${w}.items[${i}]`); return { medicationId: this.s.str(y.medication_id, `${w}.items[${i}].medication_id`), name: this.s.str(y.name, `${w}.items[${i}].name`), dmdCode: this.s.conceptId(y.dmd_code, `${w}.items[${i}].dmd_code`) }; }),
    };
  }
  pharmacy(v: unknown): NominatedPharmacy | undefined {
    const o = this.s.obj(v, 'answer');
    if (o.pharmacy === null || o.pharmacy === undefined) return undefined;
    const p = this.s.obj(o.pharmacy, 'pharmacy');
    return { odsCode: this.s.str(p.ods_code, 'pharmacy.ods_code'), name: this.s.optStr(p.name, 'pharmacy.name'), address: this.s.optStr(p.address, 'pharmacy.address') };
  }
  entry<S extends RecordSection>(section: S, v: unknown, w: string): RecordEntries[S] {
    const x = this.s.obj(v, w);
    const s = this.s;
    const sct = () => ({ system: SNOMED, code: s.conceptId(x.snomed_code, `${w}.snomed_code`), display: s.str(x.term, `${w}.term`) });
    const map: { [K in RecordSection]: () => RecordEntries[K] } = {
      allergies: () => ({ code: sct(), recordedDate: s.optDate(x.recorded_on, `${w}.recorded_on`), reaction: s.optStr(x.reaction, `${w}.reaction`), severity: s.optStr(x.severity, `${w}.severity`) }),
      medications: () => ({ code: { system: DMD, code: s.conceptId(x.dmd_code, `${w}.dmd_code`), display: s.str(x.name, `${w}.name`) }, dose: s.optStr(x.dosage, `${w}.dosage`), status: s.bool(x.current, `${w}.current`) ? 'current' : 'past', startDate: s.optDate(x.started_on, `${w}.started_on`), endDate: s.optDate(x.ended_on, `${w}.ended_on`) }),
      problems: () => ({ code: sct(), onsetDate: s.optDate(x.onset_on, `${w}.onset_on`), status: s.bool(x.active, `${w}.active`) ? 'active' : 'resolved' }),
      immunisations: () => ({ code: sct(), date: s.date(x.given_on, `${w}.given_on`) }),
      'test-results': () => ({ code: sct(), date: s.date(x.taken_on, `${w}.taken_on`), value: s.num(x.value, `${w}.value`), unit: s.str(x.unit, `${w}.unit`), referenceRange: x.reference_low == null && x.reference_high == null ? undefined : { low: s.optNum(x.reference_low, `${w}.reference_low`), high: s.optNum(x.reference_high, `${w}.reference_high`) } }),
      consultations: () => ({ id: s.optStr(x.id, `${w}.id`), date: s.date(x.on, `${w}.on`), clinician: s.optStr(x.clinician, `${w}.clinician`), type: s.str(x.kind, `${w}.kind`), summary: s.str(x.summary, `${w}.summary`), codes: s.arr(x.codes ?? [], `${w}.codes`).map((c, j) => { const y = s.obj(c, `${w}.codes[${j}]`); return { system: SNOMED, code: s.conceptId(y.snomed_code, `${w}.codes[${j}].snomed_code`), display: s.str(y.term, `${w}.codes[${j}].term`) }; }) }),
    };
    return map[section]() as RecordEntries[S];
  }
}

class MicrotestAdapter implements GpSystemAdapter {
  readonly system = SYSTEM;
  private readonly http: SupplierHttp;
  private readonly read = new MicrotestReader();

  private readonly policy: PolicyCalls;

  constructor(baseUrl: string, policy: SupplierPolicy, extraHeaders?: Record<string, string>) {
    this.policy = policyCalls(policy);
    this.http = new SupplierHttp(SYSTEM, baseUrl, { ...extraHeaders });
  }

  private base(l: GpLinkage): string {
    return `/v2/practices/${encodeURIComponent(l.odsCode)}`;
  }

  private async json(signal: AbortSignal, method: 'GET' | 'POST' | 'PUT', path: string, l: GpLinkage | undefined, opts: CallOptions & { json?: unknown } = {}): Promise<{ body: unknown; answer: SupplierAnswer }> {
    const headers: Record<string, string> = {};
    if (l) headers.authorization = `Linkage ${l.accountId}.${l.linkageKey}`;
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, opts.headers);
    const answer = await this.http.call(method, path, Object.assign({}, opts, { signal, headers, body: opts.json !== undefined ? JSON.stringify(opts.json) : undefined }));
    if (answer.status >= 400) throw this.read.error(answer);
    return { body: parseJson(SYSTEM, answer), answer };
  }

  /** Follows next_cursor to the end; the first page's other fields come back too. */
  private async all(signal: AbortSignal, path: string, l: GpLinkage, query: Record<string, string | undefined> = {}): Promise<{ data: unknown[]; first: Obj }> {
    const data: unknown[] = [];
    let cursor: string | undefined;
    let first: Obj | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page = this.read.page((await this.json(signal, 'GET', path, l, { query: { ...query, limit: '200', cursor } })).body);
      first ??= page.body;
      data.push(...page.data);
      if (!page.next) return { data, first };
      if (page.next === cursor) this.read.s.wrong('next_cursor repeats the cursor just used');
      cursor = page.next;
    }
    return this.read.s.wrong(`more than ${MAX_PAGES} pages`);
  }

  link(r: LinkRequest): Promise<GpLinkage> {
    return this.policy.write(async (signal) => {
      const o = this.read.s.obj((await this.json(signal, 'POST', '/v2/link', undefined, { json: { nhs_number: r.nhsNumber, date_of_birth: r.dateOfBirth, practice_ods: r.odsCode } })).body, 'link');
      return { accountId: this.read.s.str(o.account_id, 'account_id'), linkageKey: this.read.s.str(o.linkage_key, 'linkage_key'), odsCode: this.read.s.str(o.practice_ods, 'practice_ods'), nhsNumber: r.nhsNumber };
    });
  }

  searchSlots(l: GpLinkage, q: SlotQuery): Promise<GpSlot[]> {
    return this.policy.read(async (signal) => {
      const { data } = await this.all(signal, `${this.base(l)}/slots`, l, { from: q.from, to: q.to, appointment_type: q.appointmentType, clinician: q.clinician, mode: q.mode?.replace('-', '_') });
      return data.map((x, i) => this.read.slot(x, `slots[${i}]`));
    });
  }

  async book(l: GpLinkage, b: BookingRequest, idempotencyKey: string): Promise<GpAppointment> {
    try {
      return await this.policy.write(async (signal) => {
        const { answer } = await this.json(signal, 'POST', `${this.base(l)}/bookings`, l, { json: { slot_id: b.slotId, reason: b.reason }, headers: { 'idempotency-key': idempotencyKey } });
        const location = answer.headers.location;
        if (answer.status !== 202 || typeof location !== 'string' || !location) this.read.s.wrong(`booking answered ${answer.status} without a Location to poll`);
        const path = /^https?:/i.test(location as string) ? new URL(location as string).pathname : (location as string);
        for (let polls = 0; polls < MAX_POLLS; polls++) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          if (signal.aborted) break;
          const op = this.read.s.obj((await this.json(signal, 'GET', path, l, { fromOrigin: true })).body, 'operation');
          const status = this.read.s.oneOf(op.status, { pending: 'pending', succeeded: 'succeeded', failed: 'failed' } as const, 'operation.status');
          if (status === 'succeeded') return this.read.appointment(op.appointment);
          if (status === 'failed') throw this.read.domainError(op.error) ?? this.read.s.wrong(`booking failed with ${JSON.stringify(op.error)?.slice(0, 80)}`);
        }
        throw new SupplierUnavailableError(SYSTEM, 'timeout', `${SYSTEM}: booking still pending after ${MAX_POLLS} polls (retry with the same idempotency key)`);
      });
    } catch (err) {
      if (err instanceof SlotUnavailableError) throw await slotGone(err.message, () => this.searchSlots(l, nextWeek()));
      throw err;
    }
  }

  cancel(l: GpLinkage, id: string, reason: string): Promise<GpAppointment> {
    return this.policy.write(async (signal) => this.read.appointment((await this.json(signal, 'POST', `${this.base(l)}/appointments/${encodeURIComponent(id)}/cancel`, l, { json: { reason } })).body));
  }

  listAppointments(l: GpLinkage): Promise<AppointmentList> {
    return this.policy.read(async (signal) => splitAppointments((await this.all(signal, `${this.base(l)}/appointments`, l)).data.map((x, i) => this.read.appointment(x, `appointments[${i}]`))));
  }

  listRepeats(l: GpLinkage): Promise<RepeatMedication[]> {
    return this.policy.read(async (signal) => (await this.all(signal, `${this.base(l)}/repeat-medications`, l)).data.map((x, i) => this.read.repeat(x, `repeats[${i}]`)));
  }

  requestRepeats(l: GpLinkage, r: RepeatRequestInput, idempotencyKey: string): Promise<RepeatRequest> {
    return this.policy.write(async (signal) => this.read.request((await this.json(signal, 'POST', `${this.base(l)}/medication-requests`, l, { json: { medication_ids: r.medicationIds, note: r.note }, headers: { 'idempotency-key': idempotencyKey } })).body));
  }

  listRequests(l: GpLinkage): Promise<RepeatRequest[]> {
    return this.policy.read(async (signal) => (await this.all(signal, `${this.base(l)}/medication-requests`, l)).data.map((x, i) => this.read.request(x, `requests[${i}]`)));
  }

  getNominatedPharmacy(l: GpLinkage): Promise<NominatedPharmacy | undefined> {
    return this.policy.read(async (signal) => this.read.pharmacy((await this.json(signal, 'GET', `${this.base(l)}/nominated-pharmacy`, l)).body));
  }

  setNominatedPharmacy(l: GpLinkage, odsCode: string): Promise<NominatedPharmacy> {
    return this.policy.write(async (signal) => this.read.pharmacy((await this.json(signal, 'PUT', `${this.base(l)}/nominated-pharmacy`, l, { json: { ods_code: odsCode } })).body) ?? this.read.s.wrong('no nominated pharmacy after change'));
  }

  getRecord<S extends RecordSection>(l: GpLinkage, section: S): Promise<GpRecordSection<S>> {
    return this.policy.read(async (signal) => {
      const { data, first } = await this.all(signal, `${this.base(l)}/record/${section}`, l);
      return {
        section, access: this.read.s.oneOf(first.record_access, accessLevels, 'record_access'), visible: this.read.s.bool(first.visible, 'visible'),
        entries: data.map((x, i) => this.read.entry(section, x, `${section}[${i}]`)),
      };
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

export const createMicrotestAdapter: GpAdapterFactory = ({ baseUrl, policy, extraHeaders }) => new MicrotestAdapter(baseUrl, policy, extraHeaders);
