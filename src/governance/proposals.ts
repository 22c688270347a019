// Integration proposals: a region, ICB or supplier proposes a service with evidence against every published
// criterion; commissioners and providers record their own support; the national team assesses, ranks and
// decides. Each role acts only within its organisation, every change is audited, and a refused change leaves
// the record as it was (checks first, then one transaction).
import { ENGLAND_REGIONS, REGION_NAMES } from '../reference/regions.ts';
import type { Queryable } from '../store/store.ts';
import { auditChange, conflict, denied, Invalid, invalidField, notFound, requireRole, type GovernanceActor } from './governance-access.ts';
import { icbCoverage, loadScoringModel, MAX_POINTS, scoreProposal, type Criterion, type CriterionCode, type IcbCoverage, type Score } from './scoring.ts';
import { allowedTypes, findSupplier, FRAMEWORKS, SERVICE_TYPE_NAMES, type GovernanceDeps, type ProposableType } from './suppliers.ts';

export type ProposalStatus = 'open' | 'deferred' | 'approved' | 'rejected';
export type DecisionOutcome = 'approve' | 'defer' | 'reject';

export interface Evidence {
  'user-need': { statement: string; source: string };
  'citizen-facing': { citizenFacing: boolean; explanation: string };
  'strategic-priority': { priorities: string[]; explanation: string };
  'provider-support': { statement: string; processChange: boolean };
  'commissioner-support': { statement: string; icbs: string[] };
  'added-value': { statement: string };
}

/** What a proposer submits: every field a string as a form posts it, checked here. */
export interface ProposalInput {
  /** Eligibility: 'yes' or 'no' to each of the three questions; every answer must be yes. */
  eligibleCommissioned?: string;
  eligibleFree?: string;
  eligiblePersonalised?: string;
  title?: string;
  summary?: string;
  serviceType?: string;
  integrationMethod?: string;
  supplierId?: string;
  /** Suppliers choose the region whose backlog it joins; regions and ICBs propose in their own. */
  regionCode?: string;
  userNeed?: string;
  userNeedSource?: string;
  citizenFacing?: string;
  citizenFacingExplanation?: string;
  priorities?: string[];
  priorityExplanation?: string;
  providerSupport?: string;
  processChange?: string;
  commissionerSupport?: string;
  /** ICB codes the proposer names as supporting, comma or space separated. */
  icbs?: string;
  addedValue?: string;
}

export interface SupportRecord {
  kind: 'commissioner' | 'provider';
  organisation: string;
  organisationName: string;
  statement: string;
  registeredPatients: number | null;
  processChange: boolean | null;
  coverage?: IcbCoverage;
  recordedBy: string;
  recordedAt: Date;
}

export interface DecisionRecord {
  id: string;
  outcome: DecisionOutcome;
  rationale: string;
  score: number;
  breakdown: Score;
  feedbackConsidered: number;
  decidedBy: string;
  decidedAt: Date;
  /** The prioritisation round (quarter) it was decided in, e.g. 2026-Q4. */
  round: string;
}

export interface Proposal {
  id: string;
  title: string;
  summary: string;
  serviceType: ProposableType;
  serviceTypeName: string;
  integrationMethod: 'native' | 'web';
  supplierId: string;
  supplierName: string;
  proposerRole: 'region' | 'commissioner' | 'supplier';
  proposerOrganisation: string;
  regionCode: string;
  regionName: string;
  status: ProposalStatus;
  createdBy: string;
  createdAt: Date;
  /** The eligibility answers given with the proposal (null for proposals made before they were asked). */
  eligibility: Eligibility | null;
  evidence: Evidence;
  support: SupportRecord[];
  /** Population and practices covered by the ICBs that recorded support. */
  coverage: { icbs: IcbCoverage[]; practices: number; population: number };
  assessments: Partial<Record<CriterionCode, { points: number; note: string | null }>>;
  score: Score;
  decisions: DecisionRecord[];
}

export interface Eligibility { commissionedInEngland: boolean; freeAtPointOfUse: boolean; personalised: boolean }

