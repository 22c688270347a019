// A cookie-keeping HTTP client that follows redirects one hop at a time, for driving the real sign-in flow
// across the app and the identity provider in HTTP tests (the browser tests use Chromium).
export interface Hop {
  url: string;
  status: number;
  location?: string;
  body: string;
}

export class BrowserLikeClient {
  readonly jar = new Map<string, Map<string, string>>();

  cookieFor(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name);
  }

  setCookie(url: string, name: string, value: string): void {
    const host = new URL(url).host;
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(name, value);
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Hop> {
    const host = new URL(url).host;
    const cookies = [...(this.jar.get(host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: { ...(cookies ? { cookie: cookies } : {}), ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=Thu, 01 Jan 1970/i.test(a.trim()));
      if (!this.jar.has(host)) this.jar.set(host, new Map());
      if (expired || value === '') this.jar.get(host)!.delete(name);
      else this.jar.get(host)!.set(name, value);
    }
    const location = res.headers.get('location') ?? undefined;
    return { url, status: res.status, location: location ? new URL(location, url).href : undefined, body: await res.text() };
  }

  /** Follows redirects until a page answers, or until stop(url) says to halt before requesting it. */
  async follow(url: string, stop?: (url: string) => boolean, init?: { method?: string; form?: Record<string, string> }): Promise<Hop> {
    let hop = await this.request(url, init);
    for (let i = 0; i < 15 && hop.location && hop.status >= 300 && hop.status < 400; i++) {
      if (stop?.(hop.location)) return hop;
      hop = await this.request(hop.location);
    }
    return hop;
  }
}

export function hiddenInput(html: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
}

export function formAction(html: string): string | undefined {
  return /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
}
