// Server-side rendering with the NHS design system: one Nunjucks environment per app, templates compiled once,
// nhsuk macros loaded once as globals (no per-request imports), and page chrome rendered once and reused.
import { createRequire } from 'node:module';
import path from 'node:path';
import nunjucks from 'nunjucks';

const require = createRequire(import.meta.url);
export const nhsukDist = path.join(path.dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');
export const nhsukVersion: string = require('nhsuk-frontend/package.json').version;

/** Every nhsuk component macro a view may call, by its global name. */
const COMPONENTS: Record<string, string> = {
  actionLink: 'action-link', backLink: 'back-link', breadcrumb: 'breadcrumb', button: 'button', card: 'card',
  checkboxes: 'checkboxes', dateInput: 'date-input', details: 'details', errorMessage: 'error-message',
  errorSummary: 'error-summary', fieldset: 'fieldset', footer: 'footer', header: 'header', hint: 'hint',
  input: 'input', insetText: 'inset-text', label: 'label', notificationBanner: 'notification-banner',
  pagination: 'pagination', panel: 'panel', radios: 'radios', select: 'select', skipLink: 'skip-link',
  summaryList: 'summary-list', table: 'tables', tag: 'tag', taskList: 'task-list', textarea: 'textarea',
  warningCallout: 'warning-callout', characterCount: 'character-count',
};

export interface HeaderLink {
  text: string;
  href: string;
}

export interface Chrome {
  /** Header HTML for each navigation variant, rendered once. */
  headers: Record<string, string>;
  footer: string;
}

export interface RendererOptions {
  /** Folders searched for views before nhsuk-frontend's own templates. */
  viewDirs: string[];
  serviceName: string;
  serviceHref: string;
  /** Navigation variants, e.g. signed-out and signed-in. */
  navigations: Record<string, HeaderLink[]>;
  footerLinks?: HeaderLink[];
}

export type Renderer = {
  render(view: string, context: Record<string, unknown>): string;
  env: nunjucks.Environment;
  chrome: Chrome;
};

type Macro = (...args: unknown[]) => unknown;

function exported(env: nunjucks.Environment, file: string): Promise<Record<string, Macro>> {
  const template = env.getTemplate(file, true) as unknown as { getExported(ctx: object, cb: (err: Error | null, exp: unknown) => void): void };
  return new Promise((resolve, reject) =>
    template.getExported({}, (err: Error | null, exp: unknown) => (err ? reject(err) : resolve(exp as Record<string, Macro>))),
  );
}

/** A day as the pages write it, in UK time: 27 November 2026. */
export function dateText(v: Date | string): string {
  return new Date(v).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });
}

/** A moment as the pages write it, in UK time: 27 November 2026 at 13:20. */
export function dateTimeText(v: Date | string): string {
  return new Date(v).toLocaleString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' });
}

export async function createRenderer(opts: RendererOptions): Promise<Renderer> {
  const loader = new nunjucks.FileSystemLoader([...opts.viewDirs, nhsukDist], { noCache: false, watch: false });
  const env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false, trimBlocks: true, lstripBlocks: true });
  for (const [name, folder] of Object.entries(COMPONENTS)) {
    const macros = await exported(env, `nhsuk/components/${folder}/macro.njk`);
    const fn = Object.values(macros)[0];
    if (typeof fn !== 'function') throw new Error(`nhsuk macro ${folder} not found`);
    env.addGlobal(name, fn);
  }
  const headers: Record<string, string> = {};
  const headerMacro = env.getGlobal('header') as Macro;
  for (const [variant, links] of Object.entries(opts.navigations)) {
    headers[variant] = String(
      headerMacro({
        service: { text: opts.serviceName, href: opts.serviceHref },
        account: links.length ? { items: links.map((l) => ({ text: l.text, href: l.href })) } : undefined,
      }),
    );
  }
  const footer = String(
    (env.getGlobal('footer') as Macro)({
      meta: { items: (opts.footerLinks ?? []).map((l) => ({ text: l.text, href: l.href })) },
      copyright: { text: '© Front Door (open source). Demonstration data only.' },
    }),
  );
  const chrome: Chrome = { headers, footer };
  env.addGlobal('chrome', chrome);
  env.addGlobal('assetPath', '/assets');
  env.addGlobal('nhsukVersion', nhsukVersion);
  env.addFilter('nhsNumber', (v: string) => (typeof v === 'string' && v.length === 10 ? `${v.slice(0, 3)} ${v.slice(3, 6)} ${v.slice(6)}` : v));
  env.addFilter('dateTime', dateTimeText);
  env.addFilter('date', dateText);
  // Compile every view once up front would need a file walk; instead the loader's cache keeps each after first use.
  return {
    env,
    chrome,
    render(view, context) {
      return env.render(view, context);
    },
  };
}
