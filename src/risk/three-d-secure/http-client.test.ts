// The 3-D Secure client: against a stub server for every way an answer can be wrong (each a typed
// ThreeDSecureError, never a crash, never the card number in a message), and end to end against
// the simulator: authenticate, the challenge page, the result, then an authorization through the
// Stripe and Adyen connectors with the authentication data.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../../sim/server.ts';
import { adyenModule } from '../../connectors/adyen/index.ts';
import { stripeModule } from '../../connectors/stripe/index.ts';
import type { AuthorizeRequest, ConnectorModule } from '../../connectors/types.ts';
import {
  HttpThreeDSecureServer,
  ThreeDSecureError,
  simulatorThreeDSecureSettings,
  threeDSecureDataOf,
  type AuthenticationRequest,
  type ThreeDSecureErrorKind,
} from './index.ts';

const CARD = '4000000000003220';
const client = new HttpThreeDSecureServer();

function request(overrides: Partial<AuthenticationRequest> = {}): AuthenticationRequest {
  return {
    reference: 'att_1',
    card: { number: CARD, expiryMonth: 12, expiryYear: 2034 },
    amount: 1000n,
    currency: 'eur',
    returnUrl: 'http://127.0.0.1:1/return',
    challengeIndicator: 'no_preference',
    ...overrides,
  };
}

describe('the client against a stub server', () => {
  let stub: Server;
  let baseUrl: string;
  let answer: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const bodies: string[] = [];

  before(async () => {
    stub = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        bodies.push(body);
        answer(req, res);
      });
    });
    stub.listen(0, '127.0.0.1');
    await once(stub, 'listening');
    baseUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/3ds`;
  });
  after(() => {
    stub.closeAllConnections();
    stub.close();
  });

  const settings = (timeoutMs = 2_000) => ({ baseUrl, apiKey: 'key_1', timeoutMs });
  const reply = (status: number, body: unknown) => {
    answer = (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
  };
  const valid = {
    id: '3ds_abc',
    reference: 'att_1',
    status: 'Y',
    version: '2.2.0',
    eci: '05',
    authentication_value: 'AAABBJkZUQAAAABjRWWZEEFgFz+=',
    ds_transaction_id: 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b',
    challenge_url: null,
    reason: null,
    authentication_flow: 'frictionless',
  };

  async function fails(kind: ThreeDSecureErrorKind, run: () => Promise<unknown>) {
    await assert.rejects(run, (error: unknown) => {
      assert.ok(error instanceof ThreeDSecureError, String(error));
      assert.equal(error.kind, kind, error.message);
      assert.doesNotMatch(error.message, new RegExp(CARD));
      return true;
    });
  }

  test('sends the request as the protocol says, with the key', async () => {
    let seen: IncomingMessage | undefined;
    answer = (req, res) => {
      seen = req;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(valid));
    };
    const result = await client.authenticate(request({ merchantName: 'Shop' }), settings());
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.url, '/3ds/v1/authentications');
    assert.equal(seen?.headers.authorization, 'Bearer key_1');
    assert.deepEqual(JSON.parse(bodies.at(-1) ?? ''), {
      reference: 'att_1',
      card: { number: CARD, exp_month: 12, exp_year: 2034 },
      amount: 1000,
      currency: 'eur',
      return_url: 'http://127.0.0.1:1/return',
      challenge_indicator: 'no_preference',
      merchant_name: 'Shop',
    });
    assert.deepEqual(result, {
      id: '3ds_abc',
      status: 'Y',
      reference: 'att_1',
      version: '2.2.0',
      liabilityShift: true,
      eci: '05',
      authenticationValue: valid.authentication_value,
      dsTransactionId: valid.ds_transaction_id,
      authenticationFlow: 'frictionless',
    });
    assert.deepEqual(threeDSecureDataOf(result), {
      transactionStatus: 'Y',
      eci: '05',
      authenticationValue: valid.authentication_value,
      dsTransactionId: valid.ds_transaction_id,
      version: '2.2.0',
      authenticationFlow: 'frictionless',
    });
  });

  test('statuses map to liability shift: Y and A only', async () => {
    for (const status of ['A', 'N', 'R', 'U'] as const) {
      const shifts = status === 'A';
      reply(200, {
        ...valid,
        status,
        ...(shifts ? {} : { authentication_value: null, eci: status === 'U' ? null : '07' }),
      });
      const result = await client.authenticate(request(), settings());
      assert.equal(result.liabilityShift, shifts, status);
      assert.equal(threeDSecureDataOf(result) !== undefined, shifts, status);
    }
  });

  test('HTTP failures are typed: 5xx and 429 unavailable, 4xx refused, 404 not_found', async () => {
    reply(503, { error: { code: 'down' } });
    await fails('unavailable', () => client.authenticate(request(), settings()));
    reply(429, {});
    await fails('unavailable', () => client.authenticate(request(), settings()));
    reply(400, { error: { code: 'parameter_invalid', message: `bad card ${CARD}` } });
    await fails('refused', () => client.authenticate(request(), settings()));
    reply(401, {});
    await fails('refused', () => client.authenticate(request(), settings()));
    reply(404, {});
    await fails('not_found', () => client.result('3ds_missing', settings()));
    reply(302, {});
    await fails('invalid_response', () => client.result('3ds_abc', settings()));
  });

  test('answers that do not hold together are invalid_response', async () => {
    const broken: unknown[] = [
      'not json',
      [],
      { ...valid, status: 'X' },
      { ...valid, id: 'has spaces' },
      { ...valid, reference: 'att_other' },
      { ...valid, version: undefined },
      { ...valid, authentication_value: null },
      { ...valid, eci: 5 },
      { ...valid, status: 'C', challenge_url: null },
      { ...valid, status: 'C', challenge_url: 'not a url' },
      { ...valid, authentication_flow: 'sideways' },
      { ...valid, reason: 'x'.repeat(5000) },
    ];
    for (const body of broken) {
      reply(200, body);
      await fails('invalid_response', () => client.authenticate(request(), settings()));
    }
    reply(200, valid);
    await fails('invalid_response', () => client.result('3ds_other', settings()));
  });

  test('an id that cannot be one is not_found without a call', async () => {
    const before = bodies.length;
    await fails('not_found', () => client.result('../admin', settings()));
    assert.equal(bodies.length, before);
  });

  test('no answer in time is timeout; nobody listening is unavailable', async () => {
    answer = () => undefined;
    await fails('timeout', () => client.authenticate(request(), settings(50)));
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    await fails('unavailable', () =>
      client.authenticate(request(), {
        baseUrl: `http://127.0.0.1:${port}`,
        apiKey: 'k',
        timeoutMs: 2_000,
      }),
    );
  });

  test('settings that cannot be used are refused, not thrown as something else', async () => {
    await fails('refused', () =>
      client.result('3ds_abc', { baseUrl: 'not a url', apiKey: 'k', timeoutMs: 1_000 }),
    );
    await fails('refused', () => client.result('3ds_abc', settings(0)));
  });

  test('an amount a JSON number cannot carry is refused before sending', async () => {
    await assert.rejects(
      () => client.authenticate(request({ amount: 2n ** 60n }), settings()),
      RangeError,
    );
  });
});

