// The integration pipeline: the route an approved proposal takes into the app (solution design, development in a
// sandpit, assurance, connection agreement, live, retired). Gates are judged in one place (gateReport) from the
// record and the latest assurance run of each kind; a stage moves forward one step only when every gate up to it
// has passed. Suppliers act on their own integrations, the national team moves stages and signs off, supporting
// commissioners and the proposal's region may look. Checks come first, then one transaction with its audit row.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';
import { AccessDeniedError, type StaffActor } from '../access/request-context.ts';
import { listCommissioning, listServices, notifyCatalogChanged, upsertService, type CatalogService, type HubCategory } from '../catalog/catalog.ts';
import type { CatalogIndex } from '../catalog/resolution.ts';
import { auditChange, conflict, denied, hasRole, Invalid, invalidField, notFound, requireRole, type GovernanceActor } from '../governance/governance-access.ts';
import { icbCoverage } from '../governance/scoring.ts';
import { SERVICE_TYPE_NAMES, type GovernanceDeps, type ProposableType } from '../governance/suppliers.ts';
import type { IdentityLevel, StaffRole } from '../identity/provider/accounts.ts';
import { REGION_NAMES } from '../reference/regions.ts';
import type { Queryable } from '../store/store.ts';
import { latestRuns, type RunKind, type RunRecord } from './runs/run-service.ts';

export interface PipelineDeps extends GovernanceDeps {
  /** This node's catalog index, rebuilt straight after go-live or retirement so the next page here shows it. */
  catalog?: CatalogIndex;
}

/** The whole route; the first three happen on the proposal, the rest on its integration. */
export const ROUTE = ['eligibility', 'expression-of-interest', 'prioritisation', 'solution-design', 'development', 'assurance', 'connection-agreement', 'live', 'retired'] as const;
export type RouteStage = (typeof ROUTE)[number];
export const STAGES = ['solution-design', 'development', 'assurance', 'connection-agreement', 'live', 'retired'] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_NAMES: Record<RouteStage, string> = {
  eligibility: 'Eligibility check', 'expression-of-interest': 'Expression of interest', prioritisation: 'Prioritisation',
  'solution-design': 'Solution design', development: 'Development in the sandpit', assurance: 'Assurance',
  'connection-agreement': 'Connection agreement', live: 'Live', retired: 'Retired',
};

export const GATES = ['design', 'sandbox', 'endpoint', 'checklist', 'clinical-safety', 'data-security', 'conformance', 'accessibility', 'capacity', 'agreement'] as const;
export type GateCode = (typeof GATES)[number];

export const GATE_NAMES: Record<GateCode, string> = {
  design: 'Solution design recorded', sandbox: 'Sandbox credentials issued', endpoint: 'Endpoint registered',
  checklist: 'Assurance checklist completed', 'clinical-safety': 'Clinical safety (DCB0129 safety case)', 'data-security': 'Data security (DSPT status)',
  conformance: 'Conformance suite', accessibility: 'Accessibility (web pages)', capacity: 'Capacity check', agreement: 'Connection agreement signed',
};

/** The gates first needed to enter each stage; entering a stage needs these and every earlier stage's too. */
const GATES_TO_ENTER: Partial<Record<Stage, GateCode[]>> = {
  development: ['design'],
  assurance: ['sandbox', 'endpoint'],
  'connection-agreement': ['checklist', 'clinical-safety', 'data-security', 'conformance', 'accessibility', 'capacity'],
  live: ['agreement'],
};

export const DSPT_STATUSES = ['Standards met', 'Approaching standards', 'Standards not met'] as const;
export const IDENTITY_LEVELS: IdentityLevel[] = ['P0', 'P5', 'P9'];
const CATEGORY: Record<ProposableType, HubCategory> = { 'gp-system': 'gp', 'online-consultation': 'consultations', phr: 'record' };

export interface Design {
  apis: string;
  dataFlows: string;
  identityLevel: IdentityLevel;
  safetyOfficer: string;
  recordedBy: string;
  recordedAt: string;
}

export interface ChecklistItem {
  item: string;
  name: string;
  description: string;
  appliesTo: 'all' | 'native' | 'web';
  evidence?: { text: string; by: string; at: Date };
}

