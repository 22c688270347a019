// DemographicsService over a PDS FHIR R4 style API: reads UK Core Patients with their ETag, and turns
// intended changes into one guarded JSON Patch (a test before every replace or remove of a list entry).
import type { Address, ContactPoint, Extension, OperationOutcome, Patient, PatientContact } from 'fhir/r4.d.ts';
import type { SupplierPolicy } from '../../resilience.ts';
import {
  DemographicsError,
  WHO_CAN_CHANGE,
  changeIsReflected,
  type DemographicsChange,
  type DemographicsRecord,
  type DemographicsService,
  type DemographicsUpdate,
} from '../demographics.ts';
import { AgencyHttp, agencyCalls, isObject } from '../http.ts';
import { decideOutcome, type Reconciled } from '../write-outcome.ts';

const NOMINATED_PHARMACY_URL = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NominatedPharmacy';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const EMERGENCY = { system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'C', display: 'Emergency Contact' };

interface PatchOp { op: 'add' | 'remove' | 'replace' | 'test'; path: string; value?: unknown }

export interface PdsOptions {
  baseUrl: string;
  policy: SupplierPolicy;
  extraHeaders?: Record<string, string>;
}

const isMobile = (t: ContactPoint) => t.system === 'phone' && t.use === 'mobile';
const isEmail = (t: ContactPoint) => t.system === 'email';
const isEmergency = (c: PatientContact) => (c.relationship ?? []).some((r) => r.coding?.some((x) => x.code === 'C'));

export function toRecord(p: Patient, version: number): DemographicsRecord {
  const name = (p.name ?? []).find((n) => n.use === 'usual' || n.use === 'official') ?? p.name?.[0];
  const addresses = (p.address ?? []).map((a) => ({
    id: a.id,
    use: (a.use ?? 'home') as DemographicsRecord['addresses'][number]['use'],
    lines: a.line ?? [],
    city: a.city,
    postcode: a.postalCode ?? '',
    from: a.period?.start,
    to: a.period?.end,
  }));
  const pharmacy = (p.extension ?? []).find((e) => e.url === NOMINATED_PHARMACY_URL);
  const emergency = (p.contact ?? []).find(isEmergency);
  const lang = p.communication?.[0]?.language?.coding?.[0];
  return {
    nhsNumber: p.id ?? p.identifier?.[0]?.value ?? '',
    version,
    name: { given: name?.given ?? [], family: name?.family ?? '', ...(name?.prefix ? { prefix: name.prefix } : {}) },
    birthDate: p.birthDate,
    gender: p.gender,
    gpOdsCode: p.generalPractitioner?.[0]?.identifier?.value,
    addresses,
    homeAddress: addresses.find((a) => a.use === 'home'),
    temporaryAddress: addresses.find((a) => a.use === 'temp'),
    mobile: (p.telecom ?? []).find(isMobile)?.value,
    email: (p.telecom ?? []).find(isEmail)?.value,
    nominatedPharmacyOdsCode: pharmacy?.valueReference?.identifier?.value,
    emergencyContact: emergency
      ? { name: emergency.name?.text ?? [emergency.name?.given?.join(' '), emergency.name?.family].filter(Boolean).join(' '), relationship: emergency.relationship?.find((r) => !r.coding?.some((c) => c.code === 'C'))?.text, phone: emergency.telecom?.[0]?.value ?? '' }
      : undefined,
    language: lang?.code ? { code: lang.code, display: lang.display } : undefined,
  };
}

/**
 * Builds the JSON Patch for a list of changes against the patient as read. Replaces and adds come first
 * (adds append, so no index moves), then removals from the highest index down, each preceded by a test.
 */
