// Typed configuration read once from the environment, with embedded defaults so `npm start` needs nothing set.
import path from 'node:path';

export interface Config {
  port: number;
  host: string;
  /** Public base URL of the citizen app, used for OIDC redirect URIs. */
  publicUrl: string;
  dataDir: string;
  /** Set: a PostgreSQL server. Unset: PGlite embedded in `dataDir`. */
  databaseUrl?: string;
  /** Set: sessions and rate limits in Redis, for several app nodes without a shared PostgreSQL. */
  redisUrl?: string;
  /** Unset: the embedded identity provider is started and used. */
  oidcIssuer?: string;
  oidcClientId: string;
  /** Private JWK (JSON) for private_key_jwt; unset with the embedded provider: generated and kept in the store. */
  oidcClientPrivateKey?: string;
  idpPort: number;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  /** Cookies marked Secure. Off only for plain-http local runs. */
  secureCookies: boolean;
  logLevel: string;
  /** Folder of the ODS reference data imported on start with the embedded default. */
  odsDir: string;
  sandboxBasePort: number;
  /** Hosts, addresses and CIDR ranges the server may call on a user's behalf (conformance, accessibility, capacity runs). */
  outboundAllowList: string[];
  /** Ceiling on the request rate a capacity run may send, whatever the projected peak. */
  capacityMaxRps: number;
  /** The Chromium that accessibility runs drive. */
  chromiumPath: string;
  /** Requests a minute one signed-in citizen may make to their own data through the JSON API. */
  citizenApiPerMinute: number;
  /** Seconds a national record read is reused for the same person (0: every view asks the agency). */
  nationalRecordCacheSeconds: number;
  /** 32 bytes, base64url: seals GP linkage keys at rest; unset: made once and kept in the store. */
  linkageKeySecret?: string;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${value}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = int(env.PORT, 3000, 'PORT');
  const host = env.HOST ?? '127.0.0.1';
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, '');
  return {
    port,
    host,
    publicUrl,
    dataDir: path.resolve(env.DATA_DIR ?? '.data'),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    oidcIssuer: env.OIDC_ISSUER || undefined,
    oidcClientId: env.OIDC_CLIENT_ID ?? 'front-door',
    oidcClientPrivateKey: env.OIDC_CLIENT_PRIVATE_KEY || undefined,
    idpPort: int(env.IDP_PORT, port + 1, 'IDP_PORT'),
    sessionIdleMinutes: int(env.SESSION_IDLE_MINUTES, 30, 'SESSION_IDLE_MINUTES'),
    sessionAbsoluteHours: int(env.SESSION_ABSOLUTE_HOURS, 12, 'SESSION_ABSOLUTE_HOURS'),
    secureCookies: env.SECURE_COOKIES ? env.SECURE_COOKIES !== 'false' : publicUrl.startsWith('https:'),
    logLevel: env.LOG_LEVEL ?? 'info',
    odsDir: path.resolve(env.ODS_DIR ?? '../shared/data/ods'),
    sandboxBasePort: int(env.SANDBOX_BASE_PORT, port + 100, 'SANDBOX_BASE_PORT'),
    outboundAllowList: (env.OUTBOUND_ALLOW_LIST ?? '127.0.0.0/8,::1').split(',').map((s) => s.trim()).filter(Boolean),
    capacityMaxRps: int(env.CAPACITY_MAX_RPS, 200, 'CAPACITY_MAX_RPS'),
    chromiumPath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    citizenApiPerMinute: int(env.CITIZEN_API_PER_MINUTE, 300, 'CITIZEN_API_PER_MINUTE'),
    nationalRecordCacheSeconds: int(env.NATIONAL_RECORD_CACHE_SECONDS, 30, 'NATIONAL_RECORD_CACHE_SECONDS'),
    linkageKeySecret: env.LINKAGE_KEY_SECRET || undefined,
  };
}
