// The Front Door application as a Fastify plugin tree, separate from the server: tests call `inject()` on it.
// Layers are registered in order, so the architecture is visible here: cross-cutting plugins, then web, api.
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RequestContext, type Actor } from './access/request-context.ts';
import type { AuditLog } from './audit/audit.ts';
import type { CatalogIndex } from './catalog/resolution.ts';
import type { Config } from './config.ts';
import type { RelyingParty } from './identity/relying-party.ts';
import type { SessionStore } from './identity/sessions.ts';
import type { Store } from './store/store.ts';
import type { SupplierPolicies } from './integrations/resilience.ts';
import type { RunService } from './pipeline/runs/run-service.ts';
import { securityHeaders, serveNhsukAssets } from './views/http.ts';
import { apiRoutes } from './api/api-routes.ts';
import { nationalServicesFor } from './national/national-services.ts';
import type { HandoffSigner } from './identity/handoff.ts';
import { citizenWeb } from './web/citizen-web.ts';
import { healthRoutes } from './web/health-routes.ts';
import { portalWeb } from './portal/portal-web.ts';

export interface AppDeps {
  config: Config;
  db: Store;
  sessions: SessionStore;
  catalog: CatalogIndex;
  audit: AuditLog;
  citizenRp: RelyingParty;
  /** The portal's relying party (the staff client); without it the portal cannot sign anyone in. */
  staffRp?: RelyingParty;
  /** Origin of the identity provider, for the sign-in redirects' CSP. */
  identityOrigin: string;
  redis?: Redis;
  /** Supplier and agency base URLs by sandbox name ('gp-emis', 'pds', …). */
  supplierUrls: Record<string, string>;
  /** One resilience policy per supplier. */
  policies: SupplierPolicies;
  /** Signs the single sign-on hand-off into suppliers' web integrations. */
  handoff: HandoffSigner;
  /** Assurance runs against suppliers' endpoints (the portal's run pages). */
  runs?: RunService;
  logger?: FastifyServerOptions['logger'];
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
    sessionId?: string;
  }
}

/**
 * Logs name the route pattern, never the URL itself: query strings carry authorization codes and state, and
 * paths may carry identifiers. Headers (cookies, tokens) are not logged at all.
 */
const privacySafeLogging = {
  serializers: {
    req: (req: { method: string; url: string; routeOptions?: { url?: string } }) => ({ method: req.method, route: req.routeOptions?.url ?? req.url.split('?')[0].replace(/\d{6,}/g, '…') }),
    res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
  },
};

export const SESSION_COOKIE = 'fd_session';
export const LOGIN_COOKIE = 'fd_login';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ? { ...(typeof deps.logger === 'object' ? deps.logger : {}), ...privacySafeLogging } : false,
    genReqId: () => randomUUID(),
    trustProxy: true,
    return503OnClosing: true,
    bodyLimit: 256 * 1024,
  });
  app.decorateRequest('ctx', null as unknown as RequestContext);

  await app.register(cookie);
  await app.register(formbody);
  await securityHeaders(app, { formActionOrigins: [deps.identityOrigin], secure: deps.config.secureCookies });
  await app.register(csrf, {
    cookieKey: 'fd_csrf',
    cookieOpts: { signed: false, httpOnly: true, sameSite: 'lax', path: '/', secure: deps.config.secureCookies },
    getToken: (req) => (req.body as { _csrf?: string } | undefined)?._csrf ?? (req.headers['x-csrf-token'] as string | undefined),
  });
  await app.register(rateLimit, {
    global: false,
    redis: deps.redis,
    nameSpace: 'fd-rl:',
    // The limit and what is left are told when it is reached (429 with Retry-After), not on every answer.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, error: 'Too Many Requests', message: `Too many requests: try again in ${Math.ceil(ctx.ttl / 1000)} seconds` }),
  });
  await serveNhsukAssets(app);

  // Who is acting: resolved once per request from the session cookie into the request context.
  app.addHook('onRequest', async (req) => {
    const sid = req.cookies[SESSION_COOKIE];
    let actor: Actor = { type: 'anonymous' };
    if (sid) {
      const s = await deps.sessions.get(sid);
      if (s?.kind === 'citizen') {
        req.sessionId = sid;
        actor = { type: 'citizen', sub: s.sub, nhsNumber: s.nhsNumber, identityLevel: s.identityLevel, gpOdsCode: s.gpOdsCode, givenName: s.givenName, familyName: s.familyName, birthdate: s.birthdate };
      } else if (s?.kind === 'staff') {
        req.sessionId = sid;
        actor = { type: 'staff', sub: s.sub, givenName: s.givenName, familyName: s.familyName, roles: s.roles };
      }
    }
    req.ctx = new RequestContext(req.id, actor, deps.audit);
  });

  await app.register(healthRoutes, { db: deps.db });
  await app.register(apiRoutes, {
    prefix: '/api', catalog: deps.catalog, governance: { db: deps.db, audit: deps.audit },
    national: { national: nationalServicesFor(deps), perMinute: deps.config.citizenApiPerMinute },
  });
  await app.register(citizenWeb, deps);
  await app.register(portalWeb, deps);
  return app;
}
