// Portal pages for live monitoring: each live service and connection with success rate, latency percentiles and
// breaker state from real traffic, breaches of the agreed levels flagged in words; the same as JSON for tools.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import type { GovernanceActor } from '../governance/governance-access.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import { breakerWords, monitoringView, type ConnectionStatus, type Health, type ServiceStatus } from '../monitoring/monitoring.ts';
import { requirePortalStaff, type PortalPage } from './portal-web.ts';

const HEALTH_TAGS: Record<Health, { text: string; classes: string }> = {
  breaching: { text: 'Breaching service levels', classes: 'nhsuk-tag--red' },
  meeting: { text: 'Meeting service levels', classes: 'nhsuk-tag--green' },
  'no-traffic': { text: 'No traffic yet', classes: 'nhsuk-tag--grey' },
};

const pct = (r: number) => `${(Math.floor(r * 1000) / 10).toFixed(1)}%`;
const ms = (n: number) => `${Math.round(n)} ms`;

function serviceJson(s: ServiceStatus) {
  return {
    id: s.service.id, name: s.service.name, supplier: s.service.supplier, health: s.health, breaches: s.breaches, note: s.note,
    connections: s.connections.map((c) => c.connection.name),
  };
}

function connectionJson(c: ConnectionStatus) {
  const f = c.figures;
  return {
    name: c.connection.name, title: c.connection.title, supplierId: c.connection.supplierId ?? null, health: c.health, breaches: c.breaches,
    serviceLevel: c.level, windowCalls: f.windowCalls, windowFailures: f.windowFailures, successRate: f.successRate,
    latencyMs: { p50: Math.round(f.p50Ms), p95: Math.round(f.p95Ms), p99: Math.round(f.p99Ms) }, breaker: f.breaker, totalCalls: f.calls, totalFailures: f.failures,
  };
}

const sentence = (breaches: string[]) => `${breaches.join('; ')}.`.replace(/^./, (c) => c.toUpperCase());

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function monitoringWeb(portal: FastifyInstance, deps: AppDeps, page: PortalPage): Promise<void> {
  const actorOf = (req: FastifyRequest): GovernanceActor => {
    const me = requirePortalStaff(req);
    return { sub: me.sub, roles: me.roles, requestId: req.id };
  };
  const view = async (req: FastifyRequest) => {
    const actor = actorOf(req);
    const { practices } = await governanceDeps(deps.db, deps.audit);
    return monitoringView({ db: deps.db, practices, policies: deps.policies }, actor);
  };

  portal.get('/monitoring', async (req, reply) => {
    const v = await view(req);
    const serviceName = (s: ServiceStatus) => (s.service.type === 'gp-system' ? `${s.service.name} (${s.service.supplier})` : s.service.name);
    const figures = (c?: ConnectionStatus) => c && c.figures.windowCalls > 0
      ? [{ text: `${pct(c.figures.successRate)} of ${c.figures.windowCalls}`, format: 'numeric' }, { text: ms(c.figures.p50Ms), format: 'numeric' }, { text: ms(c.figures.p95Ms), format: 'numeric' }, { text: ms(c.figures.p99Ms), format: 'numeric' }]
      : [{ text: 'No calls', format: 'numeric' }, { text: '–', format: 'numeric' }, { text: '–', format: 'numeric' }, { text: '–', format: 'numeric' }];
    const breaching = v.services.filter((s) => s.health === 'breaching');
    const status = (health: Health, breaches: string[], measured = true) => ({
      html: `<strong class="nhsuk-tag ${HEALTH_TAGS[health].classes}">${measured ? HEALTH_TAGS[health].text : 'Not measured'}</strong>${breaches.length ? `<p class="nhsuk-body-s nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-0">${escape(sentence(breaches))}</p>` : ''}`,
    });
    return page(reply, 'portal-monitoring.njk', {
      title: 'Live monitoring', back: { href: '/portal' }, scope: v.scope, generatedAt: v.generatedAt.toISOString().slice(11, 19),
      breaching: breaching.map((s) => ({ name: serviceName(s), breaches: s.breaches })),
      serviceRows: v.services.map((s) => [
        { html: `${escape(serviceName(s))}${s.note ? `<p class="nhsuk-body-s nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-0">${escape(s.note)}.</p>` : ''}` },
        status(s.health, s.breaches, !s.note), ...figures(s.connections[0]),
        { text: s.connections[0] ? breakerWords(s.connections[0].figures.breaker) : 'None: no calls of ours' },
      ]),
      connectionRows: v.connections.map((c) => [
        { text: `${c.connection.title} (${c.connection.name})` }, status(c.health, []), ...figures(c), { text: breakerWords(c.figures.breaker) },
      ]),
      levelText: 'success at least 99% of calls and p99 latency at most 1000 ms, unless agreed otherwise for a connection',
    });
  });

  portal.get('/monitoring.json', async (req, reply) => {
    const v = await view(req);
    return reply.header('cache-control', 'no-store').send({
      generatedAt: v.generatedAt.toISOString(), scope: v.scope, services: v.services.map(serviceJson), connections: v.connections.map(connectionJson),
    });
  });
}
