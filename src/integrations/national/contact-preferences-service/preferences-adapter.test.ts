// The contact preferences adapter against its sandbox over HTTP: preferences, data opt-out history, conflicts, faults, reconcile.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type RunningSandbox } from '../../../../sandboxes/common/server.ts';
import { contactPreferencesSandbox } from '../../../../sandboxes/contact-preferences/sandbox.ts';
import { SupplierPolicy, SupplierUnavailableError } from '../../resilience.ts';
import { ContactPreferencesError, type ContactPreferencesService } from '../contact-preferences.ts';
import { closeAgencyConnections, newRequestId } from '../http.ts';
import { createContactPreferencesService } from './preferences-adapter.ts';

const NHS = '9990554331';
let sandbox: RunningSandbox;
let cps: ContactPreferencesService;
const faulty = (fault: string) => createContactPreferencesService({ baseUrl: sandbox.url, policy: new SupplierPolicy('contact-preferences', { timeoutMs: 250, readRetries: 1 }), extraHeaders: { 'x-sandbox-fault': fault } });

before(async () => {
  sandbox = await startSandbox(contactPreferencesSandbox, { port: 0 });
  cps = createContactPreferencesService({ baseUrl: sandbox.url, policy: new SupplierPolicy('contact-preferences') });
});
after(async () => { await closeAgencyConnections(); await sandbox.close(); });

describe('contact preferences adapter', () => {
  it('sets channels, quiet hours and the data opt-out, with history', async () => {
    const start = await cps.get(NHS);
    assert.equal(start.dataOptOut.optedOut, false);
    const p = await cps.change(NHS, { action: 'set-preferences', expectedVersion: start.version, requestId: newRequestId(), channels: ['sms', 'app'], quietHours: { start: '22:00', end: '07:30' } });
    assert.deepEqual(p.quietHours, { start: '22:00', end: '07:30' });
    const o = await cps.change(NHS, { action: 'set-data-opt-out', expectedVersion: p.version, requestId: newRequestId(), optedOut: true });
    assert.equal(o.dataOptOut.optedOut, true);
    assert.ok(o.dataOptOut.changedAt);
    const h = await cps.history(NHS);
    assert.deepEqual(h.map((x) => [x.kind, x.version]), [['preferences', p.version], ['data-opt-out', o.version]]);
    assert.equal(h[1].optedOut, true);
  });

  it('raises version-conflict with the current preferences and invalid with the field', async () => {
    const now = await cps.get(NHS);
    await assert.rejects(cps.change(NHS, { action: 'set-data-opt-out', expectedVersion: now.version + 5, requestId: newRequestId(), optedOut: false }),
      (e: unknown) => e instanceof ContactPreferencesError && e.code === 'version-conflict' && e.info.current?.version === now.version);
    await assert.rejects(cps.change(NHS, { action: 'set-preferences', expectedVersion: now.version, requestId: newRequestId(), channels: [], quietHours: null }),
      (e: unknown) => e instanceof ContactPreferencesError && e.code === 'invalid' && e.info.field === 'channels');
    await assert.rejects(cps.get('9434765919'), (e: unknown) => e instanceof ContactPreferencesError && e.code === 'not-found');
  });

  it('reconciles: not applied after a timeout before processing, then applied once on resend with the same id', async () => {
    const now = await cps.get(NHS);
    const intent = { action: 'set-data-opt-out' as const, expectedVersion: now.version, requestId: newRequestId(), optedOut: !now.dataOptOut.optedOut };
    await assert.rejects(faulty('timeout').change(NHS, intent), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'timeout');
    assert.equal((await cps.reconcile(NHS, intent)).outcome, 'not-applied');
    const done = await cps.change(NHS, intent);
    const twice = await cps.change(NHS, intent);
    assert.equal(twice.version, done.version);
    assert.equal((await cps.reconcile(NHS, intent)).outcome, 'applied');
    await assert.rejects(faulty('garbage').get(NHS), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'bad-response');
  });
});
