// GP system adapter for the FHIR R4, GP-Connect-style dialect (system id "tpp"): Slot/Schedule bundles,
// Appointment, MedicationRequest and record resources, OperationOutcome errors, translated into the GP contract.
import type { SupplierPolicy } from '../../resilience.ts';
import {
  DMD, GpDomainError, SNOMED, SlotUnavailableError, appointmentModes, splitAppointments,
  type AppointmentList, type AppointmentMode, type BookingRequest, type GpAdapterFactory, type GpAppointment, type GpErrorCode,
  type GpLinkage, type GpRecordSection, type GpSlot, type GpSystemAdapter, type LinkRequest, type NominatedPharmacy,
  type RecordAccess, type RecordEntries, type RecordSection, type RepeatMedication, type RepeatRequest, type RepeatRequestInput, type RepeatRequestStatus, type SlotQuery,
} from '../contract.ts';
import { Shape, SupplierHttp, nextWeek, policyCalls, parseJson, slotGone, unexpectedAnswer, type SupplierAnswer, type PolicyCalls } from '../supplier-http.ts';

const SYSTEM = 'tpp';
const EXT = 'https://frontdoor.example/fhir/StructureDefinition';
const FHIR_JSON = 'application/fhir+json';
const errorCodes: Record<string, GpErrorCode> = {
  NO_RECORD_FOUND: 'no-record', INVALID_PATIENT_DEMOGRAPHICS: 'not-matched', ACCESS_DENIED: 'online-services-disabled', INVALID_IDENTITY: 'linkage-invalid',
  DUPLICATE_REJECTED: 'slot-unavailable', SLOT_IN_PAST: 'slot-in-past', INVALID_PARAMETER: 'unknown-appointment-type', REFERENCE_NOT_FOUND: 'not-found',
  ALREADY_CANCELLED: 'already-cancelled', APPOINTMENT_IN_PAST: 'appointment-in-past', NOT_ON_REPEAT: 'not-on-repeat', REQUEST_TOO_EARLY: 'too-early',
  INVALID_RESOURCE: 'invalid-pharmacy', BAD_REQUEST: 'invalid-request',
};
const orderStatuses: Record<string, RepeatRequestStatus> = { draft: 'requested', active: 'approved', stopped: 'rejected', completed: 'issued' };
const accessLevels: Record<string, RecordAccess> = { none: 'none', summary: 'summary', detailed: 'detailed' };
const sectionTypes: Record<RecordSection, string> = { allergies: 'AllergyIntolerance', medications: 'MedicationStatement', problems: 'Condition', immunisations: 'Immunization', 'test-results': 'Observation', consultations: 'Encounter' };
const modes = Object.fromEntries(appointmentModes.map((m) => [m, m])) as Record<string, AppointmentMode>;

type Obj = Record<string, unknown>;

/** Reads FHIR answers; exported for focused tests of bad answers. */
export class TppReader {
  readonly s = new Shape(SYSTEM);

  error(answer: SupplierAnswer): Error {
    let body: Obj | undefined;
    try { body = JSON.parse(answer.text) as Obj; } catch { return unexpectedAnswer(SYSTEM, answer); }
    if (body?.resourceType !== 'OperationOutcome' || answer.status >= 500) return unexpectedAnswer(SYSTEM, answer);
    const issue = (Array.isArray(body.issue) ? body.issue[0] : undefined) as { details?: { coding?: { code?: string }[] }; diagnostics?: string } | undefined;
    const code = issue?.details?.coding?.[0]?.code;
    const known = code ? errorCodes[code] : undefined;
    if (!known) return unexpectedAnswer(SYSTEM, answer);
    const message = issue?.diagnostics ?? code!;
    return known === 'slot-unavailable' ? new SlotUnavailableError(message) : new GpDomainError(known, message);
  }