export interface Integration {
  id: string;
  proposalId: string;
  title: string;
  summary: string;
  supplierId: string;
  supplierName: string;
  serviceType: ProposableType;
  serviceTypeName: string;
  integrationMethod: 'native' | 'web';
  regionCode: string;
  regionName: string;
  round: string;
  stage: Stage;
  eligibility: { commissionedInEngland: boolean; freeAtPointOfUse: boolean; personalised: boolean } | null;
  proposedAt: Date;
  decision?: { at: Date; by: string; rationale: string; round: string };
  supportingIcbs: string[];
  populationCovered: number;
  design?: Design;
  endpointUrl?: string;
  webUrl?: string;
  credentials?: { clientId: string; issuedBy: string; issuedAt: Date };
  safety?: { reference: string; by: string; at: Date };
  dspt?: { status: (typeof DSPT_STATUSES)[number]; by: string; at: Date };
  agreement?: { signatory: string; by: string; at: Date };
  live?: { by: string; reason: string; at: Date };
  retired?: { by: string; reason: string; at: Date };
  catalogServiceId?: string;
  checklist: ChecklistItem[];
  updatedAt: Date;
}

export type GateState = 'passed' | 'not-yet' | 'failed';

export interface Gate {
  gate: GateCode;
  name: string;
  state: GateState;
  reason: string;
  /** The stage this gate must be passed to enter. */
  toEnter: Stage;
  /** For run gates: the latest run of its kind. */
  run?: RunRecord;
}

type Row = Record<string, unknown>;
const date = (v: unknown) => (v == null ? undefined : new Date(v as string));

async function loadChecklist(db: Queryable, integrationId: string, method: 'native' | 'web'): Promise<ChecklistItem[]> {
  const rows = await db.query<Row>(
    `SELECT c.item, c.name, c.description, c.applies_to, e.evidence, e.completed_by, e.completed_at
     FROM assurance_checklist c LEFT JOIN assurance_evidence e ON e.item = c.item AND e.integration_id = $1
     WHERE c.applies_to IN ('all', $2) ORDER BY c.sort_order`, [integrationId, method]);
  return rows.map((r) => ({
    item: r.item as string, name: r.name as string, description: r.description as string, appliesTo: r.applies_to as ChecklistItem['appliesTo'],
    evidence: r.evidence == null ? undefined : { text: r.evidence as string, by: r.completed_by as string, at: new Date(r.completed_at as string) },
  }));
}

async function load(deps: PipelineDeps, db: Queryable, id?: string): Promise<Integration[]> {
  const rows = await db.query<Row>(
    `SELECT i.*, p.title, p.summary, p.region_code, p.eligibility, p.created_at AS proposed_at, s.name AS supplier_name,
            d.decided_at, d.decided_by, d.rationale, d.round AS decision_round
     FROM integrations i JOIN proposals p ON p.id = i.proposal_id JOIN suppliers s ON s.id = i.supplier_id
     LEFT JOIN LATERAL (SELECT * FROM decisions d WHERE d.proposal_id = p.id AND d.outcome = 'approve' ORDER BY d.decided_at DESC, d.id DESC LIMIT 1) d ON true
     ${id === undefined ? '' : 'WHERE i.id = $1'} ORDER BY i.id`, id === undefined ? [] : [id]);
  if (!rows.length) return [];
  const support = await db.query<Row>(
    "SELECT proposal_id, organisation, registered_patients FROM proposal_support WHERE kind = 'commissioner' AND proposal_id = ANY($1::bigint[]) ORDER BY organisation",
    [rows.map((r) => String(r.proposal_id))]);
  const out: Integration[] = [];
  for (const r of rows) {
    const icbs = support.filter((s) => String(s.proposal_id) === String(r.proposal_id));
    const method = r.integration_method as 'native' | 'web';
    const e = r.eligibility as Row | null;
    out.push({
      id: String(r.id), proposalId: String(r.proposal_id), title: r.title as string, summary: r.summary as string,
      supplierId: r.supplier_id as string, supplierName: r.supplier_name as string,
      serviceType: r.service_type as ProposableType, serviceTypeName: SERVICE_TYPE_NAMES[r.service_type as ProposableType], integrationMethod: method,
      regionCode: r.region_code as string, regionName: REGION_NAMES[r.region_code as string] ?? (r.region_code as string),
      round: r.round as string, stage: r.stage as Stage,
      eligibility: e ? { commissionedInEngland: e.commissionedInEngland === true, freeAtPointOfUse: e.freeAtPointOfUse === true, personalised: e.personalised === true } : null,
      proposedAt: new Date(r.proposed_at as string),
      decision: r.decided_at ? { at: new Date(r.decided_at as string), by: r.decided_by as string, rationale: r.rationale as string, round: r.decision_round as string } : undefined,
      supportingIcbs: icbs.map((s) => s.organisation as string),
      populationCovered: icbs.reduce((n, s) => n + icbCoverage(deps.practices, s.organisation as string, s.registered_patients == null ? null : Number(s.registered_patients)).population, 0),
      design: (r.design as Design | null) ?? undefined,
      endpointUrl: (r.endpoint_url as string | null) ?? undefined,
      webUrl: (r.web_url as string | null) ?? undefined,
      credentials: r.client_id ? { clientId: r.client_id as string, issuedBy: r.credentials_issued_by as string, issuedAt: new Date(r.credentials_issued_at as string) } : undefined,
      safety: r.safety_signed_off_at ? { reference: r.safety_case_reference as string, by: r.safety_signed_off_by as string, at: new Date(r.safety_signed_off_at as string) } : undefined,
      dspt: r.dspt_status ? { status: r.dspt_status as (typeof DSPT_STATUSES)[number], by: r.dspt_recorded_by as string, at: new Date(r.dspt_recorded_at as string) } : undefined,
      agreement: r.agreement_signed_at ? { signatory: r.agreement_signatory as string, by: r.agreement_recorded_by as string, at: new Date(r.agreement_signed_at as string) } : undefined,
      live: r.live_at ? { by: r.live_by as string, reason: r.live_reason as string, at: new Date(r.live_at as string) } : undefined,
      retired: r.retired_at ? { by: r.retired_by as string, reason: r.retired_reason as string, at: new Date(r.retired_at as string) } : undefined,
      catalogServiceId: (r.catalog_service_id as string | null) ?? undefined,
      checklist: await loadChecklist(db, String(r.id), method),
      updatedAt: date(r.updated_at)!,
    });
  }
  return out;
}

