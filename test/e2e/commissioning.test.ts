// End to end in headless Chromium: an ICB commissioner commissions a live service for one of its practices (form,
// errors, check your answers, confirmation), a citizen there now sees it on the hub while one elsewhere does not,
// decommissioning takes it away, and the national team's monitoring flags a failing GP supplier. axe-core checks
// every page state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startSandbox, type RunningSandbox } from '../../sandboxes/common/server.ts';
import { gpTppSandbox } from '../../sandboxes/gp-tpp/index.ts';
import type { RunningSystem } from '../../src/system.ts';
import { signedInCitizen, startTestSystem } from '../../src/testing/factories.ts';
import { demoCitizen } from '../../src/web/gp/gp-test-client.ts';
import { checkAxe, launchBrowser, screenshot, staffBrowser } from './browser.ts';

let system: RunningSystem;
let browser: Browser;
let faulty: RunningSandbox;
before(async () => {
  system = await startTestSystem({}, { withSandboxes: true });
  faulty = await startSandbox(gpTppSandbox, { port: 0, faultMode: 'garbage' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await system?.close();
  await faulty?.close();
});

/** The hub as a citizen registered at this practice sees it. */
async function citizenHub(practice: string): Promise<string> {
  const { sessionId } = await signedInCitizen(system, { practice });
  const context = await browser.newContext({ bypassCSP: true });
  await context.addCookies([{ name: 'fd_session', value: sessionId, url: system.url }]);
  const page = await context.newPage();
  await page.goto(`${system.url}/`);
  const text = await page.locator('main').innerText();
  await context.close();
  return text;
}

describe('commissioning and monitoring in a real browser', () => {
  it('an ICB commissions CareBook for one practice, citizens there see it, decommissioning removes it', async () => {
    const { context, page } = await staffBrowser(browser, system, 'demo-staff-icb-qmj');
    await page.getByRole('link', { name: 'Commission live services for your practices' }).click();
    await page.getByRole('heading', { name: 'Commissioning for ICB QMJ' }).waitFor();
    await checkAxe(page, 'commissioning list');
    await screenshot(page, 'commissioning-list');

    await page.getByRole('link', { name: 'Commission a service' }).click();
    await checkAxe(page, 'commissioning form');
    await page.fill('#practiceCodes', 'E83003, A81001, XYZ123');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('There is a problem').waitFor();
    assert.match(await page.title(), /^Error: /);
    const errors = await page.locator('.nhsuk-error-summary').innerText();
    assert.match(errors, /A81001 .* is a practice in ICB QHM, not in your ICB QMJ/);
    assert.match(errors, /XYZ123 is not a practice in the ODS directory/);
    assert.match(errors, /Enter the start date/);
    await checkAxe(page, 'commissioning form with errors');
    await screenshot(page, 'commissioning-errors');

    const today = new Date();
    await page.getByLabel('CareBook personal health record').check();
    await page.getByLabel('Chosen practices', { exact: true }).check();
    await page.fill('#practiceCodes', '');
    await page.locator('input[name="practices"][value="E83003"]').check();
    await page.fill('#start-day', String(today.getUTCDate()));
    await page.fill('#start-month', String(today.getUTCMonth() + 1));
    await page.fill('#start-year', String(today.getUTCFullYear()));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Check before you commission this service' }).waitFor();
    await checkAxe(page, 'commissioning check answers');
    await screenshot(page, 'commissioning-check');
    await page.getByRole('button', { name: 'Commission service' }).click();
    await page.getByRole('heading', { name: 'Service commissioned' }).waitFor();
    await checkAxe(page, 'commissioning confirmation');
    await screenshot(page, 'commissioning-confirmation');

    assert.match(await citizenHub('E83003'), /CareBook personal health record/, 'a citizen at the chosen practice');
    assert.doesNotMatch(await citizenHub('A81001'), /CareBook/, 'a citizen in another ICB');

    await page.getByRole('link', { name: 'See your ICB\'s commissioning' }).click();
    await page.getByRole('link', { name: 'Decommission CareBook personal health record' }).click();
    await checkAxe(page, 'decommission form');
    await page.getByRole('button', { name: 'Decommission service' }).click();
    await page.getByText('There is a problem').waitFor();
    await checkAxe(page, 'decommission form with errors');
    await page.fill('#reason', 'Pilot ended');
    await page.getByRole('button', { name: 'Decommission service' }).click();
    await page.getByText('Service decommissioned').waitFor();
    await checkAxe(page, 'commissioning list after decommissioning');
    await screenshot(page, 'commissioning-decommissioned');
    assert.doesNotMatch(await citizenHub('E83003'), /CareBook/);
    await context.close();
  });

  it('the national team sees a failing GP supplier flagged on live monitoring', async () => {
    const emis = await demoCitizen(system, '9990237573');
    await emis.get('/gp/prescriptions');
    const healthy = system.supplierUrls['gp-tpp'];
    system.supplierUrls['gp-tpp'] = faulty.url;
    try {
      const tpp = await demoCitizen(system, '9990395950');
      // A visit's calls share one linkage attempt, so each visit is one failure: five open the breaker.
      for (let i = 0; i < 5; i++) await tpp.get('/gp/prescriptions');
    } finally {
      system.supplierUrls['gp-tpp'] = healthy;
    }
    const { context, page } = await staffBrowser(browser, system, 'demo-staff-national');
    await page.getByRole('link', { name: 'Monitor live services' }).click();
    await page.getByRole('heading', { name: 'Live monitoring' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /breaching agreed service levels/);
    assert.match(text, /Breaching service levels/);
    assert.match(text, /open: calls are paused/);
    await checkAxe(page, 'monitoring');
    await screenshot(page, 'monitoring');
    await context.close();
  });
});
