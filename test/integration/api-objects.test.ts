// Every API object, made by driving the real server, validates against its schema in
// src/api-objects with the API's own validator (strictly: a field the schema does not name is an
// error too), and every response schema of /openapi.json is one of those schemas. So neither
// what is served nor what is documented can drift from the other. Every list route (found in
// /openapi.json) pages and checks its cursors the same way.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import type { TSchema } from 'typebox';
import * as apiObjects from '../../src/api-objects/index.ts';
import { recordDeadLetter } from '../../src/events/bus/index.ts';
import { createValidator } from '../../src/http/validator.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, testAdminKey, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';
import { seedItems } from '../support/balance-fixtures.ts';
import { addAvailable } from '../payouts/support.ts';

type Json = Record<string, unknown>;

/** The schemas src/api-objects exports, by name (`listOf` builds the list envelopes from them). */
const schemas = new Map(
  Object.entries(apiObjects as Record<string, unknown>).filter(
    (entry): entry is [string, TSchema] =>
      entry[0].endsWith('Schema') && typeof entry[1] === 'object' && entry[1] !== null,
  ),
);

/** A copy of the schema where every object without an explicit rule refuses unknown fields. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Json = Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, strict(value)]),
  );
  if ('properties' in copy && !('additionalProperties' in copy)) copy.additionalProperties = false;
  return copy;
}

const validator = createValidator(false);
const validators = new Map(
  [...schemas].map(([name, schema]) => [name, validator.compile(strict(schema) as object)]),
);
const validated = new Set<string>();

/** The object as a client reads it (JSON) validates against the named schema. */
function assertShape(schemaName: string, object: unknown): void {
  const validate = validators.get(schemaName);
  assert.ok(validate !== undefined, `no schema ${schemaName} in src/api-objects`);
  const wire: unknown = JSON.parse(apiObjects.toJson(object));
  assert.ok(
    validate(wire),
    `${schemaName}: ${validator.errorsText(validate.errors)} in ${JSON.stringify(wire)}`,
  );
  validated.add(schemaName);
}

/** A list answer: the envelope, and every item against the item's schema. */
function assertList(itemSchemaName: string, body: Json): Json[] {
  assert.equal(body.object, 'list', JSON.stringify(body));
  assert.equal(typeof body.has_more, 'boolean');
  assert.equal(typeof body.url, 'string');
  const data = body.data as Json[];
  for (const item of data) assertShape(itemSchemaName, item);
  return data;
}

/** An event's object is the API object of its type, presented by the same presenter. */
const eventObjectSchemas: Readonly<Record<string, string>> = {
  payment_intent: 'PaymentIntentSchema',
  refund: 'RefundSchema',
  charge: 'ChargeSchema',
  payout: 'PayoutSchema',
  balance_availability: 'BalanceAvailabilitySchema',
  settlement_share: 'SettlementShareSchema',
  reconciliation_exception: 'ReconciliationExceptionSchema',
};

/**
 * Each API object's schema (and its list envelope) as the OpenAPI document writes it: the OpenAPI
 * plugin rewrites some keywords (`const` as `enum`, …), so the forms come from the same plugin.
 */
async function openApiForms(objects: readonly TSchema[]): Promise<Set<string>> {
  const app = Fastify();
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: { openapi: '3.1.0', info: { title: 't', version: '1' } },
  });
  const all = objects.flatMap((schema) => [schema, apiObjects.listOf(schema)]);
  all.forEach((schema, index) =>
    app.get(`/form${index}`, { schema: { response: { 200: schema } } }, async () => ({})),
  );
  await app.ready();
  const document = app.swagger() as unknown as {
    paths: Record<string, { get: { responses: Record<string, Json> } }>;
  };
  const forms = Object.values(document.paths).map((operation) =>
    JSON.stringify(
      (operation.get.responses['200']?.content as Record<string, { schema: unknown }>)[
        'application/json'
      ]?.schema,
    ),
  );
  await app.close();
  return new Set(forms);
}

/** The item schema of every list route. */
const schemaOfList = new Map([
  ['/v1/admin/merchants', 'MerchantSchema'],
  ['/v1/admin/ledger/accounts', 'LedgerAccountSchema'],
  ['/v1/admin/dead_letters', 'DeadLetterSchema'],
  ['/v1/admin/settlement/batches', 'SettlementBatchSchema'],
  ['/v1/payment_intents', 'PaymentIntentSchema'],
  ['/v1/refunds', 'RefundSchema'],
  ['/v1/charges', 'ChargeSchema'],
  ['/v1/balance_transactions', 'BalanceTransactionSchema'],
  ['/v1/events', 'EventSchema'],
  ['/v1/ledger/accounts', 'LedgerAccountSchema'],
  ['/v1/ledger/accounts/{id}/entries', 'LedgerEntrySchema'],
  ['/v1/admin/ledger/accounts/{id}/entries', 'LedgerEntrySchema'],
  ['/v1/webhook_endpoints', 'WebhookEndpointSchema'],
  ['/v1/webhook_endpoints/{id}/deliveries', 'WebhookDeliverySchema'],
  ['/v1/bank_accounts', 'BankAccountSchema'],
  ['/v1/payouts', 'PayoutSchema'],
  ['/v1/admin/events', 'EventSchema'],
  ['/v1/admin/webhook_endpoints', 'WebhookEndpointSchema'],
  ['/v1/admin/webhook_endpoints/{id}/deliveries', 'WebhookDeliverySchema'],
  ['/v1/reconciliation/runs', 'ReconciliationRunSchema'],
  ['/v1/reconciliation/exceptions', 'ReconciliationExceptionSchema'],
  ['/v1/customers', 'CustomerSchema'],
  ['/v1/customers/{id}/payment_methods', 'PaymentMethodSchema'],
  ['/v1/payment_methods', 'PaymentMethodSchema'],
  ['/v1/setup_intents', 'SetupIntentSchema'],
  ['/v1/radar/rules', 'RadarRuleSchema'],
  ['/v1/radar/rules/{id}/versions', 'RadarRuleVersionSchema'],
  ['/v1/radar/value_lists', 'RadarValueListSchema'],
  ['/v1/radar/value_list_items', 'RadarValueListItemSchema'],
  ['/v1/reviews', 'ReviewSchema'],
  ['/v1/checkout/sessions', 'CheckoutSessionSchema'],
  ['/v1/checkout/sessions/{id}/line_items', 'LineItemSchema'],
  ['/v1/payment_links', 'PaymentLinkSchema'],
  ['/v1/payment_links/{id}/line_items', 'LineItemSchema'],
]);

