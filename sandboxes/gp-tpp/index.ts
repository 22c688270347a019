// Sandbox "gp-tpp": a simulated GP system speaking FHIR R4 in a GP-Connect style (Slot, Schedule, Appointment,
// MedicationRequest, AllergyIntolerance, Observation, Condition, Immunization; OperationOutcome errors with
// GP-Connect-style codes). A simulation of the style, not TPP's real API.
import type { FastifyRequest } from 'fastify';
import type { Appointment as FhirAppointment, Bundle, MedicationRequest, OperationOutcome, Resource } from 'fhir/r4.d.ts';
import type { SandboxDefinition } from '../common/server.ts';
import { gpSandboxApp } from '../gp-common/app.ts';
import { GpWorld, WorldError, recordAccessFor, sectionVisible, type Appointment, type PatientRecord, type Pharmacy, type Section, type WorldErrorCode } from '../gp-common/gp-world.ts';
import { pdsSpine } from '../gp-common/spine.ts';

const SCT = 'http://snomed.info/sct';
const DMD = 'https://dmd.nhs.uk';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const ERR = 'https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1';
const EXT = 'https://frontdoor.example/fhir/StructureDefinition';

const errorCodes: Record<WorldErrorCode, [string, number, OperationOutcome['issue'][number]['code']]> = {
  'no-record': ['NO_RECORD_FOUND', 404, 'not-found'], 'not-matched': ['INVALID_PATIENT_DEMOGRAPHICS', 400, 'invalid'],
  'online-services-disabled': ['ACCESS_DENIED', 403, 'forbidden'], unauthorised: ['INVALID_IDENTITY', 401, 'security'],
  'slot-unavailable': ['DUPLICATE_REJECTED', 409, 'duplicate'], 'slot-in-past': ['SLOT_IN_PAST', 422, 'business-rule'],
  'unknown-appointment-type': ['INVALID_PARAMETER', 422, 'invalid'], 'not-found': ['REFERENCE_NOT_FOUND', 404, 'not-found'],
  'already-cancelled': ['ALREADY_CANCELLED', 409, 'conflict'], 'appointment-in-past': ['APPOINTMENT_IN_PAST', 422, 'business-rule'],
  'not-on-repeat': ['NOT_ON_REPEAT', 422, 'business-rule'], 'too-early': ['REQUEST_TOO_EARLY', 422, 'business-rule'],
  'invalid-pharmacy': ['INVALID_RESOURCE', 422, 'invalid'], 'invalid-request': ['BAD_REQUEST', 400, 'invalid'],
};
const outcome = (code: string, display: string, severity: 'error' | 'fatal', issueCode: OperationOutcome['issue'][number]['code']): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity, code: issueCode, details: { coding: [{ system: ERR, code, display: code }] }, diagnostics: display }],
});
const requestStatus = { requested: 'draft', approved: 'active', rejected: 'stopped', issued: 'completed' } as const;
const sectionTypes: Record<string, Section> = { AllergyIntolerance: 'allergies', MedicationStatement: 'medications', Condition: 'problems', Immunization: 'immunisations', Observation: 'test-results', Encounter: 'consultations' };

const searchset = (resources: Resource[], access?: string, visible = true): Bundle => ({
  resourceType: 'Bundle', type: 'searchset', total: resources.length,
  ...(access ? { meta: { tag: [{ system: `${EXT}/record-access`, code: access }, { system: `${EXT}/record-section-visible`, code: String(visible) }] } } : {}),
  entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource })),
});

