// The integration pipeline against a real store: an approved proposal opens its integration, which moves through
// every stage to live and retired; each skipped gate is refused with a precise reason and the record unchanged.
// Finished assurance runs are rows inserted straight into pipeline_runs (the runs themselves are tested beside them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../audit/audit.ts';
import { CatalogIndex } from '../catalog/resolution.ts';
import { GovernanceError, type GovernanceActor } from '../governance/governance-access.ts';
import { assessCriterion, decide, recordSupport, submitProposal } from '../governance/proposals.ts';
import { seedDemoSuppliers } from '../governance/suppliers.ts';
import type { StaffRole } from '../identity/provider/accounts.ts';
import { importOdsDirectory } from '../reference/ods-import.ts';
import { loadPracticeDirectory } from '../reference/practice-directory.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { FIXTURE_ODS_DIR } from '../testing/factories.ts';
import {
  advance, authorize, canView, completeChecklistItem, gateReport, goLive, integrationForProposal, integrationInfo, issueCredentials, listIntegrations,
  recordAgreement, recordDesign, recordDspt, registerEndpoint, retire, signOffSafety, verifySandboxSecret, viewIntegration, type PipelineDeps,
} from './integrations.ts';
import { roundOf } from './rounds.ts';

let db: Store;
let deps: PipelineDeps;
let catalog: CatalogIndex;
before(async () => {
  db = await openStore({});
  await importOdsDirectory(db, FIXTURE_ODS_DIR);
  await seedDemoSuppliers(db);
  const practices = await loadPracticeDirectory(db);
  catalog = new CatalogIndex(practices);
  deps = { db, audit: new AuditLog(db), practices, catalog };
});
after(async () => db.close());

const as = (role: StaffRole['role'], organisation: string): GovernanceActor => ({ sub: `${role}-${organisation}`, roles: [{ role, organisation }] });
const national = as('national-team', 'national');
const askdoc = as('supplier', 'askdoc');
const triagepoint = as('supplier', 'triagepoint');

async function approvedProposal(method: 'native' | 'web'): Promise<string> {
  const id = await submitProposal(deps, askdoc, {
    eligibleCommissioned: 'yes', eligibleFree: 'yes', eligiblePersonalised: 'yes',
    title: `AskDoc ${method} consultation`, summary: 'Ask your practice for help online; triaged the same day.', serviceType: 'online-consultation', integrationMethod: method,
    regionCode: 'Y63', userNeed: 'Phone lines are jammed at 8am.', userNeedSource: 'Practice audit 2025', citizenFacing: 'yes',
    priorities: ['primary-care-access'], priorityExplanation: 'Fewer calls at 8am.', providerSupport: 'A81001 piloted it.', processChange: 'no',
    commissionerSupport: 'QHM funds it.', icbs: 'QHM', addedValue: 'Consultations inside the app.',
  });
  await recordSupport(deps, as('commissioner', 'QHM'), id, { statement: 'We fund it', registeredPatients: '300000' });
  for (const criterion of ['user-need', 'strategic-priority', 'added-value']) await assessCriterion(deps, national, id, { criterion, points: '3' });
  await decide(deps, national, id, { outcome: 'approve', rationale: 'Strong support' });
  return id;
}

async function snapshot(id: string): Promise<unknown> {
  const [row] = await db.query('SELECT * FROM integrations WHERE id = $1', [id]);
  const counts = await db.query(`SELECT (SELECT count(*)::int FROM assurance_evidence) AS evidence, (SELECT count(*)::int FROM audit_events) AS audit,
    (SELECT count(*)::int FROM services) AS services, (SELECT count(*)::int FROM services WHERE status = 'live') AS live`);
  return { row, counts };
}

