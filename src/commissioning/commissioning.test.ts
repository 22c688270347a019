// Commissioning rules against the fixture ODS data (ICB QMJ: E83003, E83005; QHM: A81001; QVV: J81002): who may
// change what, precise errors that leave the record unchanged, and the citizen catalog following every change.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../audit/audit.ts';
import { listCommissioning } from '../catalog/catalog.ts';
import { GovernanceError, type GovernanceActor } from '../governance/governance-access.ts';
import { loadPracticeDirectory } from '../reference/practice-directory.ts';
import type { RunningSystem } from '../system.ts';
import { startTestSystem } from '../testing/factories.ts';
import { checkCommissioning, commission, decommission, icbCommissioning, todayIso, viewableIcb, type CommissioningDeps, type CommissioningInput } from './commissioning.ts';

const actor = (role: GovernanceActor['roles'][number]['role'], organisation: string): GovernanceActor => ({ sub: `t-${role}-${organisation}`, roles: [{ role, organisation }] });
const qmj = actor('commissioner', 'QMJ');
const qhm = actor('commissioner', 'QHM');
const national = actor('national-team', 'national');
const region = actor('region', 'Y56');

const today = todayIso();
const parts = (iso: string) => ({ year: iso.slice(0, 4), month: String(+iso.slice(5, 7)), day: String(+iso.slice(8, 10)) });
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

let system: RunningSystem;
let deps: CommissioningDeps;
before(async () => {
  system = await startTestSystem();
  deps = { db: system.db, audit: new AuditLog(system.db), practices: await loadPracticeDirectory(system.db), catalog: system.catalog };
});
after(async () => system?.close());

const sees = (practice: string, serviceId: string) => system.catalog.resolve(practice, 'P9').services.some((s) => s.service.id === serviceId);
const rowCount = async () => (await listCommissioning(system.db)).length;

async function refused(fn: () => Promise<unknown>, kind: GovernanceError['kind'], field?: string, message?: RegExp): Promise<GovernanceError> {
  const before = await rowCount();
  const err = await fn().then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof GovernanceError, `expected a GovernanceError, got ${String(err)}`);
  assert.equal(err.kind, kind);
  if (field) assert.ok(field in err.fields, `no error for ${field}: ${JSON.stringify(err.fields)}`);
  if (message) assert.match(field ? err.fields[field] : err.message, message);
  assert.equal(await rowCount(), before, 'the record is unchanged');
  return err;
}

