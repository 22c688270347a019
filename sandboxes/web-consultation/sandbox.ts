// Sandbox "web-consultation": an online consultation service as a DPS supplier (TriagePoint) would host it for
// the app's web integration: single sign-on hand-off, a GAD-7 triage questionnaire, check answers, a reference.
// Faulty modes show the web conformance suite and accessibility gate failing: inaccessible, no-sso, insecure,
// soft-404, plus the shared delay/timeout/error/garbage/drop faults.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { installFaults } from '../common/faults.ts';
import type { SandboxDefinition } from '../common/server.ts';
import { appCss, checkPage, confirmationPage, handOffRefusedPage, logoSvg, notFoundPage, problemPage, questionPage, signInPage, startPage, type Variant } from './pages.ts';
import { loadQuestionnaire, triage } from './questionnaire.ts';

/** The query parameter the app adds when it opens a web integration for a signed-in user. */
export const HAND_OFF_PARAM = 'assertedLoginIdentity';
const COOKIE = 'tp_session';
const MAX_SESSIONS = 20_000;

interface Session {
  csrf: string;
  /** NHS login subject from the hand-off, or the supplier's own account after its sign-in page. */
  user?: string;
  answers: Record<string, string>;
  submitted?: { reference: string; triage: ReturnType<typeof triage> };
}

const require = createRequire(import.meta.url);
const nhsukDist = path.join(path.dirname(require.resolve('nhsuk-frontend/package.json')), 'dist/nhsuk');

const securityHeaders: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self' https://assets.nhs.uk; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // The hand-off token arrives in the address; no Referer may carry it elsewhere.
  'referrer-policy': 'no-referrer',
};

/** Where Front Door publishes the public keys its hand-off tokens are signed with. */
export const HANDOFF_JWKS_PATH = '/.well-known/handoff-jwks.json';
/** Hand-off tokens already used are remembered this long (longer than any token lives), so none is used twice. */
const SEEN_TOKEN_MS = 10 * 60_000;

export type HandOffCheck = { sub: string } | { refused: string; status?: number };

/**
 * Checks a hand-off token as a supplier must before signing anyone in. Given the Front Door it trusts, the
 * token must carry a signature that verifies against that platform's published hand-off keys, name the
 * platform as issuer and this service (its own origin) as audience, and not have expired. Without one (a
 * sandbox run alone, in a sandpit) only the token's shape is checked, and /health says so.
 */
export function handOffVerifier(platformUrl: string | undefined): (token: string, ownOrigin: string) => Promise<HandOffCheck> {
  const keys = platformUrl ? createRemoteJWKSet(new URL(HANDOFF_JWKS_PATH, platformUrl), { timeoutDuration: 3000 }) : undefined;
  const issuer = platformUrl?.replace(/\/$/, '');
  const seen = new Map<string, number>();
  return async (token, ownOrigin) => {
    let claims: JWTPayload;
    try {
      claims = keys ? (await jwtVerify(token, keys, { issuer, audience: ownOrigin, algorithms: ['RS256'], requiredClaims: ['exp', 'jti'] })).payload : decodeJwt(token);
    } catch (err) {
      // The platform's keys not reachable is not the token's fault: the user is told to try again later.
      if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) return { refused: 'the NHS App\'s published keys could not be fetched to check it', status: 503 };
      return { refused: whyRefused(err) };
    }
    if (typeof claims.sub !== 'string' || !claims.sub) return { refused: 'it names no subject' };
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return { refused: 'it has expired' };
    // A token is good for one sign-in: one copied from a browser's history or a log cannot be used again.
    if (claims.jti) {
      const now = Date.now();
      for (const [id, until] of seen) if (until < now) seen.delete(id); else break;
      if (seen.has(claims.jti)) return { refused: 'it has already been used' };
      seen.set(claims.jti, now + SEEN_TOKEN_MS);
    }
    return { sub: claims.sub };
  };
}

function whyRefused(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'it has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'it was issued for another service';
    if (err.claim === 'iss') return 'it was not issued by the NHS App';
    return `its ${err.claim} claim is missing or wrong`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) return 'its signature does not match the NHS App\'s published keys';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'it is signed with an algorithm that is not accepted';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return 'it is not a well-formed JWT';
  return 'it is not a token this service can accept';
}

function newReference(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const part = () => Array.from({ length: 4 }, () => alphabet[randomInt(alphabet.length)]).join('');
  return `TP-${part()}-${part()}`;
}

