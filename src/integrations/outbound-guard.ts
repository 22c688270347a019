// The outbound URL guard: every URL a user gives that the server will call (conformance, accessibility and
// capacity runs) must name an allowed host, resolve only to allowed addresses, and keep doing so on every
// redirect hop; the connection then goes to the address that was checked, so DNS cannot switch it afterwards.
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch as undiciFetch, type RequestInit, type Response } from 'undici';

/** Refused before any connection is made; `message` is written for the person who typed the URL. */
export class OutboundUrlRefused extends Error {
  override readonly name = 'OutboundUrlRefused';
  constructor(message: string, readonly url?: string) {
    super(message);
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface CheckedUrl {
  url: URL;
  /** The address the connection must go to: checked, and pinned for the connection. */
  address: string;
  family: 4 | 6;
  /** The URL with its host replaced by the checked address (http only; https needs the name for TLS). */
  pinnedUrl: string;
}

export interface OutboundGuardOptions {
  /** Hosts, addresses and CIDR ranges (e.g. 127.0.0.0/8, ::1, supplier.test). */
  allow: string[];
  /** How DNS names are resolved; tests inject one. Every address returned must be allowed. */
  resolve?: Resolver;
  /** Redirect hops followed by `guardedFetch`, each checked again. */
  maxRedirects?: number;
}

export const DEFAULT_OUTBOUND_ALLOW_LIST = ['127.0.0.0/8', '::1'];

const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** Strips IPv6 brackets and unwraps IPv4-mapped IPv6 (::ffff:a9fe:a9fe is 169.254.169.254), so each address is judged by what it means. */
export function canonicalAddress(raw: string): { address: string; family: 4 | 6 } | undefined {
  const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  const family = isIP(host);
  if (family === 4) return { address: host, family: 4 };
  if (family !== 6) return undefined;
  const lower = host.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower.replace(/^::/, '0:0:0:0:0:'));
  if (dotted && isIP(dotted[1]) === 4) return { address: dotted[1], family: 4 };
  const hex = /^(?:0{0,4}:){0,5}ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower.replace(/^::/, '0:0:0:0:0:'));
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 4 };
  }
  return { address: host, family: 6 };
}

/** Addresses that mean "this host" whatever the allow-list says: 0.0.0.0 and :: reach local services. */
function isUnspecified(a: { address: string; family: 4 | 6 }): boolean {
  if (a.family === 4) return a.address.startsWith('0.');
  return /^[0:]+$/.test(a.address);
}

export class OutboundGuard {
  private readonly addresses = new BlockList();
  private readonly hostnames = new Set<string>();
  private readonly resolve: Resolver;
  private readonly maxRedirects: number;
  private readonly agents = new Map<string, Agent>();

  constructor(opts: OutboundGuardOptions) {
    this.resolve = opts.resolve ?? systemResolver;
    this.maxRedirects = opts.maxRedirects ?? 3;
    for (const entry of opts.allow.map((e) => e.trim()).filter(Boolean)) {
      const [base, prefix] = entry.split('/');
      const ip = canonicalAddress(base);
      if (ip) {
        const type = ip.family === 4 ? 'ipv4' : 'ipv6';
        if (prefix === undefined) this.addresses.addAddress(ip.address, type);
        else {
          const bits = Number(prefix);
          if (!Number.isInteger(bits) || bits < 0 || bits > (ip.family === 4 ? 32 : 128)) throw new Error(`OUTBOUND_ALLOW_LIST: bad range "${entry}"`);
          this.addresses.addSubnet(ip.address, bits, type);
        }
      } else if (/^[a-z0-9.-]+$/i.test(entry) && prefix === undefined) {
        this.hostnames.add(entry.toLowerCase().replace(/\.$/, ''));
      } else {
        throw new Error(`OUTBOUND_ALLOW_LIST: cannot read "${entry}" as a host, address or range`);
      }
    }
  }

  private allowedAddress(a: { address: string; family: 4 | 6 }): boolean {
    return !isUnspecified(a) && this.addresses.check(a.address, a.family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Checks one URL (no redirects); throws OutboundUrlRefused saying why. */
  async check(input: string | URL): Promise<CheckedUrl> {
    const text = String(input).trim();
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new OutboundUrlRefused('Enter a full web address starting with http:// or https://', text);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new OutboundUrlRefused(`Web addresses must start with http:// or https:// (not ${url.protocol})`, text);
    }
    if (url.username || url.password) {
      throw new OutboundUrlRefused('Web addresses must not contain a user name or password', text);
    }
    // The URL parser has already turned decimal, hex and octal IPv4 spellings into dotted form.
    const literal = canonicalAddress(url.hostname);
    let addresses: ResolvedAddress[];
    const name = url.hostname.toLowerCase().replace(/\.$/, '');
    if (literal) {
      if (isUnspecified(literal)) throw new OutboundUrlRefused(`${url.hostname} is not a real destination and cannot be called`, text);
      if (!this.allowedAddress(literal)) throw new OutboundUrlRefused(`${url.host} is not on the list of hosts Front Door may call (it means ${literal.address})`, text);
      addresses = [literal];
    } else {
      try {
        addresses = await this.resolve(name);
      } catch {
        throw new OutboundUrlRefused(`${url.hostname} could not be found (no address for that name)`, text);
      }
      if (addresses.length === 0) throw new OutboundUrlRefused(`${url.hostname} could not be found (no address for that name)`, text);
      const named = this.hostnames.has(name);
      for (const raw of addresses) {
        const a = canonicalAddress(raw.address);
        if (!a || isUnspecified(a)) throw new OutboundUrlRefused(`${url.hostname} resolves to ${raw.address}, which cannot be called`, text);
        if (!named && !this.allowedAddress(a)) {
          throw new OutboundUrlRefused(`${url.hostname} resolves to ${raw.address}, which is not on the list of hosts Front Door may call`, text);
        }
      }
    }
    const first = canonicalAddress(addresses[0].address)!;
    const pinned = new URL(url);
    if (url.protocol === 'http:' && !literal) pinned.hostname = first.family === 6 ? `[${first.address}]` : first.address;
    return { url, address: first.address, family: first.family, pinnedUrl: pinned.toString() };
  }

  /**
   * fetch that checks the URL and every redirect hop (at most `maxRedirects`), and connects only to the
   * checked address (the agent's lookup answers with it), so a DNS answer that changes cannot move the call.
   */
  async guardedFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    let url = String(input);
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    for (let hop = 0; ; hop++) {
      const checked = await this.check(url);
      const res = await undiciFetch(checked.url, { ...init, method, body, redirect: 'manual', dispatcher: this.agentFor(checked) });
      const location = res.headers.get('location');
      if (res.status < 300 || res.status > 399 || res.status === 304 || !location) return res;
      await res.body?.cancel().catch(() => {});
      if (hop >= this.maxRedirects) throw new OutboundUrlRefused(`${checked.url.host} redirected more than ${this.maxRedirects} times`, url);
      url = new URL(location, checked.url).toString();
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
    }
  }

  private agentFor(checked: CheckedUrl): Agent {
    const key = `${checked.url.origin}|${checked.address}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const { address, family } = checked;
      agent = new Agent({
        keepAliveTimeout: 5_000,
        connect: {
          lookup: ((_host: string, options: { all?: boolean }, cb: (err: Error | null, a: unknown, f?: number) => void) => {
            if (options?.all) cb(null, [{ address, family }]);
            else cb(null, address, family);
          }) as never,
        },
      });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Closes the pinned connection pools. */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.close().catch(() => {})));
  }
}
