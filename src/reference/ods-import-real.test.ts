import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store/store.ts';
import { testStores } from '../store/test-stores.ts';
import { importOdsDirectory, summaryLine, type DirectoryImportResult } from './ods-import.ts';
import { loadPracticeDirectory } from './practice-directory.ts';

// The real data lives beside the project (../shared/data/ods), as config.ts expects it by default.
const ODS = process.env.ODS_DIR ?? fileURLToPath(new URL('../../../shared/data/ods', import.meta.url));

for (const t of testStores()) {
  describe(`the real ODS files on ${t.name}`, () => {
    let db: Store & { dispose(): Promise<void> };
    let report: DirectoryImportResult;
    let importMs = 0;
    before(async () => {
      db = await t.open();
      const start = performance.now();
      report = await importOdsDirectory(db, ODS);
      importMs = performance.now() - start;
    });
    after(async () => db?.dispose());

    it('imports every row of epraccur.csv, the hierarchy and the PCN counts in a few seconds', (ctx) => {
      ctx.diagnostic(`full import on ${t.name}: ${importMs.toFixed(0)} ms (${summaryLine(report)}, ${report.warnings} warnings)`);
      assert.equal(report.unchanged, false);
      assert.deepEqual(report.files.map((f) => [f.kind, f.imported, f.skipped]), [
        ['hierarchy', 113, 0],
        ['pcn-suppliers', 1297, 0],
        ['practices', 16534, 0],
      ]);
      assert.equal(summaryLine(report), 'imported 17944, skipped 0');
      // Closed practices whose former CCG and area team no longer exist, plus the islands: kept, warned about.
      assert.ok(report.warnings > 1000 && report.warnings < 2000, `${report.warnings} warnings`);
      assert.ok(report.problems.every((p) => p.severity === 'warning'));
      assert.ok(importMs < 20_000, `import took ${importMs.toFixed(0)} ms`);
    });

    it('skips the second start-up import because the files are unchanged', async (ctx) => {
      const start = performance.now();
      const again = await importOdsDirectory(db, ODS);
      const ms = performance.now() - start;
      ctx.diagnostic(`unchanged re-import check on ${t.name}: ${ms.toFixed(0)} ms`);
      assert.equal(again.unchanged, true);
      assert.equal(summaryLine(again), 'imported 17944, skipped 0');
      assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM practices'))[0].n, 16534);
    });

    it('gives a directory of every practice, 42 ICBs in England, and GP systems in the data proportions', async (ctx) => {
      const start = performance.now();
      const dir = await loadPracticeDirectory(db);
      ctx.diagnostic(`directory load on ${t.name}: ${(performance.now() - start).toFixed(0)} ms`);
      assert.equal(dir.size, 16534);
      assert.equal(dir.listIcbs().filter((i) => i.inEngland).length, 42);
      assert.equal(dir.get('A81001')?.icbCode, 'QHM');
      assert.equal(dir.get('A81003')?.icbCode, 'Q74', 'a closed practice of a former area team keeps its code');
      const active = dir.listIcbs().filter((i) => i.inEngland).flatMap((i) => dir.practicesInIcb(i.code)).filter((p) => p.status === 'A' && p.isGpPractice);
      assert.ok(active.length > 6000 && active.length < 6600, `${active.length} active GP practices in English ICBs`);
      const emis = active.filter((p) => p.gpSystem === 'emis').length / active.length;
      // 3,604 EMIS of 6,135 practices in the PCN file.
      assert.ok(Math.abs(emis - 3604 / 6135) < 0.03, `EMIS share ${emis.toFixed(3)}`);
    });
  });
}
