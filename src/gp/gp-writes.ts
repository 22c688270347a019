// The gp_writes table: the idempotency claim taken before a booking or repeat request goes to the supplier, its
// outcome once the supplier answered, and who owns a written resource. The three hot statements are shared by
// requests running at the same moment (see statement-batcher.ts).
import { StatementBatcher } from '../store/statement-batcher.ts';
import { valuesTuples, type Queryable } from '../store/store.ts';

export type GpWriteKind = 'booking' | 'repeat-request';

interface Claim { key: string; nhsNumber: string; kind: GpWriteKind; system: string }
interface Outcome { key: string; resourceId: string; result: string }

export class GpWrites {
  private readonly claims: StatementBatcher<Claim, boolean>;
  private readonly outcomes: StatementBatcher<Outcome, undefined>;
  private readonly owners: StatementBatcher<string, string[]>;
  /** Appointment id → NHS number for bookings written by this node: a fact that never changes once written. */
  private readonly bookedHere = new Map<string, string>();

  constructor(private readonly db: Queryable) {
    // A batch of one (most bookings, which arrive a few at a time) gets the plain single-row statement: planning
    // the VALUES list costs PGlite about a quarter more than the write itself.
    this.claims = new StatementBatcher(async (claims) => {
      // Two claims for one key in one batch: the first wins, as two separate INSERTs would decide.
      const rows = await db.query<{ idempotency_key: string }>(
        claims.length === 1
          ? `INSERT INTO gp_writes (idempotency_key, nhs_number, kind, gp_system, state) VALUES ($1, $2, $3, $4, 'pending')
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key`
          : `INSERT INTO gp_writes (idempotency_key, nhs_number, kind, gp_system, state)
             SELECT DISTINCT ON (k) k, n, w, s, 'pending' FROM (VALUES ${valuesTuples(claims.length, 4)}) AS v (k, n, w, s)
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key`,
        claims.flatMap((c) => [c.key, c.nhsNumber, c.kind, c.system]),
      );
      const won = new Set(rows.map((r) => r.idempotency_key));
      return claims.map((c) => won.delete(c.key));
    });
    this.outcomes = new StatementBatcher(async (outcomes) => {
      await db.query(
        outcomes.length === 1
          ? `UPDATE gp_writes SET state = 'done', resource_id = $2, result = $3::jsonb, updated_at = now() WHERE idempotency_key = $1`
          : `UPDATE gp_writes AS g SET state = 'done', resource_id = v.r, result = v.j, updated_at = now()
             FROM (VALUES ${valuesTuples(outcomes.length, 3, ['text', 'text', 'jsonb'])}) AS v (k, r, j) WHERE g.idempotency_key = v.k`,
        outcomes.flatMap((o) => [o.key, o.resourceId, o.result]),
      );
      return outcomes.map(() => undefined);
    });
    this.owners = new StatementBatcher(async (ids) => {
      const rows = await db.query<{ resource_id: string; nhs_number: string }>(
        "SELECT resource_id, nhs_number FROM gp_writes WHERE resource_id = ANY($1::text[]) AND kind = 'booking'", [ids]);
      return ids.map((id) => rows.filter((r) => r.resource_id === id).map((r) => r.nhs_number));
    });
  }

  /** True when this call took the key; false when an earlier call holds it (a repeat or a double submit). */
  claim(key: string, nhsNumber: string, kind: GpWriteKind, system: string): Promise<boolean> {
    return this.claims.submit({ key, nhsNumber, kind, system });
  }

  /** Records what the supplier wrote, so a repeat of the same form finds it. */
  async complete(key: string, resourceId: string, result: unknown, owner?: { nhsNumber: string; kind: GpWriteKind }): Promise<undefined> {
    await this.outcomes.submit({ key, resourceId, result: JSON.stringify(result) });
    if (owner?.kind === 'booking') {
      if (this.bookedHere.size >= 100_000) this.bookedHere.clear();
      this.bookedHere.set(resourceId, owner.nhsNumber);
    }
    return undefined;
  }

  /** NHS numbers of whoever booked this appointment id through us (none if it was not booked here). */
  async bookedBy(appointmentId: string): Promise<string[]> {
    // Who booked an appointment never changes, so what this node wrote itself needs no query.
    const known = this.bookedHere.get(appointmentId);
    return known ? [known] : this.owners.submit(appointmentId);
  }

  /** The finished result for a key, or undefined while pending or unknown. */
  async result<T>(key: string, nhsNumber: string, kind: GpWriteKind): Promise<T | undefined> {
    const rows = await this.db.query<{ result: T | string | null; state: string }>(
      'SELECT result, state FROM gp_writes WHERE idempotency_key = $1 AND nhs_number = $2 AND kind = $3', [key, nhsNumber, kind]);
    const r = rows[0];
    if (!r || r.state !== 'done' || r.result === null) return undefined;
    return (typeof r.result === 'string' ? JSON.parse(r.result) : r.result) as T;
  }
}
