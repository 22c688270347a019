// Portal governance pages through the whole app: proposing with check-your-answers, recording support, the national
// team's review, assessment and decision, moderation, the registry and the audit page, with each role's denials.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningSystem } from '../system.ts';
import { GOVERNANCE_CAST, postFormAsBrowser, startTestSystem, signedInStaffCookies } from '../testing/factories.ts';

let system: RunningSystem;
const cookies: Record<string, string> = {};
before(async () => {
  system = await startTestSystem();
  Object.assign(cookies, await signedInStaffCookies(system, GOVERNANCE_CAST));
});
after(async () => system.close());

const get = (who: string, url: string) => system.app.inject({ url, headers: { cookie: cookies[who] } });

const postForm = (who: string, formPage: string, url: string, form: Record<string, string | string[]>) =>
  postFormAsBrowser(system.app, cookies[who] ?? '', formPage, url, form);

const count = async (table: string) => (await system.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;

const proposal = {
  eligibleCommissioned: 'yes', eligibleFree: 'yes', eligiblePersonalised: 'yes',
  title: 'AskDoc in the North East', summary: 'Online consultation with same-day triage.', serviceType: 'online-consultation', integrationMethod: 'native',
  supplierId: 'askdoc', regionCode: 'Y63', userNeed: 'Phone lines are jammed at 8am.', userNeedSource: 'Practice audit 2025', citizenFacing: 'yes',
  priorities: ['primary-care-access', 'staff-burden'], priorityExplanation: 'Fewer calls, better routing.', providerSupport: 'A81001 piloted it.',
  processChange: 'yes', commissionerSupport: 'QHM funds it.', icbs: 'QHM', addedValue: 'Consultations inside the app.',
};

describe('portal governance pages', () => {
  let id: string;

  it('a supplier proposes: errors shown with the NHS pattern, framework enforced, check your answers, then submitted', async () => {
    const form = await get('askdoc', '/portal/proposals/new');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Propose a service for integration/);
    const before = await count('proposals');
    const missing = await postForm('askdoc', '/portal/proposals/new', '/portal/proposals/new', { ...proposal, userNeedSource: '', priorities: [] });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /<title>Error: /);
    assert.match(missing.body, /href="#userNeedSource"/);
    assert.match(missing.body, /Select at least one strategic priority/);
    assert.match(missing.body, /value="AskDoc in the North East"/, 'what was typed is kept');
    const wrongType = await postForm('askdoc', '/portal/proposals/new', '/portal/proposals/new', { ...proposal, serviceType: 'phr' });
    assert.equal(wrongType.statusCode, 400);
    assert.match(wrongType.body, /not on the Innovation and Technology Payment framework/);
    const check = await postForm('askdoc', '/portal/proposals/new', '/portal/proposals/new', proposal);
    assert.equal(check.statusCode, 200);
    assert.match(check.body, /Check your proposal before submitting it/);
    assert.match(check.body, /Improving access to primary care, Reducing burden on staff/);
    assert.equal(await count('proposals'), before, 'nothing stored before the check is confirmed');
    const hidden = [...check.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].filter((m) => m[1] !== '_csrf');
    const form2: Record<string, string[]> = {};
    for (const [, k, v] of hidden) (form2[k] ??= []).push(v.replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
    const change = await postForm('askdoc', '/portal/proposals/new', '/portal/proposals/edit', form2);
    assert.equal(change.statusCode, 200);
    assert.match(change.body, /value="AskDoc in the North East"/, 'changing keeps every answer');
    assert.match(change.body, /value="staff-burden" checked/);
    const submitted = await postForm('askdoc', '/portal/proposals/new', '/portal/proposals', form2);
    assert.equal(submitted.statusCode, 303);
    id = /\/portal\/proposals\/(\d+)\?done=submitted/.exec(submitted.headers.location as string)![1];
    const shown = await get('askdoc', `/portal/proposals/${id}?done=submitted`);
    assert.match(shown.body, /Proposal submitted/);
    assert.match(shown.body, /Phone lines are jammed at 8am/);
    assert.doesNotMatch(shown.body, /Record decision/, 'suppliers do not decide');
  });

  it('keeps each role within its organisation', async () => {
    assert.equal((await get('carebook', `/portal/proposals/${id}`)).statusCode, 403);
    assert.equal((await get('qmj', `/portal/proposals/${id}`)).statusCode, 403);
    assert.equal((await get('a81001', `/portal/proposals/new`)).statusCode, 403);
    assert.equal((await get('askdoc', '/portal/feedback')).statusCode, 403);
    assert.equal((await get('qhm', '/portal/audit')).statusCode, 403);
    assert.equal((await get('askdoc', '/portal/suppliers')).statusCode, 403);
    assert.equal((await get('carebook', '/portal/suppliers/askdoc')).statusCode, 403);
    assert.equal((await get('askdoc', '/portal/suppliers/askdoc')).statusCode, 200);
    assert.equal((await get('national', '/portal/proposals/99999')).statusCode, 404);
    const list = await get('carebook', '/portal/proposals');
    assert.doesNotMatch(list.body, /AskDoc in the North East/);
    const anon = await system.app.inject({ url: `/portal/proposals/${id}` });
    assert.equal(anon.statusCode, 303);
    assert.match(anon.headers.location as string, /^\/portal\/auth\/sign-in\?returnTo=/);
  });

  it('an ICB and a provider record their own support; others cannot', async () => {
    const before = await count('proposal_support');
    const denied = await postForm('y63', `/portal/proposals/${id}`, `/portal/proposals/${id}/support`, { statement: 'Region supports' });
    assert.equal(denied.statusCode, 403);
    const bad = await postForm('qhm', `/portal/proposals/${id}`, `/portal/proposals/${id}/support`, { statement: 'We fund it', registeredPatients: 'lots' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Enter registered patients as a whole number/);
    assert.equal(await count('proposal_support'), before);
    assert.equal((await postForm('qhm', `/portal/proposals/${id}`, `/portal/proposals/${id}/support`, { statement: 'We fund it', registeredPatients: '1,500,000' })).statusCode, 303);
    assert.equal((await postForm('a81001', `/portal/proposals/${id}`, `/portal/proposals/${id}/support`, { statement: 'We piloted it', processChange: 'yes' })).statusCode, 303);
    const page = await get('qhm', `/portal/proposals/${id}`);
    assert.match(page.body, /1,500,000 people \(stated by the ICB\)/);
    assert.doesNotMatch(page.body, /Record your organisation's support/, 'recorded once');
  });

  it('the national team reviews scores and feedback, assesses, and decides; others cannot decide', async () => {
    const backlog = await get('national', '/portal/proposals?region=Y63');
    assert.match(backlog.body, /Backlog for North East and Yorkshire/);
    assert.match(backlog.body, /AskDoc in the North East/);
    const review = await get('national', `/portal/proposals/${id}`);
    assert.match(review.body, /Score breakdown/);
    assert.match(review.body, /Published feedback on each criterion/);
    const outOfRange = await postForm('national', `/portal/proposals/${id}`, `/portal/proposals/${id}/assess`, { criterion: 'user-need', points: '7' });
    assert.equal(outOfRange.statusCode, 400);
    assert.match(outOfRange.body, /Points must be a whole number from 0 to 3/);
    assert.equal(await count('proposal_assessments'), 0);
    const early = await postForm('national', `/portal/proposals/${id}`, `/portal/proposals/${id}/decide`, { outcome: 'approve', rationale: 'Good' });
    assert.equal(early.statusCode, 400);
    assert.match(early.body, /Assess every criterion before approving/);
    for (const criterion of ['user-need', 'strategic-priority', 'added-value']) {
      assert.equal((await postForm('national', `/portal/proposals/${id}`, `/portal/proposals/${id}/assess`, { criterion, points: '3' })).statusCode, 303);
    }
    const regionTry = await postForm('y63', `/portal/proposals/${id}`, `/portal/proposals/${id}/decide`, { outcome: 'approve', rationale: 'Regional yes' });
    assert.equal(regionTry.statusCode, 403);
    assert.equal(await count('decisions'), 0);
    const decided = await postForm('national', `/portal/proposals/${id}`, `/portal/proposals/${id}/decide`, { outcome: 'approve', rationale: 'Strong ICB support and clear need' });
    assert.equal(decided.statusCode, 303);
    assert.doesNotMatch((await get('national', `/portal/proposals/${id}`)).body, /Record decision/, 'no decision form once decided');
    const again = await postForm('national', '/portal/suppliers', `/portal/proposals/${id}/decide`, { outcome: 'reject', rationale: 'No' });
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /already been approved/);
    assert.equal(await count('decisions'), 1);
    const register = await system.app.inject({ url: '/decisions' });
    assert.match(register.body, /Strong ICB support and clear need/);
    const audit = await get('national', '/portal/audit');
    for (const action of ['submit-proposal', 'record-support', 'assess-criterion', 'decide']) assert.match(audit.body, new RegExp(action));
    assert.match(audit.body, /commissioner:QHM/);
  });

  it('the national team moderates feedback and keeps the supplier registry', async () => {
    const form = await system.app.inject({ url: '/decisions/feedback' });
    const csrf = String(form.headers['set-cookie']).split(';')[0];
    const token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1];
    await system.app.inject({ method: 'POST', url: '/decisions/feedback', headers: { cookie: csrf, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: token, target: 'criterion:added-value', rating: 'partly', comment: 'Added value is vague' }).toString() });
    const queue = await get('national', '/portal/feedback');
    assert.match(queue.body, /Added value is vague/);
    const fid = /action="\/portal\/feedback\/(\d+)"/.exec(queue.body)![1];
    assert.equal((await postForm('qhm', '/portal', `/portal/feedback/${fid}`, { action: 'publish' })).statusCode, 403);
    assert.equal((await postForm('national', '/portal/feedback', `/portal/feedback/${fid}`, { action: 'publish' })).statusCode, 303);
    assert.doesNotMatch((await get('national', '/portal/feedback')).body, /Added value is vague/);

    const bad = await postForm('national', '/portal/suppliers', '/portal/suppliers', { id: 'X', name: '', frameworks: [] });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /There is a problem/);
    const ok = await postForm('national', '/portal/suppliers', '/portal/suppliers', { id: 'newco', name: 'NewCo Health', frameworks: ['itp'] });
    assert.equal(ok.statusCode, 303);
    const log = await postForm('national', '/portal/suppliers/newco', '/portal/suppliers/newco/engagement', { onDate: '2025-03-01', kind: 'meeting', summary: 'Kick-off meeting' });
    assert.equal(log.statusCode, 303);
    assert.match((await get('national', '/portal/suppliers/newco')).body, /Kick-off meeting/);
  });
});
