// The simulator's 3-D Secure server and ACS over HTTP (CONTRACT.md "3-D Secure server"), driven by
// Payrail's own client: every 3DS test card frictionless or through the challenge page (GET the
// page, POST the form, follow the 303 to a loopback receiver), then authorized at the Stripe-like
// and Adyen-like PSPs without and with the authentication data.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  HttpThreeDSecureServer,
  simulatorThreeDSecureSettings,
  threeDSecureDataOf,
  type AuthenticationResult,
  type ChallengeIndicator,
  type ThreeDSecureData,
} from '../src/risk/three-d-secure/index.ts';
import { ADYEN_API_KEY, ADYEN_MERCHANT_ACCOUNT } from './psps/adyen.ts';
import { STRIPE_SECRET_KEY } from './psps/stripe.ts';
import { startSimulator, type RunningSimulator } from './server.ts';
import {
  THREE_D_SECURE_KEY,
  ThreeDSecureDirectory,
  type Authentication,
} from './three-d-secure.ts';

type Json = Record<string, unknown>;
type Verdict = 'approve' | 'authentication_required' | 'insufficient_funds' | 'generic_decline';

const client = new HttpThreeDSecureServer();
let sim: RunningSimulator;
let receiver: Server;
let receiverUrl: string;
/** The query strings the loopback receiver saw, in order. */
const returned: string[] = [];

