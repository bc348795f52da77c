// A SetupIntent's verification (one unit authorized with manual capture, voided at once) against
// scripted fake PSPs: a refusal never releases a verification an earlier call may have sent, a
// void that fails is recorded and retried, and a verification the PSP captured is refunded
// (decision 212).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CustomerError } from '../../src/customers/errors.ts';
import type { CustomersService } from '../../src/customers/service.ts';
import { SetupIntentsService } from '../../src/customers/setup-intents.ts';
import { customers } from '../../src/customers/tables.ts';
import { newSortableId } from '../../src/ids.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { fakePspHarness, unavailable, type FakePspHarness } from '../support/fake-psp.ts';

describe('SetupIntent verifications at a scripted PSP', () => {
  let harness: FakePspHarness;
  let setupIntents: SetupIntentsService;
  /** Set to make the next save of a card to its customer fail (attached elsewhere meanwhile). */
  let refuseAttach = false;

  before(async () => {
    harness = await fakePspHarness();
    const customersStub = {
      checkUse: async () => undefined,
      materialize: async (_merchantId: string, id: string) => ({ id }),
      attachInTransaction: async () => {
        if (refuseAttach)
          throw new CustomerError('payment_method_unexpected_state', 'attached elsewhere');
      },
    } as unknown as CustomersService;
    setupIntents = new SetupIntentsService({
      database: harness.database,
      customers: customersStub,
      vault: harness.vault,
      connector: (name) => (name === 'stripe' ? harness.stripe : undefined),
      settings: harness.settings,
      pspTimeoutMs: 1000,
      logger: createLogger('silent'),
    });
  });
  after(() => harness.drop());

  const fresh = async (customer?: string) =>
    (
      await setupIntents.create(harness.merchantId, {
        paymentMethod: 'pm_fake',
        ...(customer === undefined ? {} : { customer }),
      })
    ).id;
  const confirm = (id: string) => setupIntents.confirm(harness.merchantId, id, {});
  const stored = async (id: string) =>
    (
      await harness.database.query<{ status: string; reversal_pending: string | null }>(
        'SELECT status, reversal_pending FROM setup_intents WHERE id = $1',
        [id],
      )
    ).rows[0];
  const calls = (id: string, op: string) =>
    harness.stripe.calls.filter((call) => call.op === op && call.reference.startsWith(id));
  const refused = (error: unknown) =>
    error instanceof CustomerError && error.code === 'connector_unavailable';

  test('a refusal after a timed-out send keeps the verification; the retry resends its key', async () => {
    const id = await fresh();
    const reset = harness.stripe.authorizeHandler;
    try {
      // A: the PSP authorizes, the answer is lost (a timeout).
      harness.stripe.authorizeHandler = async (request) => {
        harness.stripe.charge(request);
        return { status: 'unknown' };
      };
      assert.equal((await confirm(id)).status, 'processing');
      // B: the breaker, opened by such timeouts, refuses; nothing is sent by this call.
      harness.stripe.authorizeHandler = async () => {
        throw unavailable('stripe');
      };
      await assert.rejects(confirm(id), refused);
      assert.equal((await stored(id))?.status, 'processing');
    } finally {
      harness.stripe.authorizeHandler = reset;
    }
    // C: the retry resends verification 1 under its key; it is voided, no second one is made.
    assert.equal((await confirm(id)).status, 'succeeded');
    assert.deepEqual(
      calls(id, 'authorize').map((call) => call.key),
      [`payrail_${id}_v1`, `payrail_${id}_v1`, `payrail_${id}_v1`],
    );
    assert.deepEqual(
      [...harness.stripe.payments.keys()].filter((ref) => ref.startsWith(id)),
      [`${id}_v1`],
    );
    assert.equal(harness.stripe.payment(`${id}_v1`).voided, true);
  });

  test('a verification refused before any send is released, as before', async () => {
    const id = await fresh();
    const reset = harness.stripe.authorizeHandler;
    harness.stripe.authorizeHandler = async () => {
      throw unavailable('stripe');
    };
    try {
      await assert.rejects(confirm(id), refused);
    } finally {
      harness.stripe.authorizeHandler = reset;
    }
    assert.equal((await stored(id))?.status, 'requires_confirmation');
    assert.equal((await confirm(id)).status, 'succeeded');
    assert.equal(harness.stripe.payment(`${id}_v2`).voided, true);
  });

  test('a void that fails is recorded and retried on retrieve', async () => {
    const id = await fresh();
    const reset = harness.stripe.voidHandler;
    harness.stripe.voidHandler = async () => ({ status: 'unknown' });
    try {
      assert.equal((await confirm(id)).status, 'succeeded');
      assert.deepEqual(await stored(id), { status: 'succeeded', reversal_pending: 'void' });
      assert.equal(harness.stripe.payment(`${id}_v1`).voided, false);
    } finally {
      harness.stripe.voidHandler = reset;
    }
    await setupIntents.retrieve(harness.merchantId, id);
    assert.deepEqual(await stored(id), { status: 'succeeded', reversal_pending: null });
    assert.equal(harness.stripe.payment(`${id}_v1`).voided, true);
    assert.deepEqual(
      calls(id, 'void').map((call) => call.key),
      [`payrail_${id}_v1_void`, `payrail_${id}_v1_void`],
    );
  });

  test('no second authorization while a void is outstanding; cancel retries it', async () => {
    const customer = newSortableId('cus', Date.now());
    const insert = customers.insert();
    await harness.database.query(
      insert.sql,
      insert.parameters({
        id: customer,
        merchantId: harness.merchantId,
        email: null,
        name: null,
        phone: null,
        description: null,
        address: null,
        metadata: {},
        defaultPaymentMethod: null,
        deletedAt: null,
        createdAt: new Date(),
      }),
    );
    const id = await fresh(customer);
    const reset = harness.stripe.voidHandler;
    harness.stripe.voidHandler = async () => ({ status: 'unknown' });
    refuseAttach = true;
    try {
      // Verified, but the card could not be saved, and its void was lost.
      await assert.rejects(confirm(id), /attached elsewhere/);
      refuseAttach = false;
      assert.deepEqual(await stored(id), {
        status: 'requires_payment_method',
        reversal_pending: 'void',
      });
      // A new confirm must not authorize again while verification 1 is not voided.
      await assert.rejects(confirm(id), refused);
      assert.equal(calls(id, 'authorize').length, 1);
    } finally {
      refuseAttach = false;
      harness.stripe.voidHandler = reset;
    }
    assert.equal((await setupIntents.cancel(harness.merchantId, id, undefined)).status, 'canceled');
    assert.deepEqual(await stored(id), { status: 'canceled', reversal_pending: null });
    assert.equal(harness.stripe.payment(`${id}_v1`).voided, true);
  });

  test('a verification the PSP captured is refunded under a deterministic key', async () => {
    const id = await fresh();
    const resetAuthorize = harness.stripe.authorizeHandler;
    const resetRefund = harness.stripe.refundHandler;
    // The PSP ignores manual capture; its first refund answer is lost.
    harness.stripe.authorizeHandler = async (request) =>
      harness.stripe.charge({ ...request, captureMode: 'automatic' });
    harness.stripe.refundHandler = async () => ({ status: 'unknown' });
    try {
      assert.equal((await confirm(id)).status, 'succeeded');
      assert.deepEqual(await stored(id), { status: 'succeeded', reversal_pending: 'refund' });
    } finally {
      harness.stripe.authorizeHandler = resetAuthorize;
      harness.stripe.refundHandler = resetRefund;
    }
    await setupIntents.retrieve(harness.merchantId, id);
    assert.deepEqual(await stored(id), { status: 'succeeded', reversal_pending: null });
    const payment = harness.stripe.payment(`${id}_v1`);
    assert.equal(payment.captured - payment.refunded, 0n);
    assert.deepEqual(
      calls(id, 'refund').map((call) => call.key),
      [`payrail_${id}_v1_refund`, `payrail_${id}_v1_refund`],
    );
  });
});
