// GP system adapter for the IM1-style REST/JSON dialect (system id "emis"): session token from the linkage key,
// PascalCase fields, numeric error codes, translated into the GP contract.
import type { SupplierPolicy } from '../../resilience.ts';
import {
  DMD, GpDomainError, SNOMED, SlotUnavailableError, splitAppointments,
  type AppointmentList, type AppointmentMode, type BookingRequest, type GpAdapterFactory, type GpAppointment, type GpErrorCode,
  type GpLinkage, type GpRecordSection, type GpSlot, type GpSystemAdapter, type LinkRequest, type NominatedPharmacy,
  type RecordAccess, type RecordEntries, type RecordSection, type RepeatMedication, type RepeatRequest, type RepeatRequestInput, type RepeatRequestStatus, type SlotQuery,
} from '../contract.ts';
import { Shape, SupplierHttp, nextWeek, policyCalls, parseJson, slotGone, unexpectedAnswer, type CallOptions, type SupplierAnswer, type PolicyCalls } from '../supplier-http.ts';

const SYSTEM = 'emis';
const errorCodes: Record<number, GpErrorCode> = {
  1001: 'no-record', 1002: 'not-matched', 1003: 'online-services-disabled', 1100: 'linkage-invalid',
  2001: 'slot-unavailable', 2002: 'slot-in-past', 2003: 'unknown-appointment-type', 2004: 'not-found', 2005: 'already-cancelled', 2006: 'appointment-in-past',
  3001: 'not-on-repeat', 3002: 'too-early', 3003: 'invalid-pharmacy', 9000: 'invalid-request',
};
const channels: Record<string, AppointmentMode> = { FaceToFace: 'in-person', Telephone: 'phone', Video: 'video' };
const channelOut: Record<AppointmentMode, string> = { 'in-person': 'FaceToFace', phone: 'Telephone', video: 'Video' };
const statuses: Record<string, RepeatRequestStatus> = { Pending: 'requested', Authorised: 'approved', Rejected: 'rejected', Issued: 'issued' };
const accessLevels: Record<string, RecordAccess> = { None: 'none', Summary: 'summary', Detailed: 'detailed' };
const sectionPaths: Record<RecordSection, string> = { allergies: 'Allergies', medications: 'Medication', problems: 'Problems', immunisations: 'Immunisations', 'test-results': 'TestResults', consultations: 'Consultations' };

/** Reads the dialect's answers; exported for focused tests of bad answers. */
export class EmisReader {
  readonly s = new Shape(SYSTEM);

  /** Turns an error answer into a domain error when the code is one we know, else a supplier failure. */
  error(answer: SupplierAnswer): Error {
    let body: unknown;
    try { body = JSON.parse(answer.text); } catch { return unexpectedAnswer(SYSTEM, answer); }
    const code = (body as { ErrorCode?: unknown })?.ErrorCode;
    const known = typeof code === 'number' ? errorCodes[code] : undefined;
    if (!known || answer.status >= 500) return unexpectedAnswer(SYSTEM, answer);
    const message = typeof (body as { Message?: unknown }).Message === 'string' ? (body as { Message: string }).Message : known;
    return known === 'slot-unavailable' ? new SlotUnavailableError(message) : new GpDomainError(known, message);
  }

  slot(v: unknown, i: number): GpSlot {
    const o = this.s.obj(v, `Slots[${i}]`);
    return {
      id: this.s.str(o.SlotId, `Slots[${i}].SlotId`), start: this.s.dateTime(o.StartTime, `Slots[${i}].StartTime`), end: this.s.dateTime(o.EndTime, `Slots[${i}].EndTime`),
      appointmentType: this.s.str(o.SessionType, `Slots[${i}].SessionType`), clinician: this.s.str(o.ClinicianName, `Slots[${i}].ClinicianName`),
      mode: this.s.oneOf(o.Channel, channels, `Slots[${i}].Channel`), location: this.s.optStr(o.Location, `Slots[${i}].Location`),
    };
  }

  appointment(v: unknown, where = 'Appointment'): GpAppointment {
    const o = this.s.obj(v, where);
    return {
      id: this.s.str(o.AppointmentId, `${where}.AppointmentId`), start: this.s.dateTime(o.StartTime, `${where}.StartTime`), end: this.s.dateTime(o.EndTime, `${where}.EndTime`),
      appointmentType: this.s.str(o.SessionType, `${where}.SessionType`), clinician: this.s.str(o.ClinicianName, `${where}.ClinicianName`),
      mode: this.s.oneOf(o.Channel, channels, `${where}.Channel`), reason: this.s.optStr(o.BookingReason, `${where}.BookingReason`),
      status: this.s.oneOf(o.Status, { Booked: 'booked', Cancelled: 'cancelled' } as const, `${where}.Status`),
      cancellationReason: this.s.optStr(o.CancellationReason, `${where}.CancellationReason`),
    };
  }

