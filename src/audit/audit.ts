// The audit trail: one row for every access to patient data and every governance change, kept in the store so
// citizens can see who looked at their record.
import { StatementBatcher } from '../store/statement-batcher.ts';
import { multiRowInsert, type Queryable, type Store } from '../store/store.ts';

export interface AuditEvent {
  actorType: 'citizen' | 'staff' | 'system' | 'anonymous';
  actorId: string;
  /** NHS number of the person whose data it is, when the access is to patient data. */
  subjectNhsNumber?: string;
  organisation?: string;
  action: string;
  resource: string;
  supplier?: string;
  outcome: 'success' | 'denied' | 'failed' | 'not-found';
  requestId?: string;
  detail?: Record<string, unknown>;
}

export interface AuditEntry extends AuditEvent {
  id: string;
  at: Date;
}

const COLUMNS = ['actor_type', 'actor_id', 'subject_nhs_number', 'organisation', 'action', 'resource', 'supplier', 'outcome', 'request_id', 'detail'];

function values(e: AuditEvent): unknown[] {
  return [e.actorType, e.actorId, e.subjectNhsNumber ?? null, e.organisation ?? null, e.action, e.resource, e.supplier ?? null, e.outcome, e.requestId ?? null, e.detail ? JSON.stringify(e.detail) : null];
}

export class AuditLog {
  // Events from requests running at the same moment share one statement. Each caller still waits until its own
  // row is written, so a response never goes out ahead of its audit record.
  private readonly batch: StatementBatcher<AuditEvent, undefined>;

  constructor(private readonly db: Queryable & Pick<Store, 'insertRows'>) {
    this.batch = new StatementBatcher(async (events) => {
      await this.db.insertRows('audit_events', COLUMNS, events.map(values));
      return events.map(() => undefined);
    }, 500);
  }

  /** Writes one audit row; inside a transaction (db given) it is part of that transaction. */
  record(e: AuditEvent, db?: Queryable): Promise<void> {
    if (!db) return this.batch.submit(e);
    const { sql, params } = multiRowInsert('audit_events', COLUMNS, [values(e)]);
    return db.query(sql, params).then(() => undefined);
  }

  /** Accesses to one person's data, newest first (the citizen's own access log). */
  async forSubject(nhsNumber: string, limit = 100): Promise<AuditEntry[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      'SELECT * FROM audit_events WHERE subject_nhs_number = $1 ORDER BY at DESC, id DESC LIMIT $2',
      [nhsNumber, limit],
    );
    return rows.map(toEntry);
  }

  async recent(limit = 200): Promise<AuditEntry[]> {
    return (await this.db.query<Record<string, unknown>>('SELECT * FROM audit_events ORDER BY at DESC, id DESC LIMIT $1', [limit])).map(toEntry);
  }
}

function toEntry(r: Record<string, unknown>): AuditEntry {
  return {
    id: String(r.id),
    at: new Date(r.at as string),
    actorType: r.actor_type as AuditEvent['actorType'],
    actorId: r.actor_id as string,
    subjectNhsNumber: (r.subject_nhs_number as string) ?? undefined,
    organisation: (r.organisation as string) ?? undefined,
    action: r.action as string,
    resource: r.resource as string,
    supplier: (r.supplier as string) ?? undefined,
    outcome: r.outcome as AuditEvent['outcome'],
    requestId: (r.request_id as string) ?? undefined,
    detail: (r.detail as Record<string, unknown>) ?? undefined,
  };
}
