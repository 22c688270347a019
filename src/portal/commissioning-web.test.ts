// Commissioning pages through the whole app: an ICB commissions a live service for chosen practices (form, errors,
// check your answers, confirmation), citizens' hubs change with no restart, decommissioning takes it away; and every
// denial (wrong role, other ICB, citizen session, no session, missing CSRF) leaves the record as it was.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StaffRole } from '../identity/provider/accounts.ts';
import type { RunningSystem } from '../system.ts';
import { postFormAsBrowser, signedInCitizen, startTestSystem, signedInStaffCookies } from '../testing/factories.ts';

let system: RunningSystem;
const cookies: Record<string, string> = {};
before(async () => {
  system = await startTestSystem();
  const roles: Record<string, StaffRole> = {
    national: { role: 'national-team', organisation: 'national' }, y56: { role: 'region', organisation: 'Y56' },
    qhm: { role: 'commissioner', organisation: 'QHM' }, qmj: { role: 'commissioner', organisation: 'QMJ' },
    provider: { role: 'provider', organisation: 'E83003' }, carebook: { role: 'supplier', organisation: 'carebook' },
  };
  Object.assign(cookies, await signedInStaffCookies(system, roles));
  // Demo people's practices: Whetstone (E83003) and Finchley (E83005) in ICB QMJ, Stockton (A81001) in QHM.
  cookies.whetstone = (await signedInCitizen(system, { practice: 'E83003' })).cookie;
  cookies.finchley = (await signedInCitizen(system, { practice: 'E83005' })).cookie;
  cookies.stockton = (await signedInCitizen(system, { practice: 'A81001' })).cookie;
});
after(async () => system?.close());

const get = (who: string, url: string) => system.app.inject({ url, headers: { cookie: cookies[who] ?? '' } });

const postForm = (who: string, formPage: string, url: string, form: Record<string, string | string[]>, opts: { noCsrf?: boolean } = {}) =>
  postFormAsBrowser(system.app, cookies[who] ?? '', formPage, url, form, { withToken: !opts.noCsrf });

const rows = async () => (await system.db.query<{ n: number; sig: string }>(`SELECT count(*)::int AS n, coalesce(string_agg(id || ':' || coalesce(end_date::text, '-'), ',' ORDER BY id), '') AS sig FROM commissioning`))[0];
const today = new Date().toISOString().slice(0, 10);
const date = (p: string, iso: string) => ({ [`${p}[day]`]: String(+iso.slice(8)), [`${p}[month]`]: String(+iso.slice(5, 7)), [`${p}[year]`]: iso.slice(0, 4) });
const carebook = { serviceId: 'phr-carebook', scope: 'chosen', practices: ['E83003'], ...date('start', today) };

async function hub(who: string): Promise<string> {
  const r = await get(who, '/');
  assert.equal(r.statusCode, 200);
  return r.body;
}

