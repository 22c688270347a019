// The web-consultation sandbox in headless Chromium: every page state of the good service passes axe, and the
// 'inaccessible' mode has the serious violations the pipeline's accessibility gate exists to catch.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { UnsecuredJWT } from 'jose';
import { checkAxe, launchBrowser, screenshot, seriousViolations } from '../../test/e2e/browser.ts';
import { startSandbox, type RunningSandbox } from '../common/server.ts';
import { webConsultationSandbox } from './sandbox.ts';

let browser: Browser;
let good: RunningSandbox;
let inaccessible: RunningSandbox;
before(async () => {
  [browser, good, inaccessible] = await Promise.all([
    launchBrowser(),
    startSandbox(webConsultationSandbox, { port: 0 }),
    startSandbox(webConsultationSandbox, { port: 0, faultMode: 'inaccessible' }),
  ]);
});
after(async () => {
  await browser?.close();
  await Promise.all([good?.close(), inaccessible?.close()]);
});

const handOff = async () => new UnsecuredJWT({ identity_proofing_level: 'P9' }).setSubject('nhs-login-subject-1').setExpirationTime('5m').encode();

/** Signs in through the hand-off and answers every question, calling `at` on each page state on the way. */
async function journey(page: Page, base: string, at: (label: string) => Promise<void>): Promise<void> {
  await page.goto(`${base}/?assertedLoginIdentity=${await handOff()}`);
  assert.equal(new URL(page.url()).search, '', 'the hand-off token is dropped from the address');
  await at('start');
  await page.getByRole('button', { name: 'Start now' }).click();
  await at('question-text');
  await page.getByRole('button', { name: 'Continue' }).click();
  await at('question-text-error');
  await page.locator('textarea#answer').fill('I have felt on edge for a month.');
  await page.getByRole('button', { name: 'Continue' }).click();
  await at('question-choice');
  await page.getByRole('button', { name: 'Continue' }).click();
  await at('question-choice-error');
  for (let n = 2; n <= 8; n++) {
    await page.locator('input[type=radio]').nth(1).check();
    await page.getByRole('button', { name: 'Continue' }).click();
  }
  await at('check-answers');
  await page.getByRole('button', { name: 'Send request' }).click();
  await at('confirmation');
}

describe('web-consultation pages in a browser', () => {
  it('every page state of the good service passes axe', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const check = async (label: string) => {
      await checkAxe(page, label);
      if (['start', 'question-choice-error', 'check-answers', 'confirmation'].includes(label)) await screenshot(page, `web-consultation-${label}`);
    };
    await journey(page, good.url, check);
    assert.match(await page.locator('.app-reference').innerText(), /^TP-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    await page.goto(`${good.url}/nowhere`);
    await check('not-found');

    const freshContext = await browser.newContext({ bypassCSP: true });
    const fresh = await freshContext.newPage();
    await fresh.goto(`${good.url}/?assertedLoginIdentity=not-a-jwt`);
    await checkAxe(fresh, 'hand-off refused');
    await fresh.goto(good.url);
    await checkAxe(fresh, 'sign-in');
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    await checkAxe(fresh, 'sign-in-error');
    await screenshot(fresh, 'web-consultation-sign-in-error');
    await Promise.all([context.close(), freshContext.close()]);
  });

  it("'inaccessible' mode has serious violations: unlabelled controls, an image without alt text, poor contrast", async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const found = new Set<string>();
    await journey(page, inaccessible.url, async () => {
      for (const v of await seriousViolations(page)) found.add(v.id);
    });
    for (const id of ['label', 'image-alt', 'color-contrast']) assert.ok(found.has(id), `no ${id} violation; found ${[...found].join(', ')}`);
    await context.close();
  });
});
