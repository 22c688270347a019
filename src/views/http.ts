// HTTP concerns every page-serving app shares: strict security headers with a per-request CSP nonce, and the
// NHS design system's compiled assets (never its .njk or .scss sources).
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nhsukDist, nhsukVersion } from './renderer.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

declare module 'fastify' {
  interface FastifyReply {
    /** The nonce for this response's one inline script. */
    readonly scriptNonce: string;
  }
}

export async function securityHeaders(app: FastifyInstance, opts: { formActionOrigins?: string[]; secure?: boolean } = {}): Promise<void> {
  await app.register(helmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        // Sign-in redirects cross between the app and the identity provider after a form post.
        formAction: ["'self'", ...(opts.formActionOrigins ?? [])],
        upgradeInsecureRequests: opts.secure ? [] : null,
      },
    },
    strictTransportSecurity: opts.secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.decorateReply('scriptNonce', {
    getter(this: { cspNonce?: { script: string } }) {
      return this.cspNonce?.script ?? '';
    },
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
