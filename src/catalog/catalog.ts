// The catalog of services and their commissioning: plain domain tables, with change notification so every node
// rebuilds its in-memory resolution index.
import type { Queryable, Store } from '../store/store.ts';
import type { IdentityLevel } from '../identity/provider/accounts.ts';

export type ServiceKind = 'national' | 'local';
export type ServiceType = 'gp-system' | 'online-consultation' | 'phr' | 'national';
export type IntegrationMethod = 'native' | 'web';
export type ServiceStatus = 'proposed' | 'in-development' | 'assurance' | 'live' | 'retired';
export type HubCategory = 'gp' | 'record' | 'consultations' | 'national';

export interface CatalogService {
  id: string;
  name: string;
  description: string;
  kind: ServiceKind;
  type: ServiceType;
  supplier: string;
  integrationMethod: IntegrationMethod;
  minIdentityLevel: IdentityLevel;
  status: ServiceStatus;
  category: HubCategory;
  webUrl?: string;
  /** gp-system services: the clinical system a practice must run. */
  gpSystem?: string;
  sortOrder: number;
}

export interface Commissioning {
  id: string;
  serviceId: string;
  /** An ICB code, or '*' for every ICB (national frameworks such as GP IT Futures). */
  icbCode: string;
  /** Undefined: every practice in the ICB. */
  practiceCodes?: string[];
  startDate?: string;
  endDate?: string;
  createdBy: string;
}

export const CATALOG_CHANNEL = 'catalog_changed';

export async function listServices(db: Queryable): Promise<CatalogService[]> {
  const rows = await db.query<Record<string, unknown>>('SELECT * FROM services ORDER BY sort_order, name');
  return rows.map((r) => ({
    id: r.id as string,
    name: r.name as string,
    description: r.description as string,
    kind: r.kind as ServiceKind,
    type: r.type as ServiceType,
    supplier: r.supplier as string,
    integrationMethod: r.integration_method as IntegrationMethod,
    minIdentityLevel: r.min_identity_level as IdentityLevel,
    status: r.status as ServiceStatus,
    category: r.category as HubCategory,
    webUrl: (r.web_url as string) ?? undefined,
    gpSystem: (r.gp_system as string) ?? undefined,
    sortOrder: r.sort_order as number,
  }));
}

const isoDate = (v: unknown) => (v == null ? undefined : v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));

export async function listCommissioning(db: Queryable): Promise<Commissioning[]> {
  const rows = await db.query<Record<string, unknown>>('SELECT * FROM commissioning ORDER BY id');
  return rows.map((r) => ({
    id: String(r.id),
    serviceId: r.service_id as string,
    icbCode: r.icb_code as string,
    practiceCodes: (r.practice_codes as string[] | null) ?? undefined,
    startDate: isoDate(r.start_date),
    endDate: isoDate(r.end_date),
    createdBy: r.created_by as string,
  }));
}

export async function upsertService(db: Queryable, s: CatalogService): Promise<void> {
  await db.query(
    `INSERT INTO services (id, name, description, kind, type, supplier, integration_method, min_identity_level, status, category, web_url, gp_system, sort_order, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13, now())
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, kind = EXCLUDED.kind, type = EXCLUDED.type,
       supplier = EXCLUDED.supplier, integration_method = EXCLUDED.integration_method, min_identity_level = EXCLUDED.min_identity_level,
       status = EXCLUDED.status, category = EXCLUDED.category, web_url = EXCLUDED.web_url, gp_system = EXCLUDED.gp_system,
       sort_order = EXCLUDED.sort_order, updated_at = now()`,
    [s.id, s.name, s.description, s.kind, s.type, s.supplier, s.integrationMethod, s.minIdentityLevel, s.status, s.category, s.webUrl ?? null, s.gpSystem ?? null, s.sortOrder],
  );
}

export async function addCommissioning(db: Queryable, c: Omit<Commissioning, 'id'>): Promise<string> {
  const rows = await db.query<{ id: string }>(
    `INSERT INTO commissioning (service_id, icb_code, practice_codes, start_date, end_date, created_by) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`,
    [c.serviceId, c.icbCode, c.practiceCodes ?? null, c.startDate ?? null, c.endDate ?? null, c.createdBy],
  );
  return String(rows[0].id);
}

export async function removeCommissioning(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM commissioning WHERE id = $1', [id]);
}

/** Ends a commissioning on a date (its last day), keeping the row as history rather than deleting it. */
export async function endCommissioning(db: Queryable, id: string, endDate: string): Promise<void> {
  await db.query('UPDATE commissioning SET end_date = $2 WHERE id = $1', [id, endDate]);
}

/** Tells every node (including this one) to rebuild its index. */
export async function notifyCatalogChanged(db: Store): Promise<void> {
  await db.query(`SELECT pg_notify('${CATALOG_CHANNEL}', $1)`, [String(Date.now())]);
}
