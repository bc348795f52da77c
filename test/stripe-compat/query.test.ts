// Stripe's own SDK driving the query surface of issue 13: search with paging through next_page,
// updates of a payment intent, expand on retrieve, list, search and create, and the created
// filters of lists, as a merchant's existing Stripe integration calls them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { startStripeStack, type StripeStack } from '../support/stripe.ts';
import { assertStripeList, assertStripeSearchResult, assertStripeShape } from './shape.ts';

describe("Stripe's SDK: search, update, expand and list filters", () => {
  let stack: StripeStack;
  let stripe: Stripe;
  /** A tag unique to this run, so the searches see only the intents made here. */
  const run = `run-${process.pid}`;

  before(async () => {
    stack = await startStripeStack();
    ({ stripe } = stack);
  });
  after(() => stack.stop());

  test('search: a query, paging through next_page, and the same query through autoPaging', async () => {
    const made: string[] = [];
    for (let index = 0; index < 5; index++) {
      const intent = await stripe.paymentIntents.create({
        amount: 1_000 + index,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        metadata: { run, index: String(index) },
      });
      made.push(intent.id);
    }
    await stripe.paymentIntents.create({
      amount: 500,
      currency: 'eur',
      metadata: { run },
    });
    const query = `status:'succeeded' AND metadata['run']:'${run}'`;
    const first = await stripe.paymentIntents.search({ query, limit: 2 });
    assert.equal(first.object, 'search_result');
    assertStripeSearchResult(first, 'PaymentIntent');
    assert.equal(first.url, '/v1/payment_intents/search');
    assert.equal(first.has_more, true);
    assert.equal(typeof first.next_page, 'string');
    const seen = [...first.data];
    let page = first;
    while (page.has_more) {
      page = await stripe.paymentIntents.search({
        query,
        limit: 2,
        page: page.next_page as string,
      });
      seen.push(...page.data);
    }
    assert.equal(page.next_page, null);
    // Newest first, each once.
    assert.deepEqual(
      seen.map((intent) => intent.id),
      [...made].reverse(),
    );
    const all = await stripe.paymentIntents.search({ query, limit: 2 }).autoPagingToArray({
      limit: 100,
    });
    assert.equal(all.length, 5);

    const big = await stripe.paymentIntents.search({
      query: `metadata['run']:'${run}' AND amount>=1003`,
    });
    assert.deepEqual(
      big.data.map((intent) => intent.amount),
      [1_004, 1_003],
    );
    const either = await stripe.paymentIntents.search({
      query: `metadata['run']:'${run}' AND -currency:'usd'`,
    });
    assert.deepEqual(
      either.data.map((intent) => intent.currency),
      ['eur'],
    );
    const counted = await stripe.paymentIntents.search({
      query: `metadata['run']:'${run}'`,
      limit: 1,
      expand: ['total_count'],
    });
    assert.equal(counted.total_count, 6);
    assertStripeSearchResult(counted, 'PaymentIntent');
    const since = await stripe.paymentIntents.search({
      query: `created>=${Math.floor(Date.now() / 1000) - 3_600} AND metadata['index']:'2'`,
    });
    assert.deepEqual(
      since.data.map((intent) => intent.id),
      [made[2]],
    );
  });

  test('a bad query is an invalid request error naming query, with where it went wrong', async () => {
    await assert.rejects(
      stripe.paymentIntents.search({ query: "status:'succeeded' AND amount>1 OR amount<5" }),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
        assert.equal(error.param, 'query');
        assert.match(error.message, /character 33/);
        return true;
      },
    );
  });

  test('update: metadata merged (an empty value removes a key), amount, payment method, then refused once confirmed', async () => {
    const created = await stripe.paymentIntents.create({
      amount: 2_000,
      currency: 'usd',
      metadata: { keep: 'yes', drop: 'soon' },
      description: 'first',
    });
    const updated = await stripe.paymentIntents.update(created.id, {
      amount: 2_500,
      metadata: { drop: '', added: 'new' },
      description: 'second',
    });
    assert.equal(updated.amount, 2_500);
    assertStripeShape(updated, 'PaymentIntent');
    assert.deepEqual(updated.metadata, { keep: 'yes', added: 'new' });
    assert.equal(updated.description, 'second');
    assert.equal(updated.status, 'requires_payment_method');
    const withMethod = await stripe.paymentIntents.update(created.id, {
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
    });
    assert.equal(withMethod.status, 'requires_confirmation');
    assert.equal(withMethod.capture_method, 'manual');
    const confirmed = await stripe.paymentIntents.confirm(created.id);
    assert.equal(confirmed.status, 'requires_capture');
    assert.equal(confirmed.amount, 2_500);
    await assert.rejects(stripe.paymentIntents.update(created.id, { amount: 10 }), (error) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.code, 'payment_intent_unexpected_state');
      return true;
    });
    // What describes the payment may still change.
    const described = await stripe.paymentIntents.update(created.id, { metadata: { note: 'x' } });
    assert.deepEqual(described.metadata, { keep: 'yes', added: 'new', note: 'x' });
    const cleared = await stripe.paymentIntents.update(created.id, { metadata: '' });
    assert.deepEqual(cleared.metadata, {});
    const retrieved = await stripe.paymentIntents.retrieve(created.id);
    assert.equal(retrieved.amount, 2_500);
  });

  test('expand: payment_method on retrieve, create, confirm, update and in lists (data.payment_method)', async () => {
    const method = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '314' },
    } as Stripe.PaymentMethodCreateParams);
    const created = await stripe.paymentIntents.create({
      amount: 700,
      currency: 'usd',
      payment_method: method.id,
      confirm: true,
      expand: ['payment_method'],
    });
    const expanded = created.payment_method as Stripe.PaymentMethod;
    assert.equal(expanded.id, method.id);
    assert.equal(expanded.object, 'payment_method');
    assert.equal(expanded.card?.last4, '4242');
    // An expandable field holds the object itself when expanded: compared as a PaymentMethod.
    assertStripeShape(created, 'PaymentIntent');
    const plain = await stripe.paymentIntents.retrieve(created.id);
    assert.equal(plain.payment_method, method.id);
    const retrieved = await stripe.paymentIntents.retrieve(created.id, {
      expand: ['payment_method'],
    });
    assert.equal((retrieved.payment_method as Stripe.PaymentMethod).card?.last4, '4242');
    const updated = await stripe.paymentIntents.update(created.id, {
      metadata: { seen: 'yes' },
      expand: ['payment_method'],
    });
    assert.equal((updated.payment_method as Stripe.PaymentMethod).id, method.id);
    const listed = await stripe.paymentIntents.list({ limit: 3, expand: ['data.payment_method'] });
    const first = listed.data.find((intent) => intent.id === created.id);
    assert.equal((first?.payment_method as Stripe.PaymentMethod).object, 'payment_method');
    assertStripeList(listed, 'PaymentIntent');
    // An intent without a payment method keeps null.
    const bare = await stripe.paymentIntents.create({
      amount: 300,
      currency: 'usd',
      expand: ['payment_method'],
    });
    assert.equal(bare.payment_method, null);
    const confirmed = await stripe.paymentIntents.confirm(bare.id, {
      payment_method: 'pm_card_visa',
      expand: ['payment_method'],
    });
    assert.equal((confirmed.payment_method as Stripe.PaymentMethod).card?.brand, 'visa');
    const manual = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      payment_method: method.id,
      capture_method: 'manual',
      confirm: true,
      metadata: { expand_search: run },
    });
    const captured = await stripe.paymentIntents.capture(manual.id, {
      expand: ['payment_method'],
    });
    assert.equal(captured.status, 'succeeded');
    assert.equal((captured.payment_method as Stripe.PaymentMethod).id, method.id);
    const found = await stripe.paymentIntents.search({
      query: `metadata['expand_search']:'${run}'`,
      expand: ['data.payment_method'],
    });
    assert.deepEqual(
      found.data.map((intent) => (intent.payment_method as Stripe.PaymentMethod).card?.last4),
      ['4242'],
    );
    assertStripeSearchResult(found, 'PaymentIntent');
  });

  test('expand: latest_charge and customer on an intent, nested, in lists; a charge expands its intent', async () => {
    const customer = await stripe.customers.create({ email: 'expand@example.org' });
    const intent = await stripe.paymentIntents.create({
      amount: 2_000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      expand: ['latest_charge', 'customer'],
    });
    const charge = intent.latest_charge as Stripe.Charge;
    assert.equal(charge.object, 'charge');
    assert.equal(charge.payment_intent, intent.id);
    assert.equal(charge.amount_captured, 2_000);
    assert.equal((intent.customer as Stripe.Customer).email, 'expand@example.org');
    assertStripeShape(intent, 'PaymentIntent');

    // Nested: the intent's charge's payment method, as deep as Stripe allows.
    const nested = await stripe.paymentIntents.retrieve(intent.id, {
      expand: ['latest_charge.payment_method'],
    });
    const nestedCharge = nested.latest_charge as Stripe.Charge;
    assert.equal(
      (nestedCharge.payment_method as unknown as Stripe.PaymentMethod).object,
      'payment_method',
    );

    const listed = await stripe.paymentIntents.list({
      customer: customer.id,
      expand: ['data.latest_charge', 'data.customer'],
    });
    assert.deepEqual(
      listed.data.map((each) => (each.latest_charge as Stripe.Charge).id),
      [charge.id],
    );
    assertStripeList(listed, 'PaymentIntent');

    const fromCharge = await stripe.charges.retrieve(charge.id, {
      expand: ['payment_intent', 'customer'],
    });
    assert.equal((fromCharge.payment_intent as Stripe.PaymentIntent).id, intent.id);
    assert.equal((fromCharge.customer as Stripe.Customer).id, customer.id);
    const charges = await stripe.charges.list({
      payment_intent: intent.id,
      expand: ['data.payment_intent'],
    });
    assert.equal((charges.data[0]?.payment_intent as Stripe.PaymentIntent).status, 'succeeded');

    // An erased customer expands to Stripe's deleted stub.
    await stripe.customers.del(customer.id);
    const afterErasure = await stripe.paymentIntents.retrieve(intent.id, { expand: ['customer'] });
    assert.deepEqual(afterErasure.customer, { id: customer.id, object: 'customer', deleted: true });
  });

  test('search customers and charges, and intents by customer, paged through next_page', async () => {
    const tag = `${run}-people`;
    const ada = await stripe.customers.create({
      email: 'ada@example.org',
      name: 'Ada Lovelace',
      metadata: { tag },
    });
    await stripe.customers.create({ email: 'bob@example.org', name: 'Bob', metadata: { tag } });
    const erased = await stripe.customers.create({ name: 'Ada Erased', metadata: { tag } });
    await stripe.customers.del(erased.id);

    const byName = await stripe.customers.search({
      query: `name~'ada' AND metadata['tag']:'${tag}'`,
    });
    assertStripeSearchResult(byName, 'Customer');
    assert.deepEqual(
      byName.data.map((customer) => customer.id),
      [ada.id],
      'the erased Ada is never found',
    );
    const both = await stripe.customers.search({
      query: `metadata['tag']:'${tag}'`,
      limit: 1,
      expand: ['total_count'],
    });
    assert.equal(both.total_count, 2);
    assert.equal(both.has_more, true);
    const rest = await stripe.customers.search({
      query: `metadata['tag']:'${tag}'`,
      page: String(both.next_page),
    });
    assert.deepEqual([...both.data, ...rest.data].map((customer) => customer.email).sort(), [
      'ada@example.org',
      'bob@example.org',
    ]);

    const paid = await stripe.paymentIntents.create({
      amount: 3_100,
      currency: 'usd',
      customer: ada.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { tag },
    });
    await assert.rejects(
      stripe.paymentIntents.create({
        amount: 3_200,
        currency: 'usd',
        customer: ada.id,
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
        metadata: { tag },
      }),
      (error: Stripe.errors.StripeError) => error.type === 'StripeCardError',
    );
    const intents = await stripe.paymentIntents.search({ query: `customer:'${ada.id}'` });
    assert.equal(intents.data.length, 2);

    const failed = await stripe.charges.search({
      query: `customer:'${ada.id}' AND status:'failed'`,
      expand: ['data.payment_intent'],
    });
    assertStripeSearchResult(failed, 'Charge');
    // One failed charge per attempt: a soft decline is retried at the next connector.
    assert.ok(failed.data.length >= 1);
    for (const charge of failed.data) {
      assert.equal(charge.status, 'failed');
      assert.equal(charge.failure_code, 'card_declined');
      assert.equal((charge.payment_intent as Stripe.PaymentIntent).amount, 3_200);
    }
    const succeeded = await stripe.charges.search({
      query: `metadata['tag']:'${tag}' AND status:'succeeded' AND amount>=3000`,
    });
    assert.deepEqual(
      succeeded.data.map((charge) => charge.payment_intent),
      [paid.id],
    );
    const ofIntent = await stripe.charges.search({ query: `payment_intent:'${paid.id}'` });
    assert.equal(ofIntent.data[0]?.id, paid.latest_charge);
  });

  test('expand: an unknown or too deep path is an invalid request naming expand, and creates nothing', async () => {
    const before = await stripe.paymentIntents.list({ limit: 100 });
    for (const paths of [['nothing'], ['payment_method.customer.a.b'], ['payment_method.card']]) {
      await assert.rejects(
        stripe.paymentIntents.create({ amount: 100, currency: 'usd', expand: paths }),
        (error) => {
          assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
          assert.equal(error.param, 'expand');
          return true;
        },
      );
    }
    await assert.rejects(
      stripe.paymentIntents.list({ expand: ['payment_method'] }),
      (error: { param?: string }) => error.param === 'expand',
    );
    const afterwards = await stripe.paymentIntents.list({ limit: 100 });
    assert.equal(afterwards.data.length, before.data.length);
  });

  test('lists filter by created: gt, gte, lt, lte and an exact second', async () => {
    const { stripe: own } = await stack.newMerchant('created filters');
    const intent = await own.paymentIntents.create({ amount: 100, currency: 'usd' });
    const at = intent.created;
    const ids = async (created: Stripe.RangeQueryParam | number) =>
      (await own.paymentIntents.list({ created })).data.map((item) => item.id);
    assert.deepEqual(await ids(at), [intent.id]);
    assert.deepEqual(await ids({ gte: at }), [intent.id]);
    assert.deepEqual(await ids({ lte: at }), [intent.id]);
    assert.deepEqual(await ids({ gt: at }), []);
    assert.deepEqual(await ids({ lt: at }), []);
    assert.deepEqual(await ids({ gt: at - 10, lt: at + 10 }), [intent.id]);
    assert.deepEqual(await ids(at + 1), []);
    const events = await own.events.list({ created: { gte: at }, type: 'payment_intent.created' });
    assert.ok(events.data.length >= 1);
    assert.deepEqual((await own.events.list({ created: { gt: at + 60 } })).data, []);
    const confirmed = await own.paymentIntents.confirm(intent.id, {
      payment_method: 'pm_card_visa',
    });
    const refund = await own.refunds.create({ payment_intent: confirmed.id });
    const refunds = await own.refunds.list({ created: { gte: refund.created } });
    assert.deepEqual(
      refunds.data.map((item) => item.id),
      [refund.id],
    );
    assert.deepEqual((await own.refunds.list({ created: { lt: refund.created } })).data, []);
  });
});
