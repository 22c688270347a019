// The governance domain against a real store: proposals with evidence, support, scoring, decisions, feedback and
// the supplier registry, with every denial and every bad input leaving the record unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../audit/audit.ts';
import type { StaffRole } from '../identity/provider/accounts.ts';
import { importOdsDirectory } from '../reference/ods-import.ts';
import { loadPracticeDirectory } from '../reference/practice-directory.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { FIXTURE_ODS_DIR } from '../testing/factories.ts';
import { feedbackSummary, moderateFeedback, pendingFeedback, submitFeedback } from './feedback.ts';
import { GovernanceError, governanceAudit, type GovernanceActor } from './governance-access.ts';
import { assessCriterion, backlog, decide, listProposals, recordSupport, submitProposal, viewProposal, type ProposalInput } from './proposals.ts';
import { roundOf } from '../pipeline/rounds.ts';
import { icbCoverage, loadScoringModel, populationPoints, scoreProposal } from './scoring.ts';
import { logEngagement, registerSupplier, seedDemoSuppliers, supplierRecord, type GovernanceDeps } from './suppliers.ts';

let db: Store;
let deps: GovernanceDeps;
before(async () => {
  db = await openStore({});
  await importOdsDirectory(db, FIXTURE_ODS_DIR);
  await seedDemoSuppliers(db);
  deps = { db, audit: new AuditLog(db), practices: await loadPracticeDirectory(db) };
});
after(async () => db.close());

const as = (role: StaffRole['role'], organisation: string): GovernanceActor => ({ sub: `${role}-${organisation}`, roles: [{ role, organisation }] });
const national = as('national-team', 'national');
const askdoc = as('supplier', 'askdoc');
const qhm = as('commissioner', 'QHM');
const qmj = as('commissioner', 'QMJ');
const y63 = as('region', 'Y63');
const a81001 = as('provider', 'A81001');

const evidence = (over: Partial<ProposalInput> = {}): ProposalInput => ({
  eligibleCommissioned: 'yes', eligibleFree: 'yes', eligiblePersonalised: 'yes',
  title: 'Online consultation for North East practices',
  summary: 'Patients ask their practice for help online and are triaged the same day.',
  serviceType: 'online-consultation',
  integrationMethod: 'native',
  supplierId: 'askdoc',
  regionCode: 'Y63',
  userNeed: '38% of calls to practices are for requests that could be handled online.',
  userNeedSource: 'Practice telephony audit, 2025',
  citizenFacing: 'yes',
  citizenFacingExplanation: 'Patients fill in the form themselves.',
  priorities: ['primary-care-access', 'staff-burden'],
  priorityExplanation: 'Fewer calls at 8am and triage that routes work to the right person.',
  providerSupport: 'The Densham Surgery (A81001) has piloted it.',
  processChange: 'yes',
  commissionerSupport: 'QHM has funded the pilot.',
  icbs: 'QHM',
  addedValue: 'Brings consultations into the app rather than a separate website.',
  ...over,
});

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['proposals', 'proposal_evidence', 'proposal_support', 'proposal_assessments', 'decisions', 'feedback', 'suppliers', 'engagement_log', 'audit_events']) {
    out[t] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`))[0].n;
  }
  return out;
}

/** Asserts the action fails with this kind of governance error (and field, if given) and changes nothing. */
async function refused(action: () => Promise<unknown>, kind: GovernanceError['kind'], field?: string | RegExp): Promise<GovernanceError> {
  const before = await counts();
  let caught: unknown;
  try { await action(); } catch (err) { caught = err; }
  assert.ok(caught instanceof GovernanceError, `expected a GovernanceError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  if (typeof field === 'string') assert.ok(field in caught.fields, `expected an error on ${field}, got ${JSON.stringify(caught.fields)}`);
  if (field instanceof RegExp) assert.match(caught.message, field);
  assert.deepEqual(await counts(), before, 'nothing changed');
  return caught;
}