/** The eligibility questions asked before a proposal is accepted, and why a 'no' ends it. */
export const ELIGIBILITY = [
  { field: 'eligibleCommissioned', key: 'commissionedInEngland', question: 'Is the service commissioned by the NHS in England?', missing: 'Select whether the service is commissioned by the NHS in England',
    no: 'The service is not eligible: only services commissioned by the NHS in England can join the app. Propose it once an ICB or region commissions it' },
  { field: 'eligibleFree', key: 'freeAtPointOfUse', question: 'Is it free for citizens at the point of use?', missing: 'Select whether the service is free at the point of use',
    no: 'The service is not eligible: services in the app must be free for citizens at the point of use' },
  { field: 'eligiblePersonalised', key: 'personalised', question: 'Is it personalised to the citizen using it?', missing: 'Select whether the service is personalised to the citizen',
    no: 'The service is not eligible: services in the app must be personalised to the signed-in citizen, not general information' },
] as const;

const OPEN: ProposalStatus[] = ['open', 'deferred'];
const TEXT_MAX = 4000;

const icbOf = (deps: GovernanceDeps, code: string) => deps.practices.listIcbs().find((i) => i.code === code);

function text(bad: Invalid, field: string, value: string | undefined, message: string, max = TEXT_MAX): string {
  const v = (value ?? '').trim();
  if (!v) bad.add(field, message);
  else if (v.length > max) bad.add(field, `Must be ${max.toLocaleString('en-GB')} characters or fewer`);
  return v;
}

function yesNo(bad: Invalid, field: string, value: string | undefined, message: string): boolean {
  if (value !== 'yes' && value !== 'no') bad.add(field, message);
  return value === 'yes';
}

async function activePriorities(db: Queryable): Promise<{ code: string; name: string }[]> {
  return db.query<{ code: string; name: string }>('SELECT code, name FROM strategic_priorities WHERE active ORDER BY sort_order');
}

export { activePriorities as strategicPriorities };

/** The role a proposer acts in, and the region the proposal joins. */
function proposerRole(deps: GovernanceDeps, actor: GovernanceActor, input: ProposalInput, bad: Invalid) {
  const role = requireRole(actor, ['supplier', 'commissioner', 'region'], 'propose services for integration');
  let regionCode = '';
  if (role.role === 'supplier') {
    // A supplier proposes its own services: no need to name itself.
    input.supplierId ||= role.organisation;
    if (input.supplierId !== role.organisation) throw denied('A supplier can only propose its own services');
    regionCode = input.regionCode ?? '';
    if (!(regionCode in ENGLAND_REGIONS)) bad.add('regionCode', 'Select the NHS England region the proposal is for');
  } else if (role.role === 'commissioner') {
    const icb = icbOf(deps, role.organisation);
    if (!icb) throw denied('Your organisation is not an ICB in the reference data');
    regionCode = icb.regionCode;
  } else {
    if (!(role.organisation in ENGLAND_REGIONS)) throw denied('Your organisation is not an NHS England region');
    regionCode = role.organisation;
  }
  return { role, regionCode };
}

export interface CheckedProposal {
  role: { role: 'supplier' | 'commissioner' | 'region'; organisation: string };
  title: string;
  summary: string;
  serviceType: ProposableType;
  integrationMethod: 'native' | 'web';
  supplierId: string;
  supplierName: string;
  regionCode: string;
  eligibility: Eligibility;
  evidence: Evidence;
}

