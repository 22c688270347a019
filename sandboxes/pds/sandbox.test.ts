// Behaviour of the PDS sandbox: reads with ETag, JSON Patch rules, versions, idempotency and its 503.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { pdsSandbox } from './sandbox.ts';

const NHS = '9990079196';
let app: FastifyInstance;
before(async () => { app = await pdsSandbox.build({}); });
after(() => app.close());

const patch = (ops: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'PATCH', url: `/Patient/${NHS}`, headers: { 'content-type': 'application/json-patch+json', ...headers }, payload: JSON.stringify(ops) });
const read = async () => {
  const r = await app.inject({ url: `/Patient/${NHS}` });
  return { etag: r.headers.etag as string, patient: r.json() };
};
const code = (body: { issue: { details: { coding: { code: string }[] } }[] }) => body.issue[0].details.coding[0].code;

describe('pds sandbox', () => {
  it('serves a UK Core patient for every demo person, with a weak ETag', async () => {
    for (const nhs of ['9990079196', '9990237573', '9990316767', '9990395950', '9990475148', '9990554331']) {
      const r = await app.inject({ url: `/Patient/${nhs}` });
      assert.equal(r.statusCode, 200, nhs);
      assert.match(r.headers.etag as string, /^W\/"\d+"$/);
      const p = r.json();
      assert.equal(p.identifier[0].value, nhs);
      assert.ok(p.generalPractitioner[0].identifier.value);
      assert.equal(p.address[0].use, 'home');
    }
  });

  it('answers 400 for an invalid NHS number and 404 for an unknown one', async () => {
    const bad = await app.inject({ url: '/Patient/9990079197' });
    assert.equal(bad.statusCode, 400);
    assert.equal(code(bad.json()), 'INVALID_RESOURCE_ID');
    const unknown = await app.inject({ url: '/Patient/9434765919' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(code(unknown.json()), 'RESOURCE_NOT_FOUND');
  });

  it('needs If-Match (412) and refuses a stale version (409) with a precise outcome', async () => {
    const ops = [{ op: 'replace', path: '/telecom/1/value', value: 'new@example.com' }];
    assert.equal((await patch(ops)).statusCode, 412);
    const stale = await patch(ops, { 'if-match': 'W/"99"' });
    assert.equal(stale.statusCode, 409);
    assert.match(stale.json().issue[0].diagnostics, /current version is W\/"\d+"/);
  });

  it('applies an allowed change, bumps the version and keeps the change once per request id', async () => {
    const { etag } = await read();
    const ops = [{ op: 'replace', path: '/telecom/0/value', value: '07700900999' }];
    const first = await patch(ops, { 'if-match': etag, 'x-request-id': 'req-1' });
    assert.equal(first.statusCode, 200);
    const v = Number(/\d+/.exec(etag)![0]);
    assert.equal(first.headers.etag, `W/"${v + 1}"`);
    const again = await patch(ops, { 'if-match': etag, 'x-request-id': 'req-1' });
    assert.equal(again.statusCode, 200);
    assert.equal(again.headers['x-idempotent-replay'], 'true');
    assert.equal((await read()).etag, `W/"${v + 1}"`);
  });

  it('refuses a change to the name, naming the path and who can change it, and applies nothing', async () => {
    const { etag, patient } = await read();
    const r = await patch([
      { op: 'replace', path: '/telecom/1/value', value: 'x@example.com' },
      { op: 'replace', path: '/name/0/family', value: 'Other' },
    ], { 'if-match': etag });
    assert.equal(r.statusCode, 403);
    const issue = r.json().issue[0];
    assert.deepEqual(issue.expression, ['Patient.name[0].family']);
    assert.match(issue.diagnostics, /GP practice/);
    const now = await read();
    assert.equal(now.etag, etag);
    assert.deepEqual(now.patient, patient);
  });

  it('refuses turning a home address into a work address', async () => {
    const { etag } = await read();
    const r = await patch([{ op: 'replace', path: '/address/0/use', value: 'work' }], { 'if-match': etag });
    assert.equal(r.statusCode, 403);
  });

  it('adds a temporary address of at most 90 days and removes it only after a test', async () => {
    let { etag } = await read();
    const temp = { use: 'temp', line: ['1 Sea Lane'], postalCode: 'BH22 9HB', period: { start: '2026-06-01', end: '2026-10-01' } };
    const tooLong = await patch([{ op: 'add', path: '/address/-', value: temp }], { 'if-match': etag });
    assert.equal(tooLong.statusCode, 400);
    assert.match(tooLong.json().issue[0].diagnostics, /90 days/);
    const okTemp = { ...temp, id: 't1', period: { start: '2026-06-01', end: '2026-08-01' } };
    const added = await patch([{ op: 'add', path: '/address/-', value: okTemp }], { 'if-match': etag });
    assert.equal(added.statusCode, 200);
    etag = added.headers.etag as string;
    const idx = added.json().address.length - 1;
    const untested = await patch([{ op: 'remove', path: `/address/${idx}` }], { 'if-match': etag });
    assert.equal(untested.statusCode, 400);
    assert.match(untested.json().issue[0].diagnostics, /preceded by a "test"/);
    const wrongTest = await patch([{ op: 'test', path: `/address/${idx}/id`, value: 'nope' }, { op: 'remove', path: `/address/${idx}` }], { 'if-match': etag });
    assert.equal(wrongTest.statusCode, 400);
    const removed = await patch([{ op: 'test', path: `/address/${idx}/id`, value: 't1' }, { op: 'remove', path: `/address/${idx}` }], { 'if-match': etag });
    assert.equal(removed.statusCode, 200);
    assert.equal(removed.json().address.some((a: { id?: string }) => a.id === 't1'), false);
  });

  it('answers 503 with Retry-After when a request would take too long', async () => {
    const r = await app.inject({ url: `/Patient/${NHS}`, headers: { 'x-sandbox-fault': 'slow' } });
    assert.equal(r.statusCode, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(code(r.json()), 'SERVICE_UNAVAILABLE');
  });
});
