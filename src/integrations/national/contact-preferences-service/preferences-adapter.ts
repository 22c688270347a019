// ContactPreferencesService over the contact preferences service's own snake_case API with problem+json errors.
import type { SupplierPolicy } from '../../resilience.ts';
import {
  CONTACT_CHANNELS,
  ContactPreferencesError,
  intentIsReflected,
  type ContactChannel,
  type ContactPreferences,
  type ContactPreferencesHistoryEntry,
  type ContactPreferencesService,
  type QuietHours,
} from '../contact-preferences.ts';
import { AgencyHttp, agencyCalls, isObject } from '../http.ts';
import { decideOutcome } from '../write-outcome.ts';

export interface ContactPreferencesServiceOptions {
  baseUrl: string;
  policy: SupplierPolicy;
  extraHeaders?: Record<string, string>;
}

export function createContactPreferencesService(opts: ContactPreferencesServiceOptions): ContactPreferencesService {
  const http = new AgencyHttp(opts.policy.supplier, opts.baseUrl, opts.extraHeaders);
  const calls = agencyCalls(opts.policy);

  const toPrefs = (body: unknown): ContactPreferences => {
    if (!isObject(body) || typeof body.nhs_number !== 'string' || !Number.isInteger(body.version) || !Array.isArray(body.channels) || !isObject(body.data_opt_out)) {
      throw http.badResponse('preferences came back in an unexpected shape');
    }
    const channels = body.channels.filter((c): c is ContactChannel => (CONTACT_CHANNELS as readonly string[]).includes(c as string));
    const quiet = isObject(body.quiet_hours) ? { start: String(body.quiet_hours.start), end: String(body.quiet_hours.end) } : null;
    const optOut = body.data_opt_out;
    return {
      nhsNumber: body.nhs_number,
      version: body.version as number,
      channels,
      quietHours: quiet,
      dataOptOut: { optedOut: optOut.research_and_planning === 'opted_out', ...(optOut.changed_at ? { changedAt: String(optOut.changed_at) } : {}) },
    };
  };

  const fail = (status: number, body: unknown): never => {
    if (!isObject(body) || typeof body.type !== 'string') throw http.badResponse(`answered ${status} without a problem body`);
    const message = String(body.detail ?? body.title ?? status);
    if (status === 409) throw new ContactPreferencesError('version-conflict', message, { current: toPrefs(body.current) });
    if (status === 404) throw new ContactPreferencesError('not-found', message);
    if (status === 400 || status === 422) throw new ContactPreferencesError('invalid', message, { field: typeof body.field === 'string' ? body.field : undefined });
    throw http.badResponse(`unexpected status ${status}`);
  };

  const read = <T>(path: string, map: (b: unknown) => T) =>
    calls.read(async (signal) => {
      const res = await http.request('GET', path, { signal });
      return res.status === 200 ? map(res.body) : fail(res.status, res.body);
    });
  const get = (nhs: string) => read(`/v1/people/${encodeURIComponent(nhs)}/preferences`, toPrefs);

  return {
    get,

    async change(nhs, intent) {
      const base = `/v1/people/${encodeURIComponent(nhs)}`;
      const [path, body] = intent.action === 'set-preferences'
        ? [`${base}/preferences`, { channels: intent.channels, quiet_hours: intent.quietHours }]
        : [`${base}/data-opt-out`, { research_and_planning: intent.optedOut ? 'opted_out' : 'not_opted_out' }];
      const res = await calls.write((signal) => http.request('PUT', path, { signal, body: { ...body, expected_version: intent.expectedVersion }, headers: { 'x-request-id': intent.requestId } }));
      return res.status === 200 ? toPrefs(res.body) : fail(res.status, res.body);
    },

    history: (nhs) => read(`/v1/people/${encodeURIComponent(nhs)}/history`, (body): ContactPreferencesHistoryEntry[] => {
      if (!isObject(body) || !Array.isArray(body.items)) throw http.badResponse('history came back in an unexpected shape');
      return body.items.map((i: Record<string, unknown>) => ({
        version: Number(i.version),
        kind: i.kind === 'data_opt_out' ? 'data-opt-out' as const : 'preferences' as const,
        at: String(i.changed_at),
        ...(Array.isArray(i.channels) ? { channels: i.channels as ContactChannel[] } : {}),
        ...('quiet_hours' in i ? { quietHours: (i.quiet_hours ?? null) as QuietHours | null } : {}),
        ...(i.research_and_planning ? { optedOut: i.research_and_planning === 'opted_out' } : {}),
      }));
    }),

    async reconcile(nhs, intent) {
      const current = await get(nhs);
      return decideOutcome(current, intent.expectedVersion, intentIsReflected(current, intent));
    },
  };
}