export function buildPatch(p: Patient, changes: DemographicsChange[]): PatchOp[] {
  const last = new Map<string, DemographicsChange>();
  for (const c of changes) last.set(c.kind === 'restricted' ? `restricted:${c.field}` : c.kind, c);
  const writes: PatchOp[] = [];
  const removals: { list: string; index: number; entry: unknown }[] = [];
  const present = new Set(Object.keys(p));

  const upsert = <T>(list: 'address' | 'telecom' | 'extension' | 'contact' | 'communication', find: (e: T) => boolean, value: T | null) => {
    const entries = ((p as unknown as Record<string, T[]>)[list]) ?? [];
    const index = entries.findIndex(find);
    if (index >= 0) {
      const existing = entries[index] as { id?: string };
      if (value === null) { removals.push({ list, index, entry: existing }); return; }
      writes.push(existing.id ? { op: 'test', path: `/${list}/${index}/id`, value: existing.id } : { op: 'test', path: `/${list}/${index}`, value: existing });
      writes.push({ op: 'replace', path: `/${list}/${index}`, value: existing.id ? { ...value, id: existing.id } : value });
    } else if (value !== null) {
      if (!present.has(list)) { writes.push({ op: 'add', path: `/${list}`, value: [] }); present.add(list); }
      writes.push({ op: 'add', path: `/${list}/-`, value });
    }
  };
  const address = (use: 'home' | 'temp', a: { lines: string[]; city?: string; postcode: string }, from?: string, to?: string): Address => ({
    use, type: 'physical', line: a.lines, ...(a.city ? { city: a.city } : {}), postalCode: a.postcode,
    period: { start: from ?? new Date().toISOString().slice(0, 10), ...(to ? { end: to } : {}) },
  });

  for (const c of last.values()) {
    switch (c.kind) {
      case 'home-address': upsert<Address>('address', (a) => a.use === 'home', address('home', c.address, c.from)); break;
      case 'temporary-address': upsert<Address>('address', (a) => a.use === 'temp', address('temp', c.address, c.from, c.to)); break;
      case 'remove-temporary-address': upsert<Address>('address', (a) => a.use === 'temp', null); break;
      case 'mobile': upsert<ContactPoint>('telecom', isMobile, c.value === null ? null : { system: 'phone', use: 'mobile', value: c.value }); break;
      case 'email': upsert<ContactPoint>('telecom', isEmail, c.value === null ? null : { system: 'email', use: 'home', value: c.value }); break;
      case 'nominated-pharmacy':
        upsert<Extension>('extension', (e) => e.url === NOMINATED_PHARMACY_URL, c.odsCode === null ? null : { url: NOMINATED_PHARMACY_URL, valueReference: { identifier: { system: ODS_SYSTEM, value: c.odsCode } } });
        break;
      case 'emergency-contact':
        upsert<PatientContact>('contact', isEmergency, c.contact === null ? null : {
          relationship: [{ coding: [EMERGENCY] }, ...(c.contact.relationship ? [{ text: c.contact.relationship }] : [])],
          name: { text: c.contact.name },
          telecom: [{ system: 'phone', value: c.contact.phone }],
        });
        break;
      case 'language':
        upsert<NonNullable<Patient['communication']>[number]>('communication', () => true, { language: { coding: [{ system: 'urn:ietf:bcp:47', code: c.code, ...(c.display ? { display: c.display } : {}) }] }, preferred: true });
        break;
      case 'restricted': {
        const path = { name: '/name/0', birthDate: '/birthDate', gender: '/gender', gpOdsCode: '/generalPractitioner/0/identifier/value', nhsNumber: '/identifier/0/value' }[c.field];
        writes.push({ op: present.has(path.split('/')[1]) ? 'replace' : 'add', path, value: c.value });
        break;
      }
    }
  }
  removals.sort((a, b) => (a.list === b.list ? b.index - a.index : a.list.localeCompare(b.list)));
  const removeOps = removals.flatMap(({ list, index, entry }) => {
    const id = (entry as { id?: string }).id;
    return [id ? { op: 'test' as const, path: `/${list}/${index}/id`, value: id } : { op: 'test' as const, path: `/${list}/${index}`, value: entry }, { op: 'remove' as const, path: `/${list}/${index}` }];
  });
  return [...writes, ...removeOps];
}

// The last Patient read per agency and person, shared by every adapter instance in the process: a write at the
// version just read needs no second read to build its patch (the agency still checks the version by If-Match).
const lastRead = new Map<string, { version: number; patient: Patient }>();

function versionOf(etag: string | undefined): number | undefined {
  const m = /^(?:W\/)?"(\d+)"$/.exec((etag ?? '').trim());
  return m ? Number(m[1]) : undefined;
}

function outcomeIssue(body: unknown): { code?: string; diagnostics?: string; expression?: string } {
  const issue = isObject(body) && Array.isArray((body as unknown as OperationOutcome).issue) ? (body as unknown as OperationOutcome).issue[0] : undefined;
  return { code: issue?.details?.coding?.[0]?.code, diagnostics: issue?.diagnostics, expression: issue?.expression?.[0] };
}

