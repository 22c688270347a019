// Integration pipeline pages through the whole app: every role's denial (wrong role, another organisation's
// supplier, a commissioner that did not support it, a citizen, no session, no CSRF token) leaving the record
// unchanged, then a web integration taken from solution design to live and retired, with the catalog following.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../audit/audit.ts';
import type { GovernanceActor } from '../governance/governance-access.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import { assessCriterion, decide, recordSupport, submitProposal } from '../governance/proposals.ts';
import type { StaffRole } from '../identity/provider/accounts.ts';
import { completeChecklistItem, integrationForProposal, viewIntegration } from '../pipeline/integrations.ts';
import type { RunningSystem } from '../system.ts';
import { GOVERNANCE_CAST, postFormAsBrowser, signedInCitizen, startTestSystem, signedInStaffCookies } from '../testing/factories.ts';

let system: RunningSystem;
let id: string;
const cookies: Record<string, string> = {};
const as = (role: StaffRole['role'], organisation: string): GovernanceActor => ({ sub: `${role}-${organisation}`, roles: [{ role, organisation }] });

before(async () => {
  system = await startTestSystem();
  Object.assign(cookies, await signedInStaffCookies(system, GOVERNANCE_CAST));
  cookies.citizen = (await signedInCitizen(system)).cookie;
  const deps = await governanceDeps(system.db, new AuditLog(system.db));
  const proposal = await submitProposal(deps, as('supplier', 'askdoc'), {
    eligibleCommissioned: 'yes', eligibleFree: 'yes', eligiblePersonalised: 'yes',
    title: 'AskDoc web consultation', summary: 'Ask your practice for help online.', serviceType: 'online-consultation', integrationMethod: 'web', regionCode: 'Y63',
    userNeed: 'Phone lines are jammed at 8am.', userNeedSource: 'Practice audit 2025', citizenFacing: 'yes', priorities: ['primary-care-access'],
    priorityExplanation: 'Fewer calls.', providerSupport: 'A81001 piloted it.', processChange: 'no', commissionerSupport: 'QHM funds it.', icbs: 'QHM', addedValue: 'In the app.',
  });
  await recordSupport(deps, as('commissioner', 'QHM'), proposal, { statement: 'We fund it', registeredPatients: '250000' });
  for (const criterion of ['user-need', 'strategic-priority', 'added-value']) await assessCriterion(deps, as('national-team', 'national'), proposal, { criterion, points: '3' });
  await decide(deps, as('national-team', 'national'), proposal, { outcome: 'approve', rationale: 'Strong support' });
  id = (await integrationForProposal(system.db, proposal))!;
});
after(async () => system.close());

const get = (who: string, url: string) => system.app.inject({ url, headers: who ? { cookie: cookies[who] } : {} });

const postForm = (who: string, formPage: string, url: string, form: Record<string, string>, opts: { noToken?: boolean; tokenFrom?: string } = {}) =>
  postFormAsBrowser(system.app, cookies[who] ?? '', formPage, url, form, { withToken: !opts.noToken, pageCookie: opts.tokenFrom && cookies[opts.tokenFrom] });

const record = async () => {
  const [row] = await system.db.query('SELECT * FROM integrations WHERE id = $1', [id]);
  const [{ n }] = await system.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE resource LIKE 'integration:%'");
  return { row, audit: n };
};
const page = (url = '') => `/portal/integrations/${id}${url}`;

