// `npm start`: the whole system on embedded defaults — PGlite, the embedded identity provider, every supplier
// sandbox in its own process, demo data — then prints where to go and who to sign in as.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from './config.ts';
import { defaultSupplierUrls, startSystem } from './system.ts';
import { sandboxes } from '../sandboxes/registry.ts';

const config = loadConfig();
const log = pino({ level: config.logLevel, redact: ['req.headers.cookie', 'req.headers.authorization'] });

// Sandboxes are other systems: each its own process, reached over HTTP only.
const children: ChildProcess[] = [];
const cli = fileURLToPath(new URL('../sandboxes/cli.ts', import.meta.url));
// GP systems keep nominated pharmacies on the Spine: the national record sandbox (or the PDS the settings name).
const spine = defaultSupplierUrls(config).pds;
sandboxes.forEach((s, i) => {
  // A supplier given a real URL (SUPPLIER_URL_<NAME>) needs no local sandbox.
  if (process.env[`SUPPLIER_URL_${s.name.toUpperCase().replace(/-/g, '_')}`]) return;
  const port = config.sandboxBasePort + i;
  const child = spawn(process.execPath, ['--import', 'tsx', cli, s.name, '--port', String(port), '--spine', spine, '--platform', config.publicUrl], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
});

const system = await startSystem(config, { logger: { level: config.logLevel, redact: ['req.headers.cookie', 'req.headers.authorization'] } });

const lines = [
  '',
  `Front Door is running at ${config.publicUrl}`,
  `  identity provider (NHS login, demo): ${system.issuer}`,
  `  API documentation: ${config.publicUrl}/api/docs/`,
  `  store: ${config.databaseUrl ? 'PostgreSQL server' : `PGlite in ${config.dataDir}`}; sessions: ${config.redisUrl ? 'Redis' : 'store'}`,
  ...Object.entries(system.supplierUrls).map(([name, url]) => `  supplier ${name}: ${url}`),
  '',
  'Demo users (email / password, identity level, GP surgery):',
  ...system.demoPeople.map((p) => {
    const r = system.catalog.resolve(p.gpOdsCode ?? undefined, p.identityLevel);
    const where = !p.gpOdsCode ? 'no GP registration' : r.practice ? `${p.gpOdsCode} ${r.practice.name} (${r.practice.icbCode}, GP system ${r.practice.gpSystem}${r.practiceProblem ? `, ${r.practiceProblem}` : ''})` : `${p.gpOdsCode} (unknown practice)`;
    return `  ${p.email.padEnd(36)} ${p.password.padEnd(16)} ${p.identityLevel}  ${where}`;
  }),
  '',
  `Demo staff for the portal at ${config.publicUrl}/portal (email / password, role at organisation):`,
  ...system.demoStaff.map((s) => `  ${s.email.padEnd(38)} ${s.password.padEnd(16)} ${s.roles.map((r) => `${r.role} at ${r.organisation}`).join(', ')}`),
  '',
];
console.log(lines.join('\n'));

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down: no new requests, finishing those in flight');
  for (const c of children) c.kill('SIGTERM');
  await system.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
