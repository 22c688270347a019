// The job queue for long runs: pg-boss on our own store (PGlite embedded, or the PostgreSQL server), so the
// queue is durable in the same database as the runs and every node with the same database shares it.
import PgBoss from 'pg-boss';
import type { Queryable, Store } from '../../store/store.ts';

/** pg-boss's database hook over the Store: parameterised statements go through query, its schema scripts through script. */
function bossDb(db: Store) {
  return {
    async executeSql(text: string, values?: unknown[]) {
      if ((!values || values.length === 0) && db.script && text.includes(';')) {
        // pg-boss's create, migrate and maintenance commands are several statements in one BEGIN … COMMIT.
        await db.script(text);
        return { rows: [] };
      }
      return { rows: await db.query(text, values) };
    },
  };
}

export interface JobQueueOptions {
  /** How often an idle worker looks for work. */
  pollingIntervalSeconds?: number;
  /** A job not finished in this time is failed by the queue's maintenance. */
  expireInSeconds?: number;
}

export class JobQueue<T extends object> {
  private boss?: PgBoss;

  constructor(private readonly db: Store, readonly name: string, private readonly opts: JobQueueOptions = {}) {}

  async start(onError: (err: Error) => void): Promise<void> {
    // The queue's tables live beside the store's schema: a test schema on a shared server gets its own queue.
    const [{ schema }] = await this.db.query<{ schema: string }>('SELECT current_schema() AS schema');
    const bossSchema = schema === 'public' ? 'pgboss' : `${schema}_pgboss`;
    const boss = new PgBoss({ db: bossDb(this.db), schema: bossSchema, schedule: false, supervise: true, migrate: true } as PgBoss.ConstructorOptions);
    boss.on('error', onError);
    await boss.start();
    if (!(await boss.getQueue(this.name))) await boss.createQueue(this.name, { name: this.name, retryLimit: 0, expireInSeconds: this.opts.expireInSeconds ?? 600 });
    this.boss = boss;
  }

  /** Queues a job; given a transaction, the job is written in it (and vanishes if it rolls back). */
  async send(data: T, tx?: Queryable): Promise<string> {
    if (!this.boss) throw new Error('job queue not started');
    const db = tx ? { executeSql: async (text: string, values?: unknown[]) => ({ rows: await tx.query(text, values) }) } : undefined;
    const id = await this.boss.send(this.name, data, { retryLimit: 0, expireInSeconds: this.opts.expireInSeconds ?? 600, ...(db ? { db } : {}) });
    if (!id) throw new Error('job queue refused the job');
    return id;
  }

  /** One job at a time per node: load tests and browsers are heavy, and the pipeline is not in a hurry. */
  async work(handler: (data: T) => Promise<void>): Promise<void> {
    if (!this.boss) throw new Error('job queue not started');
    await this.boss.work<T>(this.name, { batchSize: 1, pollingIntervalSeconds: this.opts.pollingIntervalSeconds ?? 1 }, async ([job]) => {
      await handler(job.data);
    });
  }

  /** Stops fetching work and waits (up to timeoutMs) for the job in hand to finish. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const boss = this.boss;
    this.boss = undefined;
    if (!boss) return;
    await boss.stop({ graceful: true, wait: true, timeout: timeoutMs, close: false }).catch(() => {});
  }
}
