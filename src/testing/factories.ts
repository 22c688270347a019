// Test factories: a whole Front Door on free loopback ports in one call, and signed-in actors in one call each,
// so a denial test costs no more than a happy-path test.
import type { FastifyInstance } from 'fastify';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../config.ts';
import type { IdentityLevel, StaffRole } from '../identity/provider/accounts.ts';
import { startSystem, type RunningSystem, type SystemOptions } from '../system.ts';
import { sandboxes } from '../../sandboxes/registry.ts';
import { startSandbox } from '../../sandboxes/common/server.ts';

export const FIXTURE_ODS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/ods');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function testConfig(env: Record<string, string> = {}): Promise<Config> {
  const port = await freePort();
  const idpPort = await freePort();
  return loadConfig({ PORT: String(port), IDP_PORT: String(idpPort), ODS_DIR: FIXTURE_ODS_DIR, LOG_LEVEL: 'silent', ...env });
}

/**
 * A running system on in-memory PGlite with the fixture reference data. With `withSandboxes`, every supplier
 * sandbox runs too (in this process, but each its own HTTP server on a free port) and the system calls them.
 */
export async function startTestSystem(env: Record<string, string> = {}, opts: SystemOptions & { withSandboxes?: boolean } = {}): Promise<RunningSystem> {
  if (!opts.withSandboxes) return startSystem(await testConfig(env), { inMemory: true, ...opts });
  // GP systems keep nominated pharmacies on the PDS sandbox, whose port is known only once it listens.
  // A web integration verifies this system's hand-off signatures, as `npm start` runs it.
  const config = await testConfig(env);
  let pds: string | undefined;
  const running = await Promise.all(sandboxes.map((s) => startSandbox(s, { port: 0, spineUrl: () => pds, platformUrl: config.publicUrl })));
  const supplierUrls = Object.fromEntries(running.map((r) => [r.name, r.url]));
  pds = supplierUrls.pds;
  const system = await startSystem(config, { inMemory: true, supplierUrls, ...opts });
  const close = system.close;
  return Object.assign(system, {
    async close() {
      await close();
      await Promise.all(running.map((r) => r.close()));
    },
  });
}

export interface CitizenOptions {
  practice?: string | null;
  level?: IdentityLevel;
  nhsNumber?: string;
  givenName?: string;
  timeouts?: { idleMs?: number; absoluteMs?: number };
}

/** A signed-in citizen at a practice and identity level: returns the Cookie header to send. */
export async function signedInCitizen(system: RunningSystem, o: CitizenOptions = {}): Promise<{ cookie: string; sessionId: string; nhsNumber?: string }> {
  const level = o.level ?? 'P9';
  const nhsNumber = level === 'P0' ? undefined : (o.nhsNumber ?? '9990079196');
  const sessionId = await system.sessions.create(
    {
      kind: 'citizen',
      sub: `test-${Math.random().toString(36).slice(2)}`,
      givenName: o.givenName ?? 'Test',
      familyName: 'Citizen',
      birthdate: '1980-01-01',
      nhsNumber,
      identityLevel: level,
      gpOdsCode: o.practice === null ? undefined : (o.practice ?? 'A81001'),
      idToken: 'test-id-token',
    },
    o.timeouts,
  );
  return { cookie: `fd_session=${sessionId}`, sessionId, nhsNumber };
}

/** A signed-in staff member with one role at one organisation. */
export async function signedInStaff(system: RunningSystem, role: StaffRole): Promise<{ cookie: string; sessionId: string }> {
  const sessionId = await system.sessions.create({ kind: 'staff', sub: `staff-${role.role}-${role.organisation}`, givenName: 'Test', familyName: 'Staff', roles: [role], idToken: 'test-id-token' });
  return { cookie: `fd_session=${sessionId}`, sessionId };
}

/**
 * The staff a governance or pipeline test needs, by name: the national team, the North East and Yorkshire region,
 * two ICBs (QHM, QMJ), a provider practice (A81001) and two suppliers.
 */
export const GOVERNANCE_CAST: Record<string, StaffRole> = {
  national: { role: 'national-team', organisation: 'national' }, y63: { role: 'region', organisation: 'Y63' },
  qhm: { role: 'commissioner', organisation: 'QHM' }, qmj: { role: 'commissioner', organisation: 'QMJ' },
  a81001: { role: 'provider', organisation: 'A81001' }, askdoc: { role: 'supplier', organisation: 'askdoc' }, carebook: { role: 'supplier', organisation: 'carebook' },
};

/** One signed-in staff member per named role, as a Cookie header each: `{ qhm: 'fd_session=…', … }`. */
export async function signedInStaffCookies(system: RunningSystem, roles: Record<string, StaffRole>): Promise<Record<string, string>> {
  const cookies: Record<string, string> = {};
  for (const [name, role] of Object.entries(roles)) cookies[name] = (await signedInStaff(system, role)).cookie;
  return cookies;
}

/**
 * Posts a form the way a browser does: the CSRF cookie and token from a GET of the page holding the form, then the
 * form with the token first. `pageCookie` fetches that page in another session (a token taken from someone
 * else); `withToken: false` leaves the token out.
 */
export async function postFormAsBrowser(
  app: FastifyInstance, cookie: string, formPage: string, url: string, form: Record<string, string | string[]>,
  opts: { withToken?: boolean; pageCookie?: string } = {},
) {
  const page = await app.inject({ url: formPage, headers: { cookie: opts.pageCookie ?? cookie } });
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? 'none';
  const csrfCookie = String(page.headers['set-cookie'] ?? '').split(';')[0];
  const body = new URLSearchParams();
  if (opts.withToken !== false) body.set('_csrf', token);
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  return app.inject({ method: 'POST', url, headers: { cookie: `${cookie}; ${csrfCookie}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() });
}