// ---- who may do what --------------------------------------------------------------------------------------------

/** National team all; a supplier its own; the proposal's region; commissioners of ICBs that supported it. */
export function canView(actor: Pick<GovernanceActor, 'roles'>, i: Pick<Integration, 'supplierId' | 'regionCode' | 'supportingIcbs'>): boolean {
  return actor.roles.some((r) => {
    switch (r.role) {
      case 'national-team': return true;
      case 'supplier': return r.organisation === i.supplierId;
      case 'region': return r.organisation === i.regionCode;
      case 'commissioner': return i.supportingIcbs.includes(r.organisation);
      default: return false;
    }
  });
}

function supplierRole(actor: GovernanceActor, i: Integration, what: string): StaffRole {
  const role = requireRole(actor, 'supplier', what);
  const own = actor.roles.find((r) => r.role === 'supplier' && r.organisation === i.supplierId);
  if (!own) throw denied(`Only ${i.supplierName} can ${what} for this integration`);
  return own ?? role;
}

function nationalRole(actor: GovernanceActor, what: string): StaffRole {
  return requireRole(actor, 'national-team', what);
}

function inStage(i: Integration, allowed: Stage[], what: string): void {
  if (!allowed.includes(i.stage)) {
    throw conflict(`You can ${what} only in ${allowed.map((s) => STAGE_NAMES[s].toLowerCase()).join(' or ')}; this integration is at ${STAGE_NAMES[i.stage].toLowerCase()}`);
  }
}

/** One integration, if the actor may see it. */
export async function viewIntegration(deps: PipelineDeps, actor: GovernanceActor, id: string): Promise<Integration> {
  if (!/^\d{1,15}$/.test(id)) throw notFound('No integration with that number');
  const [i] = await load(deps, deps.db, id);
  if (!i) throw notFound('No integration with that number');
  if (!canView(actor, i)) throw denied('This integration is outside your organisation');
  return i;
}

/** The integrations the actor may see. */
export async function listIntegrations(deps: PipelineDeps, actor: GovernanceActor): Promise<Integration[]> {
  return (await load(deps, deps.db)).filter((i) => canView(actor, i));
}

/** The integration for a proposal, if it has one (approved proposals always do). */
export async function integrationForProposal(db: Queryable, proposalId: string): Promise<string | undefined> {
  const [r] = await db.query<{ id: string }>('SELECT id FROM integrations WHERE proposal_id = $1', [proposalId]);
  return r ? String(r.id) : undefined;
}

/**
 * For the assurance runs' pages: who may look at (supplier, national team, supporting ICBs, the region) and who
 * may start (the integration's supplier and the national team) runs; throws AccessDeniedError otherwise.
 */
