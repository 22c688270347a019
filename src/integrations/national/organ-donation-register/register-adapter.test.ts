// The organ donation register adapter against its sandbox over HTTP: decisions, conflicts, history, faults, reconcile.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type RunningSandbox } from '../../../../sandboxes/common/server.ts';
import { organDonationSandbox } from '../../../../sandboxes/organ-donation/sandbox.ts';
import { SupplierPolicy, SupplierUnavailableError } from '../../resilience.ts';
import { closeAgencyConnections, newRequestId } from '../http.ts';
import { OrganDonationError, type OrganDonationService } from '../organ-donation.ts';
import { isOutcomeUnknown } from '../write-outcome.ts';
import { createOrganDonationRegister } from './register-adapter.ts';

const NHS = '9990475148';
let sandbox: RunningSandbox;
let odr: OrganDonationService;
const faulty = (fault: string) => createOrganDonationRegister({ baseUrl: sandbox.url, policy: new SupplierPolicy('organ-donation', { timeoutMs: 250, readRetries: 1 }), extraHeaders: { 'x-sandbox-fault': fault } });

before(async () => {
  sandbox = await startSandbox(organDonationSandbox, { port: 0 });
  odr = createOrganDonationRegister({ baseUrl: sandbox.url, policy: new SupplierPolicy('organ-donation') });
});
after(async () => { await closeAgencyConnections(); await sandbox.close(); });

describe('organ donation register adapter', () => {
  it('records, amends, reaffirms and withdraws, leaving no decision and a full history', async () => {
    const start = await odr.get(NHS);
    assert.equal(start.decision, null);
    const some = await odr.change(NHS, { action: 'record', expectedVersion: start.version, requestId: newRequestId(), decision: { kind: 'opt-in', organs: { heart: 'yes', 'small-bowel': 'no' }, faithDeclaration: 'not-applicable' }, religion: 'SIKH' });
    assert.deepEqual(some.decision, { kind: 'opt-in', organs: { heart: 'yes', lungs: 'not-stated', kidneys: 'not-stated', liver: 'not-stated', corneas: 'not-stated', pancreas: 'not-stated', tissue: 'not-stated', 'small-bowel': 'no' }, faithDeclaration: 'not-applicable' });
    assert.equal(some.religion, 'SIKH');
    const rep = await odr.change(NHS, { action: 'record', expectedVersion: some.version, requestId: newRequestId(), decision: { kind: 'representative', representative: { name: 'Jo Harrison', relationship: 'Mother', contact: '07700900333' } } });
    assert.equal(rep.decision?.kind, 'representative');
    const again = await odr.change(NHS, { action: 'reaffirm', expectedVersion: rep.version, requestId: newRequestId() });
    assert.equal(again.version, rep.version + 1);
    const gone = await odr.change(NHS, { action: 'withdraw', expectedVersion: again.version, requestId: newRequestId(), reason: 'Changed my mind' });
    assert.equal(gone.decision, null);
    const history = await odr.history(NHS);
    assert.deepEqual(history.map((h) => h.action), ['recorded', 'amended', 'reaffirmed', 'withdrawn']);
    assert.equal(history[3].withdrawalReason, 'Changed my mind');
    await assert.rejects(odr.change(NHS, { action: 'reaffirm', expectedVersion: gone.version, requestId: newRequestId() }), (e: unknown) => e instanceof OrganDonationError && e.code === 'no-decision');
  });

  it('raises version-conflict carrying what the register holds, and invalid for an unknown organ', async () => {
    const now = await odr.get(NHS);
    await assert.rejects(odr.change(NHS, { action: 'record', expectedVersion: now.version - 1, requestId: newRequestId(), decision: { kind: 'opt-out' } }),
      (e: unknown) => e instanceof OrganDonationError && e.code === 'version-conflict' && e.info.current?.version === now.version);
    const organs = { spleen: 'yes' } as unknown as Record<'heart', 'yes'>;
    await assert.rejects(odr.change(NHS, { action: 'record', expectedVersion: now.version, requestId: newRequestId(), decision: { kind: 'opt-in', organs, faithDeclaration: 'no' } }),
      (e: unknown) => e instanceof OrganDonationError && e.code === 'invalid' && e.info.field === 'organChoices.SPLEEN');
    const refs = await odr.referenceData();
    assert.ok(refs.ethnicities.some((e) => e.code === 'A'));
  });

  it('applies a retried request id once and reconciles an unknown outcome', async () => {
    const now = await odr.get(NHS);
    const intent = { action: 'record' as const, expectedVersion: now.version, requestId: newRequestId(), decision: { kind: 'opt-out' as const } };
    const err = await faulty('late-answer=400').change(NHS, intent).catch((e: unknown) => e);
    assert.ok(isOutcomeUnknown(err));
    await new Promise((r) => setTimeout(r, 450));
    const rec = await odr.reconcile(NHS, intent);
    assert.equal(rec.outcome, 'applied');
    const replay = await odr.change(NHS, intent);
    assert.equal(replay.version, now.version + 1);
    assert.equal((await odr.get(NHS)).version, now.version + 1);
  });

  it('reports faults as SupplierUnavailableError with a reason', async () => {
    await assert.rejects(faulty('timeout').get(NHS), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'timeout');
    await assert.rejects(faulty('garbage').get(NHS), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'bad-response');
    await assert.rejects(faulty('error=503').get(NHS), (e: unknown) => e instanceof SupplierUnavailableError && e.reason === 'server-error');
  });
});
