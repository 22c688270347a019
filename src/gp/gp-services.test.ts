// The GP service layer with a counting fake GP system: linkage made once and renewed when refused, one supplier
// write per form token even when submits race, denials and audit rows, a practice with no GP services.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RequestContext, UpliftRequiredError, type Actor } from '../access/request-context.ts';
import { AuditLog } from '../audit/audit.ts';
import { GpDomainError, type GpAdapterFactory, type GpAppointment, type GpLinkage, type GpSystemAdapter } from '../integrations/gp/contract.ts';
import { SupplierPolicies } from '../integrations/resilience.ts';
import type { RunningSystem } from '../system.ts';
import { startTestSystem } from '../testing/factories.ts';
import { LinkageVault } from './linkage-vault.ts';
import { GpNotOfferedError, GpServices, newFormToken } from './gp-services.ts';

const NHS = '9990079196'; // at A81001, an emis practice in the fixture

interface Counts { link: number; book: number; cancel: number; linkageRefusals: number }

function fakeSystem(counts: Counts): GpAdapterFactory {
  const booked = new Map<string, GpAppointment>();
  let validKey = 'key-1';
  const check = (l: GpLinkage) => {
    if (l.linkageKey !== validKey) { counts.linkageRefusals++; throw new GpDomainError('linkage-invalid', 'stale'); }
  };
  const notUsed = () => { throw new Error('not used'); };
  return () => ({
    system: 'emis',
    async link(r) { counts.link++; return { accountId: 'A1', linkageKey: validKey, odsCode: r.odsCode, nhsNumber: r.nhsNumber }; },
    async searchSlots(l) { check(l); return []; },
    async book(l, b, key) {
      check(l);
      counts.book++;
      await new Promise((r) => setTimeout(r, 50));
      const a: GpAppointment = { id: `appt-${key.slice(0, 8)}`, start: new Date(Date.now() + 86_400_000).toISOString(), end: new Date(Date.now() + 86_400_000 + 600_000).toISOString(), appointmentType: 'GP', clinician: 'Dr A', mode: 'phone', reason: b.reason, status: 'booked' };
      booked.set(a.id, a);
      return a;
    },
    async cancel(l, id) { check(l); counts.cancel++; const a = booked.get(id); if (!a) throw new GpDomainError('not-found', 'no'); return { ...a, status: 'cancelled' }; },
    async listAppointments(l) { check(l); return { upcoming: [...booked.values()], past: [] }; },
    listRepeats: notUsed, requestRepeats: notUsed, listRequests: notUsed, getNominatedPharmacy: notUsed, setNominatedPharmacy: notUsed, getRecord: notUsed,
    /** Test hook: the supplier stops accepting the stored linkage key. */
    rotate() { validKey = 'key-2'; },
  } as GpSystemAdapter & { rotate(): void });
}

let system: RunningSystem;
before(async () => { system = await startTestSystem(); });
after(async () => { await system?.close(); });

function ctxFor(actor: Actor) {
  return new RequestContext(`req-${Math.random()}`, actor, new AuditLog(system.db));
}
const amira = (o: Partial<Extract<Actor, { type: 'citizen' }>> = {}): Actor =>
  ({ type: 'citizen', sub: 'amira', nhsNumber: NHS, identityLevel: 'P9', gpOdsCode: 'A81001', birthdate: '1984-03-12', ...o });

