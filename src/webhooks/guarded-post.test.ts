// The delivery-time check: every address a name resolves to is checked, and the connection goes
// to a checked address. Only loopback is ever connected to here; the resolver is injected, so no
// name is resolved for real and no refused address is connected to.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { AddressRefusedError, guardedPost, type ResolvedAddress } from './guarded-post.ts';
import type { AddressPolicy } from './ssrf.ts';

const testLoopback: AddressPolicy = { livemode: false, allowLoopback: true };
let server: http.Server;
let port: number;
const hosts: string[] = [];

before(async () => {
  server = http.createServer((request, response) => {
    hosts.push(String(request.headers.host));
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function resolverOf(...answers: ResolvedAddress[][]) {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    return answers[asked.length - 1] ?? answers.at(-1) ?? [];
  };
  return { asked, resolve };
}

const post = (
  url: string,
  policy: AddressPolicy,
  resolve: ReturnType<typeof resolverOf>['resolve'],
) => guardedPost({ url, headers: {}, body: '{}', timeoutMs: 2_000, policy, resolve });

test('a name resolving to a non-public address is refused before any connection', async () => {
  for (const addresses of [
    [{ address: '169.254.169.254', family: 4 }],
    [{ address: '::ffff:10.0.0.1', family: 6 }],
    [{ address: 'fd00::1', family: 6 }],
    // One checked address is not enough: every one must be public.
    [
      { address: '127.0.0.1', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ],
  ]) {
    const { resolve } = resolverOf(addresses);
    await assert.rejects(
      post(`http://hooks.merchant.test:${port}/x`, testLoopback, resolve),
      (error: unknown) =>
        error instanceof AddressRefusedError && /not a public/.test(error.message),
    );
  }
});

test('loopback is refused in live mode and without the operator setting', async () => {
  const received = hosts.length;
  const { resolve } = resolverOf([{ address: '127.0.0.1', family: 4 }]);
  for (const policy of [
    { livemode: true, allowLoopback: true },
    { livemode: false, allowLoopback: false },
  ])
    await assert.rejects(
      post(`http://hooks.merchant.test:${port}/x`, policy, resolve),
      AddressRefusedError,
    );
  await assert.rejects(
    post(`http://127.0.0.1:${port}/x`, { livemode: true, allowLoopback: true }, resolve),
    AddressRefusedError,
  );
  assert.equal(hosts.length, received, 'nothing reached the receiver');
});

test('the connection goes to the address that was checked, resolved once', async () => {
  const { asked, resolve } = resolverOf([{ address: '127.0.0.1', family: 4 }]);
  const received = hosts.length;
  // The name exists nowhere: only the checked address can have been connected to.
  const status = await post(`http://rebinding.merchant.test:${port}/x`, testLoopback, resolve);
  assert.equal(status, 204);
  assert.deepEqual(asked, ['rebinding.merchant.test']);
  assert.equal(hosts[received], `rebinding.merchant.test:${port}`);
});

test('an IP literal is checked without resolving anything', async () => {
  const { asked, resolve } = resolverOf([]);
  assert.equal(await post(`http://127.0.0.1:${port}/x`, testLoopback, resolve), 204);
  assert.deepEqual(asked, []);
});
