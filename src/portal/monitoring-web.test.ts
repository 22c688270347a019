// Live monitoring from real traffic: citizens use GP pages against the sandboxes, one GP supplier answers garbage,
// and the dashboard (and its JSON) shows that supplier's success rate falling, its breaker open and a clear flag,
// while healthy suppliers meet their levels; each role sees only what it should.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type RunningSandbox } from '../../sandboxes/common/server.ts';
import { gpTppSandbox } from '../../sandboxes/gp-tpp/index.ts';
import type { StaffRole } from '../identity/provider/accounts.ts';
import type { RunningSystem } from '../system.ts';
import { signedInCitizen, startTestSystem, signedInStaffCookies } from '../testing/factories.ts';
import { demoCitizen } from '../web/gp/gp-test-client.ts';

// Demo people (demo/people.json): on EMIS at E83003 (ICB QMJ), on TPP at J81002 (ICB QVV).
const EMIS_PERSON = '9990237573';
const TPP_PERSON = '9990395950';

let system: RunningSystem;
let faulty: RunningSandbox;
const cookies: Record<string, string> = {};
before(async () => {
  system = await startTestSystem({}, { withSandboxes: true });
  faulty = await startSandbox(gpTppSandbox, { port: 0, faultMode: 'garbage' });
  const roles: Record<string, StaffRole> = {
    national: { role: 'national-team', organisation: 'national' }, region: { role: 'region', organisation: 'Y58' },
    qmj: { role: 'commissioner', organisation: 'QMJ' }, qvv: { role: 'commissioner', organisation: 'QVV' },
    tpp: { role: 'supplier', organisation: 'tpp' }, emis: { role: 'supplier', organisation: 'emis' }, provider: { role: 'provider', organisation: 'E83003' },
  };
  Object.assign(cookies, await signedInStaffCookies(system, roles));
  cookies.citizen = (await signedInCitizen(system, { practice: 'E83003' })).cookie;
});
after(async () => {
  await system?.close();
  await faulty?.close();
});

const get = (who: string, url: string) => system.app.inject({ url, headers: { cookie: cookies[who] ?? '' } });

interface ConnectionJson { name: string; health: string; breaches: string[]; successRate: number; windowCalls: number; breaker: string; latencyMs: { p50: number; p95: number; p99: number } }
interface MonitoringJson { services: { id: string; health: string; breaches: string[] }[]; connections: ConnectionJson[] }
const json = async (who: string): Promise<MonitoringJson> => {
  const r = await get(who, '/portal/monitoring.json');
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as MonitoringJson;
};

describe('live monitoring', () => {
  it('drives real traffic: a healthy supplier meets its levels, a garbage-speaking one is flagged with its breaker open', async () => {
    const emis = await demoCitizen(system, EMIS_PERSON);
    for (let i = 0; i < 3; i++) assert.equal((await emis.get('/gp/prescriptions')).status, 200);

    const healthyUrl = system.supplierUrls['gp-tpp'];
    const tpp = await demoCitizen(system, TPP_PERSON);
    assert.equal((await tpp.get('/gp/prescriptions')).status, 200, 'healthy TPP first');
    system.supplierUrls['gp-tpp'] = faulty.url;
    try {
      for (let i = 0; i < 2; i++) assert.match((await tpp.get('/gp/prescriptions')).body, /GP services are not available right now/);
    } finally {
      system.supplierUrls['gp-tpp'] = healthyUrl;
    }

    const data = await json('national');
    const byName = new Map(data.connections.map((c) => [c.name, c]));
    const e = byName.get('gp-emis')!;
    assert.ok(e.windowCalls >= 3, `emis calls ${e.windowCalls}`);
    assert.equal(e.successRate, 1);
    assert.equal(e.breaker, 'closed');
    assert.ok(e.latencyMs.p50 <= e.latencyMs.p95 && e.latencyMs.p95 <= e.latencyMs.p99);
    const t = byName.get('gp-tpp')!;
    assert.ok(t.successRate < 0.99, `tpp success ${t.successRate}`);
    assert.equal(t.breaker, 'open');
    assert.equal(t.health, 'breaching');
    assert.ok(t.breaches.some((b) => /success rate .* is below the agreed 99\.0%/.test(b)));
    assert.equal(data.services.find((s) => s.id === 'gp-services-tpp')?.health, 'breaching');
    assert.equal(byName.get('pds')?.health, 'no-traffic');

    const page = await get('national', '/portal/monitoring');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /1 service is breaching agreed service levels/);
    assert.match(page.body, /GP services \(TPP \(simulated\)\): success rate/);
    assert.match(page.body, /<strong class="nhsuk-tag nhsuk-tag--red">\s*Breaching service levels/);
    assert.match(page.body, /open: calls are paused/);
    assert.match(page.body, /Meeting service levels/);
  });

  it('each role sees its own: commissioners their ICB, suppliers their connections; others are refused', async () => {
    assert.equal((await json('region')).connections.length, (await json('national')).connections.length);
    const qmj = await json('qmj');
    assert.ok(qmj.services.some((s) => s.id === 'gp-services-emis'));
    assert.ok(!qmj.services.some((s) => s.id === 'gp-services-tpp'), 'no QMJ practice runs TPP');
    assert.ok((await json('qvv')).services.some((s) => s.id === 'gp-services-tpp'));
    const tpp = await json('tpp');
    assert.deepEqual(tpp.connections.map((c) => c.name), ['gp-tpp']);
    assert.deepEqual((await json('emis')).connections.map((c) => c.name), ['gp-emis']);
    const qmjPage = await get('qmj', '/portal/monitoring');
    assert.doesNotMatch(qmjPage.body, /TPP/);

    assert.equal((await get('provider', '/portal/monitoring')).statusCode, 403);
    assert.equal((await get('provider', '/portal/monitoring.json')).statusCode, 403);
    assert.equal((await get('citizen', '/portal/monitoring')).statusCode, 403);
    assert.equal((await system.app.inject({ url: '/portal/monitoring.json' })).statusCode, 303);
  });
});