/** Asserts the action fails with this kind of error and a message matching `message`, and changes nothing. */
async function refused(id: string, action: () => Promise<unknown>, kind: GovernanceError['kind'], message: RegExp): Promise<void> {
  const before = await snapshot(id);
  await assert.rejects(action, (err: unknown) => {
    assert.ok(err instanceof GovernanceError, `expected a GovernanceError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(await snapshot(id), before, 'the record is unchanged');
}

async function run(integrationId: string, kind: string, targetUrl: string, status: string, error?: string): Promise<string> {
  const [r] = await db.query<{ id: string }>(
    `INSERT INTO pipeline_runs (integration_id, kind, target_url, status, progress, error, requested_by, started_at, finished_at)
     VALUES ($1, $2, $3, $4, 100, $5, 'test', now(), now()) RETURNING id`, [integrationId, kind, targetUrl, status, error ?? null]);
  return String(r.id);
}

const gate = async (id: string, code: string) => (await gateReport(deps, await viewIntegration(deps, national, id))).find((g) => g.gate === code);

describe('integration pipeline', () => {
  it('an approved proposal opens its integration at solution design, in its round, with the supporting ICBs\' population', async () => {
    const proposalId = await approvedProposal('native');
    const id = await integrationForProposal(db, proposalId);
    assert.ok(id, 'approval opened the integration');
    const i = await viewIntegration(deps, national, id);
    assert.equal(i.stage, 'solution-design');
    assert.equal(i.round, roundOf(new Date()));
    assert.equal(i.populationCovered, 300_000);
    assert.deepEqual(await integrationInfo(deps, id), { supplierId: 'askdoc', serviceType: 'online-consultation', integrationMethod: 'native', populationCovered: 300_000, endpointUrl: undefined, webUrl: undefined });
  });

  it('who may see an integration and start its runs', async () => {
    const id = (await integrationForProposal(db, await approvedProposal('native')))!;
    const i = await viewIntegration(deps, national, id);
    assert.ok(canView(askdoc, i) && canView(as('commissioner', 'QHM'), i) && canView(as('region', 'Y63'), i));
    for (const outsider of [triagepoint, as('commissioner', 'QMJ'), as('region', 'Y56'), as('provider', 'A81001')]) {
      assert.ok(!canView(outsider, i), `${outsider.sub} cannot see it`);
      await assert.rejects(() => viewIntegration(deps, outsider, id), (e: GovernanceError) => e.kind === 'denied');
    }
    assert.ok(!(await listIntegrations(deps, triagepoint)).some((x) => x.id === id));
    assert.ok((await listIntegrations(deps, as('commissioner', 'QHM'))).some((x) => x.id === id));
    const staff = (a: GovernanceActor) => ({ type: 'staff' as const, ...a, givenName: 'T', familyName: 'S' });
    await authorize(deps, staff(askdoc) as never, id, 'start');
    await authorize(deps, staff(national) as never, id, 'start');
    await authorize(deps, staff(as('commissioner', 'QHM')) as never, id, 'view');
    await assert.rejects(() => authorize(deps, staff(as('commissioner', 'QHM')) as never, id, 'start'), { name: 'AccessDeniedError' });
    await assert.rejects(() => authorize(deps, staff(triagepoint) as never, id, 'view'), { name: 'AccessDeniedError' });
  });

  it('moves a web integration through every stage, refusing each skipped gate with the record unchanged', async () => {
    const id = (await integrationForProposal(db, await approvedProposal('web')))!;
    const endpoint = 'http://127.0.0.1:7101/api';
    const web = 'http://127.0.0.1:7102/start';

    // Solution design.
    await refused(id, () => advance(deps, national, id, { to: 'development' }), 'conflict', /cannot move to development in the sandpit yet: solution design recorded: no solution design recorded yet/i);
    await refused(id, () => advance(deps, national, id, { to: 'assurance' }), 'conflict', /stages move one step at a time, and the next is development in the sandpit/);
    await refused(id, () => recordDesign(deps, triagepoint, id, { apis: 'x', dataFlows: 'y', identityLevel: 'P9', safetyOfficer: 'Dr A' }), 'denied', /outside your organisation/);
    await refused(id, () => recordDesign(deps, askdoc, id, { apis: 'Consultation API', dataFlows: '', identityLevel: 'P7', safetyOfficer: '' }), 'invalid', /data that flows/);
    await refused(id, () => advance(deps, askdoc, id, { to: 'development' }), 'denied', /Only national-team staff/);
    await recordDesign(deps, askdoc, id, { apis: 'Online consultation API v1', dataFlows: 'NHS number and answers to the supplier; a reference back', identityLevel: 'P5', safetyOfficer: 'Dr Asha Rao' });
    assert.equal(await advance(deps, national, id, { to: 'development' }), 'development');

    // Development: credentials and a registered endpoint.
    await refused(id, () => advance(deps, national, id, { to: 'assurance' }), 'conflict', /sandbox credentials have not been issued; endpoint registered: the supplier has not registered its endpoint/);
    await refused(id, () => issueCredentials(deps, askdoc, id), 'denied', /Only national-team staff can issue sandbox credentials/);
    const creds = await issueCredentials(deps, national, id);
    assert.ok(await verifySandboxSecret(db, creds.clientId, creds.secret));
    assert.ok(!(await verifySandboxSecret(db, creds.clientId, `${creds.secret}x`)));
    const [stored] = await db.query<{ client_secret_hash: string }>('SELECT client_secret_hash FROM integrations WHERE id = $1', [id]);
    assert.ok(stored.client_secret_hash.startsWith('scrypt$') && !stored.client_secret_hash.includes(creds.secret), 'only a hash is kept');
    await refused(id, () => registerEndpoint(deps, triagepoint, id, { endpointUrl: endpoint, webUrl: web }), 'denied', /outside your organisation/);
    await refused(id, () => registerEndpoint(deps, national, id, { endpointUrl: endpoint, webUrl: web }), 'denied', /Only supplier staff/);
    await refused(id, () => registerEndpoint(deps, askdoc, id, { endpointUrl: 'ftp://x', webUrl: '' }), 'invalid', /full web address/);
    await registerEndpoint(deps, askdoc, id, { endpointUrl: endpoint, webUrl: web });
    await refused(id, () => completeChecklistItem(deps, askdoc, id, { item: 'no-such-item', evidence: 'x' }), 'invalid', /checklist/);
    assert.equal(await advance(deps, national, id, { to: 'assurance' }), 'assurance');

    // Assurance: checklist, evidence gates and runs.
    await refused(id, () => advance(deps, national, id, { to: 'connection-agreement' }), 'conflict',
      /checklist items have no evidence yet.*DCB0129 safety case evidence.*DSPT evidence.*no conformance run yet.*no accessibility run yet.*no capacity run yet/);
    await refused(id, () => signOffSafety(deps, national, id, { reference: 'SC-1' }), 'conflict', /has not yet given its DCB0129/);
    const i = await viewIntegration(deps, askdoc, id);
    assert.equal(i.checklist.length, 9, 'web integrations include the accessibility statement');
    for (const item of i.checklist) await completeChecklistItem(deps, askdoc, id, { item: item.item, evidence: `Evidence for ${item.name}` });
    await refused(id, () => completeChecklistItem(deps, askdoc, id, { item: 'dspt', evidence: '  ' }), 'invalid', /Enter your evidence/);
    await refused(id, () => signOffSafety(deps, askdoc, id, { reference: 'SC-1' }), 'denied', /Only national-team/);
    await signOffSafety(deps, national, id, { reference: 'AskDoc safety case v2.1' });
    await recordDspt(deps, national, id, { status: 'Approaching standards' });
    assert.equal((await gate(id, 'data-security'))!.state, 'failed');
    await refused(id, () => recordDspt(deps, national, id, { status: 'Great' }), 'invalid', /DSPT status/);
    await recordDspt(deps, national, id, { status: 'Standards met' });

    const failed = await run(id, 'conformance', endpoint, 'failed');
    assert.match((await gate(id, 'conformance'))!.reason, new RegExp(`Conformance run ${failed} failed`));
    await run(id, 'conformance', 'http://127.0.0.1:9999/api', 'passed');
    assert.equal((await gate(id, 'conformance'))!.state, 'not-yet', 'a run against another address does not count');
    await run(id, 'conformance', `${endpoint}/`, 'passed');
    await run(id, 'capacity', endpoint, 'error', 'The endpoint 127.0.0.1:7101 could not be reached');
    assert.match((await gate(id, 'capacity'))!.reason, /could not complete: The endpoint/);
    await run(id, 'capacity', endpoint, 'passed');
    await refused(id, () => advance(deps, national, id, { to: 'connection-agreement' }), 'conflict', /accessibility \(web pages\): no accessibility run yet/);
    await run(id, 'accessibility', web, 'passed');
    assert.equal(await advance(deps, national, id, { to: 'connection-agreement' }), 'connection-agreement');

    // Connection agreement, then go-live with who and why.
    await refused(id, () => goLive(deps, national, id, { reason: 'Ready' }), 'conflict', /connection agreement signed: the connection agreement has not been signed/);
    await refused(id, () => advance(deps, national, id, { to: 'live' }), 'conflict', /use go-live/);
    await refused(id, () => recordAgreement(deps, askdoc, id, { signatory: 'Priya Shah' }), 'denied', /Only national-team/);
    await recordAgreement(deps, national, id, { signatory: 'Priya Shah, Director, AskDoc' });
    await refused(id, () => goLive(deps, national, id, { reason: ' ' }), 'invalid', /why the service is ready/);
    const service = await goLive(deps, national, id, { reason: 'Every gate passed; QHM ready to commission' });
    assert.equal(service.status, 'live');
    assert.equal(service.minIdentityLevel, 'P5', 'from the solution design');
    assert.equal(service.webUrl, web);
    assert.equal(catalog.service(service.id)?.name, 'AskDoc web consultation', 'the catalog offers it at once');
    const live = await viewIntegration(deps, national, id);
    assert.equal(live.stage, 'live');
    assert.equal(live.live?.by, national.sub);
    await refused(id, () => advance(deps, national, id, { to: 'development' }), 'conflict', /stages only move forward/);

    // Retirement.
    await refused(id, () => retire(deps, askdoc, id, { reason: 'x' }), 'denied', /Only national-team/);
    await retire(deps, national, id, { reason: 'Supplier withdrew the product' });
    assert.equal(catalog.service(service.id), undefined, 'the catalog stops offering it');
    const [row] = await db.query<{ status: string }>('SELECT status FROM services WHERE id = $1', [service.id]);
    assert.equal(row.status, 'retired');

    const audit = await db.query<{ action: string; detail: { before: unknown; after: unknown } }>("SELECT action, detail FROM audit_events WHERE resource = $1 ORDER BY id", [`integration:${id}`]);
    assert.deepEqual([...new Set(audit.map((a) => a.action))], ['record-design', 'advance-stage', 'issue-credentials', 'register-endpoint', 'complete-checklist-item', 'sign-off-clinical-safety', 'record-dspt-status', 'sign-connection-agreement', 'go-live', 'retire']);
    const dspt = audit.filter((a) => a.action === 'record-dspt-status');
    assert.equal((dspt[1].detail.before as { status: string }).status, 'Approaching standards');
    assert.ok(!JSON.stringify(audit).includes(creds.secret), 'the secret is never audited');
  });

  it('a native integration needs no accessibility run', async () => {
    const id = (await integrationForProposal(db, await approvedProposal('native')))!;
    const i = await viewIntegration(deps, national, id);
    assert.ok(!(await gateReport(deps, i)).some((g) => g.gate === 'accessibility'));
    assert.equal(i.checklist.length, 8);
  });
});
