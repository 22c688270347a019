// Liveness and readiness for a load balancer: alive means the process answers; ready means the store does too.
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../store/store.ts';

export const healthRoutes: FastifyPluginAsync<{ db: Store }> = async (app, { db }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await db.query('SELECT 1');
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'store unreachable' });
    }
  });
};
