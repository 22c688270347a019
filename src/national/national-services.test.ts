// Writes whose outcome is unknown: reconciled by reading back, resent only when the read-back proves nothing
// was applied, never twice for one request id; and every agency call audited.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../access/request-context.ts';
import { AuditLog } from '../audit/audit.ts';
import { createContactPreferencesService, createDemographicsService, createOrganDonationService } from '../integrations/national/registry.ts';
import type { DemographicsRecord, DemographicsService, DemographicsUpdate } from '../integrations/national/demographics.ts';
import { newRequestId } from '../integrations/national/http.ts';
import { SupplierPolicy, SupplierUnavailableError } from '../integrations/resilience.ts';
import type { Reconciled } from '../integrations/national/write-outcome.ts';
import type { RunningSystem } from '../system.ts';
import { startTestSystem } from '../testing/factories.ts';
import { NationalServices } from './national-services.ts';

const NHS = '9990554331';

describe('national writes with an unknown outcome', () => {
  let s: RunningSystem;
  before(async () => { s = await startTestSystem({}, { withSandboxes: true }); });
  after(async () => { await s.close(); });

  const ctxFor = (nhsNumber: string) => new RequestContext(`req-${Math.random()}`, { type: 'citizen', sub: 'sub-1', nhsNumber, identityLevel: 'P9' }, new AuditLog(s.db));
  const others = () => ({
    organDonation: createOrganDonationService({ baseUrl: s.supplierUrls['organ-donation'], policy: new SupplierPolicy('od') }),
    contactPreferences: createContactPreferencesService({ baseUrl: s.supplierUrls['contact-preferences'], policy: new SupplierPolicy('cp') }),
  });

  it('a write answered too late is reconciled by reading back, once, and a replay of its id changes nothing', async () => {
    const normal = createDemographicsService({ baseUrl: s.supplierUrls['pds'], policy: new SupplierPolicy('pds-normal') });
    // The agency applies the change but answers after the platform has given up waiting.
    const late = createDemographicsService({ baseUrl: s.supplierUrls['pds'], policy: new SupplierPolicy('pds-late', { timeoutMs: 200 }), extraHeaders: { 'x-sandbox-fault': 'late-answer=1500' } });
    let sent = 0;
    const demographics: DemographicsService = {
      get: (n) => normal.get(n),
      update: (n, u) => { sent++; return late.update(n, u); },
      reconcile: (n, u) => normal.reconcile(n, u),
    };
    const national = new NationalServices(s.db, { demographics, ...others() });
    const before = await normal.get(NHS);
    const requestId = newRequestId();
    const w = await national.changeRecord(ctxFor(NHS), NHS, { kind: 'email', value: 'late@example.com' }, before.version, requestId);
    assert.equal(w.status, 'done');
    assert.equal(sent, 1, 'not resent: the read-back showed it applied');
    const now = await normal.get(NHS);
    assert.equal(now.version, before.version + 1);
    assert.equal(now.email, 'late@example.com');
    const [row] = await s.db.query<{ status: string; result_version: number }>('SELECT status, result_version FROM national_writes WHERE request_id = $1', [requestId]);
    assert.deepEqual(row, { status: 'applied', result_version: before.version + 1 });

    const replay = await national.changeRecord(ctxFor(NHS), NHS, { kind: 'email', value: 'late@example.com' }, before.version, requestId);
    assert.equal(replay.status, 'done');
    assert.equal(replay.status === 'done' && replay.replayed, true);
    assert.equal(sent, 1);
    assert.equal((await normal.get(NHS)).version, before.version + 1);

    const audits = await s.db.query<{ action: string; outcome: string }>("SELECT action, outcome FROM audit_events WHERE subject_nhs_number = $1 AND supplier = 'pds' ORDER BY id", [NHS]);
    assert.ok(audits.some((a) => a.action === 'change' && a.outcome === 'success'));
    assert.ok(audits.some((a) => a.action === 'read'), 'the read-back is audited');
  });

  function fake(reconciled: Reconciled<DemographicsRecord>['outcome'], failFirst = true) {
    const record: DemographicsRecord = { nhsNumber: NHS, version: 7, name: { given: ['A'], family: 'B' }, addresses: [] };
    const calls: DemographicsUpdate[] = [];
    const reconciles: string[] = [];
    const demographics: DemographicsService = {
      get: async () => record,
      update: async (_n, u) => {
        calls.push(u);
        if (failFirst && calls.length === 1) throw new SupplierUnavailableError('pds', 'timeout');
        return { ...record, version: 8, mobile: '07700900000' };
      },
      reconcile: async () => { reconciles.push(reconciled); return { outcome: reconciled, record: reconciled === 'superseded' ? { ...record, version: 9, mobile: '07700900555' } : record } as Reconciled<DemographicsRecord>; },
    };
    return { demographics, calls, reconciles };
  }

  it('resends with the same request id only when the read-back shows nothing was applied', async () => {
    const f = fake('not-applied');
    const national = new NationalServices(s.db, { demographics: f.demographics, ...others() });
    const id = newRequestId();
    const w = await national.changeRecord(ctxFor(NHS), NHS, { kind: 'mobile', value: '07700900000' }, 7, id);
    assert.equal(w.status, 'done');
    assert.equal(f.reconciles.length, 1);
    assert.deepEqual(f.calls.map((c) => c.requestId), [id, id]);
  });

  it('never resends when someone else changed the record meanwhile: the citizen sees it', async () => {
    const f = fake('superseded');
    const national = new NationalServices(s.db, { demographics: f.demographics, ...others() });
    const w = await national.changeRecord(ctxFor(NHS), NHS, { kind: 'mobile', value: '07700900000' }, 7, newRequestId());
    assert.equal(w.status, 'conflict');
    assert.equal(w.status === 'conflict' && w.current.mobile, '07700900555');
    assert.equal(f.calls.length, 1);
  });

  it('refuses another citizen before calling any agency, and audits the denial', async () => {
    const f = fake('applied', false);
    const national = new NationalServices(s.db, { demographics: f.demographics, ...others() });
    await assert.rejects(national.changeRecord(ctxFor('9990079196'), NHS, { kind: 'mobile', value: '07700900000' }, 7, newRequestId()), { name: 'AccessDeniedError' });
    await assert.rejects(national.record(ctxFor('9990079196'), NHS), { name: 'AccessDeniedError' });
    assert.equal(f.calls.length, 0);
  });
});
