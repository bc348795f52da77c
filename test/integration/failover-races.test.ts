// Races between a confirm's failover and everything else that learns or changes a payment's
// outcome: a sync (PSP webhook, status sync worker, capture/cancel/refund settling first), a
// concurrent confirm, a connector that refuses calls, a capture and a cancel at once. Each
// scenario holds fake PSP calls at gates to stage the interleaving, then checks the money: what
// each PSP charged net of refunds, that the ledger's receivable at each PSP says the same, that
// nothing is left in suspense or in the ledger outbox, and that the ledger verifies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PaymentOutcome } from '../../src/connectors/types.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { PaymentError } from '../../src/payments/errors.ts';
import { fakePspHarness, unavailable, until, type FakePspHarness } from '../support/fake-psp.ts';

const card = { amount: 1000n, currency: 'usd', paymentMethod: 'pm_card' };
/** A race gone wrong can leave a call waiting: the test fails instead of hanging. */
const limits = { timeout: 20_000 };

/** A scenario on its own fake-PSP harness, dropped afterwards whatever happens. */
function race(
  name: string,
  ...args:
    | [body: (h: FakePspHarness) => Promise<void>]
    | [options: Parameters<typeof fakePspHarness>[0], body: (h: FakePspHarness) => Promise<void>]
): void {
  const [options, body] = args.length === 1 ? [undefined, args[0]] : args;
  test(name, limits, async () => {
    const h = await fakePspHarness(options);
    try {
      await body(h);
    } finally {
      await h.drop();
    }
  });
}

/** Settles a promise into its value or its error, so a test can look at both. */
const settled = <T>(promise: Promise<T>): Promise<T | Error> =>
  promise.then(
    (value) => value,
    (error: Error) => error,
  );

/** The value of a promise that must settle now (within 2.5 s), not after some gate opens. */
async function promptly<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  void promise.finally(() => {
    done = true;
  });
  await until(() => done);
  return promise;
}

/** The PaymentError code of a rejected call. */
async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  const error = await settled(promise);
  assert.ok(
    error instanceof PaymentError,
    `expected a PaymentError, got ${error instanceof Error ? error.message : 'a result'}`,
  );
  return error.code;
}

/** [connector, status, abandoned] of each attempt, oldest first. */
async function attemptStates(
  h: FakePspHarness,
  intentId: string,
): Promise<[string, string, boolean][]> {
  return (await h.stored(intentId)).attempts.map((attempt) => [
    attempt.connector,
    attempt.status,
    attempt.abandoned,
  ]);
}

/** The money checks every scenario ends with: `charged` is what each PSP holds of the customer's money. */
async function assertMoney(
  h: FakePspHarness,
  charged: { stripe: bigint; razorpay: bigint },
): Promise<void> {
  assert.deepEqual(
    { stripe: h.stripe.netCharged(), razorpay: h.razorpay.netCharged() },
    charged,
    'net charged at each PSP',
  );
  for (const psp of [h.stripe, h.razorpay]) {
    const receivable = await h.ledger.getAccount(`psp:${psp.name}:receivable:usd`);
    assert.equal(
      receivable?.balance.posted ?? 0n,
      psp.netCharged(),
      `the ledger's receivable at ${psp.name} matches the PSP`,
    );
  }
  assert.equal(
    (await h.ledger.getAccount('platform:suspense:usd'))?.balance.posted ?? 0n,
    0n,
    'nothing left in suspense',
  );
  assert.equal(
    (await h.database.query('SELECT 1 FROM ledger_outbox')).rows.length,
    0,
    'every posting reached the ledger',
  );
  const report = await verifyLedger(h.database);
  assert.equal(report.ok, true, report.problems.join('; '));
}

/** A stripe authorization whose answer is lost after the PSP charged the card. */
const chargedButLost =
  (h: FakePspHarness, wait: Promise<void> = Promise.resolve()) =>
  async (request: Parameters<typeof h.stripe.charge>[0]): Promise<PaymentOutcome> => {
    h.stripe.charge(request);
    await wait;
    return { status: 'unknown', pspCode: 'timeout' };
  };