describe('commissioning', () => {
  it('an ICB commissions for chosen practices: only those practices see it, with an audit row before/after', async () => {
    assert.equal(sees('E83003', 'phr-carebook'), false);
    const id = await commission(deps, qmj, { serviceId: 'phr-carebook', scope: 'chosen', practices: ['E83003'], start: parts(today) });
    assert.equal(sees('E83003', 'phr-carebook'), true, 'at once on this node');
    assert.equal(sees('E83005', 'phr-carebook'), false, 'another practice in the ICB');
    assert.equal(sees('A81001', 'phr-carebook'), false, 'a practice in another ICB');
    const [audit] = await system.db.query<{ actor_id: string; organisation: string; detail: { before: unknown; after: { practiceCodes: string[] } } }>(
      `SELECT actor_id, organisation, detail FROM audit_events WHERE resource = $1`, [`commissioning:${id}`]);
    assert.equal(audit.organisation, 'commissioner:QMJ');
    assert.equal(audit.detail.before, null);
    assert.deepEqual(audit.detail.after.practiceCodes, ['E83003']);

    const err = await refused(() => decommission(deps, qhm, id, 'not ours'), 'denied');
    assert.match(err.message, /commissioner of ICB QMJ/);
    await refused(() => decommission(deps, qmj, id, '  '), 'invalid', 'reason', /Enter why/);
    assert.equal(sees('E83003', 'phr-carebook'), true, 'refusals change nothing');

    const { withdrawn } = await decommission(deps, qmj, id, 'Pilot ended');
    assert.equal(withdrawn, true, 'started today, so withdrawn rather than ended');
    assert.equal(sees('E83003', 'phr-carebook'), false);
    const view = await icbCommissioning(deps, qmj, 'QMJ');
    const past = view.past.find((c) => c.id === id);
    assert.ok(past, 'kept in past commissioning');
    assert.equal(past.ended?.reason, 'Pilot ended');
  });

  it('a commissioning that had started is ended yesterday, the row kept as history', async () => {
    const seeded = (await listCommissioning(system.db)).find((c) => c.icbCode === 'QHM' && c.serviceId === 'consult-online-askdoc')!;
    assert.equal(sees('A81001', 'consult-online-askdoc'), true);
    await decommission(deps, qhm, seeded.id, 'Contract not renewed');
    assert.equal(sees('A81001', 'consult-online-askdoc'), false);
    const row = (await listCommissioning(system.db)).find((c) => c.id === seeded.id);
    assert.equal(row?.endDate, inDays(-1));
    await refused(() => decommission(deps, qhm, seeded.id, 'again'), 'conflict');
    const view = await icbCommissioning(deps, qhm, 'QHM');
    assert.equal(view.past.find((c) => c.id === seeded.id)?.ended?.reason, 'Contract not renewed');
  });

  it('all practices, with an end date: every practice in the ICB and no other', async () => {
    const id = await commission(deps, qhm, { serviceId: 'consult-online-triagepoint', scope: 'all', start: parts(today), end: parts(inDays(30)) });
    assert.equal(sees('A81001', 'consult-online-triagepoint'), true);
    assert.equal(sees('J81002', 'consult-online-triagepoint'), false);
    await refused(() => commission(deps, qhm, { serviceId: 'consult-online-triagepoint', scope: 'all', start: parts(today) }), 'invalid', 'serviceId', /already commissions/);
    await decommission(deps, qhm, id, 'Moving to another supplier');
  });

  it('refuses bad input precisely and changes nothing', async () => {
    const base: CommissioningInput = { serviceId: 'phr-carebook', scope: 'chosen', start: parts(inDays(3)) };
    await refused(() => commission(deps, qmj, { ...base, practiceCodes: 'E83003, ZZZ999' }), 'invalid', 'practiceCodes', /^ZZZ999 is not a practice in the ODS directory$/);
    await refused(() => commission(deps, qmj, { ...base, practiceCodes: 'A81001' }), 'invalid', 'practiceCodes', /A81001 \(.+\) is a practice in ICB QHM, not in your ICB QMJ/);
    await refused(() => commission(deps, qmj, { ...base }), 'invalid', 'practices', /Select at least one practice/);
    await refused(() => commission(deps, qmj, { ...base, scope: undefined }), 'invalid', 'scope');
    await refused(() => commission(deps, qmj, { ...base, scope: 'all', start: { day: '31', month: '2', year: '2030' } }), 'invalid', 'start-day', /real date/);
    await refused(() => commission(deps, qmj, { ...base, scope: 'all', start: parts(inDays(-2)) }), 'invalid', 'start-day', /today or in the future/);
    await refused(() => commission(deps, qmj, { ...base, scope: 'all', start: undefined }), 'invalid', 'start-day', /Enter the start date/);
    await refused(() => commission(deps, qmj, { ...base, scope: 'all', end: parts(inDays(3)) }), 'invalid', 'end-day', /after the start date/);
    await refused(() => commission(deps, qmj, { ...base, scope: 'all', serviceId: 'gp-services-emis' }), 'invalid', 'serviceId', /nationally through GP IT Futures/);
    await refused(() => commission(deps, qmj, { ...base, scope: 'all', serviceId: 'nhs-111-online' }), 'invalid', 'serviceId', /live local service/);
    const several = await checkCommissioning(deps, qmj, { ...base, practices: ['E83005'], practiceCodes: 'e83003' }).catch((e: GovernanceError) => e);
    assert.deepEqual((several as { practiceCodes?: string[] }).practiceCodes, ['E83003', 'E83005'], 'ticked and typed codes together, upper-cased');
  });

  it('only commissioners change; the national team sees every ICB; others are refused', async () => {
    await refused(() => commission(deps, region, { serviceId: 'phr-carebook', scope: 'all', start: parts(today) }), 'denied');
    await refused(() => commission(deps, national, { serviceId: 'phr-carebook', scope: 'all', start: parts(today) }), 'denied');
    const gp = (await listCommissioning(system.db)).find((c) => c.icbCode === '*')!;
    await refused(() => decommission(deps, qmj, gp.id, 'no'), 'denied');
    assert.equal(viewableIcb(deps, national, 'QVV'), 'QVV');
    assert.throws(() => viewableIcb(deps, qmj, 'QHM'), GovernanceError);
    assert.throws(() => viewableIcb(deps, region), GovernanceError);
    const nationalView = await icbCommissioning(deps, national, 'QJ2');
    assert.ok(nationalView.current.some((c) => c.serviceId === 'phr-carebook'));
    assert.ok(nationalView.national.length >= 4, 'GP services through GP IT Futures');
  });
});
