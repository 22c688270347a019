// The staff portal (/portal): sign-in through the staff OIDC client, a home page per role, sign out. Staff and
// citizens never share pages: a citizen session cannot open the portal, and a staff session is not a citizen.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessDeniedError, NotSignedInError, type StaffActor } from '../access/request-context.ts';
import type { AppDeps } from '../app.ts';
import { LOGIN_COOKIE, SESSION_COOKIE } from '../app.ts';
import type { StaffRole } from '../identity/provider/accounts.ts';
import { SignInError } from '../identity/relying-party.ts';
import type { PracticeDirectory } from '../reference/practice-directory.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import { REGION_NAMES } from '../reference/regions.ts';
import { createRenderer } from '../views/renderer.ts';
import { StaffClaimsError, validateStaffClaims } from './staff-claims.ts';
import { decisionsWeb } from './decisions-web.ts';
import { governanceWeb } from './governance-web.ts';
import { commissioningWeb } from './commissioning-web.ts';
import { monitoringWeb } from './monitoring-web.ts';
import { pipelineWeb } from './pipeline-web.ts';
import { GovernanceError } from '../governance/governance-access.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export const ROLE_NAMES: Record<StaffRole['role'], string> = {
  'national-team': 'National app team',
  region: 'NHS England region',
  commissioner: 'Commissioner (integrated care board)',
  provider: 'Provider (GP practice or trust)',
  supplier: 'Supplier',
  'practice-staff': 'Practice staff',
};

export function createPortalRenderer() {
  return createRenderer({
    viewDirs: [path.join(here, 'views'), path.join(here, '../views')],
    serviceName: 'Front Door portal',
    serviceHref: '/portal',
    navigations: {
      signedOut: [],
      signedIn: [{ text: 'Portal home', href: '/portal' }, { text: 'Sign out', href: '/portal/sign-out' }],
    },
    footerLinks: [{ text: 'Decision register', href: '/decisions' }, { text: 'API documentation', href: '/api/docs/' }],
  });
}

function safePortalReturnTo(value: unknown): string {
  // Only portal paths: anything else would make sign-in an open redirect, or land staff on citizen pages.
  return typeof value === 'string' && /^\/portal(?:[/?][\w\-/?=&.%]*)?$/.test(value) ? value : '/portal';
}

/** The staff member acting on this request; a citizen session is refused outright, not sent to sign in again. */
export function requirePortalStaff(req: FastifyRequest): StaffActor {
  if (req.ctx.actor.type === 'citizen') throw new AccessDeniedError('the portal is for staff and suppliers');
  return req.ctx.requireStaff();
}

/** Describes an organisation code in words, from the ODS reference data where it is one. */
export function organisationName(practices: PracticeDirectory, role: StaffRole): string {
  if (role.role === 'region') return REGION_NAMES[role.organisation] ? `${REGION_NAMES[role.organisation]} (${role.organisation})` : role.organisation;
  if (role.role === 'commissioner') {
    const icb = practices.listIcbs().find((i) => i.code === role.organisation);
    return icb ? `ICB ${icb.code} (${REGION_NAMES[icb.regionCode] ?? icb.regionCode})` : `ICB ${role.organisation}`;
  }
  if (role.role === 'provider' || role.role === 'practice-staff') {
    const p = practices.get(role.organisation);
    return p ? `${p.name} (${p.odsCode})` : role.organisation;
  }
  if (role.role === 'national-team') return 'NHS England national app team';
  return role.organisation;
}

export type PortalPage = (reply: FastifyReply, view: string, ctx: Record<string, unknown>, status?: number) => FastifyReply;

