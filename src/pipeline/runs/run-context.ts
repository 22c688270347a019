// What each kind of run is given (the guard, a progress reporter, a stop signal) and how it ends: an outcome
// (passed or failed, with its result) or RunCouldNotComplete (status 'error', with a reason a person can act on).
import { OutboundUrlRefused, type OutboundGuard } from '../../integrations/outbound-guard.ts';

export type RunKind = 'conformance' | 'accessibility' | 'capacity';
export const RUN_KINDS: RunKind[] = ['conformance', 'accessibility', 'capacity'];

export interface RunContext {
  targetUrl: string;
  params: Record<string, unknown>;
  guard: OutboundGuard;
  signal: AbortSignal;
  /** Issues the platform's own hand-off token for a web integration (audience: its origin). */
  handOff?: (audience: string) => Promise<string>;
  progress(percent: number, note: string): Promise<void>;
}

export interface RunOutcome {
  status: 'passed' | 'failed';
  result: Record<string, unknown>;
}

/** The run could not be carried out (endpoint unreachable, URL refused, stopped): status 'error'. */
export class RunCouldNotComplete extends Error {
  override readonly name = 'RunCouldNotComplete';
  constructor(message: string, readonly partialResult?: Record<string, unknown>) {
    super(message);
  }
}

function why(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string; message?: string }; name?: string; message?: string };
  const code = e?.cause?.code ?? e?.code;
  switch (code) {
    case 'ECONNREFUSED': return 'nothing is listening there (connection refused)';
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return 'the connection was dropped';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'the name could not be found';
    case 'UND_ERR_CONNECT_TIMEOUT': case 'ETIMEDOUT': return 'the connection timed out';
  }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'it did not answer in time';
  return e?.cause?.message ?? e?.message ?? String(err);
}

/**
 * Checks the target can be reached before a run starts, through the guard (so redirects are checked too):
 * any HTTP answer, even 404, means the endpoint is there.
 */
export async function probe(guard: OutboundGuard, url: string, timeoutMs = 5000): Promise<void> {
  try {
    const res = await guard.guardedFetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => {});
  } catch (err) {
    if (err instanceof OutboundUrlRefused) throw new RunCouldNotComplete(`The address was refused: ${err.message}`);
    throw new RunCouldNotComplete(`The endpoint ${new URL(url).host} could not be reached: ${why(err)}`);
  }
}

export function stopped(signal: AbortSignal): void {
  if (signal.aborted) throw new RunCouldNotComplete('The run was stopped because the server is shutting down; start it again');
}