describe('integration pipeline pages', () => {
  it('refuses every role outside the integration, a citizen, no session and a missing CSRF token, changing nothing', async () => {
    const before = await record();
    assert.equal((await get('', page())).statusCode, 303, 'no session: sent to sign in');
    assert.match(String((await get('', page())).headers.location), /\/portal\/auth\/sign-in/);
    const citizen = await get('citizen', page());
    assert.equal(citizen.statusCode, 403);
    assert.match(citizen.body, /signed in to Front Door as a patient/);
    for (const who of ['carebook', 'qmj', 'a81001']) {
      const r = await get(who, page());
      assert.equal(r.statusCode, 403, `${who} cannot see it`);
      assert.match(r.body, /outside your organisation/);
      assert.doesNotMatch((await get(who, '/portal/integrations')).body, /AskDoc web consultation/, `${who}'s list leaves it out`);
    }
    for (const who of ['qhm', 'y63', 'askdoc', 'national']) assert.match((await get(who, '/portal/integrations')).body, /AskDoc web consultation/, `${who} sees it`);
    assert.equal((await get('qhm', page())).statusCode, 200, 'a supporting ICB may look');

    const denials: [string, string, Record<string, string>, RegExp][] = [
      ['askdoc', '/advance', { to: 'development' }, /Only national-team staff can move integrations/],
      ['qhm', '/design', { apis: 'a', dataFlows: 'b', identityLevel: 'P5', safetyOfficer: 'c' }, /Only supplier staff can record the solution design/],
      ['carebook', '/design', { apis: 'a', dataFlows: 'b', identityLevel: 'P5', safetyOfficer: 'c' }, /outside your organisation/],
      ['y63', '/retire', { reason: 'x' }, /Only national-team staff can retire/],
    ];
    for (const [who, path, form, message] of denials) {
      // A valid token and cookie (taken from a page with a form), so only the role is at fault.
      const r = await postForm(who, page(), page(path), form, { tokenFrom: 'national' });
      assert.equal(r.statusCode, 403, `${who} ${path}`);
      assert.match(r.body, message);
    }
    const citizenPost = await postForm('citizen', page(), page('/advance'), { to: 'development' }, { tokenFrom: 'national' });
    assert.equal(citizenPost.statusCode, 403);
    const noToken = await postForm('national', page(), page('/advance'), { to: 'development' }, { noToken: true });
    assert.equal(noToken.statusCode, 403);
    assert.match(noToken.body, /Your form has expired/);
    assert.deepEqual(await record(), before, 'nothing changed');
  });

  it('takes a web integration from solution design to live and retired, refusing a skipped gate on the page', async () => {
    const tracker = await get('national', page());
    assert.equal(tracker.statusCode, 200);
    assert.match(tracker.body, /nhsuk-task-list/);
    assert.match(tracker.body, /Solution design[\s\S]*Current stage/);
    assert.match(tracker.body, /Approved in round \d{4}-Q[1-4]/);

    const before = await record();
    const skipped = await postForm('national', page(), page('/advance'), { to: 'development' });
    assert.equal(skipped.statusCode, 409);
    assert.match(skipped.body, /There is a problem/);
    assert.match(skipped.body, /Cannot move to development in the sandpit yet: solution design recorded: no solution design recorded yet/);
    const jump = await postForm('national', page(), page('/advance'), { to: 'assurance' });
    assert.match(jump.body, /stages move one step at a time/);
    assert.deepEqual(await record(), before);

    const bad = await postForm('askdoc', page('/design'), page('/design'), { apis: 'Consultation API', dataFlows: '', identityLevel: '', safetyOfficer: '' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /<title>Error: /);
    assert.match(bad.body, /href="#dataFlows"/);
    assert.match(bad.body, /value="Consultation API"|>Consultation API</, 'what was typed is kept');
    assert.equal((await postForm('askdoc', page('/design'), page('/design'), { apis: 'Consultation API', dataFlows: 'Answers to the supplier', identityLevel: 'P5', safetyOfficer: 'Dr Asha Rao' })).statusCode, 303);
    assert.equal((await postForm('national', page(), page('/advance'), { to: 'development' })).statusCode, 303);

    const issued = await postForm('national', page(), page('/credentials'), {});
    assert.equal(issued.statusCode, 200);
    const secret = /Client secret[\s\S]*?nhsuk-summary-list__value">\s*([A-Za-z0-9_-]{40,})\s*</.exec(issued.body)?.[1];
    assert.ok(secret, 'the secret is shown once');
    assert.match(issued.body, /\/api\/docs/);
    assert.doesNotMatch((await get('national', page())).body, new RegExp(secret), 'and never again');
    assert.equal((await postForm('askdoc', page('/endpoint'), page('/endpoint'), { endpointUrl: 'http://127.0.0.1:7101/api', webUrl: 'http://127.0.0.1:7102/start' })).statusCode, 303);
    assert.equal((await postForm('national', page(), page('/advance'), { to: 'assurance' })).statusCode, 303);

    const empty = await postForm('askdoc', page('/checklist'), page('/checklist'), { item: 'penetration-test', 'evidence-penetration-test': '' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /href="#evidence-penetration-test"/);
    assert.equal((await postForm('askdoc', page('/checklist'), page('/checklist'), { item: 'penetration-test', 'evidence-penetration-test': 'CREST test, March 2026' })).statusCode, 303);
    const deps = await governanceDeps(system.db, new AuditLog(system.db));
    for (const item of (await viewIntegration(deps, as('supplier', 'askdoc'), id)).checklist) {
      await completeChecklistItem(deps, as('supplier', 'askdoc'), id, { item: item.item, evidence: `Evidence for ${item.name}` });
    }
    assert.equal((await postForm('national', page('/safety'), page('/safety'), { reference: 'Safety case v2' })).statusCode, 303);
    assert.equal((await postForm('national', page('/dspt'), page('/dspt'), { status: 'Standards met' })).statusCode, 303);
    const runs: Record<string, string> = {};
    for (const [kind, url] of [['conformance', 'http://127.0.0.1:7101/api'], ['capacity', 'http://127.0.0.1:7101/api'], ['accessibility', 'http://127.0.0.1:7102/start']]) {
      const [r] = await system.db.query<{ id: string }>(
        "INSERT INTO pipeline_runs (integration_id, kind, target_url, status, progress, requested_by, finished_at) VALUES ($1, $2, $3, 'passed', 100, 'test', now()) RETURNING id", [id, kind, url]);
      runs[kind] = String(r.id);
    }
    const assurance = await get('askdoc', page());
    for (const kind of Object.keys(runs)) assert.match(assurance.body, new RegExp(`href="/portal/integrations/${id}/runs/${runs[kind]}"`), `links to the ${kind} run`);
    assert.match(assurance.body, /action="\/portal\/integrations\/\d+\/runs"[\s\S]*name="kind" value="capacity"[\s\S]*name="populationCovered"[^>]*value="250000"/, 'capacity defaults to the supporting ICBs\' population');
    assert.equal((await get('qhm', page(`/runs/${runs.conformance}`))).statusCode, 200, 'the run page opens for a supporting ICB');
    assert.equal((await get('carebook', page(`/runs/${runs.conformance}`))).statusCode, 403, 'and not for another supplier');
    assert.equal((await postForm('national', page(), page('/advance'), { to: 'connection-agreement' })).statusCode, 303);

    const early = await postForm('national', page('/go-live'), page('/go-live/check'), { reason: 'Ready' });
    assert.equal(early.statusCode, 409);
    assert.match(early.body, /the connection agreement has not been signed/);
    assert.equal((await postForm('national', page('/agreement'), page('/agreement'), { signatory: 'Priya Shah, Director' })).statusCode, 303);
    const check = await postForm('national', page('/go-live'), page('/go-live/check'), { reason: 'Every gate passed' });
    assert.equal(check.statusCode, 200);
    assert.match(check.body, /Check before the service goes live/);
    assert.equal((await record()).row!.stage, 'connection-agreement', 'nothing changes until confirmed');
    const change = await postForm('national', page('/go-live'), page('/go-live/change'), { reason: 'Every gate passed' });
    assert.equal(change.statusCode, 200);
    assert.match(change.body, /<textarea[^>]*name="reason"[^>]*>Every gate passed<\/textarea>/, 'changing the reason keeps what was typed');
    assert.equal((await postForm('national', page('/go-live'), page('/go-live/change'), { reason: 'x' }, { noToken: true })).statusCode, 403, 'no CSRF token');
    assert.equal((await postForm('askdoc', page(), page('/go-live/change'), { reason: 'x' })).statusCode, 403, 'the supplier cannot reach the go-live form');
    const live = await postForm('national', page('/go-live'), page('/go-live'), { reason: 'Every gate passed' });
    assert.equal(live.statusCode, 303);
    const serviceId = (await record()).row!.catalog_service_id as string;
    assert.equal(system.catalog.service(serviceId)?.status, 'live', 'the catalog offers it at once');
    assert.match((await get('national', `${page()}?done=live`)).body, /ICBs can now commission it/);

    assert.equal((await postForm('national', page('/retire'), page('/retire'), { reason: 'Supplier withdrew' })).statusCode, 303);
    assert.equal(system.catalog.service(serviceId), undefined, 'retired: the catalog stops offering it');
    const audit = await get('national', '/portal/audit');
    assert.match(audit.body, new RegExp(`integration:${id}`));
    assert.match(audit.body, /go-live/);
  });
});
