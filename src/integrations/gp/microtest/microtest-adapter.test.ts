// The microtest adapter against bad answers: cursors that loop, bookings that never settle, wrong shapes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { SupplierPolicy, SupplierUnavailableError } from '../../resilience.ts';
import { GpDomainError } from '../contract.ts';
import { MicrotestReader, createMicrotestAdapter } from './microtest-adapter.ts';

const isBad = (reason = 'bad-response') => (e: unknown) => e instanceof SupplierUnavailableError && e.reason === reason;
const l = { accountId: 'a', linkageKey: 'k', odsCode: 'A81001', nhsNumber: '9990079196' };

describe('microtest reader', () => {
  const r = new MicrotestReader();
  it('maps error codes; unknown ones are supplier failures', () => {
    const e = r.error({ status: 422, headers: {}, text: JSON.stringify({ error: { code: 'not_a_repeat', message: 'no' } }) });
    assert.ok(e instanceof GpDomainError && e.code === 'not-on-repeat');
    assert.ok(isBad()(r.error({ status: 422, headers: {}, text: JSON.stringify({ error: { code: 'mystery' } }) })));
  });
  it('rejects pages without data or with a non-string cursor', () => {
    assert.throws(() => r.page({ items: [] }), isBad());
    assert.throws(() => r.page({ data: [], next_cursor: 7 }), isBad());
  });
});

describe('microtest adapter against a misbehaving supplier', () => {
  it('stops following a cursor that repeats, and polls a never-settling booking only a bounded number of times', async () => {
    let polls = 0;
    const app = Fastify({ logger: false });
    app.get('/v2/practices/:ods/slots', async () => ({ data: [], next_cursor: 'same' }));
    app.post('/v2/practices/:ods/bookings', async (_req, reply) => reply.code(202).header('location', '/v2/practices/A81001/booking-operations/op1').send({ status: 'pending' }));
    app.get('/v2/practices/:ods/booking-operations/:id', async () => { polls++; return { status: 'pending' }; });
    app.post('/v2/practices/:ods/medication-requests', async (_req, reply) => reply.code(201).send({ id: 'r', status: 'lost in the post' }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const adapter = createMicrotestAdapter({ baseUrl: url, policy: new SupplierPolicy('microtest-test', { readRetries: 0, timeoutMs: 5000 }) });
      await assert.rejects(adapter.searchSlots(l, { from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z' }), (e: unknown) => isBad()(e) && /repeats/.test((e as Error).message));
      await assert.rejects(adapter.book(l, { slotId: 's', reason: 'r' }, 'k'), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'timeout' && /pending/.test(e.message));
      assert.ok(polls > 1 && polls <= 100, `${polls} polls`);
      await assert.rejects(adapter.requestRepeats(l, { medicationIds: ['m'] }, 'k2'), isBad());
    } finally {
      await app.close();
    }
  });
});