describe('end to end: the simulator and the Stripe and Adyen connectors', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ port: 0, timeoutDelayMs: 200 });
  });
  after(() => sim.close());

  async function authorize(
    module: ConnectorModule,
    threeDSecure?: AuthorizeRequest['threeDSecure'],
  ) {
    return module.connector.authorize(
      {
        reference: `att_${randomUUID()}`,
        amount: 1000n,
        currency: 'eur',
        captureMode: 'manual',
        card: { number: CARD, expiryMonth: 12, expiryYear: 2034 },
        ...(threeDSecure === undefined ? {} : { threeDSecure }),
      },
      {
        credentials: module.testCredentials(sim.url),
        idempotencyKey: `idem_${randomUUID()}`,
        timeoutMs: 5_000,
      },
    );
  }

  test('authentication_required, then a challenge completed, then authorized with the data', async () => {
    for (const module of [stripeModule, adyenModule]) {
      assert.equal(module.capabilities.threeDSecure, true);
      const refused = await authorize(module);
      assert.equal(refused.status, 'failed', module.name);
      assert.equal(refused.declineCode, 'authentication_required', module.name);
      const settings = simulatorThreeDSecureSettings(sim.url, 5_000);
      const started = await client.authenticate(
        request({ reference: `att_${randomUUID()}`, returnUrl: 'http://127.0.0.1:1/back' }),
        settings,
      );
      assert.equal(started.status, 'C');
      const posted = await fetch(started.challengeUrl ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'outcome=complete',
        redirect: 'manual',
      });
      assert.equal(posted.status, 303);
      assert.equal(
        posted.headers.get('location'),
        `http://127.0.0.1:1/back?three_d_secure=${started.id}`,
      );
      const result = await client.result(started.id, settings);
      assert.equal(result.authenticationFlow, 'challenge');
      const authorized = await authorize(module, threeDSecureDataOf(result));
      assert.equal(authorized.status, 'authorized', module.name);
    }
  });
});