export async function authorize(deps: PipelineDeps, staff: StaffActor, integrationId: string, action: 'view' | 'start'): Promise<void> {
  if (!/^\d{1,15}$/.test(integrationId)) throw notFound('No integration with that number');
  const [i] = await load(deps, deps.db, integrationId);
  if (!i) throw notFound('No integration with that number');
  const ok = action === 'view'
    ? canView(staff, i)
    : staff.roles.some((r) => r.role === 'national-team' || (r.role === 'supplier' && r.organisation === i.supplierId));
  if (!ok) throw new AccessDeniedError(action === 'view' ? 'this integration is outside your organisation' : `only ${i.supplierName} and the national app team can start runs for this integration`);
}

export interface IntegrationInfo {
  supplierId: string;
  serviceType: ProposableType;
  integrationMethod: 'native' | 'web';
  populationCovered: number;
  endpointUrl?: string;
  webUrl?: string;
}

/** What a run needs to know about its integration (the capacity run's population default among it). */
export async function integrationInfo(deps: PipelineDeps, id: string): Promise<IntegrationInfo> {
  const [i] = /^\d{1,15}$/.test(id) ? await load(deps, deps.db, id) : [];
  if (!i) throw notFound('No integration with that number');
  return { supplierId: i.supplierId, serviceType: i.serviceType, integrationMethod: i.integrationMethod, populationCovered: i.populationCovered, endpointUrl: i.endpointUrl, webUrl: i.webUrl };
}

// ---- gates --------------------------------------------------------------------------------------------------------

const RUN_KIND_NAMES: Record<RunKind, string> = { conformance: 'Conformance', accessibility: 'Accessibility', capacity: 'Capacity' };

function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}

function judgeRun(kind: RunKind, run: RunRecord | undefined, against: { url?: string; what: string }): Pick<Gate, 'state' | 'reason' | 'run'> {
  const name = RUN_KIND_NAMES[kind];
  if (!run) return { state: 'not-yet', reason: `No ${kind} run yet` };
  const base = { run };
  if (run.status === 'queued' || run.status === 'running') return { ...base, state: 'not-yet', reason: `${name} run ${run.id} is ${run.status} (${run.progress}%)` };
  if (!against.url) return { ...base, state: 'not-yet', reason: `No ${against.what} is registered to judge run ${run.id} against` };
  if (originOf(run.targetUrl) !== originOf(against.url)) {
    return { ...base, state: 'not-yet', reason: `The latest ${kind} run (${run.id}) was against ${run.targetUrl}, not the registered ${against.what} ${against.url}; run it again` };
  }
  if (run.status === 'passed') return { ...base, state: 'passed', reason: `${name} run ${run.id} passed` };
  if (run.status === 'failed') return { ...base, state: 'failed', reason: `${name} run ${run.id} failed${run.error ? `: ${run.error}` : '; see the run for what did not meet the bar'}` };
  return { ...base, state: 'failed', reason: `${name} run ${run.id} could not complete${run.error ? `: ${run.error}` : ''}` };
}

