// The tpp adapter's reading of bad FHIR answers: wrong resource types, codings and OperationOutcomes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SupplierUnavailableError } from '../../resilience.ts';
import { GpDomainError, SlotUnavailableError } from '../contract.ts';
import { TppReader } from './tpp-adapter.ts';

const answer = (status: number, body: unknown) => ({ status, headers: {}, text: typeof body === 'string' ? body : JSON.stringify(body) });
const isBad = (reason = 'bad-response') => (e: unknown) => e instanceof SupplierUnavailableError && e.reason === reason;
const oo = (code: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', details: { coding: [{ code }] }, diagnostics: code.toLowerCase() }] });

describe('tpp reader', () => {
  const r = new TppReader();
  it('maps GP-Connect-style codes and refuses what is not an OperationOutcome', () => {
    assert.ok(r.error(answer(409, oo('DUPLICATE_REJECTED'))) instanceof SlotUnavailableError);
    const e = r.error(answer(422, oo('NOT_ON_REPEAT')));
    assert.ok(e instanceof GpDomainError && e.code === 'not-on-repeat');
    assert.ok(isBad()(r.error(answer(422, oo('SOMETHING_NEW')))));
    assert.ok(isBad()(r.error(answer(400, { resourceType: 'Patient' }))));
    assert.ok(isBad('server-error')(r.error(answer(500, oo('INTERNAL_SERVER_ERROR')))));
  });
  it('rejects a non-Bundle, a Slot whose Schedule is missing, and a coding from the wrong system', () => {
    assert.throws(() => r.slots({ resourceType: 'Parameters' }), isBad());
    const slot = { resourceType: 'Slot', id: 's', start: '2026-01-01T09:00:00Z', end: '2026-01-01T09:10:00Z', schedule: { reference: 'Schedule/x' }, serviceType: [{ text: 'GP' }], appointmentType: { text: 'phone' } };
    assert.throws(() => r.slots({ resourceType: 'Bundle', entry: [{ resource: slot }] }), (e: unknown) => isBad()(e) && /Schedule\/x/.test((e as Error).message));
    const med = { resourceType: 'MedicationRequest', id: 'm', medicationCodeableConcept: { coding: [{ system: 'http://example.org/drugs', code: '320030001', display: 'x' }] }, dosageInstruction: [{ text: 'd' }], extension: [] };
    assert.throws(() => r.repeats({ resourceType: 'Bundle', entry: [{ resource: med }] }), (e: unknown) => isBad()(e) && /system/.test((e as Error).message));
  });
  it('rejects a record bundle without its record-access tag or holding the wrong resource type', () => {
    assert.throws(() => r.record('allergies', { resourceType: 'Bundle', entry: [] }), isBad());
    const tags = [{ system: 'https://frontdoor.example/fhir/StructureDefinition/record-access', code: 'detailed' }, { system: 'https://frontdoor.example/fhir/StructureDefinition/record-section-visible', code: 'true' }];
    assert.throws(() => r.record('allergies', { resourceType: 'Bundle', meta: { tag: tags }, entry: [{ resource: { resourceType: 'Condition' } }] }), isBad());
    assert.deepEqual(r.record('allergies', { resourceType: 'Bundle', meta: { tag: tags }, entry: [] }), { section: 'allergies', access: 'detailed', visible: true, entries: [] });
  });
});