/** Checks a proposal without storing it (for a "check your answers" page); throws as submitProposal would. */
export async function checkProposal(deps: GovernanceDeps, actor: GovernanceActor, given: ProposalInput): Promise<CheckedProposal> {
  const input = { ...given };
  const bad = new Invalid();
  const { role, regionCode } = proposerRole(deps, actor, input, bad);
  for (const q of ELIGIBILITY) {
    const answer = input[q.field];
    if (answer === 'no') bad.add(q.field, q.no);
    else if (answer !== 'yes') bad.add(q.field, q.missing);
  }
  const eligibility: Eligibility = { commissionedInEngland: true, freeAtPointOfUse: true, personalised: true };
  const title = text(bad, 'title', input.title, 'Enter a title for the service', 200);
  const summary = text(bad, 'summary', input.summary, 'Describe the service');
  const serviceType = input.serviceType as ProposableType;
  if (!(serviceType in SERVICE_TYPE_NAMES)) bad.add('serviceType', 'Select the type of service');
  if (input.integrationMethod !== 'native' && input.integrationMethod !== 'web') bad.add('integrationMethod', 'Select how the service would be integrated');
  const supplier = input.supplierId ? await findSupplier(deps.db, input.supplierId) : undefined;
  if (!supplier) bad.add('supplierId', 'Select a registered supplier');
  else if (serviceType in SERVICE_TYPE_NAMES && !allowedTypes(supplier).includes(serviceType)) {
    const needed = Object.values(FRAMEWORKS).find((f) => f.serviceType === serviceType)!.name;
    bad.add('serviceType', `${supplier.name} is not on the ${needed} framework, so it cannot be proposed for ${SERVICE_TYPE_NAMES[serviceType].toLowerCase()} services`);
  }
  const priorities = await activePriorities(deps.db);
  const chosen = (input.priorities ?? []).filter(Boolean);
  if (!chosen.length) bad.add('priorities', 'Select at least one strategic priority');
  else if (chosen.some((c) => !priorities.some((p) => p.code === c))) bad.add('priorities', 'Select strategic priorities from the list');
  const icbs = [...new Set((input.icbs ?? '').toUpperCase().split(/[\s,]+/).filter(Boolean))];
  if (role.role === 'commissioner' && !icbs.includes(role.organisation)) icbs.unshift(role.organisation);
  const unknownIcb = icbs.find((c) => !icbOf(deps, c));
  if (unknownIcb) bad.add('icbs', `${unknownIcb} is not an ICB code in the ODS data`);
  const evidence: Evidence = {
    'user-need': { statement: text(bad, 'userNeed', input.userNeed, 'Enter the evidence of user need'), source: text(bad, 'userNeedSource', input.userNeedSource, 'Enter where the evidence of user need comes from', 500) },
    'citizen-facing': { citizenFacing: yesNo(bad, 'citizenFacing', input.citizenFacing, 'Select whether the service is citizen facing'), explanation: (input.citizenFacingExplanation ?? '').trim().slice(0, TEXT_MAX) },
    'strategic-priority': { priorities: chosen, explanation: text(bad, 'priorityExplanation', input.priorityExplanation, 'Explain how the service serves the strategic priorities') },
    'provider-support': { statement: text(bad, 'providerSupport', input.providerSupport, 'Enter which practices or trusts support the service'), processChange: yesNo(bad, 'processChange', input.processChange, 'Select whether providers\' business processes must change') },
    'commissioner-support': { statement: text(bad, 'commissionerSupport', input.commissionerSupport, 'Enter which commissioners support the service and how'), icbs },
    'added-value': { statement: text(bad, 'addedValue', input.addedValue, 'Enter the value the service adds to the app') },
  };
  bad.throwIfAny();
  return { role: role as CheckedProposal['role'], title, summary, serviceType, integrationMethod: input.integrationMethod as 'native' | 'web', supplierId: supplier!.id, supplierName: supplier!.name, regionCode, eligibility, evidence };
}

