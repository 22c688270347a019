// Public feedback on the published criteria and on open proposals: anyone may send it, no name or contact details
// are collected, and nothing is shown publicly until the national team has moderated it.
import type { Queryable } from '../store/store.ts';
import { auditChange, conflict, GovernanceError, Invalid, notFound, requireRole, type GovernanceActor } from './governance-access.ts';
import { CRITERIA } from './scoring.ts';
import type { GovernanceDeps } from './suppliers.ts';

export type Rating = 'agree' | 'partly' | 'disagree';
export const RATING_NAMES: Record<Rating, string> = { agree: 'Agree', partly: 'Partly agree', disagree: 'Disagree' };
export const COMMENT_MAX = 1200;

export interface FeedbackItem {
  id: string;
  targetKind: 'criterion' | 'proposal';
  criterion: string | null;
  proposalId: string | null;
  rating: Rating;
  comment: string;
  status: 'pending' | 'published' | 'rejected';
  submittedAt: Date;
}

/** What the public form posts: `target` is `criterion:<code>` or `proposal:<id>`. */
export interface FeedbackInput {
  target?: string;
  rating?: string;
  comment?: string;
}

export async function submitFeedback(db: Queryable, input: FeedbackInput): Promise<string> {
  const bad = new Invalid();
  const [kind, ref] = (input.target ?? '').split(':');
  let criterion: string | null = null;
  let proposalId: string | null = null;
  if (kind === 'criterion' && (CRITERIA as readonly string[]).includes(ref)) criterion = ref;
  else if (kind === 'proposal' && /^\d{1,15}$/.test(ref ?? '')) {
    const rows = await db.query<{ status: string }>('SELECT status FROM proposals WHERE id = $1', [ref]);
    if (rows[0] && ['open', 'deferred'].includes(rows[0].status)) proposalId = ref;
    else bad.add('target', 'Feedback can only be given on open proposals: choose one from the list');
  } else bad.add('target', 'Select what your feedback is about');
  if (!['agree', 'partly', 'disagree'].includes(input.rating ?? '')) bad.add('rating', 'Select whether you agree');
  const comment = (input.comment ?? '').trim();
  if (!comment) bad.add('comment', 'Enter your feedback');
  else if (comment.length > COMMENT_MAX) bad.add('comment', `Feedback must be ${COMMENT_MAX.toLocaleString('en-GB')} characters or fewer`);
  bad.throwIfAny();
  const [row] = await db.query<{ id: string }>(
    'INSERT INTO feedback (target_kind, criterion, proposal_id, rating, comment) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [criterion ? 'criterion' : 'proposal', criterion, proposalId, input.rating, comment]);
  return String(row.id);
}

const toItem = (r: Record<string, unknown>): FeedbackItem => ({
  id: String(r.id), targetKind: r.target_kind as FeedbackItem['targetKind'], criterion: (r.criterion as string) ?? null,
  proposalId: r.proposal_id === null ? null : String(r.proposal_id), rating: r.rating as Rating, comment: r.comment as string,
  status: r.status as FeedbackItem['status'], submittedAt: new Date(r.submitted_at as string),
});

export async function pendingFeedback(deps: GovernanceDeps, actor: GovernanceActor): Promise<FeedbackItem[]> {
  requireRole(actor, 'national-team', 'moderate feedback');
  return (await deps.db.query<Record<string, unknown>>("SELECT * FROM feedback WHERE status = 'pending' ORDER BY submitted_at, id")).map(toItem);
}

/** The national team publishes or rejects one pending response. */
export async function moderateFeedback(deps: GovernanceDeps, actor: GovernanceActor, id: string, action: string): Promise<void> {
  const role = requireRole(actor, 'national-team', 'moderate feedback');
  if (action !== 'publish' && action !== 'reject') throw new GovernanceError('invalid', 'Select publish or reject', { action: 'Select publish or reject' });
  if (!/^\d{1,15}$/.test(id)) throw notFound('No feedback with that number');
  await deps.db.transaction(async (tx) => {
    const [row] = await tx.query<{ status: string }>('SELECT status FROM feedback WHERE id = $1 FOR UPDATE', [id]);
    if (!row) throw notFound('No feedback with that number');
    if (row.status !== 'pending') throw conflict('This feedback has already been moderated');
    const status = action === 'publish' ? 'published' : 'rejected';
    await tx.query('UPDATE feedback SET status = $2, moderated_by = $3, moderated_at = now() WHERE id = $1', [id, status, actor.sub]);
    await auditChange(deps.audit, tx, actor, role, { action: 'moderate-feedback', resource: `feedback:${id}`, before: { status: row.status }, after: { status } });
  });
}

export interface RatingCounts {
  agree: number;
  partly: number;
  disagree: number;
  total: number;
}

const empty = (): RatingCounts => ({ agree: 0, partly: 0, disagree: 0, total: 0 });

/** Published responses counted by rating, per criterion and per proposal, with their comments. */
export async function feedbackSummary(db: Queryable): Promise<{ byCriterion: Record<string, RatingCounts>; byProposal: Record<string, RatingCounts>; published: FeedbackItem[] }> {
  const published = (await db.query<Record<string, unknown>>("SELECT * FROM feedback WHERE status = 'published' ORDER BY submitted_at DESC, id DESC")).map(toItem);
  const byCriterion: Record<string, RatingCounts> = Object.fromEntries(CRITERIA.map((c) => [c, empty()]));
  const byProposal: Record<string, RatingCounts> = {};
  for (const f of published) {
    const bucket = f.criterion ? byCriterion[f.criterion] : (byProposal[f.proposalId!] ??= empty());
    bucket[f.rating] += 1;
    bucket.total += 1;
  }
  return { byCriterion, byProposal, published };
}
