// The idempotency table under concurrency: claims, outcomes and ownership shared by requests running at once
// (one statement per batch) give each caller exactly what a statement of its own would have.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testStores } from '../store/test-stores.ts';
import { GpWrites } from './gp-writes.ts';

for (const store of testStores()) {
  describe(`GpWrites on ${store.name}`, () => {
    it('of many concurrent claims for one key exactly one wins, in one batch or across batches', async () => {
      await store.use(async (db) => {
        const writes = new GpWrites(db);
        const same = await Promise.all(Array.from({ length: 12 }, () => writes.claim('key-a', '9990079196', 'booking', 'emis')));
        assert.equal(same.filter(Boolean).length, 1);
        assert.equal(await writes.claim('key-a', '9990079196', 'booking', 'emis'), false);
        const distinct = await Promise.all(Array.from({ length: 12 }, (_, i) => writes.claim(`key-${i}`, '9990079196', 'booking', 'emis')));
        assert.deepEqual(distinct, distinct.map(() => true));
      });
    });

    it('concurrent outcomes each land on their own key, and ownership answers per appointment id', async () => {
      await store.use(async (db) => {
        const writes = new GpWrites(db);
        const people = ['9990079196', '9990237573', '9990316767'];
        await Promise.all(people.map((n, i) => writes.claim(`k${i}`, n, 'booking', 'emis')));
        await Promise.all(people.map((_, i) => writes.complete(`k${i}`, `appt-${i}`, { id: `appt-${i}`, reason: `r${i}` })));
        assert.deepEqual(await Promise.all(people.map((n, i) => writes.result<{ id: string }>(`k${i}`, n, 'booking'))), people.map((_, i) => ({ id: `appt-${i}`, reason: `r${i}` })));
        // Another person's key finds nothing, even with the right key.
        assert.equal(await writes.result('k0', people[1], 'booking'), undefined);
        const owners = await Promise.all(['appt-0', 'appt-2', 'never-booked'].map((id) => writes.bookedBy(id)));
        assert.deepEqual(owners, [[people[0]], [people[2]], []]);
      });
    });

    it('one call at a time (the single-row statements) claims, completes and replays just as a batch does', async () => {
      await store.use(async (db) => {
        const writes = new GpWrites(db);
        assert.equal(await writes.claim('solo', '9990079196', 'booking', 'emis'), true);
        assert.equal(await writes.claim('solo', '9990079196', 'booking', 'emis'), false);
        assert.equal(await writes.result('solo', '9990079196', 'booking'), undefined, 'pending until the supplier answered');
        await writes.complete('solo', 'appt-solo', { id: 'appt-solo', note: "it's \"quoted\"" });
        assert.deepEqual(await writes.result('solo', '9990079196', 'booking'), { id: 'appt-solo', note: "it's \"quoted\"" });
        // A fresh node (no memory of its own bookings) asks the table who booked it.
        assert.deepEqual(await new GpWrites(db).bookedBy('appt-solo'), ['9990079196']);
      });
    });

    it('a bad item fails only its own caller, not the others that shared its statement', async () => {
      await store.use(async (db) => {
        const writes = new GpWrites(db);
        // 'unknown' breaks the kind CHECK constraint, so the shared statement fails; each claim is then tried alone.
        const settled = await Promise.allSettled([writes.claim('x1', '9990079196', 'booking', 'emis'), writes.claim('x2', '9990079196', 'unknown' as 'booking', 'emis')]);
        assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'rejected']);
        assert.equal(await writes.claim('x1', '9990079196', 'booking', 'emis'), false);
      });
    });
  });
}