export const gpTppSandbox: SandboxDefinition = {
  name: 'gp-tpp',
  description: 'GP system, FHIR R4 GP-Connect style (Slot/Appointment/MedicationRequest…, OperationOutcome errors)',
  async build({ faultMode, spineUrl }) {
    const world = new GpWorld('tpp', { spine: pdsSpine(spineUrl), extraPatients: [{ nhsNumber: '9990000034', birthdate: '1966-06-16', givenName: 'Tess', familyName: 'Tpponly', gpOdsCode: 'E83003' }] });
    const app = gpSandboxApp(faultMode, (status) => ({ contentType: 'application/fhir+json', body: JSON.stringify(outcome(status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', `Simulated failure (${status})`, 'fatal', 'exception')) }));
    app.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, (_req, text, done) => {
      try { done(null, JSON.parse(text as string)); } catch (e) { (e as { statusCode?: number }).statusCode = 400; done(e as Error, undefined); }
    });
    app.setErrorHandler((err, _req, reply) => {
      reply.type('application/fhir+json');
      if (err instanceof WorldError) {
        const [code, status, issue] = errorCodes[err.code];
        return reply.code(status).send(outcome(code, err.message, 'error', issue));
      }
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return reply.code(status).send(outcome(status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR', (err as Error).message, 'error', status < 500 ? 'invalid' : 'exception'));
    });
    app.addHook('onSend', async (_req, reply, payload) => {
      if (!reply.getHeader('content-type')?.toString().includes('fhir')) reply.type('application/fhir+json');
      return payload;
    });

    const patient = (req: FastifyRequest): PatientRecord => {
      const auth = req.headers.authorization ?? '';
      const [acc, key, ods] = Buffer.from(auth.replace(/^Bearer /, ''), 'base64url').toString().split(':');
      return world.authenticate(acc ?? '', key ?? '', ods ?? '');
    };
    const params = (req: FastifyRequest): Record<string, string> => {
      const b = req.body as { resourceType?: string; parameter?: { name: string; valueString?: string; valueCode?: string; valueDate?: string; valueIdentifier?: { value?: string }; valueReference?: { reference?: string } }[] } | undefined;
      if (b?.resourceType !== 'Parameters' || !Array.isArray(b.parameter)) throw new WorldError('invalid-request', 'Expected a Parameters resource');
      const out: Record<string, string> = {};
      for (const p of b.parameter) out[p.name] = p.valueString ?? p.valueCode ?? p.valueDate ?? p.valueIdentifier?.value ?? p.valueReference?.reference ?? '';
      return out;
    };
    const paramList = (req: FastifyRequest, name: string) => ((req.body as { parameter?: { name: string; valueReference?: { reference?: string } }[] }).parameter ?? [])
      .filter((p) => p.name === name).map((p) => (p.valueReference?.reference ?? '').replace(/^MedicationRequest\//, ''));
    const fhirAppt = (a: Appointment): FhirAppointment => ({
      resourceType: 'Appointment', id: a.id, status: a.status,
      start: a.start, end: a.end, created: a.bookedAt, description: a.reason,
      serviceType: [{ text: a.type }], appointmentType: { text: a.mode },
      slot: [{ reference: `Slot/${a.slotId}` }],
      ...(a.cancellationReason ? { cancelationReason: { text: a.cancellationReason } } : {}),
      participant: [
        { actor: { identifier: { system: NHS, value: a.nhsNumber } }, status: 'accepted' },
        { actor: { reference: 'Practitioner/x', display: a.clinician }, status: 'accepted' },
      ],
    });
    const q = (req: FastifyRequest) => req.query as Record<string, string | string[] | undefined>;

    app.post('/fhir/Patient/$link', async (req) => {
      const p = params(req);
      const rec = world.link(p.nhsNumber ?? '', p.birthDate ?? '', p.odsCode ?? '');
      return { resourceType: 'Parameters', parameter: [{ name: 'accountId', valueString: rec.accountId }, { name: 'linkageKey', valueString: rec.linkageKey }, { name: 'odsCode', valueString: rec.odsCode }] };
    });
    app.get('/fhir/Patient', async (req) => {
      const rec = patient(req);
      const id = String(q(req).identifier ?? '').split('|').pop();
      if (id !== rec.nhsNumber) return searchset([]);
      return searchset([{ resourceType: 'Patient', id: rec.nhsNumber, identifier: [{ system: NHS, value: rec.nhsNumber }], name: [{ family: rec.familyName, given: [rec.givenName] }], birthDate: rec.birthdate } as Resource]);
    });

    app.get('/fhir/Slot', async (req) => {
      const rec = patient(req);
      const query = q(req);
      const starts = ([] as string[]).concat(query.start ?? []);
      const from = starts.find((s) => s.startsWith('ge'))?.slice(2);
      const to = starts.find((s) => s.startsWith('le'))?.slice(2);
      const slots = world.searchSlots(rec.odsCode, { from, to, type: query['service-type'] as string | undefined, clinician: query.practitioner as string | undefined, mode: query['appointment-type'] as string | undefined });
      const resources: Resource[] = [];
      const schedules = new Map<string, string>();
      for (const s of slots) {
        const sched = `sched-${s.clinician.replace(/\W+/g, '-').toLowerCase()}`;
        if (!schedules.has(sched)) schedules.set(sched, s.clinician);
        resources.push({ resourceType: 'Slot', id: s.id, status: 'free', start: s.start, end: s.end, schedule: { reference: `Schedule/${sched}` }, serviceType: [{ text: s.type }], appointmentType: { text: s.mode }, comment: s.location } as Resource);
      }
      for (const [id, clinician] of schedules) resources.push({ resourceType: 'Schedule', id, actor: [{ reference: `Practitioner/${id}`, display: clinician }] } as Resource);
      return searchset(resources);
    });
    app.post('/fhir/Appointment', async (req, reply) => {
      const rec = patient(req);
      const b = req.body as FhirAppointment | undefined;
      if (b?.resourceType !== 'Appointment' || !b.slot?.[0]?.reference) throw new WorldError('invalid-request', 'Expected an Appointment with a slot reference');
      const key = req.headers['idempotency-key'];
      const { appointment, replayed } = world.book(rec, b.slot[0].reference.replace(/^Slot\//, ''), b.description ?? '', typeof key === 'string' ? key : undefined);
      return reply.code(replayed ? 200 : 201).send(fhirAppt(appointment));
    });
    app.get('/fhir/Appointment', async (req) => searchset(world.appointmentsFor(patient(req)).map(fhirAppt)));
    app.get('/fhir/Appointment/:id', async (req) => fhirAppt(world.appointment(patient(req), (req.params as { id: string }).id)));
    app.put('/fhir/Appointment/:id', async (req) => {
      const rec = patient(req);
      const b = req.body as FhirAppointment | undefined;
      if (b?.resourceType !== 'Appointment' || b.status !== 'cancelled') throw new WorldError('invalid-request', 'Only cancellation is supported: status must be cancelled');
      return fhirAppt(world.cancel(rec, (req.params as { id: string }).id, b.cancelationReason?.text ?? ''));
    });

    const repeatResource = (rec: PatientRecord, m: PatientRecord['repeats'][number]): MedicationRequest => {
      const can = world.canRequest(rec, m);
      return {
        resourceType: 'MedicationRequest', id: m.id, status: 'active', intent: 'plan', courseOfTherapyType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: 'continuous' }] },
        subject: { identifier: { system: NHS, value: rec.nhsNumber } },
        medicationCodeableConcept: { coding: [{ system: DMD, code: m.dmdCode, display: m.name }], text: m.name },
        dosageInstruction: [{ text: m.dose }], dispenseRequest: { quantity: { value: parseInt(m.quantity, 10), unit: m.quantity.replace(/^\d+\s*/, '') } },
        extension: [
          ...(m.lastIssued ? [{ url: `${EXT}/last-issued`, valueDate: m.lastIssued }] : []),
          { url: `${EXT}/can-request`, valueBoolean: can.ok },
          ...(can.reason ? [{ url: `${EXT}/cannot-request-reason`, valueString: can.reason }] : []),
        ],
      };
    };
    const orderResource = (rec: PatientRecord, r: PatientRecord['requests'][number]): MedicationRequest[] => {
      const s = world.requestStatus(r);
      return r.medicationIds.map((id, i) => {
        const m = rec.repeats.find((x) => x.id === id);
        return {
          resourceType: 'MedicationRequest', id: `${r.id}-${i}`, status: requestStatus[s.status], intent: 'order',
          groupIdentifier: { value: r.id }, authoredOn: new Date(r.requestedAt).toISOString(), basedOn: [{ reference: `MedicationRequest/${id}` }],
          subject: { identifier: { system: NHS, value: rec.nhsNumber } },
          medicationCodeableConcept: { coding: [{ system: DMD, code: m?.dmdCode ?? '', display: m?.name ?? '' }] },
          ...(s.rejectionReason ? { statusReason: { text: s.rejectionReason } } : {}),
          ...(r.note ? { note: [{ text: r.note }] } : {}),
          extension: [{ url: `${EXT}/status-updated`, valueDateTime: new Date(s.updatedAt).toISOString() }],
        };
      });
    };
    app.get('/fhir/MedicationRequest', async (req) => {
      const rec = patient(req);
      if (q(req).intent === 'order') return searchset([...rec.requests].sort((a, b) => b.requestedAt - a.requestedAt).flatMap((r) => orderResource(rec, r)));
      return searchset(rec.repeats.map((m) => repeatResource(rec, m)));
    });
    app.post('/fhir/MedicationRequest/$order-repeats', async (req, reply) => {
      const rec = patient(req);
      const note = params(req).note;
      const key = req.headers['idempotency-key'];
      const { request, replayed } = world.requestRepeats(rec, paramList(req, 'medication'), note || undefined, typeof key === 'string' ? key : undefined);
      return reply.code(replayed ? 200 : 201).send(searchset(orderResource(rec, request)));
    });

    const pharmacyResource = (p: Pharmacy | undefined) => ({
      resourceType: 'Parameters',
      parameter: p ? [{ name: 'pharmacy', valueIdentifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: p.odsCode } }, { name: 'name', valueString: p.name }, { name: 'address', valueString: p.address }] : [],
    });
    app.get('/fhir/Patient/$nominated-pharmacy', async (req) => pharmacyResource(await world.pharmacyOf(patient(req))));
    app.post('/fhir/Patient/$nominated-pharmacy', async (req) => pharmacyResource(await world.setPharmacy(patient(req), params(req).pharmacy ?? '')));

    app.get('/fhir/:type', async (req) => {
      const type = (req.params as { type: string }).type;
      const section = sectionTypes[type];
      if (!section) throw Object.assign(new Error(`Unknown resource type ${type}`), { statusCode: 404 });
      const rec = patient(req);
      const access = recordAccessFor(rec.odsCode);
      if (!sectionVisible(access, section)) return searchset([], access, false);
      const subject = { identifier: { system: NHS, value: rec.nhsNumber } };
      const cc = (code: string, display: string, system = SCT) => ({ coding: [{ system, code, display }], text: display });
      const list: Resource[] = {
        allergies: () => rec.allergies.map((a, i) => ({ resourceType: 'AllergyIntolerance', id: `al-${i}`, patient: subject, code: cc(a.code, a.term), recordedDate: a.recorded, clinicalStatus: cc('active', 'Active', 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical'), ...(a.reaction ? { reaction: [{ manifestation: [{ text: a.reaction }], severity: a.severity }] } : {}) })),
        medications: () => rec.medications.map((m, i) => ({ resourceType: 'MedicationStatement', id: `ms-${i}`, subject, status: m.status === 'current' ? 'active' : 'completed', medicationCodeableConcept: cc(m.code, m.term, DMD), dosage: [{ text: m.dose }], effectivePeriod: { start: m.start, ...(m.end ? { end: m.end } : {}) } })),
        problems: () => rec.problems.map((p, i) => ({ resourceType: 'Condition', id: `pr-${i}`, subject, code: cc(p.code, p.term), onsetDateTime: p.onset, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: p.status }] } })),
        immunisations: () => rec.immunisations.map((v, i) => ({ resourceType: 'Immunization', id: `im-${i}`, status: 'completed', patient: subject, vaccineCode: cc(v.code, v.term), occurrenceDateTime: v.date })),
        'test-results': () => rec.results.map((r, i) => ({ resourceType: 'Observation', id: `ob-${i}`, status: 'final', subject, code: cc(r.code, r.term), effectiveDateTime: r.date, valueQuantity: { value: r.value, unit: r.unit, system: 'http://unitsofmeasure.org', code: r.unit }, ...(r.low !== undefined || r.high !== undefined ? { referenceRange: [{ ...(r.low !== undefined ? { low: { value: r.low, unit: r.unit } } : {}), ...(r.high !== undefined ? { high: { value: r.high, unit: r.unit } } : {}) }] } : {}) })),
        consultations: () => rec.consultations.map((c) => ({ resourceType: 'Encounter', id: c.id, status: 'finished', class: { code: 'AMB' }, subject, type: [{ text: c.type }], period: { start: c.date }, participant: [{ individual: { display: c.clinician } }], reasonCode: c.codes.map((x) => cc(x.code, x.term)), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${c.summary}</div>` } })),
      }[section]() as Resource[];
      return searchset(list, access);
    });
    return app;
  },
};
