// HTTP concerns every page-serving app shares: strict security headers with a per-request CSP nonce (a short fixed
// set for JSON API routes), and the NHS design system's compiled assets (never its .njk or .scss sources).
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nhsukDist, nhsukVersion } from './renderer.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

declare module 'fastify' {
  interface FastifyReply {
    /** The nonce for this response's one inline script. */
    scriptNonce: string;
  }
  interface FastifyContextConfig {
    /** A JSON API route: answered with the API's fixed security headers instead of a page's (see jsonApiRoutes). */
    jsonApi?: boolean;
  }
}

/**
 * Nonces come from a pool refilled 4 KiB at a time: one call into the system's random source serves 256
 * responses, where asking per response showed up as a visible share of a page's cost under load.
 */
const NONCE_BYTES = 16;
let pool = Buffer.alloc(0);
let offset = 0;
function nextNonce(): string {
  if (offset + NONCE_BYTES > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const nonce = pool.toString('base64url', offset, offset + NONCE_BYTES);
  offset += NONCE_BYTES;
  return nonce;
}

export async function securityHeaders(app: FastifyInstance, opts: { formActionOrigins?: string[]; secure?: boolean } = {}): Promise<void> {
  // helmet sets the other headers; the CSP is built here once, with only the nonce varying per response.
  await app.register(helmet, {
    contentSecurityPolicy: false,
    strictTransportSecurity: opts.secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  const directives = (nonce: string) => [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    // Sign-in redirects cross between the app and the identity provider after a form post.
    `form-action ${["'self'", ...(opts.formActionOrigins ?? [])].join(' ')}`,
    ...(opts.secure ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
  const [before, after] = directives('\u0000').split('\u0000');
  // A JSON answer is never rendered, so it needs no page policy: the short set OWASP gives for REST services,
  // built once. Every header costs a JSON call about as much as the work the call exists for.
  const apiHeaders: Record<string, string> = {
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    ...(opts.secure ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  app.decorateReply('scriptNonce', '');
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.jsonApi) {
      reply.headers(apiHeaders);
      return;
    }
    const nonce = nextNonce();
    (reply as { scriptNonce: string }).scriptNonce = nonce;
    reply.header('content-security-policy', before + nonce + after);
  });
}

/**
 * Marks every route registered after this call in `app`'s scope as a JSON API route (see securityHeaders). Call it
 * after anything in that scope that serves pages, such as the API's own documentation.
 */
export function jsonApiRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    // helmet reads its part at request time and then leaves the route to securityHeaders' JSON set.
    route.config = { ...route.config, jsonApi: true, helmet: { skipRoute: true } } as typeof route.config;
  });
}

export async function serveNhsukAssets(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: path.join(nhsukDist, 'nhsuk/assets'),
    prefix: '/assets/',
    decorateReply: false,
    maxAge: '1d',
  });
  const files: Record<string, { type: string; body: Buffer }> = {
    [`/assets/nhsuk-frontend-${nhsukVersion}.min.css`]: { type: 'text/css', body: await readFile(path.join(nhsukDist, `nhsuk/nhsuk-frontend-${nhsukVersion}.min.css`)) },
    [`/assets/nhsuk-frontend-${nhsukVersion}.min.js`]: { type: 'text/javascript', body: await readFile(path.join(nhsukDist, `nhsuk/nhsuk-frontend-${nhsukVersion}.min.js`)) },
    '/static/app.css': { type: 'text/css', body: await readFile(path.join(here, 'static/app.css')) },
    '/static/app.js': { type: 'text/javascript', body: Buffer.from((await readFile(path.join(here, 'static/app.js'), 'utf8')).replace('__NHSUK_JS__', `/assets/nhsuk-frontend-${nhsukVersion}.min.js`)) },
  };
  for (const [url, file] of Object.entries(files)) {
    app.get(url, async (_req, reply) => reply.type(file.type).header('cache-control', 'public, max-age=86400').send(file.body));
  }
}