describe('commissioning pages', () => {
  let id: string;

  it('lists live local services, GP services as national, and the ICB\'s own commissioning', async () => {
    const page = await get('qmj', '/portal/commissioning');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Commissioning for ICB QMJ/);
    assert.match(page.body, /Online consultation with TriagePoint/, 'seeded QMJ commissioning');
    assert.match(page.body, /Commissioned nationally through GP IT Futures for every ICB/);
    assert.match(page.body, /CareBook personal health record/, 'a live local service it may commission');
    assert.doesNotMatch(page.body, /gp-services-emis/);
    const form = await get('qmj', '/portal/commissioning/new');
    assert.equal(form.statusCode, 200);
    assert.doesNotMatch(form.body, /value="gp-services-/, 'GP services cannot be chosen');
    assert.match(form.body, /value="E83003"/);
    assert.doesNotMatch(form.body, /value="A81001"/, 'only practices of this ICB');
  });

  it('bad input: precise errors in the NHS pattern, what was typed kept, nothing saved', async () => {
    const before = await rows();
    const unknown = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning/new', { ...carebook, practices: [], practiceCodes: 'E83003, XYZ123' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /<title>Error: /);
    assert.match(unknown.body, /href="#practiceCodes"/);
    assert.match(unknown.body, /XYZ123 is not a practice in the ODS directory/);
    assert.match(unknown.body, /value="E83003, XYZ123"/);
    const elsewhere = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning/new', { ...carebook, practiceCodes: 'A81001' });
    assert.match(elsewhere.body, /A81001 \(.*\) is a practice in ICB QHM, not in your ICB QMJ/);
    const dates = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning/new', { ...carebook, ...date('start', '2031-05-10'), ...date('end', '2031-05-01') });
    assert.equal(dates.statusCode, 400);
    assert.match(dates.body, /href="#end-day"/);
    assert.match(dates.body, /The end date must be after the start date/);
    const notReal = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning/new', { ...carebook, 'start[day]': '30', 'start[month]': '2', 'start[year]': '2031' });
    assert.match(notReal.body, /The start date must be a real date/);
    const gp = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning/new', { ...carebook, serviceId: 'gp-services-emis' });
    assert.match(gp.body, /commissioned nationally through GP IT Futures/);
    const nothing = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning/new', {});
    assert.equal(nothing.statusCode, 400);
    for (const f of ['serviceId', 'scope', 'start-day']) assert.match(nothing.body, new RegExp(`href="#${f}"`));
    assert.deepEqual(await rows(), before);
  });

  it('commissions for a chosen practice: check your answers, confirmation, and citizens see it at once', async () => {
    assert.doesNotMatch(await hub('whetstone'), /CareBook/);
    const before = await rows();
    const check = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning/new', carebook);
    assert.equal(check.statusCode, 200, check.body);
    assert.match(check.body, /Check before you commission this service/);
    assert.match(check.body, /Whetstone|E83003/);
    assert.deepEqual(await rows(), before, 'checking saves nothing');
    const back = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning/edit', carebook);
    assert.match(back.body, /value="phr-carebook" checked/);

    const missingCsrf = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning', carebook, { noCsrf: true });
    assert.equal(missingCsrf.statusCode, 403);
    const otherIcbPractice = await postForm('qhm', '/portal/commissioning/new', '/portal/commissioning', carebook);
    assert.equal(otherIcbPractice.statusCode, 400, 'QHM cannot commission for a QMJ practice');
    assert.deepEqual(await rows(), before);

    const done = await postForm('qmj', '/portal/commissioning/new', '/portal/commissioning', carebook);
    assert.equal(done.statusCode, 303);
    id = /\/portal\/commissioning\/(\d+)\/commissioned/.exec(done.headers.location as string)![1];
    const confirmation = await get('qmj', done.headers.location as string);
    assert.match(confirmation.body, /Service commissioned/);
    assert.match(confirmation.body, /now see CareBook personal health record/);

    assert.match(await hub('whetstone'), /CareBook/, 'a citizen at the chosen practice sees it, no restart');
    assert.doesNotMatch(await hub('finchley'), /CareBook/, 'another practice in the ICB does not');
    assert.doesNotMatch(await hub('stockton'), /CareBook/, 'a practice elsewhere does not');
  });

  it('only the commissioner of that ICB may decommission; others and bad input change nothing', async () => {
    const before = await rows();
    const url = `/portal/commissioning/${id}/decommission`;
    const formPage = await get('qmj', url);
    assert.equal(formPage.statusCode, 200);
    for (const who of ['qhm', 'national', 'y56', 'provider', 'carebook']) {
      const r = await postForm(who, '/portal/proposals', url, { reason: 'Not mine' });
      assert.ok([403, 404].includes(r.statusCode), `${who}: ${r.statusCode}`);
    }
    const citizen = await system.app.inject({ method: 'POST', url, headers: { cookie: cookies.whetstone, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'reason=x' });
    assert.equal(citizen.statusCode, 403);
    const anonymous = await system.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'reason=x' });
    assert.ok([303, 403].includes(anonymous.statusCode));
    const noCsrf = await postForm('qmj', url, url, { reason: 'No token' }, { noCsrf: true });
    assert.equal(noCsrf.statusCode, 403);
    const noReason = await postForm('qmj', url, url, { reason: '' });
    assert.equal(noReason.statusCode, 400);
    assert.match(noReason.body, /href="#reason"/);
    assert.match(noReason.body, /Enter why you are decommissioning this service/);
    assert.deepEqual(await rows(), before);
    assert.match(await hub('whetstone'), /CareBook/);
  });

  it('decommissioning removes it from the citizen hub at once and keeps it in past commissioning', async () => {
    const url = `/portal/commissioning/${id}/decommission`;
    const r = await postForm('qmj', url, url, { reason: 'Pilot ended early' });
    assert.equal(r.statusCode, 303);
    assert.doesNotMatch(await hub('whetstone'), /CareBook/);
    const list = await get('qmj', r.headers.location as string);
    assert.match(list.body, /Service decommissioned/);
    assert.match(list.body, /Pilot ended early/);
    const audit = await get('national', '/portal/audit');
    assert.match(audit.body, new RegExp(`commissioning:${id}`), 'the national team sees commissioning changes');
  });

  it('who may look: the national team any ICB; a commissioner only its own; others are refused', async () => {
    assert.equal((await get('national', '/portal/commissioning?icb=QHM')).statusCode, 200);
    assert.match((await get('national', '/portal/commissioning?icb=QHM')).body, /Commissioning for ICB QHM/);
    assert.equal((await get('national', '/portal/commissioning/new')).statusCode, 403, 'the national team views, does not commission');
    assert.equal((await get('qmj', '/portal/commissioning?icb=QHM')).statusCode, 403);
    assert.equal((await get('y56', '/portal/commissioning')).statusCode, 403);
    assert.equal((await get('carebook', '/portal/commissioning')).statusCode, 403);
    assert.equal((await get('whetstone', '/portal/commissioning')).statusCode, 403, 'a citizen session');
    const anon = await system.app.inject({ url: '/portal/commissioning' });
    assert.equal(anon.statusCode, 303);
    assert.match(anon.headers.location as string, /\/portal\/auth\/sign-in/);
  });
});
