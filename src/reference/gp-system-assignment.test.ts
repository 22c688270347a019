import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCsv } from './csv.ts';
import { SMALLER_SUPPLIER_FLOOR, createGpSystemAssigner, pickGpSystem, pointForOdsCode, sharesFromCounts, type GpSystem, type SupplierCounts } from './gp-system-assignment.ts';

// The real data lives beside the project (../shared/data/ods), as config.ts expects it by default.
const ODS = process.env.ODS_DIR ?? fileURLToPath(new URL('../../../shared/data/ods', import.meta.url));

function realCounts(): Map<string, SupplierCounts> {
  const counts = new Map<string, SupplierCounts>();
  for (const r of parseCsv(readFileSync(`${ODS}/pcn_system_supplier_counts_with_icb.csv`, 'utf8')).slice(1)) {
    const [, emis, tpp, unknown, subIcb] = r.fields;
    const c = counts.get(subIcb) ?? { emis: 0, tpp: 0, unknown: 0 };
    c.emis += Number(emis);
    c.tpp += Number(tpp);
    c.unknown += Number(unknown);
    counts.set(subIcb, c);
  }
  return counts;
}

describe('GP system assignment', () => {
  it('maps an ODS code to a stable point in [0, 1) that differs between codes', () => {
    const a = pointForOdsCode('A81001');
    assert.equal(pointForOdsCode('A81001'), a);
    assert.ok(a >= 0 && a < 1);
    const points = new Set(['A81001', 'A81002', 'A81003', 'Y00001', 'W00007'].map(pointForOdsCode));
    assert.equal(points.size, 5);
  });

  it('picks the supplier whose slice holds the point, splitting unknown between vision and microtest', () => {
    const shares = sharesFromCounts({ emis: 2, tpp: 1, unknown: 1 })!;
    assert.deepEqual(shares, { emis: 0.5, tpp: 0.25, vision: 0.125, microtest: 0.125 });
    assert.equal(pickGpSystem(0, shares), 'emis');
    assert.equal(pickGpSystem(0.4999, shares), 'emis');
    assert.equal(pickGpSystem(0.5, shares), 'tpp');
    assert.equal(pickGpSystem(0.8, shares), 'vision');
    assert.equal(pickGpSystem(0.9, shares), 'microtest');
    assert.equal(pickGpSystem(0.9999999999, shares), 'microtest');
    assert.equal(sharesFromCounts({ emis: 0, tpp: 0, unknown: 0 }), undefined);
  });

  it('uses the sub-ICB proportions, and national ones where the data has no counts', () => {
    const assigner = createGpSystemAssigner(new Map([['TPPONLY', { emis: 0, tpp: 4, unknown: 0 }], ['EMPTY', { emis: 0, tpp: 0, unknown: 0 }]]));
    for (const code of ['A81001', 'B82005', 'C81010', 'M85001']) assert.notEqual(assigner.assign(code, 'TPPONLY'), 'emis');
    const floor = SMALLER_SUPPLIER_FLOOR;
    assert.deepEqual(assigner.national, { emis: 0, tpp: 1 - 2 * floor, vision: floor, microtest: floor });
    assert.equal(assigner.sharesFor('EMPTY'), assigner.national);
    assert.equal(assigner.sharesFor(null), assigner.national);
  });

  it('falls back to the shipped national proportions when no counts were imported', () => {
    const national = createGpSystemAssigner(new Map()).national;
    const named = (1 - 2 * SMALLER_SUPPLIER_FLOOR) / (6133 / 6135);
    assert.ok(Math.abs(national.emis - (3604 / 6135) * named) < 1e-12);
    assert.ok(Math.abs(national.tpp - (2529 / 6135) * named) < 1e-12);
    assert.equal(national.vision, SMALLER_SUPPLIER_FLOOR);
  });

  it('gives the real practices EMIS and TPP shares close to the PCN data, the same way every run', () => {
    const counts = realCounts();
    const total = [...counts.values()].reduce((t, c) => ({ emis: t.emis + c.emis, tpp: t.tpp + c.tpp, unknown: t.unknown + c.unknown }), { emis: 0, tpp: 0, unknown: 0 });
    const dataEmis = total.emis / (total.emis + total.tpp + total.unknown);
    const assigner = createGpSystemAssigner(counts);
    const again = createGpSystemAssigner(realCounts());
    const tally: Record<GpSystem, number> = { emis: 0, tpp: 0, vision: 0, microtest: 0 };
    let n = 0;
    let tppOnlyViolations = 0;
    for (const r of parseCsv(readFileSync(`${ODS}/epraccur.csv`, 'utf8'))) {
      const [code, , , , , , , , , , , , status] = r.fields;
      const subIcb = r.fields[14];
      if (status !== 'A' || r.fields[25] !== '4' || !counts.has(subIcb)) continue;
      const system = assigner.assign(code, subIcb);
      assert.equal(again.assign(code, subIcb), system);
      const c = counts.get(subIcb)!;
      if (c.emis === 0 && c.unknown === 0 && system === 'emis') tppOnlyViolations++;
      tally[system]++;
      n++;
    }
    assert.ok(n > 6000, `expected the active English GP practices, got ${n}`);
    assert.equal(tppOnlyViolations, 0);
    const named = 1 - 2 * SMALLER_SUPPLIER_FLOOR;
    const emisShare = tally.emis / n;
    assert.ok(Math.abs(emisShare - dataEmis * named) < 0.03, `assigned EMIS ${emisShare.toFixed(3)} vs data ${dataEmis.toFixed(3)}`);
    assert.ok(Math.abs(tally.tpp / n - (total.tpp / (total.emis + total.tpp + total.unknown)) * named) < 0.03);
    for (const smaller of ['vision', 'microtest'] as const) {
      assert.ok(Math.abs(tally[smaller] / n - SMALLER_SUPPLIER_FLOOR) < 0.01, `${smaller} near its floor share: ${tally[smaller]}`);
    }
  });
});