/** Every gate that applies to the integration, each passed, not yet or failed, with the reason. */
export function judgeGates(i: Integration, runs: Partial<Record<RunKind, RunRecord>>): Gate[] {
  const toEnter = (g: GateCode): Stage => (Object.entries(GATES_TO_ENTER).find(([, gs]) => gs.includes(g))![0] as Stage);
  const gate = (g: GateCode, v: Pick<Gate, 'state' | 'reason' | 'run'>): Gate => ({ gate: g, name: GATE_NAMES[g], toEnter: toEnter(g), ...v });
  const ok = (reason: string) => ({ state: 'passed' as const, reason });
  const notYet = (reason: string) => ({ state: 'not-yet' as const, reason });
  const web = i.integrationMethod === 'web';
  const missing = i.checklist.filter((c) => !c.evidence);
  const itemDone = (code: string) => i.checklist.some((c) => c.item === code && c.evidence);
  const gates: Gate[] = [
    gate('design', i.design ? ok(`Recorded by ${i.design.recordedBy}`) : notYet('No solution design recorded yet')),
    gate('sandbox', i.credentials ? ok(`Client ${i.credentials.clientId} issued by ${i.credentials.issuedBy}`) : notYet('Sandbox credentials have not been issued')),
    gate('endpoint', !i.endpointUrl ? notYet('The supplier has not registered its endpoint')
      : web && !i.webUrl ? notYet('The supplier has not registered the web address citizens are sent to')
        : ok(`Registered: ${[i.endpointUrl, i.webUrl].filter(Boolean).join(' and ')}`)),
    gate('checklist', missing.length === 0 ? ok(`All ${i.checklist.length} items have evidence`)
      : notYet(`${missing.length} of ${i.checklist.length} checklist items have no evidence yet: ${missing.map((m) => m.name).join(', ')}`)),
    gate('clinical-safety', i.safety ? ok(`Safety case ${i.safety.reference} signed off by ${i.safety.by}`)
      : notYet(itemDone('clinical-safety-case') ? 'The national app team has not signed off the DCB0129 safety case' : 'Waiting for the supplier\'s DCB0129 safety case evidence')),
    gate('data-security', !i.dspt ? notYet(itemDone('dspt') ? 'The national app team has not recorded the DSPT status' : 'Waiting for the supplier\'s DSPT evidence')
      : i.dspt.status === 'Standards met' ? ok(`DSPT status Standards met, recorded by ${i.dspt.by}`)
        : { state: 'failed', reason: `DSPT status is ${i.dspt.status}; Standards met is needed` }),
    gate('conformance', judgeRun('conformance', runs.conformance, { url: i.endpointUrl, what: 'endpoint' })),
    ...(web ? [gate('accessibility', judgeRun('accessibility', runs.accessibility, { url: i.webUrl, what: 'web address' }))] : []),
    gate('capacity', judgeRun('capacity', runs.capacity, { url: i.endpointUrl, what: 'endpoint' })),
    gate('agreement', i.agreement ? ok(`Signed for the supplier by ${i.agreement.signatory}`) : notYet('The connection agreement has not been signed')),
  ];
  return gates;
}

/** The gate report for an integration, from the record and the latest run of each kind. */
export async function gateReport(deps: PipelineDeps, i: Integration): Promise<Gate[]> {
  return judgeGates(i, await latestRuns(deps.db, i.id));
}

/** The gates that must have passed to enter a stage: its own and every earlier stage's. */
export function gatesToEnter(stage: Stage, gates: Gate[]): Gate[] {
  const upTo = STAGES.slice(0, STAGES.indexOf(stage) + 1);
  return gates.filter((g) => upTo.includes(g.toEnter));
}

export function nextStage(stage: Stage): Stage | undefined {
  return stage === 'live' ? 'retired' : stage === 'retired' ? undefined : STAGES[STAGES.indexOf(stage) + 1];
}

function refuseUnlessGatesPassed(stage: Stage, gates: Gate[]): void {
  const blocking = gatesToEnter(stage, gates).filter((g) => g.state !== 'passed');
  if (blocking.length) {
    throw conflict(`Cannot move to ${STAGE_NAMES[stage].toLowerCase()} yet: ${blocking.map((g) => `${g.name.toLowerCase()}: ${g.reason.charAt(0).toLowerCase()}${g.reason.slice(1)}`).join('; ')}`);
  }
}

// ---- changes --------------------------------------------------------------------------------------------------------

/** Writes one change guarded on the stage read before, with its audit row, in one transaction. */
async function change(deps: PipelineDeps, actor: GovernanceActor, role: StaffRole, i: Integration, action: string, before: unknown, after: unknown, sql: string, args: unknown[]): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const updated = await tx.query(`UPDATE integrations SET ${sql}, updated_at = now() WHERE id = $1 AND stage = $2 RETURNING id`, [i.id, i.stage, ...args]);
    if (!updated.length) throw conflict('This integration changed while you were working on it; reload it and try again');
    await auditChange(deps.audit, tx, actor, role, { action, resource: `integration:${i.id}`, before, after });
  });
}

function text(bad: Invalid, field: string, value: string | undefined, message: string, max = 2000): string {
  const v = (value ?? '').trim();
  if (!v) bad.add(field, message);
  else if (v.length > max) bad.add(field, `Must be ${max.toLocaleString('en-GB')} characters or fewer`);
  return v;
}

function url(bad: Invalid, field: string, value: string | undefined, what: string): string {
  const v = (value ?? '').trim();
  if (!v) {
    bad.add(field, `Enter the ${what}`);
    return v;
  }
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) bad.add(field, `Enter the ${what} as a full web address starting with https:// or http://`);
  else if (u.username || u.password) bad.add(field, `The ${what} must not contain a user name or password`);
  else if (v.length > 500) bad.add(field, `The ${what} must be 500 characters or fewer`);
  return v;
}

