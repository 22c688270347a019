// ICB commissioning of live local services: what an ICB may commission, its current and past commissioning, and the
// changes (commission for all or chosen practices, decommission with a reason). Checks come first, then one
// transaction with its audit row; every node's citizen catalog is then told to rebuild, so citizens see it at once.
import type { AuditLog } from '../audit/audit.ts';
import {
  addCommissioning, endCommissioning, listCommissioning, listServices, notifyCatalogChanged, removeCommissioning,
  type CatalogService, type Commissioning,
} from '../catalog/catalog.ts';
import type { CatalogIndex } from '../catalog/resolution.ts';
import { auditChange, conflict, denied, hasRole, Invalid, notFound, type GovernanceActor } from '../governance/governance-access.ts';
import type { StaffRole } from '../identity/provider/accounts.ts';
import type { PracticeDirectory } from '../reference/practice-directory.ts';
import type { Store } from '../store/store.ts';

export interface CommissioningDeps {
  db: Store;
  audit: AuditLog;
  practices: PracticeDirectory;
  /** This node's index: rebuilt straight after a change so the next page here already shows it. */
  catalog?: CatalogIndex;
}

/** ICB code used for services every ICB has through a national framework. */
export const NATIONAL_ICB = '*';
export const GP_IT_FUTURES = 'GP IT Futures';

export interface CommissioningRecord extends Commissioning {
  service?: CatalogService;
  /** 'current' covers commissioning that starts in the future too. */
  state: 'current' | 'ended';
  /** The decommissioning, when someone ended it here (from the audit trail). */
  ended?: { on: string; by: string; reason: string; withdrawn: boolean };
}

export interface CommissioningInput {
  serviceId?: string;
  scope?: string;
  /** Ticked practice checkboxes. */
  practices?: string[];
  /** Comma-separated ODS codes typed in. */
  practiceCodes?: string;
  start?: DateParts;
  end?: DateParts;
}

export interface DateParts { day?: string; month?: string; year?: string }

export interface CheckedCommissioning {
  service: CatalogService;
  icbCode: string;
  /** Undefined: every practice in the ICB. */
  practiceCodes?: string[];
  startDate: string;
  endDate?: string;
}

export const todayIso = (now = new Date()): string => now.toISOString().slice(0, 10);

