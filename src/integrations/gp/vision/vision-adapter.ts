// GP system adapter for the SOAP-style XML dialect (system id "vision"): one endpoint, credentials in the SOAP
// header, V-nnn fault codes and dd/MM/yyyy HH:mm dates (UTC), translated into the GP contract.
import { XMLBuilder } from 'fast-xml-parser';
import type { SupplierPolicy } from '../../resilience.ts';
import {
  DMD, GpDomainError, SNOMED, SlotUnavailableError, splitAppointments,
  type AppointmentList, type AppointmentMode, type BookingRequest, type GpAdapterFactory, type GpAppointment, type GpErrorCode,
  type GpLinkage, type GpRecordSection, type GpSlot, type GpSystemAdapter, type LinkRequest, type NominatedPharmacy,
  type RecordAccess, type RecordEntries, type RecordSection, type RepeatMedication, type RepeatRequest, type RepeatRequestInput, type RepeatRequestStatus, type SlotQuery,
} from '../contract.ts';
import { readXml } from './soap-xml.ts';
import { Shape, SupplierHttp, nextWeek, policyCalls, slotGone, unexpectedAnswer, type SupplierAnswer, type PolicyCalls } from '../supplier-http.ts';

const SYSTEM = 'vision';
const faultCodes: Record<string, GpErrorCode> = {
  'V-101': 'no-record', 'V-102': 'not-matched', 'V-103': 'online-services-disabled', 'V-110': 'linkage-invalid',
  'V-201': 'slot-unavailable', 'V-202': 'slot-in-past', 'V-203': 'unknown-appointment-type', 'V-204': 'not-found', 'V-205': 'already-cancelled', 'V-206': 'appointment-in-past',
  'V-301': 'not-on-repeat', 'V-302': 'too-early', 'V-303': 'invalid-pharmacy', 'V-400': 'invalid-request',
};
const modes: Record<string, AppointmentMode> = { SURGERY: 'in-person', TELEPHONE: 'phone', VIDEO: 'video' };
const modesOut: Record<AppointmentMode, string> = { 'in-person': 'SURGERY', phone: 'TELEPHONE', video: 'VIDEO' };
const statuses: Record<string, RepeatRequestStatus> = { REQ: 'requested', APP: 'approved', REJ: 'rejected', ISS: 'issued' };
const accessLevels: Record<string, RecordAccess> = { NONE: 'none', SUMMARY: 'summary', DETAILED: 'detailed' };
const sectionNames: Record<RecordSection, string> = { allergies: 'ALLERGY', medications: 'DRUG', problems: 'PROBLEM', immunisations: 'IMMUNISATION', 'test-results': 'RESULT', consultations: 'ENCOUNTER' };

type Obj = Record<string, unknown>;
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: true });

