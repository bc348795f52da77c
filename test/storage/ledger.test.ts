// The ledger suite, run on embedded PGlite and on the real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ledger, LedgerError, verifyLedger, type TransferRequest } from '../../src/ledger/index.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { move, standardAccounts } from '../support/ledger-fixtures.ts';

async function snapshot(testDatabase: TestDatabase): Promise<string> {
  const tables = ['ledger_accounts', 'ledger_transactions', 'ledger_entries', 'ledger_holds'];
  const parts: string[] = [];
  for (const table of tables) {
    const result = await testDatabase.database.query(`SELECT * FROM ${table} ORDER BY 1, 2`);
    parts.push(
      JSON.stringify(result.rows, (_, value) =>
        typeof value === 'bigint' ? value.toString() : value,
      ),
    );
  }
  return parts.join('\n');
}

async function rejects(promise: Promise<unknown>, code: string, param?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LedgerError, `expected LedgerError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (param !== undefined) assert.equal(error.param, param);
    return true;
  });
}

for (const kind of databaseKinds) {
  describe(`ledger on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let ledger: Ledger;
    before(async () => {
      testDatabase = await openTestDatabase(kind);
      ledger = new Ledger(testDatabase.database);
      await ledger.createAccounts(standardAccounts());
      await ledger.createAccounts(standardAccounts('jpy'));
      await ledger.transfer({
        kind: 'posted',
        id: 'fund-a',
        legs: move('bank:usd', 'merchant:a:available:usd', 10_000n),
      });
    });
    after(() => testDatabase.drop());

    test('a posted transfer moves both balances and is listed as entries', async () => {
      const result = await ledger.transfer({
        kind: 'posted',
        id: 'pay-1',
        legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 250n),
        description: 'rent',
        metadata: { order: '42' },
      });
      assert.equal(result.status, 'created');
      assert.equal(result.transaction.description, 'rent');
      assert.deepEqual(result.transaction.metadata, { order: '42' });
      const a = await ledger.getAccount('merchant:a:available:usd');
      const b = await ledger.getAccount('merchant:b:available:usd');
      assert.equal(a?.balance.available, 9_750n);
      assert.equal(b?.balance.posted, 250n);
      const page = await ledger.listEntries('merchant:b:available:usd', { limit: 10 });
      assert.equal(page.entries.length, 1);
      assert.equal(page.entries[0]?.amount, 250n);
      assert.equal(page.entries[0]?.direction, 'credit');
    });

    test('the same id with the same content returns the stored transfer and changes nothing', async () => {
      const request: TransferRequest = {
        kind: 'posted',
        id: 'pay-replay',
        legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 10n),
      };
      const first = await ledger.transfer(request);
      const before = await snapshot(testDatabase);
      const second = await ledger.transfer(request);
      assert.equal(second.status, 'exists');
      assert.deepEqual(second.transaction.legs, first.transaction.legs);
      assert.deepEqual(second.transaction.createdAt, first.transaction.createdAt);
      assert.equal(await snapshot(testDatabase), before);
    });

    test('the same id with different content names the differing field', async () => {
      await ledger.transfer({
        kind: 'posted',
        id: 'pay-conflict',
        legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 10n),
      });
      await rejects(
        ledger.transfer({
          kind: 'posted',
          id: 'pay-conflict',
          legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 11n),
        }),
        'id_conflict',
        'legs[0].amount',
      );
      await rejects(
        ledger.transfer({
          kind: 'posted',
          id: 'pay-conflict',
          legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 10n),
          description: 'x',
        }),
        'id_conflict',
        'description',
      );
    });

    test('bad input gets a typed error naming the field and writes nothing', async () => {
      const before = await snapshot(testDatabase);
      const legs = move('merchant:a:available:usd', 'merchant:b:available:usd', 5n);
      const cases: [TransferRequest, string, string][] = [
        [
          {
            kind: 'posted',
            id: 'bad-1',
            legs: move('bank:usd', 'merchant:a:available:usd', 5n, 'xyz'),
          },
          'unknown_currency',
          'legs[0].currency',
        ],
        [
          { kind: 'posted', id: 'bad-2', legs: move('bank:usd', 'merchant:a:available:usd', 0n) },
          'invalid_amount',
          'legs[0].amount',
        ],
        [
          { kind: 'posted', id: 'bad-3', legs: move('bank:usd', 'merchant:a:available:usd', -5n) },
          'invalid_amount',
          'legs[0].amount',
        ],
        [
          {
            kind: 'posted',
            id: 'bad-4',
            legs: move('bank:usd', 'merchant:a:available:usd', 10n ** 15n),
          },
          'amount_too_large',
          'legs[0].amount',
        ],
        [
          { kind: 'posted', id: 'bad-5', legs: move('bank:usd', 'nobody:usd', 5n) },
          'account_not_found',
          'legs[1].account_id',
        ],
        [
          { kind: 'posted', id: 'bad-6', legs: [legs[0]!, { ...legs[1]!, amount: 4n }] },
          'unbalanced',
          'legs',
        ],
        [
          {
            kind: 'posted',
            id: 'bad-7',
            legs: [
              ...move('bank:usd', 'merchant:a:available:usd', 5n),
              ...move('bank:jpy', 'merchant:a:available:jpy', 6n, 'jpy').map((leg, index) =>
                index === 1 ? { ...leg, amount: 7n } : leg,
              ),
            ],
          },
          'unbalanced',
          'legs',
        ],
        [
          {
            kind: 'posted',
            id: 'bad-8',
            legs: Array.from(
              { length: 34 },
              (_, index) =>
                ({
                  accountId: 'bank:usd',
                  direction: index % 2 === 0 ? 'debit' : 'credit',
                  amount: 1n,
                  currency: 'usd',
                }) as const,
            ),
          },
          'too_many_legs',
          'legs',
        ],
        [{ kind: 'posted', id: 'bad-9', legs: legs.slice(0, 1) }, 'too_few_legs', 'legs'],
        [{ kind: 'posted', id: 'bad 10', legs }, 'invalid_id', 'id'],
        [
          { kind: 'posted', id: 'bad-11', legs: move('bank:usd', 'merchant:a:available:jpy', 5n) },
          'currency_mismatch',
          'legs[1].currency',
        ],
        [
          {
            kind: 'posted',
            id: 'bad-12',
            legs: move('merchant:b:available:usd', 'bank:usd', 10n ** 9n),
          },
          'limit_exceeded',
          'legs[0].amount',
        ],
        [
          { kind: 'post_pending', id: 'bad-13', pendingId: 'no-such-hold' },
          'pending_not_found',
          'pending_id',
        ],
        [{ kind: 'posted', id: 'expire:bad-15', legs }, 'invalid_id', 'id'],
        [
          { kind: 'posted', id: 'bad-14', legs, metadata: { ['k'.repeat(41)]: 'v' } },
          'invalid_request',
          `metadata[${'k'.repeat(41)}]`,
        ],
      ];
      for (const [request, code, param] of cases)
        await rejects(ledger.transfer(request), code, param);
      assert.equal(await snapshot(testDatabase), before);
    });

    test('mixed currencies balance per currency', async () => {
      await ledger.transfer({
        kind: 'posted',
        id: 'fund-jpy',
        legs: move('bank:jpy', 'merchant:a:available:jpy', 900n, 'jpy'),
      });
      const result = await ledger.transfer({
        kind: 'posted',
        id: 'fx-1',
        legs: [
          ...move('merchant:a:available:usd', 'merchant:b:available:usd', 7n),
          ...move('merchant:a:available:jpy', 'merchant:b:available:jpy', 900n, 'jpy'),
        ],
      });
      assert.equal(result.transaction.legs.length, 4);
      assert.equal((await ledger.getAccount('merchant:a:available:jpy'))?.balance.available, 0n);
    });

    test('a hold reserves funds, then posts in part and releases the rest', async () => {
      const a0 = (await ledger.getAccount('merchant:a:available:usd'))!.balance;
      await ledger.transfer({
        kind: 'pending',
        id: 'hold-1',
        legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 1_000n),
      });
      const a1 = (await ledger.getAccount('merchant:a:available:usd'))!.balance;
      assert.equal(a1.posted, a0.posted);
      assert.equal(a1.available, a0.available - 1_000n);
      await rejects(
        ledger.transfer({
          kind: 'post_pending',
          id: 'post-too-much',
          pendingId: 'hold-1',
          amount: 1_001n,
        }),
        'post_exceeds_pending',
        'amount',
      );
      const posted = await ledger.transfer({
        kind: 'post_pending',
        id: 'post-1',
        pendingId: 'hold-1',
        amount: 600n,
      });
      assert.deepEqual(
        posted.transaction.legs.map((leg) => leg.amount),
        [600n, 600n],
      );
      const a2 = (await ledger.getAccount('merchant:a:available:usd'))!.balance;
      assert.equal(a2.posted, a0.posted - 600n);
      assert.equal(a2.available, a0.available - 600n);
      assert.equal(a2.pending, 0n);
      assert.equal((await ledger.getHold('hold-1'))?.status, 'posted');
      await rejects(
        ledger.transfer({ kind: 'void_pending', id: 'void-late', pendingId: 'hold-1' }),
        'pending_already_resolved',
        'pending_id',
      );
    });

    test('a voided hold gives everything back; a hold cannot be posted twice', async () => {
      const a0 = (await ledger.getAccount('merchant:a:available:usd'))!.balance;
      await ledger.transfer({
        kind: 'pending',
        id: 'hold-2',
        legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 300n),
      });
      await ledger.transfer({ kind: 'void_pending', id: 'void-2', pendingId: 'hold-2' });
      assert.deepEqual((await ledger.getAccount('merchant:a:available:usd'))!.balance, a0);
      await rejects(
        ledger.transfer({ kind: 'post_pending', id: 'post-2', pendingId: 'hold-2' }),
        'pending_already_resolved',
      );
    });

    test('holds expire: a post after expiry is refused, the sweep voids them', async () => {
      const now = new Date();
      const a0 = (await ledger.getAccount('merchant:a:available:usd'))!.balance;
      await ledger.transfer({
        kind: 'pending',
        id: 'hold-exp',
        legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 50n),
        expiresAt: new Date(now.getTime() + 60_000),
      });
      await rejects(
        ledger.transfer({ kind: 'expire_pending', id: 'exp-early', pendingId: 'hold-exp' }),
        'hold_not_expired',
      );
      const later = new Date(now.getTime() + 120_000);
      await rejects(
        ledger.transfer(
          { kind: 'post_pending', id: 'post-exp', pendingId: 'hold-exp' },
          { now: later },
        ),
        'hold_expired',
        'pending_id',
      );
      const swept = await ledger.expireHolds({ now: later });
      assert.deepEqual(
        swept.map((result) => result.status),
        ['created'],
      );
      assert.equal((await ledger.getHold('hold-exp'))?.status, 'expired');
      assert.deepEqual((await ledger.getAccount('merchant:a:available:usd'))!.balance, a0);
      assert.deepEqual(await ledger.expireHolds({ now: later }), []);
    });

    test('a post may name explicit legs within the hold', async () => {
      await ledger.transfer({
        kind: 'pending',
        id: 'hold-3',
        legs: [
          {
            accountId: 'merchant:a:available:usd',
            direction: 'debit',
            amount: 100n,
            currency: 'usd',
          },
          {
            accountId: 'merchant:b:available:usd',
            direction: 'credit',
            amount: 97n,
            currency: 'usd',
          },
          { accountId: 'platform:fees:usd', direction: 'credit', amount: 3n, currency: 'usd' },
        ],
      });
      await rejects(
        ledger.transfer({ kind: 'post_pending', id: 'post-3x', pendingId: 'hold-3', amount: 50n }),
        'invalid_request',
        'amount',
      );
      await rejects(
        ledger.transfer({
          kind: 'post_pending',
          id: 'post-3y',
          pendingId: 'hold-3',
          legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 98n),
        }),
        'post_exceeds_pending',
        'legs[1]',
      );
      const result = await ledger.transfer({
        kind: 'post_pending',
        id: 'post-3',
        pendingId: 'hold-3',
        legs: [
          {
            accountId: 'merchant:a:available:usd',
            direction: 'debit',
            amount: 80n,
            currency: 'usd',
          },
          {
            accountId: 'merchant:b:available:usd',
            direction: 'credit',
            amount: 78n,
            currency: 'usd',
          },
          { accountId: 'platform:fees:usd', direction: 'credit', amount: 2n, currency: 'usd' },
        ],
      });
      assert.equal(result.transaction.legs.length, 3);
      assert.equal((await ledger.getAccount('platform:fees:usd'))?.balance.posted, 2n);
    });

    test('a batch commits the good transfers and rejects the bad ones without side effects', async () => {
      const b0 = (await ledger.getAccount('merchant:b:available:usd'))!.balance.posted;
      const results = await ledger.transferBatch([
        { kind: 'posted', id: 'batch-1', legs: move('bank:usd', 'merchant:b:available:usd', 1n) },
        {
          kind: 'posted',
          id: 'batch-2',
          legs: move('merchant:b:available:usd', 'bank:usd', 10n ** 10n),
        },
        { kind: 'posted', id: 'batch-3', legs: move('bank:usd', 'nobody', 1n) },
        { kind: 'posted', id: 'batch-1', legs: move('bank:usd', 'merchant:b:available:usd', 1n) },
        { kind: 'posted', id: 'batch-1', legs: move('bank:usd', 'merchant:b:available:usd', 2n) },
        { kind: 'posted', id: 'batch-4', legs: move('bank:usd', 'merchant:b:available:usd', 2n) },
      ]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['created', 'rejected', 'rejected', 'exists', 'rejected', 'created'],
      );
      assert.equal(results[1]?.status === 'rejected' && results[1].error.code, 'limit_exceeded');
      assert.equal(results[4]?.status === 'rejected' && results[4].error.code, 'id_conflict');
      assert.equal((await ledger.getAccount('merchant:b:available:usd'))!.balance.posted, b0 + 3n);
      assert.equal(await ledger.getTransaction('batch-2'), undefined);
    });

    test('balance as of a time reads the history', async () => {
      await ledger.createAccount({
        id: 'history:usd',
        type: 'liability',
        currency: 'usd',
        owner: 'h',
      });
      await ledger.transfer({
        kind: 'posted',
        id: 'hist-1',
        legs: move('bank:usd', 'history:usd', 100n),
      });
      // Dates have millisecond precision and entry times microseconds: keep clear of the boundary.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const middle = new Date();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await ledger.transfer({
        kind: 'posted',
        id: 'hist-2',
        legs: move('bank:usd', 'history:usd', 50n),
      });
      assert.equal((await ledger.balanceAsOf('history:usd', middle))?.balance.posted, 100n);
      assert.equal((await ledger.balanceAsOf('history:usd', new Date()))?.balance.posted, 150n);
      assert.equal((await ledger.balanceAsOf('history:usd', new Date(0)))?.balance.posted, 0n);
    });

    test('entries page by cursor in both directions', async () => {
      await ledger.createAccount({
        id: 'paged:usd',
        type: 'liability',
        currency: 'usd',
        owner: 'p',
      });
      await ledger.transferBatch(
        Array.from(
          { length: 7 },
          (_, index) =>
            ({
              kind: 'posted',
              id: `paged-${index}`,
              legs: move('bank:usd', 'paged:usd', BigInt(index + 1)),
            }) as const,
        ),
      );
      const first = await ledger.listEntries('paged:usd', { limit: 3 });
      assert.deepEqual(
        first.entries.map((entry) => entry.accountSequence),
        [7n, 6n, 5n],
      );
      assert.equal(first.hasMore, true);
      const second = await ledger.listEntries('paged:usd', { limit: 3, startingAfter: 5n });
      assert.deepEqual(
        second.entries.map((entry) => entry.accountSequence),
        [4n, 3n, 2n],
      );
      const third = await ledger.listEntries('paged:usd', { limit: 3, startingAfter: 2n });
      assert.deepEqual(
        third.entries.map((entry) => entry.accountSequence),
        [1n],
      );
      assert.equal(third.hasMore, false);
      const back = await ledger.listEntries('paged:usd', { limit: 2, endingBefore: 4n });
      assert.deepEqual(
        back.entries.map((entry) => entry.accountSequence),
        [6n, 5n],
      );
    });

    test('an account id cannot be re-created with a different shape', async () => {
      await rejects(
        ledger.createAccount({
          id: 'bank:usd',
          type: 'liability',
          currency: 'usd',
          owner: 'platform',
        }),
        'account_conflict',
        'type',
      );
      const again = await ledger.createAccount({
        id: 'bank:usd',
        type: 'asset',
        currency: 'usd',
        owner: 'platform',
      });
      assert.equal(again.id, 'bank:usd');
    });

    test('verify passes on everything above', async () => {
      const report = await verifyLedger(testDatabase.database);
      assert.deepEqual(report.problems, []);
      assert.equal(report.ok, true);
      assert.ok(report.entries > 20);
    });
  });
}