  bundle(v: unknown): { resources: Obj[]; tags: Obj[] } {
    const b = this.s.obj(v, 'Bundle');
    if (b.resourceType !== 'Bundle') this.s.wrong(`resourceType ${String(b.resourceType)} (expected Bundle)`);
    const entries = this.s.arr(b.entry ?? [], 'Bundle.entry');
    const tags = this.s.arr((b.meta as Obj | undefined)?.tag ?? [], 'Bundle.meta.tag').map((t, i) => this.s.obj(t, `Bundle.meta.tag[${i}]`));
    return { resources: entries.map((e, i) => this.s.obj(this.s.obj(e, `Bundle.entry[${i}]`).resource, `Bundle.entry[${i}].resource`)), tags };
  }

  slots(v: unknown): GpSlot[] {
    const { resources } = this.bundle(v);
    const clinicians = new Map<string, string>();
    for (const r of resources.filter((x) => x.resourceType === 'Schedule')) {
      const actor = this.s.obj(this.s.arr(r.actor, 'Schedule.actor')[0], 'Schedule.actor[0]');
      clinicians.set(`Schedule/${this.s.str(r.id, 'Schedule.id')}`, this.s.str(actor.display, 'Schedule.actor[0].display'));
    }
    return resources.filter((x) => x.resourceType === 'Slot').map((r, i) => {
      const w = `Slot[${i}]`;
      const sched = this.s.str(this.s.obj(r.schedule, `${w}.schedule`).reference, `${w}.schedule.reference`);
      const clinician = clinicians.get(sched) ?? this.s.wrong(`${w}.schedule ${sched} is not in the bundle`);
      return {
        id: this.s.str(r.id, `${w}.id`), start: this.s.dateTime(r.start, `${w}.start`), end: this.s.dateTime(r.end, `${w}.end`),
        appointmentType: this.s.str(this.s.obj(this.s.arr(r.serviceType, `${w}.serviceType`)[0], `${w}.serviceType[0]`).text, `${w}.serviceType[0].text`),
        clinician, mode: this.s.oneOf(this.s.obj(r.appointmentType, `${w}.appointmentType`).text, modes, `${w}.appointmentType.text`), location: this.s.optStr(r.comment, `${w}.comment`),
      };
    });
  }

  appointment(v: unknown, w = 'Appointment'): GpAppointment {
    const r = this.s.obj(v, w);
    if (r.resourceType !== 'Appointment') this.s.wrong(`${w}.resourceType ${String(r.resourceType)}`);
    const practitioner = this.s.arr(r.participant, `${w}.participant`).map((p) => this.s.obj(p, `${w}.participant[]`)).map((p) => p.actor as Obj | undefined).find((x) => typeof x?.reference === 'string' && (x.reference as string).startsWith('Practitioner/'));
    return {
      id: this.s.str(r.id, `${w}.id`), start: this.s.dateTime(r.start, `${w}.start`), end: this.s.dateTime(r.end, `${w}.end`),
      appointmentType: this.s.str(this.s.obj(this.s.arr(r.serviceType, `${w}.serviceType`)[0], `${w}.serviceType[0]`).text, `${w}.serviceType[0].text`),
      clinician: this.s.str(practitioner?.display, `${w}.participant(Practitioner).display`),
      mode: this.s.oneOf(this.s.obj(r.appointmentType, `${w}.appointmentType`).text, modes, `${w}.appointmentType.text`),
      reason: this.s.optStr(r.description, `${w}.description`),
      status: this.s.oneOf(r.status, { booked: 'booked', cancelled: 'cancelled' } as const, `${w}.status`),
      cancellationReason: this.s.optStr((r.cancelationReason as Obj | undefined)?.text, `${w}.cancelationReason.text`),
    };
  }

