// The supplier registry: organisations, contacts, the frameworks they are on (which govern the service types they
// may propose) and a dated log of engagement. The national app team keeps it; a supplier sees its own entry.
import type { AuditLog } from '../audit/audit.ts';
import type { PracticeDirectory } from '../reference/practice-directory.ts';
import type { Queryable, Store } from '../store/store.ts';
import { auditChange, denied, hasRole, Invalid, invalidField, notFound, requireRole, type GovernanceActor } from './governance-access.ts';

export interface GovernanceDeps {
  db: Store;
  audit: AuditLog;
  practices: PracticeDirectory;
}

export type ProposableType = 'gp-system' | 'online-consultation' | 'phr';
export type FrameworkCode = 'gp-it-futures' | 'dps' | 'itp';

export const FRAMEWORKS: Record<FrameworkCode, { name: string; serviceType: ProposableType }> = {
  'gp-it-futures': { name: 'GP IT Futures', serviceType: 'gp-system' },
  dps: { name: 'Dynamic Purchasing System', serviceType: 'online-consultation' },
  itp: { name: 'Innovation and Technology Payment', serviceType: 'phr' },
};

export const SERVICE_TYPE_NAMES: Record<ProposableType, string> = { 'gp-system': 'GP system', 'online-consultation': 'Online consultation', phr: 'Personal health record' };

export interface Supplier {
  id: string;
  name: string;
  contactName: string | null;
  contactEmail: string | null;
  frameworks: { framework: FrameworkCode; name: string; serviceType: ProposableType; awardedOn: string | null }[];
}

export interface Engagement {
  id: string;
  onDate: string;
  kind: 'meeting' | 'agreement' | 'issue';
  summary: string;
  recordedBy: string;
  recordedAt: Date;
}

const isoDate = (v: unknown): string | null => (v ? (v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10)) : null);

export async function listSuppliers(db: Queryable): Promise<Supplier[]> {
  const rows = await db.query<{ id: string; name: string; contact_name: string | null; contact_email: string | null }>('SELECT id, name, contact_name, contact_email FROM suppliers ORDER BY name');
  const fw = await db.query<{ supplier_id: string; framework: FrameworkCode; awarded_on: unknown }>('SELECT supplier_id, framework, awarded_on FROM supplier_frameworks ORDER BY framework');
  return rows.map((r) => ({
    id: r.id, name: r.name, contactName: r.contact_name, contactEmail: r.contact_email,
    frameworks: fw.filter((f) => f.supplier_id === r.id).map((f) => ({ framework: f.framework, ...FRAMEWORKS[f.framework], awardedOn: isoDate(f.awarded_on) })),
  }));
}

export async function findSupplier(db: Queryable, id: string): Promise<Supplier | undefined> {
  return (await listSuppliers(db)).find((s) => s.id === id);
}

/** The service types a supplier may propose: one per framework it is on. */
export function allowedTypes(s: Supplier): ProposableType[] {
  return [...new Set(s.frameworks.map((f) => f.serviceType))];
}

/** A supplier's registry entry and engagement log: the national team sees any, a supplier only its own. */
export async function supplierRecord(db: Queryable, actor: GovernanceActor, id: string): Promise<{ supplier: Supplier; engagement: Engagement[] }> {
  if (!hasRole(actor, 'national-team') && !hasRole(actor, 'supplier', id)) throw denied('You can only see your own organisation\'s registry entry');
  const supplier = await findSupplier(db, id);
  if (!supplier) throw notFound('No supplier with that id');
  const rows = await db.query<{ id: string; on_date: unknown; kind: Engagement['kind']; summary: string; recorded_by: string; recorded_at: string }>(
    'SELECT * FROM engagement_log WHERE supplier_id = $1 ORDER BY on_date DESC, id DESC', [id]);
  return { supplier, engagement: rows.map((r) => ({ id: String(r.id), onDate: isoDate(r.on_date)!, kind: r.kind, summary: r.summary, recordedBy: r.recorded_by, recordedAt: new Date(r.recorded_at) })) };
}

export interface SupplierInput {
  id: string;
  name: string;
  contactName?: string;
  contactEmail?: string;
  frameworks: string[];
}

