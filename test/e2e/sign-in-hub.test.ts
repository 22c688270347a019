// End to end in headless Chromium: a P9 citizen signs in through the real login page, sees the hub for their
// practice, reaches their account, signs out; axe-core checks every page visited. JavaScript off is checked too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestSystem } from '../../src/testing/factories.ts';
import type { RunningSystem } from '../../src/system.ts';
import { checkAxe, launchBrowser, screenshot } from './browser.ts';

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

async function signIn(page: Page, email: string, password: string) {
  await page.goto(system.url);
  await checkAxe(page, 'start page');
  await page.getByRole('button', { name: 'Continue with NHS login' }).or(page.getByRole('link', { name: 'Continue with NHS login' })).click();
  await page.waitForURL(/\/interaction\//);
  await checkAxe(page, 'login page');
  // A mistake first: the error summary and inline message, checked by axe too.
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('There is a problem').waitFor();
  assert.match(await page.title(), /^Error: /);
  await checkAxe(page, 'login page with errors');
  await screenshot(page, 'login-error');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${system.url}/`);
}

describe('citizen in a real browser', () => {
  it('P9 user signs in, sees the services for their practice, and signs out', async () => {
    const person = system.demoPeople.find((p) => p.sub === 'demo-p9-stockton')!;
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await signIn(page, person.email, person.password);
    await page.getByRole('heading', { name: `Hello ${person.givenName}` }).waitFor();
    for (const name of ['GP services', 'Consultations', 'National services']) {
      await page.getByRole('heading', { name, level: 2 }).waitFor();
    }
    assert.ok(await page.getByRole('link', { name: 'Ask your GP surgery online' }).isVisible());
    assert.equal(await page.getByText('CareBook').count(), 0);
    await checkAxe(page, 'hub');
    await screenshot(page, 'hub-p9');

    await page.getByRole('link', { name: 'Your account' }).first().click();
    await page.getByText('999 007 9196').waitFor();
    await checkAxe(page, 'account');

    await page.getByRole('link', { name: 'Organ donation decision' }).count();
    await page.goto(`${system.url}/no-such-page`);
    await checkAxe(page, '404');

    await page.goto(`${system.url}/sign-out`);
    await page.getByRole('heading', { name: 'Sign out of NHS login' }).waitFor();
    await checkAxe(page, 'provider sign-out');
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You have signed out' }).waitFor();
    await checkAxe(page, 'signed out');
    await page.goto(`${system.url}/account`);
    await page.waitForURL(/\/interaction\//);
    await context.close();
  });

  it('P5 user sees P9 services listed with the route to prove their identity, with JavaScript off', async () => {
    const person = system.demoPeople.find((p) => p.identityLevel === 'P5')!;
    const context = await browser.newContext({ javaScriptEnabled: false, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${system.url}/auth/sign-in`);
    await page.getByLabel('Email address').fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${system.url}/`);
    assert.ok((await page.getByText('Prove your identity to use this').count()) > 0);
    await page.getByRole('link', { name: /^Appointments/ }).click();
    await page.getByRole('heading', { name: 'Prove your identity to use this service' }).waitFor();
    await screenshot(page, 'uplift-p5');
    await context.close();
    // axe needs script: check the same states with JavaScript on.
    const ctx2 = await browser.newContext({ bypassCSP: true });
    const p2 = await ctx2.newPage();
    await signIn(p2, person.email, person.password);
    await checkAxe(p2, 'hub P5');
    await p2.goto(`${system.url}/prove-your-identity?service=gp-services-emis`);
    await checkAxe(p2, 'uplift');
    await ctx2.close();
  });
});
