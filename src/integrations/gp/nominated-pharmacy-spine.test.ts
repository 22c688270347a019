// GP systems keep a patient's nominated pharmacy on the Spine, so the GP sandboxes started beside the PDS sandbox
// (as `npm start` and the test system run them) hold one nomination with the national record: a change through
// either shows in the other, and a GP system that cannot reach the Spine changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type RunningSandbox } from '../../../sandboxes/common/server.ts';
import { sandboxes } from '../../../sandboxes/registry.ts';
import { loadDemoPeople } from '../../identity/provider/accounts.ts';
import { newRequestId } from '../national/http.ts';
import { createDemographicsService } from '../national/registry.ts';
import { SupplierPolicy } from '../resilience.ts';
import { gpSystems } from './registry.ts';

/** A demo person registered at a practice on each GP system. */
const PERSON: Record<string, string> = { emis: '9990079196', tpp: '9990395950', vision: '9990316767', microtest: '9990633525' };
const PHARMACIES = ['FA123', 'FC456', 'FK789', 'FP012'];
const def = (name: string) => sandboxes.find((s) => s.name === name)!;

describe('nominated pharmacy: one nomination, held on the Spine', () => {
  let pds: RunningSandbox;
  const gp = new Map<string, RunningSandbox>();
  before(async () => {
    pds = await startSandbox(def('pds'), { port: 0 });
    for (const system of Object.keys(PERSON)) gp.set(system, await startSandbox(def(`gp-${system}`), { port: 0, spineUrl: () => pds.url }));
  });
  after(async () => {
    for (const s of gp.values()) await s.close();
    await pds?.close();
  });

  const linked = async (system: string, baseUrl: string) => {
    const person = (await loadDemoPeople()).find((p) => p.nhsNumber === PERSON[system])!;
    const adapter = gpSystems[system]({ baseUrl, policy: new SupplierPolicy(`spine-test-${system}-${baseUrl}`) });
    return { adapter, nhs: person.nhsNumber!, linkage: await adapter.link({ nhsNumber: person.nhsNumber!, dateOfBirth: person.birthdate, odsCode: person.gpOdsCode! }) };
  };

  for (const system of Object.keys(PERSON)) {
    it(`${system}: a change through the GP system shows on the national record, and one there shows in the GP system`, async () => {
      const { adapter, nhs, linkage } = await linked(system, gp.get(system)!.url);
      const national = createDemographicsService({ baseUrl: pds.url, policy: new SupplierPolicy(`spine-test-pds-${system}`) });
      const start = (await national.get(nhs)).nominatedPharmacyOdsCode;
      assert.equal((await adapter.getNominatedPharmacy(linkage))?.odsCode, start, 'both start with the same pharmacy');

      const viaGp = PHARMACIES.find((c) => c !== start)!;
      assert.equal((await adapter.setNominatedPharmacy(linkage, viaGp)).odsCode, viaGp);
      const after = await national.get(nhs);
      assert.equal(after.nominatedPharmacyOdsCode, viaGp, 'the GP system changed it on the national record');

      const viaNational = PHARMACIES.find((c) => c !== start && c !== viaGp)!;
      await national.update(nhs, { changes: [{ kind: 'nominated-pharmacy', odsCode: viaNational }], expectedVersion: after.version, requestId: newRequestId() });
      const seen = await adapter.getNominatedPharmacy(linkage);
      assert.equal(seen?.odsCode, viaNational, 'the GP system shows the change made on the national record');
      assert.ok(seen?.name, 'with the pharmacy named');
      await adapter.close?.();
    });
  }

  it('a GP system that cannot reach the Spine shows the nomination it last saw and changes nothing', async () => {
    // Nothing listens on port 9 here: every call to this Spine fails to connect.
    const cutOff = await startSandbox(def('gp-emis'), { port: 0, spineUrl: () => 'http://127.0.0.1:9' });
    try {
      const { adapter, linkage } = await linked('emis', cutOff.url);
      const held = (await adapter.getNominatedPharmacy(linkage))?.odsCode;
      assert.ok(held, 'its own copy');
      await assert.rejects(adapter.setNominatedPharmacy(linkage, PHARMACIES.find((c) => c !== held)!));
      assert.equal((await adapter.getNominatedPharmacy(linkage))?.odsCode, held, 'unchanged');
      await adapter.close?.();
    } finally {
      await cutOff.close();
    }
  });
});