  repeat(v: unknown, i: number): RepeatMedication {
    const w = `Courses[${i}]`;
    const o = this.s.obj(v, w);
    return {
      id: this.s.str(o.CourseGuid, `${w}.CourseGuid`), name: this.s.str(o.DrugName, `${w}.DrugName`), dose: this.s.str(o.Dosage, `${w}.Dosage`),
      quantity: this.s.optStr(o.Quantity, `${w}.Quantity`), dmdCode: this.s.conceptId(o.DmdCode, `${w}.DmdCode`), lastIssued: this.s.optDate(o.LastIssueDate, `${w}.LastIssueDate`),
      canRequestNow: this.s.bool(o.CanRequest, `${w}.CanRequest`), cannotRequestReason: this.s.optStr(o.CannotRequestReason, `${w}.CannotRequestReason`),
    };
  }

  request(v: unknown, w = 'Request'): RepeatRequest {
    const o = this.s.obj(v, w);
    return {
      id: this.s.str(o.RequestGuid, `${w}.RequestGuid`), requestedAt: this.s.dateTime(o.DateRequested, `${w}.DateRequested`),
      status: this.s.oneOf(o.RequestStatus, statuses, `${w}.RequestStatus`), rejectionReason: this.s.optStr(o.RejectionReason, `${w}.RejectionReason`),
      statusChangedAt: o.LastUpdated ? this.s.dateTime(o.LastUpdated, `${w}.LastUpdated`) : undefined, note: this.s.optStr(o.Comment, `${w}.Comment`),
      items: this.s.arr(o.Courses, `${w}.Courses`).map((c, i) => {
        const x = this.s.obj(c, `${w}.Courses[${i}]`);
        return { medicationId: this.s.str(x.CourseGuid, `${w}.Courses[${i}].CourseGuid`), name: this.s.str(x.DrugName, `${w}.Courses[${i}].DrugName`), dmdCode: this.s.conceptId(x.DmdCode, `${w}.Courses[${i}].DmdCode`) };
      }),
    };
  }

  pharmacy(v: unknown): NominatedPharmacy | undefined {
    const o = this.s.obj(v, 'answer');
    if (o.NominatedPharmacy === null || o.NominatedPharmacy === undefined) return undefined;
    const p = this.s.obj(o.NominatedPharmacy, 'NominatedPharmacy');
    return { odsCode: this.s.str(p.OdsCode, 'NominatedPharmacy.OdsCode'), name: this.s.optStr(p.Name, 'NominatedPharmacy.Name'), address: this.s.optStr(p.Address, 'NominatedPharmacy.Address') };
  }