race(
  'a sync that read the attempt before a failover refunds it as an orphan; the new attempt completes the payment',
  async (h) => {
    const answerA = h.gate();
    const answerB = h.gate();
    const syncAnswer = h.gate();
    h.stripe.authorizeHandler = chargedButLost(h, answerA.promise);
    h.stripe.syncHandler = async (request) => {
      await syncAnswer.promise;
      return h.stripe.stateOf(request.reference);
    };
    h.razorpay.authorizeHandler = async (request) => {
      await answerB.promise;
      return h.razorpay.charge(request);
    };
    const confirm = settled(h.payments.create(h.merchantId, { ...card, confirm: true }));
    await until(() => h.stripe.calls.some((call) => call.op === 'authorize'));
    const id = await h.latestIntentId();
    // A PSP webhook for A: the sync reads A pending and not abandoned, and asks the PSP.
    const sync = settled(h.payments.sync(h.merchantId, id));
    await until(() => h.stripe.calls.some((call) => call.op === 'sync'));
    // A's answer is lost: the confirm abandons A and sends B to razorpay.
    answerA.open();
    await until(() => h.razorpay.calls.some((call) => call.op === 'authorize'));
    // The sync learns that A was captured, after A was abandoned.
    syncAnswer.open();
    const synced = await sync;
    assert.ok(
      !(synced instanceof Error),
      `the sync failed: ${synced instanceof Error ? synced.message : ''}`,
    );
    answerB.open();
    const confirmed = await confirm;
    assert.ok(
      !(confirmed instanceof Error),
      `the confirm failed: ${confirmed instanceof Error ? confirmed.message : ''}`,
    );
    assert.equal(confirmed.intent.status, 'succeeded');
    // The status sync worker's later passes find nothing wrong.
    for (let pass = 0; pass < 3; pass++) await h.payments.sync(h.merchantId, id);
    const { intent } = await h.stored(id);
    assert.deepEqual([intent.status, intent.amountReceived], ['succeeded', 1000n]);
    assert.deepEqual(await attemptStates(h, id), [
      ['stripe', 'refunded', true],
      ['razorpay', 'captured', false],
    ]);
    await assertMoney(h, { stripe: 0n, razorpay: 1000n });
  },
);

race(
  'the same race with manual capture: the orphan authorization is voided, the new one is captured',
  async (h) => {
    const answerA = h.gate();
    const answerB = h.gate();
    const syncAnswer = h.gate();
    h.stripe.authorizeHandler = chargedButLost(h, answerA.promise);
    h.stripe.syncHandler = async (request) => {
      await syncAnswer.promise;
      return h.stripe.stateOf(request.reference);
    };
    h.razorpay.authorizeHandler = async (request) => {
      await answerB.promise;
      return h.razorpay.charge(request);
    };
    const confirm = settled(
      h.payments.create(h.merchantId, { ...card, captureMethod: 'manual', confirm: true }),
    );
    await until(() => h.stripe.calls.some((call) => call.op === 'authorize'));
    const id = await h.latestIntentId();
    const sync = settled(h.payments.sync(h.merchantId, id));
    await until(() => h.stripe.calls.some((call) => call.op === 'sync'));
    answerA.open();
    await until(() => h.razorpay.calls.some((call) => call.op === 'authorize'));
    syncAnswer.open();
    assert.ok(!((await sync) instanceof Error));
    answerB.open();
    const confirmed = await confirm;
    assert.ok(
      !(confirmed instanceof Error),
      `the confirm failed: ${confirmed instanceof Error ? confirmed.message : ''}`,
    );
    assert.equal(confirmed.intent.status, 'requires_capture');
    assert.deepEqual(await attemptStates(h, id), [
      ['stripe', 'voided', true],
      ['razorpay', 'authorized', false],
    ]);
    assert.equal(
      [...h.stripe.payments.values()][0]?.voided,
      true,
      'the orphan authorization was voided at the PSP',
    );
    const captured = await h.payments.capture(h.merchantId, id, undefined);
    assert.deepEqual(
      [captured.intent.status, captured.intent.amountReceived],
      ['succeeded', 1000n],
    );
    await assertMoney(h, { stripe: 0n, razorpay: 1000n });
  },
);

/**
 * Two confirms (a client retry) resume the same unknown attempt A at stripe, asking for razorpay
 * as the fallback. The first loses A's answer again and fails over to B; the second's answer
 * for A arrives after that, as `second`.
 */
