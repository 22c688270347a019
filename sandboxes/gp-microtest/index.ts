// Sandbox "gp-microtest": a simulated GP system with a snake_case REST API, cursor pagination (slots,
// appointments, repeats, request history, record sections) and asynchronous booking (202 Accepted + Location,
// then poll the operation). A simulation of the style, not Microtest's real API.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SandboxDefinition } from '../common/server.ts';
import { gpSandboxApp } from '../gp-common/app.ts';
import { GpWorld, WorldError, recordAccessFor, sectionVisible, type Appointment, type PatientRecord, type Pharmacy, type Section, type WorldErrorCode } from '../gp-common/gp-world.ts';
import { pdsSpine } from '../gp-common/spine.ts';

const errors: Record<WorldErrorCode, [string, number]> = {
  'no-record': ['patient_not_registered', 404], 'not-matched': ['demographics_mismatch', 403], 'online-services-disabled': ['online_access_disabled', 403],
  unauthorised: ['invalid_credentials', 401], 'slot-unavailable': ['slot_taken', 409], 'slot-in-past': ['slot_in_past', 422],
  'unknown-appointment-type': ['unknown_appointment_type', 422], 'not-found': ['not_found', 404], 'already-cancelled': ['already_cancelled', 409],
  'appointment-in-past': ['appointment_in_past', 422], 'not-on-repeat': ['not_a_repeat', 422], 'too-early': ['too_early', 422],
  'invalid-pharmacy': ['invalid_pharmacy', 422], 'invalid-request': ['invalid_request', 400],
};
const sectionPaths: Record<string, Section> = { allergies: 'allergies', medications: 'medications', problems: 'problems', immunisations: 'immunisations', 'test-results': 'test-results', consultations: 'consultations' };
/** How long a booking operation stays "pending" before its outcome is known. */
const BOOKING_SETTLE_MS = 15;

interface Operation { id: string; nhsNumber: string; createdAt: number; outcome: { appointment: Appointment } | { error: WorldError } }

