// Radar over HTTP on a real server: rules (create, versions, disable, bad rules naming the
// position), value lists and items in Stripe's shape (through Stripe's own SDK too), expiry by
// the server's test clock, settings, idempotency keys, merchant isolation and live mode.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { advanceClock } from '../support/clock.ts';
import { createMerchantKey, type Merchant } from '../support/merchants.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';
import { stripeClient } from '../support/stripe.ts';

type Body = Record<string, unknown>;

describe('Radar over HTTP', () => {
  let server: TestServer;
  let shop: Merchant;
  let other: Merchant;

  before(async () => {
    server = await startTestServer('pglite', { LOG_LEVEL: 'warn' });
    shop = await createMerchantKey(server, 'Radar shop');
    other = await createMerchantKey(server, 'Other shop');
  });
  after(() => server.stop());

  const post = (merchant: Merchant, path: string, body: unknown, idempotencyKey?: string) =>
    call(server, 'POST', path, { key: merchant.key, body, idempotencyKey });
  const get = (merchant: Merchant, path: string) =>
    call(server, 'GET', path, { key: merchant.key });

  test('a rule: created, changed into a new version, disabled, versions listed', async () => {
    const created = await post(shop, '/v1/radar/rules', {
      rule: 'block if :card_country: != :ip_country: and :amount_in_usd: > 500',
      description: 'Country mismatch on large payments',
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const rule = created.body as Body;
    assert.equal(rule.object, 'radar.rule');
    assert.match(String(rule.id), /^rule_/);
    assert.equal(rule.action, 'block');
    assert.equal(rule.predicate, ':card_country: != :ip_country: and :amount_in_usd: > 500');
    assert.equal(rule.mode, 'enforced');
    assert.equal(rule.status, 'active');
    assert.equal(rule.version, 1);
    assert.equal(rule.livemode, false);
    const changed = await post(shop, `/v1/radar/rules/${rule.id}`, {
      rule: 'review if :amount_in_usd: > 500',
      mode: 'shadow',
      description: '',
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.version, 2);
    assert.equal(changed.body.action, 'review');
    assert.equal(changed.body.description, null);
    const disabled = await call(server, 'DELETE', `/v1/radar/rules/${rule.id}`, { key: shop.key });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.status, 'disabled');
    assert.equal(disabled.body.version, 3);
    const versions = await get(shop, `/v1/radar/rules/${rule.id}/versions?limit=2`);
    assert.equal(versions.status, 200, JSON.stringify(versions.body));
    assert.deepEqual(
      (versions.body.data as Body[]).map((version) => [version.version, version.status]),
      [
        [3, 'disabled'],
        [2, 'active'],
      ],
    );
    assert.equal(versions.body.has_more, true);
    const first = await get(shop, `/v1/radar/rules/${rule.id}/versions?starting_after=2`);
    assert.deepEqual(
      (first.body.data as Body[]).map((version) => [version.version, version.action]),
      [[1, 'block']],
    );
    const listed = await get(shop, '/v1/radar/rules?status=disabled');
    assert.deepEqual(
      (listed.body.data as Body[]).map((each) => each.id),
      [rule.id],
    );
  });

  test('a bad rule is a 400 naming rule and the position', async () => {
    const unknown = await post(shop, '/v1/radar/rules', { rule: 'block if :nope: > 1' });
    assert.equal(unknown.status, 400);
    const error = unknown.body.error as Body;
    assert.equal(error.code, 'parameter_invalid');
    assert.equal(error.param, 'rule');
    assert.match(String(error.message), /position 9/);
    const typed = await post(shop, '/v1/radar/rules', { rule: "block if :amount: > 'ten'" });
    assert.equal(typed.status, 400);
    assert.equal((typed.body.error as Body).param, 'rule');
    const noList = await post(shop, '/v1/radar/rules', { rule: 'block if :email: in @nobody' });
    assert.equal(noList.status, 400);
    assert.match(String((noList.body.error as Body).message), /@nobody/);
    const tooLong = await post(shop, '/v1/radar/rules', { rule: `block if ${'x'.repeat(1_000)}` });
    assert.equal(tooLong.status, 400);
    assert.equal((tooLong.body.error as Body).param, 'rule');
    const badMode = await post(shop, '/v1/radar/rules', {
      rule: 'block if :amount: > 1',
      mode: 'sometimes',
    });
    assert.equal(badMode.status, 400);
    assert.equal((badMode.body.error as Body).param, 'mode');
  });

  test("value lists and items through Stripe's SDK: normalized values, deleted stubs", async () => {
    const stripe = stripeClient(server, shop.key);
    const list = await stripe.radar.valueLists.create({
      alias: 'blocked_emails',
      name: 'Blocked emails',
      item_type: 'email',
      metadata: { team: 'risk' },
    });
    assert.equal(list.object, 'radar.value_list');
    assert.equal(list.item_type, 'email');
    assert.deepEqual(list.list_items.data, []);
    const item = await stripe.radar.valueListItems.create({
      value_list: list.id,
      value: 'Fraud@Example.com',
    });
    assert.equal(item.object, 'radar.value_list_item');
    assert.equal(item.value, 'fraud@example.com');
    const again = await stripe.radar.valueLists.retrieve(list.id);
    assert.equal(again.list_items.data.length, 1);
    assert.equal(again.list_items.data[0]?.id, item.id);
    const items = await stripe.radar.valueListItems.list({ value_list: list.id });
    assert.deepEqual(
      items.data.map((each) => each.value),
      ['fraud@example.com'],
    );
    const renamed = await stripe.radar.valueLists.update(list.id, { name: 'Emails we block' });
    assert.equal(renamed.name, 'Emails we block');
    const lists = await stripe.radar.valueLists.list({ alias: 'blocked_emails' });
    assert.deepEqual(
      lists.data.map((each) => each.id),
      [list.id],
    );
    const removed = await stripe.radar.valueListItems.del(item.id);
    assert.deepEqual(removed, { id: item.id, object: 'radar.value_list_item', deleted: true });
    const deleted = await stripe.radar.valueLists.del(list.id);
    assert.deepEqual(deleted, { id: list.id, object: 'radar.value_list', deleted: true });
  });

  test('value lists refuse bad values and duplicates, naming the field', async () => {
    const list = await post(shop, '/v1/radar/value_lists', {
      alias: 'countries',
      name: 'Countries',
      item_type: 'country',
    });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const duplicate = await post(shop, '/v1/radar/value_lists', {
      alias: 'countries',
      name: 'Again',
    });
    assert.equal(duplicate.status, 400);
    assert.equal((duplicate.body.error as Body).param, 'alias');
    const bad = await post(shop, '/v1/radar/value_list_items', {
      value_list: list.body.id,
      value: 'Germany',
    });
    assert.equal(bad.status, 400);
    assert.equal((bad.body.error as Body).param, 'value');
    const card = await post(shop, '/v1/radar/value_list_items', {
      value_list: list.body.id,
      value: '4242424242424242',
    });
    assert.equal(card.status, 400);
    assert.doesNotMatch(JSON.stringify(card.body), /4242424242424242/);
    const named = await post(shop, '/v1/radar/value_lists', {
      alias: 'cards',
      name: 'Card 4000 0566 5566 5556',
    });
    assert.equal(named.status, 400);
    assert.equal((named.body.error as Body).param, 'name');
    const described = await post(shop, '/v1/radar/rules', {
      rule: 'block if :amount: > 1',
      description: 'seen with 4000056655665556',
    });
    assert.equal(described.status, 400);
    assert.equal((described.body.error as Body).param, 'description');
    assert.doesNotMatch(JSON.stringify([named.body, described.body]), /5556/);
    server.forbidInLogs('4000056655665556');
    const missing = await post(shop, '/v1/radar/value_list_items', {
      value_list: 'rsl_nothing',
      value: 'DE',
    });
    assert.equal(missing.status, 404);
    assert.equal((missing.body.error as Body).param, 'value_list');
    const past = await post(shop, '/v1/radar/value_list_items', {
      value_list: list.body.id,
      value: 'DE',
      expires_at: 1_000,
    });
    assert.equal(past.status, 400);
    assert.equal((past.body.error as Body).param, 'expires_at');
  });

  test('a rule naming a list keeps the list; an item expires by the clock', async () => {
    const merchant = await createMerchantKey(server, 'Expiry shop');
    const list = await post(merchant, '/v1/radar/value_lists', {
      alias: 'watch',
      name: 'Watch',
      item_type: 'ip_address',
    });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const item = await post(merchant, '/v1/radar/value_list_items', {
      value_list: list.body.id,
      value: '203.0.113.7',
      expires_at: nowSeconds + 3_600,
    });
    assert.equal(item.status, 200, JSON.stringify(item.body));
    assert.equal(item.body.expires_at, nowSeconds + 3_600);
    const rule = await post(merchant, '/v1/radar/rules', {
      rule: 'review if :ip_address: in @watch',
    });
    assert.equal(rule.status, 200, JSON.stringify(rule.body));
    const refused = await call(server, 'DELETE', `/v1/radar/value_lists/${list.body.id}`, {
      key: merchant.key,
    });
    assert.equal(refused.status, 400);
    assert.match(String((refused.body.error as Body).message), new RegExp(String(rule.body.id)));
    const radar = server.context.radar;
    const before = await radar.ruleSetFor(merchant.id);
    assert.equal(before.lists('watch', '203.0.113.7'), true);
    await advanceClock(server, 3_601, { merchant: merchant.id });
    assert.equal(before.lists('watch', '203.0.113.7'), false, 'expired by the clock');
    // Expired, it no longer blocks adding the value again.
    const readded = await post(merchant, '/v1/radar/value_list_items', {
      value_list: list.body.id,
      value: '203.0.113.7',
    });
    assert.equal(readded.status, 200, JSON.stringify(readded.body));
    assert.equal((await radar.ruleSetFor(merchant.id)).lists('watch', '203.0.113.7'), true);
  });

  test('settings: defaults, changes, refusals naming the field', async () => {
    const merchant = await createMerchantKey(server, 'Settings shop');
    const initial = await get(merchant, '/v1/radar/settings');
    assert.equal(initial.status, 200);
    assert.equal(initial.body.object, 'radar.settings');
    assert.equal(initial.body.enabled, true);
    assert.deepEqual(initial.body.thresholds, { elevated: 65, highest: 75 });
    assert.equal(initial.body.weights_customized, false);
    const changed = await post(merchant, '/v1/radar/settings', {
      enabled: false,
      thresholds: { elevated: 60 },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.enabled, false);
    assert.deepEqual(changed.body.thresholds, { elevated: 60, highest: 75 });
    const inverted = await post(merchant, '/v1/radar/settings', { thresholds: { highest: 50 } });
    assert.equal(inverted.status, 400);
    assert.match(String((inverted.body.error as Body).param), /^thresholds\[/);
    const tooHigh = await post(merchant, '/v1/radar/settings', { thresholds: { elevated: 101 } });
    assert.equal(tooHigh.status, 400);
    assert.equal((tooHigh.body.error as Body).param, 'thresholds[elevated]');
    const weighted = await post(merchant, '/v1/radar/settings', { weights: { high_amount: 0 } });
    assert.equal(weighted.status, 200, JSON.stringify(weighted.body));
    assert.equal(weighted.body.weights_customized, true);
    assert.equal((weighted.body.weights as Body).high_amount, 0);
    assert.equal((weighted.body.weights as Body).email_missing, 5, 'the others stay');
    const unknown = await post(merchant, '/v1/radar/settings', { weights: { nope: 1 } });
    assert.equal(unknown.status, 400);
    assert.equal((unknown.body.error as Body).param, 'weights[nope]');
    const ruleSet = await server.context.radar.ruleSetFor(merchant.id);
    assert.equal(ruleSet.enabled, false);
    assert.equal(ruleSet.weights.high_amount, 0);
    const reset = await post(merchant, '/v1/radar/settings', { weights: '' });
    assert.equal(reset.body.weights_customized, false);
    assert.equal((reset.body.weights as Body).high_amount, 15);
  });

  test('an idempotency key replays a create instead of making a second rule', async () => {
    const merchant = await createMerchantKey(server, 'Idempotent shop');
    const body = { rule: 'block if :amount: > 100000' };
    const first = await post(merchant, '/v1/radar/rules', body, 'radar-key-1');
    const second = await post(merchant, '/v1/radar/rules', body, 'radar-key-1');
    assert.equal(first.status, 200);
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    const listed = await get(merchant, '/v1/radar/rules');
    assert.equal((listed.body.data as Body[]).length, 1);
  });

  test("a merchant never sees or touches another's rules, lists or items", async () => {
    const rule = await post(shop, '/v1/radar/rules', { rule: 'review if :amount: > 77' });
    const list = await post(shop, '/v1/radar/value_lists', { alias: 'private', name: 'Private' });
    const item = await post(shop, '/v1/radar/value_list_items', {
      value_list: list.body.id,
      value: 'secret',
    });
    for (const [method, path] of [
      ['GET', `/v1/radar/rules/${rule.body.id}`],
      ['POST', `/v1/radar/rules/${rule.body.id}`],
      ['DELETE', `/v1/radar/rules/${rule.body.id}`],
      ['GET', `/v1/radar/rules/${rule.body.id}/versions`],
      ['GET', `/v1/radar/value_lists/${list.body.id}`],
      ['POST', `/v1/radar/value_lists/${list.body.id}`],
      ['DELETE', `/v1/radar/value_lists/${list.body.id}`],
      ['GET', `/v1/radar/value_list_items?value_list=${list.body.id}`],
      ['GET', `/v1/radar/value_list_items/${item.body.id}`],
      ['DELETE', `/v1/radar/value_list_items/${item.body.id}`],
    ] as const) {
      const answer = await call(server, method, path, {
        key: other.key,
        ...(method === 'POST'
          ? { body: path.includes('value_lists') ? { name: 'Mine now' } : { mode: 'shadow' } }
          : {}),
      });
      assert.equal(answer.status, 404, `${method} ${path}: ${JSON.stringify(answer.body)}`);
    }
    const theirs = await get(other, '/v1/radar/rules');
    assert.deepEqual(theirs.body.data, []);
    const rules = await post(other, '/v1/radar/rules', { rule: 'block if :email: in @private' });
    assert.equal(rules.status, 400);
  });

  test('a live-mode merchant sees livemode: true on every Radar object', async () => {
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name: 'Live shop', livemode: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const live: Merchant = { id: String(created.body.id), key: String(created.body.secret_key) };
    const rule = await post(live, '/v1/radar/rules', { rule: 'block if :amount: > 1' });
    assert.equal(rule.body.livemode, true);
    const list = await post(live, '/v1/radar/value_lists', { alias: 'live', name: 'Live' });
    assert.equal(list.body.livemode, true);
    await post(live, '/v1/radar/value_list_items', { value_list: list.body.id, value: 'x' });
    for (const shown of [
      (await get(live, `/v1/radar/value_lists/${list.body.id}`)).body,
      ((await get(live, '/v1/radar/value_lists')).body.data as Body[])[0],
    ]) {
      const items = (shown?.list_items as { data: Body[] }).data;
      assert.deepEqual(
        items.map((item) => item.livemode),
        [true],
      );
    }
    const settings = await get(live, '/v1/radar/settings');
    assert.equal(settings.body.livemode, true);
  });
});
