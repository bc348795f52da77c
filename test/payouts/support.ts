// Payout tests' fixtures: a database with a merchant, the payouts service on an OffsetClock, a
// tiny fake bank on 127.0.0.1 (the SPEC-11 wire contract, idempotent by payout id, counting
// executions), and available balance transactions inserted directly with their ledger postings
// (availability is another module's work): each a settlement item accepted in a batch of its own,
// its clearing group made available.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OffsetClock, type Clock } from '../../src/clock.ts';
import type { FaultPoint } from '../../src/fault-points.ts';
import { newId, newSortableId } from '../../src/ids.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { accountIds, merchantMoneyOutAccounts } from '../../src/accounts/index.ts';
import { httpBankClient } from '../../src/payouts/bank-client.ts';
import { PayoutsService } from '../../src/payouts/payouts.ts';
import type { Database } from '../../src/storage/database.ts';
import { derivedKey, secretBoxFor, secretBoxPurposes } from '../../src/vault/secret-box.ts';
import { groupAcceptedItems, insertBatchRow } from '../support/balance-fixtures.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';

export const paidAccount = '000123456789';
export const rejectedAccount = '000111111116';
export const returnedAccount = '000111111113';

export type FakeBank = {
  readonly url: string;
  /** Per payout id: how many times the bank executed it (must never exceed 1). */
  readonly executions: Map<string, number>;
  /** Every request, with its body. */
  readonly requests: Record<string, unknown>[];
  close(): Promise<void>;
};