const FIELD_OF_PATH: [RegExp, keyof typeof WHO_CAN_CHANGE][] = [
  [/^Patient\.name/, 'name'], [/^Patient\.birthDate/, 'birthDate'], [/^Patient\.gender/, 'gender'],
  [/^Patient\.generalPractitioner/, 'gpOdsCode'], [/^Patient\.identifier/, 'nhsNumber'],
];

export function createPdsDemographics(opts: PdsOptions): DemographicsService {
  const http = new AgencyHttp(opts.policy.supplier, opts.baseUrl, opts.extraHeaders);
  const calls = agencyCalls(opts.policy);

  const fail = (status: number, body: unknown): never => {
    const issue = outcomeIssue(body);
    if (!issue.code && status !== 404) throw http.badResponse(`answered ${status} without an OperationOutcome`);
    const message = issue.diagnostics ?? `answered ${status}`;
    if (status === 404) throw new DemographicsError('not-found', message);
    if (status === 403) {
      const who = /Who can change it: (.+?)\.?$/.exec(issue.diagnostics ?? '')?.[1]
        ?? FIELD_OF_PATH.map(([re, f]) => (re.test(issue.expression ?? '') ? WHO_CAN_CHANGE[f] : undefined)).find(Boolean)
        ?? 'your GP practice';
      throw new DemographicsError('not-allowed', message, { path: issue.expression, whoCanChange: who });
    }
    if (status === 400 || status === 412 || status === 415 || status === 422) throw new DemographicsError('invalid', message, { path: issue.expression });
    throw http.badResponse(`unexpected status ${status}`);
  };

  const readPatient = (nhsNumber: string) =>
    calls.read(async (signal) => {
      const res = await http.request('GET', `/Patient/${encodeURIComponent(nhsNumber)}`, { signal, headers: { accept: 'application/fhir+json' } });
      if (res.status !== 200) return fail(res.status, res.body);
      const version = versionOf(res.headers.etag);
      if (!isObject(res.body) || res.body.resourceType !== 'Patient' || version === undefined) throw http.badResponse('a Patient read came back without a Patient or without a version ETag');
      const patient = res.body as unknown as Patient;
      remember(nhsNumber, version, patient);
      return { version, patient };
    });

  const remember = (nhs: string, version: number, patient: Patient) => {
    if (lastRead.size > 1000) lastRead.delete(lastRead.keys().next().value!);
    lastRead.set(`${opts.baseUrl}|${nhs}`, { version, patient });
  };

  const get = async (nhsNumber: string) => {
    const { version, patient } = await readPatient(nhsNumber);
    return toRecord(patient, version);
  };

  return {
    get,

    async update(nhsNumber, update: DemographicsUpdate) {
      let base = lastRead.get(`${opts.baseUrl}|${nhsNumber}`);
      if (!base || base.version !== update.expectedVersion) base = await readPatient(nhsNumber);
      // Sent even at a stale version: a retry of an applied request id is answered with its original result,
      // anything else with 409, which becomes a version-conflict below.
      const ops = buildPatch(base.patient, update.changes);
      if (ops.length === 0 && base.version === update.expectedVersion) return toRecord(base.patient, base.version);
      if (ops.length === 0) ops.push({ op: 'test', path: '/id', value: nhsNumber });
      const res = await calls.write(async (signal) =>
        http.request('PATCH', `/Patient/${encodeURIComponent(nhsNumber)}`, {
          signal,
          body: ops,
          contentType: 'application/json-patch+json',
          headers: { 'if-match': `W/"${update.expectedVersion}"`, 'x-request-id': update.requestId, accept: 'application/fhir+json' },
        }));
      if (res.status === 409) {
        const current = await get(nhsNumber);
        throw new DemographicsError('version-conflict', outcomeIssue(res.body).diagnostics ?? 'The record has changed', { current });
      }
      if (res.status !== 200) return fail(res.status, res.body);
      const version = versionOf(res.headers.etag);
      if (!isObject(res.body) || res.body.resourceType !== 'Patient' || version === undefined) throw http.badResponse('a PATCH answer was not a Patient with a version ETag');
      remember(nhsNumber, version, res.body as unknown as Patient);
      return toRecord(res.body as unknown as Patient, version);
    },

    async reconcile(nhsNumber, update): Promise<Reconciled<DemographicsRecord>> {
      const current = await get(nhsNumber);
      return decideOutcome(current, update.expectedVersion, update.changes.every((c) => changeIsReflected(current, c)));
    },
  };
}
