// Integration tier: every connector against the real PSP simulator process (sim/main.ts), over
// HTTP, written against sim/CONTRACT.md. The simulator's ground truth (`/_sim/ground-truth`) is
// the referee: what the connector reports must be what the PSP did.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConnectorError } from '../../src/connectors/errors.ts';
import { paytmConnector } from '../../src/connectors/paytm/connector.ts';
import { razorpayConnector } from '../../src/connectors/razorpay/connector.ts';
import { stripeConnector } from '../../src/connectors/stripe/connector.ts';
import type {
  CallContext,
  CaptureMode,
  Connector,
  DeclineCode,
  PaymentOutcome,
  RefundOutcome,
} from '../../src/connectors/types.ts';
import { startSimulator, type RunningProcess } from '../support/processes.ts';
import { groundTruth as simulatorGroundTruth, type GroundTruth } from '../support/simulator.ts';

const SIM_TIMEOUT_DELAY_MS = 300;
/** Shorter than the simulator's delay: the timeout card's call gives up first. */
const SHORT_TIMEOUT_MS = 100;

const CARDS = {
  approved: '4242424242424242',
  mastercard: '5555555555554444',
  insufficientFunds: '4000000000009995',
  lost: '4000000000009987',
  stolen: '4000000000009979',
  genericDecline: '4000000000000002',
  expired: '4000000000000069',
  serverError: '4000009990000013',
  timeout: '4000009990000021',
  lostResponse: '4000009990000039',
} as const;

const DECLINES: ReadonlyArray<readonly [string, DeclineCode]> = [
  [CARDS.insufficientFunds, 'insufficient_funds'],
  [CARDS.lost, 'lost_card'],
  [CARDS.stolen, 'stolen_card'],
  [CARDS.genericDecline, 'generic_decline'],
  [CARDS.expired, 'expired_card'],
  ['4000000000000127', 'incorrect_cvc'],
  ['4000000000000119', 'processing_error'],
  ['4000000000006975', 'card_velocity_exceeded'],
  ['4000000000000341', 'generic_decline'],
  ['4100000000000019', 'fraudulent'],
  ['4000000000004954', 'fraudulent'],
  ['4000002760003184', 'authentication_required'],
  ['4000008400001280', 'generic_decline'],
];
const ALL_CARD_NUMBERS: readonly string[] = [
  ...new Set([...Object.values(CARDS), ...DECLINES.map(([number]) => number)]),
];

// --- the simulator process -----------------------------------------------------------------------

let simulator: RunningProcess | undefined;
let simulatorUrl = '';

async function startSimulatorProcess(): Promise<void> {
  simulator = await startSimulator({ SIM_TIMEOUT_DELAY_MS: String(SIM_TIMEOUT_DELAY_MS) });
  simulatorUrl = simulator.url;
}

// --- helpers -------------------------------------------------------------------------------------

type Psp = 'stripe' | 'razorpay' | 'paytm';

const CREDENTIALS: Record<Psp, Omit<CallContext['credentials'], 'baseUrl'>> = {
  stripe: { apiKey: 'sk_test_sim' },
  razorpay: { apiKey: 'rzp_test_sim', apiSecret: 'sim_secret' },
  paytm: {
    apiKey: 'unused',
    apiSecret: 'sim_merchant_key',
    merchantAccount: 'SIMMID00000000000001',
  },
};

function context(
  psp: Psp,
  options: { idempotencyKey?: string; timeoutMs?: number } = {},
): CallContext {
  return {
    credentials: { baseUrl: `${simulatorUrl}/${psp}`, ...CREDENTIALS[psp] },
    idempotencyKey: options.idempotencyKey ?? `idem_${randomUUID()}`,
    timeoutMs: options.timeoutMs ?? 5000,
  };
}

const newReference = (): string => `att_${randomUUID()}`;

