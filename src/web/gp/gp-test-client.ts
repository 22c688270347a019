// Test support for the GP pages: a demo citizen's session with their real date of birth (so linkage matches),
// and a tiny form-filling client over `app.inject` that carries cookies and the CSRF token like a browser.
import type { RunningSystem } from '../../system.ts';
import type { IdentityLevel } from '../../identity/provider/accounts.ts';

export interface Page { status: number; body: string; location?: string }

const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Hidden fields of the page's forms (the last value of each name wins, except repeated names, which are kept). */
export function hiddenFields(html: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) (out[m[1]] ??= []).push(unescape(m[2]));
  return out;
}

/** Values of the radios or checkboxes named `name`, in page order (disabled ones left out). */
export function choices(html: string, name: string): string[] {
  return [...html.matchAll(/<input\s[^>]*>/g)]
    .map((m) => m[0])
    .filter((tag) => tag.includes(`name="${name}"`) && /type="(radio|checkbox)"/.test(tag) && !/\sdisabled/.test(tag))
    .map((tag) => unescape(/value="([^"]*)"/.exec(tag)?.[1] ?? ''));
}

/** The HTML of the form posting to `action` (a page may hold a filter form and a submit form); the page if none. */
export function formFor(html: string, action: string): string {
  const at = html.indexOf(`method="post" action="${action}"`);
  if (at < 0) return html;
  const end = html.indexOf('</form>', at);
  return html.slice(at, end < 0 ? undefined : end);
}

export class CitizenClient {
  private readonly jar = new Map<string, string>();

  constructor(private readonly system: RunningSystem, sessionId?: string) {
    if (sessionId) this.jar.set('fd_session', sessionId);
  }

  private cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(setCookie: string | string[] | undefined) {
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }

  async get(url: string): Promise<Page> {
    const r = await this.system.app.inject({ method: 'GET', url, headers: { cookie: this.cookie() } });
    this.keep(r.headers['set-cookie']);
    return { status: r.statusCode, body: r.body, location: r.headers.location as string | undefined };
  }

  /** Posts fields to url with the page's hidden fields (CSRF token, form token…) unless overridden. */
  async post(url: string, fields: Record<string, string | string[]>, from?: Page): Promise<Page> {
    const hidden = from ? hiddenFields(formFor(from.body, url)) : {};
    const body = new URLSearchParams();
    const all: Record<string, string[]> = { ...hidden };
    for (const [k, v] of Object.entries(fields)) all[k] = Array.isArray(v) ? v : [v];
    for (const [k, vs] of Object.entries(all)) for (const v of vs) body.append(k, v);
    const r = await this.system.app.inject({ method: 'POST', url, payload: body.toString(), headers: { cookie: this.cookie(), 'content-type': 'application/x-www-form-urlencoded' } });
    this.keep(r.headers['set-cookie']);
    return { status: r.statusCode, body: r.body, location: r.headers.location as string | undefined };
  }
}

/** A demo person signed in (their own NHS number, birth date and practice), optionally at another level. */
export async function demoCitizen(system: RunningSystem, nhsNumber: string, o: { level?: IdentityLevel; birthdate?: string } = {}): Promise<CitizenClient> {
  const p = system.demoPeople.find((x) => x.nhsNumber === nhsNumber);
  if (!p) throw new Error(`no demo person ${nhsNumber}`);
  const sessionId = await system.sessions.create({
    kind: 'citizen', sub: `${p.sub}-${Math.random().toString(36).slice(2)}`, givenName: p.givenName, familyName: p.familyName,
    birthdate: o.birthdate ?? p.birthdate, nhsNumber, identityLevel: o.level ?? p.identityLevel, gpOdsCode: p.gpOdsCode ?? undefined, idToken: 'test-id-token',
  });
  return new CitizenClient(system, sessionId);
}
