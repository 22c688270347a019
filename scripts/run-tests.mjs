// The single test entry point: finds every *.test.ts and runs them with Node's test runner.
// Browser tests need Debian's chromium; it is installed here when missing and we may (root, apt-get).
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function find(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = only.length ? only : ['src', 'sandboxes', 'test'].flatMap((d) => find(d));

if (files.some((f) => f.includes('e2e')) && !existsSync('/usr/bin/chromium')) {
  try {
    execSync('bash scripts/setup-chromium.sh', { stdio: 'inherit' });
  } catch {
    console.error('Browser tests need /usr/bin/chromium; run scripts/setup-chromium.sh as root.');
  }
}

const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
