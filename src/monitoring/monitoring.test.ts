// Monitoring figures and service levels: a real resilience policy's rolling window, breaches in words, and which
// services each role is shown.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GovernanceError, type GovernanceActor } from '../governance/governance-access.ts';
import { SupplierDomainError, SupplierPolicies, SupplierPolicy } from '../integrations/resilience.ts';
import { loadPracticeDirectory } from '../reference/practice-directory.ts';
import type { RunningSystem } from '../system.ts';
import { startTestSystem } from '../testing/factories.ts';
import { assess, CONNECTIONS, monitoringView } from './monitoring.ts';
import { DEFAULT_SERVICE_LEVEL, serviceLevelFor } from './service-levels.ts';

const actor = (role: GovernanceActor['roles'][number]['role'], organisation: string): GovernanceActor => ({ sub: 't', roles: [{ role, organisation }] });

describe('resilience figures', () => {
  it('keeps a rolling window of outcomes; business answers are not faults; the breaker opens on faults', async () => {
    const p = new SupplierPolicy('gp-test', { breakAfter: 3, readRetries: 1, timeoutMs: 500 });
    for (let i = 0; i < 4; i++) await p.read(async () => 'ok');
    await assert.rejects(p.write(async () => { throw new SupplierDomainError('gone', 'slot gone'); }));
    let f = p.figures();
    assert.equal(f.windowCalls, 5);
    assert.equal(f.windowFailures, 0);
    assert.equal(f.successRate, 1);
    assert.equal(f.breaker, 'closed');
    for (let i = 0; i < 3; i++) await assert.rejects(p.write(async () => { throw new Error('boom'); }));
    f = p.figures();
    assert.equal(f.windowFailures, 3);
    assert.equal(f.successRate, 5 / 8);
    assert.equal(f.breaker, 'open');
    assert.ok(f.p99Ms >= f.p50Ms);
    const status = assess(CONNECTIONS['gp-emis'], f);
    assert.equal(status.health, 'breaching');
    assert.match(status.breaches.join('; '), /success rate 62\.5% is below the agreed 99\.0%/);
    assert.match(status.breaches.join('; '), /circuit breaker is open/);
  });

  it('flags slow p99 against the agreed level, per connection where agreed differently', () => {
    const figures = { supplier: 'pds', calls: 100, failures: 0, windowCalls: 100, windowFailures: 0, successRate: 1, p50Ms: 100, p95Ms: 900, p99Ms: 1200, breaker: 'closed' as const };
    assert.equal(assess(CONNECTIONS.pds, figures).health, 'meeting', 'PDS is agreed at 1500 ms');
    const gp = assess(CONNECTIONS['gp-tpp'], { ...figures, supplier: 'gp-tpp' });
    assert.equal(gp.health, 'breaching');
    assert.deepEqual(gp.breaches, ['p99 latency 1200 ms is above the agreed 1000 ms']);
    assert.deepEqual(serviceLevelFor('gp-tpp'), DEFAULT_SERVICE_LEVEL);
    assert.equal(assess(CONNECTIONS['gp-tpp'], { ...figures, windowCalls: 0, calls: 0 }).health, 'no-traffic');
  });
});

describe('who sees which services', () => {
  let system: RunningSystem;
  const policies = new SupplierPolicies();
  before(async () => {
    system = await startTestSystem();
  });
  after(async () => system?.close());
  const view = async (a: GovernanceActor) => monitoringView({ db: system.db, practices: await loadPracticeDirectory(system.db), policies }, a);

  it('national team and regions see all; a commissioner its commissioned services and its practices\' GP systems; a supplier its own', async () => {
    await policies.for('gp-tpp').read(async () => 'ok');
    const all = await view(actor('national-team', 'national'));
    assert.ok(all.services.some((s) => s.service.id === 'organ-donation'));
    assert.equal(all.services.find((s) => s.service.id === 'gp-services-tpp')?.health, 'meeting');
    assert.equal(all.services.find((s) => s.service.id === 'gp-services-emis')?.health, 'no-traffic');
    assert.equal((await view(actor('region', 'Y63'))).services.length, all.services.length);

    const qmj = await view(actor('commissioner', 'QMJ'));
    const ids = qmj.services.map((s) => s.service.id).sort();
    assert.deepEqual(ids, ['consult-online-triagepoint', 'gp-services-emis', 'gp-services-microtest']);
    assert.deepEqual(qmj.connections.map((c) => c.connection.name).sort(), ['gp-emis', 'gp-microtest']);

    const tpp = await view(actor('supplier', 'tpp'));
    assert.deepEqual(tpp.services.map((s) => s.service.id), ['gp-services-tpp']);
    assert.deepEqual(tpp.connections.map((c) => c.connection.name), ['gp-tpp']);
    const carebook = await view(actor('supplier', 'carebook'));
    assert.match(carebook.services[0].note ?? '', /Web integration/);
    assert.equal(carebook.connections.length, 0);

    await assert.rejects(view(actor('provider', 'A81001')), (e: unknown) => e instanceof GovernanceError && e.kind === 'denied');
  });
});
