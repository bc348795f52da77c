import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpRequest } from './http.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const routes: Record<string, Handler> = {
  '/json': (_request, response) => {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end('{"id":"pi_1","amount":2000}');
  },
  '/echo': (request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () =>
      response
        .writeHead(201)
        .end(
          JSON.stringify({ method: request.method, body, key: request.headers['idempotency-key'] }),
        ),
    );
  },
  '/not-json': (_request, response) => void response.writeHead(200).end('<html>oops</html>'),
  '/empty': (_request, response) => void response.writeHead(204).end(),
  '/error': (_request, response) =>
    void response.writeHead(500).end('{"error":{"type":"api_error"}}'),
  '/slow': (_request, response) => void setTimeout(() => response.writeHead(200).end('{}'), 500),
  '/slow-body': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"id":');
    setTimeout(() => response.end('"x"}'), 500);
  },
  '/destroy': (request) => void request.socket.destroy(),
  '/destroy-mid-body': (request, response) => {
    response.writeHead(200, { 'content-length': '100' });
    response.write('{"id":');
    setTimeout(() => request.socket.destroy(), 20);
  },
  '/big': (_request, response) =>
    void response.writeHead(200).end(JSON.stringify({ padding: 'x'.repeat(4096) })),
  '/redirect': (_request, response) => void response.writeHead(302, { location: '/json' }).end(),
};

let server: Server;
let base = '';
let closedPortUrl = '';

before(async () => {
  server = createServer((request, response) => {
    const handler = routes[request.url ?? ''];
    if (handler === undefined) response.writeHead(404).end();
    else handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPortUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/json`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('httpRequest', () => {
  it('returns status, parsed JSON and text', async () => {
    const result = await httpRequest({ method: 'GET', url: `${base}/json`, timeoutMs: 2000 });
    assert.deepEqual(result, {
      kind: 'response',
      status: 200,
      body: { id: 'pi_1', amount: 2000 },
      text: '{"id":"pi_1","amount":2000}',
    });
  });

  it('sends method, headers and body', async () => {
    const result = await httpRequest({
      method: 'POST',
      url: `${base}/echo`,
      headers: { 'idempotency-key': 'k1' },
      body: 'a=1',
      timeoutMs: 2000,
    });
    assert.equal(result.kind, 'response');
    assert.deepEqual(result.kind === 'response' ? result.body : undefined, {
      method: 'POST',
      body: 'a=1',
      key: 'k1',
    });
  });

  it('keeps non-2xx responses as responses', async () => {
    const result = await httpRequest({ method: 'POST', url: `${base}/error`, timeoutMs: 2000 });
    assert.deepEqual(result, {
      kind: 'response',
      status: 500,
      body: { error: { type: 'api_error' } },
      text: '{"error":{"type":"api_error"}}',
    });
  });

  it('gives body undefined for a body that is not JSON, or empty', async () => {
    assert.deepEqual(
      await httpRequest({ method: 'GET', url: `${base}/not-json`, timeoutMs: 2000 }),
      { kind: 'response', status: 200, body: undefined, text: '<html>oops</html>' },
    );
    assert.deepEqual(await httpRequest({ method: 'GET', url: `${base}/empty`, timeoutMs: 2000 }), {
      kind: 'response',
      status: 204,
      body: undefined,
      text: '',
    });
  });

  it('does not parse a body above maxResponseBytes', async () => {
    const result = await httpRequest({
      method: 'GET',
      url: `${base}/big`,
      timeoutMs: 2000,
      maxResponseBytes: 1024,
    });
    assert.deepEqual(result, { kind: 'response', status: 200, body: undefined, text: '' });
  });

  it('does not follow redirects', async () => {
    const result = await httpRequest({ method: 'POST', url: `${base}/redirect`, timeoutMs: 2000 });
    assert.equal(result.kind === 'response' ? result.status : 0, 302);
  });

  it('reports a timeout before the headers as no_response timeout', async () => {
    const started = Date.now();
    assert.deepEqual(await httpRequest({ method: 'POST', url: `${base}/slow`, timeoutMs: 100 }), {
      kind: 'no_response',
      reason: 'timeout',
    });
    assert.ok(Date.now() - started < 450);
  });

  it('reports a timeout while the body is still arriving as no_response timeout', async () => {
    assert.deepEqual(
      await httpRequest({ method: 'GET', url: `${base}/slow-body`, timeoutMs: 100 }),
      { kind: 'no_response', reason: 'timeout' },
    );
  });

  it('reports a destroyed connection as no_response network, also mid-body', async () => {
    assert.deepEqual(
      await httpRequest({ method: 'POST', url: `${base}/destroy`, timeoutMs: 2000 }),
      { kind: 'no_response', reason: 'network' },
    );
    assert.deepEqual(
      await httpRequest({ method: 'GET', url: `${base}/destroy-mid-body`, timeoutMs: 2000 }),
      { kind: 'no_response', reason: 'network' },
    );
  });

  it('reports a refused connection as no_response network', async () => {
    assert.deepEqual(await httpRequest({ method: 'GET', url: closedPortUrl, timeoutMs: 2000 }), {
      kind: 'no_response',
      reason: 'network',
    });
  });

  it('throws on a URL that does not parse (a configuration bug, not an unknown outcome)', async () => {
    await assert.rejects(
      httpRequest({ method: 'GET', url: 'not a url/v1/payments', timeoutMs: 1000 }),
      TypeError,
    );
  });

  it('refuses a timeout that is not a positive bounded integer', async () => {
    for (const timeoutMs of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 120_001]) {
      await assert.rejects(
        httpRequest({ method: 'GET', url: `${base}/json`, timeoutMs }),
        RangeError,
      );
    }
  });
});
