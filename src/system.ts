// The composition root: the only place that wires configuration, store, identity provider, relying party,
// catalog and web app together. `npm start`, the tests, the benchmarks and the browser tests all start here.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { ClientMetadata } from 'oidc-provider';
import { AuditLog } from './audit/audit.ts';
import { buildApp } from './app.ts';
import { CATALOG_CHANNEL, listCommissioning, listServices } from './catalog/catalog.ts';
import { seedDemoCatalog } from './catalog/demo-catalog.ts';
import { seedDemoSuppliers } from './governance/suppliers.ts';
import { CatalogIndex } from './catalog/resolution.ts';
import type { Config } from './config.ts';
import { privateSigningJwk, publicJwk, secretKeys } from './identity/keys.ts';
import { loadDemoPeople, seedDemoAccounts, type DemoPerson } from './identity/provider/accounts.ts';
import { buildIdentityProvider, NHS_LOGIN_SCOPES } from './identity/provider/idp-app.ts';
import { loadDemoStaff, seedDemoStaff, type DemoStaffMember } from './identity/provider/staff-accounts.ts';
import { RelyingParty } from './identity/relying-party.ts';
import { HandoffSigner } from './identity/handoff.ts';
import { cachedSessions, redisSessions, storeSessions, type SessionStore } from './identity/sessions.ts';
import { importOdsDirectory } from './reference/ods-import.ts';
import { loadPracticeDirectory } from './reference/practice-directory.ts';
import { openStore } from './store/open.ts';
import { SupplierPolicies } from './integrations/resilience.ts';
import { OutboundGuard } from './integrations/outbound-guard.ts';
import { RunService } from './pipeline/runs/run-service.ts';
import { sandboxes } from '../sandboxes/registry.ts';
import type { Store } from './store/store.ts';

export interface SystemOptions {
  /** Keep PGlite in memory (tests) instead of a folder under DATA_DIR. */
  inMemory?: boolean;
  /** Use this store instead of opening one (two app nodes on one database). */
  db?: Store;
  /** Skip the embedded provider even when OIDC_ISSUER is unset (a second node reusing the first's). */
  embeddedIdentityProvider?: boolean;
  logger?: boolean | object;
  /** Seed demo data (catalog, demo users, reference data). */
  seed?: boolean;
  /** Supplier and agency base URLs by sandbox name (e.g. 'gp-emis', 'pds'); defaults from configuration. */
  supplierUrls?: Record<string, string>;
  /** Adds routes before the app listens (benchmarks measure pages through the same plugin stack). */
  beforeListen?: (app: FastifyInstance) => void | Promise<void>;
}

export interface RunningSystem {
  config: Config;
  db: Store;
  app: FastifyInstance;
  idp?: FastifyInstance;
  url: string;
  issuer: string;
  catalog: CatalogIndex;
  sessions: SessionStore;
  demoPeople: DemoPerson[];
  demoStaff: DemoStaffMember[];
  supplierUrls: Record<string, string>;
  policies: SupplierPolicies;
  /** Assurance runs (conformance, accessibility, capacity) on the job queue. */
  runs: RunService;
  close(): Promise<void>;
}

