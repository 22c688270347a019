// Group commit: who shares a statement, when a lone call runs, and that one bad item fails only itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatementBatcher } from './statement-batcher.ts';

const turn = () => new Promise<void>((r) => setImmediate(r));

function recording(fail?: (n: number) => boolean, maxBatch?: number) {
  const runs: number[][] = [];
  const batcher = new StatementBatcher<number, number>(async (items) => {
    runs.push([...items]);
    if (fail && items.some(fail)) throw new Error('bad item');
    return items.map((n) => n * 10);
  }, maxBatch);
  return { runs, batcher };
}

describe('StatementBatcher', () => {
  it('runs a lone call on the next turn, without waiting for company', async () => {
    const { runs, batcher } = recording();
    const out = batcher.submit(1);
    await turn();
    await turn();
    assert.deepEqual(runs, [[1]]);
    assert.equal(await out, 10);
  });

  it('lets calls that arrive while the batch is still growing join it, each with its own result', async () => {
    const { runs, batcher } = recording();
    const results = [batcher.submit(1), batcher.submit(2)];
    await turn();
    results.push(batcher.submit(3));
    await turn();
    results.push(batcher.submit(4));
    assert.deepEqual(await Promise.all(results), [10, 20, 30, 40]);
    assert.deepEqual(runs, [[1, 2, 3, 4]]);
  });

  it('stops gathering after a few turns, so a steady stream cannot hold a batch back', async () => {
    const { runs, batcher } = recording();
    const results: Promise<number>[] = [];
    for (let i = 0; i < 10; i++) {
      results.push(batcher.submit(i));
      await turn();
    }
    await Promise.all(results);
    assert.ok(runs.length > 1, `one statement held all ${runs[0]?.length} calls`);
    assert.ok(runs[0].length <= 5, `the first statement waited for ${runs[0].length} calls`);
    assert.deepEqual(runs.flat(), [...Array(10).keys()]);
  });

  it('never puts more than maxBatch items in one statement', async () => {
    const { runs, batcher } = recording(undefined, 3);
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => batcher.submit(n)));
    assert.ok(runs.every((r) => r.length <= 3));
    assert.deepEqual(runs.flat(), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('fails only the bad item when a shared statement fails: the others are run again alone and succeed', async () => {
    const { batcher } = recording((n) => n === 2);
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])), [10, 30]);
  });
});
