// Real SNOMED CT and dm+d codes for the simulated GP records, read once from the shared OpenSAFELY codelists.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const codesDir = process.env.FRONT_DOOR_CODES_DIR ?? path.resolve(here, '../../../shared/data/codes');

export interface CodeTerm { code: string; term: string }

function csvRows(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(path.join(codesDir, file), 'utf8');
  } catch {
    return [];
  }
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/).slice(1)) {
    if (!line.trim()) continue;
    // Terms may be quoted and hold commas.
    const cells: string[] = [];
    let cur = '';
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) { cells.push(cur); cur = ''; }
      else cur += ch;
    }
    cells.push(cur);
    rows.push(cells);
  }
  return rows;
}

/** Oral solid dm+d VMPs only: they read naturally as repeat medicines with "one tablet" doses. */
function vmps(file: string, fallback: CodeTerm[]): CodeTerm[] {
  const found = csvRows(file)
    .filter((r) => r[3] === 'vmp' && /\d(mg|microgram)s? (tablets|capsules)$/.test(r[1]))
    .map((r) => ({ code: r[0], term: r[1] }));
  return found.length ? found : fallback;
}

export const statins = vmps('opensafely-FLUCATS__opensafely-statin-medication.csv', [{ code: '320030001', term: 'Atorvastatin 20mg tablets' }]);
export const aceInhibitors = vmps('opensafely-FLUCATS__opensafely-ace-inhibitor-medications.csv', [{ code: '318851002', term: 'Enalapril 5mg tablets' }]);

export const hypertension: CodeTerm[] = (() => {
  const found = csvRows('opensafely-FLUCATS__opensafely-hypertension-snomed.csv')
    .filter((r) => r[2] === 'y' && /^[\w -]*hypertension \(disorder\)$/i.test(r[1]) && !/pregnan|childbirth|puerper|obstetric|renal|heart|kidney|eclampsia|neonatal|maternal|nephropathy|postpartum|postoperative|goldblatt|renovascular/i.test(r[1]))
    .map((r) => ({ code: r[0], term: r[1].replace(/ \(disorder\)$/, '') }));
  return found.length ? found : [{ code: '59621000', term: 'Essential hypertension' }];
})();

export const diabetesComplications: CodeTerm[] = (() => {
  const found = csvRows('opensafely-FLUCATS__primis-covid19-vacc-uptake-diab.csv').map((r) => ({ code: r[0], term: r[1] }));
  return found.length ? found.slice(0, 40) : [{ code: '44054006', term: 'Diabetes mellitus type 2' }];
})();

export const pneumonia: CodeTerm[] = (() => {
  const found = csvRows('opensafely-FLUCATS__user-Louis-flucats-pneumonia.csv').map((r) => ({ code: r[0], term: r[1] }));
  return found.length ? found.slice(0, 40) : [{ code: '233604007', term: 'Pneumonia' }];
})();

/** Observables for test results: code, term, unit (UCUM), normal range and a plausible spread. */
export interface Observable { code: string; term: string; unit: string; low?: number; high?: number; min: number; max: number; decimals: number }
export const observables: Observable[] = [
  { code: '271649006', term: 'Systolic blood pressure', unit: 'mm[Hg]', low: 90, high: 140, min: 112, max: 158, decimals: 0 },
  { code: '271650006', term: 'Diastolic blood pressure', unit: 'mm[Hg]', low: 60, high: 90, min: 68, max: 98, decimals: 0 },
  { code: '364075005', term: 'Heart rate', unit: '/min', low: 60, high: 100, min: 56, max: 96, decimals: 0 },
  { code: '431314004', term: 'Peripheral oxygen saturation', unit: '%', low: 94, high: 100, min: 94, max: 99, decimals: 0 },
  { code: '703421000', term: 'Temperature', unit: 'Cel', low: 36, high: 37.5, min: 36.2, max: 37.4, decimals: 1 },
  { code: '27113001', term: 'Body weight', unit: 'kg', min: 55, max: 98, decimals: 1 },
  { code: '60621009', term: 'Body mass index', unit: 'kg/m2', low: 18.5, high: 24.9, min: 20, max: 31, decimals: 1 },
];

export const allergens: { code: string; term: string; reaction: string; severity: 'mild' | 'moderate' | 'severe' }[] = [
  { code: '372687004', term: 'Amoxicillin', reaction: 'Itchy rash', severity: 'moderate' },
  { code: '256349002', term: 'Peanut - dietary', reaction: 'Anaphylactic reaction', severity: 'severe' },
  { code: '227493005', term: 'Cashew nuts', reaction: 'Itchy rash', severity: 'mild' },
];
export const noKnownAllergy = { code: '716186003', term: 'No known allergy' };

export const vaccinations: CodeTerm[] = [
  { code: '86198006', term: 'Influenza vaccination' },
  { code: '1324681000000101', term: 'Administration of first dose of SARS-CoV-2 vaccine' },
  { code: '1324691000000104', term: 'Administration of second dose of SARS-CoV-2 vaccine' },
  { code: '12866006', term: 'Pneumococcal vaccination' },
];

export const pastCourse = { code: '323509004', term: 'Amoxicillin 250mg capsules' };
