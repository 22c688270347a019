// Assurance runs against a supplier's endpoint: requested (URL checked, parameters settled, row and job written
// in one transaction), then carried out by a worker off the job queue, with progress and result kept in
// pipeline_runs. A gate is passed when the latest run of its kind passed.
import { type OutboundGuard } from '../../integrations/outbound-guard.ts';
import { suiteFor } from '../../conformance/suites.ts';
import type { AuditLog } from '../../audit/audit.ts';
import type { Queryable, Store } from '../../store/store.ts';
import { runAccessibility } from './accessibility-run.ts';
import { CAPACITY_DEFAULTS, runCapacity } from './capacity-run.ts';
import { runConformance } from './conformance-run.ts';
import { JobQueue } from './job-queue.ts';
import { RUN_KINDS, RunCouldNotComplete, type RunContext, type RunKind, type RunOutcome } from './run-context.ts';

export type { RunKind } from './run-context.ts';
export type RunStatus = 'queued' | 'running' | 'passed' | 'failed' | 'error';

export interface RunRecord {
  id: string;
  integrationId: string;
  kind: RunKind;
  targetUrl: string;
  status: RunStatus;
  progress: number;
  progressNote?: string;
  params: Record<string, unknown>;
  result?: unknown;
  error?: string;
  requestedBy: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
}

export interface RunRequest {
  integrationId: string;
  kind: RunKind;
  targetUrl: string;
  params: Record<string, unknown>;
  requestedBy: string;
  /** The role and organisation the request was made in (e.g. 'supplier:triagepoint'), for the audit trail. */
  requestedAs?: string;
}

/** A request the service will not queue: `field` names the form field at fault. */
export class RunRequestInvalid extends Error {
  override readonly name = 'RunRequestInvalid';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

type RunRow = {
  id: string; integration_id: string; kind: RunKind; target_url: string; status: RunStatus; progress: number; progress_note: string | null;
  params: Record<string, unknown>; result: unknown; error: string | null; requested_by: string; created_at: Date; started_at: Date | null; finished_at: Date | null;
};

function toRecord(r: RunRow): RunRecord {
  return {
    id: String(r.id), integrationId: String(r.integration_id), kind: r.kind, targetUrl: r.target_url, status: r.status, progress: r.progress,
    progressNote: r.progress_note ?? undefined, params: r.params ?? {}, result: r.result ?? undefined, error: r.error ?? undefined,
    requestedBy: r.requested_by, createdAt: new Date(r.created_at), startedAt: r.started_at ? new Date(r.started_at) : undefined,
    finishedAt: r.finished_at ? new Date(r.finished_at) : undefined,
  };
}

const COLUMNS = 'id, integration_id, kind, target_url, status, progress, progress_note, params, result, error, requested_by, created_at, started_at, finished_at';

/** The latest run of each kind for an integration (the gates read these). */
export async function latestRuns(db: Queryable, integrationId: string): Promise<Partial<Record<RunKind, RunRecord>>> {
  const rows = await db.query<RunRow>(`SELECT DISTINCT ON (kind) ${COLUMNS} FROM pipeline_runs WHERE integration_id = $1 ORDER BY kind, id DESC`, [integrationId]);
  return Object.fromEntries(rows.map((r) => [r.kind, toRecord(r)]));
}

function num(params: Record<string, unknown>, field: string, fallback: number | undefined, min: number, max: number, label: string): number {
  const raw = params[field];
  if ((raw === undefined || raw === '') && fallback !== undefined) return fallback;
  const n = typeof raw === 'number' ? raw : Number(String(raw ?? '').replace(/,/g, '').trim());
  if (raw === undefined || raw === '' || !Number.isFinite(n)) throw new RunRequestInvalid(field, `Enter ${label} as a number`);
  if (n < min || n > max) throw new RunRequestInvalid(field, `${label[0].toUpperCase()}${label.slice(1)} must be between ${min} and ${max.toLocaleString('en-GB')}`);
  return n;
}

/** Checks a request's parameters and fills in the defaults, so what a run used is stored and shown. */
export function settleParams(kind: RunKind, params: Record<string, unknown>): Record<string, unknown> {
  if (kind === 'conformance') {
    const suite = suiteFor(String(params.suite ?? ''));
    if (!suite) throw new RunRequestInvalid('suite', `There is no conformance suite for this type of service${params.suite ? ` ("${params.suite}")` : ''}`);
    const system = String(params.system ?? '');
    if (suite.systems.length > 1 && !suite.systems.includes(system)) throw new RunRequestInvalid('system', `Select which system the endpoint speaks: ${suite.systems.join(', ')}`);
    return { suite: suite.type, system: system || suite.systems[0] };
  }
  if (kind === 'accessibility') {
    const raw = params.paths;
    const list = (Array.isArray(raw) ? raw.map(String) : String(raw ?? '').split(/[\s,]+/)).map((p) => p.trim()).filter(Boolean);
    const paths = list.length ? list : ['/'];
    if (paths.length > 10) throw new RunRequestInvalid('paths', 'Enter at most 10 pages');
    const bad = paths.find((p) => !p.startsWith('/') || p.startsWith('//'));
    if (bad) throw new RunRequestInvalid('paths', `Pages must be paths on the supplier's site starting with /, like /start (not ${bad})`);
    return { paths };
  }
  const path = String(params.path ?? '').trim() || CAPACITY_DEFAULTS.path;
  if (!path.startsWith('/') || path.startsWith('//')) throw new RunRequestInvalid('path', 'The path to load must start with /, like /health');
  return {
    populationCovered: num(params, 'populationCovered', undefined, 1, 70_000_000, 'the population covered'),
    uptake: num(params, 'uptake', CAPACITY_DEFAULTS.uptake, 0.001, 1, 'the expected uptake'),
    peakFactor: num(params, 'peakFactor', CAPACITY_DEFAULTS.peakFactor, 1, 20, 'the peak factor'),
    busyWindowHours: num(params, 'busyWindowHours', CAPACITY_DEFAULTS.busyWindowHours, 1, 24, 'the busy window in hours'),
    p99TargetMs: num(params, 'p99TargetMs', CAPACITY_DEFAULTS.p99TargetMs, 1, 60_000, 'the agreed p99 latency in milliseconds'),
    stepSeconds: num(params, 'stepSeconds', CAPACITY_DEFAULTS.stepSeconds, 1, 7, 'the seconds per load step'),
    requestsPerUserPerMonth: num(params, 'requestsPerUserPerMonth', CAPACITY_DEFAULTS.requestsPerUserPerMonth, 0.1, 10_000, 'the requests per user per month'),
    costPer1000Requests: num(params, 'costPer1000Requests', CAPACITY_DEFAULTS.costPer1000Requests, 0, 1000, 'the cost per 1,000 requests'),
    fixedMonthlyCost: num(params, 'fixedMonthlyCost', CAPACITY_DEFAULTS.fixedMonthlyCost, 0, 10_000_000, 'the fixed monthly cost'),
    path,
  };
}

export interface RunServiceOptions {
  db: Store;
  /** Where a run's request and its result are recorded, beside the pipeline's own changes. */
  audit?: AuditLog;
  guard: OutboundGuard;
  /** Ceiling on a capacity run's request rate (CAPACITY_MAX_RPS). */
  capacityMaxRps: number;
  chromiumPath?: string;
  /** Signs hand-off tokens as the platform does, so the web suite signs in to a service as the app would. */
  handOff?: (audience: string) => Promise<string>;
  pollingIntervalSeconds?: number;
  onError?: (err: Error) => void;
}

/** No run takes this long (capacity runs are bounded to 30 s): one still 'running' after it was cut off. */
const RUN_EXPIRY_SECONDS = 600;

export class RunService {
  private readonly queue: JobQueue<{ runId: string }>;
  private readonly inFlight = new Set<AbortController>();
  private started = false;