  private ext(r: Obj, name: string): Obj | undefined {
    return (Array.isArray(r.extension) ? r.extension : []).find((e) => (e as Obj)?.url === `${EXT}/${name}`) as Obj | undefined;
  }
  private coding(cc: unknown, w: string, system: string): { system: string; code: string; display: string } {
    const c = this.s.obj(this.s.arr(this.s.obj(cc, w).coding, `${w}.coding`)[0], `${w}.coding[0]`);
    if (c.system !== system) this.s.wrong(`${w}.coding[0].system ${String(c.system)} (expected ${system})`);
    return { system, code: this.s.conceptId(c.code, `${w}.coding[0].code`), display: this.s.str(c.display, `${w}.coding[0].display`) };
  }

  repeats(v: unknown): RepeatMedication[] {
    return this.bundle(v).resources.map((r, i) => {
      const w = `MedicationRequest[${i}]`;
      const med = this.coding(r.medicationCodeableConcept, `${w}.medicationCodeableConcept`, DMD);
      const q = r.dispenseRequest ? (this.s.obj(r.dispenseRequest, `${w}.dispenseRequest`).quantity as Obj | undefined) : undefined;
      return {
        id: this.s.str(r.id, `${w}.id`), name: med.display, dmdCode: med.code,
        dose: this.s.str(this.s.obj(this.s.arr(r.dosageInstruction, `${w}.dosageInstruction`)[0], `${w}.dosageInstruction[0]`).text, `${w}.dosageInstruction[0].text`),
        quantity: q ? `${this.s.num(q.value, `${w}.quantity.value`)} ${this.s.optStr(q.unit, `${w}.quantity.unit`) ?? ''}`.trim() : undefined,
        lastIssued: this.s.optDate(this.ext(r, 'last-issued')?.valueDate, `${w}.extension(last-issued)`),
        canRequestNow: this.s.bool(this.ext(r, 'can-request')?.valueBoolean, `${w}.extension(can-request)`),
        cannotRequestReason: this.s.optStr(this.ext(r, 'cannot-request-reason')?.valueString, `${w}.extension(cannot-request-reason)`),
      };
    });
  }

