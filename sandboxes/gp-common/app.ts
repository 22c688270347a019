// The Fastify shell every GP sandbox starts from: quiet, closes hijacked (fault) connections on shutdown.
import Fastify, { type FastifyInstance } from 'fastify';
import { installFaults } from '../common/faults.ts';

export function gpSandboxApp(faultMode: string | undefined, errorBody: (status: number) => { contentType: string; body: string }): FastifyInstance {
  // forceCloseConnections: a `timeout` fault holds sockets open, and closing must not wait for them.
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 256 * 1024 });
  installFaults(app, { mode: faultMode, errorBody });
  return app;
}

export const ukDate = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