before(async () => {
  sim = await startSimulator({ port: 0, timeoutDelayMs: 200 });
  receiver = createServer((req, res) => {
    returned.push(new URL(req.url ?? '/', 'http://receiver').search);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('back at the merchant');
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/return?intent=pi_1`;
});

after(async () => {
  await sim.close();
  receiver.close();
});

const settings = () => simulatorThreeDSecureSettings(sim.url, 5_000);

function authenticate(
  number: string,
  options: { amount?: bigint; indicator?: ChallengeIndicator } = {},
): Promise<AuthenticationResult> {
  return client.authenticate(
    {
      reference: `att_${randomUUID()}`,
      card: { number, expiryMonth: 12, expiryYear: 2034 },
      amount: options.amount ?? 1000n,
      currency: 'eur',
      returnUrl: receiverUrl,
      challengeIndicator: options.indicator ?? 'no_preference',
      merchantName: 'Shop <&> "Co"',
    },
    settings(),
  );
}

/** GET the ACS page, press a button, follow the 303 to the receiver; the id it was given. */
async function challenge(result: AuthenticationResult, outcome: 'complete' | 'fail') {
  assert.ok(result.challengeUrl !== undefined);
  const page = await fetch(result.challengeUrl);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  assert.match(html, /Complete authentication/);
  assert.match(html, /Fail authentication/);
  assert.match(html, /Shop &lt;&amp;&gt; &quot;Co&quot;/);
  assert.match(html, /€10\.00/);
  assert.doesNotMatch(html, /<script/i);
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action !== undefined);
  const posted = await fetch(new URL(action, result.challengeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `outcome=${outcome}`,
    redirect: 'manual',
  });
  assert.equal(posted.status, 303);
  const location = posted.headers.get('location') ?? '';
  assert.ok(location.startsWith(receiverUrl), location);
  const back = await fetch(location);
  assert.equal(back.status, 200);
  const query = new URLSearchParams(returned.at(-1));
  assert.equal(query.get('intent'), 'pi_1');
  return query.get('three_d_secure');
}

async function stripeAuthorize(
  number: string,
  data: ThreeDSecureData | undefined,
  amount = 1000,
): Promise<Verdict> {
  const form = new URLSearchParams({
    amount: String(amount),
    currency: 'eur',
    confirm: 'true',
    capture_method: 'manual',
    'payment_method_data[type]': 'card',
    'payment_method_data[card][number]': number,
    'payment_method_data[card][exp_month]': '12',
    'payment_method_data[card][exp_year]': '2034',
    'metadata[reference]': `att_${randomUUID()}`,
  });
  if (data !== undefined) {
    const option = (name: string) => `payment_method_options[card][three_d_secure][${name}]`;
    form.set(option('cryptogram'), data.authenticationValue);
    form.set(option('electronic_commerce_indicator'), data.eci);
    form.set(option('transaction_id'), data.dsTransactionId);
    form.set(option('version'), data.version);
    form.set(option('ares_trans_status'), data.transactionStatus);
  }
  const response = await fetch(`${sim.url}/stripe/v1/payment_intents`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${STRIPE_SECRET_KEY}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  });
  const body = (await response.json()) as Json;
  if (response.status === 200) return 'approve';
  assert.equal(response.status, 402, JSON.stringify(body));
  return (body.error as Json).decline_code as Verdict;
}

const ADYEN_REFUSALS: Readonly<Record<string, Verdict>> = {
  '38': 'authentication_required',
  '12': 'insufficient_funds',
  '2': 'generic_decline',
};

async function adyenAuthorize(number: string, data: ThreeDSecureData | undefined, amount = 1000) {
  const body: Json = {
    amount: { value: amount, currency: 'EUR' },
    reference: `att_${randomUUID()}`,
    merchantAccount: ADYEN_MERCHANT_ACCOUNT,
    paymentMethod: { type: 'scheme', number, expiryMonth: '12', expiryYear: '2034' },
  };
  if (data !== undefined)
    body.mpiData = {
      cavv: data.authenticationValue,
      eci: data.eci,
      dsTransID: data.dsTransactionId,
      threeDSVersion: data.version,
      authenticationResponse: data.transactionStatus,
      directoryResponse: data.transactionStatus,
    };
  const response = await fetch(`${sim.url}/adyen/v71/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': ADYEN_API_KEY },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Json;
  assert.equal(response.status, 200, JSON.stringify(answer));
  if (answer.resultCode === 'Authorised') return 'approve';
  const verdict = ADYEN_REFUSALS[String(answer.refusalReasonCode)];
  assert.ok(verdict !== undefined, JSON.stringify(answer));
  return verdict;
}

async function bothPsps(number: string, data: ThreeDSecureData | undefined, expected: Verdict) {
  assert.equal(await stripeAuthorize(number, data), expected, `stripe ${number}`);
  assert.equal(await adyenAuthorize(number, data), expected, `adyen ${number}`);
}

// number, first answer, authorization without 3DS data, with the data after a completed challenge.
const CHALLENGE_CARDS: readonly [string, Verdict, Verdict][] = [
  ['4000002500003155', 'authentication_required', 'approve'],
  ['4000002760003184', 'authentication_required', 'approve'],
  ['4000003800000446', 'authentication_required', 'approve'],
  ['4000008260003178', 'authentication_required', 'insufficient_funds'],
  ['4000000000003220', 'authentication_required', 'approve'],
  ['4000000000003063', 'authentication_required', 'approve'],
  ['4000008400001629', 'authentication_required', 'generic_decline'],
  ['4000582600000094', 'approve', 'approve'],
];

describe('3-D Secure test cards through the challenge page', () => {
  for (const [number, without, withData] of CHALLENGE_CARDS) {
    test(`${number}: challenge, completed → Y; PSPs ${without} without, ${withData} with`, async () => {
      const started = await authenticate(number);
      assert.equal(started.status, 'C');
      assert.equal(started.liabilityShift, false);
      assert.equal(started.authenticationValue, undefined);
      assert.equal(threeDSecureDataOf(started), undefined);
      const id = await challenge(started, 'complete');
      assert.equal(id, started.id);
      const result = await client.result(started.id, settings());
      assert.equal(result.status, 'Y');
      assert.equal(result.liabilityShift, true);
      assert.equal(result.eci, '05');
      assert.equal(result.version, '2.2.0');
      assert.equal(result.authenticationValue?.length, 28);
      assert.match(result.dsTransactionId ?? '', /^[0-9a-f-]{36}$/);
      await bothPsps(number, undefined, without);
      await bothPsps(number, threeDSecureDataOf(result), withData);
    });
  }

  test('a failed challenge is N with no cryptogram; the card still needs authentication', async () => {
    const started = await authenticate('4000000000003220');
    assert.equal(await challenge(started, 'fail'), started.id);
    const result = await client.result(started.id, settings());
    assert.equal(result.status, 'N');
    assert.equal(result.liabilityShift, false);
    assert.equal(result.eci, '07');
    assert.equal(result.authenticationValue, undefined);
    assert.equal(threeDSecureDataOf(result), undefined);
    await bothPsps('4000000000003220', undefined, 'authentication_required');
  });

  test('a second answer changes nothing and the page says it is finished', async () => {
    const started = await authenticate('4000002760003184');
    await challenge(started, 'complete');
    const again = await fetch(started.challengeUrl ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=fail',
      redirect: 'manual',
    });
    assert.equal(again.status, 303);
    assert.equal((await client.result(started.id, settings())).status, 'Y');
    const page = await fetch(started.challengeUrl ?? '');
    assert.equal(page.status, 409);
    await page.text();
  });

  test('a frictionless card challenged when the requestor asks for it', async () => {
    const started = await authenticate('4000000000003055', { indicator: 'challenge_requested' });
    assert.equal(started.status, 'C');
    await challenge(started, 'complete');
    assert.equal((await client.result(started.id, settings())).status, 'Y');
  });

  test('Mastercard ECIs: 02 authenticated', async () => {
    const started = await authenticate('5555555555554444');
    assert.equal(started.status, 'Y');
    assert.equal(started.eci, '02');
  });
});

// number, status, reason, authorization without data, with data (Y and A only).
const FRICTIONLESS_CARDS: readonly [string, string, string | undefined, Verdict, Verdict?][] = [
  ['4000000000003055', 'Y', undefined, 'approve', 'approve'],
  ['4242424242424242', 'A', 'card_not_enrolled', 'approve', 'approve'],
  ['378282246310005', 'U', 'not_supported', 'approve'],
  ['4000008400001280', 'U', 'processing_error', 'generic_decline'],
  ['4000000000003097', 'U', 'processing_error', 'approve'],
  ['4000009990000047', 'N', 'not_authenticated', 'approve'],
  ['4000009990000054', 'R', 'rejected', 'approve'],
  ['4000000000009995', 'Y', undefined, 'insufficient_funds', 'insufficient_funds'],
];

describe('3-D Secure test cards answered frictionless', () => {
  for (const [number, status, reason, without, withData] of FRICTIONLESS_CARDS) {
    test(`${number}: ${status}${reason === undefined ? '' : ` (${reason})`}`, async () => {
      const result = await authenticate(number);
      assert.equal(result.status, status);
      assert.equal(result.reason, reason);
      assert.equal(result.challengeUrl, undefined);
      assert.equal(result.liabilityShift, status === 'Y' || status === 'A');
      assert.deepEqual(await client.result(result.id, settings()), result);
      await bothPsps(number, undefined, without);
      const data = threeDSecureDataOf(result);
      if (withData === undefined) assert.equal(data, undefined);
      else await bothPsps(number, data, withData);
    });
  }
});

describe('the PSPs verify the 3-D Secure data', () => {
  test('data for another amount, card, currency or forged is refused: authentication_required', async () => {
    const result = await authenticate('4000002760003184', { amount: 1000n });
    await challenge(result, 'complete');
    const data = threeDSecureDataOf(await client.result(result.id, settings()));
    assert.ok(data !== undefined);
    assert.equal(await stripeAuthorize('4000002760003184', data, 1001), 'authentication_required');
    assert.equal(await adyenAuthorize('4000002760003184', data, 999), 'authentication_required');
    // Another card (one that needs no authentication) is refused too: the cryptogram is not its own.
    assert.equal(await stripeAuthorize('4000056655665556', data), 'authentication_required');
    const forged = { ...data, authenticationValue: Buffer.alloc(20, 7).toString('base64') };
    await bothPsps('4000002760003184', forged, 'authentication_required');
    await bothPsps('4000002760003184', { ...data, eci: '06' }, 'authentication_required');
    await bothPsps(
      '4000002760003184',
      { ...data, dsTransactionId: randomUUID() },
      'authentication_required',
    );
    // The genuine data still works, more than once (a PSP-side retry or another PSP).
    await bothPsps('4000002760003184', data, 'approve');
  });

  test('Stripe refuses malformed three_d_secure fields with a 400 naming them', async () => {
    const form = new URLSearchParams({
      amount: '1000',
      currency: 'eur',
      confirm: 'true',
      'payment_method_data[type]': 'card',
      'payment_method_data[card][number]': '4242424242424242',
      'payment_method_data[card][exp_month]': '12',
      'payment_method_data[card][exp_year]': '2034',
      'payment_method_options[card][three_d_secure][cryptogram]': 'AAAA',
      'payment_method_options[card][three_d_secure][transaction_id]': randomUUID(),
      'payment_method_options[card][three_d_secure][version]': '9.9.9',
    });
    const response = await fetch(`${sim.url}/stripe/v1/payment_intents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${STRIPE_SECRET_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: form.toString(),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: Json };
    assert.equal(body.error.param, 'payment_method_options[card][three_d_secure][version]');
  });

  test('Adyen refuses mpiData without its required fields (422)', async () => {
    const response = await fetch(`${sim.url}/adyen/v71/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ADYEN_API_KEY },
      body: JSON.stringify({
        amount: { value: 1000, currency: 'EUR' },
        reference: 'att_1',
        merchantAccount: ADYEN_MERCHANT_ACCOUNT,
        paymentMethod: {
          type: 'scheme',
          number: '4242424242424242',
          expiryMonth: '12',
          expiryYear: '2034',
        },
        mpiData: { cavv: 'AAAA', eci: '05' },
      }),
    });
    assert.equal(response.status, 422);
    await response.json();
  });
});

