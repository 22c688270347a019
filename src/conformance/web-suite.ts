// The web integration conformance suite: what the app expects of a supplier's web service it opens for a
// signed-in user (online consultations on the DPS, PHRs), checked over HTTP like a browser without JavaScript.
// The full accessibility audit (axe in Chromium) is the pipeline's accessibility gate; here only the basics.
import { randomBytes, randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import type { ConformanceCheck, ConformanceSuite, ConformanceTarget } from './kit.ts';

/** The query parameter the app adds when it opens a web integration for a signed-in user. */
export const HAND_OFF_PARAM = 'assertedLoginIdentity';
/** A page must start answering within this; the app shows the service in place of its own pages. */
export const PAGE_BOUND_MS = 2000;
/** Hosts a web integration may link, load from or post to besides itself (NHS.UK pages such as 111 online). */
const ALLOWED_SUFFIXES = ['nhs.uk'];
const MAX_REDIRECTS = 5;
const MAX_JOURNEY_PAGES = 20;

class CheckFailed extends Error {}
function ensure(ok: unknown, reason: string): asserts ok {
  if (!ok) throw new CheckFailed(reason);
}

// ---- a small HTML reader: tags and attributes are all the checks need, so no DOM is built ----

type Attrs = Record<string, string>;
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e]!);
function attrsOf(raw: string): Attrs {
  const out: Attrs = {};
  for (const m of raw.matchAll(/([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)) out[m[1]!.toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  return out;
}
function tags(html: string, name: string): Attrs[] {
  return [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'gi'))].map((m) => attrsOf(m[1]!));
}
const textOf = (html: string) => decode(html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
const titleOf = (html: string) => textOf(/<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? '');
const headingOf = (html: string) => textOf(/<h1\b[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1] ?? '');
const langOf = (html: string) => tags(html, 'html')[0]?.lang ?? '';
const hasPassword = (html: string) => tags(html, 'input').some((a) => a.type?.toLowerCase() === 'password');
const errorSummaryOf = (html: string) => {
  const m = /<div[^>]*(?:error-summary|role="alert")[^>]*>([\s\S]*?)<\/div>\s*<\/div>/i.exec(html);
  return m ? textOf(m[1]!) : undefined;
};

interface Form { action: string; method: string; inner: string }
function formsOf(html: string): Form[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((m) => {
    const a = attrsOf(m[1]!);
    return { action: a.action ?? '', method: (a.method ?? 'get').toLowerCase(), inner: m[2]! };
  });
}

/** Answers a form as a person would with plausible values: the first option of each choice, text where text is asked. */
function fillForm(form: Form, blank = false): URLSearchParams {
  const body = new URLSearchParams();
  const radios = new Map<string, string>();
  for (const a of tags(form.inner, 'input')) {
    const type = (a.type ?? 'text').toLowerCase();
    if (!a.name || ['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
    if (type === 'hidden') body.append(a.name, a.value ?? '');
    else if (blank) continue;
    else if (type === 'radio') { if (!radios.has(a.name) || 'checked' in a) radios.set(a.name, a.value ?? 'on'); }
    else if (type === 'checkbox') { if ('checked' in a || 'required' in a) body.append(a.name, a.value ?? 'on'); }
    else body.append(a.name, a.value || ({ email: 'conformance@example.com', date: '2000-01-01', number: '1', tel: '07700900000' } as Record<string, string>)[type] || 'Conformance test answer');
  }
  for (const [name, value] of radios) body.append(name, value);
  if (!blank) {
    for (const m of form.inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
      const a = attrsOf(m[1]!);
      if (a.name) body.append(a.name, decode(m[2]!).trim() || 'I have felt anxious most days for the last two weeks.');
    }
    for (const m of form.inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi)) {
      const a = attrsOf(m[1]!);
      const option = tags(m[2]!, 'option').find((o) => o.value);
      if (a.name && option) body.append(a.name, option.value!);
    }
  }
  return body;
}

// ---- a cookie-keeping HTTP client that follows redirects only within the service ----

interface Page { url: URL; status: number; headers: Record<string, string | string[] | undefined>; contentType: string; body: string; title: string }

class Visitor {
  private readonly cookies = new Map<string, string>();
  constructor(readonly origin: string) {}

  async get(url: URL): Promise<Page> { return this.send('GET', url); }
  async post(url: URL, form: URLSearchParams): Promise<Page> { return this.send('POST', url, form); }

  private async send(method: 'GET' | 'POST', start: URL, form?: URLSearchParams): Promise<Page> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const res = await this.once(method === 'POST' && hop === 0 ? 'POST' : 'GET', url, hop === 0 ? form : undefined);
      const location = res.headers.location;
      if (res.status < 300 || res.status >= 400 || typeof location !== 'string') return res;
      const next = new URL(location, url);
      // Never follow to another host: the pipeline's outbound guard approved this origin only.
      if (next.origin !== this.origin) throw new CheckFailed(`${method} ${pathOf(url)} sent the user on to ${next.origin}${next.pathname}`);
      ensure(hop < MAX_REDIRECTS, `${method} ${pathOf(start)} redirected more than ${MAX_REDIRECTS} times`);
      url = next;
    }
  }

  private async once(method: 'GET' | 'POST', url: URL, form?: URLSearchParams): Promise<Page> {
    const headers: Record<string, string> = { accept: 'text/html', 'user-agent': 'front-door-conformance' };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, { method, headers, body: form?.toString(), ...bounded() });
    } catch (err) {
      throw new CheckFailed(`${method} ${pathOf(url)}: ${networkReason(err)}`);
    }
    const body = await res.body.text().catch((err: unknown) => { throw new CheckFailed(`${method} ${pathOf(url)}: ${networkReason(err)}`); });
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return { url, status: res.statusCode, headers: res.headers, contentType: String(res.headers['content-type'] ?? ''), body, title: titleOf(body) };
  }
}