export async function startFakeBank(): Promise<FakeBank> {
  const answers = new Map<string, { status: number; body: string }>();
  const executions = new Map<string, number>();
  const requests: Record<string, unknown>[] = [];
  let traces = 0;
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      if (
        request.method !== 'POST' ||
        request.url !== '/bank/v1/payouts' ||
        request.headers.authorization !== 'Bearer bank_test_sim'
      ) {
        response.writeHead(404).end('{}');
        return;
      }
      const body = JSON.parse(text) as {
        payout_id: string;
        requested_at: string;
        account: { account_number: string };
      };
      requests.push(body);
      let answer = answers.get(body.payout_id);
      if (answer === undefined) {
        executions.set(body.payout_id, (executions.get(body.payout_id) ?? 0) + 1);
        answer =
          body.account.account_number === rejectedAccount
            ? {
                status: 422,
                body: JSON.stringify({
                  payout_id: body.payout_id,
                  status: 'rejected',
                  failure_code: 'invalid_account_number',
                }),
              }
            : {
                status: 201,
                body: JSON.stringify({
                  payout_id: body.payout_id,
                  trace_id: `trace_${++traces}`,
                  status: 'accepted',
                  expected_on: body.requested_at.slice(0, 10),
                }),
              };
        answers.set(body.payout_id, answer);
      }
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bank`,
    executions,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const masterKey = Buffer.alloc(32, 7);

export type Harness = {
  readonly testDatabase: TestDatabase;
  readonly database: Database;
  readonly clock: OffsetClock;
  readonly ledger: Ledger;
  readonly payouts: PayoutsService;
  readonly bank: FakeBank;
  /** The fault point at which the next `reach` throws (a crash of the step, in-process). */
  crashAt: FaultPoint | undefined;
  close(): Promise<void>;
};

export class Crash extends Error {}

export async function openHarness(
  kind: 'pglite' | 'postgres',
  options: { start?: Date } = {},
): Promise<Harness> {
  const testDatabase = await openTestDatabase(kind, { poolSize: 20 });
  const database = testDatabase.database;
  const start = options.start ?? new Date('2026-12-07T10:00:00Z'); // a Monday
  const clock = new OffsetClock(() => start.getTime());
  const ledger = new Ledger(database, { clock });
  const bank = await startFakeBank();
  const harness: Harness = {
    testDatabase,
    database,
    clock,
    ledger,
    bank,
    crashAt: undefined,
    payouts: undefined as unknown as PayoutsService,
    async close() {
      await bank.close();
      await testDatabase.drop();
    },
  };
  (harness as { payouts: PayoutsService }).payouts = new PayoutsService({
    database,
    ledger,
    clock,
    bankAccountKeys: {
      secretBox: secretBoxFor(masterKey, secretBoxPurposes.bankAccountNumber),
      fingerprintKey: derivedKey(masterKey, 'payouts.bank-account-fingerprint'),
    },
    bank: httpBankClient({ baseUrl: bank.url, apiKey: 'bank_test_sim' }),
    faults: {
      reach(point) {
        if (harness.crashAt === point) {
          harness.crashAt = undefined;
          throw new Crash(`crash at ${point}`);
        }
      },
    },
  });
  return harness;
}

export async function createMerchant(database: Database): Promise<string> {
  const id = newId('mch');
  await database.query('INSERT INTO merchants (id, name) VALUES ($1, $2)', [id, 'Shop']);
  return id;
}

function availableSpec(merchantId: string, currency: string) {
  return {
    id: accountIds.merchantAvailable(merchantId, currency),
    type: 'liability' as const,
    currency,
    owner: merchantId,
    limit: 'debits_must_not_exceed_credits' as const,
  };
}

/** What the fixtures write through: a harness, or a running server's context and clock. */
export type Books = {
  readonly database: Database;
  readonly ledger: Ledger;
  readonly clock: Clock;
};

/**
 * An available item as availability would leave it: a balance transaction (charge if net > 0,
 * refund otherwise) accepted in an acknowledged batch of its own, its clearing group (one item)
 * made available, and its money in the available account (a negative one taken from available,
 * or, with `toReceivable`, owed by the merchant as a receivable). Returns the item's id.
 */
export async function addAvailable(
  h: Books,
  merchantId: string,
  net: bigint,
  options: { currency?: string; availableOn?: Date; toReceivable?: boolean } = {},
): Promise<string> {
  const currency = options.currency ?? 'usd';
  const pending = accountIds.merchantPending(merchantId, currency);
  const available = accountIds.merchantAvailable(merchantId, currency);
  const receivable = accountIds.merchantReceivable(merchantId, currency);
  await h.ledger.createAccounts([
    { id: pending, type: 'liability', currency, owner: merchantId },
    availableSpec(merchantId, currency),
    ...merchantMoneyOutAccounts(merchantId, currency),
  ]);
  const availabilityId = `avail:${newId('x')}`;
  const magnitude = net < 0n ? -net : net;
  const [from, to] =
    net >= 0n
      ? [pending, available]
      : options.toReceivable === true
        ? [receivable, pending]
        : [available, pending];
  await h.ledger.transfer({
    kind: 'posted',
    id: availabilityId,
    legs: [
      { accountId: from, direction: 'debit', amount: magnitude, currency },
      { accountId: to, direction: 'credit', amount: magnitude, currency },
    ],
  });
  const now = h.clock.now(merchantId);
  const id = newSortableId('txn');
  const batchId = await insertBatchRow(h.database, 'stripe', currency, now);
  await h.database.query(
    `INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net,
        ledger_transaction_id, created_at, available_on, connector, clearing_status, batch_id)
     VALUES ($1, $2, $3, $4, $5, $6, 0, $6, $7, $8, $9, 'stripe', 'batched', $10)`,
    [
      id,
      merchantId,
      currency,
      net >= 0n ? 'charge' : 'refund',
      newId('pi'),
      net,
      `capture:${newId('att')}`,
      now,
      options.availableOn ?? now,
      batchId,
    ],
  );
  await groupAcceptedItems(h.database, batchId, now, availabilityId);
  return id;
}

/** A rolling-reserve hold on the available balance, as the reserves module makes it. */
export async function addReserveHold(
  h: Books,
  merchantId: string,
  amount: bigint,
  currency = 'usd',
): Promise<void> {
  const holdId = `reserve:${newId('r')}`;
  await h.ledger.transfer({
    kind: 'pending',
    id: holdId,
    legs: [
      {
        accountId: accountIds.merchantAvailable(merchantId, currency),
        direction: 'debit',
        amount,
        currency,
      },
      {
        accountId: accountIds.merchantReserve(merchantId, currency),
        direction: 'credit',
        amount,
        currency,
      },
    ],
  });
  const now = h.clock.now(merchantId);
  await h.database.query(
    `INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net,
        ledger_transaction_id, created_at, available_on, availability_id, unpaid)
     VALUES ($1, $2, $3, 'reserve_hold', $4, $5, 0, $5, $4, $6, $6, $4, $5)`,
    [newSortableId('txn'), merchantId, currency, holdId, -amount, now],
  );
}

export async function balanceOf(h: Harness, accountId: string): Promise<bigint> {
  const account = await h.ledger.getAccount(accountId);
  return account?.balance.available ?? 0n;
}

/**
 * What a payout took of each unit: a balance transaction by its id, a clearing group by its items'
 * ids (comma-separated; addAvailable's groups hold one item, so its id).
 */
export async function allocations(
  h: Harness,
  payoutId: string,
): Promise<{ balance_transaction_id: string; amount: bigint }[]> {
  const result = await h.database.query<{ balance_transaction_id: string; amount: bigint }>(
    `SELECT balance_transaction_id, amount FROM payout_allocations WHERE payout_id = $1
     UNION ALL
     SELECT (SELECT string_agg(bt.id, ',' ORDER BY bt.id) FROM balance_transactions bt
              WHERE bt.batch_id = ga.batch_id AND bt.merchant_id = ga.merchant_id
                AND bt.available_on = ga.available_on AND bt.clearing_status = 'batched'),
            ga.amount
       FROM payout_group_allocations ga WHERE ga.payout_id = $1
     ORDER BY 1`,
    [payoutId],
  );
  return result.rows.map((row) => ({ ...row, amount: BigInt(row.amount) }));
}

export const day = 24 * 3_600_000;
