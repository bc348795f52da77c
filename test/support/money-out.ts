// Money out end to end (architecture §12): a real Payrail server and the simulator's PSPs,
// acquirer and bank, driven by the test clock. The operator moves the system's time to an instant
// and runs the whole pipeline once (`POST /v1/admin/money_out/run`): cutoffs, acquirer
// submission, PSP reports, bank statements, availability, reserves, payouts. Never a sleep.
import assert from 'node:assert/strict';
import { call, testAdminKey, type TestServer } from './server.ts';
import type { Merchant } from './merchants.ts';
import type { SimulatedStack } from './simulator.ts';
import { acknowledgedStatusesSql } from '../../src/settlement/tables.ts';

export const paidAccount = '000123456789';
export const rejectedAccount = '000111111116';
export const returnedAccount = '000111111113';

export type Json = Record<string, unknown>;
const dayMs = 86_400_000;

/** Monday 1 … Sunday 7 (ISO), of a UTC instant. */
export function isoWeekday(at: Date): number {
  return ((at.getUTCDay() + 6) % 7) + 1;
}

/** `hours` UTC on the first `weekday` (ISO) at least two days after `after`. */
export function nextWeekdayAt(after: Date, weekday: number, hours: number): Date {
  let day = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate()));
  day = new Date(day.getTime() + 2 * dayMs);
  while (isoWeekday(day) !== weekday) day = new Date(day.getTime() + dayMs);
  return new Date(day.getTime() + hours * 3_600_000);
}

/** `days` calendar days and `hours` after midnight UTC of `start`'s day. */
export function dayAt(start: Date, days: number, hours: number): Date {
  const midnight = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  return new Date(midnight + days * dayMs + hours * 3_600_000);
}

/** A merchant's balance by currency: available (may be negative), pending, reserved. */
export type Balance = { available: number; pending: number; reserved: number };

/** The simulator's money-out ground truth (sim/CONTRACT.md, "Ground truth additions"). */
export type MoneyOutTruth = {
  acquirer: {
    batches: Record<
      string,
      {
        batch_id: string;
        connector: string;
        executions: number;
        accepted_count: number;
        rejected_count: number;
        accepted_amount: number;
        fee_amount: number;
        payout_amount: number;
        settlement_reference: string;
        items: {
          item_id: string;
          psp_reference: string;
          type: string;
          amount: number;
          result: string;
          reason_code?: string;
        }[];
      }
    >;
  };
  bank: {
    payouts: Record<
      string,
      {
        payout_id: string;
        executions: number;
        amount: number;
        currency: string;
        status: 'paid' | 'rejected' | 'returned';
        trace_id: string | null;
        failure_code: string | null;
        account_number: string;
        requested_on: string;
        booked_on: string | null;
        returned_on: string | null;
      }
    >;
    credits: {
      settlement_reference: string;
      connector: string;
      batch_id: string;
      currency: string;
      amount: number;
      entries: { entry_reference: string; amount: number; booked_on: string }[];
    }[];
  };
};

/** The operator and merchant calls of a money-out test, over HTTP. */
export class MoneyOutDriver {
  readonly stack: SimulatedStack;

  constructor(stack: SimulatedStack) {
    this.stack = stack;
  }

  get server(): TestServer {
    return this.stack.server;
  }

  /** The system's test clock now (the server's business time). */
  async now(): Promise<Date> {
    const clocks = await call(this.server, 'GET', '/v1/admin/test_clocks', { key: testAdminKey });
    assert.equal(clocks.status, 200, JSON.stringify(clocks.body));
    return new Date(String((clocks.body.system as { now_iso: string }).now_iso));
  }

  /**
   * Moves the system's clock forward to `to`. A clock that is there already (it runs on with real
   * time, so it may be a few seconds past) is left where it is.
   */
  async at(to: Date): Promise<void> {
    const moved = await call(this.server, 'POST', '/v1/admin/test_clocks/set', {
      key: testAdminKey,
      body: { to: to.toISOString() },
    });
    if (moved.status === 400 && moved.body.error?.param === 'to') {
      const now = await this.now();
      if (now.getTime() >= to.getTime() && now.getTime() - to.getTime() < 600_000) return;
    }
    assert.equal(
      moved.status,
      200,
      `moving the clock to ${to.toISOString()}: ${JSON.stringify(moved.body)}`,
    );
  }

  /** Runs the whole money-out pipeline once at the current (test) time. */
  async run(): Promise<Json> {
    const ran = await call(this.server, 'POST', '/v1/admin/money_out/run', { key: testAdminKey });
    assert.equal(ran.status, 200, `money-out run: ${JSON.stringify(ran.body)}`);
    return ran.body;
  }

  /** Moves the clock to `to` and runs the pipeline there. */
  async runAt(to: Date): Promise<Json> {
    await this.at(to);
    return this.run();
  }