/**
 * The bound on one answer, headers and body together. undici's own header and body timeouts tick coarsely for
 * bounds over a second (an answer 2.5 s late could pass a 2 s bound), so a timer signal holds the exact bound.
 */
function bounded() {
  return { signal: AbortSignal.timeout(PAGE_BOUND_MS), headersTimeout: PAGE_BOUND_MS, bodyTimeout: PAGE_BOUND_MS };
}

function networkReason(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string };
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.name === 'TimeoutError') return `no answer within ${PAGE_BOUND_MS} ms`;
  if (e.code === 'ECONNREFUSED') return 'connection refused (is the service running at that address?)';
  if (e.code === 'UND_ERR_SOCKET' || e.code === 'ECONNRESET') return 'the connection closed without an answer';
  return `${e.name ?? 'error'}: ${e.message ?? String(err)}`;
}
const pathOf = (u: URL) => u.pathname + (u.search.includes(HAND_OFF_PARAM) ? `?${HAND_OFF_PARAM}=…` : u.search);
const describePage = (p: Page) => `'${p.title || headingOf(p.body) || pathOf(p.url)}'`;

function ensureHtml(p: Page, what: string): void {
  ensure(p.status === 200, `${what} answered ${p.status}${p.status >= 400 ? ` (${describePage(p)})` : ''}, not 200`);
  ensure(/^text\/html\b/i.test(p.contentType), `${what} answered ${p.contentType || 'no content type'}, not text/html`);
  ensure(/<html\b/i.test(p.body), `${what} is not an HTML document`);
}

// ---- the journey a signed-in user takes, shared by the checks that look at every page ----

/**
 * A hand-off token for the service. From the pipeline it is the platform's own, signed with its hand-off key.
 * From the command line (no platform key) it is a test identity signed with a throwaway key, which only a
 * service in a sandpit, checking the token's shape, accepts.
 */
async function handOffToken(target: ConformanceTarget): Promise<string> {
  if (target.handOff) return target.handOff(entryOf(target).origin);
  return forgedHandOff(entryOf(target).origin);
}

/** The throwaway key: made once per process, since every sign-in of a command-line run signs with it. */
let throwawayKey: Promise<CryptoKey> | undefined;

