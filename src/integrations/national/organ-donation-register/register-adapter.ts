// OrganDonationService over the organ donation register's own REST/JSON API (SCREAMING_CASE codes, expectedVersion in the body).
import type { SupplierPolicy } from '../../resilience.ts';
import { AgencyHttp, agencyCalls, isObject } from '../http.ts';
import {
  OrganDonationError,
  intentIsReflected,
  type OrganChoice,
  type OrganDonationDecision,
  type OrganDonationHistoryEntry,
  type OrganDonationIntent,
  type OrganDonationRecord,
  type OrganDonationService,
  type ReferenceItem,
} from '../organ-donation.ts';
import { decideOutcome } from '../write-outcome.ts';

export interface OrganDonationRegisterOptions {
  baseUrl: string;
  policy: SupplierPolicy;
  extraHeaders?: Record<string, string>;
}

const toWire = (s: string) => s.toUpperCase().replace(/-/g, '_');
const fromWire = (s: string) => s.toLowerCase().replace(/_/g, '-');

function decisionToWire(d: OrganDonationDecision): Record<string, unknown> {
  switch (d.kind) {
    case 'opt-out': return { decisionType: 'OPT_OUT' };
    case 'representative': return { decisionType: 'NOMINATED_REPRESENTATIVE', representative: { fullName: d.representative.name, relationship: d.representative.relationship, contactNumber: d.representative.contact } };
    case 'opt-in': return {
      decisionType: 'OPT_IN',
      // Left out when missing so the register, not this adapter, gives the precise refusal.
      ...(d.faithDeclaration ? { faithDeclaration: toWire(d.faithDeclaration) } : {}),
      organScope: d.organs === 'all' ? 'ALL' : 'SOME',
      ...(d.organs === 'all' ? {} : { organChoices: Object.fromEntries(Object.entries(d.organs).map(([k, v]) => [toWire(k), toWire(String(v))])) }),
    };
  }
}

function decisionFromWire(r: Record<string, unknown> | null): OrganDonationDecision | null {
  if (!r) return null;
  switch (r.decisionType) {
    case 'OPT_OUT': return { kind: 'opt-out' };
    case 'NOMINATED_REPRESENTATIVE': {
      const rep = r.representative as Record<string, string>;
      return { kind: 'representative', representative: { name: rep.fullName, relationship: rep.relationship, contact: rep.contactNumber } };
    }
    case 'OPT_IN': {
      const organs = r.organScope === 'ALL'
        ? 'all' as const
        : Object.fromEntries(Object.entries((r.organChoices ?? {}) as Record<string, string>).map(([k, v]) => [fromWire(k), fromWire(v) as OrganChoice]));
      return { kind: 'opt-in', organs, faithDeclaration: fromWire(String(r.faithDeclaration)) as 'yes' | 'no' | 'not-applicable' };
    }
    default: throw new Error(`unknown decisionType ${String(r.decisionType)}`);
  }
}

export function createOrganDonationRegister(opts: OrganDonationRegisterOptions): OrganDonationService {
  const http = new AgencyHttp(opts.policy.supplier, opts.baseUrl, opts.extraHeaders);
  const calls = agencyCalls(opts.policy);

  const toRecord = (body: unknown): OrganDonationRecord => {
    if (!isObject(body) || typeof body.nhsNumber !== 'string' || !Number.isInteger(body.version) || !('registration' in body)) throw http.badResponse('a donor record came back in an unexpected shape');
    const reg = body.registration as Record<string, unknown> | null;
    try {
      return {
        nhsNumber: body.nhsNumber,
        version: body.version as number,
        decision: decisionFromWire(reg),
        ...(reg?.ethnicityCode ? { ethnicity: String(reg.ethnicityCode) } : {}),
        ...(reg?.religionCode ? { religion: String(reg.religionCode) } : {}),
        ...(body.registeredAt ? { registeredAt: String(body.registeredAt) } : {}),
        ...(body.lastConfirmedAt ? { lastConfirmedAt: String(body.lastConfirmedAt) } : {}),
      };
    } catch (err) {
      throw http.badResponse((err as Error).message);
    }
  };

  const fail = (status: number, body: unknown): never => {
    const error = isObject(body) && isObject(body.error) ? body.error : undefined;
    if (!error || typeof error.code !== 'string') throw http.badResponse(`answered ${status} without an error body`);
    const message = String(error.message ?? error.code);
    const field = typeof error.field === 'string' ? error.field : undefined;
    if (status === 409) throw new OrganDonationError('version-conflict', message, { current: toRecord((body as Record<string, unknown>).current) });
    if (status === 404) throw new OrganDonationError('not-found', message);
    if (status === 422) throw new OrganDonationError('no-decision', message);
    if (status === 400) throw new OrganDonationError('invalid', message, { field });
    throw http.badResponse(`unexpected status ${status}`);
  };

  const read = <T>(path: string, map: (body: unknown) => T) =>
    calls.read(async (signal) => {
      const res = await http.request('GET', path, { signal });
      return res.status === 200 ? map(res.body) : fail(res.status, res.body);
    });

  const get = (nhs: string) => read(`/donors/${encodeURIComponent(nhs)}`, toRecord);

  const items = (body: unknown): ReferenceItem[] => {
    if (!isObject(body) || !Array.isArray(body.items)) throw http.badResponse('a reference list came back in an unexpected shape');
    return body.items.map((i) => ({ code: String((i as ReferenceItem).code), display: String((i as ReferenceItem).display) }));
  };

  return {
    get,

    async change(nhs, intent) {
      const base = `/donors/${encodeURIComponent(nhs)}`;
      const [method, path, body] = intent.action === 'record'
        ? ['PUT' as const, `${base}/registration`, { ...decisionToWire(intent.decision), ...(intent.ethnicity ? { ethnicityCode: intent.ethnicity } : {}), ...(intent.religion ? { religionCode: intent.religion } : {}) }]
        : intent.action === 'reaffirm'
          ? ['POST' as const, `${base}/reaffirm`, {}]
          : ['POST' as const, `${base}/withdraw`, { reason: intent.reason }];
      const res = await calls.write((signal) => http.request(method, path, { signal, body: { ...body, expectedVersion: intent.expectedVersion }, headers: { 'x-request-id': intent.requestId } }));
      return res.status === 200 ? toRecord(res.body) : fail(res.status, res.body);
    },

    history: (nhs) => read(`/donors/${encodeURIComponent(nhs)}/history`, (body): OrganDonationHistoryEntry[] => {
      if (!isObject(body) || !Array.isArray(body.entries)) throw http.badResponse('history came back in an unexpected shape');
      try {
        return body.entries.map((e: Record<string, unknown>) => ({
          version: Number(e.version),
          action: ({ REGISTERED: 'recorded', AMENDED: 'amended', REAFFIRMED: 'reaffirmed', WITHDRAWN: 'withdrawn' } as const)[String(e.action) as 'REGISTERED'] ?? 'amended',
          at: String(e.at),
          decision: decisionFromWire(e.registration as Record<string, unknown> | null),
          ...(e.withdrawalReason ? { withdrawalReason: String(e.withdrawalReason) } : {}),
        }));
      } catch (err) {
        throw http.badResponse((err as Error).message);
      }
    }),

    async referenceData() {
      const [ethnicities, religions] = await Promise.all([read('/reference/ethnicities', items), read('/reference/religions', items)]);
      return { ethnicities, religions };
    },

    async reconcile(nhs, intent: OrganDonationIntent) {
      const current = await get(nhs);
      return decideOutcome(current, intent.expectedVersion, intentIsReflected(current, intent));
    },
  };
}
