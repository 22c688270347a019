// Imports the ODS reference files (GP practices, the sub-ICB → ICB → region hierarchy, PCN supplier counts) into the store.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Queryable, Store } from '../store/store.ts';
import { parseCsv, type CsvRecord } from './csv.ts';
import { createGpSystemAssigner, type GpSystemAssigner, type SupplierCounts } from './gp-system-assignment.ts';
import { isCurrentRegion, REGION_NAMES } from './regions.ts';

export type OdsFileKind = 'practices' | 'hierarchy' | 'pcn-suppliers';

/** The file names NHS Digital and our data folder use; importOdsDirectory looks for exactly these. */
export const ODS_FILE_NAMES: Readonly<Record<OdsFileKind, string>> = {
  hierarchy: 'commissioners_derived_from_epraccur.csv',
  'pcn-suppliers': 'pcn_system_supplier_counts_with_icb.csv',
  practices: 'epraccur.csv',
};

export interface OdsSource {
  /** As the user named it: reports quote it back unchanged. */
  path: string;
  text: string;
}

export interface ImportProblem {
  file: string;
  /** Absent when the problem is with the file as a whole. */
  line?: number;
  reason: string;
  /** error: the row was skipped. warning: the row was kept, with what it had. */
  severity: 'error' | 'warning';
}

export interface FileSummary {
  path: string;
  kind: OdsFileKind | 'unrecognised';
  imported: number;
  skipped: number;
  /** Rows inserted or changed by this run (0 when re-importing the same file). */
  changed: number;
}

export interface OdsImportReport {
  files: FileSummary[];
  /** Errors and warnings in file order, then line order. */
  problems: ImportProblem[];
  imported: number;
  skipped: number;
  warnings: number;
}

export function formatProblem(p: ImportProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return `${where}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.reason}`;
}

export function summaryLine(r: Pick<OdsImportReport, 'imported' | 'skipped'>): string {
  return `imported ${r.imported}, skipped ${r.skipped}`;
}

// ---- validation: independent of the store, so a file with no good row never needs a database ----

const EPRACCUR_COLUMNS = 27;
const STATUSES = new Set(['A', 'C', 'D', 'P']);
const BATCH = 4000;

interface HierarchyRow { line: number; subIcb: string; icb: string; region: string }
interface PcnRow { line: number; pcn: string; subIcb: string; counts: SupplierCounts }
interface PracticeRow {
  line: number;
  odsCode: string;
  name: string;
  /** Columns 3, 4 and 15 as written; older extracts hold retired codes here, resolved at apply time. */
  regionColumn: string;
  icbColumn: string;
  commissioner: string | null;
  address: string[];
  postcode: string | null;
  phone: string | null;
  openDate: string | null;
  closeDate: string | null;
  status: string;
  prescribingSetting: number | null;
}

type PlannedFile =
  | { path: string; kind: 'hierarchy'; rows: HierarchyRow[]; skipped: number }
  | { path: string; kind: 'pcn-suppliers'; rows: PcnRow[]; skipped: number }
  | { path: string; kind: 'practices'; rows: PracticeRow[]; skipped: number }
  | { path: string; kind: 'unrecognised'; rows: never[]; skipped: number };

export interface OdsImportPlan {
  /** Hierarchy first, then supplier counts, then practices: later steps resolve through earlier ones. */
  files: PlannedFile[];
  /** The order the user gave, which reports follow. */
  givenOrder: string[];
  problems: ImportProblem[];
  goodRows: number;
}

export function planOdsImport(sources: OdsSource[], opts: { givenOrder?: string[]; problems?: ImportProblem[] } = {}): OdsImportPlan {
  const problems: ImportProblem[] = [...(opts.problems ?? [])];
  const files: PlannedFile[] = sources.map((s) => planFile(s, problems));
  const rank = { hierarchy: 0, 'pcn-suppliers': 1, practices: 2, unrecognised: 3 };
  const ordered = files.map((f, i) => ({ f, i })).sort((a, b) => rank[a.f.kind] - rank[b.f.kind] || a.i - b.i).map((x) => x.f);
  return {
    files: ordered,
    givenOrder: opts.givenOrder ?? sources.map((s) => s.path),
    problems,
    goodRows: files.reduce((n, f) => n + f.rows.length, 0),
  };
}

