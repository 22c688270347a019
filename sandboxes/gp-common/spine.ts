// The Spine as a GP system reaches it. A patient's nominated pharmacy is held on the national record (PDS), and a
// GP system reads and changes it there, so a GP sandbox started beside the PDS sandbox shows the same pharmacy
// as the citizen's national record, whichever of the two they change it through.
import { randomUUID } from 'node:crypto';
import type { Extension, Patient } from 'fhir/r4.d.ts';
import { NOMINATED_PHARMACY_URL, ODS_SYSTEM } from '../pds/patients.ts';

/** How long a GP system waits for the Spine before giving up. */
const SPINE_TIMEOUT_MS = 3_000;

export interface Spine {
  /** The nominated pharmacy's ODS code on the national record (null: none); undefined when the record is not there. */
  nominatedPharmacy(nhsNumber: string): Promise<string | null | undefined>;
  /** Nominates a pharmacy on the national record; throws when the Spine refuses or cannot be reached. */
  nominate(nhsNumber: string, odsCode: string): Promise<void>;
}

/**
 * The Spine at the PDS sandbox's URL, looked up on each call (a sandbox may start before PDS has a port); none
 * for a GP sandbox started on its own, which keeps its own copy.
 */
export function pdsSpine(baseUrl: (() => string | undefined) | undefined): Spine | undefined {
  if (!baseUrl) return undefined;
  const read = async (nhsNumber: string): Promise<{ url: string; patient: Patient; etag: string } | undefined> => {
    const url = baseUrl();
    if (!url) return undefined;
    const r = await fetch(`${url}/Patient/${encodeURIComponent(nhsNumber)}`, {
      headers: { accept: 'application/fhir+json', 'x-request-id': randomUUID() }, signal: AbortSignal.timeout(SPINE_TIMEOUT_MS),
    });
    if (r.status === 404) return undefined;
    if (!r.ok) throw new Error(`the Spine answered ${r.status}`);
    return { url, patient: (await r.json()) as Patient, etag: r.headers.get('etag') ?? '' };
  };
  const nominationIndex = (p: Patient) => (p.extension ?? []).findIndex((e) => e.url === NOMINATED_PHARMACY_URL);

  return {
    async nominatedPharmacy(nhsNumber) {
      const found = await read(nhsNumber);
      if (!found) return undefined;
      const i = nominationIndex(found.patient);
      return i < 0 ? null : (found.patient.extension![i].valueReference?.identifier?.value ?? null);
    },
    async nominate(nhsNumber, odsCode) {
      // Someone else may change the record between the read and the patch: read again and retry once.
      for (let attempt = 0; attempt < 2; attempt++) {
        const found = await read(nhsNumber);
        if (!found) return;
        const nomination: Extension = { url: NOMINATED_PHARMACY_URL, valueReference: { identifier: { system: ODS_SYSTEM, value: odsCode } } };
        const i = nominationIndex(found.patient);
        const patch = i >= 0
          ? [{ op: 'test', path: `/extension/${i}/url`, value: NOMINATED_PHARMACY_URL }, { op: 'replace', path: `/extension/${i}`, value: nomination }]
          : [{ op: 'add', path: found.patient.extension ? '/extension/-' : '/extension', value: found.patient.extension ? nomination : [nomination] }];
        const r = await fetch(`${found.url}/Patient/${encodeURIComponent(nhsNumber)}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json-patch+json', 'if-match': found.etag, 'x-request-id': randomUUID() },
          body: JSON.stringify(patch),
          signal: AbortSignal.timeout(SPINE_TIMEOUT_MS),
        });
        if (r.ok) return;
        if (r.status !== 409) throw new Error(`the Spine refused the nomination (${r.status})`);
      }
      throw new Error('the national record kept changing; the nomination was not made');
    },
  };
}
