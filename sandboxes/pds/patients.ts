// The PDS sandbox's records: UK Core Patients built from the shared demo population, and the rules
// deciding which parts a patient may change themselves.
import { readFileSync } from 'node:fs';
import type { Address, ContactPoint, Extension, Patient, PatientContact } from 'fhir/r4.d.ts';

export const NOMINATED_PHARMACY_URL = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NominatedPharmacy';
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const RELATIONSHIP_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0131';

interface DemoPerson {
  nhsNumber: string | null;
  givenName: string;
  familyName: string;
  birthdate: string;
  gender: Patient['gender'];
  phone: string | null;
  email: string;
  gpOdsCode: string | null;
  nominatedPharmacy?: string;
  address: { line: string[]; city: string; postalCode: string } | null;
}

export function loadDemoPeople(): DemoPerson[] {
  const file = new URL('../../demo/people.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { people: DemoPerson[] }).people;
}

export function isValidNhsNumber(digits: string): boolean {
  if (!/^\d{10}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
  const check = 11 - (sum % 11);
  return check !== 10 && (check === 11 ? 0 : check) === Number(digits[9]);
}

export function patientFor(person: DemoPerson, index: number): Patient {
  const nhs = person.nhsNumber!;
  const telecom: ContactPoint[] = [];
  if (person.phone) telecom.push({ id: `${nhs}-mobile`, system: 'phone', use: 'mobile', value: person.phone });
  telecom.push({ id: `${nhs}-email`, system: 'email', use: 'home', value: person.email });
  const address: Address[] = person.address
    ? [{ id: `${nhs}-home`, use: 'home', type: 'physical', line: person.address.line, city: person.address.city, postalCode: person.address.postalCode, period: { start: '2018-04-01' } }]
    : [];
  const contact: PatientContact[] = index % 2 === 0
    ? [{
        id: `${nhs}-emergency`,
        relationship: [{ coding: [{ system: RELATIONSHIP_SYSTEM, code: 'C', display: 'Emergency Contact' }] }],
        name: { text: 'Sam Taylor', given: ['Sam'], family: 'Taylor' },
        telecom: [{ system: 'phone', use: 'mobile', value: '07700900111' }],
      }]
    : [];
  // The same nominated pharmacy the person's GP system holds (both sandboxes read demo/people.json).
  const extension: Extension[] = person.nominatedPharmacy
    ? [{ url: NOMINATED_PHARMACY_URL, valueReference: { identifier: { system: ODS_SYSTEM, value: person.nominatedPharmacy } } }]
    : [];
  return {
    resourceType: 'Patient',
    id: nhs,
    meta: { versionId: '1' },
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }],
    name: [{ id: `${nhs}-name`, use: 'usual', given: [person.givenName], family: person.familyName, period: { start: person.birthdate } }],
    gender: person.gender,
    birthDate: person.birthdate,
    address,
    telecom,
    contact,
    extension,
    generalPractitioner: person.gpOdsCode
      ? [{ id: `${nhs}-gp`, type: 'Organization', identifier: { system: ODS_SYSTEM, value: person.gpOdsCode, period: { start: '2018-04-01' } } }]
      : [],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en', display: 'English' }] }, preferred: true }],
  };
}

/** Parts of the record a patient may never change, and who can. */
export const LOCKED_MEMBERS: Record<string, string> = {
  name: 'your GP practice (they update the national record for you)',
  birthDate: 'your GP practice (they update the national record for you)',
  gender: 'your GP practice (they update the national record for you)',
  generalPractitioner: 'the GP practice you register with (register with a new practice to change it)',
  identifier: 'no one: an NHS number does not change',
};

/**
 * Lists a patient may change only some entries of: which entries are theirs to change. Any other entry
 * (a work address, a landline, a GP-held extension) must be left exactly as it was.
 */
export const PARTLY_CHANGEABLE: Record<string, { who: string; changeable: (entry: unknown) => boolean }> = {
  address: {
    who: 'your GP practice (only home and temporary addresses can be changed here)',
    changeable: (e) => ['home', 'temp'].includes((e as Address)?.use ?? ''),
  },
  telecom: {
    who: 'your GP practice (only a mobile number and an email address can be changed here)',
    changeable: (e) => {
      const t = e as ContactPoint;
      return (t?.system === 'phone' && t.use === 'mobile') || t?.system === 'email';
    },
  },
  extension: {
    who: 'your GP practice (only the nominated pharmacy can be changed here)',
    changeable: (e) => (e as Extension)?.url === NOMINATED_PHARMACY_URL,
  },
  contact: {
    who: 'your GP practice (only the emergency contact can be changed here)',
    changeable: (e) => ((e as PatientContact)?.relationship ?? []).some((r) => r.coding?.some((c) => c.code === 'C')),
  },
};

/** Lists the patient may change in full. */
export const CHANGEABLE_MEMBERS = new Set(['communication']);

const DAY_MS = 86_400_000;

/** Checks the patched record as a whole; returns the offending FHIRPath and a reason, or undefined. */
export function validatePatient(p: Patient): { expression: string; message: string } | undefined {
  for (const [i, a] of (p.address ?? []).entries()) {
    if (!a || typeof a !== 'object') return { expression: `Patient.address[${i}]`, message: 'An address must be an object' };
    if (!a.postalCode || !/^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i.test(a.postalCode)) return { expression: `Patient.address[${i}].postalCode`, message: 'An address needs a valid UK postcode' };
    if (!a.line?.length) return { expression: `Patient.address[${i}].line`, message: 'An address needs at least one line' };
    if (a.use === 'temp') {
      const start = Date.parse(a.period?.start ?? '');
      const end = Date.parse(a.period?.end ?? '');
      if (!Number.isFinite(start) || !Number.isFinite(end)) return { expression: `Patient.address[${i}].period`, message: 'A temporary address needs a period with a start and an end' };
      if (end < start) return { expression: `Patient.address[${i}].period.end`, message: 'A temporary address period must end after it starts' };
      if (end - start > 90 * DAY_MS) return { expression: `Patient.address[${i}].period`, message: 'A temporary address period can be at most 90 days' };
    }
  }
  if ((p.address ?? []).filter((a) => a.use === 'home').length > 1) return { expression: 'Patient.address', message: 'Only one home address can be held' };
  for (const [i, t] of (p.telecom ?? []).entries()) {
    if (t?.system === 'email' && !/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(t.value ?? '')) return { expression: `Patient.telecom[${i}].value`, message: 'An email address must be in the correct format' };
    if (t?.system === 'phone' && t.use === 'mobile' && !/^(07\d{9}|\+447\d{9})$/.test((t.value ?? '').replace(/\s/g, ''))) return { expression: `Patient.telecom[${i}].value`, message: 'A mobile number must be a UK mobile number' };
  }
  for (const [i, e] of (p.extension ?? []).entries()) {
    if (e?.url === NOMINATED_PHARMACY_URL && !/^F[A-Z0-9]{4}$/.test(e.valueReference?.identifier?.value ?? '')) return { expression: `Patient.extension[${i}].valueReference.identifier.value`, message: 'A nominated pharmacy needs a pharmacy ODS code, like FA424' };
  }
  for (const [i, c] of (p.communication ?? []).entries()) {
    if (!c?.language?.coding?.[0]?.code) return { expression: `Patient.communication[${i}].language`, message: 'A communication language needs a code' };
  }
  return undefined;
}
