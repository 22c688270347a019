// The contact preferences sandbox: its own snake_case API with problem+json errors, holding each person's
// preferred channels, quiet hours and national data opt-out (with history), versioned, with request-id replay.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { installFaults } from '../common/faults.ts';
import type { SandboxDefinition } from '../common/server.ts';

const CHANNELS = ['app', 'sms', 'email', 'letter'];
const OPT_OUT = ['opted_out', 'not_opted_out'];
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

interface Preferences {
  nhs_number: string;
  version: number;
  channels: string[];
  quiet_hours: { start: string; end: string } | null;
  data_opt_out: { research_and_planning: string; changed_at: string | null };
  updated_at: string | null;
}
interface HistoryItem { version: number; kind: 'preferences' | 'data_opt_out'; changed_at: string; channels?: string[]; quiet_hours?: Preferences['quiet_hours']; research_and_planning?: string }

class Problem {
  constructor(readonly status: number, readonly type: string, readonly detail: string, readonly field?: string, readonly current?: Preferences) {}
  body() {
    return { type: `https://contact-preferences.example/problems/${this.type}`, title: this.type.replace(/-/g, ' '), status: this.status, detail: this.detail, ...(this.field ? { field: this.field } : {}), ...(this.current ? { current: this.current } : {}) };
  }
}