describe('scoring model', () => {
  it('is published as data with commissioner support weighted highest', async () => {
    const model = await loadScoringModel(db);
    assert.deepEqual(model.map((c) => c.criterion), ['user-need', 'citizen-facing', 'strategic-priority', 'provider-support', 'commissioner-support', 'added-value']);
    const top = [...model].sort((a, b) => b.weight - a.weight);
    assert.equal(top[0].criterion, 'commissioner-support');
    assert.ok(top[0].weight > top[1].weight, 'strictly highest');
    for (const c of model) assert.ok(c.description && c.rule, `${c.criterion} is described`);
  });

  it('shows every line of the sum, and a changed weight changes the score', async () => {
    const model = await loadScoringModel(db);
    const inputs = { citizenFacing: true, providerSupporters: 2, population: 300_000, assessments: { 'user-need': 3, 'strategic-priority': 1 } };
    const s = scoreProposal(model, inputs);
    assert.equal(s.weighted, s.lines.reduce((n, l) => n + l.weight * (l.points ?? 0), 0));
    assert.equal(s.maxWeighted, 15 * 3);
    // user-need 3×3 + citizen 1×3 + priority 2×1 + providers 2×2 + commissioners 5×2 + added value unassessed
    assert.equal(s.weighted, 9 + 3 + 2 + 4 + 10);
    assert.equal(s.score, Math.round((28 / 45) * 1000) / 10);
    assert.equal(s.complete, false);
    assert.equal(s.lines.find((l) => l.criterion === 'added-value')!.points, null);
    const heavier = scoreProposal(model.map((c) => (c.criterion === 'added-value' ? { ...c, weight: 0 } : c)), inputs);
    assert.notEqual(heavier.score, s.score);
  });

  it('bands population and estimates it from practices × 10,000 unless a count is stated', () => {
    assert.deepEqual([0, 1, 249_999, 250_000, 999_999, 1_000_000].map(populationPoints), [0, 1, 1, 2, 2, 3]);
    assert.deepEqual(icbCoverage(deps.practices, 'QMJ'), { icbCode: 'QMJ', practices: 2, population: 20_000, basis: 'estimated' });
    assert.deepEqual(icbCoverage(deps.practices, 'QMJ', 1_500_000), { icbCode: 'QMJ', practices: 2, population: 1_500_000, basis: 'stated' });
  });
});