/** Card numbers must never come back from a connector, in any field. */
function assertNoCardData<T extends PaymentOutcome | RefundOutcome>(outcome: T): T {
  const text = JSON.stringify(outcome, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
  for (const number of ALL_CARD_NUMBERS)
    assert.ok(!text.includes(number), `card number in outcome: ${text}`);
  return outcome;
}

function groundTruth(psp: Psp, reference: string): Promise<GroundTruth> {
  return simulatorGroundTruth({ url: simulatorUrl }, { psp, reference });
}

type Flow = {
  psp: Psp;
  connector: Connector;
  currency: string;
  amount: bigint;
};

function authorize(
  flow: Flow,
  reference: string,
  card: string,
  options: { captureMode?: CaptureMode; idempotencyKey?: string; timeoutMs?: number } = {},
): Promise<PaymentOutcome> {
  const request = {
    reference,
    amount: flow.amount,
    currency: flow.currency,
    captureMode: options.captureMode ?? 'automatic',
    card: {
      number: card,
      expiryMonth: 12,
      expiryYear: 2030,
      cvc: '123',
      holderName: 'Ada Lovelace',
    },
    description: 'Payrail integration test',
  } as const;
  return flow.connector.authorize(request, context(flow.psp, options)).then(assertNoCardData);
}

function sync(flow: Flow, reference: string, pspReference?: string): Promise<PaymentOutcome> {
  const request = {
    reference,
    amount: flow.amount,
    currency: flow.currency,
    ...(pspReference === undefined ? {} : { pspReference }),
  };
  return flow.connector.sync(request, context(flow.psp)).then(assertNoCardData);
}

function refund(
  flow: Flow,
  pspReference: string,
  reference: string,
  amount: bigint,
  refundReference = `rfd_${randomUUID()}`,
): Promise<RefundOutcome> {
  return flow.connector
    .refund(
      { pspReference, reference, refundReference, amount, currency: flow.currency },
      context(flow.psp),
    )
    .then(assertNoCardData);
}

async function setFaults(psp: Psp, settings: Record<string, unknown> | undefined): Promise<void> {
  const response = await fetch(`${simulatorUrl}/_sim/faults/${psp}`, {
    method: settings === undefined ? 'DELETE' : 'PUT',
    headers: { 'content-type': 'application/json' },
    ...(settings === undefined ? {} : { body: JSON.stringify(settings) }),
  });
  assert.equal(response.status, 200, await response.text());
}

function requirePspReference(outcome: PaymentOutcome): string {
  assert.ok(
    outcome.pspReference !== undefined,
    `no pspReference in ${JSON.stringify(outcome.status)}`,
  );
  return outcome.pspReference;
}

// --- flows every connector runs ----------------------------------------------------------------

function commonFlows(flow: Flow): void {
  const captured: PaymentOutcome['status'] = 'captured';

  it('authorizes with automatic capture, and the ground truth agrees', async () => {
    const reference = newReference();
    const outcome = await authorize(flow, reference, CARDS.approved);
    assert.equal(outcome.status, captured);
    assert.equal(outcome.amountCaptured, flow.amount);
    const truth = await groundTruth(flow.psp, reference);
    assert.equal(truth.payments.length, 1);
    assert.equal(truth.payments[0]?.paymentId, outcome.pspReference);
    assert.equal(truth.payments[0]?.captured, Number(flow.amount));
    const synced = await sync(flow, reference, outcome.pspReference);
    assert.equal(synced.status, captured);
    assert.equal((await sync(flow, reference)).pspReference, outcome.pspReference);
  });

  for (const [card, declineCode] of DECLINES) {
    it(`reports card ${card.slice(-4)} as failed ${declineCode}, and sync finds the decline`, async () => {
      const reference = newReference();
      const outcome = await authorize(flow, reference, card);
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.declineCode, declineCode);
      const truth = await groundTruth(flow.psp, reference);
      assert.equal(
        truth.operations.filter(
          (operation) => operation.type === 'authorize' && operation.status === 'declined',
        ).length,
        1,
      );
      const synced = await sync(flow, reference);
      assert.equal(synced.status, 'failed');
      assert.equal(synced.declineCode, declineCode);
    });
  }

  it('reports the PSP 500 card as unknown (never failed); nothing is recorded and sync says not_found', async () => {
    const reference = newReference();
    const outcome = await authorize(flow, reference, CARDS.serverError);
    assert.equal(outcome.status, 'unknown');
    assert.equal((await groundTruth(flow.psp, reference)).operations.length, 0);
    const synced = await sync(flow, reference);
    assert.deepEqual([synced.status, synced.pspCode], ['unknown', 'not_found']);
  });

  for (const captureMode of flow.connector.capabilities.captureModes) {
    const expected = captureMode === 'automatic' ? 'captured' : 'authorized';

    it(`reports the timeout card (${captureMode}) as unknown, then sync finds it ${expected}`, async () => {
      const reference = newReference();
      const outcome = await authorize(flow, reference, CARDS.timeout, {
        captureMode,
        timeoutMs: SHORT_TIMEOUT_MS,
      });
      // 'timeout' (not a response) proves the call gave up before the simulator answered.
      assert.deepEqual([outcome.status, outcome.pspCode], ['unknown', 'timeout']);
      const synced = await sync(flow, reference);
      assert.equal(synced.status, expected);
      assert.equal(synced.amountAuthorized, flow.amount);
      assert.equal(
        (await groundTruth(flow.psp, reference)).payments[0]?.paymentId,
        synced.pspReference,
      );
    });

    it(`reports the lost-response card (${captureMode}) as unknown, then sync finds it ${expected}`, async () => {
      const reference = newReference();
      const outcome = await authorize(flow, reference, CARDS.lostResponse, { captureMode });
      assert.deepEqual([outcome.status, outcome.pspCode], ['unknown', 'network_error']);
      const synced = await sync(flow, reference);
      assert.equal(synced.status, expected);
      const payment = (await groundTruth(flow.psp, reference)).payments[0];
      assert.deepEqual(
        [payment?.paymentId, payment?.authorized],
        [synced.pspReference, Number(flow.amount)],
      );
    });
  }

  it('retries an authorize with the same key: same pspReference, one authorization at the PSP', async () => {
    const reference = newReference();
    const idempotencyKey = `idem_${randomUUID()}`;
    const first = await authorize(flow, reference, CARDS.mastercard, { idempotencyKey });
    const second = await authorize(flow, reference, CARDS.mastercard, { idempotencyKey });
    assert.equal(first.status, captured);
    assert.deepEqual(second, first);
    const truth = await groundTruth(flow.psp, reference);
    const authorizations = truth.operations.filter((operation) => operation.type === 'authorize');
    assert.equal(authorizations.length, 1);
    assert.equal(truth.payments.length, 1);
    // Paytm has no idempotency header: the orderId (our reference) is its key.
    if (flow.psp !== 'paytm') assert.equal(authorizations[0]?.idempotencyKey, idempotencyKey);
  });

  it('retries a timed-out authorize with the same key and gets the stored result at once', async () => {
    const reference = newReference();
    const idempotencyKey = `idem_${randomUUID()}`;
    const first = await authorize(flow, reference, CARDS.timeout, {
      idempotencyKey,
      timeoutMs: SHORT_TIMEOUT_MS,
    });
    assert.equal(first.status, 'unknown');
    const retry = await authorize(flow, reference, CARDS.timeout, {
      idempotencyKey,
      timeoutMs: 5000,
    });
    assert.equal(retry.status, captured);
    const truth = await groundTruth(flow.psp, reference);
    assert.equal(truth.operations.filter((operation) => operation.type === 'authorize').length, 1);
    assert.equal(truth.payments[0]?.paymentId, retry.pspReference);
  });

  it('reports a refund whose response is lost as unknown; the retry with the same key returns the one refund', async () => {
    const reference = newReference();
    const pspReference = requirePspReference(await authorize(flow, reference, CARDS.approved));
    const refundReference = `rfd_${randomUUID()}`;
    const idempotencyKey = `idem_${randomUUID()}`;
    const request = {
      pspReference,
      reference,
      refundReference,
      amount: flow.amount,
      currency: flow.currency,
    };
    await setFaults(flow.psp, { seed: 1, lostResponseRate: 1 });
    let lost: RefundOutcome;
    try {
      lost = await flow.connector.refund(request, context(flow.psp, { idempotencyKey }));
    } finally {
      await setFaults(flow.psp, undefined);
    }
    assert.deepEqual([lost.status, lost.pspCode], ['unknown', 'network_error']);
    const retry = await flow.connector.refund(request, context(flow.psp, { idempotencyKey }));
    assert.deepEqual([retry.status, retry.amount], ['succeeded', flow.amount]);
    const truth = await groundTruth(flow.psp, reference);
    assert.equal(truth.operations.filter((operation) => operation.type === 'refund').length, 1);
    assert.equal(truth.payments[0]?.refunded, Number(flow.amount));
  });

  it('reports an injected 500 on authorize and on sync as unknown, never failed', async () => {
    const reference = newReference();
    await setFaults(flow.psp, { seed: 7, errorRate: 1 });
    let outcomes: PaymentOutcome[];
    try {
      outcomes = [await authorize(flow, reference, CARDS.approved), await sync(flow, reference)];
    } finally {
      await setFaults(flow.psp, undefined);
    }
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['unknown', 'unknown'],
    );
    assert.equal((await groundTruth(flow.psp, reference)).operations.length, 0);
  });

  if (flow.connector.capabilities.captureModes.includes('manual')) {
    it('reports a capture whose response is lost as unknown; sync then finds it captured', async () => {
      const reference = newReference();
      const pspReference = requirePspReference(
        await authorize(flow, reference, CARDS.approved, { captureMode: 'manual' }),
      );
      await setFaults(flow.psp, { seed: 3, lostResponseRate: 1 });
      let lost: PaymentOutcome;
      try {
        lost = await flow.connector.capture(
          { pspReference, reference, amount: flow.amount, currency: flow.currency },
          context(flow.psp),
        );
      } finally {
        await setFaults(flow.psp, undefined);
      }
      assert.deepEqual([lost.status, lost.pspCode], ['unknown', 'network_error']);
      const synced = await sync(flow, reference, pspReference);
      assert.deepEqual([synced.status, synced.amountCaptured], ['captured', flow.amount]);
    });
  }

  it('reports a reference the PSP never saw as unknown not_found', async () => {
    const synced = await sync(flow, newReference());
    assert.deepEqual([synced.status, synced.pspCode], ['unknown', 'not_found']);
  });
}