  /** A test merchant with a default usd bank account of that number. */
  async merchant(
    name: string,
    accountNumber: string = paidAccount,
  ): Promise<Merchant & { bankAccount: string }> {
    const merchant = await this.stack.merchant(name);
    return { ...merchant, bankAccount: await this.addBankAccount(merchant, accountNumber, 'usd') };
  }

  /** A default bank account of the currency (in the US or India); its id. */
  async addBankAccount(
    merchant: Merchant,
    accountNumber: string,
    currency: string,
  ): Promise<string> {
    const account = await call(this.server, 'POST', '/v1/bank_accounts', {
      key: merchant.key,
      body: {
        currency,
        country: currency === 'inr' ? 'IN' : 'US',
        account_holder_name: 'Jane Shop',
        routing_number: '110000000',
        account_number: accountNumber,
      },
    });
    assert.equal(account.status, 200, JSON.stringify(account.body));
    return String(account.body.id);
  }

  /** The status of the merchant's default bank account of the currency (new, errored …). */
  async bankAccountStatus(merchant: Merchant, currency = 'usd'): Promise<string> {
    const listed = await call(this.server, 'GET', `/v1/bank_accounts?currency=${currency}`, {
      key: merchant.key,
    });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const accounts = listed.body.data as { default_for_currency: boolean; status: string }[];
    const found = accounts.find((account) => account.default_for_currency);
    assert.ok(found !== undefined, `no default ${currency} bank account`);
    return found.status;
  }

