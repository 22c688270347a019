// Group commit for hot statements: calls made while one statement is running, or in the same few turns of the
// event loop, share the next statement (one multi-row INSERT, UPDATE … FROM VALUES, or SELECT … = ANY). Each caller
// still waits for its own result. One statement of N rows costs far less than N statements, on PGlite above all,
// where every statement runs on this thread.

/** The most extra turns of the event loop a batch waits for while it grows. */
const MAX_GATHER_TURNS = 3;

export class StatementBatcher<In, Out> {
  private queue: { item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;

  /**
   * @param run  runs one statement for a batch and returns one result per item, in order.
   * @param maxBatch  the most items one statement carries (bounded by PostgreSQL's 65,535 parameters).
   */
  constructor(private readonly run: (items: In[]) => Promise<Out[]>, private readonly maxBatch = 200) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.gather(this.queue.length, 0);
      }
    });
  }

  /**
   * Waits while the batch is still growing: each turn of the event loop reads whatever requests have arrived,
   * and those that reach this statement join the batch. When a turn adds nothing (always, under light load) the
   * statement runs at once. Bounded, so a steady stream cannot hold a batch back.
   */
  private gather(seen: number, turns: number): void {
    setImmediate(() => {
      if (this.queue.length > seen && this.queue.length < this.maxBatch && turns < MAX_GATHER_TURNS) this.gather(this.queue.length, turns + 1);
      else void this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const out = await this.run(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(out[i]));
      } catch (err) {
        if (batch.length === 1) batch[0].reject(err);
        // One bad item must not fail the requests it happened to share a statement with: run each alone.
        else for (const b of batch) await this.run([b.item]).then(([out]) => b.resolve(out), b.reject);
      }
    }
    this.flushing = false;
  }
}
