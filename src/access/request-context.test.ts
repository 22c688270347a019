// The one gate to patient data: a citizen reaches only their own record, and every attempt is audited.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditLog } from '../audit/audit.ts';
import { openStore } from '../store/open.ts';
import { AccessDeniedError, NotSignedInError, RequestContext, UpliftRequiredError } from './request-context.ts';

describe('request context', () => {
  it('opens a citizen\'s own record, audits each access, and denies (and audits) anyone else\'s', async () => {
    const db = await openStore({});
    try {
      const audit = new AuditLog(db);
      const ctx = new RequestContext('req-1', { type: 'citizen', sub: 'u1', nhsNumber: '9990079196', identityLevel: 'P9', gpOdsCode: 'A81001' }, audit);
      const mine = await ctx.forPatient('9990079196', 'P9', 'read');
      await mine.audit('read', 'gp-record/allergies', 'success', { supplier: 'gp-tpp' });
      await assert.rejects(ctx.forPatient('9990237573', 'P9', 'read'), AccessDeniedError);
      const own = await audit.forSubject('9990079196');
      assert.deepEqual(own.map((e) => [e.action, e.resource, e.outcome, e.supplier, e.requestId]), [['read', 'gp-record/allergies', 'success', 'gp-tpp', 'req-1']]);
      const other = await audit.forSubject('9990237573');
      assert.deepEqual(other.map((e) => [e.actorId, e.outcome]), [['u1', 'denied']]);
    } finally {
      await db.close();
    }
  });

  it('requires a signed-in citizen at the identity level the data needs', async () => {
    const db = await openStore({});
    try {
      const audit = new AuditLog(db);
      const anon = new RequestContext('r', { type: 'anonymous' }, audit);
      await assert.rejects(anon.forPatient('9990079196', 'P5', 'read'), NotSignedInError);
      const p5 = new RequestContext('r', { type: 'citizen', sub: 'u', nhsNumber: '9990079196', identityLevel: 'P5' }, audit);
      await assert.rejects(p5.forPatient('9990079196', 'P9', 'read'), UpliftRequiredError);
      const staff = new RequestContext('r', { type: 'staff', sub: 's', roles: [{ role: 'commissioner', organisation: 'QHM' }] }, audit);
      await assert.rejects(staff.forPatient('9990079196', 'P0', 'read'), NotSignedInError, 'staff do not reach citizen records through the citizen gate');
    } finally {
      await db.close();
    }
  });
});
