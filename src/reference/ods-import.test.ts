import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store/store.ts';
import { testStores } from '../store/test-stores.ts';
import { formatProblem, importOdsDirectory, importOdsFiles, ODS_FILE_NAMES, summaryLine, type OdsImportReport } from './ods-import.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SAMPLE = path.join(fixtures, 'epraccur-sample.csv');
const OLDER = path.join(fixtures, 'epraccur-older-extract.csv');
const HIERARCHY = path.join(fixtures, 'commissioners-sample.csv');
const PCN = path.join(fixtures, 'pcn-sample.csv');

const expectedLines = [
  `${SAMPLE}:3: warning: A81003: ICB "Q74" is not in the hierarchy and neither is commissioner "00K"; kept with ICB "Q74", region "Y54"`,
  `${SAMPLE}:12: warning: Y00001: ICB "YAC" is not in the hierarchy and the row names no commissioner; kept with ICB "YAC", region ""`,
  `${SAMPLE}:13: expected 27 columns, found 26`,
  `${SAMPLE}:14: impossible open date "20230231" (expected a real date as YYYYMMDD)`,
  `${SAMPLE}:15: empty organisation code`,
  `${SAMPLE}:16: unknown status "X" (expected A, C, D or P)`,
  `${SAMPLE}:17: duplicate organisation code A81001 (first at line 1)`,
  `${SAMPLE}:18: close date 19700101 is before open date 19740401`,
  `${PCN}:8: TPP count "x" is not a whole number`,
  `${PCN}:9: empty sub-ICB code for PCN U99998`,
  `${HIERARCHY}:8: empty ICB code for sub-ICB 99X`,
  `${HIERARCHY}:9: expected 5 columns, found 4`,
];

type PracticeRow = { ods_code: string; name: string; icb_code: string; region_code: string; sub_icb_code: string | null; address: string[]; gp_system: string; gp_system_source: string; status: string; close_date: string | null; open_date: string | null };

async function practice(db: Store, code: string): Promise<PracticeRow | undefined> {
  const [row] = await db.query<PracticeRow>(
    `SELECT ods_code, name, icb_code, region_code, sub_icb_code, address, gp_system, gp_system_source, status,
            to_char(close_date, 'YYYY-MM-DD') AS close_date, to_char(open_date, 'YYYY-MM-DD') AS open_date
     FROM practices WHERE ods_code = $1`, [code]);
  return row;
}

async function count(db: Store, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return row.n;
}