const pad = (n: number) => String(n).padStart(2, '0');
export function toVisionDateTime(iso: string): string {
  const d = new Date(iso);
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** Reads the dialect's envelopes; exported for focused tests of bad answers. */
export class VisionReader {
  readonly s = new Shape(SYSTEM);

  /** "dd/MM/yyyy[ HH:mm]" (UTC) → ISO date-time. */
  dateTime(v: unknown, where: string): string {
    const m = typeof v === 'string' ? /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{2}):(\d{2}))?$/.exec(v.trim()) : null;
    const iso = m ? `${m[3]}-${m[2]}-${m[1]}T${m[4] ?? '00'}:${m[5] ?? '00'}:00.000Z` : '';
    if (!m || Number.isNaN(Date.parse(iso)) || new Date(iso).getUTCDate() !== Number(m[1])) this.s.wrong(`${where} should be a dd/MM/yyyy date, got ${JSON.stringify(v)?.slice(0, 40)}`);
    return iso;
  }
  date(v: unknown, where: string): string {
    return this.dateTime(v, where).slice(0, 10);
  }
  optDate(v: unknown, where: string): string | undefined {
    return v === undefined || v === '' ? undefined : this.date(v, where);
  }

  /** The operation's response element, or the fault it carries as a domain error or supplier failure. */
  response(answer: SupplierAnswer, op: string): Obj {
    let doc: Obj;
    try {
      if (!answer.text.trimStart().startsWith('<')) throw new Error('not XML');
      doc = readXml(answer.text);
    } catch {
      throw answer.status >= 500 ? unexpectedAnswer(SYSTEM, answer) : this.s.wrong(`answer ${answer.status} is not XML: ${answer.text.slice(0, 60).replace(/\s+/g, ' ')}`);
    }
    const body = (doc.Envelope as Obj | undefined)?.Body as Obj | undefined;
    if (!body) throw answer.status >= 500 ? unexpectedAnswer(SYSTEM, answer) : this.s.wrong('answer has no SOAP Envelope/Body');
    if (body.Fault) {
      const err = ((body.Fault as Obj).detail as Obj | undefined)?.VisionError as Obj | undefined;
      const code = typeof err?.Code === 'string' ? err.Code : undefined;
      const known = code ? faultCodes[code] : undefined;
      if (!known) throw unexpectedAnswer(SYSTEM, answer);
      const message = typeof err?.Message === 'string' ? err.Message : code!;
      throw known === 'slot-unavailable' ? new SlotUnavailableError(message) : new GpDomainError(known, message);
    }
    if (answer.status >= 400) throw unexpectedAnswer(SYSTEM, answer);
    const r = body[`${op}Response`];
    return this.s.obj(r === '' ? {} : r, `${op}Response`);
  }

  slot(o: Obj, w: string): GpSlot {
    return {
      id: this.s.str(o.Id, `${w}.Id`), start: this.dateTime(o.Start, `${w}.Start`), end: this.dateTime(o.End, `${w}.End`), appointmentType: this.s.str(o.Type, `${w}.Type`),
      clinician: this.s.str(o.Clinician, `${w}.Clinician`), mode: this.s.oneOf(o.Mode, modes, `${w}.Mode`), location: this.s.optStr(o.Location, `${w}.Location`),
    };
  }
  appointment(v: unknown, w = 'Appointment'): GpAppointment {
    const o = this.s.obj(v, w);
    return {
      id: this.s.str(o.Id, `${w}.Id`), start: this.dateTime(o.Start, `${w}.Start`), end: this.dateTime(o.End, `${w}.End`), appointmentType: this.s.str(o.Type, `${w}.Type`),
      clinician: this.s.str(o.Clinician, `${w}.Clinician`), mode: this.s.oneOf(o.Mode, modes, `${w}.Mode`), reason: this.s.optStr(o.Reason, `${w}.Reason`),
      status: this.s.oneOf(o.Status, { BOOKED: 'booked', CANCELLED: 'cancelled' } as const, `${w}.Status`), cancellationReason: this.s.optStr(o.CancelReason, `${w}.CancelReason`),
    };
  }
  repeat(o: Obj, w: string): RepeatMedication {
    return {
      id: this.s.str(o.Id, `${w}.Id`), dmdCode: this.s.conceptId(o.Dmd, `${w}.Dmd`), name: this.s.str(o.Name, `${w}.Name`), dose: this.s.str(o.Dosage, `${w}.Dosage`),
      quantity: this.s.optStr(o.Quantity, `${w}.Quantity`), lastIssued: this.optDate(o.LastIssued, `${w}.LastIssued`),
      canRequestNow: this.s.oneOf(o.Requestable, { Y: 'y', N: 'n' } as const, `${w}.Requestable`) === 'y', cannotRequestReason: this.s.optStr(o.NotRequestableReason, `${w}.NotRequestableReason`),
    };
  }
  request(v: unknown, w = 'Request'): RepeatRequest {
    const o = this.s.obj(v, w);
    return {
      id: this.s.str(o.Id, `${w}.Id`), requestedAt: this.dateTime(o.Requested, `${w}.Requested`), status: this.s.oneOf(o.Status, statuses, `${w}.Status`),
      rejectionReason: this.s.optStr(o.RejectReason, `${w}.RejectReason`), statusChangedAt: o.Updated ? this.dateTime(o.Updated, `${w}.Updated`) : undefined, note: this.s.optStr(o.Note, `${w}.Note`),
      items: this.s.list(this.s.obj(o.Drugs, `${w}.Drugs`).Drug).map((d, i) => {
        const x = this.s.obj(d, `${w}.Drugs.Drug[${i}]`);
        return { medicationId: this.s.str(x['@id'], `${w}.Drug[${i}]@id`), dmdCode: this.s.conceptId(x['@dmd'], `${w}.Drug[${i}]@dmd`), name: this.s.str(x['#text'], `${w}.Drug[${i}]`) };
      }),
    };
  }
  pharmacy(o: Obj): NominatedPharmacy | undefined {
    if (!o.Pharmacy) return undefined;
    const p = this.s.obj(o.Pharmacy, 'Pharmacy');
    return { odsCode: this.s.str(p.Code, 'Pharmacy.Code'), name: this.s.optStr(p.Name, 'Pharmacy.Name'), address: this.s.optStr(p.Address, 'Pharmacy.Address') };
  }
  record<S extends RecordSection>(section: S, o: Obj): GpRecordSection<S> {
    const r = this.s.obj(o.Record, 'Record');
    const access = this.s.oneOf(r['@access'], accessLevels, 'Record@access');
    const visible = this.s.oneOf(r['@visible'], { Y: 'y', N: 'n' } as const, 'Record@visible') === 'y';
    const s = this.s;
    const sct = (x: Obj, w: string) => ({ system: SNOMED, code: s.conceptId(x['@code'], `${w}@code`), display: s.str(x.Term, `${w}.Term`) });
    const map: { [K in RecordSection]: (x: Obj, w: string) => RecordEntries[K] } = {
      allergies: (x, w) => ({ code: sct(x, w), recordedDate: this.optDate(x.Date, `${w}.Date`), reaction: s.optStr(x.Reaction, `${w}.Reaction`), severity: s.optStr(x.Severity, `${w}.Severity`) }),
      medications: (x, w) => ({ code: { system: DMD, code: s.conceptId(x['@code'], `${w}@code`), display: s.str(x.Term, `${w}.Term`) }, dose: s.optStr(x.Dosage, `${w}.Dosage`), status: s.oneOf(x.Status, { CURRENT: 'current', PAST: 'past' } as const, `${w}.Status`), startDate: this.optDate(x.Date, `${w}.Date`), endDate: this.optDate(x.EndDate, `${w}.EndDate`) }),
      problems: (x, w) => ({ code: sct(x, w), onsetDate: this.optDate(x.Date, `${w}.Date`), status: s.oneOf(x.Status, { ACTIVE: 'active', RESOLVED: 'resolved' } as const, `${w}.Status`) }),
      immunisations: (x, w) => ({ code: sct(x, w), date: this.date(x.Date, `${w}.Date`) }),
      'test-results': (x, w) => ({ code: sct(x, w), date: this.date(x.Date, `${w}.Date`), value: s.num(x.Value, `${w}.Value`), unit: s.str(x.Unit, `${w}.Unit`), referenceRange: x.Low === undefined && x.High === undefined ? undefined : { low: s.optNum(x.Low, `${w}.Low`), high: s.optNum(x.High, `${w}.High`) } }),
      consultations: (x, w) => ({
        id: s.optStr(x['@id'], `${w}@id`), date: this.date(x.Date, `${w}.Date`), clinician: s.optStr(x.Clinician, `${w}.Clinician`), type: s.str(x.Type, `${w}.Type`), summary: s.str(x.Summary, `${w}.Summary`),
        codes: s.list((x.Codes as Obj | undefined)?.Code).map((c, j) => { const y = s.obj(c, `${w}.Codes[${j}]`); return { system: SNOMED, code: s.conceptId(y['@code'], `${w}.Codes[${j}]@code`), display: s.str(y['#text'], `${w}.Codes[${j}]`) }; }),
      }),
    };
    const entries = s.list(r.Item).map((x, i) => map[section](s.obj(x, `Item[${i}]`), `Item[${i}]`));
    return { section, access, visible, entries: entries as RecordEntries[S][] };
  }
}