/** The supplier or the national team records the solution design. */
export async function recordDesign(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { apis?: string; dataFlows?: string; identityLevel?: string; safetyOfficer?: string }): Promise<void> {
  const i = await viewIntegration(deps, actor, id);
  const role = hasRole(actor, 'national-team') ? nationalRole(actor, 'record a solution design') : supplierRole(actor, i, 'record the solution design');
  inStage(i, ['solution-design', 'development'], 'record the solution design');
  const bad = new Invalid();
  const apis = text(bad, 'apis', input.apis, 'Enter the APIs the service uses');
  const dataFlows = text(bad, 'dataFlows', input.dataFlows, 'Describe the data that flows between the app and the service');
  const identityLevel = input.identityLevel as IdentityLevel;
  if (!IDENTITY_LEVELS.includes(identityLevel)) bad.add('identityLevel', 'Select the NHS login identity level citizens need');
  const safetyOfficer = text(bad, 'safetyOfficer', input.safetyOfficer, 'Enter the name of the clinical safety officer', 200);
  bad.throwIfAny();
  const design: Design = { apis, dataFlows, identityLevel, safetyOfficer, recordedBy: actor.sub, recordedAt: new Date().toISOString() };
  await change(deps, actor, role, i, 'record-design', i.design ?? null, design, 'design = $3', [JSON.stringify(design)]);
}

/** The supplier registers its endpoint (and, for web integrations, the address citizens are sent to). */
export async function registerEndpoint(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { endpointUrl?: string; webUrl?: string }): Promise<void> {
  const i = await viewIntegration(deps, actor, id);
  const role = supplierRole(actor, i, 'register endpoints');
  inStage(i, ['development', 'assurance'], 'register endpoints');
  const bad = new Invalid();
  const endpointUrl = url(bad, 'endpointUrl', input.endpointUrl, 'endpoint base URL');
  const webUrl = i.integrationMethod === 'web' ? url(bad, 'webUrl', input.webUrl, 'web address citizens are sent to') : null;
  bad.throwIfAny();
  await change(deps, actor, role, i, 'register-endpoint', { endpointUrl: i.endpointUrl ?? null, webUrl: i.webUrl ?? null }, { endpointUrl, webUrl },
    'endpoint_url = $3, web_url = $4', [endpointUrl, webUrl]);
}

const scrypt = (secret: BinaryLike, salt: BinaryLike, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(secret, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether a sandbox client's secret is the one issued (for the sandpit's token endpoint). */
export async function verifySandboxSecret(db: Queryable, clientId: string, secret: string): Promise<boolean> {
  const [r] = await db.query<{ client_secret_hash: string }>("SELECT client_secret_hash FROM integrations WHERE client_id = $1 AND stage IN ('development', 'assurance')", [clientId]);
  const parts = r?.client_secret_hash.split('$');
  if (!parts || parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, N, rr, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, { N: Number(N), r: Number(rr), p: Number(p) });
  return timingSafeEqual(actual, expected);
}

/** The national team issues (or replaces) sandbox credentials; the secret is returned once and kept only hashed. */
export async function issueCredentials(deps: PipelineDeps, actor: GovernanceActor, id: string): Promise<{ clientId: string; secret: string }> {
  const role = nationalRole(actor, 'issue sandbox credentials');
  const i = await viewIntegration(deps, actor, id);
  inStage(i, ['development', 'assurance'], 'issue sandbox credentials');
  const clientId = `fd-sandbox-${i.id}-${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  const hash = await hashSecret(secret);
  await change(deps, actor, role, i, 'issue-credentials', i.credentials ? { clientId: i.credentials.clientId } : null, { clientId },
    'client_id = $3, client_secret_hash = $4, credentials_issued_by = $5, credentials_issued_at = now()', [clientId, hash, actor.sub]);
  return { clientId, secret };
}

/** The supplier gives its evidence against one checklist item. */
export async function completeChecklistItem(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { item?: string; evidence?: string }): Promise<void> {
  const i = await viewIntegration(deps, actor, id);
  const role = supplierRole(actor, i, 'complete the assurance checklist');
  inStage(i, ['development', 'assurance'], 'complete the assurance checklist');
  const item = i.checklist.find((c) => c.item === input.item);
  if (!item) throw invalidField('item', 'Select an item on this integration\'s checklist');
  const bad = new Invalid();
  const evidence = text(bad, `evidence-${item.item}`, input.evidence, `Enter your evidence for ${item.name.charAt(0).toLowerCase()}${item.name.slice(1)}`);
  bad.throwIfAny();
  await deps.db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO assurance_evidence (integration_id, item, evidence, completed_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (integration_id, item) DO UPDATE SET evidence = EXCLUDED.evidence, completed_by = EXCLUDED.completed_by, completed_at = now()`,
      [i.id, item.item, evidence, actor.sub]);
    const updated = await tx.query('UPDATE integrations SET updated_at = now() WHERE id = $1 AND stage = $2 RETURNING id', [i.id, i.stage]);
    if (!updated.length) throw conflict('This integration changed while you were working on it; reload it and try again');
    await auditChange(deps.audit, tx, actor, role, { action: 'complete-checklist-item', resource: `integration:${i.id}`, before: item.evidence ? { item: item.item, evidence: item.evidence.text } : null, after: { item: item.item, evidence } });
  });
}