describe('proposals', () => {
  let supplierProposal: string;
  let icbProposal: string;

  it('a supplier proposes a service its framework covers, with evidence on every criterion, audited', async () => {
    supplierProposal = await submitProposal(deps, askdoc, evidence());
    const p = await viewProposal(deps, askdoc, supplierProposal);
    assert.equal(p.status, 'open');
    assert.equal(p.regionCode, 'Y63');
    assert.deepEqual(Object.keys(p.evidence).sort(), ['added-value', 'citizen-facing', 'commissioner-support', 'provider-support', 'strategic-priority', 'user-need']);
    assert.equal(p.evidence['user-need'].source, 'Practice telephony audit, 2025');
    assert.equal(p.support.length, 0, 'no support until organisations record it themselves');
    const [audit] = await governanceAudit(db, 1);
    assert.equal(audit.action, 'submit-proposal');
    assert.equal(audit.organisation, 'supplier:askdoc');
    assert.equal((audit.detail as { after: { title: string } }).after.title, 'Online consultation for North East practices');
  });

  it('refuses a supplier proposing a type its framework does not cover', async () => {
    const err = await refused(() => submitProposal(deps, askdoc, evidence({ serviceType: 'phr' })), 'invalid', 'serviceType');
    assert.match(err.message, /not on the Innovation and Technology Payment framework/);
  });

  it('refuses a supplier proposing for another supplier, and roles that cannot propose', async () => {
    await refused(() => submitProposal(deps, askdoc, evidence({ supplierId: 'carebook', serviceType: 'phr' })), 'denied');
    await refused(() => submitProposal(deps, a81001, evidence()), 'denied');
    await refused(() => submitProposal(deps, national, evidence()), 'denied');
  });

  it('refuses missing evidence, naming each missing item', async () => {
    const err = await refused(() => submitProposal(deps, askdoc, evidence({ userNeedSource: ' ', priorities: [], citizenFacing: undefined, addedValue: '' })), 'invalid');
    assert.deepEqual(Object.keys(err.fields).sort(), ['addedValue', 'citizenFacing', 'priorities', 'userNeedSource']);
    await refused(() => submitProposal(deps, askdoc, evidence({ priorities: ['not-a-priority'] })), 'invalid', 'priorities');
    await refused(() => submitProposal(deps, askdoc, evidence({ icbs: 'QHM, ZZZ' })), 'invalid', 'icbs');
    await refused(() => submitProposal(deps, askdoc, evidence({ regionCode: 'W00' })), 'invalid', 'regionCode');
  });

  it('refuses an ineligible service with the reason, and unanswered eligibility questions, saving nothing', async () => {
    const notFree = await refused(() => submitProposal(deps, askdoc, evidence({ eligibleFree: 'no' })), 'invalid', 'eligibleFree');
    assert.match(notFree.fields.eligibleFree, /not eligible: services in the app must be free for citizens at the point of use/);
    await refused(() => submitProposal(deps, askdoc, evidence({ eligibleCommissioned: 'no' })), 'invalid', /commissioned by the NHS in England/);
    await refused(() => submitProposal(deps, askdoc, evidence({ eligiblePersonalised: undefined })), 'invalid', 'eligiblePersonalised');
  });

  it('an ICB proposes in its own region and supports its proposal by doing so', async () => {
    icbProposal = await submitProposal(deps, qhm, evidence({ title: 'CareBook-style triage', supplierId: 'triagepoint', regionCode: 'Y56' }));
    const p = await viewProposal(deps, qhm, icbProposal);
    assert.equal(p.regionCode, 'Y63', 'the ICB\'s region, not the one posted');
    assert.deepEqual(p.support.map((s) => [s.kind, s.organisation]), [['commissioner', 'QHM']]);
    assert.deepEqual(p.coverage, { icbs: [{ icbCode: 'QHM', practices: 1, population: 10_000, basis: 'estimated' }], practices: 1, population: 10_000 });
    assert.equal(p.score.lines.find((l) => l.criterion === 'commissioner-support')!.points, 1);
  });

  it('each role sees only proposals within its organisation', async () => {
    await assert.rejects(viewProposal(deps, qmj, supplierProposal), (e: unknown) => e instanceof GovernanceError && e.kind === 'denied', 'QMJ is in London, the proposal in the North East');
    await assert.rejects(viewProposal(deps, as('supplier', 'carebook'), supplierProposal), (e: unknown) => e instanceof GovernanceError && e.kind === 'denied');
    await assert.rejects(viewProposal(deps, as('region', 'Y56'), supplierProposal), (e: unknown) => e instanceof GovernanceError && e.kind === 'denied');
    await assert.rejects(viewProposal(deps, as('provider', 'E83003'), supplierProposal), (e: unknown) => e instanceof GovernanceError && e.kind === 'denied');
    assert.equal((await viewProposal(deps, y63, supplierProposal)).id, supplierProposal);
    assert.equal((await viewProposal(deps, a81001, supplierProposal)).id, supplierProposal);
    assert.deepEqual((await listProposals(deps, askdoc)).map((p) => p.id), [supplierProposal], 'askdoc sees only its own');
    assert.deepEqual(await listProposals(deps, qmj), []);
    assert.equal((await listProposals(deps, national)).length, 2);
  });

  it('commissioners and providers record their own organisation\'s support, once, within their reach', async () => {
    await refused(() => recordSupport(deps, qmj, supplierProposal, { statement: 'We support it' }), 'denied');
    await refused(() => recordSupport(deps, askdoc, supplierProposal, { statement: 'We support it' }), 'denied');
    await refused(() => recordSupport(deps, qhm, supplierProposal, { statement: '' }), 'invalid', 'statement');
    await refused(() => recordSupport(deps, qhm, supplierProposal, { statement: 'Yes', registeredPatients: '-5' }), 'invalid', 'registeredPatients');
    await refused(() => recordSupport(deps, a81001, supplierProposal, { statement: 'Yes' }), 'invalid', 'processChange');
    await recordSupport(deps, qhm, supplierProposal, { statement: 'QHM will fund it for all practices', registeredPatients: '1,200,000' });
    await recordSupport(deps, a81001, supplierProposal, { statement: 'We piloted it', processChange: 'yes' });
    await refused(() => recordSupport(deps, qhm, supplierProposal, { statement: 'Again' }), 'conflict');
    const p = await viewProposal(deps, national, supplierProposal);
    assert.equal(p.coverage.population, 1_200_000);
    assert.equal(p.coverage.icbs[0].basis, 'stated');
    assert.equal(p.score.lines.find((l) => l.criterion === 'commissioner-support')!.points, 3);
    assert.equal(p.score.lines.find((l) => l.criterion === 'provider-support')!.points, 1);
    assert.equal(p.support.find((s) => s.kind === 'provider')!.organisationName, 'THE DENSHAM SURGERY (A81001)');
  });

  it('only the national team assesses, with points 0 to 3 on assessed criteria', async () => {
    await refused(() => assessCriterion(deps, y63, supplierProposal, { criterion: 'user-need', points: '3' }), 'denied');
    await refused(() => assessCriterion(deps, national, supplierProposal, { criterion: 'user-need', points: '4' }), 'invalid', 'points');
    await refused(() => assessCriterion(deps, national, supplierProposal, { criterion: 'user-need', points: '-1' }), 'invalid', 'points');
    await refused(() => assessCriterion(deps, national, supplierProposal, { criterion: 'user-need', points: '2.5' }), 'invalid', 'points');
    await refused(() => assessCriterion(deps, national, supplierProposal, { criterion: 'commissioner-support', points: '3' }), 'invalid', 'criterion');
    await refused(() => assessCriterion(deps, national, supplierProposal, { criterion: 'nope', points: '3' }), 'invalid', 'criterion');
    const beforeScore = (await viewProposal(deps, national, supplierProposal)).score.score;
    await assessCriterion(deps, national, supplierProposal, { criterion: 'user-need', points: '2' });
    await assessCriterion(deps, national, supplierProposal, { criterion: 'user-need', points: '3', note: 'Strong audit data' });
    const after = await viewProposal(deps, national, supplierProposal);
    assert.equal(after.assessments['user-need']!.points, 3);
    assert.ok(after.score.score > beforeScore);
    const [audit] = await governanceAudit(db, 1);
    assert.deepEqual((audit.detail as { before: { points: number } }).before.points, 2, 'before is kept');
  });

  it('ranks the backlog by score, nationally and per region', async () => {
    const nationalBacklog = await backlog(deps);
    assert.deepEqual(nationalBacklog.map((p) => p.id), [supplierProposal, icbProposal]);
    assert.ok(nationalBacklog[0].score.score >= nationalBacklog[1].score.score);
    assert.equal((await backlog(deps, 'Y63')).length, 2);
    assert.equal((await backlog(deps, 'Y56')).length, 0);
  });

  it('only the national team decides; approval needs every criterion assessed; a decision is final', async () => {
    await refused(() => decide(deps, y63, supplierProposal, { outcome: 'approve', rationale: 'Yes' }), 'denied');
    await refused(() => decide(deps, askdoc, supplierProposal, { outcome: 'approve', rationale: 'Yes' }), 'denied');
    await refused(() => decide(deps, national, supplierProposal, { outcome: 'approve', rationale: '' }), 'invalid', 'rationale');
    await refused(() => decide(deps, national, supplierProposal, { outcome: 'maybe', rationale: 'x' }), 'invalid', 'outcome');
    const incomplete = await refused(() => decide(deps, national, supplierProposal, { outcome: 'approve', rationale: 'Strong support' }), 'invalid', 'outcome');
    assert.match(incomplete.message, /Assess every criterion/);

    const feedbackId = await submitFeedback(db, { target: `proposal:${supplierProposal}`, rating: 'agree', comment: 'My surgery is impossible to phone.' });
    await moderateFeedback(deps, national, feedbackId, 'publish');
    await assessCriterion(deps, national, supplierProposal, { criterion: 'strategic-priority', points: '3' });
    await assessCriterion(deps, national, supplierProposal, { criterion: 'added-value', points: '2' });
    await decide(deps, national, supplierProposal, { outcome: 'approve', rationale: 'Strong commissioner support and clear need' });
    const p = await viewProposal(deps, national, supplierProposal);
    assert.equal(p.status, 'approved');
    assert.equal(p.decisions[0].feedbackConsidered, 1);
    assert.equal(p.decisions[0].score, p.score.score);
    assert.equal(p.decisions[0].breakdown.lines.length, 6);
    assert.equal(p.decisions[0].round, roundOf(new Date()), 'decided in this quarter\'s round');
    assert.deepEqual(p.eligibility, { commissionedInEngland: true, freeAtPointOfUse: true, personalised: true });
    await refused(() => decide(deps, national, supplierProposal, { outcome: 'reject', rationale: 'Changed our mind' }), 'conflict');
    await refused(() => assessCriterion(deps, national, supplierProposal, { criterion: 'user-need', points: '1' }), 'conflict');
    await refused(() => recordSupport(deps, as('provider', 'A81001'), supplierProposal, { statement: 'x', processChange: 'no' }), 'conflict');
    await recordSupport(deps, a81001, icbProposal, { statement: 'We would use it', processChange: 'no' });

    await decide(deps, national, icbProposal, { outcome: 'defer', rationale: 'Wait for the next round' });
    assert.equal((await viewProposal(deps, national, icbProposal)).status, 'deferred');
    assert.deepEqual((await backlog(deps)).map((x) => x.id), [icbProposal], 'deferred stays in the backlog; approved leaves it');
  });
});