export async function portalWeb(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const renderer = await createPortalRenderer();
  const { practices } = await governanceDeps(deps.db, deps.audit);
  const cookieOpts = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: deps.config.secureCookies };

  const page: PortalPage = (reply, view, ctx, status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(
      renderer.render(view, { cspNonce: reply.scriptNonce, serviceName: 'Front Door portal', nav: reply.request.ctx?.actor.type === 'staff' ? 'signedIn' : 'signedOut', ...ctx }),
    );

  // The public register has its own error handling, apart from the portal's sign-in redirects.
  await app.register(async (pub) => {
    await decisionsWeb(pub, deps);
  });

  await app.register(async (portal) => {
    portal.get('/', async (req, reply) => {
      if (req.ctx.actor.type === 'anonymous') return page(reply, 'portal-start.njk', { title: 'Front Door portal' });
      const me = requirePortalStaff(req);
      const roles = me.roles.map((r) => ({ ...r, roleName: ROLE_NAMES[r.role], organisationName: organisationName(practices, r) }));
      return page(reply, 'portal-home.njk', { title: 'Portal home', me, roles, roleRows: roles.map((r) => ({ key: { text: r.roleName }, value: { text: r.organisationName } })) });
    });

    portal.get<{ Querystring: { returnTo?: string } }>('/auth/sign-in', { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } }, async (req, reply) => {
      if (!deps.staffRp) return page(reply, 'portal-problem.njk', { title: 'Sorry, staff sign-in is not set up', message: 'This Front Door has no staff sign-in client configured.' }, 503);
      let started;
      try {
        started = await deps.staffRp.start(safePortalReturnTo(req.query.returnTo));
      } catch (err) {
        req.log.warn({ err: { type: (err as Error).name } }, 'identity provider unreachable');
        return page(reply, 'portal-problem.njk', { title: 'Sorry, you cannot sign in right now', message: 'The sign-in service is not responding. Try again in a few minutes.' }, 503);
      }
      const id = await deps.sessions.create(started.tx, { absoluteMs: 10 * 60_000, idleMs: 10 * 60_000 });
      reply.setCookie(LOGIN_COOKIE, id, { ...cookieOpts, maxAge: 600 });
      return reply.redirect(started.url, 303);
    });

    portal.get<{ Querystring: Record<string, string> }>('/auth/callback', { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } }, async (req, reply) => {
      const again = { text: 'Sign in again', href: '/portal/auth/sign-in' };
      const loginId = req.cookies[LOGIN_COOKIE];
      reply.clearCookie(LOGIN_COOKIE, { path: '/' });
      // Taking the transaction deletes it (a replayed callback finds nothing); a citizen's transaction is not ours.
      const tx = loginId ? await deps.sessions.take(loginId) : undefined;
      if (!tx || tx.kind !== 'login' || tx.client !== 'staff' || !deps.staffRp) {
        return page(reply, 'portal-problem.njk', { title: 'Your sign-in has expired', message: 'Sign-in links can be used once, for 10 minutes. Start again to sign in.', action: again }, 400);
      }
      if (req.query.error) {
        return page(reply, 'portal-problem.njk', { title: 'You have not been signed in', message: req.query.error === 'access_denied' ? 'You cancelled signing in.' : 'The sign-in service could not sign you in. Try again.', action: again }, 400);
      }
      let result;
      try {
        result = await deps.staffRp.finish(new URL(req.url, deps.config.publicUrl), tx);
      } catch (err) {
        req.log.warn({ reason: err instanceof SignInError ? err.reason.split(':')[0] : 'error' }, 'staff sign-in rejected');
        return page(reply, 'portal-problem.njk', { title: 'Sorry, there is a problem signing you in', message: 'We could not confirm your sign-in, so you have not been signed in. Start again.', action: again }, 400);
      }
      let claims;
      try {
        claims = validateStaffClaims(result.claims);
      } catch (err) {
        const reason = err instanceof StaffClaimsError ? err.reason : 'malformed';
        req.log.warn({ reason }, 'staff claims refused');
        return page(reply, 'portal-problem.njk', {
          title: 'You cannot use the portal',
          message: reason === 'no-roles' ? 'Your account has no staff role. The portal is for NHS staff and suppliers; to use NHS services as a patient, go to the Front Door home page.' : 'Your account\'s staff roles are not in the expected form. Contact the national app team.',
        }, 403);
      }
      if (req.sessionId) await deps.sessions.destroy(req.sessionId);
      const sid = await deps.sessions.create({ kind: 'staff', ...claims, idToken: result.idToken });
      reply.setCookie(SESSION_COOKIE, sid, cookieOpts);
      await deps.audit.record({ actorType: 'staff', actorId: claims.sub, organisation: claims.roles.map((r) => r.organisation).join(','), action: 'sign-in', resource: 'portal-session', outcome: 'success', requestId: req.id });
      return reply.redirect(safePortalReturnTo(tx.returnTo), 303);
    });

    portal.get('/sign-out', async (req, reply) => {
      let endSession: string | undefined;
      if (req.sessionId && req.ctx.actor.type === 'staff') {
        const s = await deps.sessions.take(req.sessionId);
        if (s && s.kind === 'staff') endSession = await deps.staffRp?.endSessionUrl(s.idToken);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
      }
      return reply.redirect(endSession ?? '/portal/signed-out', 303);
    });

    await governanceWeb(portal, deps, page);
    await commissioningWeb(portal, deps, page);
    await monitoringWeb(portal, deps, page);
    await pipelineWeb(portal, deps, page);

    portal.get('/signed-out', async (_req, reply) => page(reply, 'portal-signed-out.njk', { title: 'You have signed out', nav: 'signedOut' }));

    portal.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (err instanceof NotSignedInError) return reply.redirect(`/portal/auth/sign-in?returnTo=${encodeURIComponent(req.url)}`, 303);
      if (err instanceof GovernanceError) {
        const titles = { denied: 'You cannot do this', 'not-found': 'Page not found', conflict: 'This has already changed', invalid: 'Sorry, there is a problem with what you sent' } as const;
        return page(reply, 'portal-problem.njk', { title: titles[err.kind], message: `${err.message}. Nothing was changed.`.replace(/\.\. /, '. ') }, err.statusCode);
      }
      if (err instanceof AccessDeniedError) return page(reply, 'portal-problem.njk', { title: 'You cannot see this page', message: err.message === 'the portal is for staff and suppliers' ? 'The portal is for NHS staff and suppliers. You are signed in to Front Door as a patient.' : 'Your role does not give access to this page.' }, 403);
      if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
        return page(reply, 'portal-problem.njk', { title: 'Your form has expired', message: 'For your security, forms expire. Go back, refresh the page and try again. Nothing was saved.' }, 403);
      }
      if (err.statusCode === 429) return page(reply, 'portal-problem.njk', { title: 'Too many attempts', message: 'Wait a minute, then try again.' }, 429);
      if (err.statusCode && err.statusCode < 500) return page(reply, 'portal-problem.njk', { title: 'Sorry, there is a problem with this request', message: 'Check the address or go back and try again.' }, err.statusCode);
      req.log.error({ err: { type: err.name, message: err.message, stack: err.stack } }, 'unhandled portal error');
      return page(reply, 'portal-problem.njk', { title: 'Sorry, there is a problem with the service', message: `Try again later. Reference: ${req.id}` }, 500);
    });
  }, { prefix: '/portal' });
}
