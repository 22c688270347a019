// Fault injection shared by every sandbox: per request (header) or for the whole process (faulty mode),
// so tests and the conformance kit can drive delays, timeouts, 5xx, garbage bodies and dropped connections.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * `X-Sandbox-Fault` header (or the process-wide mode), one of:
 *   delay=MS      answer normally after MS milliseconds
 *   timeout       never answer (the connection stays open until the client gives up)
 *   error=STATUS  answer STATUS (5xx/4xx) with the sandbox's own error shape
 *   garbage       answer 200 with a body that is not in the sandbox's dialect
 *   drop          destroy the socket without answering
 */
export type Fault =
  | { kind: 'delay'; ms: number }
  | { kind: 'timeout' }
  | { kind: 'error'; status: number }
  | { kind: 'garbage' }
  | { kind: 'drop' };

export function parseFault(value: string | undefined): Fault | undefined {
  if (!value) return undefined;
  const [kind, arg] = value.split('=');
  switch (kind) {
    case 'delay': {
      const ms = Number(arg);
      return Number.isFinite(ms) && ms >= 0 ? { kind: 'delay', ms: Math.min(ms, 60_000) } : undefined;
    }
    case 'timeout':
      return { kind: 'timeout' };
    case 'error': {
      const status = Number(arg ?? 500);
      return status >= 400 && status <= 599 ? { kind: 'error', status } : undefined;
    }
    case 'garbage':
      return { kind: 'garbage' };
    case 'drop':
      return { kind: 'drop' };
    default:
      return undefined;
  }
}

export interface FaultOptions {
  /** Applied to every request (e.g. `garbage` to show the conformance kit failing). */
  mode?: string;
  /** Renders the sandbox's own error body for error=STATUS. */
  errorBody: (status: number) => { contentType: string; body: string };
}

/** Registers the fault hook on a sandbox's Fastify instance. */
export function installFaults(app: FastifyInstance, opts: FaultOptions): void {
  const processFault = parseFault(opts.mode);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers['x-sandbox-fault'];
    const fault = parseFault(Array.isArray(header) ? header[0] : header) ?? processFault;
    if (!fault) return;
    switch (fault.kind) {
      case 'delay':
        await new Promise((r) => setTimeout(r, fault.ms));
        return;
      case 'timeout':
        reply.hijack();
        // Hold the socket open; the client's timeout is what is under test.
        return;
      case 'drop':
        reply.hijack();
        req.raw.socket.destroy();
        return;
      case 'error': {
        const { contentType, body } = opts.errorBody(fault.status);
        return reply.code(fault.status).type(contentType).send(body);
      }
      case 'garbage':
        return reply.code(200).type('application/json').send('{"this is not": valid json at all <html>');
    }
  });
}
