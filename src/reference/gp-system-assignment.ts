// Gives every practice one of the four GP systems, deterministically, in the proportions the PCN supplier counts show.
import { createHash } from 'node:crypto';

export const GP_SYSTEMS = ['emis', 'tpp', 'vision', 'microtest'] as const;
export type GpSystem = (typeof GP_SYSTEMS)[number];

/** Practices per supplier as the PCN file counts them; "unknown" is neither EMIS nor TPP. */
export interface SupplierCounts {
  emis: number;
  tpp: number;
  unknown: number;
}

/** Fractions summing to 1. */
export type GpSystemShares = Readonly<Record<GpSystem, number>>;

/**
 * National counts from pcn_system_supplier_counts_with_icb.csv as shipped (3,604 EMIS, 2,529 TPP, 2 unknown);
 * used only when no PCN counts have been imported at all, so a bare epraccur import still gets realistic systems.
 */
export const DEFAULT_NATIONAL_COUNTS: SupplierCounts = { emis: 3604, tpp: 2529, unknown: 2 };

/**
 * The least share each of the two smaller suppliers gets. The PCN extract names only EMIS and TPP (its "unknown"
 * column holds 2 practices in England), yet the other two suppliers serve practices too; without a floor they
 * would get none, and their adapters would never be reached. 1.5 % each is an assumption, stated in
 * docs/reference-data.md, taken from EMIS and TPP in proportion.
 */
export const SMALLER_SUPPLIER_FLOOR = 0.015;

/** Shares from counts; the unknown share is split evenly between the two suppliers the data does not name. */
export function sharesFromCounts(c: SupplierCounts): GpSystemShares | undefined {
  const total = c.emis + c.tpp + c.unknown;
  if (!(total > 0)) return undefined;
  const other = Math.max(c.unknown / total / 2, SMALLER_SUPPLIER_FLOOR);
  const named = (c.emis + c.tpp) / total;
  const scale = named > 0 ? (1 - 2 * other) / named : 0;
  return { emis: (c.emis / total) * scale, tpp: (c.tpp / total) * scale, vision: other, microtest: other };
}

/** A stable point in [0, 1) for an ODS code: the same code lands on the same point on every machine and run. */
export function pointForOdsCode(odsCode: string): number {
  return createHash('sha256').update(odsCode).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** Walks the shares in a fixed order (emis, tpp, vision, microtest) and returns the slice the point falls in. */
export function pickGpSystem(point: number, shares: GpSystemShares): GpSystem {
  let edge = 0;
  for (const system of GP_SYSTEMS) {
    edge += shares[system];
    if (point < edge) return system;
  }
  // Floating-point sums can end a hair below 1; the point then belongs to the last supplier with any share.
  return [...GP_SYSTEMS].reverse().find((s) => shares[s] > 0) ?? 'emis';
}

export interface GpSystemAssigner {
  readonly national: GpSystemShares;
  /** The sub-ICB's own shares, or the national ones when the data holds no counts for it. */
  sharesFor(subIcbCode: string | null | undefined): GpSystemShares;
  assign(odsCode: string, subIcbCode: string | null | undefined): GpSystem;
}

export function createGpSystemAssigner(countsBySubIcb: ReadonlyMap<string, SupplierCounts>): GpSystemAssigner {
  const shares = new Map<string, GpSystemShares>();
  const total: SupplierCounts = { emis: 0, tpp: 0, unknown: 0 };
  for (const [subIcb, c] of countsBySubIcb) {
    const s = sharesFromCounts(c);
    if (s) shares.set(subIcb, s);
    total.emis += c.emis;
    total.tpp += c.tpp;
    total.unknown += c.unknown;
  }
  const national = sharesFromCounts(total) ?? sharesFromCounts(DEFAULT_NATIONAL_COUNTS)!;
  const sharesFor = (subIcbCode: string | null | undefined) => (subIcbCode && shares.get(subIcbCode)) || national;
  return {
    national,
    sharesFor,
    assign: (odsCode, subIcbCode) => pickGpSystem(pointForOdsCode(odsCode), sharesFor(subIcbCode)),
  };
}