export async function registerSupplier(deps: GovernanceDeps, actor: GovernanceActor, input: SupplierInput): Promise<Supplier> {
  const role = requireRole(actor, 'national-team', 'register suppliers');
  const bad = new Invalid();
  if (!/^[a-z0-9][a-z0-9-]{1,39}$/.test(input.id ?? '')) bad.add('id', 'Enter a supplier id of 2 to 40 lower-case letters, digits or hyphens');
  if (!input.name?.trim() || input.name.length > 200) bad.add('name', 'Enter the supplier\'s name');
  if (input.contactEmail && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(input.contactEmail)) bad.add('contactEmail', 'Enter an email address in the correct format, like name@example.com');
  if (!input.frameworks.length) bad.add('frameworks', 'Select at least one framework the supplier is on');
  else if (input.frameworks.some((f) => !(f in FRAMEWORKS))) bad.add('frameworks', 'Select frameworks from the list');
  bad.throwIfAny();
  if (await findSupplier(deps.db, input.id)) throw invalidField('id', 'A supplier with that id is already registered');
  await deps.db.transaction(async (tx) => {
    await tx.query('INSERT INTO suppliers (id, name, contact_name, contact_email) VALUES ($1, $2, $3, $4)', [input.id, input.name.trim(), input.contactName?.trim() || null, input.contactEmail?.trim() || null]);
    for (const f of input.frameworks) await tx.query('INSERT INTO supplier_frameworks (supplier_id, framework, awarded_on) VALUES ($1, $2, current_date)', [input.id, f]);
    await auditChange(deps.audit, tx, actor, role, { action: 'register-supplier', resource: `supplier:${input.id}`, after: input });
  });
  return (await findSupplier(deps.db, input.id))!;
}

export async function logEngagement(deps: GovernanceDeps, actor: GovernanceActor, supplierId: string, input: { onDate: string; kind: string; summary: string }): Promise<void> {
  const role = requireRole(actor, 'national-team', 'log engagement with suppliers');
  if (!(await findSupplier(deps.db, supplierId))) throw notFound('No supplier with that id');
  const bad = new Invalid();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.onDate ?? '') || Number.isNaN(Date.parse(input.onDate))) bad.add('onDate', 'Enter the date of the engagement as a real date');
  if (!['meeting', 'agreement', 'issue'].includes(input.kind)) bad.add('kind', 'Select whether it was a meeting, an agreement or an issue');
  if (!input.summary?.trim()) bad.add('summary', 'Enter a summary of the engagement');
  else if (input.summary.length > 2000) bad.add('summary', 'Summary must be 2,000 characters or fewer');
  bad.throwIfAny();
  await deps.db.transaction(async (tx) => {
    await tx.query('INSERT INTO engagement_log (supplier_id, on_date, kind, summary, recorded_by) VALUES ($1, $2, $3, $4, $5)', [supplierId, input.onDate, input.kind, input.summary.trim(), actor.sub]);
    await auditChange(deps.audit, tx, actor, role, { action: 'log-engagement', resource: `supplier:${supplierId}`, after: input });
  });
}

/** The demo registry: the suppliers behind the demo catalog, each on the framework for its service type. */
export async function seedDemoSuppliers(db: Queryable): Promise<void> {
  const demo: [string, string, FrameworkCode][] = [
    ['emis', 'EMIS (simulated)', 'gp-it-futures'], ['tpp', 'TPP (simulated)', 'gp-it-futures'], ['vision', 'Vision (simulated)', 'gp-it-futures'],
    ['microtest', 'Microtest (simulated)', 'gp-it-futures'], ['askdoc', 'AskDoc Online (demo supplier)', 'dps'],
    ['triagepoint', 'TriagePoint (demo supplier)', 'dps'], ['carebook', 'CareBook (demo supplier)', 'itp'],
  ];
  for (const [id, name, framework] of demo) {
    await db.query('INSERT INTO suppliers (id, name, contact_email) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [id, name, `partners@${id}.example`]);
    await db.query('INSERT INTO supplier_frameworks (supplier_id, framework, awarded_on) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [id, framework, '2024-04-01']);
  }
}