export async function startSystem(config: Config, opts: SystemOptions = {}): Promise<RunningSystem> {
  const ownDb = !opts.db;
  const db = opts.db ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: opts.inMemory ? undefined : config.dataDir }));
  const closers: (() => Promise<unknown>)[] = [];
  try {
    // Each supplier at its configured URL (SUPPLIER_URL_GP_EMIS and so on), else its local sandbox.
    const supplierUrls = opts.supplierUrls ?? defaultSupplierUrls(config);
    const seed = opts.seed ?? true;
    if (seed) {
      await importOdsDirectory(db, config.odsDir);
      await seedDemoCatalog(db, { webConsultationUrl: supplierUrls['web-consultation'] });
      await seedDemoSuppliers(db);
    }

    // Catalog resolution: an in-memory index rebuilt whenever the catalog or commissioning changes anywhere.
    const practices = await loadPracticeDirectory(db);
    const catalog = new CatalogIndex(practices);
    const rebuild = async () => catalog.rebuild(await listServices(db), await listCommissioning(db));
    await rebuild();
    closers.push(await db.listen(CATALOG_CHANNEL, () => { rebuild().catch(() => {}); }));

    const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
    if (redis) closers.push(async () => redis.disconnect());
    const timeouts = { idleMs: config.sessionIdleMinutes * 60_000, absoluteMs: config.sessionAbsoluteHours * 3_600_000 };
    const sessions = config.redisUrl ? redisSessions(config.redisUrl, timeouts) : await cachedSessions(storeSessions(db, timeouts), db);
    closers.push(() => sessions.close());

    const rpJwk = config.oidcClientPrivateKey ? JSON.parse(config.oidcClientPrivateKey) : await privateSigningJwk(db, 'rp.client-key');
    const embedded = !config.oidcIssuer && (opts.embeddedIdentityProvider ?? true);
    const issuer = config.oidcIssuer ?? `http://localhost:${config.idpPort}`;
    const demoPeople = await loadDemoPeople();
    const demoStaff = await loadDemoStaff();

    let idp: FastifyInstance | undefined;
    if (embedded) {
      if (seed) await seedDemoAccounts(db, demoPeople);
      if (seed) await seedDemoStaff(db, demoStaff);
      const clients: ClientMetadata[] = [{
        client_id: config.oidcClientId,
        client_name: 'Front Door',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: { keys: [publicJwk(rpJwk)] as never },
        redirect_uris: [`${config.publicUrl}/auth/callback`],
        post_logout_redirect_uris: [`${config.publicUrl}/signed-out`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'RS256',
      }, {
        // The staff portal: a separate client, so a citizen's grant never carries staff roles and vice versa.
        client_id: `${config.oidcClientId}-portal`,
        client_name: 'Front Door portal',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: { keys: [publicJwk(rpJwk)] as never },
        redirect_uris: [`${config.publicUrl}/portal/auth/callback`],
        post_logout_redirect_uris: [`${config.publicUrl}/portal/signed-out`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'RS256',
      }];
      const built = await buildIdentityProvider({
        issuer,
        db,
        signingJwk: await privateSigningJwk(db, 'idp.signing-key'),
        cookieKeys: await secretKeys(db, 'idp.cookie-keys'),
        clients,
        formActionOrigins: [new URL(config.publicUrl).origin],
        logger: false,
      });
      idp = built.app;
      await idp.listen({ port: config.idpPort, host: config.host });
      closers.push(() => idp!.close());
    }

    const citizenRp = new RelyingParty({
      issuer,
      clientId: config.oidcClientId,
      privateJwk: rpJwk,
      redirectUri: `${config.publicUrl}/auth/callback`,
      postLogoutRedirectUri: `${config.publicUrl}/signed-out`,
      scope: NHS_LOGIN_SCOPES.filter((s) => s !== 'staff').join(' '),
      client: 'citizen',
    });
    const staffRp = new RelyingParty({
      issuer,
      clientId: `${config.oidcClientId}-portal`,
      privateJwk: rpJwk,
      redirectUri: `${config.publicUrl}/portal/auth/callback`,
      postLogoutRedirectUri: `${config.publicUrl}/portal/signed-out`,
      scope: 'openid profile email staff',
      client: 'staff',
    });

    const policies = new SupplierPolicies({ timeoutMs: 3000 });

    // Assurance runs: the queue's worker starts once the store is ready and stops before it closes.
    const audit = new AuditLog(db);
    const handoff = await HandoffSigner.open(db, config.publicUrl);
    const runs = new RunService({
      db, audit, guard: new OutboundGuard({ allow: config.outboundAllowList }), capacityMaxRps: config.capacityMaxRps, chromiumPath: config.chromiumPath,
      // Assurance signs in to a web integration as the app would, as a made-up P9 test user.
      handOff: (audience) => handoff.sign({ sub: `assurance-${randomUUID()}`, identityLevel: 'P9' }, audience),
    });
    await runs.start();
    closers.push(() => runs.stop());

    const app = await buildApp({
      config, db, sessions, catalog, audit, citizenRp, staffRp, redis, supplierUrls, policies,
      handoff,
      identityOrigin: new URL(issuer).origin, runs,
      logger: opts.logger === undefined ? false : (opts.logger as never),
    });
    await opts.beforeListen?.(app);
    await app.listen({ port: config.port, host: config.host });
    closers.push(() => app.close());

    return {
      config, db, app, idp, url: config.publicUrl, issuer, catalog, sessions, demoPeople, demoStaff, supplierUrls, policies, runs,
      async close() {
        // Reverse order of start: stop taking requests first, close the store last.
        for (const c of closers.reverse()) await c().catch(() => {});
        if (ownDb) await db.close();
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => {});
    if (ownDb) await db.close();
    throw err;
  }
}

/** Supplier URLs from SUPPLIER_URL_<NAME> settings, else the sandbox `npm start` runs at SANDBOX_BASE_PORT + its place. */
export function defaultSupplierUrls(config: Config, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    sandboxes.map((s, i) => [s.name, env[`SUPPLIER_URL_${s.name.toUpperCase().replace(/-/g, '_')}`] ?? `http://127.0.0.1:${config.sandboxBasePort + i}`]),
  );
}
