// End to end in headless Chromium, the whole route of issue 5: a supplier proposes a web integration of an online
// consultation service, an ICB records support, the national team decides and the public register shows it; the
// integration is walked through solution design, development (sandbox credentials), endpoint, assurance runs on the
// job queue against the web-consultation sandbox (conformance, accessibility, capacity with its chart), a refused
// skipped gate, an unreachable endpoint shown on its run page, checklist, safety, DSPT, agreement and go-live; the
// ICB commissions it and a citizen in that ICB sees it on the hub while one in another ICB does not.
// axe-core checks every page state visited, errors included.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningSystem } from '../../src/system.ts';
import { startTestSystem } from '../../src/testing/factories.ts';
import { assessAndApprove, checkAxe, launchBrowser, screenshot, staffBrowser } from './browser.ts';

const TITLE = 'TriagePoint: ask your surgery about anxiety';

let system: RunningSystem;
let browser: Browser;
let sandboxUrl: string;
before(async () => {
  // A low rate cap keeps the capacity check's load gentle on a shared machine; the steps are still real load.
  system = await startTestSystem({ CAPACITY_MAX_RPS: '20' }, { withSandboxes: true });
  sandboxUrl = system.supplierUrls['web-consultation'];
  assert.ok(sandboxUrl, 'the web-consultation sandbox runs');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await system?.close();
});

/** A loopback port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** axe on the page as it is now, and a screenshot to look at. */
async function look(page: Page, label: string): Promise<void> {
  await checkAxe(page, label);
  await screenshot(page, `journey-${label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
}

/** A citizen signed in through the real NHS login page; returns the hub's main text. */
async function citizenHub(sub: string, label: string, open?: string): Promise<string> {
  const person = system.demoPeople.find((p) => p.sub === sub);
  assert.ok(person, `demo citizen ${sub}`);
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(system.url);
  await page.getByRole('button', { name: 'Continue with NHS login' }).or(page.getByRole('link', { name: 'Continue with NHS login' })).click();
  await page.waitForURL(/\/interaction\//);
  await page.getByLabel('Email address').fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${system.url}/`);
  await page.getByRole('heading', { name: `Hello ${person.givenName}` }).waitFor();
  await look(page, label);
  const text = await page.locator('main').innerText();
  if (open) {
    // Into the supplier's own site, signed in through the hand-off: no second sign-in there.
    await page.getByRole('link', { name: open }).click();
    await look(page, `${label} service page`);
    await page.getByRole('button', { name: /^Continue to / }).click();
    await page.waitForURL((u) => u.origin === new URL(sandboxUrl).origin && !u.search.includes('assertedLoginIdentity'));
    await page.getByRole('heading', { name: 'Get help with anxiety or worry' }).waitFor();
    assert.equal(await page.locator('input[type="password"]').count(), 0, 'signed in at the supplier without a password');
    await look(page, `${label} at the supplier`);
  }
  await context.close();
  return text;
}

/** Waits for the success banner with this text (the same words may also be a gate's name on the page). */
async function banner(page: Page, text: string): Promise<void> {
  await page.locator('.nhsuk-notification-banner').getByText(text).waitFor();
}

const RUN_STATES = /^(Queued|Running|Passed|Failed|Could not run)$/;

/**
 * Waits on a run page until the run finishes: by reloading it, or (follow) by letting the page's own script follow
 * the run until it offers the result. axe runs on the first state seen (the progress bar) and on the finished one.
 */
