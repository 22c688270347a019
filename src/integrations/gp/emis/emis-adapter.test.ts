// The emis adapter's reading of bad answers: wrong shapes, unknown codes and 5xx become supplier failures, never crashes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { SupplierPolicy, SupplierUnavailableError } from '../../resilience.ts';
import { GpDomainError, SlotUnavailableError } from '../contract.ts';
import { EmisReader, createEmisAdapter } from './emis-adapter.ts';

const answer = (status: number, body: unknown) => ({ status, headers: {}, text: typeof body === 'string' ? body : JSON.stringify(body) });
const isBad = (reason = 'bad-response') => (e: unknown) => e instanceof SupplierUnavailableError && e.reason === reason;

describe('emis reader', () => {
  const r = new EmisReader();
  it('maps known error codes to domain errors and the slot conflict to SlotUnavailableError', () => {
    const e = r.error(answer(409, { ErrorCode: 2001, Message: 'gone' }));
    assert.ok(e instanceof SlotUnavailableError);
    const nf = r.error(answer(404, { ErrorCode: 2004, Message: 'nope' }));
    assert.ok(nf instanceof GpDomainError && nf.code === 'not-found');
  });
  it('treats unknown codes, non-JSON errors and 5xx as supplier failures', () => {
    assert.ok(isBad()(r.error(answer(400, { ErrorCode: 7777 }))));
    assert.ok(isBad()(r.error(answer(400, '<html>'))));
    assert.ok(isBad('server-error')(r.error(answer(503, { ErrorCode: 2001 }))));
  });
  it('rejects slots, appointments and record items of the wrong shape, naming the field', () => {
    assert.throws(() => r.slot({ SlotId: 's1', StartTime: 'soon', EndTime: '2026-01-01T10:00:00Z', SessionType: 'x', ClinicianName: 'y', Channel: 'FaceToFace' }, 0), (e: unknown) => isBad()(e) && /StartTime/.test((e as Error).message));
    assert.throws(() => r.slot({ SlotId: 's1', StartTime: '2026-01-01T09:00:00Z', EndTime: '2026-01-01T10:00:00Z', SessionType: 'x', ClinicianName: 'y', Channel: 'Carrier pigeon' }, 0), isBad());
    assert.throws(() => r.appointment({ AppointmentId: 'a', Status: 'Maybe' }), isBad());
    assert.throws(() => r.repeat({ CourseGuid: 'c', DrugName: 'd', Dosage: 'x', DmdCode: 'not-a-code', CanRequest: true }, 0), (e: unknown) => isBad()(e) && /DmdCode/.test((e as Error).message));
    assert.throws(() => r.record('allergies', { RecordAccess: 'Everything', Visible: true, Items: [] }), isBad());
    assert.throws(() => r.record('test-results', { RecordAccess: 'Detailed', Visible: true, Items: [{ Term: 'x', SnomedCode: '271649006', Value: 'high', Units: 'mm', EffectiveDate: '2026-01-01' }] }), isBad());
  });
  it('reads a well-formed record section', () => {
    const s = r.record('problems', { RecordAccess: 'Summary', Visible: false, Items: [] });
    assert.deepEqual(s, { section: 'problems', access: 'summary', visible: false, entries: [] });
  });
});

describe('emis adapter against a supplier answering nonsense', () => {
  it('gives bad-response for a 200 of the wrong shape, and never books twice on its own', async () => {
    let bookings = 0;
    const app = Fastify({ logger: false });
    app.post('/api/sessions', async () => ({ SessionToken: 't' }));
    app.get('/api/appointments/slots', async () => ({ Slots: 'none today' }));
    app.post('/api/appointments', async () => { bookings++; return { Appointment: { AppointmentId: 42 } }; });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const adapter = createEmisAdapter({ baseUrl: url, policy: new SupplierPolicy('emis-test', { readRetries: 0 }) });
      const l = { accountId: 'a', linkageKey: 'k', odsCode: 'A81001', nhsNumber: '9990079196' };
      await assert.rejects(adapter.searchSlots(l, { from: new Date().toISOString(), to: new Date().toISOString() }), (e: unknown) => isBad()(e) && /Slots should be a list/.test((e as Error).message));
      await assert.rejects(adapter.book(l, { slotId: 's', reason: 'r' }, 'k1'), isBad());
      assert.equal(bookings, 1);
    } finally {
      await app.close();
    }
  });
});