  /** A card payment through a simulated PSP (stripe, usd by default); captured unless `manual`. */
  async pay(
    merchant: Merchant,
    amount: number,
    options: { manual?: boolean; connector?: string; currency?: string } = {},
  ): Promise<Json> {
    const paid = await call(this.server, 'POST', '/v1/payment_intents', {
      key: merchant.key,
      body: {
        amount,
        currency: options.currency ?? 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
        connector: options.connector ?? 'stripe',
        ...(options.manual === true ? { capture_method: 'manual' } : {}),
      },
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(
      paid.body.status,
      options.manual === true ? 'requires_capture' : 'succeeded',
      JSON.stringify(paid.body),
    );
    return paid.body;
  }

  async capture(merchant: Merchant, paymentIntent: string): Promise<Json> {
    const captured = await call(
      this.server,
      'POST',
      `/v1/payment_intents/${paymentIntent}/capture`,
      { key: merchant.key, body: {} },
    );
    assert.equal(captured.status, 200, JSON.stringify(captured.body));
    assert.equal(captured.body.status, 'succeeded', JSON.stringify(captured.body));
    return captured.body;
  }

  async refund(merchant: Merchant, paymentIntent: string, amount: number): Promise<Json> {
    const refunded = await call(this.server, 'POST', '/v1/refunds', {
      key: merchant.key,
      body: { payment_intent: paymentIntent, amount },
    });
    assert.equal(refunded.status, 200, JSON.stringify(refunded.body));
    assert.equal(refunded.body.status, 'succeeded', JSON.stringify(refunded.body));
    return refunded.body;
  }

  /** GET /v1/balance in one currency (usd by default). */
  async balance(merchant: Merchant, currency = 'usd'): Promise<Balance> {
    const answer = await call(this.server, 'GET', '/v1/balance', { key: merchant.key });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const side = (name: string): number => {
      const amounts = (answer.body[name] ?? []) as { amount: number; currency: string }[];
      const found = amounts.filter((amount) => amount.currency === currency);
      assert.ok(found.length <= 1, `${name} lists ${currency} twice`);
      return found[0]?.amount ?? 0;
    };
    return { available: side('available'), pending: side('pending'), reserved: side('reserved') };
  }

  /** Every balance transaction of the merchant matching `query`, newest first (all pages). */
  async transactions(merchant: Merchant, query = ''): Promise<Json[]> {
    const rows: Json[] = [];
    let after: string | undefined;
    for (;;) {
      const cursor = after === undefined ? '' : `&starting_after=${after}`;
      const page = await call(
        this.server,
        'GET',
        `/v1/balance_transactions?limit=100${query === '' ? '' : `&${query}`}${cursor}`,
        { key: merchant.key },
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const data = page.body.data as Json[];
      rows.push(...data);
      if (page.body.has_more !== true || data.length === 0) return rows;
      after = String(data[data.length - 1]?.id);
    }
  }

  async payouts(merchant: Merchant): Promise<Json[]> {
    const listed = await call(this.server, 'GET', '/v1/payouts?limit=100', { key: merchant.key });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.has_more, false);
    return listed.body.data as Json[];
  }

  async payout(merchant: Merchant, id: string): Promise<Json> {
    const payout = await call(this.server, 'GET', `/v1/payouts/${id}`, { key: merchant.key });
    assert.equal(payout.status, 200, JSON.stringify(payout.body));
    return payout.body;
  }

  /** The merchant's event types of `pattern` (e.g. `payout.*`), oldest first. */
  async eventTypes(merchant: Merchant, pattern: string): Promise<string[]> {
    const listed = await call(this.server, 'GET', `/v1/events?type=${pattern}&limit=100`, {
      key: merchant.key,
    });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return (listed.body.data as { type: string }[]).map((event) => event.type).reverse();
  }

  /** The `data.object` of the merchant's events of one type, oldest first. */
  async eventObjects(merchant: Merchant, type: string): Promise<Json[]> {
    const listed = await call(this.server, 'GET', `/v1/events?type=${type}&limit=100`, {
      key: merchant.key,
    });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return (listed.body.data as { data: { object: Json } }[])
      .map((event) => event.data.object)
      .reverse();
  }

  async setPayoutSettings(merchant: Merchant, body: Json): Promise<void> {
    const changed = await call(this.server, 'POST', '/v1/payout_settings', {
      key: merchant.key,
      body,
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
  }

  async setOperatorPayoutSettings(merchant: Merchant, body: Json): Promise<void> {
    const changed = await call(
      this.server,
      'PUT',
      `/v1/admin/merchants/${merchant.id}/payout_settings`,
      { key: testAdminKey, body },
    );
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
  }

  /** The simulator's acquirer and bank ground truth. */
  async truth(): Promise<MoneyOutTruth> {
    const response = await fetch(`${this.stack.simulator.url}/_sim/ground_truth/money_out`);
    assert.equal(response.status, 200);
    return (await response.json()) as MoneyOutTruth;
  }

  /** A simulator admin call (faults, settings). */
  async simulatorAdmin(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.stack.simulator.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${text}`);
  }

  /**
   * Items of a merchant as the database holds them (clearing columns the API does not show), with
   * the status the acquirer left: 'accepted' for an item still 'batched' in a batch it acknowledged.
   */
  async clearing(
    merchantId: string,
  ): Promise<
    Map<string, { status: string; reason: string | null; batch: string | null; type: string }>
  > {
    const rows = await this.server.context.database.query<{
      id: string;
      type: string;
      clearing_status: string;
      reject_reason: string | null;
      batch_id: string | null;
    }>(
      `SELECT item.id, item.type, item.reject_reason, item.batch_id,
              CASE WHEN item.clearing_status = 'batched'
                        AND batch.status IN ${acknowledgedStatusesSql}
                   THEN 'accepted' ELSE item.clearing_status END AS clearing_status
         FROM balance_transactions item
         LEFT JOIN settlement_batches batch ON batch.id = item.batch_id
        WHERE item.merchant_id = $1 AND item.type IN ('charge', 'refund')`,
      [merchantId],
    );
    return new Map(
      rows.rows.map((row) => [
        row.id,
        {
          status: row.clearing_status,
          reason: row.reject_reason,
          batch: row.batch_id,
          type: row.type,
        },
      ]),
    );
  }

  /** The PSP's id of a payment intent's captured attempt (what the acquirer is sent). */
  async pspReference(paymentIntent: string): Promise<string> {
    const found = await this.server.context.database.query<{ psp_reference: string }>(
      `SELECT psp_reference FROM payment_attempts
        WHERE payment_intent_id = $1 AND psp_reference IS NOT NULL ORDER BY created_at DESC LIMIT 1`,
      [paymentIntent],
    );
    const reference = found.rows[0]?.psp_reference;
    assert.ok(reference !== undefined, `no PSP reference for ${paymentIntent}`);
    return reference;
  }

  /** A settlement batch's status (operator route). */
  async batchStatus(batchId: string): Promise<string> {
    const batch = await call(this.server, 'GET', `/v1/admin/settlement/batches/${batchId}`, {
      key: testAdminKey,
    });
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    return String(batch.body.status);
  }

  /** Per currency, Σ debits − Σ credits over every ledger account (posted, and pending): 0 each. */
  async ledgerImbalances(): Promise<{ currency: string; posted: bigint; pending: bigint }[]> {
    const sums = await this.server.context.database.query<{
      currency: string;
      posted: bigint;
      pending: bigint;
    }>(
      `SELECT currency, sum(posted_debits - posted_credits)::bigint AS posted,
              sum(pending_debits - pending_credits)::bigint AS pending
         FROM ledger_accounts GROUP BY currency ORDER BY currency`,
    );
    return sums.rows.filter((row) => BigInt(row.posted) !== 0n || BigInt(row.pending) !== 0n);
  }

  /** A ledger account's posted balance, credits − debits (0 when it does not exist). */
  async creditBalance(accountId: string): Promise<bigint> {
    const found = await this.server.context.database.query<{ balance: bigint }>(
      `SELECT (posted_credits - posted_debits)::bigint AS balance FROM ledger_accounts WHERE id = $1`,
      [accountId],
    );
    return BigInt(found.rows[0]?.balance ?? 0n);
  }
}

/** Stripe's fee in the simulator and Payrail's default usd price alike: 2.9 % + 30, half up. */
export function stripeFee(amount: number): number {
  return Math.floor((amount * 290 + 5_000) / 10_000) + 30;
}
