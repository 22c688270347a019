// The PDS adapter against the PDS sandbox over HTTP: reads, guarded patches, domain errors, faults and reconcile.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type RunningSandbox } from '../../../../sandboxes/common/server.ts';
import { pdsSandbox } from '../../../../sandboxes/pds/sandbox.ts';
import { SupplierPolicy, SupplierUnavailableError } from '../../resilience.ts';
import { DemographicsError, type DemographicsService } from '../demographics.ts';
import { closeAgencyConnections, newRequestId } from '../http.ts';
import { isOutcomeUnknown } from '../write-outcome.ts';
import { createPdsDemographics } from './pds-demographics.ts';

const NHS = '9990395950';
let sandbox: RunningSandbox;
let pds: DemographicsService;
const faulty = (fault: string, timeoutMs = 250) =>
  createPdsDemographics({ baseUrl: sandbox.url, policy: new SupplierPolicy('pds', { timeoutMs, readRetries: 1 }), extraHeaders: { 'x-sandbox-fault': fault } });

before(async () => {
  sandbox = await startSandbox(pdsSandbox, { port: 0 });
  pds = createPdsDemographics({ baseUrl: sandbox.url, policy: new SupplierPolicy('pds') });
});
after(async () => { await closeAgencyConnections(); await sandbox.close(); });

describe('PDS demographics adapter', () => {
  it('reads the record with its version', async () => {
    const r = await pds.get(NHS);
    assert.equal(r.nhsNumber, NHS);
    assert.equal(r.name.family, 'Nowak');
    assert.equal(r.gpOdsCode, 'J81002');
    assert.equal(r.homeAddress?.postcode, 'BH22 9HB');
    assert.ok(r.version >= 1);
  });

  it('maps unknown and invalid NHS numbers to domain errors', async () => {
    await assert.rejects(pds.get('9434765919'), (e: unknown) => e instanceof DemographicsError && e.code === 'not-found');
    await assert.rejects(pds.get('9990395951'), (e: unknown) => e instanceof DemographicsError && e.code === 'invalid');
  });

  it('applies several changes at once and removes a temporary address with a guarded patch', async () => {
    const v = (await pds.get(NHS)).version;
    const updated = await pds.update(NHS, {
      expectedVersion: v,
      requestId: newRequestId(),
      changes: [
        { kind: 'mobile', value: '07700900555' },
        { kind: 'email', value: 'tomasz@example.com' },
        { kind: 'temporary-address', address: { lines: ['2 Quay Road'], city: 'Christchurch', postcode: 'BH23 1BU' }, from: '2026-12-01', to: '2027-01-15' },
        { kind: 'emergency-contact', contact: { name: 'Ola Nowak', relationship: 'Sister', phone: '07700900222' } },
        { kind: 'language', code: 'pl', display: 'Polish' },
      ],
    });
    assert.equal(updated.version, v + 1);
    assert.equal(updated.mobile, '07700900555');
    assert.equal(updated.temporaryAddress?.postcode, 'BH23 1BU');
    assert.equal(updated.emergencyContact?.name, 'Ola Nowak');
    assert.equal(updated.language?.code, 'pl');
    const removed = await pds.update(NHS, { expectedVersion: updated.version, requestId: newRequestId(), changes: [{ kind: 'remove-temporary-address' }, { kind: 'nominated-pharmacy', odsCode: null }] });
    assert.equal(removed.temporaryAddress, undefined);
    assert.equal(removed.nominatedPharmacyOdsCode, undefined);
    assert.equal(removed.homeAddress?.postcode, 'BH22 9HB');
  });

  it('raises version-conflict with the current record for a stale version', async () => {
    const current = await pds.get(NHS);
    await assert.rejects(
      pds.update(NHS, { expectedVersion: current.version - 1, requestId: newRequestId(), changes: [{ kind: 'mobile', value: '07700900556' }] }),
      (e: unknown) => e instanceof DemographicsError && e.code === 'version-conflict' && e.info.current?.version === current.version,
    );
  });

  it('raises not-allowed naming the path and who can change it', async () => {
    const current = await pds.get(NHS);
    await assert.rejects(
      pds.update(NHS, { expectedVersion: current.version, requestId: newRequestId(), changes: [{ kind: 'mobile', value: '07700900557' }, { kind: 'restricted', field: 'birthDate', value: '1980-01-01' }] }),
      (e: unknown) => e instanceof DemographicsError && e.code === 'not-allowed' && e.info.path === 'Patient.birthDate' && /GP practice/.test(e.info.whoCanChange ?? ''),
    );
    assert.equal((await pds.get(NHS)).version, current.version);
  });

  it('does not apply a retried request id twice', async () => {
    const current = await pds.get(NHS);
    const update = { expectedVersion: current.version, requestId: newRequestId(), changes: [{ kind: 'email' as const, value: 'once@example.com' }] };
    const first = await pds.update(NHS, update);
    const retry = await pds.update(NHS, update);
    assert.equal(retry.version, first.version);
    assert.equal((await pds.get(NHS)).version, current.version + 1);
  });

  it('reports a timeout within bound, garbage as bad-response and the slow 503 as server-error', async () => {
    const started = performance.now();
    await assert.rejects(faulty('timeout').get(NHS), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'timeout');
    assert.ok(performance.now() - started < 1500);
    await assert.rejects(faulty('garbage').get(NHS), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'bad-response');
    await assert.rejects(faulty('slow').get(NHS), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'server-error' && /retry after/.test(e.message));
  });

  it('reconciles a write whose outcome is unknown by reading back', async () => {
    let current = await pds.get(NHS); // also primes the patient the faulty adapter builds its patch from
    const lost = { expectedVersion: current.version, requestId: newRequestId(), changes: [{ kind: 'mobile' as const, value: '07700900558' }] };
    // Never reaches the handler: the outcome is unknown to the caller, but nothing was applied.
    const err = await faulty('timeout').update(NHS, lost).catch((e: unknown) => e);
    assert.ok(isOutcomeUnknown(err));
    const notApplied = await pds.reconcile(NHS, lost);
    assert.equal(notApplied.outcome, 'not-applied');
    // Reaches the handler after the caller gave up: applied although the caller saw a timeout.
    await pds.get(NHS);
    const late = { ...lost, requestId: newRequestId() };
    const err2 = await faulty('late-answer=400').update(NHS, late).catch((e: unknown) => e);
    assert.ok(isOutcomeUnknown(err2));
    await new Promise((r) => setTimeout(r, 500));
    const applied = await pds.reconcile(NHS, late);
    assert.equal(applied.outcome, 'applied');
    assert.equal(applied.record.mobile, '07700900558');
    current = applied.record;
    // Someone else changed it differently first.
    await pds.update(NHS, { expectedVersion: current.version, requestId: newRequestId(), changes: [{ kind: 'mobile', value: '07700900559' }] });
    const superseded = await pds.reconcile(NHS, { expectedVersion: current.version, requestId: newRequestId(), changes: [{ kind: 'mobile', value: '07700900560' }] });
    assert.equal(superseded.outcome, 'superseded');
  });
});