describe('API objects: what is served and documented is what src/api-objects defines', () => {
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;
  let publishableKey: string;
  let merchantId: string;
  let checkoutSessionId = '';
  let paymentLinkId = '';

  const as = (path: string, method = 'GET', body?: unknown) =>
    call(server, method, path, { key, body });
  const asAdmin = (path: string, method = 'GET', body?: unknown) =>
    call(server, method, path, { key: testAdminKey, body });
  const ok = async (answer: Promise<{ status: number; body: Json }>, status = 200) => {
    const { status: actual, body } = await answer;
    assert.equal(actual, status, JSON.stringify(body));
    return body;
  };

  before(async () => {
    stack = await startSimulatedStack({
      env: {
        PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1', // webhook endpoints on 127.0.0.1
      },
    });
    ({ server } = stack);
    const created = await ok(asAdmin('/v1/admin/merchants', 'POST', { name: 'Shapes' }), 201);
    assertShape('CreatedMerchantSchema', created);
    key = String(created.secret_key);
    publishableKey = String(created.publishable_key);
    merchantId = String(created.id);
  });
  after(() => stack.stop());

  test('merchants, their connectors and prices, and the operator views of the ledger', async () => {
    assertShape('MerchantSchema', await ok(asAdmin(`/v1/admin/merchants/${merchantId}`)));
    assertList('MerchantSchema', await ok(asAdmin('/v1/admin/merchants')));
    const connectors = await ok(asAdmin(`/v1/admin/merchants/${merchantId}/connectors`));
    assert.ok(assertList('MerchantConnectorSchema', connectors).length > 0);
    assertShape(
      'MerchantConnectorSchema',
      await ok(
        // Disabled: the payments below keep the simulator's connectors.
        asAdmin(`/v1/admin/merchants/${merchantId}/connectors/paytm`, 'PUT', {
          enabled: false,
          priority: 1_000,
          base_url: 'https://paytm.example',
          api_key: 'paytm_shapes_0001',
        }),
      ),
    );
    assertList(
      'MerchantPriceSchema',
      await ok(asAdmin(`/v1/admin/merchants/${merchantId}/prices`)),
    );
    assertShape(
      'MerchantPriceSchema',
      await ok(
        asAdmin(`/v1/admin/merchants/${merchantId}/prices/eur`, 'PUT', {
          percent_bps: 150,
          fixed_amount: 10,
        }),
      ),
    );
    assertList('LedgerAccountSchema', await ok(asAdmin('/v1/admin/ledger/accounts')));
    assertShape('LedgerVerificationSchema', await ok(asAdmin('/v1/admin/ledger/verify', 'POST')));
    // A second key for the merchant; the first stays valid (revoke_others false).
    assertShape(
      'ApiKeySchema',
      await ok(asAdmin(`/v1/admin/merchants/${merchantId}/keys`, 'POST', {}), 201),
    );
  });

  test('test clocks', async () => {
    assertShape(
      'TestClockSchema',
      await ok(
        asAdmin('/v1/admin/test_clocks/advance', 'POST', { seconds: 1, merchant: merchantId }),
      ),
    );
    assertShape('TestClocksSchema', await ok(asAdmin('/v1/admin/test_clocks')));
    assertShape(
      'TestClocksSchema',
      await ok(asAdmin('/v1/admin/test_clocks/reset', 'POST', { merchant: merchantId })),
    );
  });

  test('payments: methods, intents with attempts, refunds, the balance, the ledger', async () => {
    const method = await ok(
      as('/v1/payment_methods', 'POST', {
        type: 'card',
        card: { number: '4242424242424242', exp_month: 12, exp_year: 2031 },
        billing_details: { name: 'A. Shape' },
      }),
    );
    assertShape('PaymentMethodSchema', method);
    assertShape('PaymentMethodSchema', await ok(as(`/v1/payment_methods/${String(method.id)}`)));
    const held = await ok(
      as('/v1/payment_intents', 'POST', {
        amount: 5_000,
        currency: 'usd',
        payment_method: method.id,
        capture_method: 'manual',
        confirm: true,
        connector: 'stripe',
        description: 'shapes',
        metadata: { order: '1' },
      }),
    );
    assertShape('PaymentIntentSchema', held);
    assert.equal(held.status, 'requires_capture');
    const paid = await ok(
      as(`/v1/payment_intents/${String(held.id)}/capture`, 'POST', { amount_to_capture: 4_000 }),
    );
    assertShape('PaymentIntentSchema', paid);
    const attempts = paid.attempts as Json[];
    assert.ok(attempts.length > 0);
    for (const attempt of attempts) assertShape('PaymentAttemptSchema', attempt);
    const refund = await ok(
      as('/v1/refunds', 'POST', { payment_intent: paid.id, amount: 1_000, reason: 'duplicate' }),
    );
    assertShape('RefundSchema', refund);
    assertShape('RefundSchema', await ok(as(`/v1/refunds/${String(refund.id)}`)));
    assertList('RefundSchema', await ok(as('/v1/refunds')));
    assertShape(
      'RefundSchema',
      await ok(as(`/v1/refunds/${String(refund.id)}`, 'POST', { metadata: { shape: 'yes' } })),
    );
    const charge = await ok(as(`/v1/charges/${String(paid.latest_charge)}`));
    assertShape('ChargeSchema', charge);
    assert.equal((charge.refunds as Json).object, 'list');
    assertList('ChargeSchema', await ok(as('/v1/charges')));
    const canceled = await ok(
      as(
        `/v1/payment_intents/${String((await ok(as('/v1/payment_intents', 'POST', { amount: 700, currency: 'usd', payment_method: 'pm_card_visa', capture_method: 'manual', confirm: true }))).id)}/cancel`,
        'POST',
        {
          cancellation_reason: 'abandoned',
        },
      ),
    );
    assertShape('PaymentIntentSchema', canceled);
    // What a browser with the publishable key and the client secret sees.
    const browserView = await ok(
      call(
        server,
        'GET',
        `/v1/payment_intents/${String(canceled.id)}?client_secret=${String(canceled.client_secret)}`,
        { key: publishableKey },
      ),
    );
    assertShape('PaymentIntentPublishableSchema', browserView);
    assertShape('PaymentIntentEitherViewSchema', browserView);
    assertShape('PaymentIntentEitherViewSchema', canceled);
    const rolled = await ok(as('/v1/publishable_keys', 'POST', {}));
    assertShape('PublishableKeySchema', rolled);
    publishableKey = String(rolled.publishable_key);
    assertList('PaymentIntentSchema', await ok(as('/v1/payment_intents?limit=100')));
    // Updated, expanded (payment_method becomes the PaymentMethod), searched.
    const updated = await ok(
      as(`/v1/payment_intents/${String(paid.id)}`, 'POST', {
        metadata: { order: '2' },
        expand: ['payment_method'],
      }),
    );
    assertShape('PaymentIntentSchema', updated);
    assertShape('PaymentMethodSchema', updated.payment_method);
    assertList(
      'PaymentIntentSchema',
      await ok(as('/v1/payment_intents?expand[]=data.payment_method&created[gte]=0')),
    );
    const found = await ok(
      as(
        `/v1/payment_intents/search?query=${encodeURIComponent("metadata['order']:'2'")}&expand[]=total_count`,
      ),
    );
    assertShape('PaymentIntentSearchResultSchema', found);
    assert.equal(found.total_count, 1);
    const charges = await ok(
      as(`/v1/charges/search?query=${encodeURIComponent(`payment_intent:'${String(paid.id)}'`)}`),
    );
    assertShape('ChargeSearchResultSchema', charges);
    assert.equal((charges.data as unknown[]).length, 1);
    assertShape('BalanceSchema', await ok(as('/v1/balance')));
    // Balance transactions are settlement's to make: two are written here as it writes them.
    await seedItems(server.context.database, server.context.ledger, [
      { merchantId, type: 'charge', amount: 4_000n, fee: 146n, availableOn: new Date() },
      { merchantId, type: 'refund', amount: 1_000n, availableOn: new Date() },
    ]);
    const items = assertList('BalanceTransactionSchema', await ok(as('/v1/balance_transactions')));
    // The two seeded here, and the capture and refund the payments above made settlement items of.
    assert.equal(items.length, 4);
    assertShape(
      'BalanceTransactionSchema',
      await ok(as(`/v1/balance_transactions/${String(items[0]?.id)}`)),
    );

    const accounts = assertList('LedgerAccountSchema', await ok(as('/v1/ledger/accounts')));
    const account = accounts.find((candidate) => Number(candidate.entry_count) > 0);
    assert.ok(account !== undefined, 'an account with entries');
    assertShape('LedgerAccountSchema', await ok(as(`/v1/ledger/accounts/${String(account.id)}`)));
    const entries = await ok(as(`/v1/ledger/accounts/${String(account.id)}/entries`));
    assert.ok(assertList('LedgerEntrySchema', entries).length > 0);

    // A decline answers with the error object, carrying the intent as the decline left it.
    const declined = await as('/v1/payment_intents', 'POST', {
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_chargeDeclined',
      confirm: true,
    });
    assert.equal(declined.status, 402, JSON.stringify(declined.body));
    assertShape('ErrorSchema', declined.body);
    assertShape('PaymentIntentSchema', declined.body.error?.payment_intent);
    assertShape('ChargeSchema', await ok(as(`/v1/charges/${String(declined.body.error?.charge)}`)));
    assertShape('ErrorSchema', (await as('/v1/refunds/re_missing')).body);
  });

  let customerId = '';

  test('customers, saved cards and SetupIntents', async () => {
    const customer = await ok(
      as('/v1/customers', 'POST', {
        email: 'shape@example.com',
        address: { line1: '1 Shape Street' },
        metadata: { a: 'b' },
      }),
    );
    assertShape('CustomerSchema', customer);
    const customersFound = await ok(
      as(`/v1/customers/search?query=${encodeURIComponent(`email:'${String(customer.email)}'`)}`),
    );
    assertShape('CustomerSearchResultSchema', customersFound);
    assert.equal((customersFound.data as unknown[]).length, 1);
    customerId = String(customer.id);
    assertShape('CustomerOrDeletedSchema', await ok(as(`/v1/customers/${customerId}`)));
    const method = await ok(
      as('/v1/payment_methods/pm_card_visa/attach', 'POST', { customer: customerId }),
    );
    assertShape('PaymentMethodSchema', method);
    assertShape(
      'AddressSchema',
      method.billing_details && (method.billing_details as Json).address,
    );
    assertShape(
      'CustomerSchema',
      await ok(
        as(`/v1/customers/${customerId}`, 'POST', {
          invoice_settings: { default_payment_method: method.id },
        }),
      ),
    );
    assertList('CustomerSchema', await ok(as('/v1/customers')));
    assertList('PaymentMethodSchema', await ok(as(`/v1/customers/${customerId}/payment_methods`)));
    const setup = await ok(
      as('/v1/setup_intents', 'POST', {
        customer: customerId,
        payment_method: 'pm_card_visa',
        confirm: true,
      }),
    );
    assertShape('SetupIntentSchema', setup);
    assertList('SetupIntentSchema', await ok(as('/v1/setup_intents')));
    const gone = await ok(as('/v1/customers', 'POST', { name: 'Gone' }));
    assertShape(
      'DeletedCustomerSchema',
      await ok(as(`/v1/customers/${String(gone.id)}`, 'DELETE')),
    );
  });

  test('payouts: settings, bank accounts, payouts, the operator run', async () => {
    assertShape('PayoutSettingsSchema', await ok(as('/v1/payout_settings')));
    assertShape(
      'PayoutSettingsSchema',
      await ok(as('/v1/payout_settings', 'POST', { minimum_balances: { usd: 10 } })),
    );
    assertShape(
      'PayoutSettingsSchema',
      await ok(
        asAdmin(`/v1/admin/merchants/${merchantId}/payout_settings`, 'PUT', {
          reserve_percent_bps: 0,
        }),
      ),
    );
    const account = await ok(
      as('/v1/bank_accounts', 'POST', {
        currency: 'usd',
        country: 'US',
        account_holder_name: 'Shapes',
        routing_number: '110000000',
        account_number: '000123456789',
      }),
    );
    assertShape('BankAccountSchema', account);
    const spare = await ok(
      as('/v1/bank_accounts', 'POST', {
        currency: 'usd',
        country: 'US',
        account_holder_name: 'Shapes',
        account_number: '000111111113',
      }),
    );
    assertShape('BankAccountSchema', await ok(as(`/v1/bank_accounts/${String(account.id)}`)));
    assertList('BankAccountSchema', await ok(as('/v1/bank_accounts')));
    assertShape(
      'DeletedBankAccountSchema',
      await ok(as(`/v1/bank_accounts/${String(spare.id)}`, 'DELETE')),
    );
    await addAvailable(
      {
        database: server.context.database,
        ledger: server.context.ledger,
        clock: server.runtime.clock,
      },
      merchantId,
      2_000n,
    );
    const payout = await ok(
      as('/v1/payouts', 'POST', { currency: 'usd', amount: 500, metadata: { shape: 'yes' } }),
    );
    assertShape('PayoutSchema', payout);
    assertShape('PayoutSchema', await ok(as(`/v1/payouts/${String(payout.id)}`)));
    assertShape('PayoutSchema', await ok(as(`/v1/payouts/${String(payout.id)}/cancel`, 'POST')));
    assertShape('PayoutSchema', await ok(as('/v1/payouts', 'POST', { currency: 'usd' })));
    assertList('PayoutSchema', await ok(as('/v1/payouts')));
    assertShape(
      'PayoutRunSchema',
      await ok(asAdmin('/v1/admin/payouts/run', 'POST', { create_due: true, send: false })),
    );
  });

  test('events carry the API objects their presenters make', async () => {
    // The seeded balance transactions are due: availability makes them so, with a balance.available.
    await ok(asAdmin('/v1/admin/money_out/run', 'POST', { part: 'settle' }));
    const events = assertList('EventSchema', await ok(as('/v1/events?limit=100')));
    const kinds = new Set<string>();
    for (const event of events) {
      const object = (event.data as { object: Json }).object;
      const schemaName = eventObjectSchemas[String(object.object)];
      assert.ok(
        schemaName !== undefined,
        `an event of an unknown object: ${String(object.object)}`,
      );
      assertShape(schemaName, object);
      kinds.add(String(object.object));
    }
    assert.deepEqual([...kinds].sort(), [
      'balance_availability',
      'charge',
      'payment_intent',
      'payout',
      'refund',
    ]);
    assertShape('EventSchema', await ok(as(`/v1/events/${String(events[0]?.id)}`)));
  });

  test('webhook endpoints and their deliveries', async () => {
    const endpoint = await ok(
      as('/v1/webhook_endpoints', 'POST', {
        // Nothing listens there: the deliveries fail and stay, with their attempts.
        url: 'http://127.0.0.1:9/shapes',
        enabled_events: ['*'],
        description: 'shapes',
      }),
    );
    assertShape('WebhookEndpointSchema', endpoint);
    assert.match(String(endpoint.secret), /^whsec_/);
    const id = String(endpoint.id);
    assertShape(
      'WebhookEndpointSchema',
      await ok(as(`/v1/webhook_endpoints/${id}`, 'POST', { disabled: false })),
    );
    assertList('WebhookEndpointSchema', await ok(as('/v1/webhook_endpoints')));
    await ok(
      as('/v1/payment_intents', 'POST', {
        amount: 300,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
      }),
    );
    const deliveries = await waitFor('a delivery attempted', async () => {
      const page = await ok(as(`/v1/webhook_endpoints/${id}/deliveries`));
      const data = page.data as Json[];
      return data.some((delivery) => Number(delivery.attempt_count) > 0) ? page : undefined;
    });
    const [delivery] = assertList('WebhookDeliverySchema', deliveries);
    assertShape(
      'WebhookDeliverySchema',
      await ok(as(`/v1/webhook_deliveries/${String(delivery?.id)}/retry`, 'POST')),
    );
    assertShape(
      'DeletedWebhookEndpointSchema',
      await ok(as(`/v1/webhook_endpoints/${id}`, 'DELETE')),
    );
  });

  test('routing rules, dead letters and PSP webhook receipts', async () => {
    assertShape('RoutingConfigSchema', await ok(as('/v1/routing')));
    const replaced = await ok(
      as('/v1/routing', 'POST', {
        rules: [
          {
            name: 'eur to stripe',
            conditions: { currency: ['eur'], amount: { min: 1, max: 100_000 } },
            action: { type: 'priority', connectors: ['stripe'] },
          },
        ],
      }),
    );
    assertShape('RoutingConfigSchema', replaced);
    // The rules shown are the request body's own schema: what is accepted is what is shown.
    assertShape('RoutingRulesSchema', replaced.rules);
    const events = (await ok(as('/v1/events?limit=1'))).data as Json[];
    await recordDeadLetter(server.context.database, {
      consumer: 'shapes_consumer',
      eventId: String(events[0]?.id),
      attempts: 3,
      lastError: 'failed in a test',
    });
    const [deadLetter] = assertList(
      'DeadLetterSchema',
      await ok(asAdmin('/v1/admin/dead_letters')),
    );
    const stored = await server.context.deadLetters.get(String(deadLetter?.id));
    assert.ok(stored !== undefined);
    assertShape('DeadLetterSchema', await ok(asAdmin(`/v1/admin/dead_letters/${stored.id}`)));
    // A replay needs the consumer running in this process; its answer is presented here.
    assertShape(
      'DeadLetterReplaySchema',
      apiObjects.presentDeadLetterReplay({ deadLetter: stored, outcome: 'handled' }),
    );
    assertShape('PspWebhookReceiptSchema', apiObjects.presentPspWebhookReceipt(false));
    assertShape('HealthSchema', await ok(call(server, 'GET', '/healthz')));
    assertShape('ReadinessSchema', await ok(call(server, 'GET', '/readyz')));
    assertShape(
      'ReadinessSchema',
      apiObjects.presentReadiness({ ready: false, reason: 'migrations not applied: 099_x.sql' }),
    );
    // Settlement (operator): cutoffs, a run, and a batch as the service reads it.
    const operator = (path: string, method = 'GET', body?: unknown) =>
      ok(call(server, method, path, { key: testAdminKey, body }));
    assertList('SettlementCutoffSchema', await operator('/v1/admin/settlement/cutoffs'));
    assertShape(
      'SettlementCutoffSchema',
      await operator('/v1/admin/settlement/cutoffs/stripe', 'PUT', {
        cutoff_time: '17:00',
        timezone: 'America/New_York',
      }),
    );
    assertShape('SettlementRunSchema', await operator('/v1/admin/settlement/run', 'POST'));
    const run = await operator('/v1/admin/money_out/run', 'POST', { part: 'settle' });
    assertShape('MoneyOutRunSchema', run);
    assert.deepEqual(
      (run.steps as { name: string }[]).map((step) => step.name),
      [
        'settlement_close',
        'settlement_submit',
        'psp_reports',
        'bank_statements',
        'availability',
        'reserve_releases',
      ],
    );
    const at = new Date();
    assertShape(
      'SettlementBatchSchema',
      apiObjects.presentSettlementBatch({
        id: 'sb_0VcrUdxw0001LzcRwBXTG0',
        connector: 'stripe',
        currency: 'usd',
        cutoffAt: at,
        status: 'partially_acknowledged',
        itemCount: 3,
        netAmount: 7_500n,
        acceptedCount: 2,
        rejectedCount: 1,
        acceptedAmount: 5_000n,
        acquirerReference: 'acq_1',
        pspFee: null,
        settlementReference: 'po_1',
        fundedAmount: 0n,
        closedAt: at,
        submittedAt: at,
        acknowledgedAt: at,
        fundedAt: null,
        createdAt: at,
        submissionAttempts: 1,
        submissionLeaseUntil: null,
        lastError: null,
        acquirerHeader: null,
        intakeOpen: false,
      }),
    );
    // What the settlement batch events carry (served by test/integration/money-out.test.ts).
    for (const rejectedCount of [1, null])
      assertShape(
        'SettlementShareSchema',
        apiObjects.presentSettlementShare({
          batch: {
            id: 'sb_0VcrUdxw0001LzcRwBXTG0',
            connector: 'stripe',
            currency: 'usd',
            cutoffAt: at,
            status: rejectedCount === null ? 'funded' : 'partially_acknowledged',
            acknowledgedAt: at,
            fundedAt: rejectedCount === null ? at : null,
          },
          acceptedCount: 2,
          acceptedNet: 4_700n,
          rejectedCount,
        }),
      );
  });

  test('reconciliation: a run, a file and its quarantine, an exception with its history', async () => {
    const run = await ok(asAdmin('/v1/reconciliation/runs', 'POST', { dry_run: true }), 201);
    assertShape('ReconciliationRunSchema', run);
    assertShape(
      'ReconciliationRunSchema',
      await ok(asAdmin(`/v1/reconciliation/runs/${String(run.id)}`)),
    );
    const csv = 'Company Account,Merchant Account\n"a","b"\n';
    const uploaded = await fetch(`${server.url}/v1/reconciliation/files?name=bad.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'text/csv' },
      body: csv,
    });
    const file = (await uploaded.json()) as Json;
    assert.equal(file.status, 'failed', JSON.stringify(file));
    assertShape('ReconciliationFileSchema', file);
    assertShape(
      'ReconciliationFileSchema',
      await ok(asAdmin(`/v1/reconciliation/files/${String(file.id)}`)),
    );
    assertList(
      'ReconciliationQuarantinedRowSchema',
      await ok(asAdmin(`/v1/reconciliation/files/${String(file.id)}/quarantine`)),
    );
    // Exceptions are served by test/integration/reconciliation.test.ts; the same presenter here.
    const at = new Date('2026-12-07T10:00:00Z');
    assertShape(
      'ReconciliationQuarantinedRowSchema',
      apiObjects.presentQuarantinedRow({
        fileId: 'rcf_0123456789',
        line: 3,
        reason: 'amount is a float',
        excerpt: '1.5',
      }),
    );
    assertShape(
      'ReconciliationExceptionSchema',
      apiObjects.presentReconciliationException(
        {
          id: 'rex_0123456789abcdef',
          key: 'missing:item:txn_1',
          runId: String(run.id),
          reason: 'missing',
          source: 'psp_report',
          connector: 'stripe',
          currency: 'usd',
          amount: 1_000n,
          expectationKey: 'item:txn_1',
          recordSource: null,
          recordKey: null,
          groupId: null,
          details: { psp_reference: 'pi_1' },
          status: 'resolved',
          assignee: 'ops@example.com',
          resolution: 'written_off',
          resolutionReason: 'never settled',
          ledgerTransactionId: 'recon_resolution:rex_0123456789abcdef',
          createdAt: at,
          resolvedAt: at,
        },
        at,
        [
          {
            exceptionId: 'rex_0123456789abcdef',
            seq: 1,
            action: 'raised',
            actor: 'system',
            details: {},
            at,
          },
          {
            exceptionId: 'rex_0123456789abcdef',
            seq: 2,
            action: 'resolved',
            actor: 'ops',
            details: {},
            at,
          },
        ],
      ),
    );
    assertShape('ReconciliationHistoryEntrySchema', {
      action: 'raised',
      actor: 'system',
      details: {},
      at: 1,
    });
    assertList('ReconciliationExceptionSchema', await ok(asAdmin('/v1/reconciliation/exceptions')));
    const schedules = assertList(
      'ReconciliationFeeScheduleSchema',
      await ok(asAdmin('/v1/reconciliation/fee_schedules')),
    );
    assert.deepEqual(
      schedules.map((schedule) => [schedule.connector, schedule.source]),
      [
        ['adyen', 'default'],
        ['paytm', 'default'],
        ['razorpay', 'default'],
        ['stripe', 'default'],
      ],
    );
    const set = await ok(
      asAdmin('/v1/reconciliation/fee_schedules/stripe', 'PUT', { commission_bps: 300 }),
    );
    assertShape('ReconciliationFeeScheduleSchema', set);
    assert.deepEqual(
      [set.source, set.commission_bps, set.commission_fixed],
      ['configured', 300, 30],
    );
    const refused = await asAdmin('/v1/reconciliation/fee_schedules/stripe', 'PUT', {
      tax_bps: 10_001,
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error?.param, 'tax_bps');
  });

  test('reviews (a payment a review rule held) and a merchant rate limits', async () => {
    const rule = await ok(as('/v1/radar/rules', 'POST', { rule: 'review if :amount: = 4321' }));
    const held = await ok(
      as('/v1/payment_intents', 'POST', {
        amount: 4_321,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
      }),
    );
    await ok(as(`/v1/radar/rules/${String(rule.id)}`, 'DELETE'));
    assertShape('ReviewSchema', await ok(as(`/v1/reviews/${String(held.review)}`)));
    assertList('ReviewSchema', await ok(as('/v1/reviews')));
    assertShape(
      'ReviewSchema',
      await ok(as(`/v1/reviews/${String(held.review)}/approve`, 'POST', {})),
    );
    assertShape(
      'MerchantRateLimitsSchema',
      await ok(asAdmin(`/v1/admin/merchants/${merchantId}/rate_limits`)),
    );
  });

  let radarRuleId = '';
  test('radar: rules and their versions, value lists and items, settings', async () => {
    const rule = await ok(as('/v1/radar/rules', 'POST', { rule: 'review if :amount: > 100' }));
    assertShape('RadarRuleSchema', rule);
    radarRuleId = String(rule.id);
    assertShape(
      'RadarRuleSchema',
      await ok(as(`/v1/radar/rules/${radarRuleId}`, 'POST', { mode: 'shadow' })),
    );
    assertShape('RadarRuleSchema', await ok(as(`/v1/radar/rules/${radarRuleId}`)));
    assertShape('RadarRuleSchema', await ok(as(`/v1/radar/rules/${radarRuleId}`, 'DELETE')));
    await ok(as('/v1/radar/rules', 'POST', { rule: 'block if :amount: > 100000' }));
    assertList('RadarRuleSchema', await ok(as('/v1/radar/rules')));
    assertList('RadarRuleVersionSchema', await ok(as(`/v1/radar/rules/${radarRuleId}/versions`)));
    const list = await ok(
      as('/v1/radar/value_lists', 'POST', { alias: 'shapes', name: 'Shapes', item_type: 'email' }),
    );
    assertShape('RadarValueListSchema', list);
    const spare = await ok(as('/v1/radar/value_lists', 'POST', { alias: 'spare', name: 'Spare' }));
    for (const value of ['a@shapes.test', 'b@shapes.test'])
      assertShape(
        'RadarValueListItemSchema',
        await ok(as('/v1/radar/value_list_items', 'POST', { value_list: list.id, value })),
      );
    const item = await ok(
      as('/v1/radar/value_list_items', 'POST', {
        value_list: spare.id,
        value: 'x',
        expires_at: Math.floor(Date.now() / 1000) + 3_600,
      }),
    );
    assertShape(
      'RadarValueListItemSchema',
      await ok(as(`/v1/radar/value_list_items/${String(item.id)}`)),
    );
    assertShape('RadarValueListSchema', await ok(as(`/v1/radar/value_lists/${String(list.id)}`)));
    assertShape(
      'RadarValueListSchema',
      await ok(as(`/v1/radar/value_lists/${String(list.id)}`, 'POST', { name: 'Shapes 2' })),
    );
    assertList('RadarValueListSchema', await ok(as('/v1/radar/value_lists')));
    assertList(
      'RadarValueListItemSchema',
      await ok(as(`/v1/radar/value_list_items?value_list=${String(list.id)}`)),
    );
    assertShape(
      'DeletedRadarValueListItemSchema',
      await ok(as(`/v1/radar/value_list_items/${String(item.id)}`, 'DELETE')),
    );
    assertShape(
      'DeletedRadarValueListSchema',
      await ok(as(`/v1/radar/value_lists/${String(spare.id)}`, 'DELETE')),
    );
    assertShape('RadarSettingsSchema', await ok(as('/v1/radar/settings')));
    assertShape(
      'RadarSettingsSchema',
      await ok(as('/v1/radar/settings', 'POST', { thresholds: { elevated: 60 } })),
    );
  });

  test('hosted checkout: sessions, their line items, payment links', async () => {
    const item = (name: string) => ({
      price_data: { currency: 'usd', unit_amount: 700, product_data: { name } },
      quantity: 1,
    });
    const session = await ok(
      as('/v1/checkout/sessions', 'POST', {
        mode: 'payment',
        line_items: [item('One'), item('Two')],
        success_url: 'https://shop.example/done',
      }),
    );
    assertShape('CheckoutSessionSchema', session);
    checkoutSessionId = String(session.id);
    assertList('CheckoutSessionSchema', await ok(as('/v1/checkout/sessions')));
    assertList(
      'LineItemSchema',
      await ok(as(`/v1/checkout/sessions/${checkoutSessionId}/line_items`)),
    );
    const spare = await ok(
      as('/v1/checkout/sessions', 'POST', {
        mode: 'payment',
        line_items: [item('Spare')],
        success_url: 'https://shop.example/done',
      }),
    );
    assertShape(
      'CheckoutSessionSchema',
      await ok(as(`/v1/checkout/sessions/${String(spare.id)}/expire`, 'POST', {})),
    );
    const link = await ok(
      as('/v1/payment_links', 'POST', { line_items: [item('Linked'), item('Also linked')] }),
    );
    assertShape('PaymentLinkSchema', link);
    paymentLinkId = String(link.id);
    assertShape(
      'PaymentLinkSchema',
      await ok(as(`/v1/payment_links/${paymentLinkId}`, 'POST', { active: false })),
    );
    assertList('PaymentLinkSchema', await ok(as('/v1/payment_links')));
    assertList('LineItemSchema', await ok(as(`/v1/payment_links/${paymentLinkId}/line_items`)));
  });

  test('every list route pages and checks its cursors the same way', async () => {
    const document = (await call(server, 'GET', '/openapi.json')).body as {
      paths: Record<string, { get?: { parameters?: { name: string; in: string }[] } }>;
    };
    const lists = Object.entries(document.paths)
      .filter(([, methods]) =>
        (methods.get?.parameters ?? []).some((parameter) => parameter.name === 'starting_after'),
      )
      .map(([path]) => path);
    const account = ((await ok(as('/v1/ledger/accounts'))).data as Json[]).find(
      (candidate) => Number(candidate.entry_count) > 0,
    );
    const endpoint = await ok(
      as('/v1/webhook_endpoints', 'POST', {
        url: 'http://127.0.0.1:9/lists',
        enabled_events: ['*'],
      }),
    );
    const operatorEndpoint = await ok(
      call(server, 'POST', '/v1/admin/webhook_endpoints', {
        key: testAdminKey,
        body: { url: 'http://127.0.0.1:9/operator', enabled_events: ['*'] },
      }),
    );
    const concrete: Readonly<Record<string, string>> = {
      '/v1/admin/webhook_endpoints/{id}/deliveries': `/v1/admin/webhook_endpoints/${String(operatorEndpoint.id)}/deliveries`,
      '/v1/ledger/accounts/{id}/entries': `/v1/ledger/accounts/${String(account?.id)}/entries`,
      '/v1/admin/ledger/accounts/{id}/entries': `/v1/admin/ledger/accounts/${String(account?.id)}/entries`,
      '/v1/webhook_endpoints/{id}/deliveries': `/v1/webhook_endpoints/${String(endpoint.id)}/deliveries`,
      '/v1/customers/{id}/payment_methods': `/v1/customers/${customerId}/payment_methods`,
      '/v1/radar/rules/{id}/versions': `/v1/radar/rules/${radarRuleId}/versions`,
      '/v1/checkout/sessions/{id}/line_items': `/v1/checkout/sessions/${checkoutSessionId}/line_items`,
      '/v1/payment_links/{id}/line_items': `/v1/payment_links/${paymentLinkId}/line_items`,
    };
    // Entries are keyed by their sequence number and rule versions by their number, every other
    // list by an object id.
    const numbered = (path: string) => path.endsWith('/entries') || path.endsWith('/versions');
    const numberOf = (path: string, item: Json | undefined) =>
      String(path.endsWith('/entries') ? item?.sequence : item?.version);
    assert.deepEqual(
      lists.filter((path) => path.includes('{') && concrete[path] === undefined),
      [],
    );
    assert.ok(lists.length >= 9, lists.join(', '));
    for (const path of lists) {
      const url = concrete[path] ?? path;
      const get = (query: string) =>
        call(server, 'GET', `${url}?${query}`, {
          key:
            path.startsWith('/v1/admin/') || path.startsWith('/v1/reconciliation/')
              ? testAdminKey
              : key,
        });
      const missing = numbered(path) ? '999999' : 'obj_missing';
      for (const param of ['starting_after', 'ending_before']) {
        const answer = await get(`${param}=${missing}`);
        assert.equal(answer.status, 404, `${path} ${param}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error?.code, 'resource_missing');
        assert.equal(answer.body.error?.param, param);
      }
      const both = await get(`starting_after=${missing}&ending_before=${missing}`);
      assert.equal(both.status, 400, path);
      assert.equal(both.body.error?.param, 'ending_before', path);
      for (const limit of ['0', '101']) {
        const answer = await get(`limit=${limit}`);
        assert.equal(answer.body.error?.param, 'limit', `${path} limit=${limit}`);
      }
      const first = await get('limit=1');
      assert.equal(first.status, 200, path);
      assertList(String(schemaOfList.get(path)), first.body);
      const [item] = first.body.data as Json[];
      if (item === undefined || first.body.has_more !== true) continue;
      const cursor = numbered(path) ? numberOf(path, item) : String(item.id);
      const second = await get(`limit=1&starting_after=${cursor}`);
      const next = (second.body.data as Json[])[0];
      const back = await get(
        `limit=1&ending_before=${numbered(path) ? numberOf(path, next) : String(next?.id)}`,
      );
      assert.deepEqual(back.body.data, first.body.data, `${path}: back to the first page`);
    }
  });

  test('every schema of src/api-objects was checked against served objects', () => {
    assert.deepEqual(
      [...schemas.keys()].filter((name) => !validated.has(name)).sort(),
      [],
      'add the resource to this test',
    );
  });

  test('every response schema of /openapi.json comes from src/api-objects', async () => {
    const document = (await call(server, 'GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
    };
    const known = await openApiForms([...schemas.values()]);
    const documented: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const content = response.content as
            Record<string, { schema: unknown } | undefined> | undefined;
          const schema = content?.['application/json']?.schema;
          if (schema === undefined) continue;
          documented.push(`${method} ${path} ${status}`);
          assert.ok(
            known.has(JSON.stringify(schema)),
            `${method.toUpperCase()} ${path} ${status}: a response schema not from src/api-objects`,
          );
        }
      }
    }
    assert.ok(documented.length > 50, `only ${documented.length} response schemas documented`);
  });
});
