// Sandbox "gp-emis": a simulated GP system in an IM1-style proprietary REST/JSON dialect (PascalCase fields,
// session token from the linkage key, numeric error codes). A simulation of the style, not EMIS's real API.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxDefinition } from '../common/server.ts';
import { gpSandboxApp } from '../gp-common/app.ts';
import { GpWorld, WorldError, recordAccessFor, sectionVisible, type Appointment, type PatientRecord, type Pharmacy, type Section, type WorldErrorCode } from '../gp-common/gp-world.ts';
import { pdsSpine } from '../gp-common/spine.ts';

const errorCodes: Record<WorldErrorCode, [number, number]> = {
  'no-record': [1001, 404], 'not-matched': [1002, 403], 'online-services-disabled': [1003, 403], unauthorised: [1100, 401],
  'slot-unavailable': [2001, 409], 'slot-in-past': [2002, 400], 'unknown-appointment-type': [2003, 400], 'not-found': [2004, 404],
  'already-cancelled': [2005, 409], 'appointment-in-past': [2006, 400], 'not-on-repeat': [3001, 400], 'too-early': [3002, 409],
  'invalid-pharmacy': [3003, 400], 'invalid-request': [9000, 400],
};
const channel = { 'in-person': 'FaceToFace', phone: 'Telephone', video: 'Video' } as const;
const channelBack: Record<string, string> = { FaceToFace: 'in-person', Telephone: 'phone', Video: 'video' };
const sectionNames: Record<string, Section> = { Allergies: 'allergies', Medication: 'medications', Problems: 'problems', Immunisations: 'immunisations', TestResults: 'test-results', Consultations: 'consultations' };
const requestStatus = { requested: 'Pending', approved: 'Authorised', rejected: 'Rejected', issued: 'Issued' } as const;