  /** Order MedicationRequests grouped by groupIdentifier are one request; newest first. */
  requests(v: unknown): RepeatRequest[] {
    const groups = new Map<string, RepeatRequest>();
    this.bundle(v).resources.forEach((r, i) => {
      const w = `MedicationRequest[${i}]`;
      const id = this.s.str(this.s.obj(r.groupIdentifier, `${w}.groupIdentifier`).value, `${w}.groupIdentifier.value`);
      const med = this.coding(r.medicationCodeableConcept, `${w}.medicationCodeableConcept`, DMD);
      const basedOn = this.s.str(this.s.obj(this.s.arr(r.basedOn, `${w}.basedOn`)[0], `${w}.basedOn[0]`).reference, `${w}.basedOn[0].reference`).replace(/^MedicationRequest\//, '');
      let g = groups.get(id);
      if (!g) {
        g = {
          id, requestedAt: this.s.dateTime(r.authoredOn, `${w}.authoredOn`), status: this.s.oneOf(r.status, orderStatuses, `${w}.status`),
          rejectionReason: this.s.optStr((r.statusReason as Obj | undefined)?.text, `${w}.statusReason.text`),
          statusChangedAt: this.ext(r, 'status-updated') ? this.s.dateTime(this.ext(r, 'status-updated')!.valueDateTime, `${w}.extension(status-updated)`) : undefined,
          note: this.s.optStr(((Array.isArray(r.note) ? r.note[0] : undefined) as Obj | undefined)?.text, `${w}.note[0].text`), items: [],
        };
        groups.set(id, g);
      }
      g.items.push({ medicationId: basedOn, name: med.display, dmdCode: med.code });
    });
    return [...groups.values()].sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  }

  pharmacy(v: unknown): NominatedPharmacy | undefined {
    const p = this.s.obj(v, 'Parameters');
    if (p.resourceType !== 'Parameters') this.s.wrong(`resourceType ${String(p.resourceType)} (expected Parameters)`);
    const params = this.s.arr(p.parameter ?? [], 'Parameters.parameter').map((x, i) => this.s.obj(x, `parameter[${i}]`));
    const get = (n: string) => params.find((x) => x.name === n);
    const id = get('pharmacy');
    if (!id) return undefined;
    return { odsCode: this.s.str(this.s.obj(id.valueIdentifier, 'pharmacy.valueIdentifier').value, 'pharmacy.valueIdentifier.value'), name: this.s.optStr(get('name')?.valueString, 'name'), address: this.s.optStr(get('address')?.valueString, 'address') };
  }

  record<S extends RecordSection>(section: S, v: unknown): GpRecordSection<S> {
    const { resources, tags } = this.bundle(v);
    const tag = tags.find((t) => t.system === `${EXT}/record-access`);
    const access = this.s.oneOf(tag?.code, accessLevels, 'Bundle.meta.tag(record-access)');
    const type = sectionTypes[section];
    const s = this.s;
    const sct = (cc: unknown, w: string) => this.coding(cc, w, SNOMED);
    const map: { [K in RecordSection]: (r: Obj, w: string) => RecordEntries[K] } = {
      allergies: (r, w) => {
        const reaction = (Array.isArray(r.reaction) ? r.reaction[0] : undefined) as Obj | undefined;
        return { code: sct(r.code, `${w}.code`), recordedDate: s.optDate(r.recordedDate, `${w}.recordedDate`), reaction: s.optStr(((reaction?.manifestation as Obj[] | undefined)?.[0])?.text, `${w}.reaction.manifestation`), severity: s.optStr(reaction?.severity, `${w}.reaction.severity`) };
      },
      medications: (r, w) => {
        const period = (r.effectivePeriod ?? {}) as Obj;
        return { code: this.coding(r.medicationCodeableConcept, `${w}.medicationCodeableConcept`, DMD), dose: s.optStr(((r.dosage as Obj[] | undefined)?.[0])?.text, `${w}.dosage`), status: s.oneOf(r.status, { active: 'current', completed: 'past', stopped: 'past' } as const, `${w}.status`), startDate: s.optDate(period.start, `${w}.effectivePeriod.start`), endDate: s.optDate(period.end, `${w}.effectivePeriod.end`) };
      },
      problems: (r, w) => ({ code: sct(r.code, `${w}.code`), onsetDate: s.optDate(r.onsetDateTime, `${w}.onsetDateTime`), status: s.oneOf(((s.obj(r.clinicalStatus, `${w}.clinicalStatus`).coding as Obj[] | undefined)?.[0])?.code, { active: 'active', resolved: 'resolved', inactive: 'resolved' } as const, `${w}.clinicalStatus`) }),
      immunisations: (r, w) => ({ code: sct(r.vaccineCode, `${w}.vaccineCode`), date: s.date(r.occurrenceDateTime, `${w}.occurrenceDateTime`) }),
      'test-results': (r, w) => {
        const q = s.obj(r.valueQuantity, `${w}.valueQuantity`);
        const range = (Array.isArray(r.referenceRange) ? r.referenceRange[0] : undefined) as Obj | undefined;
        return { code: sct(r.code, `${w}.code`), date: s.date(r.effectiveDateTime, `${w}.effectiveDateTime`), value: s.num(q.value, `${w}.valueQuantity.value`), unit: s.str(q.unit ?? q.code, `${w}.valueQuantity.unit`), referenceRange: range ? { low: s.optNum((range.low as Obj | undefined)?.value, `${w}.referenceRange.low`), high: s.optNum((range.high as Obj | undefined)?.value, `${w}.referenceRange.high`) } : undefined };
      },
      consultations: (r, w) => ({
        id: s.optStr(r.id, `${w}.id`), date: s.date(s.obj(r.period, `${w}.period`).start, `${w}.period.start`),
        clinician: s.optStr((((r.participant as Obj[] | undefined)?.[0])?.individual as Obj | undefined)?.display, `${w}.participant`),
        type: s.str(s.obj(s.arr(r.type, `${w}.type`)[0], `${w}.type[0]`).text, `${w}.type[0].text`),
        summary: s.str(s.obj(r.text, `${w}.text`).div, `${w}.text.div`).replace(/<[^>]*>/g, '').trim(),
        codes: s.arr(r.reasonCode ?? [], `${w}.reasonCode`).map((c, j) => sct(c, `${w}.reasonCode[${j}]`)),
      }),
    };
    const entries = resources.map((r, i) => {
      if (r.resourceType !== type) s.wrong(`entry ${i} resourceType ${String(r.resourceType)} (expected ${type})`);
      return map[section](r, `${type}[${i}]`);
    });
    const visible = s.oneOf(tags.find((t) => t.system === `${EXT}/record-section-visible`)?.code, { true: 'yes', false: 'no' } as const, 'Bundle.meta.tag(record-section-visible)') === 'yes';
    return { section, access, visible, entries: entries as RecordEntries[S][] };
  }
}

class TppAdapter implements GpSystemAdapter {
  readonly system = SYSTEM;
  private readonly http: SupplierHttp;
  private readonly read = new TppReader();