async function twoConfirmsOnOneAttempt(
  h: FakePspHarness,
  second: 'captured' | 'unknown',
): Promise<void> {
  const answers = [h.gate(), h.gate()];
  const answerB = h.gate();
  let call = 0;
  h.stripe.authorizeHandler = async (request) => {
    const mine = ++call;
    h.stripe.charge(request);
    if (mine === 1) return { status: 'unknown', pspCode: 'timeout' };
    await answers[mine - 2]?.promise;
    return mine === 3 && second === 'captured'
      ? h.stripe.stateOf(request.reference)
      : { status: 'unknown', pspCode: 'timeout' };
  };
  h.razorpay.authorizeHandler = async (request) => {
    await answerB.promise;
    return h.razorpay.charge(request);
  };
  const created = await h.payments.create(h.merchantId, {
    ...card,
    confirm: true,
    connector: 'stripe',
  });
  const id = created.intent.id;
  assert.equal(created.intent.status, 'processing');
  const first = settled(h.payments.confirm(h.merchantId, id, { connector: 'razorpay' }));
  await until(() => call === 2);
  const retry = settled(h.payments.confirm(h.merchantId, id, { connector: 'razorpay' }));
  await until(() => call === 3);
  answers[0]?.open();
  await until(() => h.razorpay.calls.some((candidate) => candidate.op === 'authorize'));
  answers[1]?.open();
  const retried = await promptly(retry);
  assert.ok(
    !(retried instanceof Error),
    `the second confirm failed: ${retried instanceof Error ? retried.message : ''}`,
  );
  assert.equal(
    retried.intent.status,
    'processing',
    'the second confirm answers with the payment as it stands: B is in flight',
  );
  answerB.open();
  const confirmed = await first;
  assert.ok(
    !(confirmed instanceof Error),
    `the first confirm failed: ${confirmed instanceof Error ? confirmed.message : ''}`,
  );
  assert.equal(confirmed.intent.status, 'succeeded');
  await h.payments.sync(h.merchantId, id);
  assert.equal(
    h.razorpay.calls.filter((candidate) => candidate.op === 'authorize').length,
    1,
    'one failover, not two',
  );
  assert.deepEqual(await attemptStates(h, id), [
    ['stripe', 'refunded', true],
    ['razorpay', 'captured', false],
  ]);
  assert.deepEqual((await h.stored(id)).intent.amountReceived, 1000n);
  await assertMoney(h, { stripe: 0n, razorpay: 1000n });
}

race(
  'two confirms on one unknown attempt: an answer "captured" that arrives after the other failed over is refunded as an orphan',
  (h) => twoConfirmsOnOneAttempt(h, 'captured'),
);

race(
  'two confirms on one unknown attempt: a second lost answer does not fail over a second time',
  (h) => twoConfirmsOnOneAttempt(h, 'unknown'),
);

race(
  'an authorization failed as never seen by the PSP, that the PSP then captures, is refunded',
  { neverSeenAfterMs: 0 },
  async (h) => {
    const answer = h.gate();
    h.stripe.authorizeHandler = async (request) => {
      await answer.promise;
      return h.stripe.charge(request);
    };
    const create = settled(
      h.payments.create(h.merchantId, { ...card, confirm: true, connector: 'stripe' }),
    );
    await until(() => h.stripe.calls.some((call) => call.op === 'authorize'));
    const id = await h.latestIntentId();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The PSP has not heard of it yet: sync gives up on it.
    const synced = await h.payments.sync(h.merchantId, id);
    assert.equal(synced.intent.status, 'requires_payment_method');
    assert.deepEqual(await attemptStates(h, id), [['stripe', 'failed', false]]);
    // The slow call reaches the PSP after all and the card is charged.
    answer.open();
    assert.equal(
      await rejectionCode(create),
      // Stripe's code for an error in processing the card (src/connectors/types.ts cardErrorCode).
      'processing_error',
      'the payment stays failed for the merchant',
    );
    assert.deepEqual(await attemptStates(h, id), [['stripe', 'refunded', true]]);
    assert.equal((await h.stored(id)).intent.status, 'requires_payment_method');
    await assertMoney(h, { stripe: 0n, razorpay: 0n });
  },
);

race(
  'a crash after the PSP call, then a 503 on the retried confirm: the sent attempt stays open and the next confirm resumes it',
  async (h) => {
    let call = 0;
    h.stripe.authorizeHandler = async (request) => {
      call++;
      if (call === 1) {
        h.stripe.charge(request);
        throw new Error('the process died after the PSP call');
      }
      if (call === 2) throw unavailable('stripe');
      return h.stripe.charge(request);
    };
    const created = await h.payments.create(h.merchantId, { ...card, connector: 'stripe' });
    const id = created.intent.id;
    await assert.rejects(h.payments.confirm(h.merchantId, id, {}), /the process died/);
    assert.equal(
      await rejectionCode(h.payments.confirm(h.merchantId, id, {})),
      'connector_unavailable',
    );
    assert.equal(
      (await h.stored(id)).intent.status,
      'processing',
      'the payment may be charged: it is not confirmable again',
    );
    assert.deepEqual(await attemptStates(h, id), [['stripe', 'pending', false]]);
    const confirmed = await h.payments.confirm(h.merchantId, id, {});
    assert.equal(confirmed.intent.status, 'succeeded');
    await h.payments.sync(h.merchantId, id);
    assert.deepEqual(await attemptStates(h, id), [['stripe', 'captured', false]]);
    assert.equal(
      new Set(
        h.stripe.calls
          .filter((candidate) => candidate.op === 'authorize')
          .map((candidate) => candidate.key),
      ).size,
      1,
      'one attempt, one PSP idempotency key',
    );
    await assertMoney(h, { stripe: 1000n, razorpay: 0n });
  },
);

