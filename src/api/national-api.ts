// The signed-in citizen's details on the national record as JSON, for the app's own clients: the same audited
// read and guarded change as the pages (through NationalServices and RequestContext.forPatient), with a precise
// error for every refusal. Rate-limited per session, since it reaches an agency on each call.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AccessDeniedError, NotSignedInError, UpliftRequiredError } from '../access/request-context.ts';
import { LANGUAGES, type DemographicsChange, type DemographicsRecord } from '../integrations/national/demographics.ts';
import { isRealDate, temporaryStayProblem, validateAddressLine, validateEmail, validateEmergencyContact, validatePastDate, validatePharmacyCode, validatePostcode, validateUkMobile } from '../integrations/national/validation.ts';
import { isUuid, NATIONAL_LEVELS, type NationalServices } from '../national/national-services.ts';

const Address = Type.Object({
  lines: Type.Array(Type.String()), city: Type.Optional(Type.String()), postcode: Type.String(), id: Type.Optional(Type.String()),
  use: Type.String({ description: 'home, temp, work, billing or old' }), from: Type.Optional(Type.String()), to: Type.Optional(Type.String()),
});

const NationalRecord = Type.Object({
  nhsNumber: Type.String(),
  version: Type.Integer({ description: 'The agency\'s version of the record; a change must name the version it was made against' }),
  name: Type.Object({ given: Type.Array(Type.String()), family: Type.String(), prefix: Type.Optional(Type.Array(Type.String())) }),
  birthDate: Type.Optional(Type.String()),
  gender: Type.Optional(Type.String()),
  gpOdsCode: Type.Optional(Type.String()),
  addresses: Type.Array(Address),
  homeAddress: Type.Optional(Address),
  temporaryAddress: Type.Optional(Address),
  mobile: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  nominatedPharmacyOdsCode: Type.Optional(Type.String()),
  emergencyContact: Type.Optional(Type.Object({ name: Type.String(), relationship: Type.Optional(Type.String()), phone: Type.String() })),
  language: Type.Optional(Type.Object({ code: Type.String(), display: Type.Optional(Type.String()) })),
});

const CHANGE_KINDS = ['home-address', 'temporary-address', 'remove-temporary-address', 'mobile', 'email', 'nominated-pharmacy', 'emergency-contact', 'language'] as const;

const RecordChange = Type.Object({
  // A plain string here, so that an unknown kind gets recordChangeFromJson's message listing the kinds.
  kind: Type.String({ description: `Which detail changes, one of ${CHANGE_KINDS.join(', ')}: only the details a citizen may change` }),
}, {
  additionalProperties: true,
  description: 'One change. home-address: {address: {lines, city?, postcode}, from?}; temporary-address: {address, from, to} '
    + '(YYYY-MM-DD, at most 90 days); remove-temporary-address: {}; mobile or email: {value} (null removes it); '
    + 'nominated-pharmacy: {odsCode} (null removes it); emergency-contact: {contact: {name, relationship, phone}} (null '
    + 'removes it); language: {code} (a code from the list the pages offer)',
});

/** A response of the shared error shape, with what that status means here (the documentation's wording for it). */
const error = (description: string) => Type.Ref('Error', { description });

const Invalid = Type.Object({
  statusCode: Type.Integer(), error: Type.String(), message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String({ description: 'JSON Pointer into the body' }), message: Type.String() }))),
}, { description: 'The change breaks a rule the pages also apply (postcode, phone, email, pharmacy code, dates, the language list), '
  + 'each problem with a JSON Pointer in `errors`; or the Idempotency-Key is missing or not a UUID. Nothing was sent' });

const Conflict = Type.Object({
  statusCode: Type.Integer(), error: Type.String(), message: Type.String(),
  current: NationalRecord,
}, { description: 'The version in If-Match is no longer current: `current` is the record as it is now. Nothing was overwritten' });

