// `npm run conformance -- TYPE --system NAME --url URL`: runs a service type's suite against any endpoint,
// prints one row per check and exits non-zero on any failure (the supplier assurance kit).
import { parseArgs } from 'node:util';
import { formatTable, runSuite } from './kit.ts';
import { suiteFor, suites } from './suites.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { system: { type: 'string' }, url: { type: 'string' } } });
const type = positionals[0];
const suite = type ? suiteFor(type) : undefined;
if (!suite || !values.system || !values.url) {
  console.error(`usage: npm run conformance -- TYPE --system NAME --url URL\n  types: ${suites.map((s) => `${s.type} (systems: ${s.systems.join(', ')})`).join('; ')}`);
  process.exit(2);
}
if (!suite.systems.includes(values.system)) {
  console.error(`unknown ${type} system "${values.system}"; known: ${suite.systems.join(', ')}`);
  process.exit(2);
}
const results = await runSuite(suite, { type: suite.type, system: values.system, url: values.url });
console.log(formatTable(results));
// The kit has no platform key here, so it cannot make a token the service ought to accept and then forge one.
if (suite.type === 'web') console.log('\nNot run here: the forged and reused hand-off token checks, which need the platform\'s signing key; the portal\'s assurance pipeline runs them.');
process.exit(results.every((r) => r.passed) ? 0 : 1);
