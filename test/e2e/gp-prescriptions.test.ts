// End to end in headless Chromium: a P9 demo user orders a repeat prescription, tries a wrong pharmacy code, sees
// the access log, then meets their GP system down; axe checks every page state, error and outage states included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestSystem } from '../../src/testing/factories.ts';
import type { RunningSystem } from '../../src/system.ts';
import { checkAxe, citizenSignIn, launchBrowser, screenshot } from './browser.ts';

let system: RunningSystem;
let browser: Browser;
before(async () => {
  system = await startTestSystem({}, { withSandboxes: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await system?.close();
});

describe('GP prescriptions in a real browser', () => {
  it('P9 user orders a repeat prescription; a GP system outage shows only in the GP parts', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await citizenSignIn(page, system, 'demo-p9-stockton');
    await page.getByRole('link', { name: 'Prescriptions' }).click();
    // Prescriptions: list → choose (with an error first) → check → sent; pharmacy error state.
    await page.getByRole('heading', { name: 'Repeat medicines' }).waitFor();
    await checkAxe(page, 'prescriptions');
    await screenshot(page, 'gp-prescriptions');
    await page.getByRole('link', { name: 'Order a repeat prescription' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Select the medicines you need').first().waitFor();
    await checkAxe(page, 'order with error');
    await page.locator('input[name="medicines"]:not([disabled])').first().check();
    await page.getByLabel('Note for your GP surgery (optional)').fill('Away next week');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Check your prescription request' }).waitFor();
    await checkAxe(page, 'check order');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.getByRole('heading', { name: 'Prescription request sent' }).waitFor();
    await checkAxe(page, 'order sent');
    await screenshot(page, 'gp-ordered');
    await page.goto(`${system.url}/gp/prescriptions/pharmacy`);
    await page.getByLabel('Pharmacy code').fill('nonsense');
    await page.getByRole('button', { name: 'Change pharmacy' }).click();
    await page.getByText('There is a problem').waitFor();
    await checkAxe(page, 'pharmacy with error');

    // The access log shows what was done, with the supplier.
    await page.goto(`${system.url}/access-log`);
    await page.getByText('Ordered a repeat prescription').first().waitFor();
    await checkAxe(page, 'access log');

    // The practice's GP system stops answering: only the GP parts say so.
    const healthy = system.supplierUrls['gp-emis'];
    system.supplierUrls['gp-emis'] = 'http://127.0.0.1:9';
    try {
      await page.goto(`${system.url}/gp/prescriptions`);
      await page.getByText('GP services are not available right now').first().waitFor();
      await checkAxe(page, 'prescriptions with the supplier down');
      await screenshot(page, 'gp-supplier-down');
      await page.goto(`${system.url}/`);
      await page.getByRole('heading', { name: 'GP services', level: 2 }).waitFor();
    } finally {
      system.supplierUrls['gp-emis'] = healthy;
    }
    await context.close();
  });
});
