import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore } from '../store/open.ts';

const cli = fileURLToPath(new URL('./import-ods-cli.ts', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

function run(args: string[], dataDir: string, databaseUrl?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    if (databaseUrl) env.DATABASE_URL = databaseUrl;
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('npm run import:ods', () => {
  it('prints each bad row and the summary, and exits 0 when a row was good', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'import-ods-'));
    // A fresh embedded database on disk takes many seconds to create on a busy machine, so the server is used
    // when there is one (in its own schema, through the URL's options); the embedded path otherwise.
    const server = process.env.TEST_DATABASE_URL;
    const schema = `t_cli_${randomBytes(6).toString('hex')}`;
    let databaseUrl: string | undefined;
    if (server) {
      await withClient(server, (c) => c.query(`CREATE SCHEMA ${schema}`));
      const url = new URL(server);
      url.searchParams.set('options', `-c search_path=${schema}`);
      databaseUrl = url.toString();
    }
    try {
      const files = ['epraccur-sample.csv', 'pcn-sample.csv', 'commissioners-sample.csv'].map((f) => path.join(fixtures, f));
      const r = await run(files, dataDir, databaseUrl);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 12);
      assert.equal(lines[2], `${files[0]}:13: expected 27 columns, found 26`);
      assert.equal(lines[11], `${files[2]}:9: expected 5 columns, found 4`);
      assert.equal(r.stdout.trim().split('\n').at(-1), 'imported 24, skipped 10');
      if (server) {
        const [row] = await withClient(server, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${schema}.practices`)).rows);
        assert.equal(row.n, 12);
      } else {
        const db = await openStore({ dataDir });
        try {
          assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM practices'))[0].n, 12);
        } finally {
          await db.close();
        }
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      if (server) await withClient(server, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    }
  });

  it('exits 1 when no row was good, without creating a database', async () => {
    const dataDir = path.join(tmpdir(), `import-ods-none-${process.pid}`);
    const allBad = path.join(fixtures, 'epraccur-all-bad.csv');
    const r = await run([allBad], dataDir);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      `${allBad}:1: impossible open date "20230231" (expected a real date as YYYYMMDD)`,
      `${allBad}:2: unknown status "X" (expected A, C, D or P)`,
    ]);
    assert.equal(r.stdout.trim().split('\n').at(-1), 'imported 0, skipped 2');
    assert.equal(existsSync(dataDir), false);
    const usage = await run([], dataDir);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /usage: npm run import:ods -- FILE/);
  });
});
