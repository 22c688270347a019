// `npm run sandbox -- NAME --port N [--fault MODE] [--spine PDS_URL] [--platform URL]` starts one sandbox on its
// own; `--list` names them all. A GP system given --spine keeps nominated pharmacies on that PDS, and a web
// integration given --platform verifies that Front Door's hand-off signatures, as `npm start` runs them.
import { parseArgs } from 'node:util';
import { sandboxes } from './registry.ts';
import { startSandbox } from './common/server.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string' }, host: { type: 'string' }, fault: { type: 'string' }, spine: { type: 'string' }, platform: { type: 'string' }, list: { type: 'boolean' } },
});

if (values.list) {
  for (const s of sandboxes) console.log(s.name);
  process.exit(0);
}
const name = positionals[0];
const def = sandboxes.find((s) => s.name === name);
if (!def) {
  console.error(`unknown sandbox "${name ?? ''}"; known: ${sandboxes.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const port = Number(values.port ?? 0);
const spine = values.spine;
const running = await startSandbox(def, { port, host: values.host, faultMode: values.fault, spineUrl: spine ? () => spine : undefined, platformUrl: values.platform });
console.log(`${def.name} listening at ${running.url}${values.fault ? ` (fault mode: ${values.fault})` : ''}`);
const stop = async () => { await running.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
