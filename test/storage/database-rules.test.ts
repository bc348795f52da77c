// The money rules the schema enforces on its own (002_ledger.sql), checked with raw SQL that
// bypasses the Ledger code entirely, on embedded PGlite and on the real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ledger } from '../../src/ledger/index.ts';
import type { Database, Queryable } from '../../src/storage/database.ts';
import { errorConstraint, sqlState } from '../../src/storage/database.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { move, standardAccounts } from '../support/ledger-fixtures.ts';

type RawLeg = {
  readonly leg: number;
  readonly accountId: string;
  readonly currency?: string;
  readonly layer?: 'posted' | 'pending';
  readonly direction: 'debit' | 'credit';
  readonly amount: bigint;
};

/** Thrown to roll back a positive control, so that it leaves the shared database as it found it. */
class Rollback extends Error {}

for (const kind of databaseKinds) {
  describe(`database rules on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let database: Database;
    let ledger: Ledger;
    // Raw entries take account sequences far above the Ledger's own (1, 2, …), so they never collide.
    let nextSequence = 1_000_000n;

    before(async () => {
      testDatabase = await openTestDatabase(kind);
      database = testDatabase.database;
      ledger = new Ledger(database);
      await ledger.createAccounts(standardAccounts('usd'));
      await ledger.createAccounts(standardAccounts('eur'));
      await ledger.createAccount({
        id: 'contra:usd',
        type: 'asset',
        currency: 'usd',
        owner: 'platform',
        limit: 'credits_must_not_exceed_debits',
      });
      await ledger.createAccount({
        id: 'scratch:usd',
        type: 'asset',
        currency: 'usd',
        owner: 'platform',
      });
      await ledger.transfer({
        kind: 'posted',
        id: 'fund-a',
        legs: move('bank:usd', 'merchant:a:available:usd', 10_000n),
      });
      await ledger.transfer({
        kind: 'posted',
        id: 'fund-contra',
        legs: move('contra:usd', 'bank:usd', 500n),
      });
    });
    after(() => testDatabase.drop());

    async function insertTransaction(tx: Queryable, id: string): Promise<void> {
      await tx.query(
        `INSERT INTO ledger_transactions (id, kind, request) VALUES ($1, 'posted', '{}'::jsonb)`,
        [id],
      );
    }

    /** One INSERT statement per leg: the balance check must wait for COMMIT to see them all. */
    async function insertEntries(
      tx: Queryable,
      transactionId: string,
      legs: readonly RawLeg[],
    ): Promise<void> {
      for (const leg of legs) {
        await tx.query(
          `INSERT INTO ledger_entries (transaction_id, leg, account_id, currency, layer, direction, amount, account_sequence,
             posted_debits_after, posted_credits_after, pending_debits_after, pending_credits_after, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, 0, '\\x00'::bytea)`,
          [
            transactionId,
            leg.leg,
            leg.accountId,
            leg.currency ?? 'usd',
            leg.layer ?? 'posted',
            leg.direction,
            leg.amount,
            nextSequence++,
          ],
        );
      }
    }

    async function count(sql: string, parameters: readonly unknown[] = []): Promise<bigint> {
      const result = await database.query<{ n: bigint }>(
        `SELECT count(*) AS n FROM ${sql}`,
        parameters,
      );
      return result.rows[0]?.n ?? -1n;
    }

    async function leftovers(
      transactionId: string,
    ): Promise<{ transactions: bigint; entries: bigint }> {
      return {
        transactions: await count('ledger_transactions WHERE id = $1', [transactionId]),
        entries: await count('ledger_entries WHERE transaction_id = $1', [transactionId]),
      };
    }

    async function refused(
      promise: Promise<unknown>,
      code: string,
      message: RegExp,
      constraint?: string,
    ): Promise<void> {
      await assert.rejects(promise, (error: unknown) => {
        assert.equal(sqlState(error), code, `expected SQLSTATE ${code}, got ${String(error)}`);
        assert.match((error as Error).message, message);
        if (constraint !== undefined) assert.equal(errorConstraint(error), constraint);
        return true;
      });
    }

    /** Runs `work` in a transaction that is then rolled back; `work` must succeed. */
    async function acceptedThenRolledBack(work: (tx: Queryable) => Promise<void>): Promise<void> {
      await assert.rejects(
        database.transaction(async (tx) => {
          await work(tx);
          throw new Rollback('positive control done');
        }),
        Rollback,
      );
    }

    /** Everything in the four ledger tables, to show that a refused statement changed nothing. */
    async function ledgerSnapshot(): Promise<string> {
      const parts: string[] = [];
      for (const table of [
        'ledger_accounts',
        'ledger_transactions',
        'ledger_entries',
        'ledger_holds',
      ]) {
        const result = await database.query(`SELECT * FROM ${table} ORDER BY 1, 2`);
        parts.push(
          JSON.stringify(result.rows, (_, value) =>
            typeof value === 'bigint' ? value.toString() : value,
          ),
        );
      }
      return parts.join('\n');
    }

    describe('every ledger transaction balances (checked at COMMIT)', () => {
      test('debits ≠ credits: the inserts succeed, COMMIT fails, and nothing remains', async () => {
        let insertsDone = false;
        await refused(
          database.transaction(async (tx) => {
            await insertTransaction(tx, 'raw-unbalanced');
            await insertEntries(tx, 'raw-unbalanced', [
              { leg: 0, accountId: 'bank:usd', direction: 'debit', amount: 100n },
              { leg: 1, accountId: 'merchant:b:available:usd', direction: 'credit', amount: 90n },
            ]);
            const inside = await tx.query<{ n: bigint }>(
              'SELECT count(*) AS n FROM ledger_entries WHERE transaction_id = $1',
              ['raw-unbalanced'],
            );
            assert.equal(inside.rows[0]?.n, 2n);
            insertsDone = true;
          }),
          '23514',
          /ledger transaction raw-unbalanced does not balance in usd \(posted layer\)/,
        );
        assert.ok(
          insertsDone,
          'both legs were accepted statement by statement: the check is deferred to COMMIT',
        );
        assert.deepEqual(await leftovers('raw-unbalanced'), { transactions: 0n, entries: 0n });
      });

      test('two currencies that each do not balance are refused, although the grand totals match', async () => {
        await refused(
          database.transaction(async (tx) => {
            await insertTransaction(tx, 'raw-two-currencies');
            await insertEntries(tx, 'raw-two-currencies', [
              { leg: 0, accountId: 'bank:usd', direction: 'debit', amount: 100n },
              { leg: 1, accountId: 'merchant:b:available:usd', direction: 'credit', amount: 90n },
              { leg: 2, accountId: 'bank:eur', currency: 'eur', direction: 'debit', amount: 50n },
              {
                leg: 3,
                accountId: 'merchant:b:available:eur',
                currency: 'eur',
                direction: 'credit',
                amount: 60n,
              },
            ]);
          }),
          '23514',
          /ledger transaction raw-two-currencies does not balance in (usd|eur) \(posted layer\)/,
        );
        assert.deepEqual(await leftovers('raw-two-currencies'), { transactions: 0n, entries: 0n });
      });

      test('one currency balanced, the other not, is refused and names the unbalanced one', async () => {
        await refused(
          database.transaction(async (tx) => {
            await insertTransaction(tx, 'raw-eur-off');
            await insertEntries(tx, 'raw-eur-off', [
              { leg: 0, accountId: 'bank:usd', direction: 'debit', amount: 100n },
              { leg: 1, accountId: 'merchant:b:available:usd', direction: 'credit', amount: 100n },
              { leg: 2, accountId: 'bank:eur', currency: 'eur', direction: 'debit', amount: 50n },
              {
                leg: 3,
                accountId: 'merchant:b:available:eur',
                currency: 'eur',
                direction: 'credit',
                amount: 49n,
              },
            ]);
          }),
          '23514',
          /does not balance in eur \(posted layer\)/,
        );
        assert.deepEqual(await leftovers('raw-eur-off'), { transactions: 0n, entries: 0n });
      });

      test('a debit on the posted layer cannot be balanced by a credit on the pending layer', async () => {
        await refused(
          database.transaction(async (tx) => {
            await insertTransaction(tx, 'raw-layers');
            await insertEntries(tx, 'raw-layers', [
              { leg: 0, accountId: 'bank:usd', direction: 'debit', amount: 100n },
              {
                leg: 1,
                accountId: 'merchant:b:available:usd',
                layer: 'pending',
                direction: 'credit',
                amount: 100n,
              },
            ]);
          }),
          '23514',
          /ledger transaction raw-layers does not balance in usd \((posted|pending) layer\)/,
        );
        assert.deepEqual(await leftovers('raw-layers'), { transactions: 0n, entries: 0n });
      });

      // The trigger only fires for the row with leg = 0; nothing requires a transaction to have one.
      test('an unbalanced transaction whose legs do not start at 0 is refused too', async () => {
        await refused(
          database.transaction(async (tx) => {
            await insertTransaction(tx, 'raw-no-leg-0');
            await insertEntries(tx, 'raw-no-leg-0', [
              { leg: 1, accountId: 'bank:usd', direction: 'debit', amount: 100n },
              { leg: 2, accountId: 'merchant:b:available:usd', direction: 'credit', amount: 1n },
            ]);
          }),
          '23514',
          /ledger transaction raw-no-leg-0 does not balance in usd \(posted layer\)/,
        );
        assert.deepEqual(await leftovers('raw-no-leg-0'), { transactions: 0n, entries: 0n });
      });

      test('a balanced raw insert, legs in several statements and currencies, is accepted', async () => {
        await database.transaction(async (tx) => {
          await insertTransaction(tx, 'raw-balanced');
          await insertEntries(tx, 'raw-balanced', [
            { leg: 0, accountId: 'bank:usd', direction: 'debit', amount: 100n },
            { leg: 1, accountId: 'merchant:b:available:usd', direction: 'credit', amount: 60n },
            { leg: 2, accountId: 'platform:fees:usd', direction: 'credit', amount: 40n },
            { leg: 3, accountId: 'bank:eur', currency: 'eur', direction: 'debit', amount: 7n },
            {
              leg: 4,
              accountId: 'merchant:b:available:eur',
              currency: 'eur',
              direction: 'credit',
              amount: 7n,
            },
          ]);
        });
        assert.deepEqual(await leftovers('raw-balanced'), { transactions: 1n, entries: 5n });
      });
    });

    describe('a committed ledger transaction cannot be extended', () => {
      test('one extra leg in a later database transaction is refused', async () => {
        const before = await ledgerSnapshot();
        await refused(
          database.transaction(async (tx) => {
            await insertEntries(tx, 'fund-a', [
              { leg: 2, accountId: 'bank:usd', direction: 'debit', amount: 1n },
            ]);
          }),
          '23514',
          /entries can only be added in the database transaction that created their ledger transaction/,
        );
        // Outside an explicit transaction (autocommit) as well.
        await refused(
          insertEntries(database, 'fund-a', [
            { leg: 2, accountId: 'bank:usd', direction: 'debit', amount: 1n },
          ]),
          '23514',
          /entries can only be added in the database transaction that created their ledger transaction/,
        );
        assert.equal(await ledgerSnapshot(), before);
      });

      test('a balanced pair of extra legs is refused as well (the balance check alone would pass it)', async () => {
        const before = await ledgerSnapshot();
        await refused(
          database.transaction(async (tx) => {
            await insertEntries(tx, 'fund-a', [
              { leg: 2, accountId: 'merchant:a:available:usd', direction: 'debit', amount: 5_000n },
              {
                leg: 3,
                accountId: 'merchant:b:available:usd',
                direction: 'credit',
                amount: 5_000n,
              },
            ]);
          }),
          '23514',
          /entries can only be added in the database transaction that created their ledger transaction/,
        );
        assert.equal(await count('ledger_entries WHERE transaction_id = $1', ['fund-a']), 2n);
        assert.equal(await ledgerSnapshot(), before);
      });
    });

    describe('entries refer to real transactions and accounts of their currency (checked per statement)', () => {
      test('an entry for a missing ledger transaction, a missing account, or another currency is refused', async () => {
        const before = await ledgerSnapshot();
        await refused(
          database.transaction(async (tx) =>
            insertEntries(tx, 'no-such-transaction', [
              { leg: 0, accountId: 'bank:usd', direction: 'debit', amount: 1n },
            ]),
          ),
          '23503',
          /ledger transaction no-such-transaction, which does not exist/,
        );
        await refused(
          database.transaction(async (tx) => {
            await insertTransaction(tx, 'ref-missing-account');
            await insertEntries(tx, 'ref-missing-account', [
              { leg: 0, accountId: 'nobody:usd', direction: 'debit', amount: 1n },
            ]);
          }),
          '23503',
          /ledger account nobody:usd, which does not exist/,
        );
        await refused(
          database.transaction(async (tx) => {
            await insertTransaction(tx, 'ref-wrong-currency');
            await insertEntries(tx, 'ref-wrong-currency', [
              { leg: 0, accountId: 'bank:usd', direction: 'debit', amount: 1n, currency: 'eur' },
              { leg: 1, accountId: 'bank:eur', direction: 'credit', amount: 1n, currency: 'eur' },
            ]);
          }),
          '23514',
          /entry currency differs from the currency of ledger account bank:usd/,
        );
        assert.equal(await ledgerSnapshot(), before);
      });

      test('accounts cannot be deleted or truncated', async () => {
        const before = await ledgerSnapshot();
        await refused(
          database.query("DELETE FROM ledger_accounts WHERE id = 'scratch:usd'"),
          'P0001',
          /append-only/,
        );
        await refused(database.query('TRUNCATE ledger_accounts CASCADE'), 'P0001', /append-only/);
        assert.equal(await ledgerSnapshot(), before);
      });
    });

    describe('entries and transactions are append-only', () => {
      const refusedStatements: [string, string, RegExp][] = [
        [
          "UPDATE ledger_entries SET amount = amount + 1 WHERE transaction_id = 'fund-a'",
          'P0001',
          /ledger table ledger_entries is append-only: UPDATE is refused/,
        ],
        [
          "UPDATE ledger_entries SET hash = '\\x01'::bytea WHERE transaction_id = 'fund-a' AND leg = 1",
          'P0001',
          /ledger table ledger_entries is append-only: UPDATE is refused/,
        ],
        [
          "DELETE FROM ledger_entries WHERE transaction_id = 'fund-a'",
          'P0001',
          /ledger table ledger_entries is append-only: DELETE is refused/,
        ],
        [
          'DELETE FROM ledger_entries',
          'P0001',
          /ledger table ledger_entries is append-only: DELETE is refused/,
        ],
        [
          "UPDATE ledger_transactions SET description = 'changed' WHERE id = 'fund-a'",
          'P0001',
          /ledger table ledger_transactions is append-only: UPDATE is refused/,
        ],
        [
          "DELETE FROM ledger_transactions WHERE id = 'fund-a'",
          'P0001',
          /ledger table ledger_transactions is append-only: DELETE is refused/,
        ],
        [
          'TRUNCATE ledger_entries',
          'P0001',
          /ledger table ledger_entries is append-only: TRUNCATE is refused/,
        ],
        // Without CASCADE the foreign keys refuse it first; with CASCADE the truncate triggers do.
        [
          'TRUNCATE ledger_transactions',
          '0A000',
          /cannot truncate a table referenced in a foreign key constraint/,
        ],
        [
          'TRUNCATE ledger_transactions CASCADE',
          'P0001',
          /ledger table ledger_(transactions|entries) is append-only: TRUNCATE is refused/,
        ],
        [
          'TRUNCATE ledger_entries, ledger_holds, ledger_transactions',
          'P0001',
          /ledger table ledger_(transactions|entries) is append-only: TRUNCATE is refused/,
        ],
      ];
      for (const [sql, code, message] of refusedStatements) {
        test(`refused: ${sql}`, async () => {
          const before = await ledgerSnapshot();
          assert.ok(
            (await count('ledger_entries')) > 0n && (await count('ledger_transactions')) > 0n,
          );
          await refused(database.query(sql), code, message);
          await refused(
            database.transaction((tx) => tx.query(sql)),
            code,
            message,
          );
          assert.equal(await ledgerSnapshot(), before);
        });
      }

      test('an UPDATE that matches no row is not an error (the trigger is per row)', async () => {
        const result = await database.query(
          'UPDATE ledger_entries SET amount = 1 WHERE transaction_id = $1',
          ['no-such-transaction'],
        );
        assert.equal(result.rowCount, 0);
      });
    });

    describe('holds move once, from pending to a final state', () => {
      before(async () => {
        await ledger.transfer({
          kind: 'pending',
          id: 'hold-voided',
          legs: move('bank:usd', 'merchant:b:available:usd', 100n),
        });
        await ledger.transfer({
          kind: 'void_pending',
          id: 'hold-voided-void',
          pendingId: 'hold-voided',
        });
        await ledger.transfer({
          kind: 'pending',
          id: 'hold-posted',
          legs: move('bank:usd', 'merchant:b:available:usd', 100n),
        });
        await ledger.transfer({
          kind: 'post_pending',
          id: 'hold-posted-post',
          pendingId: 'hold-posted',
        });
        await ledger.transfer({
          kind: 'pending',
          id: 'hold-open',
          legs: move('bank:usd', 'merchant:b:available:usd', 100n),
        });
      });

      test('the fixture holds are in the expected states', async () => {
        assert.equal((await ledger.getHold('hold-voided'))?.status, 'voided');
        assert.equal((await ledger.getHold('hold-posted'))?.status, 'posted');
        assert.equal((await ledger.getHold('hold-open'))?.status, 'pending');
      });

      test('a final hold cannot go back to pending', async () => {
        const before = await ledgerSnapshot();
        for (const id of ['hold-voided', 'hold-posted']) {
          await refused(
            database.query(
              `UPDATE ledger_holds SET status = 'pending', resolved_by = NULL WHERE transaction_id = $1`,
              [id],
            ),
            'P0001',
            new RegExp(`ledger hold ${id} can only move once from pending to a final state`),
          );
        }
        assert.equal(await ledgerSnapshot(), before);
      });

      test('a final hold cannot move to another final state', async () => {
        const before = await ledgerSnapshot();
        await refused(
          database.query(
            `UPDATE ledger_holds SET status = 'posted', resolved_by = 'hold-posted-post' WHERE transaction_id = 'hold-voided'`,
          ),
          'P0001',
          /ledger hold hold-voided can only move once/,
        );
        await refused(
          database.query(
            `UPDATE ledger_holds SET status = 'expired' WHERE transaction_id = 'hold-posted'`,
          ),
          'P0001',
          /ledger hold hold-posted can only move once/,
        );
        assert.equal(await ledgerSnapshot(), before);
      });

      test('a pending hold may move to a final state (positive control)', async () => {
        await acceptedThenRolledBack(async (tx) => {
          const result = await tx.query(
            `UPDATE ledger_holds SET status = 'voided', resolved_by = 'hold-voided-void' WHERE transaction_id = 'hold-open'`,
          );
          assert.equal(result.rowCount, 1);
        });
        assert.equal((await ledger.getHold('hold-open'))?.status, 'pending');
      });

      test('a hold cannot be deleted', async () => {
        const before = await ledgerSnapshot();
        await refused(
          database.query(`DELETE FROM ledger_holds WHERE transaction_id = 'hold-voided'`),
          'P0001',
          /ledger hold hold-voided can only move once/,
        );
        await refused(
          database.query(`DELETE FROM ledger_holds WHERE transaction_id = 'hold-open'`),
          'P0001',
          /ledger hold hold-open can only move once/,
        );
        assert.equal(await ledgerSnapshot(), before);
      });

      // TRUNCATE does not fire row-level DELETE triggers, and ledger_holds has no TRUNCATE trigger.
      test('the holds cannot be wiped with TRUNCATE', async () => {
        const before = await ledgerSnapshot();
        let error: unknown;
        try {
          await database.transaction(async (tx) => {
            await tx.query('TRUNCATE ledger_holds');
            // If the database let it through, undo it so the other tests keep their holds.
            throw new Rollback('TRUNCATE ledger_holds was accepted');
          });
        } catch (caught) {
          error = caught;
        }
        assert.equal(await ledgerSnapshot(), before);
        assert.ok(
          !(error instanceof Rollback),
          'TRUNCATE ledger_holds was accepted by the database',
        );
        assert.equal(sqlState(error), 'P0001');
      });
    });

    describe('account limits are CHECK constraints on the balances', () => {
      test('debits above credits on a debits_must_not_exceed_credits account are refused', async () => {
        const before = await ledgerSnapshot();
        const account = 'merchant:a:available:usd';
        await refused(
          database.query(
            'UPDATE ledger_accounts SET posted_debits = posted_credits + 1 WHERE id = $1',
            [account],
          ),
          '23514',
          /violates check constraint "ledger_accounts_debit_limit"/,
          'ledger_accounts_debit_limit',
        );
        // Pending debits count against the limit as well.
        await refused(
          database.query(
            'UPDATE ledger_accounts SET pending_debits = posted_credits - posted_debits + 1 WHERE id = $1',
            [account],
          ),
          '23514',
          /violates check constraint "ledger_accounts_debit_limit"/,
          'ledger_accounts_debit_limit',
        );
        assert.equal(await ledgerSnapshot(), before);
      });

      test('credits above debits on a credits_must_not_exceed_debits account are refused', async () => {
        const before = await ledgerSnapshot();
        await refused(
          database.query(
            'UPDATE ledger_accounts SET posted_credits = posted_debits + 1 WHERE id = $1',
            ['contra:usd'],
          ),
          '23514',
          /violates check constraint "ledger_accounts_credit_limit"/,
          'ledger_accounts_credit_limit',
        );
        await refused(
          database.query(
            'UPDATE ledger_accounts SET pending_credits = posted_debits - posted_credits + 1 WHERE id = $1',
            ['contra:usd'],
          ),
          '23514',
          /violates check constraint "ledger_accounts_credit_limit"/,
          'ledger_accounts_credit_limit',
        );
        assert.equal(await ledgerSnapshot(), before);
      });

      test('reaching the limit exactly, or passing it on an unlimited account, is accepted (positive control)', async () => {
        const before = await ledgerSnapshot();
        await acceptedThenRolledBack(async (tx) => {
          const limited = await tx.query(
            'UPDATE ledger_accounts SET posted_debits = posted_credits, pending_debits = 0 WHERE id = $1',
            ['merchant:a:available:usd'],
          );
          assert.equal(limited.rowCount, 1);
          const unlimited = await tx.query(
            'UPDATE ledger_accounts SET posted_debits = posted_credits + 1000 WHERE id = $1',
            ['scratch:usd'],
          );
          assert.equal(unlimited.rowCount, 1);
        });
        assert.equal(await ledgerSnapshot(), before);
      });
    });
  });
}
