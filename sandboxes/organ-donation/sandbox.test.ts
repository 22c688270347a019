// Behaviour of the organ donation register sandbox: record, amend, reaffirm, withdraw, versions, history, errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { organDonationSandbox } from './sandbox.ts';

const NHS = '9990237573';
let app: FastifyInstance;
before(async () => { app = await organDonationSandbox.build({}); });
after(() => app.close());

const put = (body: unknown, id?: string) => app.inject({ method: 'PUT', url: `/donors/${NHS}/registration`, payload: body as object, headers: id ? { 'x-request-id': id } : {} });
const post = (what: string, body: unknown) => app.inject({ method: 'POST', url: `/donors/${NHS}/${what}`, payload: body as object });

describe('organ donation sandbox', () => {
  it('starts with no decision, serves reference lists and refuses bad NHS numbers', async () => {
    const r = (await app.inject({ url: `/donors/${NHS}` })).json();
    assert.equal(r.registration, null);
    assert.equal(r.version, 0);
    assert.ok((await app.inject({ url: '/reference/ethnicities' })).json().items.length > 10);
    assert.ok((await app.inject({ url: '/reference/religions' })).json().items.some((x: { code: string }) => x.code === 'SIKH'));
    assert.equal((await app.inject({ url: '/donors/1234567890' })).statusCode, 400);
    assert.equal((await app.inject({ url: '/donors/9434765919' })).statusCode, 404);
  });

  it('refuses an unknown organ and an opt-in without a faith declaration, precisely', async () => {
    const bad = await put({ expectedVersion: 0, decisionType: 'OPT_IN', organScope: 'SOME', organChoices: { SPLEEN: 'YES' }, faithDeclaration: 'NO' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'UNKNOWN_ORGAN');
    assert.equal(bad.json().error.field, 'organChoices.SPLEEN');
    const noFaith = await put({ expectedVersion: 0, decisionType: 'OPT_IN', organScope: 'ALL' });
    assert.equal(noFaith.json().error.code, 'MISSING_FAITH_DECLARATION');
  });

  it('records once per request id, amends, conflicts on a stale version, reaffirms and withdraws', async () => {
    const body = { expectedVersion: 0, decisionType: 'OPT_IN', organScope: 'SOME', organChoices: { HEART: 'YES', CORNEAS: 'NO' }, faithDeclaration: 'YES', ethnicityCode: 'N' };
    const first = await put(body, 'od-1');
    assert.equal(first.statusCode, 200);
    assert.equal(first.json().version, 1);
    assert.equal(first.json().registration.organChoices.LIVER, 'NOT_STATED');
    const replay = await put(body, 'od-1');
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.headers['x-idempotent-replay'], 'true');
    const stale = await put({ ...body, expectedVersion: 0 }, 'od-2');
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json().current.version, 1);
    assert.equal(stale.json().current.registration.decisionType, 'OPT_IN');
    const amended = await put({ expectedVersion: 1, decisionType: 'OPT_OUT' });
    assert.equal(amended.json().registration.decisionType, 'OPT_OUT');
    assert.equal((await post('reaffirm', { expectedVersion: 2 })).json().version, 3);
    assert.equal((await post('withdraw', { expectedVersion: 3 })).json().error.code, 'MISSING_REASON');
    const withdrawn = await post('withdraw', { expectedVersion: 3, reason: 'Want to talk to family first' });
    assert.equal(withdrawn.json().registration, null);
    const h = (await app.inject({ url: `/donors/${NHS}/history` })).json().entries;
    assert.deepEqual(h.map((e: { action: string }) => e.action), ['REGISTERED', 'AMENDED', 'REAFFIRMED', 'WITHDRAWN']);
    assert.equal(h[3].withdrawalReason, 'Want to talk to family first');
    assert.equal((await post('reaffirm', { expectedVersion: 4 })).statusCode, 422);
  });
});
