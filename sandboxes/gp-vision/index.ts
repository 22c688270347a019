// Sandbox "gp-vision": a simulated GP system speaking XML in a SOAP-style envelope, with its own "V-nnn" fault
// codes and UK date format (dd/MM/yyyy HH:mm, UTC). A simulation of the style, not Vision's real interface.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { SandboxDefinition } from '../common/server.ts';
import { gpSandboxApp, ukDate } from '../gp-common/app.ts';
import { GpWorld, WorldError, recordAccessFor, sectionVisible, type Appointment, type PatientRecord, type Pharmacy, type Section, type WorldErrorCode } from '../gp-common/gp-world.ts';
import { pdsSpine } from '../gp-common/spine.ts';

const faultCodes: Record<WorldErrorCode, string> = {
  'no-record': 'V-101', 'not-matched': 'V-102', 'online-services-disabled': 'V-103', unauthorised: 'V-110',
  'slot-unavailable': 'V-201', 'slot-in-past': 'V-202', 'unknown-appointment-type': 'V-203', 'not-found': 'V-204',
  'already-cancelled': 'V-205', 'appointment-in-past': 'V-206', 'not-on-repeat': 'V-301', 'too-early': 'V-302',
  'invalid-pharmacy': 'V-303', 'invalid-request': 'V-400',
};
const modes = { 'in-person': 'SURGERY', phone: 'TELEPHONE', video: 'VIDEO' } as const;
const modesBack: Record<string, string> = { SURGERY: 'in-person', TELEPHONE: 'phone', VIDEO: 'video' };
const statuses = { requested: 'REQ', approved: 'APP', rejected: 'REJ', issued: 'ISS' } as const;
const sectionNames: Record<string, Section> = { ALLERGY: 'allergies', DRUG: 'medications', PROBLEM: 'problems', IMMUNISATION: 'immunisations', RESULT: 'test-results', ENCOUNTER: 'consultations' };

/** "dd/MM/yyyy HH:mm" in UTC. */
export function visionDateTime(iso: string): string {
  return `${ukDate(iso)} ${iso.slice(11, 16)}`;
}
/** Parses "dd/MM/yyyy[ HH:mm]" (UTC) to ISO; undefined when it is not one. */
export function parseVisionDate(s: unknown): string | undefined {
  const m = typeof s === 'string' ? /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{2}):(\d{2}))?$/.exec(s.trim()) : null;
  if (!m) return undefined;
  const iso = `${m[3]}-${m[2]}-${m[1]}T${m[4] ?? '00'}:${m[5] ?? '00'}:00.000Z`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: true });
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, isArray: (name) => ['SlotId', 'DrugId'].includes(name) });

const envelope = (body: unknown) => '<?xml version="1.0" encoding="UTF-8"?>' + builder.build({
  'soap:Envelope': { '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/', '@xmlns:v': 'urn:frontdoor:sandbox:vision:1', 'soap:Body': body },
});
const fault = (code: string, message: string, client: boolean) => envelope({
  'soap:Fault': { faultcode: client ? 'soap:Client' : 'soap:Server', faultstring: message, detail: { 'v:VisionError': { 'v:Code': code, 'v:Message': message } } },
});

