// The outbound URL guard refuses other hosts, odd IP spellings, credentials, other schemes, DNS names that
// resolve elsewhere and redirects to other hosts; and it connects to the address it checked.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { canonicalAddress, DEFAULT_OUTBOUND_ALLOW_LIST, OutboundGuard, OutboundUrlRefused, type Resolver } from './outbound-guard.ts';

const names: Record<string, string[]> = {
  'good.test': ['127.0.0.1'],
  'evil.test': ['10.0.0.1'],
  'mixed.test': ['127.0.0.1', '169.254.169.254'],
  'mapped.test': ['::ffff:a9fe:a9fe'],
};
const resolve: Resolver = async (host) => {
  const list = names[host];
  if (!list) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const guard = new OutboundGuard({ allow: DEFAULT_OUTBOUND_ALLOW_LIST, resolve });

async function refused(url: string, why: RegExp) {
  await assert.rejects(guard.check(url), (err: unknown) => {
    assert.ok(err instanceof OutboundUrlRefused, `expected OutboundUrlRefused for ${url}, got ${err}`);
    assert.match(err.message, why);
    return true;
  });
}

describe('outbound guard: what it allows', () => {
  test('loopback addresses in any spelling that means loopback', async () => {
    for (const url of ['http://127.0.0.1:8080/x', 'http://127.1.2.3/', 'http://[::1]:99/', 'http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'https://[::ffff:127.0.0.1]/']) {
      const c = await guard.check(url);
      assert.ok(c.address === '::1' || c.address.startsWith('127.'), `${url} -> ${c.address}`);
    }
  });
  test('a DNS name whose every address is allowed, pinned to the checked address', async () => {
    const c = await guard.check('http://good.test:3000/path?q=1');
    assert.equal(c.address, '127.0.0.1');
    assert.equal(c.pinnedUrl, 'http://127.0.0.1:3000/path?q=1');
  });
  test('a host named in the allow-list', async () => {
    const named = new OutboundGuard({ allow: ['supplier.test'], resolve: async () => [{ address: '192.0.2.10', family: 4 }] });
    assert.equal((await named.check('https://supplier.test/')).address, '192.0.2.10');
  });
});

describe('outbound guard: what it refuses', () => {
  test('other hosts, by address', async () => {
    await refused('http://10.0.0.1/', /not on the list/);
    await refused('http://169.254.169.254/latest/meta-data', /not on the list/);
    await refused('http://[2001:db8::1]/', /not on the list/);
  });
  test('odd IP spellings judged by the address they mean', async () => {
    await refused('http://3232235777/', /192\.168\.1\.1/); // decimal
    await refused('http://0xa9.0xfe.0xa9.0xfe/', /169\.254\.169\.254/); // hex
    await refused('http://012.0.0.1/', /10\.0\.0\.1/); // octal
    await refused('http://[::ffff:a9fe:a9fe]/', /169\.254\.169\.254/); // IPv4-mapped IPv6
    await refused('http://0.0.0.0:3000/', /not a real destination/);
    await refused('http://0/', /not a real destination/);
    await refused('http://[::]/', /not a real destination/);
  });
  test('unspecified addresses even when a range would include them', async () => {
    const wide = new OutboundGuard({ allow: ['0.0.0.0/0', '::/0'] });
    await assert.rejects(wide.check('http://0.0.0.0/'), OutboundUrlRefused);
    await assert.rejects(wide.check('http://[::]/'), OutboundUrlRefused);
  });
  test('DNS names that resolve to any address not allowed', async () => {
    await refused('http://evil.test/', /evil\.test resolves to 10\.0\.0\.1/);
    await refused('http://mixed.test/', /169\.254\.169\.254/);
    await refused('http://mapped.test/', /not on the list/);
    await refused('http://nowhere.test/', /could not be found/);
  });
  test('other schemes, credentials and things that are not URLs', async () => {
    await refused('file:///etc/passwd', /must start with http/);
    await refused('gopher://127.0.0.1/', /must start with http/);
    await refused('ftp://127.0.0.1/', /must start with http/);
    await refused('http://user:secret@127.0.0.1/', /user name or password/);
    await refused('http://user@127.0.0.1/', /user name or password/);
    await refused('127.0.0.1:3000', /must start with http|full web address/);
    await refused('not a url', /full web address/);
  });
  test('an allow-list entry it cannot read is a configuration error', () => {
    assert.throws(() => new OutboundGuard({ allow: ['10.0.0.0/99'] }), /bad range/);
    assert.throws(() => new OutboundGuard({ allow: ['http://x/'] }), /cannot read/);
  });
  test('canonical addresses', () => {
    assert.deepEqual(canonicalAddress('[::ffff:a9fe:a9fe]'), { address: '169.254.169.254', family: 4 });
    assert.deepEqual(canonicalAddress('::ffff:10.0.0.1'), { address: '10.0.0.1', family: 4 });
    assert.equal(canonicalAddress('example.org'), undefined);
  });
});

describe('guarded fetch', () => {
  let server: Server;
  let base: string;
  let hits: string[];
  before(async () => {
    hits = [];
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const port = (server.address() as AddressInfo).port;
      if (req.url === '/ok') return res.end('hello');
      if (req.url === '/to-evil') return res.writeHead(302, { location: 'http://evil.test/steal' }).end();
      if (req.url === '/to-metadata') return res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      if (req.url === '/to-self') return res.writeHead(302, { location: `http://good.test:${port}/ok` }).end();
      if (req.url === '/relative') return res.writeHead(307, { location: '/ok' }).end();
      if (req.url?.startsWith('/loop')) return res.writeHead(302, { location: `/loop${hits.length}` }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await guard.close();
    await new Promise((r) => server.close(r));
  });

  test('fetches an allowed URL, and follows allowed redirects checking each hop', async () => {
    assert.equal(await (await guard.guardedFetch(`${base}/ok`)).text(), 'hello');
    assert.equal(await (await guard.guardedFetch(`${base}/relative`)).text(), 'hello');
    // good.test resolves (in this test) to 127.0.0.1: the connection goes to the checked address, not a fresh lookup.
    assert.equal(await (await guard.guardedFetch(`${base}/to-self`)).text(), 'hello');
  });
  test('refuses a redirect to a host that is not allowed, without calling it', async () => {
    await assert.rejects(guard.guardedFetch(`${base}/to-evil`), (err: unknown) => err instanceof OutboundUrlRefused && /evil\.test resolves to 10\.0\.0\.1/.test(err.message));
    await assert.rejects(guard.guardedFetch(`${base}/to-metadata`), (err: unknown) => err instanceof OutboundUrlRefused && /169\.254\.169\.254/.test(err.message));
  });
  test('stops after three redirects', async () => {
    await assert.rejects(guard.guardedFetch(`${base}/loop`), /redirected more than 3 times/);
  });
  test('pins the connection: a name whose DNS answer changes after the check still reaches the checked address', async () => {
    let calls = 0;
    const port = (server.address() as AddressInfo).port;
    // First answer (the check) is loopback; any later answer would be elsewhere. The fetch must not ask again.
    const rebinding = new OutboundGuard({ allow: DEFAULT_OUTBOUND_ALLOW_LIST, resolve: async () => (calls++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }]) });
    const res = await rebinding.guardedFetch(`http://rebind.test:${port}/ok`);
    assert.equal(await res.text(), 'hello');
    assert.equal(calls, 1);
    await rebinding.close();
  });
});
