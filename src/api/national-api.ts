// The signed-in citizen's details on the national record as JSON, for the app's own clients: the same audited
// read as the page (through NationalServices and RequestContext.forPatient), with a precise error for every
// refusal. Rate-limited per session, since it reaches an agency on each call.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { AccessDeniedError, NotSignedInError, UpliftRequiredError } from '../access/request-context.ts';
import { NATIONAL_LEVELS, type NationalServices } from '../national/national-services.ts';

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

function refuse(reply: FastifyReply, statusCode: 401 | 403 | 404 | 503, error: string, message: string) {
  return reply.code(statusCode).send({ statusCode, error, message });
}

export const nationalApi: FastifyPluginAsync<{ national: NationalServices; perMinute: number }> = async (app, { national, perMinute }) => {
  app.get('/me/national-record', {
    config: { rateLimit: { max: perMinute, timeWindow: '1 minute', keyGenerator: (req) => req.sessionId ?? req.ip } },
    schema: {
      summary: 'The signed-in citizen\'s details as the national record (PDS) holds them; needs identity level P9',
      tags: ['national services'],
      security: [{ session: [] }],
      response: { 200: NationalRecord, 401: Type.Ref('Error'), 403: Type.Ref('Error'), 404: Type.Ref('Error'), 503: Type.Ref('Error') },
    },
  }, async (req, reply) => {
    let nhsNumber: string;
    try {
      nhsNumber = req.ctx.requireCitizen(NATIONAL_LEVELS.record).nhsNumber ?? '';
    } catch (err) {
      if (err instanceof NotSignedInError) return refuse(reply, 401, 'Unauthorized', 'Sign in first: this is your own record');
      if (err instanceof UpliftRequiredError) return refuse(reply, 403, 'Forbidden', `Viewing the national record needs identity level ${err.needed}; you have ${err.actual}. Prove your identity at /uplift first`);
      if (err instanceof AccessDeniedError) return refuse(reply, 403, 'Forbidden', err.message);
      throw err;
    }
    if (!nhsNumber) return refuse(reply, 403, 'Forbidden', 'Your NHS login has no NHS number, so there is no national record to show');
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
    return r.value;
  });
};