/** A token in the platform's shape, for the right audience, but signed with a key the platform never published. */
async function forgedHandOff(audience: string): Promise<string> {
  throwawayKey ??= generateKeyPair('RS256').then((k) => k.privateKey);
  return new SignJWT({ identity_proofing_level: 'P9' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'conformance-test-key' })
    .setSubject(randomUUID())
    .setIssuer('front-door-conformance')
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('1m')
    .setJti(randomUUID())
    .sign(await throwawayKey);
}

const entryOf = (target: ConformanceTarget) => new URL(target.url);
/** Paths on the service resolve against the entry URL's folder, so a service hosted under a path works too. */
const under = (target: ConformanceTarget, rel: string) => new URL(rel, entryOf(target).href.replace(/[^/]*$/, ''));

const withHandOff = (target: ConformanceTarget, token: string) => {
  const url = new URL(entryOf(target));
  url.searchParams.set(HAND_OFF_PARAM, token);
  return url;
};

async function signIn(target: ConformanceTarget, token?: string): Promise<{ visitor: Visitor; landing: Page }> {
  const entry = entryOf(target);
  const visitor = new Visitor(entry.origin);
  const landing = await visitor.get(withHandOff(target, token ?? await handOffToken(target)));
  ensureHtml(landing, `the entry page with ${HAND_OFF_PARAM}`);
  ensure(!hasPassword(landing.body), `after the ${HAND_OFF_PARAM} hand-off the service asked the user to sign in again (${describePage(landing)} has a password field)`);
  ensure(!/\b(sign|log) ?in\b/i.test(headingOf(landing.body)), `after the ${HAND_OFF_PARAM} hand-off the service showed ${describePage(landing)}, a sign-in page`);
  return { visitor, landing };
}

/** A fresh visitor arriving with the token is not signed in: no landing page, and no server error either. */
async function ensureRefused(target: ConformanceTarget, landing: Page, token: string, what: string): Promise<void> {
  const p = await new Visitor(entryOf(target).origin).get(withHandOff(target, token));
  ensure(p.status < 500, `${what} made the service fail with ${p.status}`);
  const accepted = p.status < 300 && !hasPassword(p.body) && p.title === landing.title;
  ensure(!accepted, `${what} signed the user in: it landed on ${describePage(p)}`);
}

/** Where to go next from a page with nothing to fill in: its start or continue button. */
function nextLink(p: Page): URL | undefined {
  const links = [...p.body.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)].map((m) => ({ a: attrsOf(m[1]!), text: textOf(m[2]!) }));
  const pick = links.find((l) => l.a.role === 'button' || /\bbutton\b/.test(l.a.class ?? '')) ?? links.find((l) => /^(start|continue)\b/i.test(l.text));
  return pick?.a.href ? new URL(pick.a.href, p.url) : undefined;
}

const REFERENCE = /[Rr]eference(?: number)?(?: is)?:?\s+([A-Z0-9]+(?:-[A-Z0-9]+)+|[A-Z0-9]*\d[A-Z0-9]*)\b/;

interface Journey { pages: Page[]; reference?: string; failure?: string }

/** Starts from the signed-in landing page and answers every form until a reference is shown. */
async function walkJourney(target: ConformanceTarget): Promise<Journey> {
  const { visitor, landing } = await signIn(target);
  const pages: Page[] = [landing];
  let page = landing;
  for (let i = 0; i < MAX_JOURNEY_PAGES; i++) {
    const reference = REFERENCE.exec(textOf(page.body))?.[1];
    if (reference && reference.length >= 6) return { pages, reference };
    const form = formsOf(page.body).find((f) => f.method === 'post');
    if (form) {
      if (hasPassword(form.inner)) return { pages, failure: `the journey stopped at ${describePage(page)}: it asks for a password, a second sign-in` };
      const action = new URL(form.action || page.url.href, page.url);
      page = await visitor.post(action, fillForm(form));
      const what = `sending ${describePage(pages.at(-1)!)} (POST ${pathOf(action)})`;
      if (page.status !== 200) {
        const summary = errorSummaryOf(page.body);
        return { pages, failure: `${what} answered ${page.status}${summary ? `: ${summary}` : ''}` };
      }
    } else {
      const next = nextLink(page);
      if (!next) return { pages, failure: `the journey stopped at ${describePage(page)}: no form to answer and no start or continue button` };
      page = await visitor.get(next);
      if (page.status !== 200) return { pages, failure: `following the button on ${describePage(pages.at(-1)!)} to ${pathOf(next)} answered ${page.status}` };
    }
    if (!/^text\/html\b/i.test(page.contentType)) return { pages, failure: `${pathOf(page.url)} answered ${page.contentType || 'no content type'}, not text/html` };
    pages.push(page);
  }
  return { pages, failure: `no reference after ${MAX_JOURNEY_PAGES} pages; the last was ${describePage(page)}` };
}

