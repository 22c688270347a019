// Citizen pages: sign-in start, the home hub of services commissioned for you, a page per service, account,
// sign out, access log, and the NHS-style error pages. Server-rendered; everything works without JavaScript.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessDeniedError, NotSignedInError, UpliftRequiredError, type CitizenActor } from '../access/request-context.ts';
import type { AppDeps } from '../app.ts';
import { LOGIN_COOKIE, SESSION_COOKIE } from '../app.ts';
import type { CatalogService } from '../catalog/catalog.ts';
import type { Resolution } from '../catalog/resolution.ts';
import { SignInError } from '../identity/relying-party.ts';
import { createRenderer } from '../views/renderer.ts';
import { validateCitizenClaims, ClaimsError } from './claims.ts';
import { nationalWeb } from './national/national-web.ts';
import { accessLogLine } from './access-log-text.ts';
import { gpWeb } from './gp/gp-web.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export const CATEGORY_HEADINGS: Record<string, string> = {
  gp: 'GP services',
  record: 'Your health record',
  consultations: 'Consultations',
  national: 'National services',
};

const PRACTICE_PROBLEMS: Record<string, { title: string; text: string }> = {
  'no-registration': { title: 'We could not find a GP surgery for you', text: 'Your NHS login does not show that you are registered with a GP surgery, so only national services are shown. If you have registered recently, it can take a few days to show. Contact your GP surgery if this is wrong.' },
  'unknown-practice': { title: 'We could not find your GP surgery', text: 'The GP surgery on your NHS login is not one we know, so only national services are shown. Contact your GP surgery to check your registration.' },
  'closed-practice': { title: 'Your GP surgery has closed', text: 'The GP surgery on your NHS login is no longer open, so only national services are shown. Register with a new GP surgery to use GP services.' },
  'outside-england': { title: 'Your GP surgery is outside England', text: 'Front Door serves GP surgeries in England, so only national services are shown.' },
};

const LEVEL_NAMES: Record<string, string> = { P0: 'Low (P0): email and phone checked', P5: 'Medium (P5): identity checked', P9: 'High (P9): identity checked in full' };

function safeReturnTo(value: unknown): string {
  // Only local paths: an absolute or protocol-relative URL would make sign-in an open redirect.
  return typeof value === 'string' && /^\/(?![/\\])[\w\-/?=&.%]*$/.test(value) ? value : '/';
}

/** The citizen app's renderer: its views, the shared layout, and its header variants. */
export function createCitizenRenderer() {
  return createRenderer({
    viewDirs: [path.join(here, 'views'), path.join(here, 'national/views'), path.join(here, 'gp/views'), path.join(here, '../views')],
    serviceName: 'Front Door',
    serviceHref: '/',
    navigations: {
      signedOut: [],
      signedIn: [{ text: 'Your account', href: '/account' }, { text: 'Sign out', href: '/sign-out' }],
    },
    footerLinks: [{ text: 'Accessibility statement', href: '/accessibility' }, { text: 'API documentation', href: '/api/docs/' }],
  });
}