async function waitForRun(page: Page, label: string, opts: { follow?: boolean } = {}): Promise<string> {
  const deadline = Date.now() + 90_000;
  let checkedActive = false;
  for (;;) {
    const status = (await page.locator('main strong.nhsuk-tag').first().innerText()).trim();
    assert.match(status, RUN_STATES);
    if (status !== 'Queued' && status !== 'Running') {
      // The script may have moved the tag on before this page was reloaded: the result is on a fresh page.
      if (await page.locator('progress#run-progress').count()) {
        await page.reload();
        continue;
      }
      await look(page, `${label} finished`);
      return status;
    }
    if (!checkedActive) {
      assert.equal(await page.locator('progress#run-progress').count(), 1, 'a progress bar while it runs');
      assert.equal(await page.locator('meta[http-equiv="refresh"]').count(), 0, 'no timed reload (WCAG 2.2.1)');
      assert.equal(await page.getByRole('link', { name: 'Refresh to see the latest progress' }).count(), 1, 'a refresh the user chooses');
      await look(page, `${label} in progress`);
      checkedActive = true;
    }
    if (opts.follow) {
      const first = Number(await page.locator('progress#run-progress').getAttribute('value'));
      const result = page.getByRole('status').getByRole('link', { name: 'See the result' });
      await result.waitFor({ timeout: 90_000 });
      assert.ok(Number(await page.locator('progress#run-progress').evaluate((e) => (e as HTMLProgressElement).value)) >= first, 'the bar moved on');
      assert.doesNotMatch(await page.locator('main strong.nhsuk-tag').first().innerText(), /Queued|Running/, 'the status tag follows too');
      await look(page, `${label} followed to the end`);
      await result.click();
      continue;
    }
    assert.ok(Date.now() < deadline, `${label} did not finish in time (last status ${status})`);
    await page.waitForTimeout(700);
    await page.reload();
  }
}

/** Starts a run through the run form page and returns the run page's status when it has finished. */
async function startRun(page: Page, id: string, kind: string, fill: (page: Page) => Promise<void>, opts: { follow?: boolean } = {}): Promise<string> {
  await page.goto(`${system.url}/portal/integrations/${id}/runs/new?kind=${kind}`);
  await page.getByRole('heading', { name: `Start a ${kind} run` }).waitFor();
  await look(page, `${kind} run form`);
  await fill(page);
  await page.getByRole('button', { name: 'Start the run' }).click();
  await page.waitForURL(new RegExp(`/portal/integrations/${id}/runs/\\d+$`));
  return waitForRun(page, `${kind} run`, opts);
}