const signedOut = error('No session: sign in first');
const forbidden = error('Below identity level P9, or your NHS login has no NHS number');
const unavailable = error('The national record is not available right now (Retry-After says when to try again); nothing was changed');

function refuse(reply: FastifyReply, statusCode: 400 | 401 | 403 | 404 | 409 | 415 | 422 | 428 | 503 | 504, error: string, message: string, more: Record<string, unknown> = {}) {
  return reply.code(statusCode).send({ statusCode, error, message, ...more });
}

/** The signed-in citizen's NHS number at P9, or the refusal already sent. */
function ownRecord(req: FastifyRequest, reply: FastifyReply, doing: string): string | undefined {
  let nhsNumber: string;
  try {
    nhsNumber = req.ctx.requireCitizen(NATIONAL_LEVELS.record).nhsNumber ?? '';
  } catch (err) {
    if (err instanceof NotSignedInError) { refuse(reply, 401, 'Unauthorized', 'Sign in first: this is your own record'); return undefined; }
    if (err instanceof UpliftRequiredError) { refuse(reply, 403, 'Forbidden', `${doing} the national record needs identity level ${err.needed}; you have ${err.actual}. Prove your identity at /uplift first`); return undefined; }
    if (err instanceof AccessDeniedError) { refuse(reply, 403, 'Forbidden', err.message); return undefined; }
    throw err;
  }
  if (!nhsNumber) { refuse(reply, 403, 'Forbidden', 'Your NHS login has no NHS number, so there is no national record'); return undefined; }
  return nhsNumber;
}

type Problem = { path: string; message: string };
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A JSON change checked by the same rules the pages use (postcode, phone, email, pharmacy code, dates, the
 * language list): the domain change, or every problem with its JSON Pointer. Nothing is sent while any remain.
 */
export function recordChangeFromJson(body: Record<string, unknown>, today = new Date()): { change?: DemographicsChange; problems: Problem[] } {
  const problems: Problem[] = [];
  const check = (path: string, r: { ok: true; value: string } | { ok: false; message: string }) => {
    if (!r.ok) problems.push({ path, message: r.message });
    return r.ok ? r.value : '';
  };
  const address = () => {
    const a = body.address;
    if (!isObject(a)) { problems.push({ path: '/address', message: 'Give the address as {lines, city, postcode}' }); return undefined; }
    const lines = Array.isArray(a.lines) ? a.lines.map(text).map((l) => l.trim()).filter(Boolean) : [];
    check('/address/lines', validateAddressLine(lines[0] ?? ''));
    const postcode = check('/address/postcode', validatePostcode(text(a.postcode)));
    const city = text(a.city).trim();
    return lines.length && postcode ? { lines, ...(city ? { city } : {}), postcode } : undefined;
  };
  const date = (name: string) => {
    const v = text(body[name]);
    if (!isRealDate(v)) problems.push({ path: `/${name}`, message: `${name} must be a real date written YYYY-MM-DD, like 2026-03-27` });
    return v;
  };
  const orNull = <T>(name: string, f: (v: unknown) => T): T | null => (body[name] === null ? null : f(body[name]));
  let change: DemographicsChange | undefined;
  switch (body.kind) {
    case 'mobile':
      change = { kind: 'mobile', value: orNull('value', (v) => check('/value', validateUkMobile(text(v)))) }; break;
    case 'email':
      change = { kind: 'email', value: orNull('value', (v) => check('/value', validateEmail(text(v)))) }; break;
    case 'nominated-pharmacy':
      change = { kind: 'nominated-pharmacy', odsCode: orNull('odsCode', (v) => check('/odsCode', validatePharmacyCode(text(v)))) }; break;
    case 'remove-temporary-address':
      change = { kind: 'remove-temporary-address' }; break;
    case 'language': {
      const chosen = LANGUAGES.find((l) => l.code === text(body.code));
      if (!chosen) problems.push({ path: '/code', message: `Choose a language code from the list: ${LANGUAGES.map((l) => l.code).join(', ')}` });
      else change = { kind: 'language', code: chosen.code, display: chosen.display };
      break;
    }
    case 'emergency-contact': {
      const contact = orNull('contact', (c) => {
        if (!isObject(c)) { problems.push({ path: '/contact', message: 'Give the contact as {name, relationship, phone}, or null to remove it' }); return undefined; }
        const answers = validateEmergencyContact({ name: text(c.name), relationship: text(c.relationship), phone: text(c.phone) });
        return { name: check('/contact/name', answers.name), relationship: check('/contact/relationship', answers.relationship), phone: check('/contact/phone', answers.phone) };
      });
      if (contact !== undefined) change = { kind: 'emergency-contact', contact };
      break;
    }
    case 'home-address': {
      const a = address();
      const from = body.from === undefined ? undefined : check('/from', validatePastDate(text(body.from), today));
      if (a) change = { kind: 'home-address', address: a, ...(from ? { from } : {}) };
      break;
    }
    case 'temporary-address': {
      const a = address();
      const from = date('from');
      const to = date('to');
      if (isRealDate(from) && isRealDate(to)) {
        const problem = temporaryStayProblem(from, to, today);
        if (problem) problems.push({ path: '/to', message: problem });
      }
      if (a) change = { kind: 'temporary-address', address: a, from, to };
      break;
    }
    default:
      problems.push({ path: '/kind', message: `kind must be one of ${CHANGE_KINDS.join(', ')}` });
  }
  return problems.length ? { problems } : { change, problems };
}