export const gpMicrotestSandbox: SandboxDefinition = {
  name: 'gp-microtest',
  description: 'GP system, REST with cursor pagination and asynchronous booking (202 + poll)',
  async build({ faultMode, spineUrl }) {
    const world = new GpWorld('microtest', { spine: pdsSpine(spineUrl), extraPatients: [{ nhsNumber: '9990000050', birthdate: '1995-05-25', givenName: 'Milo', familyName: 'Microonly', gpOdsCode: 'J81002', onlineServices: false }] });
    const operations = new Map<string, Operation>();
    const opKeys = new Map<string, string>();
    const app = gpSandboxApp(faultMode, (status) => ({ contentType: 'application/json', body: JSON.stringify({ error: { code: status >= 500 ? 'internal_error' : 'bad_request', message: `Simulated failure (${status})` } }) }));
    app.setErrorHandler((err, _req, reply) => {
      if (err instanceof WorldError) {
        const [code, status] = errors[err.code];
        return reply.code(status).send({ error: { code, message: (err as Error).message } });
      }
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return reply.code(status).send({ error: { code: status < 500 ? 'invalid_request' : 'internal_error', message: (err as Error).message } });
    });

    const patient = (req: FastifyRequest): PatientRecord => {
      const [acc, key] = (req.headers.authorization ?? '').replace(/^Linkage /, '').split('.');
      return world.authenticate(acc ?? '', key ?? '', (req.params as { ods?: string }).ods ?? '');
    };
    const q = (req: FastifyRequest) => req.query as Record<string, string | undefined>;
    /** Opaque cursors: base64url of the next offset. */
    const page = <T,>(req: FastifyRequest, items: T[], extra: Record<string, unknown> = {}) => {
      const limit = Math.min(Math.max(Number(q(req).limit ?? 50) || 50, 1), 200);
      let offset = 0;
      if (q(req).cursor) {
        offset = Number(Buffer.from(q(req).cursor!, 'base64url').toString());
        if (!Number.isInteger(offset) || offset < 0) throw new WorldError('invalid-request', 'Cursor is not valid');
      }
      const data = items.slice(offset, offset + limit);
      const next = offset + limit < items.length ? Buffer.from(String(offset + limit)).toString('base64url') : null;
      return { ...extra, data, next_cursor: next };
    };
    const appt = (a: Appointment) => ({ id: a.id, slot_id: a.slotId, starts_at: a.start, ends_at: a.end, appointment_type: a.type, clinician: a.clinician, mode: a.mode.replace('-', '_'), reason: a.reason, state: a.status, cancellation_reason: a.cancellationReason ?? null });
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, unknown>;

    app.post('/v2/link', async (req, reply) => {
      const b = body(req);
      const rec = world.link(str(b.nhs_number), str(b.date_of_birth), str(b.practice_ods));
      return reply.code(201).send({ account_id: rec.accountId, linkage_key: rec.linkageKey, practice_ods: rec.odsCode });
    });
    app.get('/v2/practices/:ods/slots', async (req) => {
      const rec = patient(req);
      const x = q(req);
      const slots = world.searchSlots(rec.odsCode, { from: x.from, to: x.to, type: x.appointment_type, clinician: x.clinician, mode: x.mode?.replace('_', '-') });
      return page(req, slots.map((s) => ({ id: s.id, starts_at: s.start, ends_at: s.end, appointment_type: s.type, clinician: s.clinician, mode: s.mode.replace('-', '_'), location: s.location })));
    });
    app.post('/v2/practices/:ods/bookings', async (req, reply) => {
      const rec = patient(req);
      const b = body(req);
      const key = req.headers['idempotency-key'];
      const k = typeof key === 'string' ? `${rec.nhsNumber}|${key}` : undefined;
      let op = k ? operations.get(opKeys.get(k) ?? '') : undefined;
      if (!op) {
        let outcome: Operation['outcome'];
        try {
          outcome = { appointment: world.book(rec, str(b.slot_id), str(b.reason), typeof key === 'string' ? key : undefined).appointment };
        } catch (err) {
          if (!(err instanceof WorldError)) throw err;
          outcome = { error: err };
        }
        // Settled operations are kept ten minutes for polling; a bound keeps a long run's memory flat.
        if (operations.size >= 20_000) for (const [id, o] of operations) if (Date.now() - o.createdAt > 600_000) operations.delete(id);
        op = { id: randomUUID(), nhsNumber: rec.nhsNumber, createdAt: Date.now(), outcome };
        operations.set(op.id, op);
        if (k) opKeys.set(k, op.id);
      }
      const location = `/v2/practices/${rec.odsCode}/booking-operations/${op.id}`;
      return reply.code(202).header('location', location).header('retry-after', '0').send({ operation_id: op.id, status: 'pending' });
    });
    app.get('/v2/practices/:ods/booking-operations/:id', async (req, reply) => {
      const rec = patient(req);
      const op = operations.get((req.params as { id: string }).id);
      if (!op || op.nhsNumber !== rec.nhsNumber) throw new WorldError('not-found', 'No such booking operation');
      if (Date.now() - op.createdAt < BOOKING_SETTLE_MS) return reply.header('retry-after', '0').send({ operation_id: op.id, status: 'pending' });
      if ('error' in op.outcome) {
        const [code] = errors[op.outcome.error.code];
        return { operation_id: op.id, status: 'failed', error: { code, message: op.outcome.error.message } };
      }
      return { operation_id: op.id, status: 'succeeded', appointment: appt(op.outcome.appointment) };
    });
    app.get('/v2/practices/:ods/appointments', async (req) => page(req, world.appointmentsFor(patient(req)).map(appt)));
    app.post('/v2/practices/:ods/appointments/:id/cancel', async (req) => appt(world.cancel(patient(req), (req.params as { id: string }).id, str(body(req).reason))));

    app.get('/v2/practices/:ods/repeat-medications', async (req) => {
      const rec = patient(req);
      return page(req, rec.repeats.map((m) => { const can = world.canRequest(rec, m); return { id: m.id, dmd_code: m.dmdCode, name: m.name, dosage: m.dose, quantity: m.quantity, last_issued_on: m.lastIssued ?? null, orderable: can.ok, not_orderable_reason: can.reason ?? null }; }));
    });
    const requestJson = (rec: PatientRecord, r: PatientRecord['requests'][number]) => {
      const s = world.requestStatus(r);
      return {
        id: r.id, requested_at: new Date(r.requestedAt).toISOString(), status: s.status, rejection_reason: s.rejectionReason ?? null, status_changed_at: new Date(s.updatedAt).toISOString(), note: r.note ?? null,
        items: r.medicationIds.map((id) => { const m = rec.repeats.find((x) => x.id === id); return { medication_id: id, name: m?.name ?? '', dmd_code: m?.dmdCode ?? '' }; }),
      };
    };
    app.post('/v2/practices/:ods/medication-requests', async (req, reply) => {
      const rec = patient(req);
      const b = body(req);
      const key = req.headers['idempotency-key'];
      const ids = Array.isArray(b.medication_ids) ? b.medication_ids.map(str) : [];
      const { request, replayed } = world.requestRepeats(rec, ids, typeof b.note === 'string' ? b.note : undefined, typeof key === 'string' ? key : undefined);
      return reply.code(replayed ? 200 : 201).send(requestJson(rec, request));
    });
    app.get('/v2/practices/:ods/medication-requests', async (req) => {
      const rec = patient(req);
      return page(req, [...rec.requests].sort((a, b) => b.requestedAt - a.requestedAt).map((r) => requestJson(rec, r)));
    });
    const pharmacyJson = (p: Pharmacy | undefined) => ({ pharmacy: p ? { ods_code: p.odsCode, name: p.name, address: p.address } : null });
    app.get('/v2/practices/:ods/nominated-pharmacy', async (req) => pharmacyJson(await world.pharmacyOf(patient(req))));
    app.put('/v2/practices/:ods/nominated-pharmacy', async (req) => pharmacyJson(await world.setPharmacy(patient(req), str(body(req).ods_code))));

    app.get('/v2/practices/:ods/record/:section', async (req) => {
      const rec = patient(req);
      const section = sectionPaths[(req.params as { section: string }).section];
      if (!section) throw new WorldError('not-found', 'Unknown record section');
      const access = recordAccessFor(rec.odsCode);
      if (!sectionVisible(access, section)) return { record_access: access, visible: false, data: [], next_cursor: null };
      const items: unknown[] = {
        allergies: () => rec.allergies.map((a) => ({ snomed_code: a.code, term: a.term, reaction: a.reaction ?? null, severity: a.severity ?? null, recorded_on: a.recorded })),
        medications: () => rec.medications.map((m) => ({ dmd_code: m.code, name: m.term, dosage: m.dose, current: m.status === 'current', started_on: m.start, ended_on: m.end ?? null })),
        problems: () => rec.problems.map((p) => ({ snomed_code: p.code, term: p.term, onset_on: p.onset, active: p.status === 'active' })),
        immunisations: () => rec.immunisations.map((v) => ({ snomed_code: v.code, term: v.term, given_on: v.date })),
        'test-results': () => rec.results.map((r) => ({ snomed_code: r.code, term: r.term, value: r.value, unit: r.unit, reference_low: r.low ?? null, reference_high: r.high ?? null, taken_on: r.date })),
        consultations: () => rec.consultations.map((c) => ({ id: c.id, on: c.date, clinician: c.clinician, kind: c.type, summary: c.summary, codes: c.codes.map((x) => ({ snomed_code: x.code, term: x.term })) })),
      }[section]();
      return page(req, items, { record_access: access, visible: true });
    });
    return app;
  },
};
