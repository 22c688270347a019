// The national conformance suite passes against each healthy sandbox and fails, with reasons, against a faulty one.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type RunningSandbox, type SandboxDefinition } from '../../sandboxes/common/server.ts';
import { contactPreferencesSandbox } from '../../sandboxes/contact-preferences/sandbox.ts';
import { organDonationSandbox } from '../../sandboxes/organ-donation/sandbox.ts';
import { pdsSandbox } from '../../sandboxes/pds/sandbox.ts';
import { closeAgencyConnections } from '../integrations/national/http.ts';
import { formatTable, runSuite } from './kit.ts';
import { nationalSuite } from './national-suite.ts';
import { suiteFor } from './suites.ts';

const running: RunningSandbox[] = [];
async function start(def: SandboxDefinition, faultMode?: string) {
  const s = await startSandbox(def, { port: 0, faultMode });
  running.push(s);
  return s.url;
}
after(async () => {
  await closeAgencyConnections();
  await Promise.all(running.map((s) => s.close()));
});

describe('national conformance suite', () => {
  it('is registered under type national for the three agencies', () => {
    assert.equal(suiteFor('national'), nationalSuite);
    assert.deepEqual(nationalSuite.systems, ['pds', 'organ-donation', 'contact-preferences']);
  });

  it('passes against every healthy sandbox', async () => {
    const defs: [string, SandboxDefinition][] = [['pds', pdsSandbox], ['organ-donation', organDonationSandbox], ['contact-preferences', contactPreferencesSandbox]];
    const results = await Promise.all(defs.map(async ([system, def]) => {
      const url = await start(def);
      return { system, results: await runSuite(nationalSuite, { type: 'national', system, url }) };
    }));
    for (const { system, results: r } of results) {
      assert.ok(r.length >= 10, `${system}: only ${r.length} checks`);
      assert.ok(r.every((x) => x.passed), `${system}:\n${formatTable(r)}`);
    }
  });

  it('fails with readable reasons against a sandbox in garbage mode', async () => {
    const url = await start(pdsSandbox, 'garbage');
    const results = await runSuite(nationalSuite, { type: 'national', system: 'pds', url });
    const failed = results.filter((r) => !r.passed);
    assert.ok(failed.length >= 5, formatTable(results));
    assert.ok(failed.every((r) => r.reason && /not JSON|bad-response/.test(r.reason)), formatTable(results));
  });
});