function planFile(source: OdsSource, problems: ImportProblem[]): PlannedFile {
  const records = parseCsv(source.text);
  const kind = detectKind(records);
  const bad = (line: number | undefined, reason: string) => problems.push({ file: source.path, line, reason, severity: 'error' });
  if (!kind) {
    bad(undefined, records.length === 0
      ? 'empty file'
      : 'not a recognised ODS file (expected epraccur.csv, the commissioner hierarchy or the PCN supplier counts)');
    return { path: source.path, kind: 'unrecognised', rows: [], skipped: records.length };
  }
  if (kind === 'practices') return { path: source.path, kind, ...validatePractices(records, bad) };
  const header = records[0].fields.map((f) => f.trim().toLowerCase());
  const body = records.slice(1);
  if (kind === 'hierarchy') return { path: source.path, kind, ...validateHierarchy(header, body, bad) };
  return { path: source.path, kind, ...validatePcn(header, body, bad) };
}

function detectKind(records: CsvRecord[]): OdsFileKind | undefined {
  if (records.length === 0) return undefined;
  const first = records[0].fields.map((f) => f.trim().toLowerCase());
  if (first.includes('commissioner_code_sub_icb')) return 'hierarchy';
  if (first.includes('pcn_code')) return 'pcn-suppliers';
  // epraccur has no header: recognise it by most of its first rows having its 27 columns.
  const sample = records.slice(0, 20);
  if (sample.filter((r) => r.fields.length === EPRACCUR_COLUMNS).length * 2 > sample.length) return 'practices';
  return undefined;
}

type Bad = (line: number | undefined, reason: string) => void;

function shapeProblem(r: CsvRecord, expected: number): string | undefined {
  if (r.error) return r.error;
  if (r.fields.length !== expected) return `expected ${expected} columns, found ${r.fields.length}`;
  return undefined;
}

function validatePractices(records: CsvRecord[], bad: Bad): { rows: PracticeRow[]; skipped: number } {
  const rows: PracticeRow[] = [];
  const seen = new Map<string, number>();
  let skipped = 0;
  for (const r of records) {
    const reason = practiceProblem(r, seen);
    if (reason) {
      bad(r.line, reason);
      skipped++;
      continue;
    }
    const f = r.fields.map((x) => x.trim());
    seen.set(f[0], r.line);
    rows.push({
      line: r.line,
      odsCode: f[0],
      name: f[1],
      regionColumn: f[2],
      icbColumn: f[3],
      commissioner: f[14] || null,
      address: f.slice(4, 9).filter(Boolean),
      postcode: f[9] || null,
      phone: f[17] || null,
      openDate: odsDate(f[10]) ?? null,
      closeDate: odsDate(f[11]) ?? null,
      status: f[12],
      prescribingSetting: f[25] === '' ? null : Number(f[25]),
    });
  }
  return { rows, skipped };
}

function practiceProblem(r: CsvRecord, seen: Map<string, number>): string | undefined {
  const shape = shapeProblem(r, EPRACCUR_COLUMNS);
  if (shape) return shape;
  const f = r.fields.map((x) => x.trim());
  if (!f[0]) return 'empty organisation code';
  if (!f[1]) return `empty name for ${f[0]}`;
  for (const [col, label] of [[10, 'open date'], [11, 'close date']] as const) {
    if (odsDate(f[col]) === undefined) return `impossible ${label} "${f[col]}" (expected a real date as YYYYMMDD)`;
  }
  if (f[10] && f[11] && f[11] < f[10]) return `close date ${f[11]} is before open date ${f[10]}`;
  if (!STATUSES.has(f[12])) return `unknown status "${f[12]}" (expected A, C, D or P)`;
  if (f[25] !== '' && !/^\d+$/.test(f[25])) return `prescribing setting "${f[25]}" is not a whole number`;
  const first = seen.get(f[0]);
  if (first !== undefined) return `duplicate organisation code ${f[0]} (first at line ${first})`;
  return undefined;
}

