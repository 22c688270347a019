// The organ donation register sandbox: its own REST/JSON dialect (SCREAMING_CASE enums, camelCase fields)
// holding one decision per NHS number, versioned, with history, reference lists and request-id replay.
import Fastify, { type FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { installFaults } from '../common/faults.ts';
import type { SandboxDefinition } from '../common/server.ts';

export const ORGANS = ['HEART', 'LUNGS', 'KIDNEYS', 'LIVER', 'CORNEAS', 'PANCREAS', 'TISSUE', 'SMALL_BOWEL'] as const;
const CHOICES = ['YES', 'NO', 'NOT_STATED'];
const FAITH = ['YES', 'NO', 'NOT_APPLICABLE'];

// NHS data dictionary ethnic categories (England) and a census-style religion list.
export const ETHNICITIES = [
  ['A', 'White - British'], ['B', 'White - Irish'], ['C', 'White - Any other White background'],
  ['D', 'Mixed - White and Black Caribbean'], ['E', 'Mixed - White and Black African'], ['F', 'Mixed - White and Asian'],
  ['G', 'Mixed - Any other mixed background'], ['H', 'Asian or Asian British - Indian'], ['J', 'Asian or Asian British - Pakistani'],
  ['K', 'Asian or Asian British - Bangladeshi'], ['L', 'Asian or Asian British - Any other Asian background'],
  ['M', 'Black or Black British - Caribbean'], ['N', 'Black or Black British - African'], ['P', 'Black or Black British - Any other Black background'],
  ['R', 'Other Ethnic Groups - Chinese'], ['S', 'Other Ethnic Groups - Any other ethnic group'], ['Z', 'Not stated'],
].map(([code, display]) => ({ code, display }));
export const RELIGIONS = [
  ['NONE', 'No religion'], ['BUDDHIST', 'Buddhist'], ['CHRISTIAN', 'Christian'], ['HINDU', 'Hindu'], ['JEWISH', 'Jewish'],
  ['MUSLIM', 'Muslim'], ['SIKH', 'Sikh'], ['OTHER', 'Any other religion'], ['NOT_STATED', 'Prefer not to say'],
].map(([code, display]) => ({ code, display }));

interface Registration {
  decisionType: 'OPT_IN' | 'OPT_OUT' | 'NOMINATED_REPRESENTATIVE';
  organScope?: 'ALL' | 'SOME';
  organChoices?: Record<string, string>;
  faithDeclaration?: string;
  representative?: { fullName: string; relationship: string; contactNumber: string };
  ethnicityCode?: string;
  religionCode?: string;
}

interface DonorRecord {
  nhsNumber: string;
  version: number;
  registration: Registration | null;
  registeredAt: string | null;
  lastConfirmedAt: string | null;
}

interface HistoryEntry { version: number; action: 'REGISTERED' | 'AMENDED' | 'REAFFIRMED' | 'WITHDRAWN'; at: string; registration: Registration | null; withdrawalReason?: string }

class ApiError {
  constructor(readonly status: number, readonly code: string, readonly message: string, readonly field?: string, readonly extra?: Record<string, unknown>) {}
}

function isValidNhsNumber(d: string): boolean {
  if (!/^\d{10}$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(d[i]) * (10 - i);
  const c = 11 - (sum % 11);
  return c !== 10 && (c === 11 ? 0 : c) === Number(d[9]);
}

/** Validates a registration body into the register's shape; every refusal names its field. */
export function readRegistration(body: Record<string, unknown>): Registration {
  const type = body.decisionType;
  if (type !== 'OPT_IN' && type !== 'OPT_OUT' && type !== 'NOMINATED_REPRESENTATIVE') {
    throw new ApiError(400, 'INVALID_DECISION_TYPE', 'decisionType must be OPT_IN, OPT_OUT or NOMINATED_REPRESENTATIVE', 'decisionType');
  }
  const reg: Registration = { decisionType: type };
  if (type === 'OPT_IN') {
    if (body.organScope !== 'ALL' && body.organScope !== 'SOME') throw new ApiError(400, 'INVALID_ORGAN_SCOPE', 'organScope must be ALL or SOME for OPT_IN', 'organScope');
    reg.organScope = body.organScope;
    if (body.organScope === 'SOME') {
      const choices = body.organChoices;
      if (!choices || typeof choices !== 'object' || Array.isArray(choices)) throw new ApiError(400, 'MISSING_ORGAN_CHOICES', 'organChoices is required when organScope is SOME', 'organChoices');
      const out: Record<string, string> = {};
      for (const organ of ORGANS) out[organ] = 'NOT_STATED';
      for (const [organ, choice] of Object.entries(choices)) {
        if (!(ORGANS as readonly string[]).includes(organ)) throw new ApiError(400, 'UNKNOWN_ORGAN', `Unknown organ code "${organ}"; known codes: ${ORGANS.join(', ')}`, `organChoices.${organ}`);
        if (!CHOICES.includes(choice as string)) throw new ApiError(400, 'INVALID_ORGAN_CHOICE', `organChoices.${organ} must be YES, NO or NOT_STATED`, `organChoices.${organ}`);
        out[organ] = choice as string;
      }
      if (!Object.values(out).includes('YES')) throw new ApiError(400, 'NO_ORGAN_CHOSEN', 'An OPT_IN with organScope SOME must say YES to at least one organ', 'organChoices');
      reg.organChoices = out;
    }
    if (!FAITH.includes(body.faithDeclaration as string)) throw new ApiError(400, 'MISSING_FAITH_DECLARATION', 'faithDeclaration (YES, NO or NOT_APPLICABLE) is required for OPT_IN', 'faithDeclaration');
    reg.faithDeclaration = body.faithDeclaration as string;
  }
  if (type === 'NOMINATED_REPRESENTATIVE') {
    const rep = body.representative as Record<string, unknown> | undefined;
    for (const f of ['fullName', 'relationship', 'contactNumber']) {
      if (typeof rep?.[f] !== 'string' || !(rep[f] as string).trim()) throw new ApiError(400, 'INVALID_REPRESENTATIVE', `representative.${f} is required`, `representative.${f}`);
    }
    reg.representative = { fullName: String(rep!.fullName), relationship: String(rep!.relationship), contactNumber: String(rep!.contactNumber) };
  }
  if (body.ethnicityCode !== undefined && body.ethnicityCode !== null) {
    if (!ETHNICITIES.some((e) => e.code === body.ethnicityCode)) throw new ApiError(400, 'UNKNOWN_ETHNICITY', `Unknown ethnicityCode "${String(body.ethnicityCode)}"; see GET /reference/ethnicities`, 'ethnicityCode');
    reg.ethnicityCode = body.ethnicityCode as string;
  }
  if (body.religionCode !== undefined && body.religionCode !== null) {
    if (!RELIGIONS.some((e) => e.code === body.religionCode)) throw new ApiError(400, 'UNKNOWN_RELIGION', `Unknown religionCode "${String(body.religionCode)}"; see GET /reference/religions`, 'religionCode');
    reg.religionCode = body.religionCode as string;
  }
  return reg;
}

export const organDonationSandbox: SandboxDefinition = {
  name: 'organ-donation',
  description: 'NHS Organ Donation Register (own REST/JSON API): decisions, history, reference lists',
  async build({ faultMode }) {
    const app = Fastify({ logger: false });
    const people = (JSON.parse(readFileSync(new URL('../../demo/people.json', import.meta.url), 'utf8')) as { people: { nhsNumber: string | null }[] }).people;
    const records = new Map<string, DonorRecord>();
    const history = new Map<string, HistoryEntry[]>();
    for (const p of people) {
      if (!p.nhsNumber) continue;
      records.set(p.nhsNumber, { nhsNumber: p.nhsNumber, version: 0, registration: null, registeredAt: null, lastConfirmedAt: null });
      history.set(p.nhsNumber, []);
    }
    const replays = new Map<string, { status: number; body: unknown }>();

    // `X-Sandbox-Fault: late-answer=MS`: processed, but answered late (the caller's "timeout after sending").
    app.addHook('onSend', async (req) => {
      const late = /^late-answer=(\d+)$/.exec(String(req.headers['x-sandbox-fault'] ?? faultMode ?? ''));
      if (late) await new Promise((r) => setTimeout(r, Math.min(Number(late[1]), 60_000)));
    });
    installFaults(app, {
      mode: faultMode,
      errorBody: (status) => ({ contentType: 'application/json', body: JSON.stringify({ error: { code: status >= 500 ? 'REGISTER_UNAVAILABLE' : 'REQUEST_REFUSED', message: `Simulated error ${status}` } }) }),
    });

    const fail = (reply: FastifyReply, e: ApiError) =>
      reply.code(e.status).send({ error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) }, ...(e.extra ?? {}) });

    const recordFor = (nhs: string): DonorRecord => {
      if (!isValidNhsNumber(nhs)) throw new ApiError(400, 'INVALID_NHS_NUMBER', `${nhs} is not a valid NHS number`, 'nhsNumber');
      const r = records.get(nhs);
      if (!r) throw new ApiError(404, 'DONOR_NOT_FOUND', `No person with NHS number ${nhs} is known to the register`);
      return r;
    };

    /** Runs a write once per X-Request-ID, checking the expected version first. */
    const write = async (req: { headers: Record<string, unknown>; body: unknown; params: { nhsNumber: string } }, reply: FastifyReply, change: (rec: DonorRecord, body: Record<string, unknown>) => HistoryEntry['action']) => {
      const requestId = typeof req.headers['x-request-id'] === 'string' ? `${req.params.nhsNumber}:${req.headers['x-request-id']}` : undefined;
      const earlier = requestId ? replays.get(requestId) : undefined;
      if (earlier) return reply.code(earlier.status).header('x-idempotent-replay', 'true').send(earlier.body);
      const remember = (status: number, body: unknown) => {
        if (requestId) replays.set(requestId, { status, body });
        // Bounded so a long benchmark cannot grow the process without limit; a retry comes soon after its first send.
        if (replays.size > 50_000) replays.delete(replays.keys().next().value!);
        return reply.code(status).send(body);
      };
      try {
        const rec = recordFor(req.params.nhsNumber);
        const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
        if (!Number.isInteger(body.expectedVersion)) throw new ApiError(400, 'MISSING_EXPECTED_VERSION', 'expectedVersion (the version you last read) is required', 'expectedVersion');
        if (body.expectedVersion !== rec.version) {
          throw new ApiError(409, 'VERSION_CONFLICT', `The register holds version ${rec.version}, not ${String(body.expectedVersion)}: someone else has changed this decision`, 'expectedVersion', { current: structuredClone(rec) });
        }
        const draft = structuredClone(rec);
        const action = change(draft, body);
        const now = new Date().toISOString();
        draft.version += 1;
        if (action === 'REGISTERED') draft.registeredAt = now;
        if (action !== 'WITHDRAWN') draft.lastConfirmedAt = now;
        else { draft.registeredAt = null; draft.lastConfirmedAt = null; }
        records.set(rec.nhsNumber, draft);
        history.get(rec.nhsNumber)!.push({ version: draft.version, action, at: now, registration: structuredClone(draft.registration), ...(action === 'WITHDRAWN' ? { withdrawalReason: String(body.reason) } : {}) });
        return remember(200, draft);
      } catch (err) {
        if (err instanceof ApiError) {
          const body = { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) }, ...(err.extra ?? {}) };
          return remember(err.status, body);
        }
        throw err;
      }
    };

    type P = { Params: { nhsNumber: string } };
    app.get('/reference/organs', async () => ({ items: ORGANS.map((code) => ({ code })) }));
    app.get('/reference/ethnicities', async () => ({ items: ETHNICITIES }));
    app.get('/reference/religions', async () => ({ items: RELIGIONS }));

    app.get<P>('/donors/:nhsNumber', async (req, reply) => {
      try { return recordFor(req.params.nhsNumber); } catch (err) { if (err instanceof ApiError) return fail(reply, err); throw err; }
    });
    app.get<P>('/donors/:nhsNumber/history', async (req, reply) => {
      try { recordFor(req.params.nhsNumber); return { nhsNumber: req.params.nhsNumber, entries: history.get(req.params.nhsNumber) }; } catch (err) { if (err instanceof ApiError) return fail(reply, err); throw err; }
    });
    // Records a first decision or amends the current one (a new decision replaces the old).
    app.put<P>('/donors/:nhsNumber/registration', (req, reply) => write(req, reply, (rec, body) => {
      const had = rec.registration !== null;
      rec.registration = readRegistration(body);
      return had ? 'AMENDED' : 'REGISTERED';
    }));
    app.post<P>('/donors/:nhsNumber/reaffirm', (req, reply) => write(req, reply, (rec) => {
      if (!rec.registration) throw new ApiError(422, 'NO_REGISTRATION', 'There is no decision to reaffirm');
      return 'REAFFIRMED';
    }));
    app.post<P>('/donors/:nhsNumber/withdraw', (req, reply) => write(req, reply, (rec, body) => {
      if (!rec.registration) throw new ApiError(422, 'NO_REGISTRATION', 'There is no decision to withdraw');
      if (typeof body.reason !== 'string' || !body.reason.trim()) throw new ApiError(400, 'MISSING_REASON', 'reason is required to withdraw a decision', 'reason');
      rec.registration = null;
      return 'WITHDRAWN';
    }));

    app.setErrorHandler((err, _req, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return reply.code(status).send({ error: { code: status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST', message: (err as Error).message } });
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'NO_SUCH_ENDPOINT', message: `${req.method} ${req.url}` } }));
    return app;
  },
};
