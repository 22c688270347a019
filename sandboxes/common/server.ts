// What every sandbox exports, so the CLI, `npm start` and tests start them all the same way.
import type { FastifyInstance } from 'fastify';

export interface SandboxOptions {
  port: number;
  host?: string;
  /** Process-wide fault mode (see faults.ts), for showing the conformance kit fail. */
  faultMode?: string;
  /** The PDS sandbox's URL, for GP systems that keep nominated pharmacies on the Spine (read on each use). */
  spineUrl?: () => string | undefined;
  /** The Front Door whose signed hand-off tokens a web integration trusts (its keys at /.well-known/handoff-jwks.json). */
  platformUrl?: string;
}

export interface RunningSandbox {
  name: string;
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export interface SandboxDefinition {
  name: string;
  description: string;
  /** Builds the sandbox's Fastify app (not listening), with its demo data loaded. */
  build(opts: Pick<SandboxOptions, 'faultMode' | 'spineUrl' | 'platformUrl'>): Promise<FastifyInstance>;
}

export async function startSandbox(def: SandboxDefinition, opts: SandboxOptions): Promise<RunningSandbox> {
  const app = await def.build({ faultMode: opts.faultMode, spineUrl: opts.spineUrl, platformUrl: opts.platformUrl });
  const host = opts.host ?? '127.0.0.1';
  const address = await app.listen({ port: opts.port, host });
  return { name: def.name, url: address, app, close: () => app.close() };
}