for (const t of testStores()) {
  describe(`ODS import on ${t.name}`, () => {
    let db: Store & { dispose(): Promise<void> };
    let first: OdsImportReport;
    before(async () => {
      db = await t.open();
      // Deliberately practices first: the import puts the hierarchy and counts first itself.
      first = await importOdsFiles(db, [SAMPLE, PCN, HIERARCHY]);
    });
    after(async () => db?.dispose());

    it('reports each bad row as FILE:LINE: reason, keeps the good ones and sums them up', async () => {
      assert.deepEqual(first.problems.map(formatProblem), expectedLines);
      assert.deepEqual(first.files.map((f) => [f.path, f.kind, f.imported, f.skipped]), [
        [SAMPLE, 'practices', 12, 6],
        [PCN, 'pcn-suppliers', 6, 2],
        [HIERARCHY, 'hierarchy', 6, 2],
      ]);
      assert.equal(summaryLine(first), 'imported 24, skipped 10');
      assert.equal(first.warnings, 2);
      assert.equal(await count(db, 'practices'), 12);
      assert.equal(await count(db, 'sub_icbs'), 6);
      assert.equal(await count(db, 'pcn_gp_system_counts'), 6);
      assert.equal(await practice(db, 'A81004'), undefined, 'the row with 20230231 is skipped');
      assert.equal(await practice(db, 'A81006'), undefined, 'the row with status X is skipped');
    });

    it('stores a good row as written, embedded commas and dates included', async () => {
      const p = await practice(db, 'A81012');
      assert.deepEqual(p && { ...p }, {
        ods_code: 'A81012', name: 'WESTBOURNE MEDICAL CENTRE', icb_code: 'QHM', region_code: 'Y63', sub_icb_code: '16C',
        address: ['WESTBOURNE MEDICAL CENTRE', '7 TRINITY MEWS,N. ORMESBY', 'MIDDLESBROUGH'],
        gp_system: p!.gp_system, gp_system_source: 'assigned', status: 'A', close_date: null, open_date: '1974-04-01',
      });
      assert.equal((await practice(db, 'A81043'))?.close_date, '2024-06-30');
    });

    it('is idempotent: the same files again give the same counts, no duplicates and no changes', async () => {
      const before = await db.query('SELECT * FROM practices ORDER BY ods_code');
      const second = await importOdsFiles(db, [SAMPLE, PCN, HIERARCHY]);
      assert.deepEqual(second.problems.map(formatProblem), expectedLines);
      assert.equal(summaryLine(second), summaryLine(first));
      assert.deepEqual(second.files.map((f) => f.changed), [0, 0, 0]);
      assert.deepEqual(await db.query('SELECT * FROM practices ORDER BY ods_code'), before);
      assert.equal(await count(db, 'practices'), 12);
      assert.equal(await count(db, 'icbs'), 5);
    });

    it('resolves region codes the way the data means them', async () => {
      assert.deepEqual(await db.query("SELECT code, name FROM regions WHERE code IN ('Y56', 'Y63', 'W00') ORDER BY code"), [
        { code: 'W00', name: 'Wales (not England)' },
        { code: 'Y56', name: 'London' },
        { code: 'Y63', name: 'North East and Yorkshire' },
      ]);
      assert.equal(await count(db, 'regions WHERE code IN (\'Y56\',\'Y58\',\'Y59\',\'Y60\',\'Y61\',\'Y62\',\'Y63\') AND name IS NOT NULL'), 7);
      // Q99 is ODS's non-geographic code: Wales in the hierarchy, but an English prison keeps its own region.
      assert.deepEqual([(await practice(db, 'W00007'))?.icb_code, (await practice(db, 'W00007'))?.region_code], ['Q99', 'W00']);
      assert.deepEqual([(await practice(db, 'Y00613'))?.icb_code, (await practice(db, 'Y00613'))?.region_code], ['Q99', 'Y60']);
      assert.deepEqual([(await practice(db, 'A91020'))?.icb_code, (await practice(db, 'A91020'))?.region_code], ['Q99', 'Y99']);
      // Kept with what it had, and warned about above.
      assert.deepEqual([(await practice(db, 'A81003'))?.icb_code, (await practice(db, 'A81003'))?.region_code], ['Q74', 'Y54']);
    });

    it('maps an older extract (Q74 / Y54 area codes) to the current ICB and region through the commissioner', async () => {
      const report = await importOdsFiles(db, [OLDER]);
      assert.deepEqual(report.problems.map(formatProblem), [
        `${OLDER}:3: warning: A81008: ICB "Q74" is not in the hierarchy and neither is commissioner "00M"; kept with ICB "Q74", region "Y54"`,
      ]);
      assert.equal(summaryLine(report), 'imported 3, skipped 0');
      const a = await practice(db, 'A81009');
      assert.deepEqual([a?.icb_code, a?.region_code, a?.sub_icb_code], ['QHM', 'Y63', '16C']);
      const m = await practice(db, 'M85002');
      assert.deepEqual([m?.icb_code, m?.region_code, m?.sub_icb_code], ['QHL', 'Y60', '15E']);
    });

    it('assigns GP systems from the sub-ICB counts, national shares where there are none', async () => {
      // Fixture counts: 26A is all TPP, 36L all EMIS; nationally 8 EMIS to 16 TPP.
      assert.equal((await practice(db, 'D82001'))?.gp_system, 'tpp');
      assert.equal((await practice(db, 'H83001'))?.gp_system, 'emis');
      const systems = await db.query<{ gp_system: string }>("SELECT DISTINCT gp_system FROM practices WHERE gp_system_source = 'assigned'");
      assert.ok(systems.every((s) => ['emis', 'tpp', 'vision', 'microtest'].includes(s.gp_system)), 'only the four GP systems');
      const emisInTppOnly = await db.query("SELECT 1 FROM practices WHERE sub_icb_code = '26A' AND gp_system = 'emis'");
      assert.equal(emisInTppOnly.length, 0, 'an all-TPP sub-ICB gets no EMIS practice');
    });

    it('reassigns existing practices when only new supplier counts are imported', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'pcn-'));
      try {
        const file = path.join(dir, 'pcn.csv');
        await writeFile(file, 'pcn_code,EMIS,TPP,Unknown,sub_ICB\nU00000,7,0,0,26A\nU19864,0,0,0,26A\n');
        const report = await importOdsFiles(db, [file]);
        assert.equal(summaryLine(report), 'imported 2, skipped 0');
        assert.equal((await practice(db, 'D82001'))?.gp_system, 'emis');
        await importOdsFiles(db, [PCN]);
        assert.equal((await practice(db, 'D82001'))?.gp_system, 'tpp');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('reports unreadable and unrecognised files, and imports nothing when no row is good', async () => {
      const missing = path.join(fixtures, 'no-such-file.csv');
      const allBad = path.join(fixtures, 'epraccur-all-bad.csv');
      const report = await importOdsFiles(db, [missing, allBad, path.join(fixtures, '..', 'csv.ts')]);
      assert.deepEqual(report.problems.map(formatProblem), [
        `${missing}: cannot read: ENOENT`,
        `${allBad}:1: impossible open date "20230231" (expected a real date as YYYYMMDD)`,
        `${allBad}:2: unknown status "X" (expected A, C, D or P)`,
        `${path.join(fixtures, '..', 'csv.ts')}: not a recognised ODS file (expected epraccur.csv, the commissioner hierarchy or the PCN supplier counts)`,
      ]);
      assert.equal(report.imported, 0);
      assert.deepEqual(report.files.map((f) => f.kind), ['practices', 'unrecognised']);
      assert.equal(report.skipped, 2 + report.files[1].skipped);
      assert.ok(report.files[1].skipped > 10, 'every record of an unrecognised file counts as skipped');
    });

    it('imports a folder once and skips it while the files are unchanged', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'ods-'));
      try {
        await copyFile(SAMPLE, path.join(dir, ODS_FILE_NAMES.practices));
        await copyFile(HIERARCHY, path.join(dir, ODS_FILE_NAMES.hierarchy));
        await copyFile(PCN, path.join(dir, ODS_FILE_NAMES['pcn-suppliers']));
        const firstRun = await importOdsDirectory(db, dir);
        assert.equal(firstRun.unchanged, false);
        assert.equal(summaryLine(firstRun), 'imported 24, skipped 10');
        const again = await importOdsDirectory(db, dir);
        assert.equal(again.unchanged, true);
        assert.equal(summaryLine(again), 'imported 24, skipped 10');
        await writeFile(path.join(dir, ODS_FILE_NAMES['pcn-suppliers']), 'pcn_code,EMIS,TPP,Unknown,sub_ICB\nU00000,0,5,0,26A\n');
        const changed = await importOdsDirectory(db, dir);
        assert.equal(changed.unchanged, false);
        assert.equal(summaryLine(changed), 'imported 19, skipped 8');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