async function completedJourney(target: ConformanceTarget): Promise<Journey & { reference: string }> {
  const j = await walkJourney(target);
  ensure(!j.failure && j.reference, j.failure ?? 'no reference shown');
  return j as Journey & { reference: string };
}

// ---- the checks ----

function hostAllowed(url: URL, origin: string): boolean {
  if (url.origin === origin) return true;
  return url.protocol === 'https:' && ALLOWED_SUFFIXES.some((s) => url.hostname === s || url.hostname.endsWith(`.${s}`));
}

function offendingUrls(p: Page, origin: string): string[] {
  const refs: { kind: string; value: string }[] = [
    ...tags(p.body, 'a').map((a) => ({ kind: 'link', value: a.href ?? '' })),
    ...tags(p.body, 'link').map((a) => ({ kind: 'stylesheet', value: a.href ?? '' })),
    ...['img', 'script', 'iframe', 'source', 'audio', 'video'].flatMap((t) => tags(p.body, t).map((a) => ({ kind: t === 'img' ? 'image' : t, value: a.src ?? '' }))),
    ...tags(p.body, 'form').map((a) => ({ kind: 'form action', value: a.action ?? '' })),
    ...[...tags(p.body, 'button'), ...tags(p.body, 'input')].map((a) => ({ kind: 'form action', value: a.formaction ?? '' })),
  ];
  const secure = new URL(origin).protocol === 'https:';
  const out: string[] = [];
  for (const { kind, value } of refs) {
    if (!value || value.startsWith('#') || /^(mailto|tel|sms):/i.test(value)) continue;
    let url: URL;
    try { url = new URL(value, p.url); } catch { out.push(`${kind} "${value}" is not a valid address`); continue; }
    if (secure && url.protocol === 'http:') out.push(`${kind} ${url.href} is plain HTTP on an HTTPS page (mixed content)`);
    else if (!hostAllowed(url, origin)) out.push(`${kind} ${url.href} is ${url.protocol === 'http:' && url.origin !== origin ? 'plain HTTP to ' : 'on '}a host that is not allowed`);
  }
  return out.map((o) => `${pathOf(p.url)}: ${o}`);
}

