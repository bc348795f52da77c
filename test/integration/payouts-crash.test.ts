// SIGKILL at each step of payout sending (fault points payout_after_send_recorded,
// payout_after_bank_call, payout_after_result_recorded): Payrail dies in the operator's payout
// run; the next process sends the payout again under the same id, and the bank (a fake on
// 127.0.0.1, idempotent by payout id like the simulator's) executes it exactly once.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Ledger } from '../../src/ledger/index.ts';
import { systemClock } from '../../src/clock.ts';
import { accountIds } from '../../src/accounts/index.ts';
import type { Database } from '../../src/storage/database.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { withPayrail as runPayrail, type RunningProcess } from '../support/processes.ts';
import { call, testAdminKey } from '../support/server.ts';
import {
  addAvailable,
  paidAccount,
  rejectedAccount,
  startFakeBank,
  type FakeBank,
} from '../payouts/support.ts';

describe('SIGKILL while sending payouts', () => {
  let bank: FakeBank;
  let postgres: { url: string; drop(): Promise<void> };
  let database: Database;
  let ledger: Ledger;
  let env: Record<string, string>;
  const outputs: string[] = [];

  const withPayrail = <T>(
    faultPoint: string | undefined,
    work: (payrail: RunningProcess) => Promise<T>,
  ): Promise<T> => runPayrail(env, faultPoint, work, (output) => outputs.push(output));

  before(async () => {
    bank = await startFakeBank();
    postgres = await createPostgresDatabase('payrail_payout_crash');
    database = openPostgres({ connectionString: postgres.url, poolSize: 2 });
    ledger = new Ledger(database);
    env = {
      PAYRAIL_TEST_CLOCKS: 'true',
      DATABASE_URL: postgres.url,
      // The fake bank answers under /bank, where the simulator's bank is.
      PAYRAIL_SIMULATOR_URL: bank.url.replace(/\/bank$/, ''),
      PAYRAIL_ADMIN_KEY: testAdminKey,
      PAYRAIL_RUN_WORKERS: 'false',
      PAYRAIL_VAULT_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
    };
  });
  after(async () => {
    await database.close();
    await bank.close();
    await postgres.drop();
    for (const output of outputs) {
      assert.equal(output.includes(paidAccount), false, 'no account number in any log');
      assert.equal(output.includes(rejectedAccount), false, 'no account number in any log');
    }
  });

  for (const point of [
    'payout_after_send_recorded',
    'payout_after_bank_call',
    'payout_after_result_recorded',
  ]) {
    // A rejection is recorded after the bank call: that is where it can be lost.
    const accounts =
      point === 'payout_after_bank_call' ? [paidAccount, rejectedAccount] : [paidAccount];
    for (const accountNumber of accounts) {
      test(`killed at ${point} (${accountNumber === paidAccount ? 'accepted' : 'rejected'}): executed once`, async () => {
        const { merchantId, payoutId } = await withPayrail(undefined, async (payrail) => {
          const created = await call(payrail, 'POST', '/v1/admin/merchants', {
            key: testAdminKey,
            body: { name: 'Crashy shop' },
          });
          const merchant = { id: String(created.body.id), key: String(created.body.secret_key) };
          const account = await call(payrail, 'POST', '/v1/bank_accounts', {
            key: merchant.key,
            body: {
              currency: 'usd',
              country: 'US',
              account_holder_name: 'Crashy',
              account_number: accountNumber,
            },
          });
          assert.equal(account.status, 200, JSON.stringify(account.body));
          await addAvailable({ database, ledger, clock: systemClock }, merchant.id, 4_321n);
          const payout = await call(payrail, 'POST', '/v1/payouts', {
            key: merchant.key,
            body: { currency: 'usd' },
          });
          assert.equal(payout.status, 200, JSON.stringify(payout.body));
          return { merchantId: merchant.id, payoutId: String(payout.body.id) };
        });
        await withPayrail(point, async (payrail) => {
          await assert.rejects(
            call(payrail, 'POST', '/v1/admin/payouts/run', {
              key: testAdminKey,
              body: { create_due: false },
            }),
            'the connection dies with the process',
          );
          await payrail.exited;
          assert.equal(payrail.child.signalCode, 'SIGKILL');
        });
        await withPayrail(undefined, async (payrail) => {
          for (let run = 0; run < 2; run++) {
            const answer = await call(payrail, 'POST', '/v1/admin/payouts/run', {
              key: testAdminKey,
              body: { create_due: false },
            });
            assert.equal(answer.status, 200, JSON.stringify(answer.body));
          }
        });
        assert.equal(bank.executions.get(payoutId), 1, 'the bank executed the payout once');
        const stored = await database.query<{ status: string; send_attempts: number }>(
          'SELECT status, send_attempts FROM payouts WHERE id = $1',
          [payoutId],
        );
        const accepted = accountNumber === paidAccount;
        assert.equal(stored.rows[0]?.status, accepted ? 'in_transit' : 'failed');
        const available = await ledger.getAccount(accountIds.merchantAvailable(merchantId, 'usd'));
        assert.equal(available?.balance.available, accepted ? 0n : 4_321n);
        const inTransit = await database.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM ledger_transactions WHERE id = ANY($1::text[])`,
          [[`payout:${payoutId}`, `payout_failed:${payoutId}`]],
        );
        assert.equal(inTransit.rows[0]?.count, accepted ? 1 : 2);
      });
    }
  }
});
