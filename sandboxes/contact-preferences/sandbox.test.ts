// Behaviour of the contact preferences sandbox: channels, quiet hours, data opt-out history, versions, replay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { contactPreferencesSandbox } from './sandbox.ts';

const NHS = '9990316767';
let app: FastifyInstance;
before(async () => { app = await contactPreferencesSandbox.build({}); });
after(() => app.close());

describe('contact preferences sandbox', () => {
  it('holds preferences for each demo person and refuses bad input with problem+json', async () => {
    const r = await app.inject({ url: `/v1/people/${NHS}/preferences` });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().data_opt_out.research_and_planning, 'not_opted_out');
    const bad = await app.inject({ method: 'PUT', url: `/v1/people/${NHS}/preferences`, payload: { expected_version: 1, channels: ['pigeon'] } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.headers['content-type'] as string, /problem\+json/);
    assert.equal(bad.json().field, 'channels');
    const quiet = await app.inject({ method: 'PUT', url: `/v1/people/${NHS}/preferences`, payload: { expected_version: 1, channels: ['sms'], quiet_hours: { start: '25:00', end: '07:00' } } });
    assert.equal(quiet.json().field, 'quiet_hours.start');
  });

  it('changes preferences and the opt-out once per request id, with history and conflicts', async () => {
    const ok = await app.inject({ method: 'PUT', url: `/v1/people/${NHS}/preferences`, headers: { 'x-request-id': 'cp-1' }, payload: { expected_version: 1, channels: ['sms', 'email'], quiet_hours: { start: '21:00', end: '08:00' } } });
    assert.equal(ok.json().version, 2);
    const again = await app.inject({ method: 'PUT', url: `/v1/people/${NHS}/preferences`, headers: { 'x-request-id': 'cp-1' }, payload: { expected_version: 1, channels: ['sms', 'email'] } });
    assert.equal(again.json().version, 2);
    const stale = await app.inject({ method: 'PUT', url: `/v1/people/${NHS}/data-opt-out`, payload: { expected_version: 1, research_and_planning: 'opted_out' } });
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json().current.version, 2);
    const out = await app.inject({ method: 'PUT', url: `/v1/people/${NHS}/data-opt-out`, payload: { expected_version: 2, research_and_planning: 'opted_out' } });
    assert.equal(out.json().data_opt_out.research_and_planning, 'opted_out');
    const items = (await app.inject({ url: `/v1/people/${NHS}/history` })).json().items;
    assert.deepEqual(items.map((i: { kind: string; version: number }) => [i.kind, i.version]), [['preferences', 2], ['data_opt_out', 3]]);
  });
});
