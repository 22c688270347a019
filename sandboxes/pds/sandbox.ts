// The personal demographics sandbox: a PDS-FHIR-R4-style Patient API (read, and JSON Patch with If-Match)
// holding a UK Core Patient for every demo person, in memory for the life of the process.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { OperationOutcome, Patient } from 'fhir/r4.d.ts';
import { isDeepStrictEqual } from 'node:util';
import { installFaults, parseFault } from '../common/faults.ts';
import type { SandboxDefinition } from '../common/server.ts';
import { PatchError, applyOperation, parsePatch, pointerTokens, type PatchOperation } from './json-patch.ts';
import { CHANGEABLE_MEMBERS, LOCKED_MEMBERS, PARTLY_CHANGEABLE, isValidNhsNumber, loadDemoPeople, patientFor, validatePatient } from './patients.ts';

const ERROR_SYSTEM = 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode';
/** A request that would take longer than this is cut short with 503 and Retry-After, as PDS does. */
export const PDS_DEADLINE_MS = 2000;

type IssueType = OperationOutcome['issue'][number]['code'];

export function operationOutcome(code: IssueType, spineCode: string, diagnostics: string, expression?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{
      severity: 'error',
      code,
      details: { coding: [{ system: ERROR_SYSTEM, version: '1', code: spineCode, display: spineCode.replace(/_/g, ' ').toLowerCase() }] },
      diagnostics,
      ...(expression ? { expression: [expression] } : {}),
    }],
  };
}

interface Stored { patient: Patient; version: number }
interface Replay { status: number; etag?: string; body: unknown }

class Refusal {
  constructor(readonly status: number, readonly outcome: OperationOutcome) {}
}

function fhirPath(path: string): string {
  return 'Patient' + pointerTokens(path).map((t) => (/^\d+$/.test(t) ? `[${t}]` : t === '-' ? '[new]' : `.${t}`)).join('');
}

/** Refuses an operation that touches anything the patient may not change; names the path and who can. */
function checkAllowed(op: PatchOperation, before: Patient, after: Patient): void {
  const member = pointerTokens(op.path)[0] ?? '';
  if (CHANGEABLE_MEMBERS.has(member)) return;
  const partly = PARTLY_CHANGEABLE[member];
  if (partly) {
    // Entries outside the patient's reach must survive the operation untouched.
    const locked = (p: Patient) => (((p as unknown as Record<string, unknown[]>)[member]) ?? []).filter((e) => !partly.changeable(e)).map((e) => JSON.stringify(e)).sort();
    if (isDeepStrictEqual(locked(before), locked(after))) return;
    throw new Refusal(403, operationOutcome('forbidden', 'FORBIDDEN_UPDATE', `${fhirPath(op.path)} cannot be changed by the patient. Who can change it: ${partly.who}.`, fhirPath(op.path)));
  }
  const who = LOCKED_MEMBERS[member] ?? 'no one through this service';
  throw new Refusal(403, operationOutcome('forbidden', 'FORBIDDEN_UPDATE', `${fhirPath(op.path)} cannot be changed by the patient. Who can change it: ${who}.`, fhirPath(op.path)));
}

function isListEntry(path: string): boolean {
  const tokens = pointerTokens(path);
  return tokens.length === 2 && /^\d+$/.test(tokens[1]);
}

export function applyPatch(current: Patient, ops: PatchOperation[]): Patient {
  const working = structuredClone(current);
  ops.forEach((op, i) => {
    if (op.op === 'remove' && isListEntry(op.path)) {
      const prev = ops[i - 1];
      if (!prev || prev.op !== 'test' || !(prev.path === op.path || prev.path.startsWith(op.path + '/'))) {
        throw new Refusal(400, operationOutcome('invalid', 'INVALID_UPDATE', `Removing ${op.path} must be preceded by a "test" operation on the same item, so the right entry is removed`, fhirPath(op.path)));
      }
    }
    const before = op.op === 'test' ? working : structuredClone(working);
    try {
      applyOperation(working, op);
    } catch (err) {
      if (err instanceof PatchError) {
        const code = op.op === 'test' ? 'INVALID_UPDATE' : 'INVALID_PATCH';
        throw new Refusal(400, operationOutcome('invalid', code, err.message, fhirPath(op.path)));
      }
      throw err;
    }
    if (op.op !== 'test') checkAllowed(op, before, working);
  });
  const invalid = validatePatient(working);
  if (invalid) throw new Refusal(400, operationOutcome('invalid', 'INVALID_UPDATE', invalid.message, invalid.expression));
  return working;
}