describe('public feedback', () => {
  it('refuses bad feedback with a clear error per field, storing nothing', async () => {
    const err = await refused(() => submitFeedback(db, { target: 'criterion:nope', rating: 'meh', comment: '' }), 'invalid');
    assert.deepEqual(Object.keys(err.fields).sort(), ['comment', 'rating', 'target']);
    await refused(() => submitFeedback(db, { target: 'criterion:user-need', rating: 'agree', comment: 'x'.repeat(1201) }), 'invalid', 'comment');
    await refused(() => submitFeedback(db, { target: 'proposal:999999', rating: 'agree', comment: 'Hello' }), 'invalid', 'target');
  });

  it('holds feedback until the national team publishes it, then summarises it per criterion', async () => {
    const id = await submitFeedback(db, { target: 'criterion:commissioner-support', rating: 'disagree', comment: 'Patients matter more than commissioners.' });
    const rejectedId = await submitFeedback(db, { target: 'criterion:commissioner-support', rating: 'agree', comment: 'Call me on 07700 900123' });
    assert.equal((await feedbackSummary(db)).byCriterion['commissioner-support'].total, 0, 'nothing shown before moderation');
    await refused(() => moderateFeedback(deps, qhm, id, 'publish'), 'denied');
    await refused(() => pendingFeedback(deps, askdoc), 'denied');
    assert.equal((await pendingFeedback(deps, national)).length, 2);
    await moderateFeedback(deps, national, id, 'publish');
    await moderateFeedback(deps, national, rejectedId, 'reject');
    await refused(() => moderateFeedback(deps, national, id, 'reject'), 'conflict');
    const summary = await feedbackSummary(db);
    assert.deepEqual(summary.byCriterion['commissioner-support'], { agree: 0, partly: 0, disagree: 1, total: 1 });
    assert.ok(!summary.published.some((f) => f.comment.includes('07700')), 'rejected feedback is never published');
  });
});