  private readonly policy: PolicyCalls;

  constructor(baseUrl: string, policy: SupplierPolicy, extraHeaders?: Record<string, string>) {
    this.policy = policyCalls(policy);
    this.http = new SupplierHttp(SYSTEM, baseUrl, { accept: FHIR_JSON, ...extraHeaders });
  }

  private auth(l: GpLinkage): Record<string, string> {
    return { authorization: `Bearer ${Buffer.from(`${l.accountId}:${l.linkageKey}:${l.odsCode}`).toString('base64url')}` };
  }

  private async fhir(signal: AbortSignal, method: 'GET' | 'POST' | 'PUT', path: string, l: GpLinkage | undefined, body?: unknown, query?: Record<string, string | undefined>, headers: Record<string, string> = {}): Promise<unknown> {
    const answer = await this.http.call(method, path, {
      signal, query,
      headers: Object.assign({}, l ? this.auth(l) : undefined, body ? { 'content-type': FHIR_JSON } : undefined, headers),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (answer.status >= 400) throw this.read.error(answer);
    return parseJson(SYSTEM, answer);
  }

  link(r: LinkRequest): Promise<GpLinkage> {
    return this.policy.write(async (signal) => {
      const p = this.read.s.obj(await this.fhir(signal, 'POST', '/fhir/Patient/$link', undefined, { resourceType: 'Parameters', parameter: [{ name: 'nhsNumber', valueString: r.nhsNumber }, { name: 'birthDate', valueDate: r.dateOfBirth }, { name: 'odsCode', valueString: r.odsCode }] }), 'Parameters');
      const params = this.read.s.arr(p.parameter, 'Parameters.parameter').map((x) => this.read.s.obj(x, 'parameter'));
      const get = (n: string) => this.read.s.str(params.find((x) => x.name === n)?.valueString, `parameter ${n}`);
      return { accountId: get('accountId'), linkageKey: get('linkageKey'), odsCode: get('odsCode'), nhsNumber: r.nhsNumber };
    });
  }

  searchSlots(l: GpLinkage, q: SlotQuery): Promise<GpSlot[]> {
    return this.policy.read(async (signal) => {
      const path = `/fhir/Slot?start=ge${encodeURIComponent(q.from)}&start=le${encodeURIComponent(q.to)}&status=free&_include=Slot:schedule`;
      return this.read.slots(await this.fhir(signal, 'GET', path, l, undefined, { 'service-type': q.appointmentType, practitioner: q.clinician, 'appointment-type': q.mode }));
    });
  }

  async book(l: GpLinkage, b: BookingRequest, idempotencyKey: string): Promise<GpAppointment> {
    try {
      return await this.policy.write(async (signal) => this.read.appointment(await this.fhir(signal, 'POST', '/fhir/Appointment', l, {
        resourceType: 'Appointment', status: 'booked', description: b.reason, slot: [{ reference: `Slot/${b.slotId}` }],
        participant: [{ actor: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: l.nhsNumber } }, status: 'accepted' }],
      }, undefined, { 'idempotency-key': idempotencyKey })));
    } catch (err) {
      if (err instanceof SlotUnavailableError) throw await slotGone(err.message, () => this.searchSlots(l, nextWeek()));
      throw err;
    }
  }