/** The national team signs off the clinical safety gate against the supplier's DCB0129 safety case. */
export async function signOffSafety(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { reference?: string }): Promise<void> {
  const role = nationalRole(actor, 'sign off clinical safety');
  const i = await viewIntegration(deps, actor, id);
  inStage(i, ['assurance'], 'sign off clinical safety');
  if (!i.checklist.some((c) => c.item === 'clinical-safety-case' && c.evidence)) throw conflict('The supplier has not yet given its DCB0129 clinical safety case evidence on the checklist');
  if (!i.design?.safetyOfficer) throw conflict('The solution design names no clinical safety officer');
  const bad = new Invalid();
  const reference = text(bad, 'reference', input.reference, 'Enter the safety case reference and version you reviewed', 200);
  bad.throwIfAny();
  await change(deps, actor, role, i, 'sign-off-clinical-safety', i.safety ?? null, { reference, by: actor.sub },
    'safety_case_reference = $3, safety_signed_off_by = $4, safety_signed_off_at = now()', [reference, actor.sub]);
}

/** The national team records the supplier's DSPT status; only 'Standards met' passes the gate. */
export async function recordDspt(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { status?: string }): Promise<void> {
  const role = nationalRole(actor, 'record DSPT status');
  const i = await viewIntegration(deps, actor, id);
  inStage(i, ['assurance'], 'record the DSPT status');
  if (!i.checklist.some((c) => c.item === 'dspt' && c.evidence)) throw conflict('The supplier has not yet given its DSPT evidence on the checklist');
  const status = input.status as (typeof DSPT_STATUSES)[number];
  if (!DSPT_STATUSES.includes(status)) throw invalidField('status', 'Select the DSPT status the supplier\'s latest submission has');
  await change(deps, actor, role, i, 'record-dspt-status', i.dspt ?? null, { status, by: actor.sub },
    'dspt_status = $3, dspt_recorded_by = $4, dspt_recorded_at = now()', [status, actor.sub]);
}

/** The national team records the signed connection agreement. */
export async function recordAgreement(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { signatory?: string }): Promise<void> {
  const role = nationalRole(actor, 'record the connection agreement');
  const i = await viewIntegration(deps, actor, id);
  inStage(i, ['connection-agreement'], 'record the connection agreement');
  const bad = new Invalid();
  const signatory = text(bad, 'signatory', input.signatory, 'Enter who signed the agreement for the supplier', 200);
  bad.throwIfAny();
  await change(deps, actor, role, i, 'sign-connection-agreement', i.agreement ?? null, { signatory, recordedBy: actor.sub },
    'agreement_signatory = $3, agreement_recorded_by = $4, agreement_signed_at = now()', [signatory, actor.sub]);
}

/**
 * The national team moves an integration one stage forward, when every gate up to that stage has passed. Going
 * live and retiring record why, so they have their own functions.
 */
export async function advance(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { to?: string }): Promise<Stage> {
  const role = nationalRole(actor, 'move integrations between stages');
  const i = await viewIntegration(deps, actor, id);
  const next = nextStage(i.stage);
  const to = input.to as Stage;
  if (!STAGES.includes(to)) throw invalidField('to', 'Select the stage to move to');
  if (!next) throw conflict('This integration is retired; it cannot move on');
  if (to !== next) {
    throw conflict(STAGES.indexOf(to) <= STAGES.indexOf(i.stage)
      ? `This integration is already at ${STAGE_NAMES[i.stage].toLowerCase()}; stages only move forward`
      : `Cannot move from ${STAGE_NAMES[i.stage].toLowerCase()} to ${STAGE_NAMES[to].toLowerCase()}: stages move one step at a time, and the next is ${STAGE_NAMES[next].toLowerCase()}`);
  }
  if (to === 'live') throw conflict('Going live records who and why: use go-live');
  if (to === 'retired') throw conflict('Retiring records why: use retire');
  refuseUnlessGatesPassed(to, await gateReport(deps, i));
  await change(deps, actor, role, i, 'advance-stage', { stage: i.stage }, { stage: to }, 'stage = $3', [to]);
  return to;
}