function accessibilityProblems(p: Page): string[] {
  const out: string[] = [];
  const labelled = new Set(tags(p.body, 'label').map((a) => a.for).filter(Boolean));
  const controls = [
    ...tags(p.body, 'input').filter((a) => !['hidden', 'submit', 'button', 'image', 'reset'].includes((a.type ?? 'text').toLowerCase())),
    ...tags(p.body, 'textarea'), ...tags(p.body, 'select'),
  ];
  for (const c of controls) {
    if (c.id && labelled.has(c.id)) continue;
    if (c['aria-label'] || c['aria-labelledby'] || c.title) continue;
    out.push(`a form control${c.name ? ` "${c.name}"` : ''}${c.id ? ` (#${c.id})` : ''} has no label`);
  }
  for (const img of tags(p.body, 'img')) if (!('alt' in img) && img.role !== 'presentation') out.push(`an image ${img.src ?? ''} has no alt text`);
  if (!langOf(p.body)) out.push('the page has no lang');
  if (!p.title) out.push('the page has no title');
  return [...new Set(out)];
}

function checks(target: ConformanceTarget): ConformanceCheck[] {
  return [
    {
      name: 'entry page answers 200 text/html with a language',
      async run() {
        const entry = entryOf(target);
        const p = await new Visitor(entry.origin).get(entry);
        ensureHtml(p, 'the entry page');
        ensure(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(langOf(p.body)), `the entry page's <html> has ${langOf(p.body) ? `lang="${langOf(p.body)}", not a language tag` : 'no lang attribute'}`);
        ensure(p.title, 'the entry page has no <title>');
      },
    },
    {
      name: `single sign-on: ${HAND_OFF_PARAM} lands on the service without a second login`,
      async run() {
        await signIn(target);
      },
    },
    {
      name: `single sign-on: a malformed ${HAND_OFF_PARAM} is not accepted`,
      async run() {
        const { landing } = await signIn(target);
        await ensureRefused(target, landing, 'not-a-jwt', 'a malformed token ("not-a-jwt")');
      },
    },
    // These need tokens the service should accept, signed by the platform: the pipeline gives its signer.
    ...(target.handOff ? [{
      name: `single sign-on: an ${HAND_OFF_PARAM} token not signed by the NHS App is refused`,
      async run() {
        const { landing } = await signIn(target);
        await ensureRefused(target, landing, await forgedHandOff(entryOf(target).origin), 'a token signed with a key the NHS App never published');
      },
    }, {
      name: `single sign-on: an ${HAND_OFF_PARAM} token used a second time is refused`,
      async run() {
        const token = await handOffToken(target);
        const { landing } = await signIn(target, token);
        await ensureRefused(target, landing, token, 'the same token a second time');
      },
    }] : []),
    {
      name: 'security headers: framing restricted and nosniff on every page',
      async run() {
        const j = await walkJourney(target);
        const missing: string[] = [];
        for (const p of j.pages) {
          const csp = String(p.headers['content-security-policy'] ?? '');
          const xfo = String(p.headers['x-frame-options'] ?? '').toUpperCase();
          if (!/(^|;)\s*frame-ancestors\s/i.test(csp) && !['DENY', 'SAMEORIGIN'].includes(xfo)) missing.push(`${pathOf(p.url)}: no Content-Security-Policy frame-ancestors and no X-Frame-Options`);
          if (String(p.headers['x-content-type-options'] ?? '').toLowerCase() !== 'nosniff') missing.push(`${pathOf(p.url)}: no X-Content-Type-Options: nosniff`);
        }
        ensure(missing.length === 0, missing.slice(0, 4).join('; ') + (missing.length > 4 ? ` (and ${missing.length - 4} more)` : ''));
        ensure(!j.failure, `headers fine on the pages reached, but ${j.failure}`);
      },
    },
    {
      name: 'links, images and forms use HTTPS and allowed hosts only',
      async run() {
        const j = await walkJourney(target);
        const origin = entryOf(target).origin;
        const bad = [...new Set(j.pages.flatMap((p) => offendingUrls(p, origin)))];
        ensure(bad.length === 0, bad.slice(0, 3).join('; ') + (bad.length > 3 ? ` (and ${bad.length - 3} more); allowed: this service and https://*.${ALLOWED_SUFFIXES.join(', *.')}` : ''));
        ensure(!j.failure, `addresses fine on the pages reached, but ${j.failure}`);
      },
    },
    {
      name: 'accessibility basics: labelled controls, image alt text, lang and title',
      async run() {
        const j = await walkJourney(target);
        // The same fault on every page (a logo in the header) is named once, with how many pages have it.
        const byProblem = new Map<string, string[]>();
        for (const p of j.pages) for (const problem of accessibilityProblems(p)) byProblem.set(problem, [...(byProblem.get(problem) ?? []), describePage(p)]);
        const problems = [...byProblem].map(([problem, on]) => `${problem} (${on.length === 1 ? `on ${on[0]}` : `on ${on.length} pages`})`);
        ensure(problems.length === 0, problems.slice(0, 3).join('; ') + (problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''));
        ensure(!j.failure, `basics fine on the pages reached, but ${j.failure}`);
      },
    },
    {
      name: 'an unknown page is a proper 404 page',
      async run() {
        const { visitor } = await signIn(target);
        const url = under(target, `conformance-missing-${randomBytes(6).toString('hex')}`);
        const p = await visitor.get(url);
        ensure(p.status === 404, `${url.pathname} answered ${p.status}${p.status === 200 ? ' (a "soft 404": the app and monitoring cannot tell the page is missing)' : ''}, not 404`);
        ensure(/^text\/html\b/i.test(p.contentType), `the 404 answer is ${p.contentType || 'without a content type'}, not an HTML page`);
        ensure(langOf(p.body) && p.title, 'the 404 page has no lang or no title');
        ensure(!/\bat [\w.<>]+ \(?[^)\s]+\.(?:js|ts|mjs):\d+/.test(p.body), 'the 404 page shows a stack trace');
      },
    },
    {
      name: 'health endpoint answers',
      async run() {
        const url = under(target, 'health');
        let res: Awaited<ReturnType<typeof request>>;
        try {
          res = await request(url, { headers: { accept: 'application/json' }, ...bounded() });
        } catch (err) {
          throw new CheckFailed(`GET ${url.pathname}: ${networkReason(err)}`);
        }
        const text = await res.body.text().catch((err: unknown) => { throw new CheckFailed(`GET ${url.pathname}: ${networkReason(err)}`); });
        ensure(res.statusCode === 200, `GET ${url.pathname} answered ${res.statusCode}, not 200`);
        let body: { status?: unknown };
        try { body = JSON.parse(text) as { status?: unknown }; } catch { throw new CheckFailed(`GET ${url.pathname} answered a body that is not JSON`); }
        ensure(['ok', 'pass', 'up'].includes(String(body?.status).toLowerCase()), `GET ${url.pathname} says status ${JSON.stringify(body?.status)}, not "ok"`);
      },
    },
    {
      name: 'journey: start, answer, check answers and confirm gives a reference',
      async run() {
        const j = await completedJourney(target);
        const beforeEnd = j.pages.slice(0, -1);
        ensure(beforeEnd.some((p) => formsOf(p.body).some((f) => f.method === 'post')), 'a reference was shown without answering any question');
        ensure(beforeEnd.some((p) => /check/i.test(p.title + ' ' + headingOf(p.body))), `no "check your answers" page before the confirmation (pages: ${j.pages.map(describePage).join(' → ')})`);
      },
    },
    {
      name: 'validation: an empty answer is shown as an error on the same question',
      async run() {
        const { visitor, landing } = await signIn(target);
        let page = landing;
        for (let i = 0; i < 3 && !formsOf(page.body).some((f) => f.method === 'post'); i++) {
          const next = nextLink(page);
          ensure(next, `no question reached from ${describePage(page)}: no start or continue button`);
          page = await visitor.get(next);
          ensure(page.status === 200, `following the start button answered ${page.status}`);
        }
        const form = formsOf(page.body).find((f) => f.method === 'post');
        ensure(form, `no question form reached (last page ${describePage(page)})`);
        const answered = await visitor.post(new URL(form.action || page.url.href, page.url), fillForm(form, true));
        ensure(answered.status < 500, `sending ${describePage(page)} with no answer made the service fail with ${answered.status}`);
        ensure(answered.url.pathname === new URL(form.action || page.url.href, page.url).pathname || headingOf(answered.body) === headingOf(page.body),
          `sending ${describePage(page)} with no answer moved on to ${describePage(answered)}`);
        ensure(errorSummaryOf(answered.body) || /there is a problem/i.test(textOf(answered.body)), `sending ${describePage(page)} with no answer showed no error summary`);
      },
    },
  ];
}

export const webSuite: ConformanceSuite = {
  type: 'web',
  // 'any': the checks use only HTTP and HTML, so they apply to any supplier's web integration.
  systems: ['web-consultation', 'any'],
  checks,
};