function isValidNhsNumber(d: string): boolean {
  if (!/^\d{10}$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(d[i]) * (10 - i);
  const c = 11 - (sum % 11);
  return c !== 10 && (c === 11 ? 0 : c) === Number(d[9]);
}

export const contactPreferencesSandbox: SandboxDefinition = {
  name: 'contact-preferences',
  description: 'Contact preferences and national data opt-out (own snake_case API, problem+json errors)',
  async build({ faultMode }) {
    const app = Fastify({ logger: false });
    const people = (JSON.parse(readFileSync(new URL('../../demo/people.json', import.meta.url), 'utf8')) as { people: { nhsNumber: string | null }[] }).people;
    const prefs = new Map<string, Preferences>();
    const history = new Map<string, HistoryItem[]>();
    for (const p of people) {
      if (!p.nhsNumber) continue;
      prefs.set(p.nhsNumber, { nhs_number: p.nhsNumber, version: 1, channels: ['app', 'letter'], quiet_hours: null, data_opt_out: { research_and_planning: 'not_opted_out', changed_at: null }, updated_at: null });
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
      errorBody: (status) => ({ contentType: 'application/problem+json', body: JSON.stringify(new Problem(status, status >= 500 ? 'service-unavailable' : 'request-refused', `Simulated error ${status}`).body()) }),
    });

    const problem = (reply: FastifyReply, p: Problem) => reply.code(p.status).type('application/problem+json').send(p.body());
    const find = (nhs: string): Preferences => {
      if (!isValidNhsNumber(nhs)) throw new Problem(400, 'invalid-nhs-number', `${nhs} is not a valid NHS number`, 'nhs_number');
      const p = prefs.get(nhs);
      if (!p) throw new Problem(404, 'not-found', `No preferences are held for ${nhs}`);
      return p;
    };

    type R = FastifyRequest<{ Params: { nhs: string } }>;
    const write = async (req: R, reply: FastifyReply, change: (draft: Preferences, body: Record<string, unknown>, now: string) => HistoryItem) => {
      const rid = req.headers['x-request-id'];
      const key = typeof rid === 'string' ? `${req.params.nhs}:${rid}` : undefined;
      const earlier = key ? replays.get(key) : undefined;
      if (earlier) return reply.code(earlier.status).header('x-idempotent-replay', 'true').type(earlier.status >= 400 ? 'application/problem+json' : 'application/json').send(earlier.body);
      const remember = (status: number, body: unknown) => {
        if (key) replays.set(key, { status, body });
        // Bounded so a long benchmark cannot grow the process without limit; a retry comes soon after its first send.
        if (replays.size > 50_000) replays.delete(replays.keys().next().value!);
        return reply.code(status).type(status >= 400 ? 'application/problem+json' : 'application/json').send(body);
      };
      try {
        const current = find(req.params.nhs);
        const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
        if (!Number.isInteger(body.expected_version)) throw new Problem(400, 'missing-expected-version', 'expected_version (the version you last read) is required', 'expected_version');
        if (body.expected_version !== current.version) throw new Problem(409, 'version-conflict', `Preferences are at version ${current.version}, not ${String(body.expected_version)}`, 'expected_version', structuredClone(current));
        const draft = structuredClone(current);
        const now = new Date().toISOString();
        const item = change(draft, body, now);
        draft.version += 1;
        draft.updated_at = now;
        item.version = draft.version;
        prefs.set(draft.nhs_number, draft);
        history.get(draft.nhs_number)!.push(item);
        return remember(200, draft);
      } catch (err) {
        if (err instanceof Problem) return remember(err.status, err.body());
        throw err;
      }
    };

    app.get<{ Params: { nhs: string } }>('/v1/people/:nhs/preferences', async (req, reply) => {
      try { return find(req.params.nhs); } catch (err) { if (err instanceof Problem) return problem(reply, err); throw err; }
    });
    app.get<{ Params: { nhs: string } }>('/v1/people/:nhs/history', async (req, reply) => {
      try { find(req.params.nhs); return { nhs_number: req.params.nhs, items: history.get(req.params.nhs) }; } catch (err) { if (err instanceof Problem) return problem(reply, err); throw err; }
    });
    app.put<{ Params: { nhs: string } }>('/v1/people/:nhs/preferences', (req, reply) => write(req, reply, (draft, body, now) => {
      const channels = body.channels;
      if (!Array.isArray(channels) || channels.length === 0) throw new Problem(400, 'invalid-channels', 'channels must list at least one of app, sms, email, letter', 'channels');
      for (const c of channels) if (!CHANNELS.includes(c as string)) throw new Problem(400, 'invalid-channels', `Unknown channel "${String(c)}"; known: ${CHANNELS.join(', ')}`, 'channels');
      let quiet: Preferences['quiet_hours'] = null;
      if (body.quiet_hours !== null && body.quiet_hours !== undefined) {
        const q = body.quiet_hours as Record<string, unknown>;
        for (const f of ['start', 'end']) if (typeof q?.[f] !== 'string' || !TIME.test(q[f] as string)) throw new Problem(400, 'invalid-quiet-hours', `quiet_hours.${f} must be HH:MM (24-hour)`, `quiet_hours.${f}`);
        if (q.start === q.end) throw new Problem(400, 'invalid-quiet-hours', 'quiet_hours start and end must differ', 'quiet_hours');
        quiet = { start: q.start as string, end: q.end as string };
      }
      draft.channels = [...new Set(channels as string[])];
      draft.quiet_hours = quiet;
      return { version: 0, kind: 'preferences', changed_at: now, channels: draft.channels, quiet_hours: quiet };
    }));
    app.put<{ Params: { nhs: string } }>('/v1/people/:nhs/data-opt-out', (req, reply) => write(req, reply, (draft, body, now) => {
      if (!OPT_OUT.includes(body.research_and_planning as string)) throw new Problem(400, 'invalid-opt-out', 'research_and_planning must be opted_out or not_opted_out', 'research_and_planning');
      draft.data_opt_out = { research_and_planning: body.research_and_planning as string, changed_at: now };
      return { version: 0, kind: 'data_opt_out', changed_at: now, research_and_planning: body.research_and_planning as string };
    }));

    app.setErrorHandler((err, _req, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return problem(reply, new Problem(status, status >= 500 ? 'internal-error' : 'bad-request', (err as Error).message));
    });
    app.setNotFoundHandler((req, reply) => problem(reply, new Problem(404, 'no-such-endpoint', `${req.method} ${req.url}`)));
    return app;
  },
};
