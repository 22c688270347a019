// An accessibility run: axe-core in headless Chromium against the supplier's pages, and a reflow check at 320 px
// (WCAG 1.4.10, which axe cannot make). Chromium makes no network
// connection of its own: every request it wants is fetched through the outbound guard (checked, redirects
// re-checked, address pinned) and handed back, and anything the guard refuses is aborted and listed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { OutboundUrlRefused } from '../../integrations/outbound-guard.ts';
import { overflowAtNarrowWidth, REFLOW_WIDTH } from './reflow.ts';
import { probe, RunCouldNotComplete, stopped, type RunContext, type RunOutcome } from './run-context.ts';

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AccessibilityViolation {
  page: string;
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: number;
}

const RULE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const HOP_HEADERS = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export async function runAccessibility(ctx: RunContext, chromiumPath: string): Promise<RunOutcome> {
  const paths = (ctx.params.paths as string[] | undefined) ?? ['/'];
  await ctx.guard.check(ctx.targetUrl);
  await probe(ctx.guard, ctx.targetUrl);
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }).catch((err: Error) => { throw new RunCouldNotComplete(`The browser for accessibility checks could not start: ${err.message.split('\n')[0]}`); });
  const refused: { url: string; reason: string }[] = [];
  const violations: AccessibilityViolation[] = [];
  const pages: { page: string; status: number; violations: number }[] = [];
  try {
    // Service workers would fetch outside the routing below, so they are blocked.
    const context = await browser.newContext({ serviceWorkers: 'block', bypassCSP: true });
    await context.route('**/*', async (route) => {
      const request = route.request();
      const url = request.url();
      if (url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      try {
        const headers = Object.fromEntries(Object.entries(await request.allHeaders()).filter(([k]) => !k.startsWith(':') && k !== 'host'));
        const res = await ctx.guard.guardedFetch(url, { method: request.method(), headers, body: request.postDataBuffer() ?? undefined, signal: AbortSignal.timeout(10_000) });
        const body = Buffer.from(await res.arrayBuffer());
        const out: Record<string, string> = {};
        res.headers.forEach((v, k) => { if (!HOP_HEADERS.has(k)) out[k] = v; });
        await route.fulfill({ status: res.status, headers: out, body });
      } catch (err) {
        if (err instanceof OutboundUrlRefused) refused.push({ url: url.slice(0, 200), reason: err.message });
        await route.abort(err instanceof OutboundUrlRefused ? 'blockedbyclient' : 'failed').catch(() => {});
      }
    });
    const page = await context.newPage();
    for (const [i, path] of paths.entries()) {
      stopped(ctx.signal);
      const url = new URL(path, ctx.targetUrl).toString();
      await ctx.progress(Math.floor((i / paths.length) * 100), `Checking page ${i + 1} of ${paths.length}: ${path}`);
      const response = await page.goto(url, { waitUntil: 'load', timeout: 15_000 }).catch((err: Error) => {
        throw new RunCouldNotComplete(`The page ${path} could not be opened: ${err.message.split('\n')[0]}`);
      });
      await page.evaluate(axeSource);
      const found = await page.evaluate(async (tags) => {
        const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; helpUrl: string; nodes: unknown[] }[] }> } }).axe;
        const r = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, nodes: v.nodes.length }));
      }, RULE_TAGS);
      const past = await overflowAtNarrowWidth(page, 50);
      if (past.length) {
        found.push({
          id: 'reflow', impact: 'serious', nodes: past.length, helpUrl: 'https://www.w3.org/WAI/WCAG22/Understanding/reflow.html',
          help: `Content must reflow at ${REFLOW_WIDTH} CSS pixels wide without scrolling sideways (WCAG 1.4.10): ${past.slice(0, 3).join(', ')}`,
        });
      }
      violations.push(...found.map((v) => ({ page: path, ...v })));
      pages.push({ page: path, status: response?.status() ?? 0, violations: found.length });
    }
  } finally {
    await browser.close().catch(() => {});
  }
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  return {
    status: serious.length === 0 ? 'passed' : 'failed',
    result: { pages, violations, serious: serious.length, refusedRequests: refused, rules: RULE_TAGS },
  };
}
