// Per-supplier resilience (cockatiel): a timeout on every call, a circuit breaker per supplier, retries for reads only.
// Also keeps live figures (success rate, latency percentiles, breaker state) for monitoring.
import {
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  isTaskCancelledError,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';
import { setMaxListeners } from 'node:events';

export interface SupplierPolicyOptions {
  timeoutMs?: number;
  /** Consecutive failures that open the breaker. */
  breakAfter?: number;
  halfOpenAfterMs?: number;
  readRetries?: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface SupplierFigures {
  supplier: string;
  /** Since the process started. */
  calls: number;
  failures: number;
  /** Over the rolling window: the last LATENCY_WINDOW calls. */
  windowCalls: number;
  windowFailures: number;
  successRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  breaker: BreakerState;
}

/** A supplier's answer could not be used; the adapter says why in words a page can show. */
export class SupplierUnavailableError extends Error {
  constructor(readonly supplier: string, readonly reason: 'timeout' | 'circuit-open' | 'bad-response' | 'unreachable' | 'server-error', message?: string) {
    super(message ?? `${supplier}: ${reason}`);
    this.name = 'SupplierUnavailableError';
  }
}

/**
 * A supplier's definite business answer (slot gone, not on repeat, version conflict…). It is not a
 * fault: it neither trips the breaker nor is retried. Adapters throw subclasses with a `code`.
 */
export class SupplierDomainError extends Error {
  readonly domain = true;
  constructor(readonly code: string, message: string, readonly details?: unknown) {
    super(message);
    this.name = 'SupplierDomainError';
  }
}

const isFault = handleWhen((err) => !(err instanceof SupplierDomainError));

const LATENCY_WINDOW = 1000;

/**
 * The caller's side of every call: never aborted (a call ends by its own timeout). cockatiel hangs each running
 * call's abort listener on it, so it takes any number: one shared signal, not a new controller per call, which
 * cost as much again as the timeout's own.
 */
const CALLER_SIGNAL = new AbortController().signal;
setMaxListeners(0, CALLER_SIGNAL);

export class SupplierPolicy {
  private readonly breaker;
  private readonly readPolicy: IPolicy;
  private readonly writePolicy: IPolicy;
  private readonly latencies: number[] = [];
  /** Outcome of each call in the same rolling window as `latencies` (true: a fault). */
  private readonly faults: boolean[] = [];
  private calls = 0;
  private failures = 0;

  constructor(readonly supplier: string, opts: SupplierPolicyOptions = {}) {
    // Aggressive: at the deadline the call's AbortSignal is cancelled so the socket is released, not left hanging.
    // Not on return, though: aborting a finished call costs an AbortError per call and can tear down a keep-alive
    // socket whose request undici is still completing.
    const t = timeout(opts.timeoutMs ?? 3000, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    this.breaker = circuitBreaker(isFault, {
      halfOpenAfter: opts.halfOpenAfterMs ?? 10_000,
      breaker: new ConsecutiveBreaker(opts.breakAfter ?? 5),
    });
    const r = retry(isFault, { maxAttempts: opts.readRetries ?? 2, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 400 }) });
    // Retry outside the breaker: a retried read counts each attempt, and an open breaker fails fast.
    this.readPolicy = wrap(r, this.breaker, t);
    this.writePolicy = wrap(this.breaker, t);
  }

  /** A read: retried on failure. */
  read<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.measure(this.readPolicy, fn);
  }

  /** A write: never retried here, so a write cannot be doubled by the policy; callers reconcile. */
  write<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.measure(this.writePolicy, fn);
  }

  get breakerState(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed: return 'closed';
      case CircuitState.Open: return 'open';
      case CircuitState.HalfOpen: return 'half-open';
      default: return 'isolated';
    }
  }

  figures(): SupplierFigures {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);
    const windowFailures = this.faults.filter(Boolean).length;
    return {
      supplier: this.supplier,
      calls: this.calls,
      failures: this.failures,
      windowCalls: this.faults.length,
      windowFailures,
      successRate: this.faults.length ? (this.faults.length - windowFailures) / this.faults.length : 1,
      p50Ms: pct(50),
      p95Ms: pct(95),
      p99Ms: pct(99),
      breaker: this.breakerState,
    };
  }

  private async measure<T>(policy: IPolicy, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const started = performance.now();
    this.calls++;
    let fault = false;
    try {
      return await policy.execute(({ signal }) => fn(signal), CALLER_SIGNAL);
    } catch (err) {
      fault = !(err instanceof SupplierDomainError);
      if (fault) this.failures++;
      throw toSupplierError(this.supplier, err);
    } finally {
      this.latencies.push(performance.now() - started);
      this.faults.push(fault);
      if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift();
      if (this.faults.length > LATENCY_WINDOW) this.faults.shift();
    }
  }
}

function toSupplierError(supplier: string, err: unknown): unknown {
  if (err instanceof SupplierUnavailableError) return err;
  if (isTaskCancelledError(err)) return new SupplierUnavailableError(supplier, 'timeout', `${supplier} did not answer in time`);
  if (isBrokenCircuitError(err) || isIsolatedCircuitError(err)) return new SupplierUnavailableError(supplier, 'circuit-open', `${supplier} is failing; calls are paused`);
  // Domain errors (slot gone, not on repeat…) pass through untouched.
  if (err instanceof SupplierDomainError) return err;
  return new SupplierUnavailableError(supplier, 'unreachable', `${supplier}: ${(err as Error)?.message ?? 'failed'}`);
}

/** One policy per supplier for the whole process: one supplier failing never trips another's breaker. */
export class SupplierPolicies {
  private readonly policies = new Map<string, SupplierPolicy>();
  constructor(private readonly defaults: SupplierPolicyOptions = {}) {}
  for(supplier: string): SupplierPolicy {
    let p = this.policies.get(supplier);
    if (!p) this.policies.set(supplier, (p = new SupplierPolicy(supplier, this.defaults)));
    return p;
  }
  all(): SupplierFigures[] {
    return [...this.policies.values()].map((p) => p.figures());
  }
}