export const pdsSandbox: SandboxDefinition = {
  name: 'pds',
  description: 'Personal Demographics Service (PDS FHIR R4 style): the national record of a person\'s details',
  async build({ faultMode }) {
    const app = Fastify({ logger: false });
    const records = new Map<string, Stored>();
    loadDemoPeople().forEach((p, i) => {
      if (p.nhsNumber) records.set(p.nhsNumber, { patient: patientFor(p, i), version: 1 });
    });
    const replays = new Map<string, Replay>();

    app.addContentTypeParser(['application/json-patch+json', 'application/fhir+json'], { parseAs: 'string' }, (_req, body, done) => {
      try { done(null, JSON.parse(body as string)); } catch { done(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }), undefined); }
    });

    // Registered before the shared faults so a delay past the deadline becomes PDS's own 503.
    const processFault = parseFault(faultMode);
    app.addHook('onRequest', async (req, reply) => {
      const raw = req.headers['x-sandbox-fault'];
      const header = Array.isArray(raw) ? raw[0] : raw;
      const fault = header === 'slow' ? 'slow' : (parseFault(header) ?? processFault);
      if (fault === 'slow' || (fault?.kind === 'delay' && fault.ms > PDS_DEADLINE_MS)) {
        if (fault !== 'slow') await new Promise((r) => setTimeout(r, PDS_DEADLINE_MS));
        return reply.code(503).header('retry-after', '1').type('application/fhir+json')
          .send(operationOutcome('transient', 'SERVICE_UNAVAILABLE', 'The service took too long to answer; try again shortly'));
      }
    });
    installFaults(app, {
      mode: faultMode,
      errorBody: (status) => ({
        contentType: 'application/fhir+json',
        body: JSON.stringify(operationOutcome(status >= 500 ? 'exception' : 'processing', status >= 500 ? 'SERVER_ERROR' : 'INVALID_REQUEST', `Simulated error ${status}`)),
      }),
    });

    app.addHook('onSend', async (req, reply) => {
      // `X-Sandbox-Fault: late-answer=MS`: the request is processed, only the answer is late — the
      // "timeout after sending" case a caller must reconcile by reading back.
      const late = /^late-answer=(\d+)$/.exec(String(req.headers['x-sandbox-fault'] ?? faultMode ?? ''));
      if (late) await new Promise((r) => setTimeout(r, Math.min(Number(late[1]), 60_000)));
      const id = req.headers['x-request-id'];
      if (typeof id === 'string') reply.header('x-request-id', id);
      const corr = req.headers['x-correlation-id'];
      if (typeof corr === 'string') reply.header('x-correlation-id', corr);
    });

    const send = (reply: FastifyReply, status: number, body: unknown, etag?: string) => {
      if (etag) reply.header('etag', etag);
      return reply.code(status).type('application/fhir+json').send(body);
    };

    const findRecord = (req: FastifyRequest<{ Params: { nhsNumber: string } }>): Stored => {
      const nhs = req.params.nhsNumber;
      if (!isValidNhsNumber(nhs)) throw new Refusal(400, operationOutcome('value', 'INVALID_RESOURCE_ID', `Invalid NHS number: ${nhs}`, 'Patient.id'));
      const stored = records.get(nhs);
      if (!stored) throw new Refusal(404, operationOutcome('not-found', 'RESOURCE_NOT_FOUND', `Patient ${nhs} not found`));
      return stored;
    };
    const etagOf = (s: Stored) => `W/"${s.version}"`;

    app.get<{ Params: { nhsNumber: string } }>('/Patient/:nhsNumber', async (req, reply) => {
      try {
        const stored = findRecord(req);
        return send(reply, 200, stored.patient, etagOf(stored));
      } catch (err) {
        if (err instanceof Refusal) return send(reply, err.status, err.outcome);
        throw err;
      }
    });

    app.patch<{ Params: { nhsNumber: string } }>('/Patient/:nhsNumber', async (req, reply) => {
      const requestId = typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : undefined;
      const replayKey = requestId ? `${req.params.nhsNumber}:${requestId}` : undefined;
      const earlier = replayKey ? replays.get(replayKey) : undefined;
      if (earlier) {
        reply.header('x-idempotent-replay', 'true');
        return send(reply, earlier.status, earlier.body, earlier.etag);
      }
      const answer = (status: number, body: unknown, etag?: string) => {
        if (replayKey) replays.set(replayKey, { status, body, etag });
        // Bounded so a long benchmark cannot grow the process without limit; a retry comes soon after its first send.
        if (replays.size > 50_000) replays.delete(replays.keys().next().value!);
        return send(reply, status, body, etag);
      };
      try {
        const stored = findRecord(req);
        const ifMatch = req.headers['if-match'];
        if (typeof ifMatch !== 'string' || !ifMatch) {
          return send(reply, 412, operationOutcome('processing', 'PRECONDITION_FAILED', 'An If-Match header with the version you read (e.g. W/"3") is required to update a patient'));
        }
        const m = /^(?:W\/)?"(\d+)"$/.exec(ifMatch.trim());
        if (!m) return send(reply, 400, operationOutcome('value', 'INVALID_VALUE', `If-Match must be a version like W/"3", not ${ifMatch}`));
        if (Number(m[1]) !== stored.version) {
          return answer(409, operationOutcome('conflict', 'RESOURCE_VERSION_MISMATCH', `The patient has changed: If-Match was W/"${m[1]}" but the current version is W/"${stored.version}". Read the patient again and reapply the change.`, 'Patient.meta.versionId'));
        }
        if (!String(req.headers['content-type'] ?? '').startsWith('application/json-patch+json')) {
          return send(reply, 415, operationOutcome('not-supported', 'UNSUPPORTED_MEDIA_TYPE', 'PATCH takes application/json-patch+json'));
        }
        let ops: PatchOperation[];
        try { ops = parsePatch(req.body); } catch (err) {
          const pe = err as PatchError;
          return answer(400, operationOutcome('invalid', 'INVALID_PATCH', pe.message, pe.path ? fhirPath(pe.path) : undefined));
        }
        const patched = applyPatch(stored.patient, ops);
        stored.version += 1;
        patched.meta = { ...(patched.meta ?? {}), versionId: String(stored.version) };
        stored.patient = patched;
        return answer(200, patched, etagOf(stored));
      } catch (err) {
        if (err instanceof Refusal) return answer(err.status, err.outcome);
        throw err;
      }
    });

    app.setErrorHandler((err, _req, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return send(reply, status, operationOutcome(status >= 500 ? 'exception' : 'invalid', status >= 500 ? 'SERVER_ERROR' : 'INVALID_REQUEST', (err as Error).message));
    });
    app.setNotFoundHandler((req, reply) => send(reply, 404, operationOutcome('not-supported', 'UNSUPPORTED_SERVICE', `No route ${req.method} ${req.url}`)));
    return app;
  },
};

