// "What does this person see?": an in-memory index over the catalog and commissioning, rebuilt when either
// changes, so resolving a user's services is a few map lookups, never a scan per request.
import type { IdentityLevel } from '../identity/provider/accounts.ts';
import { meetsLevel } from '../access/request-context.ts';
import type { CatalogService, Commissioning, HubCategory } from './catalog.ts';

/** What resolution needs to know of a practice (from the ODS reference data). */
export interface PracticeInfo {
  odsCode: string;
  name: string;
  icbCode: string;
  regionCode: string;
  status: string;
  closeDate?: string | Date | null;
  gpSystem: string;
  inEngland: boolean;
}

export interface PracticeLookup {
  get(odsCode: string): PracticeInfo | undefined;
}

export type PracticeProblem = 'no-registration' | 'unknown-practice' | 'closed-practice' | 'outside-england';

export interface ResolvedService {
  service: CatalogService;
  /** False: listed with a route to prove identity, not usable yet. */
  usable: boolean;
}

export interface Resolution {
  practice?: PracticeInfo;
  practiceProblem?: PracticeProblem;
  services: ResolvedService[];
  byCategory: Record<HubCategory, ResolvedService[]>;
  /** True when the practice has no locally commissioned services beyond its GP system. */
  noLocalServices: boolean;
  /** Identifies this result for caching rendered fragments. */
  key: string;
}

interface Window {
  serviceId: string;
  practiceCodes?: Set<string>;
  start?: string;
  end?: string;
}

const CATEGORIES: HubCategory[] = ['gp', 'record', 'consultations', 'national'];

export class CatalogIndex {
  private national: CatalogService[] = [];
  private services = new Map<string, CatalogService>();
  private byIcb = new Map<string, Window[]>();
  private everywhere: Window[] = [];
  private cache = new Map<string, Resolution>();
  private version = 0;

  constructor(private readonly practices: PracticeLookup) {}

  /** Replaces the index; cheap enough to run on every catalog change. */
  rebuild(services: CatalogService[], commissioning: Commissioning[]): void {
    const live = services.filter((s) => s.status === 'live');
    this.services = new Map(live.map((s) => [s.id, s]));
    this.national = live.filter((s) => s.kind === 'national').sort(bySortOrder);
    const byIcb = new Map<string, Window[]>();
    const everywhere: Window[] = [];
    for (const c of commissioning) {
      if (!this.services.has(c.serviceId)) continue;
      const w: Window = { serviceId: c.serviceId, practiceCodes: c.practiceCodes ? new Set(c.practiceCodes) : undefined, start: c.startDate, end: c.endDate };
      if (c.icbCode === '*') everywhere.push(w);
      else byIcb.set(c.icbCode, [...(byIcb.get(c.icbCode) ?? []), w]);
    }
    this.byIcb = byIcb;
    this.everywhere = everywhere;
    this.cache = new Map();
    this.version++;
  }

  get catalogVersion(): number {
    return this.version;
  }

  /** The practice with this ODS code from the practice directory, whatever its status. */
  practice(odsCode: string): PracticeInfo | undefined {
    return this.practices.get(odsCode);
  }

  nationalServices(): CatalogService[] {
    return this.national;
  }

  service(id: string): CatalogService | undefined {
    return this.services.get(id);
  }

  resolve(gpOdsCode: string | undefined, level: IdentityLevel, today: string = new Date().toISOString().slice(0, 10)): Resolution {
    const cacheKey = `${this.version}|${gpOdsCode ?? '-'}|${level}|${today}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const result = this.compute(gpOdsCode, level, today, cacheKey);
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(cacheKey, result);
    return result;
  }

  private compute(gpOdsCode: string | undefined, level: IdentityLevel, today: string, key: string): Resolution {
    let practice: PracticeInfo | undefined;
    let practiceProblem: PracticeProblem | undefined;
    if (!gpOdsCode) practiceProblem = 'no-registration';
    else {
      practice = this.practices.get(gpOdsCode);
      if (!practice) practiceProblem = 'unknown-practice';
      else if (practice.status === 'C' || isPast(practice.closeDate, today)) practiceProblem = 'closed-practice';
      else if (!practice.inEngland) practiceProblem = 'outside-england';
    }
    const chosen: CatalogService[] = [...this.national];
    if (practice && !practiceProblem) {
      const seen = new Set<string>();
      for (const w of [...this.everywhere, ...(this.byIcb.get(practice.icbCode) ?? [])]) {
        if (seen.has(w.serviceId)) continue;
        if (w.practiceCodes && !w.practiceCodes.has(practice.odsCode)) continue;
        if ((w.start && w.start > today) || (w.end && w.end < today)) continue;
        const s = this.services.get(w.serviceId)!;
        if (s.type === 'gp-system' && s.gpSystem && s.gpSystem !== practice.gpSystem) continue;
        seen.add(w.serviceId);
        chosen.push(s);
      }
    }
    chosen.sort(bySortOrder);
    const services = chosen.map((service) => ({ service, usable: meetsLevel(level, service.minIdentityLevel) }));
    const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, services.filter((r) => r.service.category === c)])) as Record<HubCategory, ResolvedService[]>;
    const noLocalServices = !services.some((r) => r.service.kind === 'local' && r.service.type !== 'gp-system');
    return { practice, practiceProblem, services, byCategory, noLocalServices, key };
  }
}

function bySortOrder(a: CatalogService, b: CatalogService): number {
  return a.sortOrder - b.sortOrder || a.name.localeCompare(b.name);
}

function isPast(date: string | Date | null | undefined, today: string): boolean {
  if (!date) return false;
  const iso = date instanceof Date ? date.toISOString().slice(0, 10) : String(date).slice(0, 10);
  return iso <= today;
}