export async function submitProposal(deps: GovernanceDeps, actor: GovernanceActor, input: ProposalInput): Promise<string> {
  const { role, title, summary, serviceType, integrationMethod, supplierId, regionCode, eligibility, evidence } = await checkProposal(deps, actor, input);
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.query<{ id: string }>(
      `INSERT INTO proposals (title, summary, service_type, integration_method, supplier_id, proposer_role, proposer_organisation, region_code, created_by, eligibility)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [title, summary, serviceType, integrationMethod, supplierId, role.role, role.organisation, regionCode, actor.sub, JSON.stringify(eligibility)]);
    const id = String(row.id);
    for (const [criterion, value] of Object.entries(evidence)) {
      await tx.query('INSERT INTO proposal_evidence (proposal_id, criterion, evidence) VALUES ($1, $2, $3)', [id, criterion, JSON.stringify(value)]);
    }
    // An ICB proposing a service supports it by doing so.
    if (role.role === 'commissioner') {
      await tx.query('INSERT INTO proposal_support (proposal_id, kind, organisation, statement, recorded_by) VALUES ($1, $2, $3, $4, $5)', [id, 'commissioner', role.organisation, evidence['commissioner-support'].statement, actor.sub]);
    }
    await auditChange(deps.audit, tx, actor, role, { action: 'submit-proposal', resource: `proposal:${id}`, after: { title, summary, serviceType, supplierId, regionCode, eligibility, evidence } });
    return id;
  });
}

/** Whether the actor may see this proposal: national team all; others within their organisation's reach. */
export function canSee(deps: GovernanceDeps, actor: GovernanceActor, p: { regionCode: string; supplierId: string; proposerOrganisation: string }): boolean {
  return actor.roles.some((r) => {
    switch (r.role) {
      case 'national-team': return true;
      case 'region': return r.organisation === p.regionCode;
      case 'commissioner': return r.organisation === p.proposerOrganisation || icbOf(deps, r.organisation)?.regionCode === p.regionCode;
      case 'provider': return deps.practices.get(r.organisation)?.regionCode === p.regionCode;
      case 'supplier': return r.organisation === p.supplierId;
      default: return false;
    }
  });
}

type Row = Record<string, unknown>;

/** Loads proposals (all, or one) with evidence, support, assessments, decisions and score, in a fixed number of queries. */
async function load(deps: GovernanceDeps, db: Queryable, id?: string): Promise<Proposal[]> {
  const where = id === undefined ? '' : 'WHERE p.id = $1';
  const args = id === undefined ? [] : [id];
  const rows = await db.query<Row>(`SELECT p.*, s.name AS supplier_name FROM proposals p JOIN suppliers s ON s.id = p.supplier_id ${where} ORDER BY p.id`, args);
  if (!rows.length) return [];
  const ids = rows.map((r) => String(r.id));
  const [evidence, support, assessments, decisions, model] = await Promise.all([
    db.query<Row>('SELECT * FROM proposal_evidence WHERE proposal_id = ANY($1::bigint[])', [ids]),
    db.query<Row>('SELECT * FROM proposal_support WHERE proposal_id = ANY($1::bigint[]) ORDER BY recorded_at, organisation', [ids]),
    db.query<Row>('SELECT * FROM proposal_assessments WHERE proposal_id = ANY($1::bigint[])', [ids]),
    db.query<Row>('SELECT * FROM decisions WHERE proposal_id = ANY($1::bigint[]) ORDER BY decided_at DESC, id DESC', [ids]),
    loadScoringModel(db),
  ]);
  return rows.map((r) => build(deps, r, model, evidence, support, assessments, decisions));
}

function build(deps: GovernanceDeps, r: Row, model: Criterion[], evidence: Row[], support: Row[], assessments: Row[], decisions: Row[]): Proposal {
  const id = String(r.id);
  const mine = <T extends Row>(list: T[]) => list.filter((x) => String(x.proposal_id) === id);
  const ev = Object.fromEntries(mine(evidence).map((e) => [e.criterion, e.evidence])) as unknown as Evidence;
  const sup: SupportRecord[] = mine(support).map((s) => {
    const kind = s.kind as SupportRecord['kind'];
    const org = s.organisation as string;
    const registeredPatients = s.registered_patients === null ? null : Number(s.registered_patients);
    const practice = kind === 'provider' ? deps.practices.get(org) : undefined;
    return {
      kind, organisation: org, organisationName: kind === 'commissioner' ? `ICB ${org}` : practice ? `${practice.name} (${org})` : org,
      statement: s.statement as string, registeredPatients, processChange: s.process_change as boolean | null,
      coverage: kind === 'commissioner' ? icbCoverage(deps.practices, org, registeredPatients) : undefined,
      recordedBy: s.recorded_by as string, recordedAt: new Date(s.recorded_at as string),
    };
  });
  const icbs = sup.filter((s) => s.coverage).map((s) => s.coverage!);
  const population = icbs.reduce((n, c) => n + c.population, 0);
  const assessed = Object.fromEntries(mine(assessments).map((a) => [a.criterion, { points: Number(a.points), note: (a.note as string) ?? null }])) as Proposal['assessments'];
  const score = scoreProposal(model, {
    citizenFacing: ev['citizen-facing']?.citizenFacing ?? false,
    providerSupporters: sup.filter((s) => s.kind === 'provider').length,
    population,
    assessments: Object.fromEntries(Object.entries(assessed).map(([k, v]) => [k, v!.points])),
  });
  return {
    id, title: r.title as string, summary: r.summary as string,
    serviceType: r.service_type as ProposableType, serviceTypeName: SERVICE_TYPE_NAMES[r.service_type as ProposableType],
    integrationMethod: r.integration_method as 'native' | 'web',
    supplierId: r.supplier_id as string, supplierName: r.supplier_name as string,
    proposerRole: r.proposer_role as Proposal['proposerRole'], proposerOrganisation: r.proposer_organisation as string,
    regionCode: r.region_code as string, regionName: REGION_NAMES[r.region_code as string] ?? (r.region_code as string),
    status: r.status as ProposalStatus, createdBy: r.created_by as string, createdAt: new Date(r.created_at as string),
    eligibility: (r.eligibility as Eligibility | null) ?? null,
    evidence: ev, support: sup,
    coverage: { icbs, practices: icbs.reduce((n, c) => n + c.practices, 0), population },
    assessments: assessed, score,
    decisions: mine(decisions).map((d) => ({
      id: String(d.id), outcome: d.outcome as DecisionOutcome, rationale: d.rationale as string, score: Number(d.score),
      breakdown: d.breakdown as Score, feedbackConsidered: Number(d.feedback_considered), decidedBy: d.decided_by as string, decidedAt: new Date(d.decided_at as string),
      round: d.round as string,
    })),
  };
}

/** One proposal, if the actor may see it. */
export async function viewProposal(deps: GovernanceDeps, actor: GovernanceActor, id: string): Promise<Proposal> {
  if (!/^\d{1,15}$/.test(id)) throw notFound('No proposal with that number');
  const [p] = await load(deps, deps.db, id);
  if (!p) throw notFound('No proposal with that number');
  if (!canSee(deps, actor, p)) throw denied('This proposal is outside your organisation');
  return p;
}

/** Proposals the actor may see, highest score first. */
export async function listProposals(deps: GovernanceDeps, actor: GovernanceActor): Promise<Proposal[]> {
  return rank((await load(deps, deps.db)).filter((p) => canSee(deps, actor, p)));
}

function rank(list: Proposal[]): Proposal[] {
  return [...list].sort((a, b) => b.score.score - a.score.score || Number(a.id) - Number(b.id));
}

/** The prioritised backlog (open and deferred proposals by score): nationally, or for one region. */
export async function backlog(deps: GovernanceDeps, regionCode?: string): Promise<Proposal[]> {
  return rank((await load(deps, deps.db)).filter((p) => OPEN.includes(p.status) && (!regionCode || p.regionCode === regionCode)));
}

/** Every proposal, unscoped: for the public register, which shows only what is published there. */
export async function allProposals(deps: GovernanceDeps): Promise<Proposal[]> {
  return load(deps, deps.db);
}

export interface SupportInput {
  statement?: string;
  registeredPatients?: string;
  processChange?: string;
}

/** A commissioner records its ICB's support, or a provider its own; each organisation once. */
export async function recordSupport(deps: GovernanceDeps, actor: GovernanceActor, proposalId: string, input: SupportInput): Promise<void> {
  const role = requireRole(actor, ['commissioner', 'provider'], 'record support for a proposal');
  const p = await viewProposal(deps, { ...actor, roles: [role] }, proposalId);
  if (!OPEN.includes(p.status)) throw conflict('Support can only be recorded while the proposal is open');
  if (p.support.some((s) => s.kind === role.role && s.organisation === role.organisation)) throw conflict('Your organisation has already recorded its support for this proposal');
  const bad = new Invalid();
  const statement = text(bad, 'statement', input.statement, 'Enter your organisation\'s statement of support', 2000);
  let registeredPatients: number | null = null;
  let processChange: boolean | null = null;
  if (role.role === 'commissioner') {
    const raw = (input.registeredPatients ?? '').replace(/[,\s]/g, '');
    if (raw) {
      registeredPatients = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(registeredPatients) || registeredPatients < 1 || registeredPatients > 20_000_000) bad.add('registeredPatients', 'Enter registered patients as a whole number from 1 to 20,000,000, or leave it blank');
    }
  } else {
    processChange = yesNo(bad, 'processChange', input.processChange, 'Select whether your business processes must change');
  }
  bad.throwIfAny();
  await deps.db.transaction(async (tx) => {
    await tx.query('INSERT INTO proposal_support (proposal_id, kind, organisation, statement, registered_patients, process_change, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [p.id, role.role, role.organisation, statement, registeredPatients, processChange, actor.sub]);
    await tx.query('UPDATE proposals SET updated_at = now() WHERE id = $1', [p.id]);
    await auditChange(deps.audit, tx, actor, role, { action: 'record-support', resource: `proposal:${p.id}`, before: null, after: { kind: role.role, organisation: role.organisation, statement, registeredPatients, processChange } });
  });
}

/** The national team scores one assessed criterion, 0 to 3 points. */
export async function assessCriterion(deps: GovernanceDeps, actor: GovernanceActor, proposalId: string, input: { criterion?: string; points?: string | number; note?: string }): Promise<void> {
  const role = requireRole(actor, 'national-team', 'assess proposals');
  const p = await viewProposal(deps, actor, proposalId);
  if (!OPEN.includes(p.status)) throw conflict('This proposal has been decided; its assessment can no longer change');
  const model = await loadScoringModel(deps.db);
  const criterion = model.find((c) => c.criterion === input.criterion);
  if (!criterion) throw invalidField('criterion', 'Select a published criterion');
  if (criterion.method !== 'assessed') throw invalidField('criterion', `${criterion.name} is computed from the recorded evidence, not assessed`);
  const raw = String(input.points ?? '').trim();
  const points = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(points) || points < 0 || points > MAX_POINTS) throw invalidField('points', `Points must be a whole number from 0 to ${MAX_POINTS}`);
  const note = (input.note ?? '').trim().slice(0, 2000) || null;
  const before = p.assessments[criterion.criterion] ?? null;
  await deps.db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO proposal_assessments (proposal_id, criterion, points, note, assessed_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (proposal_id, criterion) DO UPDATE SET points = EXCLUDED.points, note = EXCLUDED.note, assessed_by = EXCLUDED.assessed_by, assessed_at = now()`,
      [p.id, criterion.criterion, points, note, actor.sub]);
    await auditChange(deps.audit, tx, actor, role, { action: 'assess-criterion', resource: `proposal:${p.id}`, before: before && { criterion: criterion.criterion, ...before }, after: { criterion: criterion.criterion, points, note } });
  });
}

