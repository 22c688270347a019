// End to end in headless Chromium: a supplier proposes through the portal, an ICB records support, the public
// leaves feedback, the national team moderates, assesses and decides, and the decision appears on the public
// register. axe-core checks every page state on the way, errors included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestSystem } from '../../src/testing/factories.ts';
import type { RunningSystem } from '../../src/system.ts';
import { assessAndApprove, checkAxe, launchBrowser, screenshot, staffBrowser } from './browser.ts';

let system: RunningSystem;
let browser: Browser;
before(async () => {
  system = await startTestSystem();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await system?.close();
});

describe('portal in a real browser', () => {
  it('supplier proposes, ICB supports, public comments, national team decides, register publishes', async () => {
    // Public start page of the portal.
    const anon = await browser.newContext({ bypassCSP: true });
    const start = await anon.newPage();
    await start.goto(`${system.url}/portal`);
    await checkAxe(start, 'portal start');

    // A supplier proposes.
    const supplier = await staffBrowser(browser, system, 'demo-staff-supplier-askdoc');
    let page = supplier.page;
    await checkAxe(page, 'supplier home');
    await page.getByRole('link', { name: 'Propose a service and see your proposals' }).click();
    await checkAxe(page, 'supplier proposals');
    await page.getByRole('link', { name: 'Propose a service' }).click();
    await checkAxe(page, 'proposal form');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('There is a problem').waitFor();
    assert.match(await page.title(), /^Error: /);
    await checkAxe(page, 'proposal form with errors');
    await screenshot(page, 'portal-proposal-errors');
    for (const q of ['#eligibleCommissioned', '#eligibleFree', '#eligiblePersonalised']) await page.locator(q).check();
    await page.fill('#title', 'AskDoc in the North East');
    await page.fill('#summary', 'Online consultation with same-day triage.');
    await page.selectOption('#supplierId', 'askdoc');
    await page.getByLabel('Online consultation').check();
    await page.locator('#integrationMethod').check();
    await page.selectOption('#regionCode', 'Y63');
    await page.fill('#userNeed', 'Phone lines are jammed at 8am.');
    await page.fill('#userNeedSource', 'Practice audit 2025');
    await page.locator('#citizenFacing').check();
    await page.getByLabel('Improving access to primary care').check();
    await page.fill('#priorityExplanation', 'Fewer calls at 8am.');
    await page.fill('#providerSupport', 'A81001 piloted it.');
    await page.locator('#processChange').check();
    await page.fill('#commissionerSupport', 'QHM funds it.');
    await page.fill('#icbs', 'QHM');
    await page.fill('#addedValue', 'Consultations inside the app.');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Check your proposal before submitting it' }).waitFor();
    await checkAxe(page, 'check your proposal');
    await page.getByRole('button', { name: 'Submit proposal' }).click();
    await page.getByText('Proposal submitted').waitFor();
    await checkAxe(page, 'proposal submitted');
    await screenshot(page, 'portal-proposal-submitted');
    const proposalUrl = page.url().split('?')[0];
    await supplier.context.close();

    // The ICB records its support.
    const icb = await staffBrowser(browser, system, 'demo-staff-icb-qhm');
    page = icb.page;
    await page.goto(proposalUrl);
    await page.getByRole('button', { name: 'Record support' }).click();
    await page.getByText('There is a problem').waitFor();
    await checkAxe(page, 'support with errors');
    await page.fill('#statement', 'QHM funds it for all its practices.');
    await page.fill('#registeredPatients', '1500000');
    await page.getByRole('button', { name: 'Record support' }).click();
    await page.getByText('Support recorded').waitFor();
    await checkAxe(page, 'support recorded');
    await icb.context.close();

    // A member of the public comments on the proposal.
    await start.goto(`${system.url}/decisions`);
    await checkAxe(start, 'decision register, empty');
    await start.getByRole('link', { name: /Give feedback/ }).first().click();
    await start.getByRole('button', { name: 'Send feedback' }).click();
    await start.getByText('There is a problem').waitFor();
    await checkAxe(start, 'feedback with errors');
    await start.getByLabel('Agree', { exact: true }).check();
    await start.fill('#comment', 'My surgery is impossible to phone.');
    await start.getByRole('button', { name: 'Send feedback' }).click();
    await start.getByText('Feedback sent').waitFor();
    await checkAxe(start, 'feedback sent');

    // The national team moderates, reviews, assesses and decides.
    const national = await staffBrowser(browser, system, 'demo-staff-national');
    page = national.page;
    await page.getByRole('link', { name: 'Moderate public feedback' }).click();
    await checkAxe(page, 'moderation queue');
    await page.getByRole('button', { name: /^Publish/ }).first().click();
    await page.getByText('There is no feedback waiting').waitFor();
    await page.goto(`${system.url}/portal/proposals`);
    await checkAxe(page, 'national backlog');
    await page.getByRole('link', { name: 'AskDoc in the North East' }).click();
    await page.getByText('1 agree').waitFor();
    await checkAxe(page, 'national review');
    await page.selectOption('#criterion', 'user-need');
    await page.fill('#points', '9');
    await page.getByRole('button', { name: 'Save assessment' }).click();
    await page.getByText('Points must be a whole number from 0 to 3').first().waitFor();
    await checkAxe(page, 'assessment with errors');
    await assessAndApprove(page, 'Strong ICB support and a clear need.');
    await checkAxe(page, 'decided');
    await screenshot(page, 'portal-decided');
    await page.goto(`${system.url}/portal/audit`);
    await page.getByRole('cell', { name: 'decide', exact: true }).waitFor();
    await checkAxe(page, 'audit');
    await page.goto(`${system.url}/portal/suppliers`);
    await checkAxe(page, 'supplier registry');
    await page.getByRole('link', { name: 'AskDoc Online (demo supplier)' }).click();
    await checkAxe(page, 'supplier record');
    await national.context.close();

    // The public register shows the decision.
    await start.goto(`${system.url}/decisions`);
    await start.getByText('Strong ICB support and a clear need.').waitFor();
    await checkAxe(start, 'decision register with a decision');
    await screenshot(start, 'decision-register');
    await anon.close();
  });
});