describe('the integration journey in a real browser', () => {
  it('a supplier proposal becomes a live, commissioned service that citizens in the ICB see', { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    const lap = (what: string) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // 1. The supplier proposes; missing evidence first.
    const supplier = await staffBrowser(browser, system, 'demo-staff-supplier-triagepoint');
    let page = supplier.page;
    await look(page, 'supplier home');
    await page.getByRole('link', { name: 'Propose a service and see your proposals' }).click();
    await page.getByRole('link', { name: 'Propose a service' }).click();
    await look(page, 'proposal form');
    for (const q of ['#eligibleCommissioned', '#eligibleFree', '#eligiblePersonalised']) await page.locator(q).check();
    await page.fill('#title', TITLE);
    await page.fill('#summary', 'A short questionnaire about anxiety, triaged and sent to your GP surgery, inside the NHS App.');
    await page.selectOption('#supplierId', 'triagepoint');
    await page.getByLabel('Online consultation').check();
    await page.locator('input[name="integrationMethod"][value="web"]').check();
    await page.selectOption('#regionCode', 'Y63');
    await page.fill('#userNeed', 'People wait weeks to talk to someone about anxiety.');
    await page.locator('#citizenFacing').check();
    await page.getByLabel('Improving access to primary care').check();
    await page.fill('#priorityExplanation', 'Routes anxiety requests to the right person first time.');
    await page.fill('#providerSupport', 'A81001 piloted it for six months.');
    await page.locator('#processChange').check();
    await page.fill('#commissionerSupport', 'QHM will fund it for its practices.');
    await page.fill('#icbs', 'QHM');
    // No source for the user need and no added value: evidence missing for two criteria.
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('There is a problem').waitFor();
    assert.match(await page.title(), /^Error: /);
    const summary = await page.locator('.nhsuk-error-summary').innerText();
    assert.match(summary, /Enter where the evidence of user need comes from/);
    assert.match(summary, /Enter the value the service adds to the app/);
    assert.equal(await page.locator('#title').inputValue(), TITLE, 'what was typed is kept');
    await look(page, 'proposal form missing evidence');
    await page.fill('#userNeedSource', 'Practice survey, 2025');
    await page.fill('#addedValue', 'Consultations inside the app, signed in once with NHS login.');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Check your proposal before submitting it' }).waitFor();
    await look(page, 'check your proposal');
    await page.getByRole('button', { name: 'Submit proposal' }).click();
    await page.getByText('Proposal submitted').waitFor();
    await look(page, 'proposal submitted');
    const proposalUrl = page.url().split('?')[0];
    lap('proposed');

    // 2. The ICB records support; the national team assesses and approves; the register publishes it.
    const icb = await staffBrowser(browser, system, 'demo-staff-icb-qhm');
    await icb.page.goto(proposalUrl);
    await look(icb.page, 'proposal as ICB');
    await icb.page.fill('#statement', 'QHM funds it for all its practices.');
    await icb.page.fill('#registeredPatients', '3000000');
    await icb.page.getByRole('button', { name: 'Record support' }).click();
    await icb.page.getByText('Support recorded').waitFor();
    await look(icb.page, 'support recorded');

    const national = await staffBrowser(browser, system, 'demo-staff-national');
    const np = national.page;
    await np.goto(`${system.url}/portal/proposals`);
    await np.getByRole('link', { name: TITLE }).click();
    await look(np, 'national review');
    await assessAndApprove(np, 'QHM backs it and anxiety requests need a better route.');
    await look(np, 'decided');

    const anon = await browser.newContext({ bypassCSP: true });
    const pub = await anon.newPage();
    await pub.goto(`${system.url}/decisions`);
    await pub.getByText('QHM backs it and anxiety requests need a better route.').waitFor();
    assert.match(await pub.locator('main').innerText(), new RegExp(TITLE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await look(pub, 'decision register');
    await anon.close();
    lap('decided');

    // 3. The integration opens at solution design.
    await np.goto(`${system.url}/portal/integrations`);
    await look(np, 'integrations list');
    await np.getByRole('link', { name: TITLE }).click();
    await np.getByText('Current stage').first().waitFor();
    const id = /\/portal\/integrations\/(\d+)/.exec(np.url())![1];
    const integration = `${system.url}/portal/integrations/${id}`;
    await look(np, 'integration at solution design');

    await page.goto(integration);
    await page.getByRole('link', { name: 'Record the solution design' }).click();
    await look(page, 'design form');
    await page.fill('#apis', 'The app opens the service with NHS login single sign-on (assertedLoginIdentity).');
    await page.fill('#dataFlows', 'Questionnaire answers go from the citizen to TriagePoint and on to the practice; nothing comes back to the app.');
    await page.getByLabel('P5', { exact: true }).check();
    await page.fill('#safetyOfficer', 'Dr Asha Rao');
    await page.getByRole('button', { name: 'Save solution design' }).click();
    await banner(page, 'Solution design saved');
    await look(page, 'design saved');

    await np.goto(integration);
    await np.getByRole('button', { name: 'Move to Development in the sandpit' }).click();
    await banner(np, 'Stage moved on');
    await np.getByRole('button', { name: 'Issue sandbox credentials' }).click();
    await np.getByRole('heading', { name: 'Sandbox credentials issued' }).waitFor();
    const secretRow = np.locator('.nhsuk-summary-list__row', { hasText: 'Client secret' }).locator('.nhsuk-summary-list__value');
    const secret = (await secretRow.innerText()).trim();
    assert.match(secret, /^[A-Za-z0-9_-]{40,}$/, 'the secret is shown');
    assert.match(await np.locator('main').innerText(), /web-consultation/, 'with the sandboxes\' addresses');
    await look(np, 'sandbox credentials');
    await np.goto(integration);
    assert.doesNotMatch(await np.content(), new RegExp(secret), 'and never shown again');

    await page.goto(integration);
    await page.getByRole('link', { name: 'Register your endpoint' }).click();
    await look(page, 'endpoint form');
    await page.fill('#endpointUrl', sandboxUrl);
    await page.fill('#webUrl', `${sandboxUrl}/`);
    await page.getByRole('button', { name: 'Register endpoint' }).click();
    await banner(page, 'Endpoint registered');

    await np.goto(integration);
    await np.getByRole('button', { name: 'Move to Assurance' }).click();
    await banner(np, 'Stage moved on');
    await look(np, 'integration at assurance');
    lap('at assurance');

    // An unreachable endpoint: the run could not complete, and its page says why.
    const port = await deadPort();
    await page.goto(integration);
    await page.fill('#conformance-targetUrl', `http://127.0.0.1:${port}/`);
    await page.locator('input[name="system"][value="web-consultation"]').check();
    await page.getByRole('button', { name: 'Start conformance run' }).click();
    await page.waitForURL(new RegExp(`/portal/integrations/${id}/runs/\\d+$`));
    assert.equal(await waitForRun(page, 'unreachable run'), 'Could not run');
    const callout = await page.locator('.nhsuk-card--warning').innerText();
    assert.match(callout, /The run could not complete/);
    assert.match(callout, new RegExp(`127\\.0\\.0\\.1:${port} could not be reached: nothing is listening there`));

    // Skipping a gate is refused, with the gates still missing named.
    await np.goto(integration);
    await np.getByRole('button', { name: 'Move to Connection agreement' }).click();
    await np.getByText('There is a problem').waitFor();
    assert.match(await np.title(), /^Error: /);
    assert.match(await np.locator('.nhsuk-error-summary').innerText(), /Cannot move to connection agreement yet/i);
    await look(np, 'skipped gate refused');
    await np.goto(integration);
    assert.match(await np.locator('main').innerText(), /Assurance\s*\n?\s*Current stage/, 'still at assurance');

    // The three assurance runs against the sandbox, through the run form pages.
    assert.equal(await startRun(page, id, 'conformance', async (p) => {
      await p.fill('#targetUrl', `${sandboxUrl}/`);
      await p.selectOption('#system', 'web-consultation');
    }), 'Passed');
    assert.match(await page.locator('main').innerText(), /\d+ passed, 0 failed/);
    assert.equal(await startRun(page, id, 'accessibility', async (p) => {
      await p.fill('#targetUrl', `${sandboxUrl}/`);
    }), 'Passed');
    assert.match(await page.locator('main').innerText(), /No violations were found/);
    assert.equal(await startRun(page, id, 'capacity', async (p) => {
      await p.fill('#targetUrl', sandboxUrl);
      assert.equal(await p.locator('#populationCovered').inputValue(), '3000000', 'population from the supporting ICB');
      await p.fill('#stepSeconds', '1');
      await p.fill('#path', '/health');
    }, { follow: true }), 'Passed');
    await page.getByRole('img', { name: 'Latency against load' }).waitFor();
    assert.equal(await page.locator('table').filter({ hasText: 'Latency and errors at each load step' }).locator('tbody tr').count(), 4, 'four load steps');
    assert.match(await page.locator('main').innerText(), /Affordability estimate/);
    await screenshot(page, 'journey-capacity-chart');
    lap('runs passed');

    // Checklist (one empty first), safety, DSPT, then connection agreement.
    await page.goto(`${integration}/checklist`);
    await look(page, 'checklist');
    const items = await page.locator('form textarea').evaluateAll((els) => els.map((e) => e.id));
    assert.ok(items.length > 0);
    await page.locator('form', { has: page.locator(`#${items[0]}`) }).getByRole('button', { name: 'Save evidence' }).click();
    await page.getByText('There is a problem').waitFor();
    await look(page, 'checklist missing evidence');
    for (const item of items) {
      await page.fill(`#${item}`, `Evidence for ${item.replace(/^evidence-/, '')}: report attached, March 2026`);
      await page.locator('form', { has: page.locator(`#${item}`) }).getByRole('button', { name: 'Save evidence' }).click();
      await page.waitForURL(new RegExp(`saved=${item.replace(/^evidence-/, '')}`));
      await banner(page, 'Evidence saved');
    }
    assert.match(await page.locator('main').innerText(), new RegExp(`${items.length} of ${items.length} items have evidence`));
    await look(page, 'checklist complete');

    await np.goto(integration);
    await np.getByRole('link', { name: 'Sign off clinical safety' }).click();
    await look(np, 'safety form');
    await np.fill('#reference', 'TriagePoint DCB0129 safety case v2.1 and hazard log');
    await np.getByRole('button', { name: 'Sign off clinical safety' }).click();
    await banner(np, 'Clinical safety signed off');
    await np.getByRole('link', { name: 'Record the DSPT status' }).click();
    await np.getByLabel('Standards met').check();
    await np.getByRole('button', { name: 'Record DSPT status' }).click();
    await banner(np, 'DSPT status recorded');
    await look(np, 'assurance gates passed');
    await np.getByRole('button', { name: 'Move to Connection agreement' }).click();
    await banner(np, 'Stage moved on');
    await np.getByRole('link', { name: 'Record the connection agreement' }).click();
    await look(np, 'agreement form');
    await np.fill('#signatory', 'Tom Reyes, Director, TriagePoint');
    await np.getByRole('button', { name: 'Record signed agreement' }).click();
    await banner(np, 'Connection agreement recorded');

    // Go-live with a reason, on the check page.
    await np.getByRole('link', { name: 'Go live' }).click();
    await look(np, 'go-live form');
    await np.fill('#reason', 'Every gate passed: conformance, accessibility and capacity runs, safety case, DSPT and agreement.');
    await np.getByRole('button', { name: 'Continue' }).click();
    await np.getByRole('heading', { name: 'Check before the service goes live' }).waitFor();
    await look(np, 'go-live check');
    await np.getByRole('button', { name: 'Put the service live' }).click();
    await banner(np, 'The service is live: ICBs can now commission it');
    await look(np, 'live');
    await national.context.close();
    await supplier.context.close();
    lap('live');

    // 4. The ICB commissions it for all its practices from today.
    const ip = icb.page;
    await ip.goto(`${system.url}/portal`);
    await ip.getByRole('link', { name: 'Commission live services for your practices' }).click();
    await ip.getByRole('link', { name: 'Commission a service' }).click();
    await look(ip, 'commissioning form');
    await ip.getByLabel(TITLE).check();
    await ip.getByLabel('All practices in ICB QHM').check();
    const today = new Date();
    await ip.fill('#start-day', String(today.getUTCDate()));
    await ip.fill('#start-month', String(today.getUTCMonth() + 1));
    await ip.fill('#start-year', String(today.getUTCFullYear()));
    await ip.getByRole('button', { name: 'Continue' }).click();
    await ip.getByRole('heading', { name: 'Check before you commission this service' }).waitFor();
    await look(ip, 'commissioning check');
    await ip.getByRole('button', { name: 'Commission service' }).click();
    await ip.getByRole('heading', { name: 'Service commissioned' }).waitFor();
    await look(ip, 'commissioned');
    await icb.context.close();
    lap('commissioned');

    // 5. A citizen at A81001 (ICB QHM) sees it; one at E83003 (ICB QMJ) does not.
    assert.match(await citizenHub('demo-p9-stockton', 'hub in QHM', TITLE), new RegExp(TITLE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.doesNotMatch(await citizenHub('demo-p9-whetstone', 'hub in QMJ'), /ask your surgery about anxiety/);
    lap('citizens');
  });
});