const STATUS_AFTER: Record<DecisionOutcome, ProposalStatus> = { approve: 'approved', defer: 'deferred', reject: 'rejected' };

/** The national team decides: approve, defer or reject, with a rationale; the score as it stands is kept with it. */
export async function decide(deps: GovernanceDeps, actor: GovernanceActor, proposalId: string, input: { outcome?: string; rationale?: string }): Promise<string> {
  const role = requireRole(actor, 'national-team', 'decide proposals');
  const p = await viewProposal(deps, actor, proposalId);
  if (!OPEN.includes(p.status)) throw conflict(`This proposal has already been ${p.status}`);
  const bad = new Invalid();
  const outcome = input.outcome as DecisionOutcome;
  if (!(outcome in STATUS_AFTER)) bad.add('outcome', 'Select approve, defer or reject');
  const rationale = text(bad, 'rationale', input.rationale, 'Enter the reasons for the decision');
  if (outcome === 'approve' && !p.score.complete) bad.add('outcome', 'Assess every criterion before approving');
  bad.throwIfAny();
  return deps.db.transaction(async (tx) => {
    const [{ n }] = await tx.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM feedback WHERE status = 'published' AND (proposal_id = $1 OR target_kind = 'criterion')", [p.id]);
    const [row] = await tx.query<{ id: string }>(
      'INSERT INTO decisions (proposal_id, outcome, rationale, score, breakdown, feedback_considered, decided_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [p.id, outcome, rationale, p.score.score, JSON.stringify(p.score), n, actor.sub]);
    // Guarded on the status read above, so two decisions racing cannot both land.
    const updated = await tx.query('UPDATE proposals SET status = $2, updated_at = now() WHERE id = $1 AND status = $3 RETURNING id', [p.id, STATUS_AFTER[outcome], p.status]);
    if (!updated.length) throw conflict('This proposal changed while you were deciding; reload it and try again');
    await auditChange(deps.audit, tx, actor, role, { action: 'decide', resource: `proposal:${p.id}`, before: { status: p.status }, after: { status: STATUS_AFTER[outcome], outcome, rationale, score: p.score.score, feedbackConsidered: n } });
    return String(row.id);
  });
}