// --- the suites ----------------------------------------------------------------------------------

describe('connectors against the PSP simulator', () => {
  before(startSimulatorProcess);
  after(() => simulator?.stop());

  describe('stripe', () => {
    const flow: Flow = {
      psp: 'stripe',
      connector: stripeConnector,
      currency: 'usd',
      amount: 2000n,
    };
    commonFlows(flow);

    it('authorizes manually, captures part, and the rest is released', async () => {
      const reference = newReference();
      const authorized = await authorize(flow, reference, CARDS.approved, {
        captureMode: 'manual',
      });
      assert.equal(authorized.status, 'authorized');
      assert.equal(authorized.amountAuthorized, 2000n);
      const pspReference = requirePspReference(authorized);
      const outcome = await stripeConnector.capture(
        { pspReference, reference, amount: 1500n, currency: 'usd' },
        context('stripe'),
      );
      assert.deepEqual([outcome.status, outcome.amountCaptured], ['captured', 1500n]);
      const payment = (await groundTruth('stripe', reference)).payments[0];
      assert.deepEqual([payment?.authorized, payment?.captured], [2000, 1500]);
    });

    it('voids a manual authorization', async () => {
      const reference = newReference();
      const pspReference = requirePspReference(
        await authorize(flow, reference, CARDS.approved, { captureMode: 'manual' }),
      );
      const outcome = await stripeConnector.void(
        { pspReference, reference, amount: 2000n, currency: 'usd' },
        context('stripe'),
      );
      assert.equal(outcome.status, 'voided');
      assert.equal((await groundTruth('stripe', reference)).payments[0]?.voided, true);
      const again = await stripeConnector.capture(
        { pspReference, reference, amount: 2000n, currency: 'usd' },
        context('stripe'),
      );
      assert.equal(again.status, 'failed');
      assert.equal(again.pspCode, 'payment_intent_unexpected_state');
    });

    it('refunds partially, repeatedly, up to the captured amount, then refuses', async () => {
      const reference = newReference();
      const pspReference = requirePspReference(await authorize(flow, reference, CARDS.approved));
      for (const amount of [500n, 500n, 1000n]) {
        const outcome = await refund(flow, pspReference, reference, amount);
        assert.deepEqual([outcome.status, outcome.amount], ['succeeded', amount]);
        assert.ok(outcome.pspRefundReference?.startsWith('re_'));
      }
      const tooMuch = await refund(flow, pspReference, reference, 1n);
      assert.equal(tooMuch.status, 'failed');
      assert.equal((await groundTruth('stripe', reference)).payments[0]?.refunded, 2000);
      assert.equal((await sync(flow, reference, pspReference)).amountRefunded, 2000n);
    });

    it('reports wrong credentials as failed (nothing was done)', async () => {
      const outcome = await stripeConnector.authorize(
        {
          reference: newReference(),
          amount: 2000n,
          currency: 'usd',
          captureMode: 'automatic',
          card: { number: CARDS.approved, expiryMonth: 12, expiryYear: 2030 },
        },
        {
          ...context('stripe'),
          credentials: { baseUrl: `${simulatorUrl}/stripe`, apiKey: 'sk_test_wrong' },
        },
      );
      assert.deepEqual([outcome.status, outcome.pspCode], ['failed', 'api_key_invalid']);
    });
  });

  describe('razorpay', () => {
    const flow: Flow = {
      psp: 'razorpay',
      connector: razorpayConnector,
      currency: 'inr',
      amount: 9900n,
    };
    commonFlows(flow);

    it('authorizes manually and captures the full amount; a partial capture is refused', async () => {
      const reference = newReference();
      const authorized = await authorize(flow, reference, CARDS.approved, {
        captureMode: 'manual',
      });
      assert.equal(authorized.status, 'authorized');
      const pspReference = requirePspReference(authorized);
      const partial = await razorpayConnector.capture(
        { pspReference, reference, amount: 5000n, currency: 'inr' },
        context('razorpay'),
      );
      assert.equal(partial.status, 'failed');
      assert.equal((await sync(flow, reference, pspReference)).status, 'authorized');
      const outcome = await razorpayConnector.capture(
        { pspReference, reference, amount: 9900n, currency: 'inr' },
        context('razorpay'),
      );
      assert.deepEqual([outcome.status, outcome.amountCaptured], ['captured', 9900n]);
      assert.equal((await groundTruth('razorpay', reference)).payments[0]?.captured, 9900);
    });

    it('has no void', async () => {
      await assert.rejects(
        razorpayConnector.void(
          { pspReference: 'pay_x', reference: 'r', amount: 1n, currency: 'inr' },
          context('razorpay'),
        ),
        ConnectorError,
      );
    });

    it('refunds partially and repeatedly up to the captured amount, in another currency too', async () => {
      const usd: Flow = { ...flow, currency: 'usd', amount: 2500n };
      const reference = newReference();
      const pspReference = requirePspReference(await authorize(usd, reference, CARDS.approved));
      for (const amount of [1000n, 1500n]) {
        const outcome = await refund(usd, pspReference, reference, amount);
        assert.deepEqual([outcome.status, outcome.amount], ['succeeded', amount]);
      }
      assert.equal((await refund(usd, pspReference, reference, 1n)).status, 'failed');
      const payment = (await groundTruth('razorpay', reference)).payments[0];
      assert.deepEqual([payment?.currency, payment?.refunded], ['usd', 2500]);
    });

    it('reports wrong credentials as failed on authorize (nothing was done) and unknown on sync', async () => {
      const wrong = {
        ...context('razorpay'),
        credentials: {
          baseUrl: `${simulatorUrl}/razorpay`,
          apiKey: 'rzp_test_sim',
          apiSecret: 'wrong',
        },
      };
      const reference = newReference();
      const card = { number: CARDS.approved, expiryMonth: 12, expiryYear: 2030 };
      const outcome = await razorpayConnector.authorize(
        { reference, amount: 100n, currency: 'inr', captureMode: 'automatic', card },
        wrong,
      );
      assert.deepEqual([outcome.status, outcome.pspCode], ['failed', 'BAD_REQUEST_ERROR']);
      assert.equal((await groundTruth('razorpay', reference)).operations.length, 0);
      assert.equal(
        (await razorpayConnector.sync({ reference, amount: 100n, currency: 'inr' }, wrong)).status,
        'unknown',
      );
    });
  });

  describe('paytm', () => {
    const flow: Flow = { psp: 'paytm', connector: paytmConnector, currency: 'inr', amount: 9900n };
    commonFlows(flow);

    it('refunds the whole transaction once; a partial or second refund is refused', async () => {
      const reference = newReference();
      const pspReference = requirePspReference(await authorize(flow, reference, CARDS.approved));
      const partial = await refund(flow, pspReference, reference, 100n);
      assert.deepEqual([partial.status, partial.pspCode], ['failed', '617']);
      const refundReference = `rfd_${randomUUID()}`;
      const full = await refund(flow, pspReference, reference, 9900n, refundReference);
      assert.deepEqual([full.status, full.amount], ['succeeded', 9900n]);
      const repeat = await refund(flow, pspReference, reference, 9900n, refundReference);
      assert.deepEqual(repeat, full);
      const again = await refund(flow, pspReference, reference, 9900n);
      assert.deepEqual([again.status, again.pspCode], ['failed', '626']);
      assert.equal((await groundTruth('paytm', reference)).payments[0]?.refunded, 9900);
    });

    it('has no manual capture, capture or void', async () => {
      await assert.rejects(
        authorize(flow, newReference(), CARDS.approved, { captureMode: 'manual' }),
        ConnectorError,
      );
      await assert.rejects(
        paytmConnector.capture(
          { pspReference: 't', reference: 'r', amount: 1n, currency: 'inr' },
          context('paytm'),
        ),
        ConnectorError,
      );
      await assert.rejects(
        paytmConnector.void(
          { pspReference: 't', reference: 'r', amount: 1n, currency: 'inr' },
          context('paytm'),
        ),
        ConnectorError,
      );
    });

    it('reports a wrong merchant key (checksum invalid) as failed', async () => {
      const outcome = await paytmConnector.authorize(
        {
          reference: newReference(),
          amount: 100n,
          currency: 'inr',
          captureMode: 'automatic',
          card: { number: CARDS.approved, expiryMonth: 12, expiryYear: 2030 },
        },
        {
          ...context('paytm'),
          credentials: { ...context('paytm').credentials, apiSecret: 'wrong_key' },
        },
      );
      assert.deepEqual([outcome.status, outcome.pspCode], ['failed', '330']);
    });
  });
});