export async function citizenWeb(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { config, sessions, catalog, citizenRp } = deps;
  const renderer = await createCitizenRenderer();
  const cookieOpts = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies };

  const page = (reply: FastifyReply, view: string, ctx: Record<string, unknown>, status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(
      renderer.render(view, { cspNonce: reply.scriptNonce, nav: reply.request.ctx?.signedIn ? 'signedIn' : 'signedOut', ...ctx }),
    );

  // Rendered service lists, per resolution: most users at one practice and level share one fragment.
  const fragments = new Map<string, string>();
  const servicesFragment = (r: Resolution) => {
    let html = fragments.get(r.key);
    if (html === undefined) {
      html = renderer.render('partials/hub-services.njk', { resolution: r, headings: CATEGORY_HEADINGS, problem: r.practiceProblem ? PRACTICE_PROBLEMS[r.practiceProblem] : undefined });
      if (fragments.size > 10_000) fragments.clear();
      fragments.set(r.key, html);
    }
    return html;
  };

  const citizen = (req: FastifyRequest): CitizenActor => req.ctx.requireCitizen();

  app.get('/', async (req, reply) => {
    if (req.ctx.actor.type !== 'citizen') return page(reply, 'start.njk', { title: 'Use NHS services online' });
    const me = req.ctx.actor;
    const r = catalog.resolve(me.gpOdsCode, me.identityLevel);
    return page(reply, 'hub.njk', { title: 'Home', me, servicesHtml: servicesFragment(r), practice: r.practiceProblem ? undefined : r.practice });
  });

  app.get<{ Querystring: { returnTo?: string } }>('/auth/sign-in', { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } }, async (req, reply) => {
    let started;
    try {
      started = await citizenRp.start(safeReturnTo(req.query.returnTo));
    } catch (err) {
      req.log.warn({ err: { type: (err as Error).name } }, 'identity provider unreachable');
      return page(reply, 'problem.njk', { title: 'Sorry, you cannot sign in right now', message: 'The NHS login service is not responding. Try again in a few minutes.' }, 503);
    }
    const id = await sessions.create(started.tx, { absoluteMs: 10 * 60_000, idleMs: 10 * 60_000 });
    reply.setCookie(LOGIN_COOKIE, id, { ...cookieOpts, maxAge: 600 });
    return reply.redirect(started.url, 303);
  });

  app.get<{ Querystring: Record<string, string> }>('/auth/callback', { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } }, async (req, reply) => {
    const loginId = req.cookies[LOGIN_COOKIE];
    reply.clearCookie(LOGIN_COOKIE, { path: '/' });
    // Taking the transaction deletes it: a replayed callback finds nothing.
    const tx = loginId ? await sessions.take(loginId) : undefined;
    if (!tx || tx.kind !== 'login') {
      return page(reply, 'problem.njk', { title: 'Your sign-in has expired', message: 'Sign-in links can be used once, for 10 minutes. Start again to sign in.', action: { text: 'Sign in again', href: '/auth/sign-in' } }, 400);
    }
    if (req.query.error) {
      const cancelled = req.query.error === 'access_denied';
      return page(reply, 'problem.njk', { title: cancelled ? 'You did not sign in' : 'Sorry, there is a problem signing you in', message: cancelled ? 'You cancelled signing in to NHS login.' : 'NHS login could not sign you in. Try again.', action: { text: 'Try again', href: '/auth/sign-in' } }, 400);
    }
    let result;
    try {
      result = await citizenRp.finish(new URL(req.url, config.publicUrl), tx);
    } catch (err) {
      req.log.warn({ reason: err instanceof SignInError ? err.reason.split(':')[0] : 'error' }, 'sign-in rejected');
      return page(reply, 'problem.njk', { title: 'Sorry, there is a problem signing you in', message: 'We could not confirm your sign-in with NHS login, so you have not been signed in. Start again.', action: { text: 'Sign in again', href: '/auth/sign-in' } }, 400);
    }
    let claims;
    try {
      claims = validateCitizenClaims(result.claims);
    } catch (err) {
      const field = err instanceof ClaimsError ? err.claim : 'unknown';
      req.log.warn({ claim: field }, 'malformed identity claims');
      return page(reply, 'problem.njk', { title: 'Sorry, we cannot sign you in', message: 'Your NHS login account is missing details we need, or they are not in the expected form. Contact NHS login support and try again later.' }, 400);
    }
    if (req.sessionId) await sessions.destroy(req.sessionId);
    const sid = await sessions.create({ kind: 'citizen', ...claims, idToken: result.idToken });
    reply.setCookie(SESSION_COOKIE, sid, cookieOpts);
    await req.ctx.audit({ action: 'sign-in', resource: 'session', outcome: 'success', subjectNhsNumber: claims.nhsNumber });
    return reply.redirect(safeReturnTo(tx.returnTo), 303);
  });

  app.get('/sign-out', async (req, reply) => {
    const sid = req.sessionId;
    let endSession: string | undefined;
    if (sid) {
      const s = await sessions.take(sid);
      if (s && s.kind !== 'login') endSession = await citizenRp.endSessionUrl(s.idToken);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect(endSession ?? '/signed-out', 303);
  });

  app.get('/signed-out', async (_req, reply) => page(reply, 'signed-out.njk', { title: 'You have signed out', nav: 'signedOut' }));

  app.get('/account', async (req, reply) => {
    const me = citizen(req);
    const r = catalog.resolve(me.gpOdsCode, me.identityLevel);
    return page(reply, 'account.njk', { title: 'Your account', me, practice: r.practice, practiceProblem: r.practiceProblem ? PRACTICE_PROBLEMS[r.practiceProblem] : undefined, levelName: LEVEL_NAMES[me.identityLevel], national: await national.accountRecord(req) });
  });

  /** A service this citizen may use now: commissioned for their practice (or national) and at their identity level. */
  const usableService = (req: FastifyRequest<{ Params: { id: string } }>): CatalogService | undefined => {
    const me = citizen(req);
    const found = catalog.resolve(me.gpOdsCode, me.identityLevel).services.find((s) => s.service.id === req.params.id);
    if (found && !found.usable) throw new UpliftRequiredError(found.service.minIdentityLevel, me.identityLevel);
    return found?.service;
  };

  app.get<{ Params: { id: string } }>('/services/:id', async (req, reply) => {
    const service = usableService(req);
    if (!service) return notFound(reply);
    return page(reply, 'service.njk', { title: service.name, service, back: { href: '/' } });
  });

  // Into a supplier's own website, signed in: a one-minute token naming the citizen, for that supplier only. A link,
  // not a form: browsers hold a form's redirect to the CSP's form-action list, and this one leaves for the supplier.
  app.get<{ Params: { id: string } }>('/services/:id/open', async (req, reply) => {
    const service = usableService(req);
    if (!service || service.integrationMethod !== 'web' || !service.webUrl) return notFound(reply);
    const me = citizen(req);
    const target = new URL(service.webUrl);
    target.searchParams.set('assertedLoginIdentity', await deps.handoff.sign(me, target.origin));
    // Passing who the citizen is to a supplier is a disclosure of their identity: it goes in their access log.
    await req.ctx.audit({ subjectNhsNumber: me.nhsNumber, action: 'sign-in hand-off', resource: `service:${service.id}`, supplier: service.supplier, outcome: 'success', detail: { to: target.origin } });
    return reply.redirect(target.toString(), 303);
  });

  app.get('/.well-known/handoff-jwks.json', async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(deps.handoff.jwks()));

  app.get<{ Querystring: { service?: string } }>('/prove-your-identity', async (req, reply) => {
    const me = citizen(req);
    const service: CatalogService | undefined = req.query.service ? catalog.service(req.query.service) : undefined;
    return page(reply, 'uplift.njk', { title: 'Prove your identity to use this service', me, service, back: { href: '/' } });
  });

  app.get('/access-log', async (req, reply) => {
    const me = citizen(req);
    const entries = me.nhsNumber ? await deps.audit.forSubject(me.nhsNumber, 100) : [];
    const lines = entries.map((e) => ({ at: e.at, ...accessLogLine(e) }));
    return page(reply, 'access-log.njk', { title: 'Who has accessed your data', lines, back: { href: '/account' } });
  });

  app.get('/accessibility', async (_req, reply) => page(reply, 'accessibility.njk', { title: 'Accessibility statement' }));

  const national = await nationalWeb(app, deps, page);

  await gpWeb(app, { deps, renderer });
  const notFound = (reply: FastifyReply) => page(reply, 'not-found.njk', { title: 'Page not found' }, 404);
  app.setNotFoundHandler((_req, reply) => notFound(reply));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof NotSignedInError) return reply.redirect(`/auth/sign-in?returnTo=${encodeURIComponent(req.url)}`, 303);
    if (err instanceof UpliftRequiredError) {
      const service = (req.params as { id?: string }).id;
      return page(reply, 'uplift.njk', { title: 'Prove your identity to use this service', service: service ? catalog.service(service) : undefined, needed: err.needed, back: { href: '/' } }, 403);
    }
    if (err instanceof AccessDeniedError) return page(reply, 'problem.njk', { title: 'You cannot see this page', message: 'You can only see your own information.' }, 403);
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      return page(reply, 'problem.njk', { title: 'Your form has expired', message: 'For your security, forms expire. Go back, refresh the page and try again. Nothing was saved.' }, 403);
    }
    if (err.statusCode === 429) return page(reply, 'problem.njk', { title: 'Too many attempts', message: 'Wait a minute, then try again.' }, 429);
    if (err.statusCode && err.statusCode < 500) return page(reply, 'problem.njk', { title: 'Sorry, there is a problem with this request', message: 'Check the address or go back and try again.' }, err.statusCode);
    req.log.error({ err: { type: err.name, message: err.message, stack: err.stack } }, 'unhandled error');
    return page(reply, 'error.njk', { title: 'Sorry, there is a problem with the service', reference: req.id }, 500);
  });
}
