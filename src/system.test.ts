// The composition root: catalog changes reach citizens without restart, and shutdown finishes requests in flight.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addCommissioning, notifyCatalogChanged, removeCommissioning } from './catalog/catalog.ts';
import { signedInCitizen, startTestSystem } from './testing/factories.ts';

describe('running system', () => {
  it('shows a newly commissioned service at once, and removes it when decommissioned', async () => {
    const system = await startTestSystem();
    try {
      const { cookie } = await signedInCitizen(system, { practice: 'J81002' });
      const before = await system.app.inject({ url: '/', headers: { cookie } });
      assert.doesNotMatch(before.body, /CareBook/);
      const id = await addCommissioning(system.db, { serviceId: 'phr-carebook', icbCode: 'QVV', createdBy: 'test' });
      await notifyCatalogChanged(system.db);
      let body = '';
      for (let i = 0; i < 50 && !body.includes('CareBook'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        body = (await system.app.inject({ url: '/', headers: { cookie } })).body;
      }
      assert.match(body, /CareBook/);
      await removeCommissioning(system.db, id);
      await notifyCatalogChanged(system.db);
      for (let i = 0; i < 50 && body.includes('CareBook'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        body = (await system.app.inject({ url: '/', headers: { cookie } })).body;
      }
      assert.doesNotMatch(body, /CareBook/);
    } finally {
      await system.close();
    }
  });

  it('on shutdown stops taking requests but finishes those in flight, then closes the store', async () => {
    let release!: () => void;
    let arrived!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const started = new Promise<void>((r) => { arrived = r; });
    const system = await startTestSystem({}, {
      beforeListen: (app) => { app.get('/test/slow', async () => { arrived(); await gate; return { done: true }; }); },
    });
    const inFlight = fetch(`${system.url}/test/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
    // Shut down only once the request is being handled, however loaded the machine is.
    await started;
    const closing = system.close();
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(fetch(`${system.url}/healthz`), 'new connections are refused while draining');
    release();
    assert.deepEqual(await inFlight, { status: 200, body: { done: true } });
    await closing;
    await assert.rejects(system.db.query('SELECT 1'), 'store closed last');
  });
});
