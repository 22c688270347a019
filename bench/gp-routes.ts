// The JSON faces of the GP service layer that the gp benchmark drives: the same calls the pages make (session,
// catalog, linkage, audit rows, idempotency table, resilience policy), without the HTML around them.
import type { FastifyInstance } from 'fastify';
import { GpServices, newFormToken } from '../src/gp/gp-services.ts';
import { LinkageVault } from '../src/gp/linkage-vault.ts';
import type { RunningSystem } from '../src/system.ts';
import { jsonApiRoutes } from '../src/views/http.ts';

export function gpBenchRoutes() {
  let services: GpServices | undefined;
  return {
    register(root: FastifyInstance) {
      // JSON routes, answered with the API's security headers as the citizen API is.
      root.register(async (app) => {
        jsonApiRoutes(app);
        app.get<{ Querystring: { from: string; to: string } }>('/bench/gp/slots', async (req) =>
          (await services!.forCitizen(req.ctx, 'book appointment')).searchSlots({ from: req.query.from, to: req.query.to }));
        app.post<{ Body: { slotId: string } }>('/bench/gp/appointments', async (req, reply) => {
          try {
            return (await (await services!.forCitizen(req.ctx, 'book appointment')).book({ slotId: req.body.slotId, reason: 'Benchmark' }, newFormToken())).appointment;
          } catch (err) {
            // Two workers picking the same free slot is expected under load: the loser is told, as a page would.
            if ((err as { code?: string }).code === 'slot-unavailable') return reply.code(409).send({ code: 'slot-unavailable' });
            throw err;
          }
        });
        app.post<{ Params: { id: string } }>('/bench/gp/appointments/:id/cancel', async (req) =>
          (await services!.forCitizen(req.ctx, 'cancel appointment')).cancel(req.params.id, 'Benchmark'));
      });
    },
    async attach(system: RunningSystem) {
      const vault = await LinkageVault.open(system.db, system.config.linkageKeySecret);
      services = new GpServices({ db: system.db, catalog: system.catalog, supplierUrls: system.supplierUrls, policies: system.policies, vault });
    },
    close: () => services?.close(),
  };
}