/** '' → null; a real calendar date YYYYMMDD → 'YYYY-MM-DD'; anything else → undefined. */
function odsDate(v: string): string | null | undefined {
  if (v === '') return null;
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (y < 1800 || t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

function columnsOf(header: string[], wanted: string[], bad: Bad): number[] | undefined {
  const idx = wanted.map((w) => header.indexOf(w.toLowerCase()));
  const missing = wanted.filter((_, i) => idx[i] === -1);
  if (missing.length) {
    bad(1, `header lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    return undefined;
  }
  return idx;
}

function validateHierarchy(header: string[], body: CsvRecord[], bad: Bad): { rows: HierarchyRow[]; skipped: number } {
  const cols = columnsOf(header, ['commissioner_code_sub_icb', 'icb_or_hlhg_code', 'nhs_england_region_code'], bad);
  if (!cols) return { rows: [], skipped: body.length };
  const rows: HierarchyRow[] = [];
  const seen = new Map<string, number>();
  const icbRegion = new Map<string, { region: string; line: number }>();
  let skipped = 0;
  for (const r of body) {
    const [subIcb, icb, region] = cols.map((c) => (r.fields[c] ?? '').trim());
    const prior = icbRegion.get(icb);
    const reason = shapeProblem(r, header.length)
      ?? (!subIcb ? 'empty sub-ICB code' : undefined)
      ?? (!icb ? `empty ICB code for sub-ICB ${subIcb}` : undefined)
      ?? (!region ? `empty region code for sub-ICB ${subIcb}` : undefined)
      ?? (seen.has(subIcb) ? `duplicate sub-ICB code ${subIcb} (first at line ${seen.get(subIcb)})` : undefined)
      ?? (prior && prior.region !== region ? `ICB ${icb} is in region ${prior.region} at line ${prior.line}, here ${region}` : undefined);
    if (reason) {
      bad(r.line, reason);
      skipped++;
      continue;
    }
    seen.set(subIcb, r.line);
    if (!prior) icbRegion.set(icb, { region, line: r.line });
    rows.push({ line: r.line, subIcb, icb, region });
  }
  return { rows, skipped };
}

function validatePcn(header: string[], body: CsvRecord[], bad: Bad): { rows: PcnRow[]; skipped: number } {
  const cols = columnsOf(header, ['pcn_code', 'sub_icb', 'emis', 'tpp', 'unknown'], bad);
  if (!cols) return { rows: [], skipped: body.length };
  const rows: PcnRow[] = [];
  const seen = new Map<string, number>();
  let skipped = 0;
  for (const r of body) {
    const [pcn, subIcb, emis, tpp, unknown] = cols.map((c) => (r.fields[c] ?? '').trim());
    const notCount = ([['EMIS', emis], ['TPP', tpp], ['Unknown', unknown]] as const).find(([, v]) => !/^\d+$/.test(v));
    const reason = shapeProblem(r, header.length)
      ?? (!pcn ? 'empty PCN code' : undefined)
      ?? (!subIcb ? `empty sub-ICB code for PCN ${pcn}` : undefined)
      ?? (notCount ? `${notCount[0]} count "${notCount[1]}" is not a whole number` : undefined)
      ?? (seen.has(pcn) ? `duplicate PCN code ${pcn} (first at line ${seen.get(pcn)})` : undefined);
    if (reason) {
      bad(r.line, reason);
      skipped++;
      continue;
    }
    seen.set(pcn, r.line);
    rows.push({ line: r.line, pcn, subIcb, counts: { emis: Number(emis), tpp: Number(tpp), unknown: Number(unknown) } });
  }
  return { rows, skipped };
}

// ---- applying a plan to the store ----

export interface Hierarchy {
  /** ICB → region. */
  icbs: ReadonlyMap<string, string>;
  /** Sub-ICB (or CCG) code → its ICB and region. */
  subIcbs: ReadonlyMap<string, { icb: string; region: string }>;
}

export interface ResolvedGeography {
  icbCode: string;
  regionCode: string;
  /** False when neither the ICB column nor the commissioner is in the hierarchy: the row keeps what it had. */
  resolved: boolean;
}

/**
 * Current ICB and region for a practice row. Older extracts hold 2013-era area codes (Q74) in the ICB column
 * and former regions (Y54) in the region column; the commissioner (sub-ICB) still leads to today's ICB.
 */
export function resolveGeography(row: { regionColumn: string; icbColumn: string; commissioner: string | null }, h: Hierarchy): ResolvedGeography {
  let icb: string | undefined;
  if (h.icbs.has(row.icbColumn)) icb = row.icbColumn;
  else if (row.commissioner) icb = h.subIcbs.get(row.commissioner)?.icb;
  // The row's own region is trusted when current: the hierarchy lists Q99 (non-geographic) under Wales only,
  // while English prisons and defence practices under Q99 carry their real region in this column.
  const region = isCurrentRegion(row.regionColumn) ? row.regionColumn : icb ? h.icbs.get(icb) : undefined;
  return { icbCode: icb ?? row.icbColumn, regionCode: region ?? row.regionColumn, resolved: icb !== undefined };
}

export async function applyOdsImport(db: Store, plan: OdsImportPlan): Promise<OdsImportReport> {
  const problems = [...plan.problems];
  const summaries = new Map<string, FileSummary>();
  await db.transaction(async (tx) => {
    await upsertRegions(tx, plan);
    let practicesImported = false;
    let countsImported = false;
    let hierarchy: Hierarchy | undefined;
    let assigner: GpSystemAssigner | undefined;
    for (const file of plan.files) {
      const summary: FileSummary = { path: file.path, kind: file.kind, imported: file.rows.length, skipped: file.skipped, changed: 0 };
      summaries.set(file.path, summary);
      if (file.kind === 'hierarchy') summary.changed = await upsertHierarchy(tx, file.rows);
      else if (file.kind === 'pcn-suppliers') {
        summary.changed = await upsertPcnCounts(tx, file.rows);
        countsImported = true;
      } else if (file.kind === 'practices') {
        hierarchy ??= await loadHierarchy(tx);
        assigner ??= createGpSystemAssigner(await loadSupplierCounts(tx));
        summary.changed = await upsertPractices(tx, file.path, file.rows, hierarchy, assigner, problems);
        practicesImported = true;
      }
    }
    // New supplier counts alone still have to reach the practices already in the store.
    if (countsImported && !practicesImported) await reassignGpSystems(tx, createGpSystemAssigner(await loadSupplierCounts(tx)));
    if (plan.goodRows > 0) await tx.query("SELECT pg_notify('reference_changed', 'ods')");
  });

  const files = plan.givenOrder.flatMap((p) => summaries.get(p) ?? []);
  return {
    files,
    problems: sortProblems(problems, plan.givenOrder),
    imported: files.reduce((n, f) => n + f.imported, 0),
    skipped: files.reduce((n, f) => n + f.skipped, 0),
    warnings: problems.filter((p) => p.severity === 'warning').length,
  };
}

/** The report for a plan that is not applied (no good row): nothing to write, so no store is needed. */
export function reportWithoutApplying(plan: OdsImportPlan): OdsImportReport {
  const problems = sortProblems([...plan.problems], plan.givenOrder);
  const byPath = new Map(plan.files.map((f) => [f.path, f]));
  const files = plan.givenOrder.flatMap((p) => byPath.get(p) ?? []).map((f) => ({ path: f.path, kind: f.kind, imported: f.rows.length, skipped: f.skipped, changed: 0 }));
  return { files, problems, imported: plan.goodRows, skipped: files.reduce((n, f) => n + f.skipped, 0), warnings: 0 };
}

function sortProblems(problems: ImportProblem[], givenOrder: string[]): ImportProblem[] {
  const order = new Map(givenOrder.map((p, i) => [p, i]));
  return problems.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || (a.line ?? 0) - (b.line ?? 0));
}

async function upsertRegions(tx: Queryable, plan: OdsImportPlan): Promise<void> {
  const names = new Map<string, string | null>(Object.entries(REGION_NAMES));
  for (const f of plan.files) if (f.kind === 'hierarchy') for (const r of f.rows) if (!names.has(r.region)) names.set(r.region, null);
  await tx.query(
    `INSERT INTO regions (code, name) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (code) DO UPDATE SET name = COALESCE(EXCLUDED.name, regions.name)
     WHERE regions.name IS DISTINCT FROM COALESCE(EXCLUDED.name, regions.name)`,
    [[...names.keys()], [...names.values()]],
  );
}

async function upsertHierarchy(tx: Queryable, rows: HierarchyRow[]): Promise<number> {
  const icbs = new Map(rows.map((r) => [r.icb, r.region]));
  const icbRows = await tx.query(
    `INSERT INTO icbs (code, region_code) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (code) DO UPDATE SET region_code = EXCLUDED.region_code WHERE icbs.region_code IS DISTINCT FROM EXCLUDED.region_code
     RETURNING code`,
    [[...icbs.keys()], [...icbs.values()]],
  );
  const subRows = await tx.query(
    `INSERT INTO sub_icbs (code, icb_code, region_code) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     ON CONFLICT (code) DO UPDATE SET icb_code = EXCLUDED.icb_code, region_code = EXCLUDED.region_code
     WHERE (sub_icbs.icb_code, sub_icbs.region_code) IS DISTINCT FROM (EXCLUDED.icb_code, EXCLUDED.region_code)
     RETURNING code`,
    [rows.map((r) => r.subIcb), rows.map((r) => r.icb), rows.map((r) => r.region)],
  );
  return icbRows.length + subRows.length;
}

async function upsertPcnCounts(tx: Queryable, rows: PcnRow[]): Promise<number> {
  const changed = await tx.query(
    `INSERT INTO pcn_gp_system_counts AS p (pcn_code, sub_icb_code, emis, tpp, unknown)
     SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::integer[])
     ON CONFLICT (pcn_code) DO UPDATE SET sub_icb_code = EXCLUDED.sub_icb_code, emis = EXCLUDED.emis, tpp = EXCLUDED.tpp, unknown = EXCLUDED.unknown
     WHERE (p.sub_icb_code, p.emis, p.tpp, p.unknown) IS DISTINCT FROM (EXCLUDED.sub_icb_code, EXCLUDED.emis, EXCLUDED.tpp, EXCLUDED.unknown)
     RETURNING pcn_code`,
    [rows.map((r) => r.pcn), rows.map((r) => r.subIcb), rows.map((r) => r.counts.emis), rows.map((r) => r.counts.tpp), rows.map((r) => r.counts.unknown)],
  );
  return changed.length;
}

export async function loadHierarchy(db: Queryable): Promise<Hierarchy> {
  const icbs = await db.query<{ code: string; region_code: string }>('SELECT code, region_code FROM icbs');
  const subs = await db.query<{ code: string; icb_code: string; region_code: string }>('SELECT code, icb_code, region_code FROM sub_icbs');
  return {
    icbs: new Map(icbs.map((r) => [r.code, r.region_code])),
    subIcbs: new Map(subs.map((r) => [r.code, { icb: r.icb_code, region: r.region_code }])),
  };
}

export async function loadSupplierCounts(db: Queryable): Promise<Map<string, SupplierCounts>> {
  const rows = await db.query<{ sub_icb_code: string; emis: number | string; tpp: number | string; unknown: number | string }>(
    'SELECT sub_icb_code, sum(emis) AS emis, sum(tpp) AS tpp, sum(unknown) AS unknown FROM pcn_gp_system_counts GROUP BY sub_icb_code',
  );
  // sum() of integers is bigint, which node-postgres returns as a string.
  return new Map(rows.map((r) => [r.sub_icb_code, { emis: Number(r.emis), tpp: Number(r.tpp), unknown: Number(r.unknown) }]));
}

async function upsertPractices(
  tx: Queryable,
  file: string,
  rows: PracticeRow[],
  hierarchy: Hierarchy,
  assigner: GpSystemAssigner,
  problems: ImportProblem[],
): Promise<number> {
  let changed = 0;
  for (let start = 0; start < rows.length; start += BATCH) {
    const batch = rows.slice(start, start + BATCH);
    const cols = {
      code: [] as string[], name: [] as string[], region: [] as string[], icb: [] as string[], subIcb: [] as (string | null)[],
      address: [] as string[], postcode: [] as (string | null)[], phone: [] as (string | null)[], open: [] as (string | null)[],
      close: [] as (string | null)[], status: [] as string[], setting: [] as (number | null)[], gpSystem: [] as string[],
    };
    for (const r of batch) {
      const geo = resolveGeography(r, hierarchy);
      if (!geo.resolved) {
        const commissioner = r.commissioner ? `neither is commissioner "${r.commissioner}"` : 'the row names no commissioner';
        problems.push({
          file,
          line: r.line,
          severity: 'warning',
          reason: `${r.odsCode}: ICB "${r.icbColumn}" is not in the hierarchy and ${commissioner}; kept with ICB "${geo.icbCode}", region "${geo.regionCode}"`,
        });
      }
      cols.code.push(r.odsCode);
      cols.name.push(r.name);
      cols.region.push(geo.regionCode);
      cols.icb.push(geo.icbCode);
      cols.subIcb.push(r.commissioner);
      // Address lines never hold line breaks once trimmed of them, so one string per practice carries the array.
      cols.address.push(r.address.map((a) => a.replace(/[\r\n]+/g, ' ')).join('\n'));
      cols.postcode.push(r.postcode);
      cols.phone.push(r.phone);
      cols.open.push(r.openDate);
      cols.close.push(r.closeDate);
      cols.status.push(r.status);
      cols.setting.push(r.prescribingSetting);
      cols.gpSystem.push(assigner.assign(r.odsCode, r.commissioner));
    }
    const result = await tx.query(
      `INSERT INTO practices AS p (ods_code, name, region_code, icb_code, sub_icb_code, address, postcode, phone,
         open_date, close_date, status, prescribing_setting, gp_system, gp_system_source, imported_at)
       SELECT u.code, u.name, u.region, u.icb, u.sub_icb, string_to_array(u.address, E'\\n'), u.postcode, u.phone,
         u.open, u.close, u.status, u.setting, u.gp_system, 'assigned', now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
         $9::date[], $10::date[], $11::text[], $12::integer[], $13::text[])
         AS u(code, name, region, icb, sub_icb, address, postcode, phone, open, close, status, setting, gp_system)
       ON CONFLICT (ods_code) DO UPDATE SET
         name = EXCLUDED.name, region_code = EXCLUDED.region_code, icb_code = EXCLUDED.icb_code,
         sub_icb_code = EXCLUDED.sub_icb_code, address = EXCLUDED.address, postcode = EXCLUDED.postcode,
         phone = EXCLUDED.phone, open_date = EXCLUDED.open_date, close_date = EXCLUDED.close_date,
         status = EXCLUDED.status, prescribing_setting = EXCLUDED.prescribing_setting,
         -- A system known from supplier data outranks an assigned one.
         gp_system = CASE WHEN p.gp_system_source = 'assigned' THEN EXCLUDED.gp_system ELSE p.gp_system END,
         imported_at = EXCLUDED.imported_at
       -- Unchanged rows are left alone, so a re-import writes nothing and reports no changes.
       WHERE (p.name, p.region_code, p.icb_code, p.sub_icb_code, p.address, p.postcode, p.phone, p.open_date,
              p.close_date, p.status, p.prescribing_setting, p.gp_system)
         IS DISTINCT FROM
             (EXCLUDED.name, EXCLUDED.region_code, EXCLUDED.icb_code, EXCLUDED.sub_icb_code, EXCLUDED.address,
              EXCLUDED.postcode, EXCLUDED.phone, EXCLUDED.open_date, EXCLUDED.close_date, EXCLUDED.status,
              EXCLUDED.prescribing_setting,
              CASE WHEN p.gp_system_source = 'assigned' THEN EXCLUDED.gp_system ELSE p.gp_system END)
       RETURNING p.ods_code`,
      [cols.code, cols.name, cols.region, cols.icb, cols.subIcb, cols.address, cols.postcode, cols.phone,
        cols.open, cols.close, cols.status, cols.setting, cols.gpSystem],
    );
    changed += result.length;
  }
  return changed;
}

async function reassignGpSystems(tx: Queryable, assigner: GpSystemAssigner): Promise<void> {
  const rows = await tx.query<{ ods_code: string; sub_icb_code: string | null }>(
    "SELECT ods_code, sub_icb_code FROM practices WHERE gp_system_source = 'assigned'",
  );
  await tx.query(
    `UPDATE practices p SET gp_system = u.gp_system FROM unnest($1::text[], $2::text[]) AS u(code, gp_system)
     WHERE p.ods_code = u.code AND p.gp_system_source = 'assigned' AND p.gp_system IS DISTINCT FROM u.gp_system`,
    [rows.map((r) => r.ods_code), rows.map((r) => assigner.assign(r.ods_code, r.sub_icb_code))],
  );
}

// ---- entry points ----

async function readOdsSources(paths: string[]): Promise<{ sources: OdsSource[]; unreadable: ImportProblem[] }> {
  const sources: OdsSource[] = [];
  const unreadable: ImportProblem[] = [];
  for (const p of paths) {
    try {
      sources.push({ path: p, text: await readFile(p, 'utf8') });
    } catch (err) {
      unreadable.push({ file: p, reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, severity: 'error' });
    }
  }
  return { sources, unreadable };
}

/** Reads and validates the named files; unreadable ones become file-level problems. */
export async function planOdsFiles(paths: string[]): Promise<OdsImportPlan> {
  const unique = [...new Set(paths)];
  const { sources, unreadable } = await readOdsSources(unique);
  return planOdsImport(sources, { givenOrder: unique, problems: unreadable });
}

/** Imports the named files (any of the three kinds, in any order). */
export async function importOdsFiles(db: Store, paths: string[]): Promise<OdsImportReport> {
  const plan = await planOdsFiles(paths);
  return plan.goodRows > 0 ? applyOdsImport(db, plan) : reportWithoutApplying(plan);
}

const SETTINGS_KEY = 'reference.ods-import';
/** Bump when the import's rules change, so stores imported under the old rules import again. */
const IMPORT_RULES_VERSION = 'ods-import/2';

export interface DirectoryImportResult extends OdsImportReport {
  /** True when the same files had already been imported: nothing was read into the store. */
  unchanged: boolean;
}

/**
 * Imports the three files from a folder (start-up's embedded default), skipping the work when a content hash
 * of the same files under the same rules is already recorded, so restarts stay fast.
 */
export async function importOdsDirectory(db: Store, dir: string): Promise<DirectoryImportResult> {
  const names = Object.values(ODS_FILE_NAMES);
  const sources: OdsSource[] = [];
  for (const name of names) {
    const text = await readFile(path.join(dir, name), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text !== undefined) sources.push({ path: path.join(dir, name), text });
  }
  if (sources.length === 0) throw new Error(`no ODS files in ${dir} (looked for ${names.join(', ')})`);

  const hash = createHash('sha256').update(IMPORT_RULES_VERSION);
  for (const s of sources) hash.update(`\0${path.basename(s.path)}\0${s.text}`);
  const digest = hash.digest('hex');
  const [stored] = await db.query<{ value: { hash?: string; imported?: number; skipped?: number; warnings?: number } }>(
    'SELECT value FROM settings WHERE key = $1', [SETTINGS_KEY],
  );
  if (stored?.value?.hash === digest) {
    const v = stored.value;
    return { files: [], problems: [], imported: v.imported ?? 0, skipped: v.skipped ?? 0, warnings: v.warnings ?? 0, unchanged: true };
  }

  const plan = planOdsImport(sources);
  const report = plan.goodRows > 0 ? await applyOdsImport(db, plan) : reportWithoutApplying(plan);
  if (report.imported > 0) {
    const value = { hash: digest, importedAt: new Date().toISOString(), imported: report.imported, skipped: report.skipped, warnings: report.warnings };
    await db.query(
      'INSERT INTO settings (key, value) VALUES ($1, $2::text::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
      [SETTINGS_KEY, JSON.stringify(value)],
    );
  }
  return { ...report, unchanged: false };
}
