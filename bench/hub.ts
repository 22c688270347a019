// Benchmark `hub`: in one process and run, a bare Fastify JSON route (the machine's ceiling), the hub template
// rendered with a fixed context and no session (rendering alone), and the signed-in home hub (session lookup,
// catalog resolution, render).
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { createCitizenRenderer, CATEGORY_HEADINGS } from '../src/web/citizen-web.ts';
import { signedInCitizen, startTestSystem } from '../src/testing/factories.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;

async function load(url: string, headers: Record<string, string> = {}) {
  // A short warm-up so template compilation and JIT are not measured.
  await autocannon({ url, connections: 10, duration: 1, headers });
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

export async function hubBenchmark() {
  const bare = Fastify();
  bare.get('/', async () => ({ hello: 'world' }));
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

  const renderer = await createCitizenRenderer();
  const me = { givenName: 'Amira', identityLevel: 'P9', gpOdsCode: 'A81001' };
  // The static page goes through the same app and plugin stack as the hub, with a fixed context and no
  // session: the difference between the two is session lookup and catalog resolution.
  let fixed: Record<string, unknown> = {};
  const system = await startTestSystem({}, {
    beforeListen: (app) => {
      app.get('/bench/static-hub', async (_req, reply) =>
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderer.render('hub.njk', { ...fixed, cspNonce: reply.scriptNonce })));
    },
  });
  const r = system.catalog.resolve(me.gpOdsCode, 'P9');
  const servicesHtml = renderer.render('partials/hub-services.njk', { resolution: r, headings: CATEGORY_HEADINGS });
  fixed = { title: 'Home', me, servicesHtml, practice: r.practice, nav: 'signedIn' };
  const staticUrl = `${system.url}/bench/static-hub`;
  const { cookie } = await signedInCitizen(system, { practice: 'A81001', level: 'P9', givenName: 'Amira' });

  try {
    const baseline = await load(bareUrl);
    const staticPage = await load(staticUrl);
    const hub = await load(`${system.url}/`, { cookie });
    return {
      name: 'hub',
      baseline_rps: Math.round(baseline.rps),
      static_page_rps: Math.round(staticPage.rps),
      hub_rps: Math.round(hub.rps),
      hub_p99_ms: hub.p99,
      ratio: round(hub.rps / baseline.rps),
      overhead_ratio: round(hub.rps / staticPage.rps),
    };
  } finally {
    await bare.close();
    await system.close();
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;