race('a concurrent confirm refused with a 503 leaves the attempt in flight alone', async (h) => {
  const answer = h.gate();
  let call = 0;
  h.stripe.authorizeHandler = async (request) => {
    call++;
    if (call === 1) {
      await answer.promise;
      return h.stripe.charge(request);
    }
    if (call === 2) throw unavailable('stripe');
    return h.stripe.charge(request);
  };
  const created = await h.payments.create(h.merchantId, { ...card, connector: 'stripe' });
  const id = created.intent.id;
  const first = settled(h.payments.confirm(h.merchantId, id, {}));
  await until(() => call === 1);
  assert.equal(
    await rejectionCode(h.payments.confirm(h.merchantId, id, {})),
    'connector_unavailable',
  );
  assert.deepEqual(await attemptStates(h, id), [['stripe', 'pending', false]]);
  answer.open();
  const confirmed = await first;
  assert.ok(
    !(confirmed instanceof Error),
    `the first confirm failed: ${confirmed instanceof Error ? confirmed.message : ''}`,
  );
  assert.equal(confirmed.intent.status, 'succeeded');
  assert.equal(
    await rejectionCode(h.payments.confirm(h.merchantId, id, {})),
    'payment_intent_unexpected_state',
    'a succeeded payment is never confirmed again',
  );
  assert.deepEqual(await attemptStates(h, id), [['stripe', 'captured', false]]);
  await assertMoney(h, { stripe: 1000n, razorpay: 0n });
});

race(
  'a resumed unknown attempt whose connector refuses calls is abandoned, not failed, by the failover; sync refunds it',
  async (h) => {
    let call = 0;
    h.stripe.authorizeHandler = async (request) => {
      call++;
      if (call === 1) return chargedButLost(h)(request);
      throw unavailable('stripe');
    };
    const created = await h.payments.create(h.merchantId, {
      ...card,
      confirm: true,
      connector: 'stripe',
    });
    const id = created.intent.id;
    assert.deepEqual(await attemptStates(h, id), [['stripe', 'unknown', false]]);
    const confirmed = await h.payments.confirm(h.merchantId, id, { connector: 'razorpay' });
    assert.equal(confirmed.intent.status, 'succeeded');
    assert.deepEqual(await attemptStates(h, id), [
      ['stripe', 'unknown', true],
      ['razorpay', 'captured', false],
    ]);
    await h.payments.sync(h.merchantId, id);
    assert.deepEqual(await attemptStates(h, id), [
      ['stripe', 'refunded', true],
      ['razorpay', 'captured', false],
    ]);
    await assertMoney(h, { stripe: 0n, razorpay: 1000n });
  },
);

race('a cancel while a capture is in flight is refused; the capture is recorded', async (h) => {
  const answer = h.gate();
  h.razorpay.captureHandler = async (request) => {
    await answer.promise;
    return h.razorpay.capturePayment(request);
  };
  const created = await h.payments.create(h.merchantId, {
    ...card,
    confirm: true,
    connector: 'razorpay',
    captureMethod: 'manual',
  });
  const id = created.intent.id;
  const capture = settled(h.payments.capture(h.merchantId, id, undefined));
  await until(() => h.razorpay.calls.some((call) => call.op === 'capture'));
  assert.equal(
    await rejectionCode(h.payments.cancel(h.merchantId, id, undefined)),
    'payment_intent_unexpected_state',
  );
  answer.open();
  const captured = await capture;
  assert.ok(
    !(captured instanceof Error),
    `the capture failed: ${captured instanceof Error ? captured.message : ''}`,
  );
  await h.payments.sync(h.merchantId, id);
  const { intent } = await h.stored(id);
  assert.deepEqual(
    [intent.status, intent.amountReceived, intent.pendingOperation],
    ['succeeded', 1000n, null],
  );
  assert.deepEqual(await attemptStates(h, id), [['razorpay', 'captured', false]]);
  await assertMoney(h, { stripe: 0n, razorpay: 1000n });
});