class VisionAdapter implements GpSystemAdapter {
  readonly system = SYSTEM;
  private readonly http: SupplierHttp;
  private readonly read = new VisionReader();

  private readonly policy: PolicyCalls;

  constructor(baseUrl: string, policy: SupplierPolicy, extraHeaders?: Record<string, string>) {
    this.policy = policyCalls(policy);
    this.http = new SupplierHttp(SYSTEM, baseUrl, { ...extraHeaders });
  }

  private async soap(signal: AbortSignal, op: string, args: Obj, l?: GpLinkage): Promise<Obj> {
    const xml = '<?xml version="1.0" encoding="UTF-8"?>' + builder.build({
      'soap:Envelope': {
        '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
        ...(l ? { 'soap:Header': { Credentials: { AccountId: l.accountId, LinkageKey: l.linkageKey, PracticeCode: l.odsCode } } } : {}),
        'soap:Body': { [op]: args },
      },
    });
    const answer = await this.http.call('POST', '/vision/soap', { signal, headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `urn:frontdoor:sandbox:vision:1#${op}` }, body: xml });
    return this.read.response(answer, op);
  }

  link(r: LinkRequest): Promise<GpLinkage> {
    return this.policy.write(async (signal) => {
      const o = await this.soap(signal, 'LinkAccount', { NhsNumber: r.nhsNumber, DateOfBirth: `${r.dateOfBirth.slice(8, 10)}/${r.dateOfBirth.slice(5, 7)}/${r.dateOfBirth.slice(0, 4)}`, PracticeCode: r.odsCode });
      return { accountId: this.read.s.str(o.AccountId, 'AccountId'), linkageKey: this.read.s.str(o.LinkageKey, 'LinkageKey'), odsCode: this.read.s.str(o.PracticeCode, 'PracticeCode'), nhsNumber: r.nhsNumber };
    });
  }

  searchSlots(l: GpLinkage, q: SlotQuery): Promise<GpSlot[]> {
    return this.policy.read(async (signal) => {
      const o = await this.soap(signal, 'GetSlots', { From: toVisionDateTime(q.from), To: toVisionDateTime(q.to), Type: q.appointmentType, Clinician: q.clinician, Mode: q.mode ? modesOut[q.mode] : undefined }, l);
      const slots = o.Slots === undefined || o.Slots === '' ? [] : this.read.s.list(this.read.s.obj(o.Slots, 'Slots').Slot);
      return slots.map((x, i) => this.read.slot(this.read.s.obj(x, `Slot[${i}]`), `Slot[${i}]`));
    });
  }

  async book(l: GpLinkage, b: BookingRequest, idempotencyKey: string): Promise<GpAppointment> {
    try {
      return await this.policy.write(async (signal) => this.read.appointment((await this.soap(signal, 'BookAppointment', { SlotId: b.slotId, Reason: b.reason, RequestId: idempotencyKey }, l)).Appointment));
    } catch (err) {
      if (err instanceof SlotUnavailableError) throw await slotGone(err.message, () => this.searchSlots(l, nextWeek()));
      throw err;
    }
  }

  cancel(l: GpLinkage, id: string, reason: string): Promise<GpAppointment> {
    return this.policy.write(async (signal) => this.read.appointment((await this.soap(signal, 'CancelAppointment', { AppointmentId: id, Reason: reason }, l)).Appointment));
  }

  listAppointments(l: GpLinkage): Promise<AppointmentList> {
    return this.policy.read(async (signal) => {
      const o = await this.soap(signal, 'GetAppointments', {}, l);
      const list = o.Appointments === undefined || o.Appointments === '' ? [] : this.read.s.list(this.read.s.obj(o.Appointments, 'Appointments').Appointment);
      return splitAppointments(list.map((x, i) => this.read.appointment(x, `Appointment[${i}]`)));
    });
  }

  listRepeats(l: GpLinkage): Promise<RepeatMedication[]> {
    return this.policy.read(async (signal) => {
      const o = await this.soap(signal, 'GetRepeats', {}, l);
      const list = o.Repeats === undefined || o.Repeats === '' ? [] : this.read.s.list(this.read.s.obj(o.Repeats, 'Repeats').Repeat);
      return list.map((x, i) => this.read.repeat(this.read.s.obj(x, `Repeat[${i}]`), `Repeat[${i}]`));
    });
  }

  requestRepeats(l: GpLinkage, r: RepeatRequestInput, idempotencyKey: string): Promise<RepeatRequest> {
    return this.policy.write(async (signal) => this.read.request((await this.soap(signal, 'RequestRepeats', { Drugs: { DrugId: r.medicationIds }, Note: r.note, RequestId: idempotencyKey }, l)).Request));
  }

  listRequests(l: GpLinkage): Promise<RepeatRequest[]> {
    return this.policy.read(async (signal) => {
      const o = await this.soap(signal, 'GetRequests', {}, l);
      const list = o.Requests === undefined || o.Requests === '' ? [] : this.read.s.list(this.read.s.obj(o.Requests, 'Requests').Request);
      return list.map((x, i) => this.read.request(x, `Request[${i}]`));
    });
  }

  getNominatedPharmacy(l: GpLinkage): Promise<NominatedPharmacy | undefined> {
    return this.policy.read(async (signal) => this.read.pharmacy(await this.soap(signal, 'GetPharmacy', {}, l)));
  }

  setNominatedPharmacy(l: GpLinkage, odsCode: string): Promise<NominatedPharmacy> {
    return this.policy.write(async (signal) => this.read.pharmacy(await this.soap(signal, 'SetPharmacy', { Code: odsCode }, l)) ?? this.read.s.wrong('no nominated pharmacy after change'));
  }

  getRecord<S extends RecordSection>(l: GpLinkage, section: S): Promise<GpRecordSection<S>> {
    return this.policy.read(async (signal) => this.read.record(section, await this.soap(signal, 'GetRecord', { Section: sectionNames[section] }, l)));
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

export const createVisionAdapter: GpAdapterFactory = ({ baseUrl, policy, extraHeaders }) => new VisionAdapter(baseUrl, policy, extraHeaders);
