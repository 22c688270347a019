// The per-supplier policy: finished calls are left alone, late calls are cut off, and many calls at once are fine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SupplierPolicy } from './resilience.ts';

describe('SupplierPolicy', () => {
  it('a finished call through the policy leaves its signal un-aborted (no AbortError per call, no torn-down socket)', async () => {
    const policy = new SupplierPolicy('test', { timeoutMs: 1000 });
    const seen: AbortSignal[] = [];
    await policy.read(async (signal) => { seen.push(signal); return 1; });
    await policy.write(async (signal) => { seen.push(signal); return 1; });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen.map((s) => s.aborted), [false, false]);
  });

  it('many calls at once raise no listener-leak warning', async () => {
    const policy = new SupplierPolicy('test', { timeoutMs: 1000 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      await Promise.all(Array.from({ length: 50 }, () => policy.read(() => new Promise((r) => setTimeout(r, 5)))));
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((n) => n === 'MaxListenersExceededWarning'), []);
  });

  it('a call past the timeout is still cut off through its signal', async () => {
    const policy = new SupplierPolicy('test', { timeoutMs: 50, readRetries: 1 });
    let signalled: AbortSignal | undefined;
    await assert.rejects(policy.read((signal) => { signalled = signal; return new Promise(() => {}); }));
    assert.equal(signalled?.aborted, true);
  });
});