export const gpVisionSandbox: SandboxDefinition = {
  name: 'gp-vision',
  description: 'GP system, XML in a SOAP-style envelope (V-nnn fault codes, dd/MM/yyyy HH:mm dates)',
  async build({ faultMode, spineUrl }) {
    const world = new GpWorld('vision', { spine: pdsSpine(spineUrl), extraPatients: [{ nhsNumber: '9990000042', birthdate: '1979-09-19', givenName: 'Vera', familyName: 'Visiononly', gpOdsCode: 'C81001' }] });
    const app = gpSandboxApp(faultMode, (status) => ({ contentType: 'text/xml', body: fault(status >= 500 ? 'V-900' : 'V-400', `Simulated failure (${status})`, status < 500) }));
    app.addContentTypeParser(['text/xml', 'application/xml', 'application/soap+xml'], { parseAs: 'string' }, (_req, text, done) => done(null, text));

    const appt = (a: Appointment) => ({
      'v:Appointment': {
        'v:Id': a.id, 'v:SlotId': a.slotId, 'v:Start': visionDateTime(a.start), 'v:End': visionDateTime(a.end), 'v:Type': a.type, 'v:Clinician': a.clinician,
        'v:Mode': modes[a.mode], 'v:Reason': a.reason, 'v:Status': a.status === 'booked' ? 'BOOKED' : 'CANCELLED', 'v:CancelReason': a.cancellationReason,
      },
    });
    const requestXml = (rec: PatientRecord, r: PatientRecord['requests'][number]) => {
      const s = world.requestStatus(r);
      return {
        'v:Id': r.id, 'v:Requested': visionDateTime(new Date(r.requestedAt).toISOString()), 'v:Status': statuses[s.status], 'v:RejectReason': s.rejectionReason,
        'v:Updated': visionDateTime(new Date(s.updatedAt).toISOString()), 'v:Note': r.note,
        'v:Drugs': { 'v:Drug': r.medicationIds.map((id) => { const m = rec.repeats.find((x) => x.id === id); return { '@id': id, '@dmd': m?.dmdCode ?? '', '#text': m?.name ?? '' }; }) },
      };
    };
    const pharmacyXml = (p: Pharmacy | undefined) => ({ 'v:Pharmacy': p ? { 'v:Code': p.odsCode, 'v:Name': p.name, 'v:Address': p.address } : undefined });

    type Op = (rec: PatientRecord, args: Record<string, unknown>) => unknown;
    const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
    const ops: Record<string, Op> = {
      GetSlots: (rec, a) => {
        const mode = a.Mode ? modesBack[str(a.Mode)] : undefined;
        if (a.Mode && !mode) throw new WorldError('invalid-request', `Unknown mode ${str(a.Mode)}`);
        const from = a.From ? parseVisionDate(a.From) : undefined;
        const to = a.To ? parseVisionDate(a.To) : undefined;
        if ((a.From && !from) || (a.To && !to)) throw new WorldError('invalid-request', 'Dates must be dd/MM/yyyy HH:mm');
        const slots = world.searchSlots(rec.odsCode, { from, to, type: a.Type ? str(a.Type) : undefined, clinician: a.Clinician ? str(a.Clinician) : undefined, mode });
        return { 'v:Slots': { 'v:Slot': slots.map((s) => ({ 'v:Id': s.id, 'v:Start': visionDateTime(s.start), 'v:End': visionDateTime(s.end), 'v:Type': s.type, 'v:Clinician': s.clinician, 'v:Mode': modes[s.mode], 'v:Location': s.location })) } };
      },
      BookAppointment: (rec, a) => appt(world.book(rec, str((a.SlotId as unknown[] | undefined)?.[0]), str(a.Reason), a.RequestId ? str(a.RequestId) : undefined).appointment),
      CancelAppointment: (rec, a) => appt(world.cancel(rec, str(a.AppointmentId), str(a.Reason))),
      GetAppointments: (rec) => ({ 'v:Appointments': { 'v:Appointment': world.appointmentsFor(rec).map((x) => appt(x)['v:Appointment']) } }),
      GetRepeats: (rec) => ({
        'v:Repeats': { 'v:Repeat': rec.repeats.map((m) => { const can = world.canRequest(rec, m); return { 'v:Id': m.id, 'v:Dmd': m.dmdCode, 'v:Name': m.name, 'v:Dosage': m.dose, 'v:Quantity': m.quantity, 'v:LastIssued': m.lastIssued ? ukDate(m.lastIssued) : undefined, 'v:Requestable': can.ok ? 'Y' : 'N', 'v:NotRequestableReason': can.reason }; }) },
      }),
      RequestRepeats: (rec, a) => {
        const ids = ((a.Drugs as { DrugId?: unknown[] } | undefined)?.DrugId ?? []).map(str);
        const { request } = world.requestRepeats(rec, ids, a.Note ? str(a.Note) : undefined, a.RequestId ? str(a.RequestId) : undefined);
        return { 'v:Request': requestXml(rec, request) };
      },
      GetRequests: (rec) => ({ 'v:Requests': { 'v:Request': [...rec.requests].sort((x, y) => y.requestedAt - x.requestedAt).map((r) => requestXml(rec, r)) } }),
      GetPharmacy: async (rec) => pharmacyXml(await world.pharmacyOf(rec)),
      SetPharmacy: async (rec, a) => pharmacyXml(await world.setPharmacy(rec, str(a.Code))),
      GetRecord: (rec, a) => {
        const section = sectionNames[str(a.Section)];
        if (!section) throw new WorldError('invalid-request', 'Unknown record section');
        const access = recordAccessFor(rec.odsCode);
        const level = access.toUpperCase();
        if (!sectionVisible(access, section)) return { 'v:Record': { '@access': level, '@visible': 'N' } };
        const items = {
          allergies: () => rec.allergies.map((x) => ({ '@code': x.code, 'v:Term': x.term, 'v:Date': ukDate(x.recorded), 'v:Reaction': x.reaction, 'v:Severity': x.severity })),
          medications: () => rec.medications.map((x) => ({ '@code': x.code, '@scheme': 'DMD', 'v:Term': x.term, 'v:Date': ukDate(x.start), 'v:EndDate': x.end ? ukDate(x.end) : undefined, 'v:Dosage': x.dose, 'v:Status': x.status.toUpperCase() })),
          problems: () => rec.problems.map((x) => ({ '@code': x.code, 'v:Term': x.term, 'v:Date': ukDate(x.onset), 'v:Status': x.status.toUpperCase() })),
          immunisations: () => rec.immunisations.map((x) => ({ '@code': x.code, 'v:Term': x.term, 'v:Date': ukDate(x.date) })),
          'test-results': () => rec.results.map((x) => ({ '@code': x.code, 'v:Term': x.term, 'v:Date': ukDate(x.date), 'v:Value': x.value, 'v:Unit': x.unit, 'v:Low': x.low, 'v:High': x.high })),
          consultations: () => rec.consultations.map((x) => ({ '@id': x.id, 'v:Date': ukDate(x.date), 'v:Clinician': x.clinician, 'v:Type': x.type, 'v:Summary': x.summary, 'v:Codes': { 'v:Code': x.codes.map((c) => ({ '@code': c.code, '#text': c.term })) } })),
        }[section]();
        return { 'v:Record': { '@access': level, '@visible': 'Y', 'v:Item': items } };
      },
    };

    app.post('/vision/soap', async (req, reply) => {
      reply.type('text/xml; charset=utf-8');
      let op = '';
      try {
        const doc = parser.parse(String(req.body ?? ''));
        const env = doc?.Envelope;
        const body = env?.Body as Record<string, Record<string, unknown>> | undefined;
        op = body ? Object.keys(body)[0] ?? '' : '';
        const args = (body?.[op] ?? {}) as Record<string, unknown>;
        if (!op) throw new WorldError('invalid-request', 'No operation in the SOAP body');
        if (op === 'LinkAccount') {
          const rec = world.link(str(args.NhsNumber), parseVisionDate(str(args.DateOfBirth))?.slice(0, 10) ?? '', str(args.PracticeCode));
          return envelope({ 'v:LinkAccountResponse': { 'v:AccountId': rec.accountId, 'v:LinkageKey': rec.linkageKey, 'v:PracticeCode': rec.odsCode } });
        }
        const handler = ops[op];
        if (!handler) throw new WorldError('invalid-request', `Unknown operation ${op}`);
        const cred = (env.Header?.Credentials ?? {}) as Record<string, unknown>;
        const rec = world.authenticate(str(cred.AccountId), str(cred.LinkageKey), str(cred.PracticeCode));
        return envelope({ [`v:${op}Response`]: await handler(rec, args) });
      } catch (err) {
        if (err instanceof WorldError) return reply.code(500).send(fault(faultCodes[err.code], err.message, true));
        return reply.code(500).send(fault('V-900', (err as Error).message, false));
      }
    });
    return app;
  },
};
