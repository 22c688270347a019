// The embedded identity provider, modelled on NHS login: an OpenID Connect provider (oidc-provider) with NHS-style
// sign-in pages, NHS login's scopes and claims, PKCE and private_key_jwt. A separate system on its own port:
// Front Door reaches it only through OIDC, so pointing OIDC_ISSUER elsewhere needs no code change.
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { JWK } from 'jose';
import Provider, { type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../../store/store.ts';
import { createRenderer, type Renderer } from '../../views/renderer.ts';
import { FormErrors } from '../../views/form-errors.ts';
import { securityHeaders, serveNhsukAssets } from '../../views/http.ts';
import { authenticate, findClaims } from './accounts.ts';
import { pgAdapterFactory } from './pg-adapter.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export const NHS_LOGIN_SCOPES = ['openid', 'profile', 'nhs_number', 'email', 'phone', 'gp_registration_details', 'staff'];

export interface IdpOptions {
  issuer: string;
  db: Store;
  signingJwk: JWK;
  cookieKeys: string[];
  clients: ClientMetadata[];
  /** Sign-in attempts per minute per address. */
  loginRateLimit?: number;
  logger?: boolean;
  /** Relying parties' origins: the sign-in form's redirects end there. */
  formActionOrigins?: string[];
}

export async function buildIdentityProvider(opts: IdpOptions): Promise<{ app: FastifyInstance; provider: Provider }> {
  const renderer = await createRenderer({
    viewDirs: [path.join(here, 'views'), path.join(here, '../../views')],
    serviceName: 'NHS login (demo)',
    serviceHref: '/',
    navigations: { signedOut: [] },
  });
  const page = (view: string, ctx: Record<string, unknown>) => renderer.render(view, { serviceName: 'NHS login (demo)', ...ctx });

  const provider = new Provider(opts.issuer, {
    adapter: pgAdapterFactory(opts.db),
    clients: opts.clients,
    jwks: { keys: [opts.signingJwk] },
    cookies: { keys: opts.cookieKeys, long: { sameSite: 'lax' }, short: { sameSite: 'lax' } },
    scopes: NHS_LOGIN_SCOPES,
    claims: {
      openid: ['sub', 'identity_proofing_level'],
      profile: ['given_name', 'family_name', 'birthdate'],
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
      nhs_number: ['nhs_number'],
      gp_registration_details: ['gp_registration_details'],
      staff: ['staff_roles'],
    },
    clientAuthMethods: ['private_key_jwt'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = 'html';
          ctx.body = page('logout.njk', { title: 'Sign out of NHS login', form, cspNonce: ctx.state.cspNonce });
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = page('message.njk', { title: 'You have signed out of NHS login', message: 'You can close this page.' });
        },
      },
    },
    ttl: { Session: 12 * 3600, Interaction: 3600, Grant: 12 * 3600, AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60 },
    findAccount: async (_ctx, sub) => {
      const claims = await findClaims(opts.db, sub);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => claims as unknown as { sub: string } };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('message.njk', {
        title: 'Sorry, there is a problem signing you in',
        message: 'Go back to the service you came from and try again.',
        detail: typeof out.error === 'string' ? out.error : undefined,
      });
    },
  });

  const app = Fastify({ logger: opts.logger ?? false, trustProxy: true });
  await app.register(cookie);
  await app.register(csrf, { cookieOpts: { signed: false, httpOnly: true, sameSite: 'lax', path: '/interaction' } });
  await app.register(rateLimit, { global: false });
  await securityHeaders(app, { formActionOrigins: opts.formActionOrigins });
  await serveNhsukAssets(app);

  // Interaction pages: our own NHS-style sign in; consent for first-party clients is granted without asking.
  await app.register(async (scope) => {
    await scope.register(formbody);
    scope.get<{ Params: { uid: string } }>('/interaction/:uid', async (req, reply) => {
      const details = await provider.interactionDetails(req.raw, reply.raw);
      if (details.prompt.name === 'login') {
        return reply.type('text/html').send(page('login.njk', { title: 'Sign in to NHS login', uid: req.params.uid, csrfToken: reply.generateCsrf(), cspNonce: reply.scriptNonce }));
      }
      return finishConsent(req.raw, reply.raw).then((url) => reply.redirect(url, 303));
    });

    scope.post<{ Params: { uid: string }; Body: { email?: string; password?: string } }>(
      '/interaction/:uid/login',
      { preHandler: scope.csrfProtection, config: { rateLimit: { max: opts.loginRateLimit ?? 20, timeWindow: '1 minute' } } },
      async (req, reply) => {
        const details = await provider.interactionDetails(req.raw, reply.raw);
        if (details.uid !== req.params.uid || details.prompt.name !== 'login') return reply.code(400).type('text/html').send(page('message.njk', { title: 'This sign-in link has expired', message: 'Go back to the service and start again.' }));
        const email = (req.body.email ?? '').trim();
        const password = req.body.password ?? '';
        const errors = new FormErrors();
        if (!email) errors.add('email', 'Enter your email address');
        else if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.add('email', 'Enter an email address in the correct format, like name@example.com');
        if (!password) errors.add('password', 'Enter your password');
        const sub = errors.any ? undefined : await authenticate(opts.db, email, password);
        if (!errors.any && !sub) errors.add('email', 'Email address or password is not correct');
        if (errors.any || !sub) {
          return reply.code(400).type('text/html').send(page('login.njk', { title: 'Sign in to NHS login', uid: req.params.uid, ...errors.toView(), email, csrfToken: reply.generateCsrf(), cspNonce: reply.scriptNonce }));
        }
        const url = await provider.interactionResult(req.raw, reply.raw, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
        return reply.redirect(url, 303);
      },
    );
  });

  async function finishConsent(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<string> {
    const { prompt, params, session, grantId } = await provider.interactionDetails(req, res);
    const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session!.accountId, clientId: params.client_id as string });
    if (!grant) throw new Error('grant not found');
    const details = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    const id = await grant.save();
    return provider.interactionResult(req, res, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
  }

  // Everything else is the OpenID Connect protocol itself, handled by oidc-provider on the raw request.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Leave bodies unread: oidc-provider parses its own.
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const callback = provider.callback();
    const handle = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
      reply.hijack();
      // Pass the CSP nonce to the provider's own pages (logout confirmation).
      (req.raw as unknown as { cspNonce?: string }).cspNonce = reply.scriptNonce;
      callback(req.raw, reply.raw);
    };
    scope.all('/*', { config: { rateLimit: { max: 300, timeWindow: '1 minute' } } }, handle);
    scope.all('/', handle);
  });
  provider.use(async (ctx, next) => {
    ctx.state.cspNonce = (ctx.req as unknown as { cspNonce?: string }).cspNonce;
    await next();
  });

  return { app, provider };
}
