// Live monitoring of services from real traffic: each live service and each supplier or agency connection with its
// success rate, latency percentiles and circuit-breaker state (from the resilience policies every supplier call goes
// through), checked against the agreed service levels. Who sees what follows their role and organisation.
import { listCommissioning, listServices, type CatalogService } from '../catalog/catalog.ts';
import { denied, hasRole, type GovernanceActor } from '../governance/governance-access.ts';
import { listSuppliers } from '../governance/suppliers.ts';
import type { BreakerState, SupplierFigures, SupplierPolicies } from '../integrations/resilience.ts';
import type { PracticeDirectory } from '../reference/practice-directory.ts';
import type { Queryable } from '../store/store.ts';
import { serviceLevelFor, type ServiceLevel } from './service-levels.ts';

export interface MonitoringDeps {
  db: Queryable;
  practices: PracticeDirectory;
  policies: SupplierPolicies;
}

/** A supplier or agency system Front Door calls, by the name its resilience policy carries. */
export interface Connection {
  name: string;
  title: string;
  /** The registry supplier behind it; undefined for national agencies. */
  supplierId?: string;
}

const GP_SUPPLIERS: Record<string, string> = { emis: 'EMIS (simulated)', tpp: 'TPP (simulated)', vision: 'Vision (simulated)', microtest: 'Microtest (simulated)' };

/** Connections we know by name; any other policy that has seen traffic is shown under its own name. */
export const CONNECTIONS: Readonly<Record<string, Connection>> = {
  ...Object.fromEntries(Object.entries(GP_SUPPLIERS).map(([id, title]) => [`gp-${id}`, { name: `gp-${id}`, title: `${title} GP system`, supplierId: id }])),
  pds: { name: 'pds', title: 'Personal Demographics Service (national record)' },
  'organ-donation': { name: 'organ-donation', title: 'NHS Organ Donor Register' },
  'contact-preferences': { name: 'contact-preferences', title: 'Contact preferences and data opt-out' },
};

/** The connections a live service's calls go through. Web integrations open the supplier's pages: no calls of ours. */
export function connectionsOf(s: CatalogService): string[] {
  if (s.type === 'gp-system' && s.gpSystem) return [`gp-${s.gpSystem}`];
  const national: Record<string, string> = { 'national-record': 'pds', 'organ-donation': 'organ-donation', 'contact-preferences': 'contact-preferences' };
  return national[s.id] ? [national[s.id]] : [];
}

export type Health = 'meeting' | 'breaching' | 'no-traffic';

export interface ConnectionStatus {
  connection: Connection;
  figures: SupplierFigures;
  level: ServiceLevel;
  health: Health;
  /** Why it breaches, in words (empty when it meets its levels). */
  breaches: string[];
}

export interface ServiceStatus {
  service: CatalogService;
  connections: ConnectionStatus[];
  health: Health;
  breaches: string[];
  /** Why there are no figures, when the service makes no calls of ours. */
  note?: string;
}

export interface MonitoringView {
  generatedAt: Date;
  /** What the actor is shown, in words ("all services", "services ICB QHM commissions"). */
  scope: string;
  services: ServiceStatus[];
  connections: ConnectionStatus[];
}

const EMPTY = (supplier: string): SupplierFigures => ({ supplier, calls: 0, failures: 0, windowCalls: 0, windowFailures: 0, successRate: 1, p50Ms: 0, p95Ms: 0, p99Ms: 0, breaker: 'closed' });

const BREAKER_WORDS: Record<BreakerState, string> = { closed: 'closed', open: 'open: calls are paused', 'half-open': 'half-open: trying calls again', isolated: 'isolated: calls are stopped by hand' };

export const breakerWords = (b: BreakerState): string => BREAKER_WORDS[b];

const percent = (r: number) => `${(Math.floor(r * 1000) / 10).toFixed(1)}%`;

/** Compares one connection's figures with its agreed levels. */
export function assess(connection: Connection, figures: SupplierFigures): ConnectionStatus {
  const level = serviceLevelFor(connection.name);
  const breaches: string[] = [];
  if (figures.windowCalls > 0) {
    if (figures.successRate < level.minSuccessRate) breaches.push(`success rate ${percent(figures.successRate)} is below the agreed ${percent(level.minSuccessRate)}`);
    if (figures.p99Ms > level.maxP99Ms) breaches.push(`p99 latency ${Math.round(figures.p99Ms)} ms is above the agreed ${level.maxP99Ms} ms`);
  }
  if (figures.breaker !== 'closed') breaches.push(`circuit breaker is ${BREAKER_WORDS[figures.breaker]}`);
  const health: Health = breaches.length ? 'breaching' : figures.windowCalls === 0 ? 'no-traffic' : 'meeting';
  return { connection, figures, level, health, breaches };
}

