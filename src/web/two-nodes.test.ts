// App nodes keep no state of their own: two instances on one database (or one Redis) honour each other's sessions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { signedInCitizen, startTestSystem } from '../testing/factories.ts';

const url = process.env.TEST_DATABASE_URL;

async function twoNodes(env: Record<string, string>) {
  const a = await startTestSystem(env);
  // The second node shares the first's identity provider and database, as behind a load balancer.
  const b = await startTestSystem({ ...env, OIDC_ISSUER: a.issuer }, { embeddedIdentityProvider: false });
  return { a, b };
}

describe('two app nodes', { skip: !url && 'TEST_DATABASE_URL not set' }, () => {
  it('share sessions through one PostgreSQL server, including sign-out', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const dbUrl = `${url}${url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const { a, b } = await twoNodes({ DATABASE_URL: dbUrl });
    try {
      const { cookie, sessionId } = await signedInCitizen(a, { practice: 'E83003', givenName: 'Nia' });
      const onB = await b.app.inject({ url: '/', headers: { cookie } });
      assert.match(onB.body, /Hello Nia/, 'node B knows the session made on node A');
      await a.sessions.destroy(sessionId);
      // Node B hears of the sign-out through NOTIFY; it must stop honouring the cookie within moments.
      let status = 200;
      for (let i = 0; i < 50 && status === 200; i++) {
        status = (await b.app.inject({ url: '/account', headers: { cookie } })).statusCode;
        if (status === 200) await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(status, 303, 'signed out everywhere');
    } finally {
      await b.close();
      await a.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('share sessions through Redis', { skip: !process.env.TEST_REDIS_URL && 'TEST_REDIS_URL not set' }, async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const dbUrl = `${url}${url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const { a, b } = await twoNodes({ DATABASE_URL: dbUrl, REDIS_URL: process.env.TEST_REDIS_URL! });
    try {
      const { cookie } = await signedInCitizen(a, { practice: 'C81001', givenName: 'Ravi' });
      const onB = await b.app.inject({ url: '/', headers: { cookie } });
      assert.match(onB.body, /Hello Ravi/);
      assert.match(onB.body, /CareBook/);
    } finally {
      await b.close();
      await a.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });
});
