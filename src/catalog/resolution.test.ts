// Resolution of what a citizen sees: commissioning scope and dates, GP system match, lifecycle, identity level.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogService, Commissioning } from './catalog.ts';
import { CatalogIndex, type PracticeInfo } from './resolution.ts';

const practices: Record<string, PracticeInfo> = {
  P1: { odsCode: 'P1', name: 'One', icbCode: 'QAA', regionCode: 'Y63', status: 'A', gpSystem: 'emis', inEngland: true },
  P2: { odsCode: 'P2', name: 'Two', icbCode: 'QAA', regionCode: 'Y63', status: 'A', gpSystem: 'tpp', inEngland: true },
  P3: { odsCode: 'P3', name: 'Three', icbCode: 'QBB', regionCode: 'Y56', status: 'A', gpSystem: 'emis', inEngland: true },
  C1: { odsCode: 'C1', name: 'Closed', icbCode: 'QAA', regionCode: 'Y63', status: 'C', closeDate: '2020-01-01', gpSystem: 'emis', inEngland: true },
  W1: { odsCode: 'W1', name: 'Wales', icbCode: 'Q99', regionCode: 'W00', status: 'A', gpSystem: 'emis', inEngland: false },
  S1: { odsCode: 'S1', name: 'Closing', icbCode: 'QAA', regionCode: 'Y63', status: 'A', closeDate: '2026-03-01', gpSystem: 'emis', inEngland: true },
};
const lookup = { get: (c: string) => practices[c] };

const svc = (id: string, over: Partial<CatalogService> = {}): CatalogService => ({
  id, name: id, description: id, kind: 'local', type: 'online-consultation', supplier: 's', integrationMethod: 'native',
  minIdentityLevel: 'P5', status: 'live', category: 'consultations', sortOrder: 10, ...over,
});
const com = (serviceId: string, icbCode: string, over: Partial<Commissioning> = {}): Commissioning => ({ id: `${serviceId}-${icbCode}`, serviceId, icbCode, createdBy: 't', ...over });

function index() {
  const ix = new CatalogIndex(lookup);
  ix.rebuild(
    [
      svc('n111', { kind: 'national', type: 'national', category: 'national', minIdentityLevel: 'P0' }),
      svc('gp-emis', { type: 'gp-system', category: 'gp', gpSystem: 'emis', minIdentityLevel: 'P9', sortOrder: 1 }),
      svc('gp-tpp', { type: 'gp-system', category: 'gp', gpSystem: 'tpp', minIdentityLevel: 'P9', sortOrder: 1 }),
      svc('oc-all'),
      svc('oc-listed'),
      svc('oc-dated'),
      svc('oc-ended'),
      svc('oc-retired', { status: 'retired' }),
    ],
    [
      com('gp-emis', '*'), com('gp-tpp', '*'),
      com('oc-all', 'QAA'),
      com('oc-listed', 'QAA', { practiceCodes: ['P2'] }),
      com('oc-dated', 'QAA', { startDate: '2026-06-01' }),
      com('oc-ended', 'QAA', { endDate: '2025-12-31' }),
      com('oc-retired', 'QAA'),
    ],
  );
  return ix;
}

const ids = (r: ReturnType<CatalogIndex['resolve']>) => r.services.map((s) => s.service.id).sort();

describe('catalog resolution', () => {
  it('gives national services plus the ICB-wide, listed-practice and in-date local ones, matching the GP system', () => {
    const ix = index();
    assert.deepEqual(ids(ix.resolve('P1', 'P9', '2026-07-01')), ['gp-emis', 'n111', 'oc-all', 'oc-dated']);
    assert.deepEqual(ids(ix.resolve('P2', 'P9', '2026-07-01')), ['gp-tpp', 'n111', 'oc-all', 'oc-dated', 'oc-listed']);
    assert.deepEqual(ids(ix.resolve('P2', 'P9', '2025-07-01')), ['gp-tpp', 'n111', 'oc-all', 'oc-ended', 'oc-listed']);
  });

  it('gives only national services, with the reason, outside its commissioned area or without a usable practice', () => {
    const ix = index();
    const other = ix.resolve('P3', 'P9', '2026-07-01');
    assert.deepEqual(ids(other), ['gp-emis', 'n111']);
    assert.equal(other.noLocalServices, true);
    for (const [code, problem] of [[undefined, 'no-registration'], ['ZZ9', 'unknown-practice'], ['C1', 'closed-practice'], ['W1', 'outside-england'], ['S1', 'closed-practice']] as const) {
      const r = ix.resolve(code, 'P9', '2026-07-01');
      assert.equal(r.practiceProblem, problem, String(code));
      assert.deepEqual(ids(r), ['n111']);
    }
    assert.equal(ix.resolve('S1', 'P9', '2026-02-01').practiceProblem, undefined, 'open until its close date');
  });

  it('marks services above the identity level as not usable instead of hiding them', () => {
    const r = index().resolve('P1', 'P5', '2026-07-01');
    const byId = Object.fromEntries(r.services.map((s) => [s.service.id, s.usable]));
    assert.deepEqual(byId, { 'gp-emis': false, n111: true, 'oc-all': true, 'oc-dated': true });
    assert.deepEqual(index().resolve('P1', 'P0', '2026-07-01').services.filter((s) => s.usable).map((s) => s.service.id), ['n111']);
  });

  it('serves repeated questions from its cache and forgets it on rebuild', () => {
    const ix = index();
    const a = ix.resolve('P1', 'P9', '2026-07-01');
    assert.equal(ix.resolve('P1', 'P9', '2026-07-01'), a, 'same object from the cache');
    ix.rebuild([svc('n111', { kind: 'national', type: 'national', category: 'national', minIdentityLevel: 'P0' })], []);
    const b = ix.resolve('P1', 'P9', '2026-07-01');
    assert.notEqual(b.key, a.key);
    assert.deepEqual(ids(b), ['n111']);
  });
});