  record<S extends RecordSection>(section: S, v: unknown): GpRecordSection<S> {
    const o = this.s.obj(v, 'answer');
    const access = this.s.oneOf(o.RecordAccess, accessLevels, 'RecordAccess');
    const visible = this.s.bool(o.Visible, 'Visible');
    const items = this.s.arr(o.Items, 'Items').map((x, i) => this.s.obj(x, `Items[${i}]`));
    const s = this.s;
    const sct = (x: Record<string, unknown>, i: number, term = 'Term') => ({ system: SNOMED, code: s.conceptId(x.SnomedCode, `Items[${i}].SnomedCode`), display: s.str(x[term], `Items[${i}].${term}`) });
    const map: { [K in RecordSection]: (x: Record<string, unknown>, i: number) => RecordEntries[K] } = {
      allergies: (x, i) => ({ code: sct(x, i), recordedDate: s.optDate(x.DateRecorded, `Items[${i}].DateRecorded`), reaction: s.optStr(x.Reaction, `Items[${i}].Reaction`), severity: s.optStr(x.Severity, `Items[${i}].Severity`) }),
      medications: (x, i) => ({ code: { system: DMD, code: s.conceptId(x.DmdCode, `Items[${i}].DmdCode`), display: s.str(x.DrugName, `Items[${i}].DrugName`) }, dose: s.optStr(x.Dosage, `Items[${i}].Dosage`), status: s.oneOf(x.Status, { Current: 'current', Past: 'past' } as const, `Items[${i}].Status`), startDate: s.optDate(x.StartDate, `Items[${i}].StartDate`), endDate: s.optDate(x.EndDate, `Items[${i}].EndDate`) }),
      problems: (x, i) => ({ code: sct(x, i), onsetDate: s.optDate(x.OnsetDate, `Items[${i}].OnsetDate`), status: s.oneOf(x.Status, { Active: 'active', Resolved: 'resolved' } as const, `Items[${i}].Status`) }),
      immunisations: (x, i) => ({ code: sct(x, i), date: s.date(x.DateGiven, `Items[${i}].DateGiven`) }),
      'test-results': (x, i) => ({ code: sct(x, i), date: s.date(x.EffectiveDate, `Items[${i}].EffectiveDate`), value: s.num(x.Value, `Items[${i}].Value`), unit: s.str(x.Units, `Items[${i}].Units`), referenceRange: x.RangeLow == null && x.RangeHigh == null ? undefined : { low: s.optNum(x.RangeLow, `Items[${i}].RangeLow`), high: s.optNum(x.RangeHigh, `Items[${i}].RangeHigh`) } }),
      consultations: (x, i) => ({ id: s.optStr(x.ConsultationGuid, `Items[${i}].ConsultationGuid`), date: s.date(x.Date, `Items[${i}].Date`), clinician: s.optStr(x.ClinicianName, `Items[${i}].ClinicianName`), type: s.str(x.ConsultationType, `Items[${i}].ConsultationType`), summary: s.str(x.Summary, `Items[${i}].Summary`), codes: s.arr(x.Codes ?? [], `Items[${i}].Codes`).map((c, j) => { const y = s.obj(c, `Items[${i}].Codes[${j}]`); return { system: SNOMED, code: s.conceptId(y.Code, `Items[${i}].Codes[${j}].Code`), display: s.str(y.Term, `Items[${i}].Codes[${j}].Term`) }; }) }),
    };
    return { section, access, visible, entries: items.map((x, i) => map[section](x, i)) as RecordEntries[S][] };
  }
}

class EmisAdapter implements GpSystemAdapter {
  readonly system = SYSTEM;
  private readonly http: SupplierHttp;
  private readonly read = new EmisReader();
  private readonly sessions = new Map<string, string>();

  private readonly policy: PolicyCalls;

  constructor(baseUrl: string, policy: SupplierPolicy, extraHeaders?: Record<string, string>) {
    this.policy = policyCalls(policy);
    this.http = new SupplierHttp(SYSTEM, baseUrl, { ...extraHeaders });
  }

  private json(answer: SupplierAnswer): unknown {
    if (answer.status >= 400) throw this.read.error(answer);
    return parseJson(SYSTEM, answer);
  }

