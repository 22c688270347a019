// End to end in headless Chromium: a P9 demo user books then cancels a GP appointment and reads their GP record,
// and books with JavaScript off; axe checks every page state, error states included (prescriptions: gp-prescriptions.test.ts).
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

describe('GP services in a real browser', () => {
  it('P9 user books and cancels an appointment and reads their record', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await citizenSignIn(page, system, 'demo-p9-stockton');

    // Appointments: list → type (with an error first) → slot → check (with an error first) → booked.
    await page.getByRole('link', { name: 'Appointments' }).click();
    await page.getByRole('heading', { name: 'Your GP appointments' }).waitFor();
    await checkAxe(page, 'appointments');
    await screenshot(page, 'gp-appointments');
    await page.getByRole('link', { name: 'Book an appointment' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('There is a problem').waitFor();
    assert.match(await page.title(), /^Error: /);
    await checkAxe(page, 'appointment type with error');
    await screenshot(page, 'gp-type-error');
    await page.locator('input[name="type"]').first().check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Choose an appointment time' }).waitFor();
    await checkAxe(page, 'choose slot');
    await screenshot(page, 'gp-slots');
    await page.locator('input[name="slot"]').first().check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Check and book your appointment' }).waitFor();
    await checkAxe(page, 'check appointment');
    await page.getByRole('button', { name: 'Book appointment' }).click();
    await page.getByText('Enter what the appointment is for').first().waitFor();
    await checkAxe(page, 'check appointment with error');
    await screenshot(page, 'gp-check-error');
    await page.getByLabel('What is the appointment for?').fill('Sore knee after running');
    await page.getByRole('button', { name: 'Book appointment' }).click();
    await page.getByRole('heading', { name: 'Appointment booked' }).waitFor();
    await checkAxe(page, 'booked');
    await screenshot(page, 'gp-booked');

    await page.getByRole('link', { name: 'See your appointments' }).click();
    await page.getByText('Sore knee after running').waitFor();
    await page.getByRole('link', { name: /Cancel this appointment/ }).first().click();
    await page.getByRole('heading', { name: 'Cancel your appointment' }).waitFor();
    await checkAxe(page, 'cancel');
    await page.getByLabel('Why are you cancelling?').fill('Knee is better');
    await page.getByRole('button', { name: 'Cancel appointment' }).click();
    await page.getByRole('heading', { name: 'Appointment cancelled' }).waitFor();
    await checkAxe(page, 'cancelled');
    await screenshot(page, 'gp-cancelled');

    // GP record: the index and every section.
    await page.goto(`${system.url}/gp/record`);
    await checkAxe(page, 'record');
    // Every section is visited; axe runs on each distinct layout (table, results table, cards).
    for (const section of ['allergies', 'medications', 'problems', 'immunisations', 'test-results', 'consultations']) {
      await page.goto(`${system.url}/gp/record/${section}`);
      await page.locator('h1').waitFor();
      assert.equal(await page.getByText('GP services are not available right now').count(), 0, section);
      if (['allergies', 'test-results', 'consultations'].includes(section)) await checkAxe(page, `record ${section}`);
    }
    await screenshot(page, 'gp-record-consultations');
    await page.goto(`${system.url}/gp/record/test-results`);
    await screenshot(page, 'gp-record-test-results');

    await context.close();
  });

  it('the booking flow works with JavaScript off', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, bypassCSP: true });
    const page = await context.newPage();
    await citizenSignIn(page, system, 'demo-p9-ferndown');
    await page.goto(`${system.url}/gp/appointments/book`);
    await page.locator('input[name="type"]').first().check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('input[name="slot"]').first().check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('What is the appointment for?').fill('Check-up');
    await page.getByRole('button', { name: 'Book appointment' }).click();
    await page.getByRole('heading', { name: 'Appointment booked' }).waitFor();
    await screenshot(page, 'gp-booked-no-js');
    await context.close();
  });
});