/** Every connection with figures now, known ones first. */
function allConnections(policies: SupplierPolicies): ConnectionStatus[] {
  const figures = new Map(policies.all().map((f) => [f.supplier, f]));
  const names = [...new Set([...Object.keys(CONNECTIONS), ...figures.keys()])];
  return names.map((n) => assess(CONNECTIONS[n] ?? { name: n, title: n }, figures.get(n) ?? EMPTY(n)));
}

/**
 * What the actor may see: the national team and regions see everything; a commissioner the services its ICB
 * commissions (and the GP services its practices' GP systems provide); a supplier its own services and connections.
 */
export async function monitoringView(deps: MonitoringDeps, actor: GovernanceActor, today = new Date().toISOString().slice(0, 10)): Promise<MonitoringView> {
  const live = (await listServices(deps.db)).filter((s) => s.status === 'live');
  const connections = allConnections(deps.policies);
  const byName = new Map(connections.map((c) => [c.connection.name, c]));
  const statusOf = (s: CatalogService): ServiceStatus => {
    const cs = connectionsOf(s).map((n) => byName.get(n)!).filter(Boolean);
    const breaches = cs.flatMap((c) => c.breaches);
    const health: Health = breaches.length ? 'breaching' : cs.some((c) => c.health === 'meeting') ? 'meeting' : 'no-traffic';
    const note = cs.length ? undefined : s.integrationMethod === 'web' ? 'Web integration: citizens use the supplier\'s own pages, so Front Door makes no calls to measure' : 'No connection to measure yet';
    return { service: s, connections: cs, health, breaches, ...(note ? { note } : {}) };
  };

  let scope: string;
  let services: CatalogService[];
  let shownConnections: ConnectionStatus[];
  if (hasRole(actor, 'national-team') || hasRole(actor, 'region')) {
    scope = 'all live services and connections';
    services = live;
    shownConnections = connections;
  } else if (actor.roles.some((r) => r.role === 'commissioner')) {
    const icbs = actor.roles.filter((r) => r.role === 'commissioner').map((r) => r.organisation);
    const commissioned = new Set((await listCommissioning(deps.db))
      .filter((c) => icbs.includes(c.icbCode) && !(c.startDate && c.startDate > today) && !(c.endDate && c.endDate < today))
      .map((c) => c.serviceId));
    const gpSystems = new Set(icbs.flatMap((i) => deps.practices.practicesInIcb(i).map((p) => p.gpSystem as string)));
    services = live.filter((s) => commissioned.has(s.id) || (s.type === 'gp-system' && s.gpSystem && gpSystems.has(s.gpSystem)));
    scope = `services ICB ${icbs.join(', ')} commissions, and the GP systems its practices use`;
    const used = new Set(services.flatMap(connectionsOf));
    shownConnections = connections.filter((c) => used.has(c.connection.name));
  } else if (actor.roles.some((r) => r.role === 'supplier')) {
    const ids = actor.roles.filter((r) => r.role === 'supplier').map((r) => r.organisation);
    const names = new Set((await listSuppliers(deps.db)).filter((s) => ids.includes(s.id)).map((s) => s.name));
    services = live.filter((s) => names.has(s.supplier));
    scope = 'your own services and connections';
    shownConnections = connections.filter((c) => c.connection.supplierId && ids.includes(c.connection.supplierId));
  } else {
    throw denied('Only the national app team, regions, commissioners and suppliers can see live monitoring');
  }
  const order: Record<Health, number> = { breaching: 0, meeting: 1, 'no-traffic': 2 };
  return {
    generatedAt: new Date(),
    scope,
    services: services.map(statusOf).sort((a, b) => order[a.health] - order[b.health] || a.service.sortOrder - b.service.sortOrder || a.service.name.localeCompare(b.service.name)),
    connections: shownConnections.sort((a, b) => order[a.health] - order[b.health] || a.connection.name.localeCompare(b.connection.name)),
  };
}