describe('the 3-D Secure API refuses bad requests', () => {
  async function raw(method: string, path: string, body?: unknown, key = THREE_D_SECURE_KEY) {
    const response = await fetch(`${sim.url}/3ds${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, text: await response.text() };
  }
  const valid = {
    reference: 'att_1',
    card: { number: '4242424242424242', exp_month: 12, exp_year: 2034 },
    amount: 1000,
    currency: 'eur',
    return_url: 'http://127.0.0.1:1/return',
  };

  test('wrong key 401, unknown id 404, bad fields 400 naming the field, never the number', async () => {
    assert.equal((await raw('POST', '/v1/authentications', valid, 'nope')).status, 401);
    assert.equal((await raw('GET', '/v1/authentications/3ds_unknown')).status, 404);
    assert.equal((await raw('GET', '/v1/nothing')).status, 404);
    assert.equal((await raw('POST', '/v1/authentications', 'not json')).status, 400);
    const cases: [Json, string][] = [
      [{ ...valid, card: { ...valid.card, number: '4242424242424241' } }, 'card[number]'],
      [{ ...valid, card: { ...valid.card, exp_month: 13 } }, 'card[exp_month]'],
      [{ ...valid, amount: 0 }, 'amount'],
      [{ ...valid, amount: 1.5 }, 'amount'],
      [{ ...valid, currency: 'EUR' }, 'currency'],
      [{ ...valid, return_url: 'javascript:alert(1)' }, 'return_url'],
      [{ ...valid, challenge_indicator: 'always' }, 'challenge_indicator'],
      [{ ...valid, reference: 'x'.repeat(256) }, 'reference'],
    ];
    for (const [body, param] of cases) {
      const reply = await raw('POST', '/v1/authentications', body);
      assert.equal(reply.status, 400, param);
      assert.equal((JSON.parse(reply.text) as { error: Json }).error.param, param);
      assert.doesNotMatch(reply.text, /424242424242424/);
    }
    const created = await raw('POST', '/v1/authentications', valid);
    assert.equal(created.status, 200);
    assert.doesNotMatch(created.text, /4242424242424242/);
  });

  test('the ACS page of an unknown or frictionless authentication is 404', async () => {
    const frictionless = await authenticate('4000000000003055');
    for (const id of ['3ds_unknown', frictionless.id]) {
      const page = await fetch(`${sim.url}/3ds/acs/${id}`);
      assert.equal(page.status, 404);
      await page.text();
    }
  });
});

describe('ThreeDSecureDirectory', () => {
  function authentication(id: string, cryptogram: string | null): Authentication {
    return {
      id,
      reference: 'att_1',
      cardDigest: 'x',
      cardLast4: '4242',
      mastercard: false,
      amount: 1,
      currency: 'eur',
      returnUrl: 'http://127.0.0.1/',
      merchantName: null,
      challengeIndicator: 'no_preference',
      dsTransactionId: 'd',
      createdMs: 0,
      status: cryptogram === null ? 'C' : 'Y',
      eci: '05',
      authenticationValue: cryptogram,
      reason: null,
      challengeUrl: null,
    };
  }

  test('keeps at most its bound; the oldest (and its cryptogram) go first', () => {
    const directory = new ThreeDSecureDirectory(2);
    directory.add(authentication('a', 'cavv-a'));
    directory.add(authentication('b', 'cavv-b'));
    directory.add(authentication('c', null));
    assert.equal(directory.get('a'), undefined);
    assert.ok(directory.get('b') !== undefined && directory.get('c') !== undefined);
    const evidence = {
      cardNumber: '',
      amount: 1,
      currency: 'EUR',
      eci: '05',
      dsTransactionId: 'd',
    };
    assert.equal(directory.verify({ ...evidence, authenticationValue: 'cavv-a' }), false);
  });
});
