// One keep-alive HTTP client per agency origin (undici Pool), shared by the national adapters: JSON in,
// JSON out, and a non-JSON answer turned into SupplierUnavailableError 'bad-response'.
import { Pool } from 'undici';
import { randomUUID } from 'node:crypto';
import { SupplierUnavailableError, type SupplierPolicy } from '../resilience.ts';

export interface AgencyResponse {
  status: number;
  headers: Record<string, string | undefined>;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

const pools = new Map<string, Pool>();

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    // Generous connection count and long keep-alive: the platform must add little over calling the agency direct.
    pool = new Pool(origin, { connections: 128, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, headersTimeout: 0, bodyTimeout: 0 });
    pools.set(origin, pool);
  }
  return pool;
}

/** Closes every pooled agency connection (tests and shutdown). */
export async function closeAgencyConnections(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close().catch(() => undefined)));
}

/** A request id for a write: created once per intended change and reused on every retry of it. */
export function newRequestId(): string {
  return randomUUID();
}

export class AgencyHttp {
  private readonly origin: string;
  private readonly prefix: string;

  constructor(readonly agency: string, baseUrl: string, private readonly extraHeaders: Record<string, string> = {}) {
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
  }

  async request(method: 'GET' | 'PUT' | 'POST' | 'PATCH', path: string, opts: { signal: AbortSignal; headers?: Record<string, string>; body?: unknown; contentType?: string }): Promise<AgencyResponse> {
    const headers: Record<string, string> = Object.assign({ accept: 'application/json' }, this.extraHeaders, opts.headers);
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    let res;
    try {
      res = await poolFor(this.origin).request({ method, path: this.prefix + path, headers, body, signal: opts.signal });
    } catch (err) {
      if (opts.signal.aborted) throw err;
      throw new SupplierUnavailableError(this.agency, 'unreachable', `${this.agency} could not be reached: ${(err as Error).message}`);
    }
    const text = await res.body.text();
    const flat: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    let parsed: unknown;
    if (text.length) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new SupplierUnavailableError(this.agency, 'bad-response', `${this.agency} answered ${res.statusCode} with a body that is not JSON`);
      }
    }
    if (res.statusCode >= 500) {
      const retry = flat['retry-after'];
      throw new SupplierUnavailableError(this.agency, 'server-error', `${this.agency} answered ${res.statusCode}${retry ? ` (retry after ${retry} s)` : ''}`);
    }
    return { status: res.statusCode, headers: flat, body: parsed };
  }

  badResponse(what: string): SupplierUnavailableError {
    return new SupplierUnavailableError(this.agency, 'bad-response', `${this.agency}: ${what}`);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The supplier policy's read/write, with cockatiel's timeout and open-breaker errors given their proper
 * reasons: cockatiel's error classes do not set `name`, so resilience.ts reports them as 'unreachable'.
 */
export function agencyCalls(policy: SupplierPolicy) {
  const fix = (err: unknown): unknown => {
    if (!(err instanceof SupplierUnavailableError) || err.reason !== 'unreachable') return err;
    if (/timed out/i.test(err.message)) return new SupplierUnavailableError(err.supplier, 'timeout', `${err.supplier} did not answer in time`);
    if (/circuit breaker is open|isolated/i.test(err.message)) return new SupplierUnavailableError(err.supplier, 'circuit-open', `${err.supplier} is failing; calls are paused`);
    return err;
  };
  return {
    read: <T>(fn: (signal: AbortSignal) => Promise<T>) => policy.read(fn).catch((e: unknown) => { throw fix(e); }),
    write: <T>(fn: (signal: AbortSignal) => Promise<T>) => policy.write(fn).catch((e: unknown) => { throw fix(e); }),
  };
}
