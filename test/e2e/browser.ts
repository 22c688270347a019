// Browser test support: Debian's Chromium driven by playwright-core, and axe-core run on every page state.
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { RunningSystem } from '../../src/system.ts';
import { overflowAtNarrowWidth, REFLOW_WIDTH } from '../../src/pipeline/runs/reflow.ts';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe on the page as it is now; returns serious and critical violations (WCAG 2.2 AA rules). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
  });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(vs: AxeViolation[]): string {
  return vs.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
}

/**
 * Fails the test, naming each rule and element, when axe finds a serious or critical violation, or when the page
 * does not reflow at 320 CSS pixels wide (WCAG 1.4.10, which axe cannot check).
 */
export async function checkAxe(page: Page, label: string): Promise<void> {
  const violations = await seriousViolations(page);
  assert.equal(violations.length, 0, `${label}: ${describeViolations(violations)}`);
  await checkReflow(page, label);
}

/** At 320 CSS pixels wide nothing makes the page scroll sideways. */
export async function checkReflow(page: Page, label: string): Promise<void> {
  assert.deepEqual(await overflowAtNarrowWidth(page), [], `${label}: scrolls sideways at ${REFLOW_WIDTH} px wide`);
}

/** Saves a screenshot under test-results/ for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = path.resolve('test-results');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** A fresh browser context signed in to the portal as one demo staff member, through the embedded provider. */
export async function staffBrowser(browser: Browser, system: RunningSystem, sub: string): Promise<{ context: BrowserContext; page: Page }> {
  const member = system.demoStaff.find((s) => s.sub === sub);
  if (!member) throw new Error(`no demo staff member ${sub}`);
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${system.url}/portal`);
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/interaction\//);
  await page.getByLabel('Email address').fill(member.email);
  await page.getByLabel('Password', { exact: true }).fill(member.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${system.url}/portal`);
  await page.getByRole('heading', { name: `Hello ${member.givenName}` }).waitFor();
  return { context, page };
}

/** Signs a demo citizen in on this page through the embedded provider's login page, landing on the hub. */
export async function citizenSignIn(page: Page, system: RunningSystem, sub: string): Promise<void> {
  const person = system.demoPeople.find((p) => p.sub === sub);
  if (!person) throw new Error(`no demo person ${sub}`);
  await page.goto(`${system.url}/auth/sign-in`);
  await page.getByLabel('Email address').fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${system.url}/`);
}

/** On a proposal's review page, the national team scores every assessed criterion 3 and approves, with a rationale. */
export async function assessAndApprove(page: Page, rationale: string): Promise<void> {
  for (const criterion of ['user-need', 'strategic-priority', 'added-value']) {
    await page.selectOption('#criterion', criterion);
    await page.fill('#points', '3');
    await page.getByRole('button', { name: 'Save assessment' }).click();
    await page.getByText('Assessment saved').waitFor();
  }
  await page.getByLabel('Approve').check();
  await page.fill('#rationale', rationale);
  await page.getByRole('button', { name: 'Record decision' }).click();
  await page.getByText('Decision recorded').waitFor();
}
