// The audit trail: one row for every access to patient data and every governance change, kept in the store so
// citizens can see who looked at their record.
import type { Queryable } from '../store/store.ts';

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

const COLUMNS = 10;
const MAX_BATCH = 500;

function values(e: AuditEvent): unknown[] {
  return [e.actorType, e.actorId, e.subjectNhsNumber ?? null, e.organisation ?? null, e.action, e.resource, e.supplier ?? null, e.outcome, e.requestId ?? null, e.detail ? JSON.stringify(e.detail) : null];
}

function insertSql(rows: number): string {
  const tuples = Array.from({ length: rows }, (_, r) => `(${Array.from({ length: COLUMNS }, (_, c) => `$${r * COLUMNS + c + 1}`).join(', ')})`);
  return `INSERT INTO audit_events (actor_type, actor_id, subject_nhs_number, organisation, action, resource, supplier, outcome, request_id, detail) VALUES ${tuples.join(', ')}`;
}

export class AuditLog {
  // Events from requests running at the same moment share one INSERT. Each caller still waits until its own
  // row is written, so a response never goes out ahead of its audit record.
  private queue: { e: AuditEvent; done: (err?: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly db: Queryable) {}

  /** Writes one audit row; inside a transaction (db given) it is part of that transaction. */
  async record(e: AuditEvent, db?: Queryable): Promise<void> {
    if (db) {
      await db.query(insertSql(1), values(e));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ e, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.flushing) setImmediate(() => void this.flush());
      this.flushing = true;
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.db.query(insertSql(batch.length), batch.flatMap((b) => values(b.e)));
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err);
      }
    }
    this.flushing = false;
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