race('a capture while a cancel is in flight is refused; the cancel is recorded', async (h) => {
  const answer = h.gate();
  h.stripe.voidHandler = async (request) => {
    await answer.promise;
    return h.stripe.voidPayment(request);
  };
  const created = await h.payments.create(h.merchantId, {
    ...card,
    confirm: true,
    connector: 'stripe',
    captureMethod: 'manual',
  });
  const id = created.intent.id;
  const cancel = settled(h.payments.cancel(h.merchantId, id, undefined));
  await until(() => h.stripe.calls.some((call) => call.op === 'void'));
  assert.equal(
    await rejectionCode(h.payments.capture(h.merchantId, id, undefined)),
    'payment_intent_unexpected_state',
  );
  answer.open();
  const canceled = await cancel;
  assert.ok(
    !(canceled instanceof Error),
    `the cancel failed: ${canceled instanceof Error ? canceled.message : ''}`,
  );
  assert.deepEqual([canceled.intent.status, canceled.intent.pendingOperation], ['canceled', null]);
  assert.deepEqual(await attemptStates(h, id), [['stripe', 'voided', false]]);
  assert.equal([...h.stripe.payments.values()][0]?.voided, true);
  await assertMoney(h, { stripe: 0n, razorpay: 0n });
});

race(
  'an orphan authorized with automatic capture at a connector that cannot void waits for the capture, then is refunded',
  async (h) => {
    // Razorpay first: it authorizes now and captures by itself later.
    await h.database.query(
      "UPDATE merchant_connectors SET priority = 0 WHERE merchant_id = $1 AND connector = 'razorpay'",
      [h.merchantId],
    );
    h.payments.settings.invalidate(h.merchantId);
    h.razorpay.authorizeHandler = async (request) => {
      h.razorpay.charge({ ...request, captureMode: 'manual' });
      return { status: 'unknown', pspCode: 'timeout' };
    };
    const paid = await h.payments.create(h.merchantId, { ...card, confirm: true });
    const id = paid.intent.id;
    assert.equal(paid.intent.status, 'succeeded');
    assert.deepEqual(await attemptStates(h, id), [
      ['razorpay', 'unknown', true],
      ['stripe', 'captured', false],
    ]);
    await h.payments.sync(h.merchantId, id);
    assert.deepEqual(
      await attemptStates(h, id),
      [
        ['razorpay', 'unknown', true],
        ['stripe', 'captured', false],
      ],
      'authorized only: it may still be captured',
    );
    const orphan = [...h.razorpay.payments.values()][0];
    assert.ok(orphan !== undefined);
    orphan.captured = orphan.authorized;
    await h.payments.sync(h.merchantId, id);
    assert.deepEqual(await attemptStates(h, id), [
      ['razorpay', 'refunded', true],
      ['stripe', 'captured', false],
    ]);
    await assertMoney(h, { stripe: 1000n, razorpay: 0n });
  },
);

race(
  'each capture amount has its own PSP idempotency key; a retry of the same capture keeps it',
  async (h) => {
    let call = 0;
    h.stripe.captureHandler = async (request) => {
      call++;
      if (call === 1)
        return { status: 'failed', pspCode: 'amount_not_allowed', message: 'refused' };
      if (call === 2) return { status: 'unknown', pspCode: 'timeout' };
      return h.stripe.capturePayment(request);
    };
    const created = await h.payments.create(h.merchantId, {
      ...card,
      confirm: true,
      connector: 'stripe',
      captureMethod: 'manual',
    });
    const id = created.intent.id;
    assert.equal(await rejectionCode(h.payments.capture(h.merchantId, id, 600n)), 'capture_failed');
    assert.equal(
      (await h.payments.capture(h.merchantId, id, 500n)).intent.status,
      'processing',
      'the answer was lost',
    );
    const captured = await h.payments.capture(h.merchantId, id, 500n);
    assert.deepEqual([captured.intent.status, captured.intent.amountReceived], ['succeeded', 500n]);
    const keys = h.stripe.calls
      .filter((candidate) => candidate.op === 'capture')
      .map((candidate) => candidate.key);
    assert.equal(keys.length, 3);
    assert.notEqual(keys[0], keys[1], 'another amount, another key');
    assert.equal(keys[1], keys[2], 'the same capture again, the same key');
    await assertMoney(h, { stripe: 500n, razorpay: 0n });
  },
);