function catalogEntry(i: Integration, status: 'live' | 'retired'): CatalogService {
  return {
    id: i.catalogServiceId ?? `${i.supplierId}-${i.serviceType}-${i.id}`,
    name: i.title,
    description: i.summary.length > 400 ? `${i.summary.slice(0, 397)}...` : i.summary,
    kind: 'local', type: i.serviceType, supplier: i.supplierName, integrationMethod: i.integrationMethod,
    minIdentityLevel: i.design?.identityLevel ?? 'P9', status, category: CATEGORY[i.serviceType],
    webUrl: i.integrationMethod === 'web' ? i.webUrl : undefined, sortOrder: 70,
    // A GP system applies where a practice runs it: its supplier id is the system's id, as the adapters know it.
    gpSystem: i.serviceType === 'gp-system' ? i.supplierId : undefined,
  };
}

async function catalogChanged(deps: PipelineDeps): Promise<void> {
  if (deps.catalog) deps.catalog.rebuild(await listServices(deps.db), await listCommissioning(deps.db));
  await notifyCatalogChanged(deps.db);
}

/** Checks go-live without changing anything (for the check-your-answers page); throws as goLive would. */
export async function checkGoLive(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { reason?: string }): Promise<{ integration: Integration; reason: string; service: CatalogService; gates: Gate[] }> {
  nationalRole(actor, 'put integrations live');
  const i = await viewIntegration(deps, actor, id);
  inStage(i, ['connection-agreement'], 'go live');
  const gates = await gateReport(deps, i);
  refuseUnlessGatesPassed('live', gates);
  const bad = new Invalid();
  const reason = text(bad, 'reason', input.reason, 'Enter why the service is ready to go live');
  bad.throwIfAny();
  return { integration: i, reason, service: catalogEntry(i, 'live'), gates };
}

/** Go-live: every gate passed, recorded with who and why; the service joins the catalog as live for ICBs to commission. */
export async function goLive(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { reason?: string }): Promise<CatalogService> {
  const { integration: i, reason, service } = await checkGoLive(deps, actor, id, input);
  const role = nationalRole(actor, 'put integrations live');
  await deps.db.transaction(async (tx) => {
    await upsertService(tx, service);
    const updated = await tx.query(
      "UPDATE integrations SET stage = 'live', live_by = $3, live_reason = $4, live_at = now(), catalog_service_id = $5, updated_at = now() WHERE id = $1 AND stage = $2 RETURNING id",
      [i.id, i.stage, actor.sub, reason, service.id]);
    if (!updated.length) throw conflict('This integration changed while you were working on it; reload it and try again');
    await auditChange(deps.audit, tx, actor, role, { action: 'go-live', resource: `integration:${i.id}`, before: { stage: i.stage }, after: { stage: 'live', reason, catalogServiceId: service.id, minIdentityLevel: service.minIdentityLevel } });
  });
  await catalogChanged(deps);
  return service;
}

/** Retirement: the catalog stops offering the service everywhere at once. */
export async function retire(deps: PipelineDeps, actor: GovernanceActor, id: string, input: { reason?: string }): Promise<void> {
  const role = nationalRole(actor, 'retire integrations');
  const i = await viewIntegration(deps, actor, id);
  inStage(i, ['live'], 'retire a service');
  const bad = new Invalid();
  const reason = text(bad, 'reason', input.reason, 'Enter why the service is being retired');
  bad.throwIfAny();
  await deps.db.transaction(async (tx) => {
    if (i.catalogServiceId) await tx.query("UPDATE services SET status = 'retired', updated_at = now() WHERE id = $1", [i.catalogServiceId]);
    const updated = await tx.query(
      "UPDATE integrations SET stage = 'retired', retired_by = $3, retired_reason = $4, retired_at = now(), updated_at = now() WHERE id = $1 AND stage = $2 RETURNING id",
      [i.id, i.stage, actor.sub, reason]);
    if (!updated.length) throw conflict('This integration changed while you were working on it; reload it and try again');
    await auditChange(deps.audit, tx, actor, role, { action: 'retire', resource: `integration:${i.id}`, before: { stage: i.stage }, after: { stage: 'retired', reason } });
  });
  await catalogChanged(deps);
}
