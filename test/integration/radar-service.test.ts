// The Radar service on a real database (PGlite and PostgreSQL): rules and their versions, value
// lists and items (normalized, expiring by the clock), settings, merchant isolation, and the
// cached rule set: compiled once per version, dropped on this process's writes, and another
// process's writes seen within the revalidation interval (an injected clock, no sleeping).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OffsetClock } from '../../src/clock.ts';
import { DomainError } from '../../src/errors.ts';
import { decide } from '../../src/risk/engine.ts';
import { RiskError } from '../../src/risk/errors.ts';
import type { Database } from '../../src/storage/database.ts';
import { defaultRiskWeights } from '../../src/risk/score.ts';
import { RiskService } from '../../src/risk/service.ts';
import type { CompiledRule, RuleAction } from '../../src/risk/types.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { RuleSyntaxError, compileRule } from '../../src/risk/rules/index.ts';

async function createMerchant(database: TestDatabase['database'], id: string): Promise<string> {
  await database.query('INSERT INTO merchants (id, name) VALUES ($1, $2)', [id, id]);
  return id;
}

function refusal(param: string, pattern?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DomainError, String(error));
    assert.equal(error.code, 'parameter_invalid');
    assert.equal(error.param, param, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

for (const kind of databaseKinds) {
  describe(`Radar service on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let merchant: string;
    let other: string;
    let clock: OffsetClock;
    let compiles: number;
    let service: RiskService;
    /** Rule texts the language no longer accepts (as if it got stricter after they were saved). */
    const outlawed = new Set<string>();
    const counting = (text: string): CompiledRule => {
      compiles += 1;
      if (outlawed.has(text)) throw new RuleSyntaxError('no longer accepted', 0);
      return compileRule(text);
    };

    before(async () => {
      testDatabase = await openTestDatabase(kind);
      merchant = await createMerchant(testDatabase.database, 'mch_radarservice1');
      other = await createMerchant(testDatabase.database, 'mch_radarservice2');
      // Real time stands still: only advance() moves the clock.
      const start = Date.now();
      clock = new OffsetClock(() => start);
      compiles = 0;
      service = new RiskService({ database: testDatabase.database, compile: counting, clock });
    });
    after(() => testDatabase.drop());

    test('a rule is created, versioned on change, disabled, and its versions are kept', async () => {
      const created = await service.createRule(merchant, { text: 'block if :amount: > 500' });
      assert.equal(created.version, 1);
      assert.equal(created.action, 'block');
      assert.equal(created.predicate, ':amount: > 500');
      assert.equal(created.mode, 'enforced');
      assert.equal(created.status, 'active');
      const changed = await service.updateRule(merchant, created.id, {
        text: 'review if :amount: > 500',
        mode: 'shadow',
      });
      assert.equal(changed.version, 2);
      assert.equal(changed.action, 'review');
      const same = await service.updateRule(merchant, created.id, { mode: 'shadow' });
      assert.equal(same.version, 2, 'a change that changes nothing is no new version');
      const disabled = await service.disableRule(merchant, created.id);
      assert.equal(disabled.status, 'disabled');
      assert.equal(disabled.version, 3);
      const versions = await service.ruleVersions(merchant, created.id, { limit: 10 });
      assert.deepEqual(
        versions.items.map((version) => [version.version, version.action, version.status]),
        [
          [3, 'review', 'disabled'],
          [2, 'review', 'active'],
          [1, 'block', 'active'],
        ],
      );
      const page = await service.ruleVersions(merchant, created.id, {
        limit: 1,
        startingAfter: 3n,
      });
      assert.deepEqual(
        page.items.map((version) => version.version),
        [2],
      );
      assert.equal(page.hasMore, true);
    });

    test('a bad rule is refused naming rule and the position', async () => {
      await assert.rejects(
        service.createRule(merchant, { text: 'deny if :amount: > 5' }),
        refusal('rule', /position 0/),
      );
      await assert.rejects(
        service.createRule(merchant, { text: 'block if :no_such_attribute: > 5' }),
        refusal('rule', /position 9/),
      );
      await assert.rejects(
        service.createRule(merchant, { text: 'block if :email: in @nowhere' }),
        refusal('rule', /@nowhere/),
      );
      await assert.rejects(
        service.createRule(merchant, { text: `block if :card_bin: = '4242424242424242'` }),
        refusal('rule', /card number/),
      );
      await assert.rejects(
        service.createRule(merchant, { text: `block if ${'x'.repeat(1_000)}` }),
        refusal('rule'),
      );
    });

    test('value lists: normalized values, aliases checked, lists named by rules protected', async () => {
      const emails = await service.createValueList(merchant, {
        alias: 'blocked_emails',
        name: 'Blocked emails',
        itemType: 'email',
      });
      await assert.rejects(
        service.createValueList(merchant, { alias: 'blocked_emails', name: 'Again' }),
        refusal('alias'),
      );
      await assert.rejects(
        service.createValueList(merchant, { alias: 'bad alias!', name: 'x' }),
        refusal('alias'),
      );
      const item = await service.createValueListItem(merchant, {
        valueList: emails.list.id,
        value: '  Jenny@Example.COM ',
      });
      assert.equal(item.value, 'jenny@example.com');
      await assert.rejects(
        service.createValueListItem(merchant, {
          valueList: emails.list.id,
          value: 'JENNY@example.com',
        }),
        refusal('value', /already/),
      );
      await assert.rejects(
        service.createValueListItem(merchant, { valueList: emails.list.id, value: 'no-at-sign' }),
        refusal('value'),
      );
      await assert.rejects(
        service.createValueListItem(merchant, {
          valueList: emails.list.id,
          value: '4242 4242 4242 4242',
        }),
        refusal('value', /card number/),
      );
      const ips = await service.createValueList(merchant, {
        alias: 'bad_ips',
        name: 'IPs',
        itemType: 'ip_address',
      });
      const ip = await service.createValueListItem(merchant, {
        valueList: ips.list.id,
        value: '2001:DB8:0:0:0:0:0:1',
      });
      assert.equal(ip.value, '2001:db8::1');
      const rule = await service.createRule(merchant, {
        text: 'block if :email: in @blocked_emails',
      });
      await assert.rejects(
        service.deleteValueList(merchant, emails.list.id),
        refusal('id', /rule_/),
      );
      await assert.rejects(
        service.updateValueList(merchant, emails.list.id, { alias: 'renamed' }),
        refusal('alias'),
      );
      await service.disableRule(merchant, rule.id);
      const renamed = await service.updateValueList(merchant, emails.list.id, {
        alias: 'renamed',
        name: 'Renamed',
      });
      assert.equal(renamed.list.alias, 'renamed');
      assert.equal(renamed.itemCount, 1);
      assert.equal(renamed.items[0]?.value, 'jenny@example.com');
      await assert.rejects(
        service.updateRule(merchant, rule.id, { status: 'active' }),
        refusal('rule', /@blocked_emails/),
      );
      const found = await service.listValueListItems(
        merchant,
        { valueList: emails.list.id, value: 'JENNY@EXAMPLE.COM' },
        { limit: 10 },
      );
      assert.deepEqual(
        found.items.map((each) => each.id),
        [item.id],
      );
      await service.deleteValueList(merchant, emails.list.id);
      await assert.rejects(
        service.retrieveValueListItem(merchant, item.id),
        (error: unknown) => error instanceof RiskError && error.code === 'resource_missing',
      );
    });

    test('the rule set: active rules in position order, lists with expiry by the clock', async () => {
      const local = await createMerchant(testDatabase.database, 'mch_radarservice3');
      const list = await service.createValueList(local, {
        alias: 'vip',
        name: 'VIP',
        itemType: 'country',
      });
      const now = clock.now(local).getTime();
      await service.createValueListItem(local, { valueList: list.list.id, value: 'de' });
      await service.createValueListItem(local, {
        valueList: list.list.id,
        value: 'FR',
        expiresAt: new Date(now + 60_000),
      });
      const second = await service.createRule(local, {
        text: 'allow if :card_country: in @vip',
        position: 20,
      });
      const first = await service.createRule(local, {
        text: 'review if :amount: > 100',
        mode: 'shadow',
        position: 10,
      });
      const gone = await service.createRule(local, { text: 'block if :amount: > 1' });
      await service.disableRule(local, gone.id);
      const ruleSet = await service.ruleSetFor(local);
      assert.deepEqual(
        ruleSet.rules.map((rule) => [rule.id, rule.mode, rule.compiled.action]),
        [
          [first.id, 'shadow', 'review'],
          [second.id, 'enforced', 'allow'],
        ],
      );
      assert.equal(ruleSet.enabled, true);
      assert.deepEqual(ruleSet.thresholds, { elevated: 65, highest: 75 });
      assert.equal(ruleSet.lists('vip', 'DE'), true);
      assert.equal(ruleSet.lists('vip', 'fr'), true);
      assert.equal(ruleSet.lists('vip', 'US'), false);
      assert.equal(ruleSet.lists('nothing', 'DE'), false);
      clock.advance(60_000, local);
      assert.equal(ruleSet.lists('vip', 'FR'), false, 'expired by the clock, no reload needed');
      assert.equal(ruleSet.lists('vip', 'DE'), true);
      assert.equal(await service.ruleSetFor(local), ruleSet, 'served from the cache');
    });

    test('compiled once per version; a write here is seen at once', async () => {
      const local = await createMerchant(testDatabase.database, 'mch_radarservice4');
      await service.createRule(local, { text: 'block if :amount: > 1' });
      await service.createRule(local, { text: 'review if :amount: > 2' });
      compiles = 0;
      await service.ruleSetFor(local);
      assert.equal(compiles, 2);
      compiles = 0;
      const third = await service.createRule(local, { text: 'review if :amount: > 3' });
      const after = await service.ruleSetFor(local);
      assert.equal(after.rules.length, 3);
      assert.equal(compiles, 1, 'compiled when saved, and handed to the cache');
      await service.disableRule(local, third.id);
      assert.equal((await service.ruleSetFor(local)).rules.length, 2);
    });

    test('another service on the same database sees a write within the revalidation interval', async () => {
      const local = await createMerchant(testDatabase.database, 'mch_radarservice5');
      const remote = new RiskService({
        database: testDatabase.database,
        compile: compileRule,
        clock,
        revalidateMs: 2_000,
      });
      assert.equal((await remote.ruleSetFor(local)).rules.length, 0);
      await service.createRule(local, { text: 'block if :amount: > 1' });
      assert.equal((await remote.ruleSetFor(local)).rules.length, 0, 'still cached');
      clock.advance(1_999);
      assert.equal((await remote.ruleSetFor(local)).rules.length, 0, 'still cached');
      clock.advance(1);
      assert.equal((await remote.ruleSetFor(local)).rules.length, 1, 'revalidated');
      await service.updateSettings(local, { enabled: false });
      clock.advance(2_000);
      assert.equal((await remote.ruleSetFor(local)).enabled, false);
    });

    test('the database out of reach at revalidation: the cached set goes on, told', async () => {
      const local = await createMerchant(testDatabase.database, 'mch_radarservice8');
      const real = testDatabase.database;
      let down = false;
      const refuse = () => Promise.reject(new Error('connection refused'));
      const flaky: Database = {
        kind: real.kind,
        query: (sql, parameters) => (down ? refuse() : real.query(sql, parameters)),
        exec: (sql) => (down ? refuse() : real.exec(sql)),
        transaction: (work, options) => (down ? refuse() : real.transaction(work, options)),
        close: () => Promise.resolve(),
      };
      const told: string[] = [];
      const remote = new RiskService({
        database: flaky,
        compile: compileRule,
        clock,
        onError: (_error, context) => told.push(String(context.during)),
      });
      await service.createRule(local, { text: 'block if :amount: > 1' });
      const cached = await remote.ruleSetFor(local);
      assert.equal(cached.rules.length, 1);
      await service.createRule(local, { text: 'review if :amount: > 2' });
      down = true;
      clock.advance(2_000);
      assert.equal(await remote.ruleSetFor(local), cached, 'the last known set');
      assert.deepEqual(told, ['revalidation']);
      await assert.rejects(remote.ruleSetFor('mch_radarneverloaded'), /connection refused/);
      // A write in that process marks its set stale; the reload fails: the last set goes on.
      down = false;
      const marked = await remote.createRule(local, { text: 'review if :amount: > 3' });
      down = true;
      assert.equal(await remote.ruleSetFor(local), cached);
      assert.deepEqual(told, ['revalidation', 'load']);
      await service.disableRule(local, marked.id);
      down = false;
      clock.advance(2_000);
      assert.equal((await remote.ruleSetFor(local)).rules.length, 2);
    });

    test("the rule set is the engine's input: lists, shadow rules and the decision", async () => {
      const local = await createMerchant(testDatabase.database, 'mch_radarservice9');
      const list = await service.createValueList(local, {
        alias: 'blocked_emails',
        name: 'Blocked',
        itemType: 'email',
      });
      await service.createValueListItem(local, {
        valueList: list.list.id,
        value: 'Fraud@Example.com',
      });
      const shadow = await service.createRule(local, {
        text: 'review if :amount: > 100',
        mode: 'shadow',
      });
      const block = await service.createRule(local, {
        text: 'block if :email: in @blocked_emails',
      });
      const ruleSet = await service.ruleSetFor(local);
      const decision = decide({
        ...ruleSet,
        attributes: { email: 'fraud@example.com', amount: 500, ip_country: 'US' },
        authenticated: false,
        velocityUnavailable: false,
      });
      assert.equal(decision.action, 'block');
      assert.equal(decision.rule?.id, block.id);
      assert.deepEqual(decision.rule?.seen, { email: 'fraud@example.com' });
      assert.ok(
        decision.matched.some((match) => match.id === shadow.id && match.mode === 'shadow'),
      );
      const allowed = decide({
        ...ruleSet,
        attributes: { email: 'jenny@example.com', amount: 50, ip_country: 'US' },
        authenticated: false,
        velocityUnavailable: false,
      });
      assert.equal(allowed.action, 'none');
    });

    test('a saved rule the language no longer accepts is left out, told, and can be disabled', async () => {
      const local = await createMerchant(testDatabase.database, 'mch_radarservice10');
      const kept = await service.createRule(local, { text: 'block if :amount: > 10' });
      const old = await service.createRule(local, { text: 'review if :amount: > 11' });
      outlawed.add('review if :amount: > 11');
      try {
        const told: string[] = [];
        const fresh = new RiskService({
          database: testDatabase.database,
          compile: counting,
          clock,
          onError: (_error, context) => told.push(`${context.during} ${context.rule}`),
        });
        const ruleSet = await fresh.ruleSetFor(local);
        assert.deepEqual(
          ruleSet.rules.map((rule) => rule.id),
          [kept.id],
        );
        assert.deepEqual(told, [`compile ${old.id}`]);
        const disabled = await service.disableRule(local, old.id);
        assert.equal(disabled.status, 'disabled');
        await assert.rejects(
          service.updateRule(local, old.id, { status: 'active' }),
          refusal('rule', /position 0/),
        );
      } finally {
        outlawed.clear();
      }
    });

    test('settings: defaults, partial changes, refusals naming the field', async () => {
      const local = await createMerchant(testDatabase.database, 'mch_radarservice6');
      const initial = await service.settings(local);
      assert.equal(initial.enabled, true);
      assert.equal(initial.weights, null);
      const changed = await service.updateSettings(local, {
        weights: { ip_country_missing: 10 },
        thresholds: { elevated: 50 },
      });
      assert.deepEqual(changed.weights, { ...defaultRiskWeights, ip_country_missing: 10 });
      assert.deepEqual(changed.thresholds, { elevated: 50, highest: 75 });
      await assert.rejects(
        service.updateSettings(local, { thresholds: { elevated: 80 } }),
        refusal('thresholds[elevated]'),
      );
      await assert.rejects(
        service.updateSettings(local, { weights: { ip_country_missing: 101 } }),
        refusal('weights[ip_country_missing]'),
      );
      const ruleSet = await service.ruleSetFor(local);
      assert.deepEqual(ruleSet.weights, { ...defaultRiskWeights, ip_country_missing: 10 });
      await assert.rejects(
        service.updateSettings(local, { weights: { no_such_signal: 1 } }),
        (error: unknown) =>
          error instanceof DomainError && error.param === 'weights[no_such_signal]',
      );
      const reset = await service.updateSettings(local, { weights: null });
      assert.equal(reset.weights, null);
      clock.advance(1);
      assert.deepEqual((await service.ruleSetFor(local)).weights, defaultRiskWeights);
      assert.deepEqual(ruleSet.thresholds, { elevated: 50, highest: 75 });
    });

    test('merchant isolation: another merchant sees none of the rules, lists or items', async () => {
      const rule = await service.createRule(merchant, { text: 'review if :amount: > 7' });
      const list = await service.createValueList(merchant, { alias: 'mine', name: 'Mine' });
      const item = await service.createValueListItem(merchant, {
        valueList: list.list.id,
        value: 'x',
      });
      const missing = (error: unknown) =>
        error instanceof RiskError && error.code === 'resource_missing';
      await assert.rejects(service.retrieveRule(other, rule.id), missing);
      await assert.rejects(service.updateRule(other, rule.id, { mode: 'shadow' }), missing);
      await assert.rejects(service.disableRule(other, rule.id), missing);
      await assert.rejects(service.ruleVersions(other, rule.id, { limit: 10 }), missing);
      await assert.rejects(service.retrieveValueList(other, list.list.id), missing);
      await assert.rejects(service.deleteValueList(other, list.list.id), missing);
      await assert.rejects(service.retrieveValueListItem(other, item.id), missing);
      await assert.rejects(service.deleteValueListItem(other, item.id), missing);
      await assert.rejects(
        service.createValueListItem(other, { valueList: list.list.id, value: 'y' }),
        missing,
      );
      await assert.rejects(
        service.createRule(other, { text: 'block if :email: in @mine' }),
        refusal('rule'),
      );
      assert.equal((await service.listRules(other, {}, { limit: 100 })).items.length, 0);
      assert.equal((await service.listValueLists(other, {}, { limit: 100 })).items.length, 0);
      assert.equal((await service.ruleSetFor(other)).lists('mine', 'x'), false);
    });

    test('at most 100 active rules, also under concurrent creates', async () => {
      const local = await createMerchant(testDatabase.database, 'mch_radarservice7');
      const actions: RuleAction[] = ['block', 'review', 'allow', 'request_3ds'];
      const results = await Promise.allSettled(
        Array.from({ length: 104 }, (_, index) =>
          service.createRule(local, { text: `${actions[index % 4]} if :amount: > ${index}` }),
        ),
      );
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 100);
      assert.equal((await service.ruleSetFor(local)).rules.length, 100);
    });
  });
}