  cancel(l: GpLinkage, id: string, reason: string): Promise<GpAppointment> {
    return this.policy.write(async (signal) => this.read.appointment(await this.fhir(signal, 'PUT', `/fhir/Appointment/${encodeURIComponent(id)}`, l, { resourceType: 'Appointment', id, status: 'cancelled', cancelationReason: { text: reason } })));
  }

  listAppointments(l: GpLinkage): Promise<AppointmentList> {
    return this.policy.read(async (signal) => splitAppointments(this.read.bundle(await this.fhir(signal, 'GET', '/fhir/Appointment', l, undefined, { patient: l.nhsNumber })).resources.map((r, i) => this.read.appointment(r, `Appointment[${i}]`))));
  }

  listRepeats(l: GpLinkage): Promise<RepeatMedication[]> {
    return this.policy.read(async (signal) => this.read.repeats(await this.fhir(signal, 'GET', '/fhir/MedicationRequest', l, undefined, { intent: 'plan' })));
  }

  async requestRepeats(l: GpLinkage, r: RepeatRequestInput, idempotencyKey: string): Promise<RepeatRequest> {
    return this.policy.write(async (signal) => {
      const made = this.read.requests(await this.fhir(signal, 'POST', '/fhir/MedicationRequest/$order-repeats', l, {
        resourceType: 'Parameters', parameter: [...r.medicationIds.map((id) => ({ name: 'medication', valueReference: { reference: `MedicationRequest/${id}` } })), ...(r.note ? [{ name: 'note', valueString: r.note }] : [])],
      }, undefined, { 'idempotency-key': idempotencyKey }));
      if (made.length !== 1) this.read.s.wrong(`$order-repeats answer holding ${made.length} requests`);
      return made[0];
    });
  }

  listRequests(l: GpLinkage): Promise<RepeatRequest[]> {
    return this.policy.read(async (signal) => this.read.requests(await this.fhir(signal, 'GET', '/fhir/MedicationRequest', l, undefined, { intent: 'order' })));
  }

  getNominatedPharmacy(l: GpLinkage): Promise<NominatedPharmacy | undefined> {
    return this.policy.read(async (signal) => this.read.pharmacy(await this.fhir(signal, 'GET', '/fhir/Patient/$nominated-pharmacy', l)));
  }

  setNominatedPharmacy(l: GpLinkage, odsCode: string): Promise<NominatedPharmacy> {
    return this.policy.write(async (signal) => {
      const p = this.read.pharmacy(await this.fhir(signal, 'POST', '/fhir/Patient/$nominated-pharmacy', l, { resourceType: 'Parameters', parameter: [{ name: 'pharmacy', valueString: odsCode }] }));
      return p ?? this.read.s.wrong('no nominated pharmacy after change');
    });
  }

  getRecord<S extends RecordSection>(l: GpLinkage, section: S): Promise<GpRecordSection<S>> {
    return this.policy.read(async (signal) => this.read.record(section, await this.fhir(signal, 'GET', `/fhir/${sectionTypes[section]}`, l, undefined, { patient: l.nhsNumber })));
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

export const createTppAdapter: GpAdapterFactory = ({ baseUrl, policy, extraHeaders }) => new TppAdapter(baseUrl, policy, extraHeaders);
