// Who may do what in governance, the outcomes a governance action can fail with, and the audit row every change
// writes (who, organisation, when, before and after).
import type { AuditLog } from '../audit/audit.ts';
import type { StaffRole } from '../identity/provider/accounts.ts';
import type { Queryable } from '../store/store.ts';

/** A staff member acting in governance: their identity and every role they hold. */
export interface GovernanceActor {
  sub: string;
  roles: readonly StaffRole[];
  requestId?: string;
}

export type GovernanceErrorKind = 'denied' | 'invalid' | 'not-found' | 'conflict';

const STATUS: Record<GovernanceErrorKind, number> = { denied: 403, invalid: 400, 'not-found': 404, conflict: 409 };

/** One failed governance action: a kind (giving the HTTP status), a message for people, and the fields at fault. */
export class GovernanceError extends Error {
  constructor(readonly kind: GovernanceErrorKind, message: string, readonly fields: Record<string, string> = {}) {
    super(message);
    this.name = 'GovernanceError';
  }

  get statusCode(): number {
    return STATUS[this.kind];
  }
}

export const denied = (message: string) => new GovernanceError('denied', message);
export const notFound = (message: string) => new GovernanceError('not-found', message);
export const conflict = (message: string) => new GovernanceError('conflict', message);
export const invalidField = (field: string, message: string) => new GovernanceError('invalid', message, { [field]: message });

/** Collects field errors and throws them together, so a form shows every problem at once. */
export class Invalid {
  readonly fields: Record<string, string> = {};
  add(field: string, message: string): this {
    if (!(field in this.fields)) this.fields[field] = message;
    return this;
  }
  throwIfAny(): void {
    const keys = Object.keys(this.fields);
    if (keys.length) throw new GovernanceError('invalid', this.fields[keys[0]], this.fields);
  }
}

/** The actor's role of this kind, or a denial naming what was needed. */
export function requireRole(actor: GovernanceActor, role: StaffRole['role'] | StaffRole['role'][], what: string): StaffRole {
  const wanted = Array.isArray(role) ? role : [role];
  const found = actor.roles.find((r) => wanted.includes(r.role));
  if (!found) throw denied(`Only ${wanted.join(' or ')} staff can ${what}`);
  return found;
}

export function hasRole(actor: GovernanceActor, role: StaffRole['role'], organisation?: string): boolean {
  return actor.roles.some((r) => r.role === role && (organisation === undefined || r.organisation === organisation));
}

/** Writes the audit row for one governance change, inside the change's own transaction. */
export async function auditChange(
  audit: AuditLog,
  tx: Queryable,
  actor: GovernanceActor,
  role: StaffRole,
  change: { action: string; resource: string; before?: unknown; after?: unknown; outcome?: 'success' | 'denied' },
): Promise<void> {
  await audit.record({
    actorType: 'staff',
    actorId: actor.sub,
    organisation: `${role.role}:${role.organisation}`,
    action: change.action,
    resource: change.resource,
    outcome: change.outcome ?? 'success',
    requestId: actor.requestId,
    detail: { before: change.before ?? null, after: change.after ?? null },
  }, tx);
}

/** Governance changes, newest first, for the national team's audit page. */
export async function governanceAudit(db: Queryable, limit = 200): Promise<{ at: Date; actorId: string; organisation: string | null; action: string; resource: string; outcome: string; detail: unknown }[]> {
  const rows = await db.query<{ at: string; actor_id: string; organisation: string | null; action: string; resource: string; outcome: string; detail: unknown }>(
    `SELECT at, actor_id, organisation, action, resource, outcome, detail FROM audit_events
     WHERE (actor_type = 'staff' AND (resource LIKE 'proposal:%' OR resource LIKE 'supplier:%' OR resource LIKE 'feedback:%' OR resource LIKE 'commissioning:%' OR resource LIKE 'integration:%'))
        OR (actor_type = 'system' AND resource LIKE 'integration:%')
     ORDER BY at DESC, id DESC LIMIT $1`, [limit]);
  return rows.map((r) => ({ at: new Date(r.at), actorId: r.actor_id, organisation: r.organisation, action: r.action, resource: r.resource, outcome: r.outcome, detail: r.detail }));
}