  constructor(private readonly opts: RunServiceOptions) {
    this.queue = new JobQueue(opts.db, 'pipeline-runs', { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 1, expireInSeconds: RUN_EXPIRY_SECONDS });
  }

  async start(): Promise<void> {
    if (this.started) return;
    const onError = this.opts.onError ?? (() => {});
    await this.closeInterrupted();
    await this.queue.start(onError);
    await this.queue.work(async ({ runId }) => {
      await this.carryOut(runId).catch(onError);
    });
    this.started = true;
  }

  /** Stops taking work; a run in hand is told to stop and recorded as an error before the store closes. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const c of this.inFlight) c.abort();
    await this.queue.stop(10_000);
    await this.opts.guard.close();
  }

  /** Checks the URL and parameters first (nothing is queued when they are refused), then queues the run. */
  async request(input: RunRequest): Promise<RunRecord> {
    if (!RUN_KINDS.includes(input.kind)) throw new RunRequestInvalid('kind', 'Select which check to run');
    if (!input.targetUrl?.trim()) throw new RunRequestInvalid('targetUrl', 'Enter the web address of the endpoint to test');
    const params = settleParams(input.kind, input.params ?? {});
    const checked = await this.opts.guard.check(input.targetUrl.trim());
    if (!this.started) throw new Error('the run service has not been started');
    return this.opts.db.transaction(async (tx) => {
      const [row] = await tx.query<RunRow>(
        `INSERT INTO pipeline_runs (integration_id, kind, target_url, params, requested_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [input.integrationId, input.kind, checked.url.toString(), JSON.stringify(params), input.requestedBy],
      );
      // The job is written in the same transaction: a run is never queued without its row, nor left without its job.
      await this.queue.send({ runId: String(row.id) }, tx);
      await this.opts.audit?.record({
        actorType: 'staff', actorId: input.requestedBy, organisation: input.requestedAs, action: `start ${input.kind} run`,
        resource: `integration:${input.integrationId}`, outcome: 'success',
        detail: { before: null, after: { run: String(row.id), kind: input.kind, targetUrl: checked.url.toString(), status: 'queued' } },
      }, tx);
      return toRecord(row);
    });
  }

  /**
   * Runs whose process stopped mid-way (a restart, a crash) would say 'running' for ever: past the job's expiry
   * they are recorded as errors, so the page says to start again and the gate does not wait on them.
   */
  private async closeInterrupted(): Promise<void> {
    const stale = await this.opts.db.query<{ id: string; integration_id: string; kind: RunKind }>(
      `UPDATE pipeline_runs SET status = 'error', error = 'The run was interrupted before it finished (the service stopped); start it again', progress_note = 'Interrupted', finished_at = now()
       WHERE status IN ('queued', 'running') AND created_at < now() - make_interval(secs => $1) RETURNING id, integration_id, kind`, [RUN_EXPIRY_SECONDS]);
    for (const r of stale) {
      await this.opts.audit?.record({
        actorType: 'system', actorId: 'assurance-runner', action: `${r.kind} run error`, resource: `integration:${r.integration_id}`, outcome: 'failed',
        detail: { before: { run: String(r.id), status: 'running' }, after: { run: String(r.id), kind: r.kind, status: 'error', error: 'interrupted' } },
      });
    }
  }

  async get(id: string): Promise<RunRecord | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const read = async () => (await this.opts.db.query<RunRow>(`SELECT ${COLUMNS} FROM pipeline_runs WHERE id = $1`, [id])).map(toRecord)[0];
    const run = await read();
    // The run page polls this every 2 s: only a run still active past its expiry needs closing, then reading again.
    if (run && (run.status === 'queued' || run.status === 'running') && Date.now() - run.createdAt.getTime() > RUN_EXPIRY_SECONDS * 1000) {
      await this.closeInterrupted();
      return read();
    }
    return run;
  }

  async list(integrationId: string): Promise<RunRecord[]> {
    return (await this.opts.db.query<RunRow>(`SELECT ${COLUMNS} FROM pipeline_runs WHERE integration_id = $1 ORDER BY id DESC`, [integrationId])).map(toRecord);
  }

  private async carryOut(runId: string): Promise<void> {
    const db = this.opts.db;
    const [row] = await db.query<RunRow>(`UPDATE pipeline_runs SET status = 'running', started_at = now(), progress = 0 WHERE id = $1 AND status = 'queued' RETURNING ${COLUMNS}`, [runId]);
    if (!row) return;
    const run = toRecord(row);
    const controller = new AbortController();
    this.inFlight.add(controller);
    // Progress writes are chained so a late one never lands after the final status.
    let writes: Promise<unknown> = Promise.resolve();
    const ctx: RunContext = {
      targetUrl: run.targetUrl,
      params: run.params,
      guard: this.opts.guard,
      signal: controller.signal,
      handOff: this.opts.handOff,
      progress: (percent, note) => {
        writes = writes.then(() => db.query(`UPDATE pipeline_runs SET progress = $2, progress_note = $3 WHERE id = $1 AND status = 'running'`, [runId, Math.max(0, Math.min(99, percent)), note])).catch(() => {});
        return writes as Promise<void>;
      },
    };
    let outcome: RunOutcome | undefined;
    let failure: { message: string; partial?: Record<string, unknown> } | undefined;
    try {
      // The URL is checked again here: the allow-list or the name's DNS answer may have changed since the request.
      await this.opts.guard.check(run.targetUrl);
      outcome = run.kind === 'conformance' ? await runConformance(ctx)
        : run.kind === 'capacity' ? await runCapacity(ctx, this.opts.capacityMaxRps)
        : await runAccessibility(ctx, this.opts.chromiumPath ?? '/usr/bin/chromium');
    } catch (err) {
      failure = err instanceof RunCouldNotComplete ? { message: err.message, partial: err.partialResult }
        : (err as Error)?.name === 'OutboundUrlRefused' ? { message: `The address was refused: ${(err as Error).message}` }
        : { message: `The run could not complete: ${(err as Error)?.message ?? String(err)}` };
    } finally {
      this.inFlight.delete(controller);
    }
    await writes;
    const status = outcome?.status ?? 'error';
    await db.transaction(async (tx) => {
      if (outcome) {
        await tx.query(`UPDATE pipeline_runs SET status = $2, result = $3, progress = 100, progress_note = $4, finished_at = now() WHERE id = $1`,
          [runId, outcome.status, JSON.stringify(outcome.result), outcome.status === 'passed' ? 'Finished: passed' : 'Finished: failed']);
      } else {
        await tx.query(`UPDATE pipeline_runs SET status = 'error', error = $2, result = $3, progress_note = 'Could not complete', finished_at = now() WHERE id = $1`,
          [runId, failure!.message, failure!.partial ? JSON.stringify(failure!.partial) : null]);
      }
      // A gate result: recorded with the run's own row, by the runner rather than a person.
      await this.opts.audit?.record({
        actorType: 'system', actorId: 'assurance-runner', action: `${run.kind} run ${status}`,
        resource: `integration:${run.integrationId}`, outcome: status === 'passed' ? 'success' : 'failed',
        detail: { before: { run: runId, status: 'running' }, after: { run: runId, kind: run.kind, status, ...(failure ? { error: failure.message } : {}) } },
      }, tx);
    });
  }
}
