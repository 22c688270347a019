import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store/store.ts';
import { testStores } from '../store/test-stores.ts';
import { importOdsFiles } from './ods-import.ts';
import { loadPracticeDirectory, type PracticeDirectory } from './practice-directory.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

for (const t of testStores()) {
  describe(`practice directory on ${t.name}`, () => {
    let db: Store & { dispose(): Promise<void> };
    let dir: PracticeDirectory;
    before(async () => {
      db = await t.open();
      await importOdsFiles(db, ['commissioners-sample.csv', 'pcn-sample.csv', 'epraccur-sample.csv'].map((f) => path.join(fixtures, f)));
      dir = await loadPracticeDirectory(db);
    });
    after(async () => db?.dispose());

    it('looks a practice up by ODS code with everything a page needs', () => {
      const p = dir.get('A81012');
      assert.deepEqual(p && { ...p, address: [...p.address] }, {
        odsCode: 'A81012',
        name: 'WESTBOURNE MEDICAL CENTRE',
        icbCode: 'QHM',
        regionCode: 'Y63',
        regionName: 'North East and Yorkshire',
        subIcbCode: '16C',
        status: 'A',
        closeDate: null,
        gpSystem: p!.gpSystem,
        address: ['WESTBOURNE MEDICAL CENTRE', '7 TRINITY MEWS,N. ORMESBY', 'MIDDLESBROUGH'],
        postcode: 'TS3 6AL',
        phone: '01642 277000',
        isGpPractice: true,
        inEngland: true,
      });
      assert.ok(['emis', 'tpp', 'vision', 'microtest'].includes(p!.gpSystem));
      assert.equal(dir.get(' a81012 '), p, 'codes from tokens and URLs are normalised');
      assert.equal(dir.get('ZZZ999'), undefined);
      assert.equal(dir.get('A81004'), undefined, 'a skipped bad row is not in the directory');
      assert.equal(dir.size, 12);
    });

    it('says which practices are closed, not GP practices, or outside England', () => {
      assert.deepEqual([dir.get('A81043')?.status, dir.get('A81043')?.closeDate], ['C', '2024-06-30']);
      assert.equal(dir.get('A99003')?.isGpPractice, false, 'prescribing setting 0');
      const wales = dir.get('W00007');
      assert.deepEqual([wales?.regionName, wales?.inEngland], ['Wales (not England)', false]);
      assert.equal(dir.get('Y00001')?.inEngland, false, 'Isle of Man');
      assert.equal(dir.get('A91020')?.inEngland, false, 'non-geographic defence practice');
      assert.equal(dir.get('Y00613')?.inEngland, true, 'an English prison under Q99');
      assert.equal(dir.get('A81003')?.inEngland, true, 'former region Y54 is England');
      assert.equal(dir.get('A81003')?.regionName, 'North of England (former region)');
    });

    it('lists the practices of an ICB and the ICBs with their regions and counts', () => {
      assert.deepEqual(dir.practicesInIcb('QHM').map((p) => p.odsCode), ['A81001', 'A81012', 'A81043', 'A99003']);
      assert.deepEqual(dir.practicesInIcb('NOPE'), []);
      assert.deepEqual(dir.listIcbs().map((i) => ({ ...i })), [
        { code: 'Q99', regionCode: 'W00', regionName: 'Wales (not England)', inEngland: false, practiceCount: 3, activeGpPracticeCount: 1 },
        { code: 'QHL', regionCode: 'Y60', regionName: 'Midlands', inEngland: true, practiceCount: 1, activeGpPracticeCount: 1 },
        { code: 'QHM', regionCode: 'Y63', regionName: 'North East and Yorkshire', inEngland: true, practiceCount: 4, activeGpPracticeCount: 2 },
        { code: 'QMM', regionCode: 'Y61', regionName: 'East of England', inEngland: true, practiceCount: 1, activeGpPracticeCount: 1 },
        { code: 'QWE', regionCode: 'Y56', regionName: 'London', inEngland: true, practiceCount: 1, activeGpPracticeCount: 1 },
      ]);
    });

    it('answers a lookup in well under a microsecond on average', () => {
      const codes = ['A81001', 'W00007', 'ZZZ999', 'D82001'];
      const n = 200_000;
      const start = process.hrtime.bigint();
      let found = 0;
      for (let i = 0; i < n; i++) if (dir.get(codes[i & 3])) found++;
      const perLookupNs = Number(process.hrtime.bigint() - start) / n;
      assert.equal(found, n * 3 / 4);
      assert.ok(perLookupNs < 1000, `${perLookupNs.toFixed(0)} ns per lookup`);
    });
  });
}