/** `W/"3"`, `"3"` or `3`: the version the change was made against. */
function versionFrom(ifMatch: string | undefined): number | undefined {
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(ifMatch ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * A cookie-authenticated write must come from our own pages or the app, not another site: browsers say where a
 * request comes from, and anything but same-origin is refused (PATCH with a JSON body already needs a CORS
 * preflight, which this API never grants).
 */
function crossSite(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

const withVersion = (reply: FastifyReply, r: DemographicsRecord) => reply.header('etag', `W/"${r.version}"`).send(r);

export const nationalApi: FastifyPluginAsync<{ national: NationalServices; perMinute: number }> = async (app, { national, perMinute }) => {
  app.get('/me/national-record', {
    config: { rateLimit: { max: perMinute, timeWindow: '1 minute', keyGenerator: (req) => req.sessionId ?? req.ip } },
    schema: {
      summary: 'The signed-in citizen\'s details as the national record (PDS) holds them; needs identity level P9',
      tags: ['national services'],
      security: [{ session: [] }],
      response: {
        200: Type.Object(NationalRecord.properties, { description: 'Your details as the national record holds them, with the version in ETag' }),
        401: signedOut, 403: forbidden, 404: error('The national record has no entry for your NHS number'), 503: unavailable,
      },
    },
  }, async (req, reply) => {
    const nhsNumber = ownRecord(req, reply, 'Viewing');
    if (!nhsNumber) return reply;
    let r;
    try {
      // `Cache-Control: no-cache` asks for the agency's latest rather than a read from the last few seconds.
      r = await national.record(req.ctx, nhsNumber, { fresh: /no-cache/i.test(req.headers['cache-control'] ?? '') });
    } catch (err) {
      if ((err as { code?: string }).code === 'not-found') return refuse(reply, 404, 'Not Found', 'The national record has no entry for your NHS number');
      throw err;
    }
    if (!r.ok) {
      reply.header('retry-after', '30');
      return refuse(reply, 503, 'Service Unavailable', `The national record is not available right now (${r.reason}); nothing was changed. Try again later`);
    }
    return withVersion(reply, r.value);
  });

  app.patch('/me/national-record', {
    config: { rateLimit: { max: perMinute, timeWindow: '1 minute', keyGenerator: (req) => req.sessionId ?? req.ip } },
    schema: {
      summary: 'Change one detail of the signed-in citizen\'s national record (PDS); needs identity level P9',
      description: 'Send `If-Match` with the version you read (the `ETag` of GET) and an `Idempotency-Key` (a UUID you make once '
        + 'per change and send again on every retry: the change is applied at most once). A version that is no longer current '
        + 'is refused with 409 and the record as it is now; nothing is overwritten.',
      tags: ['national services'],
      security: [{ session: [] }],
      headers: Type.Object({ 'if-match': Type.Optional(Type.String()), 'idempotency-key': Type.Optional(Type.String()) }),
      body: RecordChange,
      response: {
        200: Type.Object(NationalRecord.properties, { description: 'The change is made: the record as it is now, with its new version in ETag. '
          + 'With `Idempotent-Replayed: true`, an earlier request with this Idempotency-Key made it, and nothing was sent again' }),
        400: Invalid, 401: signedOut,
        403: error('Below identity level P9, no NHS number, or the request came from another site'),
        409: Conflict,
        415: error('The change was not sent as application/json'),
        422: error('The national record refused the change (the message names the field and who can change it), or this Idempotency-Key was already used for a different change'),
        428: error('If-Match is missing: send the version you read, so a change made since is never overwritten'),
        503: unavailable,
        504: error('The national record did not answer in time, so whether the change was made is not yet known. Send the same request with the same Idempotency-Key: it is never applied twice'),
      },
    },
  }, async (req, reply) => {
    if (crossSite(req)) return refuse(reply, 403, 'Forbidden', 'A change to your record must come from Front Door itself, not another site');
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return refuse(reply, 415, 'Unsupported Media Type', 'Send the change as application/json');
    const nhsNumber = ownRecord(req, reply, 'Changing');
    if (!nhsNumber) return reply;
    const version = versionFrom(req.headers['if-match']);
    if (version === undefined) return refuse(reply, 428, 'Precondition Required', 'Send If-Match with the version you read (the ETag of GET /api/me/national-record), so a change made since is never overwritten');
    const requestId = String(req.headers['idempotency-key'] ?? '');
    if (!isUuid(requestId)) return refuse(reply, 400, 'Bad Request', 'Send an Idempotency-Key: a UUID made once for this change and sent again on every retry of it');
    const { change, problems } = recordChangeFromJson(req.body as Record<string, unknown>);
    if (!change) return refuse(reply, 400, 'Bad Request', `Nothing was sent: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { errors: problems });
    const w = await national.changeRecord(req.ctx, nhsNumber, change, version, requestId);
    switch (w.status) {
      case 'done':
        if (w.replayed) reply.header('idempotent-replayed', 'true');
        return withVersion(reply, w.record);
      case 'conflict':
        reply.header('etag', `W/"${w.current.version}"`);
        return refuse(reply, 409, 'Conflict', `Your record changed since version ${version}: it is now version ${w.current.version}. Nothing was changed; check the record as it is now and send the change again if you still want it`, { current: w.current });
      case 'refused':
        if (w.requestId === 'reused') return refuse(reply, 422, 'Unprocessable Entity', 'This Idempotency-Key was already used for a different change; make a new one for each change');
        return refuse(reply, 422, 'Unprocessable Entity', `The national record did not accept the change: ${w.message}${w.path ? ` (${w.path})` : ''}${w.whoCanChange ? `. Ask ${w.whoCanChange} to change it` : ''}`);
      case 'unavailable':
        reply.header('retry-after', '30');
        return refuse(reply, 503, 'Service Unavailable', 'The national record is not available right now, so nothing was changed. Try again later with the same Idempotency-Key');
      case 'unknown':
        reply.header('retry-after', '30');
        return refuse(reply, 504, 'Gateway Timeout', 'The national record did not answer in time, so we cannot yet say whether your change was made. It will not be sent twice: send the same request with the same Idempotency-Key in a few minutes to learn the outcome');
    }
  });
};