export const webConsultationSandbox: SandboxDefinition = {
  name: 'web-consultation',
  description: 'Online consultation web integration (DPS supplier TriagePoint): SSO hand-off, GAD-7 triage, reference',
  async build({ faultMode, platformUrl }) {
    const mode = faultMode ?? '';
    const variant: Variant = { inaccessible: mode === 'inaccessible', insecure: mode === 'insecure' };
    const noSso = mode === 'no-sso';
    const { title, questions } = loadQuestionnaire();
    const sessions = new Map<string, Session>();
    const checkHandOff = handOffVerifier(platformUrl);

    const app = Fastify({ logger: false });
    installFaults(app, { mode: faultMode, errorBody: (status) => ({ contentType: 'text/html; charset=utf-8', body: problemPage(variant, status) }) });
    await app.register(fastifyCookie);
    await app.register(fastifyFormbody);
    await app.register(fastifyStatic, { root: path.join(nhsukDist, 'assets/images'), prefix: '/assets/images/', decorateReply: false, maxAge: '1d' });
    const nhsukCss = readFileSync(path.join(nhsukDist, 'nhsuk-frontend.min.css'));

    app.addHook('onSend', async (_req, reply) => {
      if (variant.insecure) return;
      for (const [name, value] of Object.entries(securityHeaders)) reply.header(name, value);
    });

    const html = (reply: FastifyReply, body: string, status = 200) =>
      reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

    const sessionOf = (req: FastifyRequest): Session | undefined => {
      const id = req.cookies[COOKIE];
      return id ? sessions.get(id) : undefined;
    };
    const newSession = (req: FastifyRequest, reply: FastifyReply, user?: string): Session => {
      const id = randomBytes(24).toString('base64url');
      const s: Session = { csrf: randomBytes(24).toString('base64url'), user, answers: {} };
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      sessions.set(id, s);
      reply.setCookie(COOKIE, id, { path: '/', httpOnly: true, sameSite: 'lax', secure: req.protocol === 'https' });
      return s;
    };
    const field = (req: FastifyRequest, name: string): string => {
      const v = (req.body as Record<string, unknown> | undefined)?.[name];
      return typeof v === 'string' ? v : '';
    };
    const csrfOk = (req: FastifyRequest, s: Session) => field(req, '_csrf') === s.csrf;
    /** The signed-in session, or undefined after sending the user to sign in. */
    const signedIn = (req: FastifyRequest, reply: FastifyReply): Session | undefined => {
      const s = sessionOf(req);
      if (s?.user) return s;
      void reply.redirect('/', 303);
      return undefined;
    };
    const firstUnanswered = (s: Session) => questions.findIndex((q) => q.required && !s.answers[q.linkId]);

    app.get('/health', async () => ({
      status: 'ok', service: 'web-consultation', questionnaire: title,
      handOff: platformUrl ? `signature verified against ${new URL(HANDOFF_JWKS_PATH, platformUrl).href}` : 'sandpit: shape checked only, signature not verified',
    }));
    app.get('/assets/nhsuk.css', async (_req, reply) => reply.type('text/css').header('cache-control', 'public, max-age=86400').send(nhsukCss));
    app.get('/assets/app.css', async (_req, reply) => reply.type('text/css').send(appCss));
    app.get('/assets/logo.svg', async (_req, reply) => reply.type('image/svg+xml').send(logoSvg));

    app.get('/', async (req, reply) => {
      const token = (req.query as Record<string, unknown>)[HAND_OFF_PARAM];
      if (typeof token === 'string' && !noSso) {
        // The audience is this service as the browser reached it.
        const handOff = await checkHandOff(token, `${req.protocol}://${req.host}`);
        if ('refused' in handOff) return html(reply, handOffRefusedPage(variant, handOff.refused), handOff.status ?? 400);
        newSession(req, reply, handOff.sub);
        // Drop the token from the address so it is not kept in history or shown again.
        return reply.redirect('/', 303);
      }
      const s = sessionOf(req) ?? newSession(req, reply);
      if (!s.user) return html(reply, signInPage(variant, s.csrf));
      return html(reply, startPage(variant, title, '/questions/1'));
    });

    app.post('/sign-in', async (req, reply) => {
      const s = sessionOf(req);
      if (!s || !csrfOk(req, s)) return html(reply, problemPage(variant, 403), 403);
      const email = field(req, 'email').trim();
      const errors: Record<string, string> = {};
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = 'Enter your email address, like name@example.com';
      if (!field(req, 'password')) errors.password = 'Enter your password';
      if (Object.keys(errors).length) return html(reply, signInPage(variant, s.csrf, errors, email), 400);
      s.user = `account:${email}`;
      return reply.redirect('/', 303);
    });

    const questionAt = (raw: string) => {
      const n = Number(raw);
      return Number.isInteger(n) && n >= 1 && n <= questions.length ? { n, q: questions[n - 1]! } : undefined;
    };

    app.get<{ Params: { n: string }; Querystring: { change?: string } }>('/questions/:n', async (req, reply) => {
      const s = signedIn(req, reply);
      if (!s) return reply;
      const at = questionAt(req.params.n);
      if (!at) return html(reply, notFoundPage(variant), 404);
      const returnToCheck = req.query.change === 'check';
      const back = returnToCheck ? '/check' : at.n === 1 ? '/' : `/questions/${at.n - 1}`;
      return html(reply, questionPage(variant, at.q, at.n, questions.length, { csrf: s.csrf, value: s.answers[at.q.linkId], back, returnToCheck }));
    });

    app.post<{ Params: { n: string } }>('/questions/:n', async (req, reply) => {
      const s = signedIn(req, reply);
      if (!s) return reply;
      if (!csrfOk(req, s)) return html(reply, problemPage(variant, 403), 403);
      const at = questionAt(req.params.n);
      if (!at) return html(reply, notFoundPage(variant), 404);
      const { n, q } = at;
      const value = field(req, 'answer');
      const returnToCheck = field(req, 'returnTo') === 'check';
      const back = returnToCheck ? '/check' : n === 1 ? '/' : `/questions/${n - 1}`;
      let error: string | undefined;
      if (q.kind === 'text') {
        if (!value.trim()) error = 'Enter what you would like help with';
        else if (value.length > 2000) error = 'What you would like help with must be 2,000 characters or fewer';
      } else if (!q.options.some((o) => o.code === value)) {
        error = `Select how often you have been bothered by: ${q.text.toLowerCase()}`;
      }
      if (error) return html(reply, questionPage(variant, q, n, questions.length, { csrf: s.csrf, value, error, back, returnToCheck }), 400);
      s.answers[q.linkId] = q.kind === 'text' ? value.trim() : value;
      s.submitted = undefined;
      return reply.redirect(returnToCheck || n === questions.length ? '/check' : `/questions/${n + 1}`, 303);
    });

    app.get('/check', async (req, reply) => {
      const s = signedIn(req, reply);
      if (!s) return reply;
      const missing = firstUnanswered(s);
      if (missing >= 0) return reply.redirect(`/questions/${missing + 1}`, 303);
      const rows = questions.map((q, i) => ({
        n: i + 1,
        question: q.text,
        answer: q.kind === 'text' ? s.answers[q.linkId]! : q.options.find((o) => o.code === s.answers[q.linkId])?.display ?? '',
      }));
      return html(reply, checkPage(variant, rows, s.csrf, `/questions/${questions.length}`));
    });

    app.post('/check', async (req, reply) => {
      const s = signedIn(req, reply);
      if (!s) return reply;
      if (!csrfOk(req, s)) return html(reply, problemPage(variant, 403), 403);
      const missing = firstUnanswered(s);
      if (missing >= 0) return reply.redirect(`/questions/${missing + 1}`, 303);
      // A second press of "Send request" shows the first confirmation rather than sending twice.
      s.submitted ??= { reference: newReference(), triage: triage(questions, s.answers) };
      return reply.redirect('/confirmation', 303);
    });

    app.get('/confirmation', async (req, reply) => {
      const s = signedIn(req, reply);
      if (!s) return reply;
      if (!s.submitted) return reply.redirect('/check', 303);
      return html(reply, confirmationPage(variant, s.submitted.reference, s.submitted.triage));
    });

    app.setNotFoundHandler(async (req, reply) => {
      // soft-404: a missing page answers 200, so monitoring and the app cannot tell it is missing.
      if (mode === 'soft-404') return html(reply, startPage(variant, title, '/questions/1'));
      return html(reply, notFoundPage(variant), 404);
    });
    app.setErrorHandler(async (err, _req, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return html(reply, problemPage(variant, status), status >= 400 ? status : 500);
    });
    return app;
  },
};
