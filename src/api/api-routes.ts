// The JSON API: schemas first (TypeBox), which validate, type and document each route; OpenAPI served at /api/docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { CatalogService } from '../catalog/catalog.ts';
import type { CatalogIndex } from '../catalog/resolution.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { Store } from '../store/store.ts';
import { jsonApiRoutes } from '../views/http.ts';
import { governanceApi } from './governance-api.ts';
import { nationalApi } from './national-api.ts';
import type { NationalServices } from '../national/national-services.ts';

const ServiceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  kind: Type.Union([Type.Literal('national'), Type.Literal('local')]),
  type: Type.String({ description: 'gp-system, online-consultation, phr or national' }),
  supplier: Type.String(),
  integrationMethod: Type.Union([Type.Literal('native'), Type.Literal('web')]),
  minIdentityLevel: Type.Union([Type.Literal('P0'), Type.Literal('P5'), Type.Literal('P9')]),
  category: Type.String(),
}, { $id: 'Service' });

const CatalogResponse = Type.Object({ services: Type.Array(Type.Ref(ServiceSchema)) });

const MyServicesResponse = Type.Object({
  practice: Type.Union([Type.Null(), Type.Object({ odsCode: Type.String(), name: Type.String(), icbCode: Type.String(), regionCode: Type.String() })]),
  practiceProblem: Type.Optional(Type.String({ description: 'no-registration, unknown-practice, closed-practice or outside-england' })),
  identityLevel: Type.String(),
  services: Type.Array(Type.Object({ service: Type.Ref(ServiceSchema), usable: Type.Boolean({ description: 'false: listed, but the user must prove their identity to a higher level first' }) })),
});

const ErrorResponse = Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String() }, { $id: 'Error' });

const toApi = (s: CatalogService): Static<typeof ServiceSchema> => ({
  id: s.id, name: s.name, description: s.description, kind: s.kind, type: s.type, supplier: s.supplier,
  integrationMethod: s.integrationMethod, minIdentityLevel: s.minIdentityLevel, category: s.category,
});

export const apiRoutes: FastifyPluginAsync<{
  catalog: CatalogIndex;
  governance?: { db: Store; audit: AuditLog };
  national?: { national: NationalServices; perMinute: number };
}> = async (app, { catalog, governance, national }) => {
  app.addSchema(ServiceSchema);
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Front Door API', version: '0.1.0', description: 'The national catalog and the signed-in citizen\'s services.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'fd_session' } } },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // The documentation page loads its scripts and styles by paths relative to itself, which only resolve from
    // /api/docs/: without the slash they point outside /api and the page comes up blank. A hook on the
    // documentation's own routes, so the JSON API's requests never run it.
    uiHooks: {
      onRequest: async (req, reply) => {
        if (/^\/api\/docs(\?|$)/.test(req.url)) return reply.redirect(req.url.replace('/api/docs', '/api/docs/'), 301);
      },
    },
  });
  // The documentation above is pages; everything from here is JSON.
  jsonApiRoutes(app);

  app.get('/catalog', {
    config: { rateLimit: { max: 600, timeWindow: '1 minute' } },
    schema: { summary: 'National services, available to everyone in England', tags: ['catalog'], response: { 200: CatalogResponse } },
  }, async () => ({ services: catalog.nationalServices().map(toApi) }));

  app.get('/me/services', {
    config: { rateLimit: { max: 600, timeWindow: '1 minute' } },
    schema: {
      summary: 'The services the signed-in citizen sees: national, plus those commissioned for their GP practice',
      tags: ['catalog'],
      security: [{ session: [] }],
      response: { 200: MyServicesResponse, 401: Type.Ref(ErrorResponse) },
    },
  }, async (req, reply) => {
    if (req.ctx.actor.type !== 'citizen') return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'Sign in first: this lists your own services' });
    const actor = req.ctx.actor;
    const r = catalog.resolve(actor.gpOdsCode, actor.identityLevel);
    return {
      practice: r.practice && !r.practiceProblem ? { odsCode: r.practice.odsCode, name: r.practice.name, icbCode: r.practice.icbCode, regionCode: r.practice.regionCode } : null,
      practiceProblem: r.practiceProblem,
      identityLevel: actor.identityLevel,
      services: r.services.map((s) => ({ service: toApi(s.service), usable: s.usable })),
    };
  });

  app.setNotFoundHandler((req, reply) => reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No API route ${req.method} ${req.url.split('?')[0]}` }));
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err: { type: err.name, message: err.message } }, 'api error');
    return reply.code(status).send({ statusCode: status, error: status >= 500 ? 'Internal Server Error' : err.name, message: status >= 500 ? `Something went wrong (reference ${req.id})` : err.message });
  });
  // After the handlers above, so these routes inherit the API's error and not-found handling.
  if (governance) await app.register(governanceApi, governance);
  if (national) await app.register(nationalApi, national);
};