export const gpEmisSandbox: SandboxDefinition = {
  name: 'gp-emis',
  description: 'GP system, IM1-style proprietary REST/JSON (session token, PascalCase, numeric error codes)',
  async build({ faultMode, spineUrl }) {
    const world = new GpWorld('emis', { spine: pdsSpine(spineUrl), extraPatients: [{ nhsNumber: '9990000026', birthdate: '1988-08-08', givenName: 'Edna', familyName: 'Emisonly', gpOdsCode: 'A81001' }] });
    const sessions = new Map<string, PatientRecord>();
    const app = gpSandboxApp(faultMode, (status) => ({ contentType: 'application/json', body: JSON.stringify({ ErrorCode: status === 503 ? 9503 : 9999, Message: `Simulated failure (${status})` }) }));

    app.setErrorHandler((err, _req, reply) => {
      if (err instanceof WorldError) {
        const [code, status] = errorCodes[err.code];
        return reply.code(status).send({ ErrorCode: code, Message: (err as Error).message });
      }
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return reply.code(status).send({ ErrorCode: status < 500 ? 9000 : 9999, Message: (err as Error).message });
    });

    const patient = (req: FastifyRequest): PatientRecord => {
      const token = req.headers['x-session-token'];
      const rec = typeof token === 'string' ? sessions.get(token) : undefined;
      if (!rec) throw new WorldError('unauthorised', 'Session token missing or expired');
      return rec;
    };
    const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    const appt = (a: Appointment) => ({
      AppointmentId: a.id, SlotId: a.slotId, StartTime: a.start, EndTime: a.end, SessionType: a.type, ClinicianName: a.clinician,
      Channel: channel[a.mode], BookingReason: a.reason, Status: a.status === 'booked' ? 'Booked' : 'Cancelled', CancellationReason: a.cancellationReason ?? null,
    });

    app.post('/api/linkage', async (req) => {
      const b = body(req);
      const rec = world.link(str(b.NhsNumber), str(b.DateOfBirth), str(b.OdsCode));
      return { AccountId: rec.accountId, LinkageKey: rec.linkageKey, OdsCode: rec.odsCode };
    });
    app.post('/api/sessions', async (req, reply) => {
      const b = body(req);
      const rec = world.authenticate(str(b.AccountId), str(b.LinkageKey), str(b.OdsCode));
      const token = randomUUID();
      // Sessions are cheap to remake; a bound keeps a long-running sandbox's memory flat.
      if (sessions.size >= 50_000) sessions.clear();
      sessions.set(token, rec);
      return reply.code(201).send({ SessionToken: token, PatientName: `${rec.givenName} ${rec.familyName}` });
    });

    app.get('/api/appointments/slots', async (req) => {
      const rec = patient(req);
      const q = req.query as Record<string, string | undefined>;
      const mode = q.Channel ? channelBack[q.Channel] : undefined;
      if (q.Channel && !mode) throw new WorldError('invalid-request', `Unknown channel ${q.Channel}`);
      const slots = world.searchSlots(rec.odsCode, { from: q.FromDate, to: q.ToDate, type: q.SessionType, clinician: q.Clinician, mode });
      return { Slots: slots.map((s) => ({ SlotId: s.id, StartTime: s.start, EndTime: s.end, SessionType: s.type, ClinicianName: s.clinician, Channel: channel[s.mode], Location: s.location })) };
    });
    app.post('/api/appointments', async (req, reply) => {
      const rec = patient(req);
      const b = body(req);
      const key = req.headers['x-idempotency-key'];
      const { appointment, replayed } = world.book(rec, str(b.SlotId), str(b.BookingReason), typeof key === 'string' ? key : undefined);
      return reply.code(replayed ? 200 : 201).send({ Appointment: appt(appointment) });
    });
    app.get('/api/appointments', async (req) => ({ Appointments: world.appointmentsFor(patient(req)).map(appt) }));
    app.delete('/api/appointments/:id', async (req) => {
      const rec = patient(req);
      const a = world.cancel(rec, (req.params as { id: string }).id, str(body(req).CancellationReason));
      return { Appointment: appt(a) };
    });

    app.get('/api/prescriptions/courses', async (req) => {
      const rec = patient(req);
      return {
        Courses: rec.repeats.map((m) => {
          const can = world.canRequest(rec, m);
          return { CourseGuid: m.id, DrugName: m.name, Dosage: m.dose, Quantity: m.quantity, DmdCode: m.dmdCode, LastIssueDate: m.lastIssued ?? null, CanRequest: can.ok, CannotRequestReason: can.reason ?? null };
        }),
      };
    });
    const requestView = (rec: PatientRecord, r: PatientRecord['requests'][number]) => {
      const s = world.requestStatus(r);
      return {
        RequestGuid: r.id, DateRequested: new Date(r.requestedAt).toISOString(), Comment: r.note ?? null, RequestStatus: requestStatus[s.status],
        RejectionReason: s.rejectionReason ?? null, LastUpdated: new Date(s.updatedAt).toISOString(),
        Courses: r.medicationIds.map((id) => { const m = rec.repeats.find((x) => x.id === id); return { CourseGuid: id, DrugName: m?.name ?? '', DmdCode: m?.dmdCode ?? '' }; }),
      };
    };
    app.post('/api/prescriptions/requests', async (req, reply) => {
      const rec = patient(req);
      const b = body(req);
      const ids = Array.isArray(b.CourseGuids) ? b.CourseGuids.map(str) : [];
      const key = req.headers['x-idempotency-key'];
      const { request, replayed } = world.requestRepeats(rec, ids, typeof b.RequestComment === 'string' ? b.RequestComment : undefined, typeof key === 'string' ? key : undefined);
      return reply.code(replayed ? 200 : 201).send(requestView(rec, request));
    });
    app.get('/api/prescriptions/requests', async (req) => {
      const rec = patient(req);
      return { Requests: [...rec.requests].sort((a, b) => b.requestedAt - a.requestedAt).map((r) => requestView(rec, r)) };
    });
    const pharmacyView = (p: Pharmacy | undefined) => ({ NominatedPharmacy: p ? { OdsCode: p.odsCode, Name: p.name, Address: p.address } : null });
    app.get('/api/pharmacy', async (req) => pharmacyView(await world.pharmacyOf(patient(req))));
    app.put('/api/pharmacy', async (req) => pharmacyView(await world.setPharmacy(patient(req), str(body(req).OdsCode))));

    app.get('/api/record/:section', async (req, reply: FastifyReply) => {
      const rec = patient(req);
      const section = sectionNames[(req.params as { section: string }).section];
      if (!section) throw new WorldError('invalid-request', 'Unknown record section');
      const access = recordAccessFor(rec.odsCode);
      const RecordAccess = access === 'none' ? 'None' : access === 'summary' ? 'Summary' : 'Detailed';
      if (!sectionVisible(access, section)) return reply.send({ RecordAccess, Visible: false, Items: [] });
      const items = {
        allergies: () => rec.allergies.map((a) => ({ Term: a.term, SnomedCode: a.code, Reaction: a.reaction ?? null, Severity: a.severity ?? null, DateRecorded: a.recorded })),
        medications: () => rec.medications.map((m) => ({ DrugName: m.term, DmdCode: m.code, Dosage: m.dose, Status: m.status === 'current' ? 'Current' : 'Past', StartDate: m.start, EndDate: m.end ?? null })),
        problems: () => rec.problems.map((p) => ({ Term: p.term, SnomedCode: p.code, OnsetDate: p.onset, Status: p.status === 'active' ? 'Active' : 'Resolved' })),
        immunisations: () => rec.immunisations.map((i) => ({ Term: i.term, SnomedCode: i.code, DateGiven: i.date })),
        'test-results': () => rec.results.map((r) => ({ Term: r.term, SnomedCode: r.code, Value: r.value, Units: r.unit, RangeLow: r.low ?? null, RangeHigh: r.high ?? null, EffectiveDate: r.date })),
        consultations: () => rec.consultations.map((c) => ({ ConsultationGuid: c.id, Date: c.date, ClinicianName: c.clinician, ConsultationType: c.type, Summary: c.summary, Codes: c.codes.map((x) => ({ Code: x.code, Term: x.term })) })),
      }[section]();
      return { RecordAccess, Visible: true, Items: items };
    });
    return app;
  },
};
