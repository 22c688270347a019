// The supplier HTTP layer keeps connections alive across calls, including the ones undici would close by default.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SupplierHttp } from './supplier-http.ts';

let server: Server;
let url: string;
let connections = 0;
before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ ok: true, method: req.method })));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

describe('SupplierHttp', () => {
  it('reuses one connection for sequential calls, a DELETE with a body (a cancellation reason) included', async () => {
    const http = new SupplierHttp('test', url);
    const before = connections;
    for (let i = 0; i < 5; i++) {
      assert.equal((await http.call('GET', '/x')).status, 200);
      assert.equal((await http.call('DELETE', '/appointments/1', { body: JSON.stringify({ reason: 'Feeling better' }) })).status, 200);
    }
    // The pool may open a second connection while the first waits a tick before reuse; never one per call.
    assert.ok(connections - before <= 2, `${connections - before} connections for 10 calls`);
    await http.close();
  });
});
