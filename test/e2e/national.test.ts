// End to end in headless Chromium: P9 citizens change address, phone, emergency contact, language and pharmacy on
// the national record, set contact preferences and an organ donation decision, amend and withdraw it; a P5 citizen
// is sent to uplift. Axe on every state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { signedInCitizen, startTestSystem } from '../../src/testing/factories.ts';
import type { RunningSystem } from '../../src/system.ts';
import { checkAxe, launchBrowser, screenshot } from './browser.ts';

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

/** A browser already signed in (the sign-in journey itself is covered by sign-in-hub.test.ts). */
async function signedInPage(level: 'P5' | 'P9', nhsNumber: string): Promise<{ context: BrowserContext; page: Page }> {
  const { sessionId } = await signedInCitizen(system, { level, nhsNumber, givenName: 'Amira' });
  const context = await browser.newContext({ bypassCSP: true });
  await context.addCookies([{ name: 'fd_session', value: sessionId, url: system.url }]);
  return { context, page: await context.newPage() };
}

async function state(page: Page, name: string, errors = false) {
  if (errors) {
    await page.getByText('There is a problem').first().waitFor();
    assert.match(await page.title(), /^Error: /);
  }
  await checkAxe(page, name);
  await screenshot(page, `national-${name}`);
}

// Independent citizens, so the flows run side by side.
describe('national services in a real browser', { concurrency: true }, () => {
  it('P9 citizen changes their address and phone and sees the new version', async () => {
    const { context, page } = await signedInPage('P9', '9990079196');
    await page.goto(system.url);
    await page.locator('a[href="/services/national-record"]').first().click();
    await page.getByRole('heading', { name: 'Your details on the national record' }).waitFor();
    const v0 = Number(/Record version (\d+)/.exec(await page.locator('main').innerText())?.[1]);
    await state(page, 'record');

    await page.getByRole('link', { name: /Change\s+home address/ }).click();
    await page.getByLabel('Address line 1').fill('4 Mill Lane');
    await page.getByLabel('Postcode').fill('NOT A POSTCODE');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'address-error', true);
    await page.getByText('Enter a real postcode, like AA1 1AA').first().waitFor();
    await page.getByLabel('Postcode').fill('ls1 4ap');
    await page.getByLabel('Town or city (optional)').fill('Leeds');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: /Check your answers/ }).waitFor();
    await state(page, 'address-check');
    await page.getByRole('button', { name: 'Change my details' }).click();
    await page.getByText('Your details have been updated').waitFor();
    await page.getByText(`Version ${v0 + 1} of this record`).waitFor();
    await state(page, 'address-done');

    await page.getByRole('link', { name: 'Back to your details' }).click();
    await page.getByRole('link', { name: /Change\s+mobile phone number/ }).click();
    await page.getByLabel('Change your mobile phone number').fill('01134960000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'mobile-error', true);
    await page.getByLabel('Change your mobile phone number').fill('07700 900 456');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Change my details' }).click();
    await page.getByText(`Version ${v0 + 2} of this record`).waitFor();
    await page.getByRole('link', { name: 'Back to your details' }).click();
    const record = await page.locator('main').innerText();
    assert.match(record, /4 Mill Lane, Leeds, LS1 4AP/);
    assert.match(record, /07700900456/);
    assert.match(record, new RegExp(`Record version ${v0 + 2}`));
    await page.goto(`${system.url}/access-log`);
    assert.match(await page.locator('main').innerText(), /Changed your details on the national record/);
    await context.close();
  });

  it('P9 citizen changes their emergency contact, communication language and nominated pharmacy', async () => {
    const { context, page } = await signedInPage('P9', '9990316767');
    await page.goto(`${system.url}/services/national-record`);
    await page.getByRole('link', { name: /(Change|Add)\s+emergency contact/ }).click();
    await state(page, 'emergency-contact-form');
    await page.getByLabel('Full name').fill('Grace Okafor');
    await page.getByLabel('Relationship to you').fill('');
    await page.getByLabel('Phone number').fill('12345');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'emergency-contact-error', true);
    await page.getByText('Enter a UK phone number, like 01632 960 001 or 07700 900 982').first().waitFor();
    await page.getByLabel('Relationship to you').fill('Daughter');
    await page.getByLabel('Phone number').fill('01632 960 001');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'emergency-contact-check');
    await page.getByRole('button', { name: 'Change my details' }).click();
    await page.getByText('Your details have been updated').waitFor();

    await page.getByRole('link', { name: 'Back to your details' }).click();
    await page.getByRole('link', { name: /Change\s+communication language/ }).click();
    await state(page, 'language-form');
    await page.getByLabel('Change your communication language').selectOption('');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'language-error', true);
    await page.getByLabel('Change your communication language').selectOption({ label: 'Welsh' });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Change my details' }).click();
    await page.getByText('Your details have been updated').waitFor();
    await state(page, 'language-done');

    await page.getByRole('link', { name: 'Back to your details' }).click();
    await page.getByRole('link', { name: /Change\s+nominated pharmacy/ }).click();
    await page.getByLabel('Change your nominated pharmacy').fill('FX123');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Change my details' }).click();
    await page.getByRole('link', { name: 'Back to your details' }).click();
    const record = await page.locator('main').innerText();
    assert.match(record, /Grace Okafor \(Daughter\), 01632960001/);
    assert.match(record, /Communication language\s+Welsh/);
    assert.match(record, /Nominated pharmacy\s+FX123/);
    await state(page, 'record-after-changes');

    await page.getByRole('link', { name: /Remove\s+emergency contact/ }).click();
    await page.getByRole('heading', { name: 'Remove your emergency contact' }).waitFor();
    await state(page, 'emergency-contact-remove');
    await page.getByRole('button', { name: 'Remove emergency contact' }).click();
    await page.getByText('Emergency contact removed from the national record').waitFor();
    await page.getByRole('link', { name: 'Back to your details' }).click();
    assert.match(await page.locator('main').innerText(), /Emergency contact\s+None/);
    await context.close();
  });

  it('P9 citizen sets contact preferences and the national data opt-out', async () => {
    const { context, page } = await signedInPage('P9', '9990237573');
    await page.goto(`${system.url}/services/contact-preferences`);
    await state(page, 'preferences');
    await page.getByRole('link', { name: /Change\s+ways to contact you/ }).click();
    for (const label of ['NHS App notifications', 'Text message', 'Email', 'Letter']) await page.getByLabel(label, { exact: true }).setChecked(label === 'Text message');
    await page.getByLabel('Yes', { exact: true }).check();
    await page.getByLabel('Quiet hours start (if yes)').fill('9pm');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'preferences-error', true);
    await page.getByLabel('Quiet hours start (if yes)').fill('21:00');
    await page.getByLabel('Quiet hours end (if yes)').fill('07:00');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'preferences-check');
    await page.getByRole('button', { name: 'Save my preferences' }).click();
    await page.getByText('Your contact preferences have been saved').waitFor();
    await page.goto(`${system.url}/services/contact-preferences/data-opt-out`);
    await state(page, 'opt-out');
    await page.getByLabel('No, opt me out').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Save my choice' }).click();
    await page.getByText('Your choice has been saved').waitFor();
    await state(page, 'opt-out-done');
    await context.close();
  });

  it('P9 citizen records an organ donation decision, amends it and withdraws it', async () => {
    const { context, page } = await signedInPage('P9', '9990395950');
    await page.goto(`${system.url}/services/organ-donation`);
    await state(page, 'organ-donation');
    await page.getByRole('link', { name: 'Record your decision' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'organ-decision-error', true);
    await page.getByLabel('Yes: I want to donate my organs and tissue').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Yes, all my organs and tissue').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'organ-faith-error', true);
    await page.getByText('Select whether NHS staff should speak to your family').first().waitFor();
    await page.locator('input[name="faith"][value="not-applicable"]').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'organ-check');
    await page.getByRole('button', { name: 'Record my decision' }).click();
    await page.getByText('Your decision has been recorded').waitFor();
    await state(page, 'organ-done');

    await page.goto(`${system.url}/services/organ-donation`);
    await page.getByRole('link', { name: 'Change your decision' }).click();
    await page.getByLabel('I want to appoint someone to decide for me (a representative)').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Full name').fill('Jo Harrison');
    await page.getByLabel('Relationship to you').fill('Sister');
    await page.getByLabel('Their mobile phone number or email address').fill('07700900333');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Record my decision' }).click();
    await page.getByText('I have appointed a representative: Jo Harrison (Sister)').waitFor();

    await page.goto(`${system.url}/services/organ-donation/withdraw`);
    await state(page, 'organ-withdraw');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'organ-withdraw-error', true);
    await page.getByLabel('Why are you withdrawing your decision?').fill('I want to talk to my family first');
    await page.getByRole('button', { name: 'Continue' }).click();
    await state(page, 'organ-withdraw-check');
    await page.getByRole('button', { name: 'Withdraw my decision' }).click();
    await page.getByText('Your decision has been withdrawn').waitFor();
    await state(page, 'organ-withdrawn');
    await page.goto(`${system.url}/services/organ-donation/history`);
    const history = await page.locator('main').innerText();
    for (const a of ['Recorded', 'Amended', 'Withdrawn']) assert.match(history, new RegExp(`\\d\\t${a}\\t\\d{1,2} [A-Z][a-z]+ \\d{4} at \\d{2}:\\d{2}`));
    await state(page, 'organ-history');
    await context.close();
  });

  it('P5 citizen is sent to prove their identity for the national record', async () => {
    const { context, page } = await signedInPage('P5', '9990475148');
    await page.goto(`${system.url}/services/national-record`);
    await page.getByRole('heading', { name: 'Prove your identity to use this service' }).waitFor();
    await state(page, 'record-uplift');
    await page.goto(`${system.url}/services/organ-donation`);
    await page.getByRole('heading', { name: 'Your organ donation decision' }).waitFor();
    await context.close();
  });
});