describe('GP services', () => {
  it('links once, books once per form token even when two submits race, renews a refused linkage', async () => {
    const counts: Counts = { link: 0, book: 0, cancel: 0, linkageRefusals: 0 };
    const factory = fakeSystem(counts);
    const services = new GpServices({ vault: await LinkageVault.open(system.db), db: system.db, catalog: system.catalog, supplierUrls: { 'gp-emis': 'http://fake' }, policies: new SupplierPolicies(), systems: { emis: factory } });
    const p = await services.forCitizen(ctxFor(amira()), 'book');
    const token = newFormToken();
    const [a, b] = await Promise.all([p.book({ slotId: 's1', reason: 'Cough' }, token), p.book({ slotId: 's1', reason: 'Cough' }, token)]);
    assert.equal(counts.book, 1, 'the supplier was asked once');
    assert.equal(a.appointment.id, b.appointment.id);
    assert.deepEqual([a.replayed, b.replayed].sort(), [false, true]);
    assert.equal(counts.link, 1);
    assert.equal((await system.db.query('SELECT * FROM gp_linkages WHERE nhs_number = $1', [NHS])).length, 1);
    assert.equal((await p.writeResult<GpAppointment>('booking', token))?.id, a.appointment.id);

    // The supplier stops accepting the key: one refusal, a fresh link, and the call goes through.
    (services.adapter('emis') as unknown as { rotate(): void }).rotate();
    const list = await p.listAppointments();
    assert.equal(list.upcoming.length, 1);
    assert.equal(counts.linkageRefusals, 1);
    assert.equal(counts.link, 2);
    const rows = await system.db.query<{ action: string; outcome: string; supplier: string }>('SELECT action, outcome, supplier FROM audit_events WHERE subject_nhs_number = $1', [NHS]);
    assert.ok(rows.some((r) => r.action === 'book' && r.outcome === 'success' && r.supplier === 'gp-emis'));
    assert.ok(rows.some((r) => r.action === 'replay' && r.outcome === 'success'));
    assert.equal(rows.filter((r) => r.action === 'link').length, 2);
  });

  it('links a new citizen once when a page asks for several things at once', async () => {
    const counts: Counts = { link: 0, book: 0, cancel: 0, linkageRefusals: 0 };
    const services = new GpServices({ vault: await LinkageVault.open(system.db), db: system.db, catalog: system.catalog, supplierUrls: { 'gp-emis': 'http://fake' }, policies: new SupplierPolicies(), systems: { emis: fakeSystem(counts) } });
    const nhs = '9990237573';
    const p = await services.forCitizen(ctxFor(amira({ sub: 'new-citizen', nhsNumber: nhs })), 'appointments');
    const lists = await Promise.all([p.listAppointments(), p.listAppointments(), p.listAppointments()]);
    assert.equal(lists.length, 3);
    assert.equal(counts.link, 1, 'one linkage, shared');
    const links = await system.db.query("SELECT 1 FROM audit_events WHERE subject_nhs_number = $1 AND action = 'link'", [nhs]);
    assert.equal(links.length, 1);
    // Afterwards it is remembered: no look-up is left in flight, and the next call links nothing.
    await p.listAppointments();
    assert.equal(counts.link, 1);
  });

  it('renews a refused linkage once when a page\'s several reads are all refused together', async () => {
    const counts: Counts = { link: 0, book: 0, cancel: 0, linkageRefusals: 0 };
    const services = new GpServices({ vault: await LinkageVault.open(system.db), db: system.db, catalog: system.catalog, supplierUrls: { 'gp-emis': 'http://fake' }, policies: new SupplierPolicies(), systems: { emis: fakeSystem(counts) } });
    const nhs = '9990633525';
    const p = await services.forCitizen(ctxFor(amira({ sub: 'renewing', nhsNumber: nhs })), 'appointments');
    await p.listAppointments();
    (services.adapter('emis') as unknown as { rotate(): void }).rotate();
    await Promise.all([p.listAppointments(), p.listAppointments(), p.searchSlots({ from: '2026-12-01', to: '2026-12-02' })]);
    assert.equal(counts.linkageRefusals, 3, 'each read was refused once');
    assert.equal(counts.link, 2, 'the first linkage, and one renewal shared by all three');
    const links = await system.db.query("SELECT 1 FROM audit_events WHERE subject_nhs_number = $1 AND action = 'link'", [nhs]);
    assert.equal(links.length, 2);
    await p.listAppointments();
    assert.equal(counts.link, 2);
  });

  it("refuses another citizen's appointment without asking the supplier, audited as denied", async () => {
    const counts: Counts = { link: 0, book: 0, cancel: 0, linkageRefusals: 0 };
    const services = new GpServices({ vault: await LinkageVault.open(system.db), db: system.db, catalog: system.catalog, supplierUrls: { 'gp-emis': 'http://fake' }, policies: new SupplierPolicies(), systems: { emis: fakeSystem(counts) } });
    const owner = await services.forCitizen(ctxFor(amira()), 'book');
    const { appointment } = await owner.book({ slotId: 's2', reason: 'Rash' }, newFormToken());
    const other = await services.forCitizen(ctxFor(amira({ sub: 'daniel', nhsNumber: '9990237573', gpOdsCode: 'E83003', birthdate: '1958-11-02' })), 'cancel');
    await assert.rejects(other.cancel(appointment.id, 'mine now'), (e: unknown) => e instanceof GpDomainError && e.code === 'not-found');
    assert.equal(counts.cancel, 0);
    const denied = await system.db.query("SELECT * FROM audit_events WHERE subject_nhs_number = '9990237573' AND outcome = 'denied'");
    assert.equal(denied.length, 1);
  });

  it('keeps the linkage key sealed at rest, and links again when the stored key does not unseal', async () => {
    const nhs = '9990316767';
    const me = amira({ sub: 'sealed', nhsNumber: nhs, gpOdsCode: 'A81001', birthdate: '1970-01-01' });
    const counts: Counts = { link: 0, book: 0, cancel: 0, linkageRefusals: 0 };
    const make = async () => new GpServices({ vault: await LinkageVault.open(system.db), db: system.db, catalog: system.catalog, supplierUrls: { 'gp-emis': 'http://fake' }, policies: new SupplierPolicies(), systems: { emis: fakeSystem(counts) } });
    await (await (await make()).forCitizen(ctxFor(me), 'view')).searchSlots({ from: '2026-12-01', to: '2026-12-02' });
    const [row] = await system.db.query<{ linkage_key: string }>('SELECT linkage_key FROM gp_linkages WHERE nhs_number = $1', [nhs]);
    assert.notEqual(row.linkage_key, 'key-1');
    assert.doesNotMatch(row.linkage_key, /key-1/);
    // A fresh process (no cache) unseals the stored key: no second link.
    await (await (await make()).forCitizen(ctxFor(me), 'view')).searchSlots({ from: '2026-12-01', to: '2026-12-02' });
    assert.equal(counts.link, 1);
    // A key in clear (or from another row) is not trusted: the citizen is linked again and the row resealed.
    await system.db.query("UPDATE gp_linkages SET linkage_key = 'key-1' WHERE nhs_number = $1", [nhs]);
    await (await (await make()).forCitizen(ctxFor(me), 'view')).searchSlots({ from: '2026-12-01', to: '2026-12-02' });
    assert.equal(counts.link, 2);
    const [resealed] = await system.db.query<{ linkage_key: string }>('SELECT linkage_key FROM gp_linkages WHERE nhs_number = $1', [nhs]);
    assert.notEqual(resealed.linkage_key, 'key-1');
  });

  it('needs P9, and a citizen without a usable practice gets no GP services', async () => {
    const services = new GpServices({ vault: await LinkageVault.open(system.db), db: system.db, catalog: system.catalog, supplierUrls: {}, policies: new SupplierPolicies() });
    await assert.rejects(services.forCitizen(ctxFor(amira({ identityLevel: 'P5' })), 'view'), UpliftRequiredError);
    await assert.rejects(services.forCitizen(ctxFor(amira({ gpOdsCode: 'A81003' })), 'view'), GpNotOfferedError);
    await assert.rejects(services.forCitizen(ctxFor(amira({ gpOdsCode: undefined })), 'view'), GpNotOfferedError);
  });
});