  private async session(l: GpLinkage, signal: AbortSignal, fresh = false): Promise<string> {
    const k = `${l.accountId}|${l.linkageKey}|${l.odsCode}`;
    const cached = this.sessions.get(k);
    if (cached && !fresh) return cached;
    const answer = await this.http.call('POST', '/api/sessions', { signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ AccountId: l.accountId, LinkageKey: l.linkageKey, OdsCode: l.odsCode }) });
    const token = this.read.s.str(this.read.s.obj(this.json(answer), 'session').SessionToken, 'SessionToken');
    if (this.sessions.size > 10_000) this.sessions.clear();
    this.sessions.set(k, token);
    return token;
  }

  /** A call in the patient's session; an expired session is renewed once. */
  private async call(l: GpLinkage, signal: AbortSignal, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: CallOptions = {}): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.session(l, signal, attempt > 0);
      const headers: Record<string, string> = Object.assign({ 'x-session-token': token }, opts.headers);
      if (opts.body) headers['content-type'] = 'application/json';
      const answer = await this.http.call(method, path, Object.assign({}, opts, { signal, headers }));
      if (answer.status === 401 && attempt === 0) continue;
      return this.json(answer);
    }
  }

  link(r: LinkRequest): Promise<GpLinkage> {
    return this.policy.write(async (signal) => {
      const answer = await this.http.call('POST', '/api/linkage', { signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ NhsNumber: r.nhsNumber, DateOfBirth: r.dateOfBirth, OdsCode: r.odsCode }) });
      const o = this.read.s.obj(this.json(answer), 'linkage');
      return { accountId: this.read.s.str(o.AccountId, 'AccountId'), linkageKey: this.read.s.str(o.LinkageKey, 'LinkageKey'), odsCode: this.read.s.str(o.OdsCode, 'OdsCode'), nhsNumber: r.nhsNumber };
    });
  }

  searchSlots(l: GpLinkage, q: SlotQuery): Promise<GpSlot[]> {
    return this.policy.read(async (signal) => {
      const o = this.read.s.obj(await this.call(l, signal, 'GET', '/api/appointments/slots', { query: { FromDate: q.from, ToDate: q.to, SessionType: q.appointmentType, Clinician: q.clinician, Channel: q.mode ? channelOut[q.mode] : undefined } }), 'answer');
      return this.read.s.arr(o.Slots, 'Slots').map((x, i) => this.read.slot(x, i));
    });
  }

  async book(l: GpLinkage, b: BookingRequest, idempotencyKey: string): Promise<GpAppointment> {
    try {
      return await this.policy.write(async (signal) => {
        const o = this.read.s.obj(await this.call(l, signal, 'POST', '/api/appointments', { headers: { 'x-idempotency-key': idempotencyKey }, body: JSON.stringify({ SlotId: b.slotId, BookingReason: b.reason }) }), 'answer');
        return this.read.appointment(o.Appointment);
      });
    } catch (err) {
      if (err instanceof SlotUnavailableError) throw await slotGone(err.message, () => this.searchSlots(l, nextWeek()));
      throw err;
    }
  }

  cancel(l: GpLinkage, id: string, reason: string): Promise<GpAppointment> {
    return this.policy.write(async (signal) => {
      const o = this.read.s.obj(await this.call(l, signal, 'DELETE', `/api/appointments/${encodeURIComponent(id)}`, { body: JSON.stringify({ CancellationReason: reason }) }), 'answer');
      return this.read.appointment(o.Appointment);
    });
  }

  listAppointments(l: GpLinkage): Promise<AppointmentList> {
    return this.policy.read(async (signal) => {
      const o = this.read.s.obj(await this.call(l, signal, 'GET', '/api/appointments'), 'answer');
      return splitAppointments(this.read.s.arr(o.Appointments, 'Appointments').map((x, i) => this.read.appointment(x, `Appointments[${i}]`)));
    });
  }

  listRepeats(l: GpLinkage): Promise<RepeatMedication[]> {
    return this.policy.read(async (signal) => {
      const o = this.read.s.obj(await this.call(l, signal, 'GET', '/api/prescriptions/courses'), 'answer');
      return this.read.s.arr(o.Courses, 'Courses').map((x, i) => this.read.repeat(x, i));
    });
  }

  requestRepeats(l: GpLinkage, r: RepeatRequestInput, idempotencyKey: string): Promise<RepeatRequest> {
    return this.policy.write(async (signal) => this.read.request(await this.call(l, signal, 'POST', '/api/prescriptions/requests', { headers: { 'x-idempotency-key': idempotencyKey }, body: JSON.stringify({ CourseGuids: r.medicationIds, RequestComment: r.note }) })));
  }

  listRequests(l: GpLinkage): Promise<RepeatRequest[]> {
    return this.policy.read(async (signal) => {
      const o = this.read.s.obj(await this.call(l, signal, 'GET', '/api/prescriptions/requests'), 'answer');
      return this.read.s.arr(o.Requests, 'Requests').map((x, i) => this.read.request(x, `Requests[${i}]`));
    });
  }

  getNominatedPharmacy(l: GpLinkage): Promise<NominatedPharmacy | undefined> {
    return this.policy.read(async (signal) => this.read.pharmacy(await this.call(l, signal, 'GET', '/api/pharmacy')));
  }

  setNominatedPharmacy(l: GpLinkage, odsCode: string): Promise<NominatedPharmacy> {
    return this.policy.write(async (signal) => {
      const p = this.read.pharmacy(await this.call(l, signal, 'PUT', '/api/pharmacy', { body: JSON.stringify({ OdsCode: odsCode }) }));
      return p ?? this.read.s.wrong('no nominated pharmacy after change');
    });
  }

  getRecord<S extends RecordSection>(l: GpLinkage, section: S): Promise<GpRecordSection<S>> {
    return this.policy.read(async (signal) => this.read.record(section, await this.call(l, signal, 'GET', `/api/record/${sectionPaths[section]}`)));
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

export const createEmisAdapter: GpAdapterFactory = ({ baseUrl, policy, extraHeaders }) => new EmisAdapter(baseUrl, policy, extraHeaders);