describe('supplier registry', () => {
  it('the national team registers suppliers on frameworks and logs engagement; others cannot', async () => {
    await refused(() => registerSupplier(deps, askdoc, { id: 'newco', name: 'NewCo', frameworks: ['itp'] }), 'denied');
    await refused(() => registerSupplier(deps, national, { id: 'NewCo!', name: '', frameworks: [] }), 'invalid', 'id');
    await refused(() => registerSupplier(deps, national, { id: 'newco', name: 'NewCo', frameworks: ['g-cloud'] }), 'invalid', 'frameworks');
    await refused(() => registerSupplier(deps, national, { id: 'askdoc', name: 'AskDoc again', frameworks: ['dps'] }), 'invalid', 'id');
    const s = await registerSupplier(deps, national, { id: 'newco', name: 'NewCo Health', contactEmail: 'hello@newco.example', frameworks: ['itp', 'dps'] });
    assert.deepEqual(s.frameworks.map((f) => f.serviceType).sort(), ['online-consultation', 'phr']);
    await refused(() => logEngagement(deps, national, 'newco', { onDate: '2025-02-30x', kind: 'meeting', summary: 'Kick-off' }), 'invalid', 'onDate');
    await refused(() => logEngagement(deps, askdoc, 'newco', { onDate: '2025-02-03', kind: 'meeting', summary: 'Kick-off' }), 'denied');
    await logEngagement(deps, national, 'newco', { onDate: '2025-02-03', kind: 'agreement', summary: 'Signed the sandbox access agreement' });
    const own = await supplierRecord(db, as('supplier', 'newco'), 'newco');
    assert.equal(own.engagement[0].summary, 'Signed the sandbox access agreement');
    assert.equal(own.engagement[0].onDate, '2025-02-03');
    await assert.rejects(supplierRecord(db, askdoc, 'newco'), (e: unknown) => e instanceof GovernanceError && e.kind === 'denied');
    // Newly on the ITP framework, NewCo may now propose a PHR.
    const id = await submitProposal(deps, as('supplier', 'newco'), evidence({ supplierId: 'newco', serviceType: 'phr', integrationMethod: 'web' }));
    assert.ok(id);
  });
});