const dayBefore = (iso: string): string => new Date(Date.parse(`${iso}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/** The ICB the actor commissions for; anyone else may not change commissioning. */
export function commissionerRole(actor: GovernanceActor, icbCode?: string): StaffRole {
  const role = actor.roles.find((r) => r.role === 'commissioner' && (icbCode === undefined || r.organisation === icbCode));
  if (!role) {
    if (icbCode && actor.roles.some((r) => r.role === 'commissioner')) throw denied(`Only the commissioner of ICB ${icbCode} can change its commissioning`);
    throw denied('Only commissioners (ICBs) can change commissioning');
  }
  return role;
}

/** Which ICB's commissioning the actor may see: their own as a commissioner, any as the national team. */
export function viewableIcb(deps: Pick<CommissioningDeps, 'practices'>, actor: GovernanceActor, requested?: string): string {
  const own = actor.roles.find((r) => r.role === 'commissioner');
  if (hasRole(actor, 'national-team')) {
    const code = requested ?? own?.organisation ?? deps.practices.listIcbs().find((i) => i.inEngland)?.code;
    if (!code || !deps.practices.listIcbs().some((i) => i.code === code)) throw notFound('No ICB with that code');
    return code;
  }
  if (!own) throw denied('Only commissioners and the national app team can see commissioning');
  if (requested && requested !== own.organisation) throw denied('You can only see your own ICB\'s commissioning');
  return own.organisation;
}

/** Live local services: those an ICB could commission, and GP services that come through GP IT Futures. */
export async function commissionableServices(db: Store): Promise<{ local: CatalogService[]; national: CatalogService[] }> {
  const live = (await listServices(db)).filter((s) => s.status === 'live' && s.kind === 'local');
  return { local: live.filter((s) => s.type !== 'gp-system'), national: live.filter((s) => s.type === 'gp-system') };
}

/** One ICB's commissioning: current (including future starts) and past, with the reason where it was ended here. */
export async function icbCommissioning(deps: CommissioningDeps, actor: GovernanceActor, icbCode: string, today = todayIso()): Promise<{ current: CommissioningRecord[]; past: CommissioningRecord[]; national: CommissioningRecord[] }> {
  viewableIcb(deps, actor, icbCode);
  const [services, all, endings] = await Promise.all([listServices(deps.db), listCommissioning(deps.db), decommissionings(deps.db, icbCode)]);
  const byId = new Map(services.map((s) => [s.id, s]));
  const record = (c: Commissioning): CommissioningRecord => {
    const state = c.endDate && c.endDate < today ? 'ended' : 'current';
    const e = endings.get(c.id);
    return { ...c, service: byId.get(c.serviceId), state, ...(e ? { ended: e } : {}) };
  };
  const own = all.filter((c) => c.icbCode === icbCode).map(record);
  // Withdrawn before it started: the row is gone, the audit row keeps what it was.
  const withdrawn: CommissioningRecord[] = [...endings.values()].filter((e) => e.withdrawn && e.before).map((e) => ({ ...e.before!, service: byId.get(e.before!.serviceId), state: 'ended', ended: e }));
  return {
    current: own.filter((c) => c.state === 'current'),
    past: [...own.filter((c) => c.state === 'ended'), ...withdrawn].sort((a, b) => (b.ended?.on ?? b.endDate ?? '').localeCompare(a.ended?.on ?? a.endDate ?? '')),
    national: all.filter((c) => c.icbCode === NATIONAL_ICB).map(record),
  };
}

async function decommissionings(db: Store, icbCode: string): Promise<Map<string, { on: string; by: string; reason: string; withdrawn: boolean; before?: Commissioning }>> {
  const rows = await db.query<{ resource: string; actor_id: string; at: unknown; detail: { before?: Commissioning; after?: Commissioning | null; reason?: string } | null }>(
    `SELECT resource, actor_id, at, detail FROM audit_events WHERE action = 'decommission' AND resource LIKE 'commissioning:%' AND organisation = $1 AND outcome = 'success' ORDER BY id`,
    [`commissioner:${icbCode}`]);
  return new Map(rows.map((r) => [r.resource.slice('commissioning:'.length), {
    on: new Date(r.at as string).toISOString().slice(0, 10), by: r.actor_id, reason: r.detail?.reason ?? '',
    withdrawn: !r.detail?.after, before: r.detail?.before,
  }]));
}

function dateOf(parts: DateParts | undefined): { iso: string; given: boolean; real: boolean } {
  const day = (parts?.day ?? '').trim(), month = (parts?.month ?? '').trim(), year = (parts?.year ?? '').trim();
  const given = Boolean(day || month || year);
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return { iso: '', given, real: false };
  const iso = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return { iso, given, real: !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso };
}

/** Splits typed ODS codes on commas, spaces or new lines. */
export function parseCodes(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,;]+/).map((c) => c.trim().toUpperCase()).filter(Boolean);
}

/** Validates a commissioning for the actor's ICB without changing anything; every problem is reported at once. */
export async function checkCommissioning(deps: CommissioningDeps, actor: GovernanceActor, input: CommissioningInput, today = todayIso()): Promise<CheckedCommissioning> {
  const role = commissionerRole(actor);
  const icbCode = role.organisation;
  const invalid = new Invalid();
  const { local, national } = await commissionableServices(deps.db);
  let service: CatalogService | undefined;
  if (!input.serviceId) invalid.add('serviceId', 'Select the service to commission');
  else if (national.some((s) => s.id === input.serviceId)) invalid.add('serviceId', `GP services are commissioned nationally through ${GP_IT_FUTURES} for every ICB; they cannot be changed here`);
  else if (!(service = local.find((s) => s.id === input.serviceId))) invalid.add('serviceId', 'Select a live local service from the list');
  else {
    const existing = (await listCommissioning(deps.db)).find((c) => c.icbCode === icbCode && c.serviceId === service!.id && !(c.endDate && c.endDate < today));
    if (existing) invalid.add('serviceId', `Your ICB already commissions ${service.name}; decommission that first to change it`);
  }

  let practiceCodes: string[] | undefined;
  if (input.scope !== 'all' && input.scope !== 'chosen') invalid.add('scope', 'Select whether it is for all your practices or chosen practices');
  // Practices given are checked unless the choice is all practices, so a typo is reported with the first answer.
  if (input.scope !== 'all') {
    const codes = [...new Set([...(input.practices ?? []).map((c) => c.trim().toUpperCase()), ...parseCodes(input.practiceCodes)])];
    const problems: string[] = [];
    for (const code of codes) {
      const p = deps.practices.get(code);
      if (!/^[A-Z0-9]{3,8}$/.test(code) || !p) problems.push(`${code} is not a practice in the ODS directory`);
      else if (p.icbCode !== icbCode) problems.push(`${code} (${p.name}) is a practice in ICB ${p.icbCode}, not in your ICB ${icbCode}`);
      else if (p.status === 'C') problems.push(`${code} (${p.name}) has closed`);
    }
    if (problems.length) invalid.add('practiceCodes', problems.join('; '));
    else if (input.scope === 'chosen' && !codes.length) invalid.add('practices', 'Select at least one practice, or enter their ODS codes');
    else practiceCodes = codes.sort();
  }

  const start = dateOf(input.start);
  const end = dateOf(input.end);
  if (!start.given) invalid.add('start-day', 'Enter the start date');
  else if (!start.real) invalid.add('start-day', 'The start date must be a real date, like 1 4 2026');
  else if (start.iso < today) invalid.add('start-day', 'The start date must be today or in the future');
  if (end.given) {
    if (!end.real) invalid.add('end-day', 'The end date must be a real date, like 31 3 2027');
    else if (start.real && end.iso <= start.iso) invalid.add('end-day', 'The end date must be after the start date');
    else if (end.iso < today) invalid.add('end-day', 'The end date must be in the future');
  }
  invalid.throwIfAny();
  return { service: service!, icbCode, practiceCodes, startDate: start.iso, ...(end.given ? { endDate: end.iso } : {}) };
}

async function catalogChanged(deps: CommissioningDeps): Promise<void> {
  if (deps.catalog) deps.catalog.rebuild(await listServices(deps.db), await listCommissioning(deps.db));
  await notifyCatalogChanged(deps.db);
}

/** Commissions a service for the actor's ICB; returns the new commissioning's id. */
export async function commission(deps: CommissioningDeps, actor: GovernanceActor, input: CommissioningInput, today = todayIso()): Promise<string> {
  const c = await checkCommissioning(deps, actor, input, today);
  const role = commissionerRole(actor, c.icbCode);
  const row: Omit<Commissioning, 'id'> = { serviceId: c.service.id, icbCode: c.icbCode, practiceCodes: c.practiceCodes, startDate: c.startDate, endDate: c.endDate, createdBy: actor.sub };
  const id = await deps.db.transaction(async (tx) => {
    const newId = await addCommissioning(tx, row);
    await auditChange(deps.audit, tx, actor, role, { action: 'commission', resource: `commissioning:${newId}`, before: null, after: { id: newId, ...row } });
    return newId;
  });
  await catalogChanged(deps);
  return id;
}

/**
 * Decommissions: citizens lose the service at once. One that had started is ended yesterday (its last day), keeping
 * the row as history; one that had not yet started is withdrawn (deleted), the audit row keeping what it was.
 */
export async function decommission(deps: CommissioningDeps, actor: GovernanceActor, id: string, reason: string | undefined, today = todayIso()): Promise<{ withdrawn: boolean }> {
  if (!/^\d{1,18}$/.test(id)) throw notFound('No commissioning with that reference');
  const existing = (await listCommissioning(deps.db)).find((c) => c.id === id);
  if (!existing) throw notFound('No commissioning with that reference');
  if (existing.icbCode === NATIONAL_ICB) throw denied(`GP services are commissioned nationally through ${GP_IT_FUTURES}; an ICB cannot decommission them`);
  const role = commissionerRole(actor, existing.icbCode);
  if (existing.endDate && existing.endDate < today) throw conflict('This commissioning has already ended');
  const why = (reason ?? '').trim();
  const invalid = new Invalid();
  if (!why) invalid.add('reason', 'Enter why you are decommissioning this service');
  else if (why.length > 500) invalid.add('reason', 'The reason must be 500 characters or fewer');
  invalid.throwIfAny();

  const withdrawn = Boolean(existing.startDate && existing.startDate >= today);
  const after = withdrawn ? null : { ...existing, endDate: dayBefore(today) };
  await deps.db.transaction(async (tx) => {
    if (withdrawn) await removeCommissioning(tx, id);
    else await endCommissioning(tx, id, dayBefore(today));
    // As auditChange writes it, plus the reason, which the ICB's list of past commissioning shows.
    await deps.audit.record({
      actorType: 'staff', actorId: actor.sub, organisation: `${role.role}:${role.organisation}`, action: 'decommission',
      resource: `commissioning:${id}`, outcome: 'success', requestId: actor.requestId, detail: { before: existing, after, reason: why },
    }, tx);
  });
  await catalogChanged(deps);
  return { withdrawn };
}
