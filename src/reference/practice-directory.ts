// The practices, ICBs and regions held in memory for per-request lookups: loaded once from the store, then plain Map reads.
import type { Queryable } from '../store/store.ts';
import type { GpSystem } from './gp-system-assignment.ts';
import { isEnglandRegion } from './regions.ts';

export type PracticeStatus = 'A' | 'C' | 'D' | 'P';

export interface Practice {
  odsCode: string;
  name: string;
  icbCode: string;
  regionCode: string;
  regionName: string | null;
  /** The commissioner (sub-ICB location, or a former CCG in older extracts). */
  subIcbCode: string | null;
  /** A active, C closed, D dormant, P proposed. */
  status: PracticeStatus;
  /** YYYY-MM-DD. */
  closeDate: string | null;
  gpSystem: GpSystem;
  address: readonly string[];
  postcode: string | null;
  phone: string | null;
  /** Prescribing setting 4; other settings are out-of-hours, walk-in centres, prisons and so on. */
  isGpPractice: boolean;
  /** In a current (or former) NHS England region; false for Wales, the islands and non-geographic codes. */
  inEngland: boolean;
}

export interface IcbSummary {
  code: string;
  regionCode: string;
  regionName: string | null;
  inEngland: boolean;
  /** Every practice record under the ICB, whatever its status or setting. */
  practiceCount: number;
  /** Active GP practices (status A, prescribing setting 4). */
  activeGpPracticeCount: number;
}

export interface PracticeDirectory {
  readonly size: number;
  get(odsCode: string): Practice | undefined;
  practicesInIcb(icbCode: string): readonly Practice[];
  listIcbs(): readonly IcbSummary[];
}

// A type alias, not an interface: the store's Row constraint needs an implicit index signature.
type PracticeRecord = {
  ods_code: string;
  name: string;
  icb_code: string;
  region_code: string;
  region_name: string | null;
  sub_icb_code: string | null;
  status: PracticeStatus;
  close_date: string | null;
  gp_system: GpSystem;
  address: string[] | null;
  postcode: string | null;
  phone: string | null;
  prescribing_setting: number | null;
};

export async function loadPracticeDirectory(db: Queryable): Promise<PracticeDirectory> {
  const [rows, icbRows] = await Promise.all([
    // Dates as text: drivers turn a date into a local-midnight Date, which shifts days across time zones.
    db.query<PracticeRecord>(
      `SELECT p.ods_code, p.name, p.icb_code, p.region_code, r.name AS region_name, p.sub_icb_code, p.status,
              to_char(p.close_date, 'YYYY-MM-DD') AS close_date, p.gp_system, p.address, p.postcode, p.phone,
              p.prescribing_setting
       FROM practices p LEFT JOIN regions r ON r.code = p.region_code`,
    ),
    db.query<{ code: string; region_code: string; region_name: string | null }>(
      'SELECT i.code, i.region_code, r.name AS region_name FROM icbs i LEFT JOIN regions r ON r.code = i.region_code ORDER BY i.code',
    ),
  ]);

  const byCode = new Map<string, Practice>();
  const byIcb = new Map<string, Practice[]>();
  for (const r of rows) {
    const practice: Practice = Object.freeze({
      odsCode: r.ods_code,
      name: r.name,
      icbCode: r.icb_code,
      regionCode: r.region_code,
      regionName: r.region_name,
      subIcbCode: r.sub_icb_code,
      status: r.status,
      closeDate: r.close_date,
      gpSystem: r.gp_system,
      address: Object.freeze([...(r.address ?? [])]),
      postcode: r.postcode,
      phone: r.phone,
      isGpPractice: r.prescribing_setting === 4,
      inEngland: isEnglandRegion(r.region_code),
    });
    byCode.set(practice.odsCode, practice);
    const list = byIcb.get(practice.icbCode);
    if (list) list.push(practice);
    else byIcb.set(practice.icbCode, [practice]);
  }
  for (const list of byIcb.values()) list.sort((a, b) => (a.odsCode < b.odsCode ? -1 : 1));

  const icbs: IcbSummary[] = icbRows.map((i) => {
    const practices = byIcb.get(i.code) ?? [];
    return Object.freeze({
      code: i.code,
      regionCode: i.region_code,
      regionName: i.region_name,
      inEngland: isEnglandRegion(i.region_code),
      practiceCount: practices.length,
      activeGpPracticeCount: practices.filter((p) => p.status === 'A' && p.isGpPractice).length,
    });
  });
  const none: readonly Practice[] = Object.freeze([]);
  for (const [code, list] of byIcb) byIcb.set(code, Object.freeze(list) as Practice[]);

  return {
    size: byCode.size,
    // Codes arrive from identity tokens and URLs; ODS codes are upper case, so normalise rather than miss.
    get: (odsCode) => byCode.get(odsCode) ?? byCode.get(odsCode.trim().toUpperCase()),
    practicesInIcb: (icbCode) => byIcb.get(icbCode) ?? none,
    listIcbs: () => icbs,
  };
}
