// What every GP adapter needs to talk HTTP to its supplier quickly and safely: a keep-alive undici pool,
// and checks that turn any answer that is not what the dialect promises into a 'bad-response' failure.
import { Pool } from 'undici';
import { SupplierUnavailableError, type SupplierPolicy } from '../resilience.ts';
import { type GpSlot, SlotUnavailableError } from './contract.ts';

export interface SupplierAnswer { status: number; headers: Record<string, string | string[] | undefined>; text: string }

export interface CallOptions {
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** The path is already absolute on the origin (e.g. a Location header), so the base URL's path is not prefixed. */
  fromOrigin?: boolean;
}

/** One keep-alive connection pool per adapter instance (per supplier endpoint). */
export class SupplierHttp {
  private readonly pool: Pool;
  private readonly prefix: string;

  constructor(readonly system: string, baseUrl: string, private readonly extraHeaders: Record<string, string> = {}) {
    const url = new URL(baseUrl);
    this.pool = new Pool(url.origin, { connections: 32, keepAliveTimeout: 30_000 });
    this.prefix = url.pathname.replace(/\/$/, '');
  }

  async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: CallOptions = {}): Promise<SupplierAnswer> {
    let full = opts.fromOrigin ? path : this.prefix + path;
    if (opts.query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) if (v !== undefined) q.append(k, v);
      const s = q.toString();
      if (s) full += (full.includes('?') ? '&' : '?') + s;
    }
    // reset: false keeps the connection for a DELETE with a body (a cancellation reason), which undici would
    // otherwise close after one use: a new TCP connection for every cancellation.
    // Object.assign, not spreads: on Node 20 a literal with two spreads costs about a microsecond, on every call.
    const res = await this.pool.request({ method, path: full, headers: Object.assign({}, this.extraHeaders, opts.headers), body: opts.body, signal: opts.signal, reset: false });
    // Always read the body so the keep-alive connection goes back to the pool.
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export function badResponse(system: string, problem: string): SupplierUnavailableError {
  return new SupplierUnavailableError(system, 'bad-response', `${system}: ${problem}`);
}

/** For an answer the dialect's error mapping did not recognise. */
export function unexpectedAnswer(system: string, answer: SupplierAnswer): SupplierUnavailableError {
  if (answer.status >= 500) return new SupplierUnavailableError(system, 'server-error', `${system}: server error ${answer.status}`);
  return badResponse(system, `unexpected answer ${answer.status}: ${answer.text.slice(0, 120).replace(/\s+/g, ' ')}`);
}

export function parseJson(system: string, answer: SupplierAnswer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    throw badResponse(system, `answer ${answer.status} is not JSON: ${answer.text.slice(0, 60).replace(/\s+/g, ' ')}`);
  }
}

// Slot lists repeat the same few thousand start and end times on every search; parsing each again was a
// measurable share of an adapter's time.
const isoDateTimes = new Map<string, string>();

/** Field checks that name the offending field in the failure. */
export class Shape {
  constructor(private readonly system: string) {}
  private fail(where: string, what: string, v: unknown): never {
    throw badResponse(this.system, `${where} should be ${what}, got ${JSON.stringify(v)?.slice(0, 60) ?? 'nothing'}`);
  }
  /** Any other way an answer breaks the dialect. */
  wrong(problem: string): never {
    throw badResponse(this.system, problem);
  }
  obj(v: unknown, where: string): Record<string, unknown> {
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : this.fail(where, 'an object', v);
  }
  arr(v: unknown, where: string): unknown[] {
    return Array.isArray(v) ? v : this.fail(where, 'a list', v);
  }
  /** XML parsers give one element as an object and many as an array. */
  list(v: unknown): unknown[] {
    return v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v];
  }
  str(v: unknown, where: string): string {
    return typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : this.fail(where, 'a non-empty string', v);
  }
  optStr(v: unknown, where: string): string | undefined {
    return v === undefined || v === null || v === '' ? undefined : this.str(v, where);
  }
  num(v: unknown, where: string): number {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    return typeof n === 'number' && Number.isFinite(n) ? n : this.fail(where, 'a number', v);
  }
  optNum(v: unknown, where: string): number | undefined {
    return v === undefined || v === null || v === '' ? undefined : this.num(v, where);
  }
  bool(v: unknown, where: string): boolean {
    return typeof v === 'boolean' ? v : this.fail(where, 'true or false', v);
  }
  dateTime(v: unknown, where: string): string {
    const s = this.str(v, where);
    const known = isoDateTimes.get(s);
    if (known) return known;
    const t = Date.parse(s);
    if (Number.isNaN(t)) return this.fail(where, 'a date-time', v);
    const iso = new Date(t).toISOString();
    if (isoDateTimes.size >= 20_000) isoDateTimes.clear();
    isoDateTimes.set(s, iso);
    return iso;
  }
  date(v: unknown, where: string): string {
    const s = this.str(v, where);
    return /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)) ? s.slice(0, 10) : this.fail(where, 'a date', v);
  }
  optDate(v: unknown, where: string): string | undefined {
    return v === undefined || v === null || v === '' ? undefined : this.date(v, where);
  }
  oneOf<T extends string>(v: unknown, allowed: Record<string, T>, where: string): T {
    return typeof v === 'string' && Object.hasOwn(allowed, v) ? allowed[v] : this.fail(where, `one of ${Object.keys(allowed).join('/')}`, v);
  }
  /** A SNOMED CT or dm+d concept id (6–18 digits). */
  conceptId(v: unknown, where: string): string {
    const s = typeof v === 'number' ? String(v) : v;
    return typeof s === 'string' && /^\d{6,18}$/.test(s) ? s : this.fail(where, 'a SNOMED CT/dm+d concept id', v);
  }
}

/** A slot-gone failure with fresh slots from the next week, when they can be had cheaply. */
export async function slotGone(message: string, fresh: () => Promise<GpSlot[]>): Promise<SlotUnavailableError> {
  let slots: GpSlot[] = [];
  try {
    slots = (await fresh()).slice(0, 10);
  } catch {
    // The booking answer matters more than the suggestions.
  }
  return new SlotUnavailableError(message, slots);
}

export function nextWeek(now = Date.now()): { from: string; to: string } {
  return { from: new Date(now).toISOString(), to: new Date(now + 7 * 86_400_000).toISOString() };
}


/** The two ways an adapter calls through its supplier's policy. */
export interface PolicyCalls {
  read<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  write<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

/**
 * The policy's read/write with cockatiel's timeout and open-breaker errors given their proper reasons:
 * cockatiel's error classes do not set `name`, so resilience.ts reports them as 'unreachable'.
 */
export function policyCalls(policy: SupplierPolicy): PolicyCalls {
  const fix = (err: unknown): unknown => {
    if (!(err instanceof SupplierUnavailableError) || err.reason !== 'unreachable') return err;
    if (/timed out/i.test(err.message)) return new SupplierUnavailableError(err.supplier, 'timeout', `${err.supplier} did not answer in time`);
    if (/circuit breaker is open|isolated/i.test(err.message)) return new SupplierUnavailableError(err.supplier, 'circuit-open', `${err.supplier} is failing; calls are paused`);
    return err;
  };
  return {
    read: (fn) => policy.read(fn).catch((e: unknown) => { throw fix(e); }),
    write: (fn) => policy.write(fn).catch((e: unknown) => { throw fix(e); }),
  };
}
