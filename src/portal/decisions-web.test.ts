// The public decision register, its JSON, and the public feedback form (CSRF, rate limit, error pattern, moderation).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../audit/audit.ts';
import { moderateFeedback } from '../governance/feedback.ts';
import type { GovernanceActor } from '../governance/governance-access.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import { assessCriterion, decide, recordSupport, submitProposal } from '../governance/proposals.ts';
import type { GovernanceDeps } from '../governance/suppliers.ts';
import type { RunningSystem } from '../system.ts';
import { startTestSystem } from '../testing/factories.ts';

let system: RunningSystem;
let deps: GovernanceDeps;
before(async () => {
  system = await startTestSystem();
  deps = await governanceDeps(system.db, new AuditLog(system.db));
});
after(async () => system.close());

const national: GovernanceActor = { sub: 'nat', roles: [{ role: 'national-team', organisation: 'national' }] };
const qhm: GovernanceActor = { sub: 'qhm', roles: [{ role: 'commissioner', organisation: 'QHM' }] };

const proposal = (title: string) => ({
  eligibleCommissioned: 'yes', eligibleFree: 'yes', eligiblePersonalised: 'yes',
  title, summary: 'Triage online, replies the same day.', serviceType: 'online-consultation', integrationMethod: 'native', supplierId: 'askdoc',
  userNeed: 'Phone lines are busy at 8am.', userNeedSource: 'Patient survey 2025', citizenFacing: 'yes', priorities: ['primary-care-access'],
  priorityExplanation: 'Easier access.', providerSupport: 'Piloted at A81001', processChange: 'no', commissionerSupport: 'QHM funds it', icbs: 'QHM', addedValue: 'One place for patients.',
});

/** A form page's CSRF cookie and token, for a POST the way a browser would send it. */
async function formSession(url: string, remoteAddress?: string): Promise<{ cookie: string; token: string }> {
  const res = await system.app.inject({ url, remoteAddress });
  const cookie = String(res.headers['set-cookie']).split(';')[0];
  const token = /name="_csrf" value="([^"]+)"/.exec(res.body)![1];
  return { cookie, token };
}

const post = (s: { cookie: string; token: string }, form: Record<string, string>, remoteAddress?: string) =>
  system.app.inject({ method: 'POST', url: '/decisions/feedback', remoteAddress, headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: s.token, ...form }).toString() });

describe('decision register', () => {
  it('publishes the scoring model with its weights, as a page and as JSON, with no sign-in', async () => {
    const res = await system.app.inject({ url: '/decisions' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /How proposals are scored/);
    assert.match(res.body, /Support from local commissioners/);
    assert.match(res.body, /No decisions have been made yet/);
    const api = await system.app.inject({ url: '/api/scoring-model' });
    assert.equal(api.statusCode, 200);
    const model = api.json() as { criteria: { criterion: string; weight: number; description: string }[]; nationalAverageListSize: number };
    assert.equal(model.criteria.length, 6);
    assert.equal(model.nationalAverageListSize, 10_000);
    const heaviest = model.criteria.reduce((a, b) => (b.weight > a.weight ? b : a));
    assert.equal(heaviest.criterion, 'commissioner-support');
    for (const c of model.criteria) assert.match(res.body, new RegExp(c.description.slice(0, 30).replace(/[()]/g, '.')));
    const docs = await system.app.inject({ url: '/api/docs/json' });
    assert.ok(Object.keys(docs.json().paths).includes('/api/decisions'), 'documented in OpenAPI');
  });

  it('lists each decision with its reasons, evidence summary, score and feedback considered', async () => {
    const id = await submitProposal(deps, qhm, proposal('AskDoc for the North East'));
    await recordSupport(deps, { sub: 'p', roles: [{ role: 'provider', organisation: 'A81001' }] }, id, { statement: 'Yes', processChange: 'no' });
    for (const criterion of ['user-need', 'strategic-priority', 'added-value']) await assessCriterion(deps, national, id, { criterion, points: '2' });
    const form = await formSession(`/decisions/feedback?about=proposal:${id}`);
    assert.equal((await post(form, { target: `proposal:${id}`, rating: 'agree', comment: 'Yes please, the phones are hopeless.' })).statusCode, 303);
    const [pending] = await system.db.query<{ id: string }>('SELECT id FROM feedback');
    await moderateFeedback(deps, national, String(pending.id), 'publish');
    await decide(deps, national, id, { outcome: 'approve', rationale: 'Clear need and ICB funding in place' });

    const page = await system.app.inject({ url: '/decisions' });
    assert.match(page.body, /AskDoc for the North East/);
    assert.match(page.body, /Approved/);
    assert.match(page.body, /Clear need and ICB funding in place/);
    assert.match(page.body, /1 ICB \(QHM\), 1 practice, about 10,000 people \(estimated from practices × 10,000\)/);
    assert.match(page.body, /1 response\s*</);
    assert.doesNotMatch(page.body, /phones are hopeless/, 'comments are counted on the register, not reprinted with it');

    const api = (await system.app.inject({ url: '/api/decisions' })).json() as { decisions: { title: string; outcome: string; feedbackConsidered: number; score: number; breakdown: { criterion: string; points: number | null }[]; evidence: { commissionerSupport: { population: number; assumption: string } } }[] };
    assert.equal(api.decisions.length, 1);
    const d = api.decisions[0];
    assert.equal(d.outcome, 'approve');
    assert.equal(d.feedbackConsidered, 1);
    assert.equal(d.evidence.commissionerSupport.population, 10_000);
    assert.match(d.evidence.commissionerSupport.assumption, /10,000/);
    assert.equal(d.breakdown.find((l) => l.criterion === 'user-need')!.points, 2);
    assert.ok(d.score > 0 && d.score <= 100);
  });
});

describe('public feedback form', () => {
  it('shows the NHS error pattern for a bad submission, keeping what was typed, and stores nothing', async () => {
    const before = (await system.db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback'))[0].n;
    const form = await formSession('/decisions/feedback');
    const res = await post(form, { comment: 'Weights look wrong' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /<title>Error: /);
    assert.match(res.body, /There is a problem/);
    assert.match(res.body, /href="#target"/);
    assert.match(res.body, /Select whether you agree/);
    assert.match(res.body, /Weights look wrong<\/textarea>/);
    assert.equal((await system.db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback'))[0].n, before);
  });

  it('refuses a post without its CSRF token', async () => {
    const res = await system.app.inject({ method: 'POST', url: '/decisions/feedback', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'target=criterion:user-need&rating=agree&comment=hi' });
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /Your form has expired/);
  });

  it('holds feedback for moderation and limits how often one address can send it', async () => {
    const form = await formSession('/decisions/feedback', '10.0.0.9');
    const ok = await post(form, { target: 'criterion:commissioner-support', rating: 'disagree', comment: 'Patients first' }, '10.0.0.9');
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, '/decisions/feedback/sent');
    const [row] = await system.db.query<{ status: string }>("SELECT status FROM feedback WHERE comment = 'Patients first'");
    assert.equal(row.status, 'pending');
    let last = 0;
    for (let i = 0; i < 5; i++) last = (await post(form, { target: 'criterion:user-need', rating: 'agree', comment: `again ${i}` }, '10.0.0.9')).statusCode;
    assert.equal(last, 429);
    const other = await post(await formSession('/decisions/feedback', '10.0.0.10'), { target: 'criterion:user-need', rating: 'agree', comment: 'another person' }, '10.0.0.10');
    assert.equal(other.statusCode, 303, 'the limit is per address');
  });
});
