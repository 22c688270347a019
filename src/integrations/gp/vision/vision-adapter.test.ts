// The vision adapter's reading of bad SOAP answers: non-XML, missing envelopes, unknown fault codes, bad dates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SupplierUnavailableError } from '../../resilience.ts';
import { GpDomainError, SlotUnavailableError } from '../contract.ts';
import { VisionReader, toVisionDateTime } from './vision-adapter.ts';

const xml = (status: number, body: string) => ({ status, headers: {}, text: `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${body}</soap:Body></soap:Envelope>` });
const fault = (code: string) => `<soap:Fault><faultcode>soap:Client</faultcode><faultstring>f</faultstring><detail><v:VisionError xmlns:v="urn:x"><v:Code>${code}</v:Code><v:Message>msg ${code}</v:Message></v:VisionError></detail></soap:Fault>`;
const isBad = (reason = 'bad-response') => (e: unknown) => e instanceof SupplierUnavailableError && e.reason === reason;

describe('vision reader', () => {
  const r = new VisionReader();
  it('maps V-nnn faults to domain errors; unknown faults and 5xx without one are supplier failures', () => {
    assert.throws(() => r.response(xml(500, fault('V-201')), 'BookAppointment'), (e: unknown) => e instanceof SlotUnavailableError);
    assert.throws(() => r.response(xml(500, fault('V-205')), 'CancelAppointment'), (e: unknown) => e instanceof GpDomainError && e.code === 'already-cancelled');
    assert.throws(() => r.response(xml(500, fault('V-999')), 'GetSlots'), isBad('server-error'));
    assert.throws(() => r.response({ status: 200, headers: {}, text: '{"json": true}' }, 'GetSlots'), isBad());
    assert.throws(() => r.response({ status: 200, headers: {}, text: '<html><body>hello</body></html>' }, 'GetSlots'), isBad());
  });
  it('reads and writes dd/MM/yyyy HH:mm in UTC and rejects impossible dates', () => {
    assert.equal(toVisionDateTime('2026-03-05T14:30:00.000Z'), '05/03/2026 14:30');
    assert.equal(r.dateTime('05/03/2026 14:30', 'x'), '2026-03-05T14:30:00.000Z');
    assert.throws(() => r.dateTime('2026-03-05', 'Start'), (e: unknown) => isBad()(e) && /Start/.test((e as Error).message));
    assert.throws(() => r.dateTime('31/02/2026 09:00', 'Start'), isBad());
  });
  it('rejects a record with an unknown access level or a bad code', () => {
    assert.throws(() => r.record('allergies', { Record: { '@access': 'ALL', '@visible': 'Y' } }), isBad());
    assert.throws(() => r.record('allergies', { Record: { '@access': 'DETAILED', '@visible': 'Y', Item: { '@code': 'peanut', Term: 'Peanut' } } }), isBad());
    const ok = r.record('immunisations', { Record: { '@access': 'DETAILED', '@visible': 'Y', Item: { '@code': '86198006', Term: 'Influenza vaccination', Date: '01/10/2025' } } });
    assert.deepEqual(ok.entries, [{ code: { system: 'http://snomed.info/sct', code: '86198006', display: 'Influenza vaccination' }, date: '2025-10-01' }]);
  });
});

describe('vision XML reader', async () => {
  const { readXml, XmlSyntaxError } = await import('./soap-xml.ts');
  it('gives namespace-free names, @attributes, #text, arrays for repeats and decoded entities', () => {
    const doc = readXml('<?xml version="1.0"?><!-- c --><s:E xmlns:s="urn:s"><s:B><v:R a="1 &amp; 2">x</v:R><v:R>Smith &amp; Sons &#x27;&lt;</v:R><v:Empty/><v:C><![CDATA[<raw>]]></v:C></s:B></s:E>');
    assert.deepEqual(doc, { E: { B: { R: [{ '@a': '1 & 2', '#text': 'x' }, "Smith & Sons '<"], Empty: '', C: '<raw>' } } });
  });
  it('refuses malformed documents', () => {
    for (const bad of ['<a><b></a>', '<a>', '<a b=1/>', '<a/><b/>', 'plain text']) assert.throws(() => readXml(bad), XmlSyntaxError, bad);
  });
});
