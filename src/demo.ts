// `npm run demo`: a narrated tour over HTTP against a throw-away Payrail (in-memory PGlite) and
// its own PSP simulator: payments, a partial capture, partial refunds, a decline, a timeout
// resolved by sync, a capability refusal, then the balances and a ledger verify; then, on a test
// clock moved five days on, money out: the acquirer clears the day, the PSP reports its fees, the
// bank credits the platform, the funds become available and are paid out to the merchant's bank.
import crypto from 'node:crypto';
import { loadConfig } from './config.ts';
import { listConnectorNames } from './connectors/registry.ts';
import { verifyLedger } from './ledger/index.ts';
import { verifyMoneyOut } from './money-out/verify.ts';
import { formatDecimal } from './money/index.ts';
import { createLogger } from './observability/logger.ts';
import { startServer } from './server.ts';
import { startSimulatorProcess } from './testmode/simulator-process.ts';

type Json = Record<string, unknown> & {
  error?: { code: string; decline_code?: string; message: string };
};

function money(amount: unknown, currency: unknown): string {
  return `${formatDecimal(BigInt(Number(amount)), String(currency))} ${String(currency).toUpperCase()}`;
}

type Request = (
  method: string,
  path: string,
  body?: unknown,
  key?: string,
) => Promise<{ status: number; body: Json }>;

type Listed = { data: Json[] };

/** The money-out scenes: five days later on the test clock, settlement, availability, a payout. */
async function moneyOut(
  request: Request,
  step: (text: string) => void,
  simulatorUrl: string,
  admin: string,
): Promise<void> {
  step('The merchant adds its bank account (the number is sealed; only the last 4 come back)');
  const account = await request('POST', '/v1/bank_accounts', {
    currency: 'usd',
    country: 'US',
    account_holder_name: 'Demo shop',
    routing_number: '110000000',
    account_number: '000123456789',
  });
  console.log(`  ${String(account.body.id)}: •••• ${String(account.body.last4)}`);

  // The simulated PSPs change one fee in their settlement reports, for reconciliation to find.
  await fetch(`${simulatorUrl}/_sim/reconciliation`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seed: 7, rates: { fee_variance: 0.5 }, feeVariance: 3 }),
  });
  step('Five days later (test clock): the day is cleared, reported, credited and paid out');
  // Noon five days on, whatever the time of day now: the day's clearing closes at the 18:00 UTC
  // cutoff and the bank credits it the next business day, so a run after that day's cutoff would
  // find the credit still ahead of it.
  const fiveDaysOn = new Date(Date.now() + 5 * 86_400_000);
  fiveDaysOn.setUTCHours(12, 0, 0, 0);
  await request('POST', '/v1/admin/test_clocks/set', { to: fiveDaysOn.toISOString() }, admin);
  // Twice: the bank books the payout on the day it is sent; the second run reads that line.
  for (let run = 0; run < 2; run++)
    await request('POST', '/v1/admin/money_out/run', { part: 'all' }, admin);
  const batches = (await request('GET', '/v1/admin/settlement/batches', undefined, admin))
    .body as unknown as Listed;
  const presented = batches.data.filter((batch) => batch.intake_open !== true);
  for (const batch of presented.sort((a, b) =>
    String(a.connector).localeCompare(String(b.connector)),
  ))
    console.log(
      `  batch ${String(batch.connector)} ${String(batch.currency)}: ${String(batch.accepted_count)} of ${String(batch.item_count)} items accepted, ${money(batch.accepted_amount, batch.currency)}, PSP fee ${money(batch.psp_fee, batch.currency)} → ${String(batch.status)}`,
    );
  const balance = await request('GET', '/v1/balance');
  for (const entry of balance.body.available as { amount: number; currency: string }[])
    console.log(`  available ${money(entry.amount, entry.currency)}`);
  const payouts = (await request('GET', '/v1/payouts')).body as unknown as Listed;
  for (const payout of payouts.data)
    console.log(
      `  payout ${String(payout.id)}: ${money(payout.amount, payout.currency)} → ${String(payout.status)} (bank trace ${String(payout.trace_id)})`,
    );
  const bank = (await (
    await fetch(`${simulatorUrl}/_sim/ground_truth/money_out?items=false`)
  ).json()) as {
    bank: {
      payouts: Record<
        string,
        { executions: number; status: string; amount: number; currency: string }
      >;
    };
  };
  for (const [id, payout] of Object.entries(bank.bank.payouts))
    console.log(
      `  the bank's own record: ${id} executed ${payout.executions}×, ${money(payout.amount, payout.currency)} ${payout.status}`,
    );
}

/** The reconciliation scene: the operator's run, its exceptions, and one resolved. */
async function reconcile(
  request: Request,
  step: (text: string) => void,
  admin: string,
): Promise<void> {
  step('The operator reconciles the ledger with the PSP reports and the bank statement');
  const run = await request('POST', '/v1/reconciliation/runs', {}, admin);
  const summary = run.body.summary as {
    expectations: number;
    records: number;
    matched: Record<string, number>;
    match_rate: number;
  };
  console.log(
    `  run ${String(run.body.id)}: ${summary.expectations} expected, ${summary.records} external lines; matched ${Object.entries(
      summary.matched,
    )
      .map(([pass, count]) => `${count} ${pass}`)
      .join(', ')} (match rate ${(summary.match_rate * 100).toFixed(1)} %)`,
  );
  const open = (
    (await request('GET', '/v1/reconciliation/exceptions?status=open&limit=100', undefined, admin))
      .body as unknown as Listed
  ).data;
  for (const exception of open)
    console.log(
      `  exception ${String(exception.id)}: ${String(exception.reason)} ${String(exception.connector)} ${JSON.stringify(exception.details)}`,
    );
  const first = open[0];
  if (first === undefined) return;
  const resolved = await request(
    'POST',
    `/v1/reconciliation/exceptions/${String(first.id)}/resolve`,
    { action: 'psp_error', reason: 'Claimed back from the PSP (demo).', actor: 'demo operator' },
    admin,
  );
  console.log(
    `  resolved as ${String(resolved.body.resolution)} by the operator: "${String(resolved.body.resolution_reason)}"`,
  );
}

async function main(): Promise<void> {
  const simulator = await startSimulatorProcess(0);
  const adminKey = `demo_${crypto.randomBytes(16).toString('hex')}`;
  // One try per PSP call: the timeout scene shows an unknown outcome resolved by sync (with
  // retries, the retry with the same idempotency key would already learn the answer).
  const config = {
    ...loadConfig({
      PORT: '0',
      PAYRAIL_DATA_DIR: 'memory://',
      PAYRAIL_ADMIN_KEY: adminKey,
      PAYRAIL_PSP_TIMEOUT_MS: '500',
      PAYRAIL_PSP_ATTEMPTS: '1',
      PAYRAIL_TEST_CLOCKS: 'true',
    }),
    simulatorUrl: simulator.url,
  };
  const server = await startServer(config, createLogger('warn'));
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    key = secretKey,
  ): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  let secretKey = adminKey;
  const step = (text: string) => console.log(`\n▸ ${text}`);
  try {
    console.log(
      `Payrail demo — server ${server.url}, PSP simulator ${simulator.url}, data in memory`,
    );
    const merchant = await request('POST', '/v1/admin/merchants', { name: 'Demo shop' });
    secretKey = String(merchant.body.secret_key);
    console.log(
      `  merchant ${String(merchant.body.id)} created; it routes to the simulated ${listConnectorNames().join(', ')} PSPs`,
    );

    step('Vault a card (the number is encrypted; only brand and last4 come back)');
    const card = await request('POST', '/v1/payment_methods', {
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '123' },
    });
    const shown = card.body.card as { brand: string; last4: string };
    console.log(`  ${String(card.body.id)}: ${shown.brand} •••• ${shown.last4}`);

    step('Pay 20.00 USD with automatic capture');
    const paid = await request('POST', '/v1/payment_intents', {
      amount: 2000,
      currency: 'usd',
      payment_method: card.body.id,
      confirm: true,
      connector: 'stripe',
    });
    console.log(
      `  ${String(paid.body.id)} → ${String(paid.body.status)}, received ${money(paid.body.amount_received, 'usd')} (fee 2.9 % + 0.30 to the platform)`,
    );

    step('Authorize 50.00 USD, then capture only 30.00 (the other 20.00 is released)');
    const held = await request('POST', '/v1/payment_intents', {
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_mastercard',
      confirm: true,
      capture_method: 'manual',
      connector: 'stripe',
    });
    console.log(
      `  ${String(held.body.id)} → ${String(held.body.status)}, capturable ${money(held.body.amount_capturable, 'usd')}`,
    );
    const captured = await request('POST', `/v1/payment_intents/${String(held.body.id)}/capture`, {
      amount_to_capture: 3000,
    });
    console.log(
      `  captured → ${String(captured.body.status)}, received ${money(captured.body.amount_received, 'usd')}`,
    );

    step('Refund the 20.00 payment in two parts: 5.00, then 10.00');
    for (const amount of [500, 1000]) {
      const refund = await request('POST', '/v1/refunds', { payment_intent: paid.body.id, amount });
      console.log(
        `  ${String(refund.body.id)}: ${money(refund.body.amount, 'usd')} → ${String(refund.body.status)}`,
      );
    }
    const tooMuch = await request('POST', '/v1/refunds', {
      payment_intent: paid.body.id,
      amount: 1000,
    });
    console.log(
      `  another 10.00 → ${tooMuch.status} ${tooMuch.body.error?.code}: ${tooMuch.body.error?.message}`,
    );

    step('A card with insufficient funds is declined');
    const declined = await request('POST', '/v1/payment_intents', {
      amount: 1500,
      currency: 'usd',
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      confirm: true,
    });
    console.log(
      `  → ${declined.status} ${declined.body.error?.code} (${declined.body.error?.decline_code})`,
    );

    step('The PSP times out: the outcome is unknown, never assumed failed; sync asks the PSP');
    const slow = await request('POST', '/v1/payment_intents', {
      amount: 4200,
      currency: 'usd',
      payment_method: 'pm_card_pspTimeout',
      confirm: true,
      connector: 'stripe',
    });
    console.log(
      `  ${String(slow.body.id)} → ${String(slow.body.status)} (attempt ${String((slow.body.attempts as { status: string }[])[0]?.status)})`,
    );
    const synced = await request('POST', `/v1/payment_intents/${String(slow.body.id)}/sync`, {});
    console.log(
      `  after sync → ${String(synced.body.status)}, received ${money(synced.body.amount_received, 'usd')}`,
    );

    step('Paytm-like PSP in INR: it cannot refund in part, so Payrail refuses before calling it');
    const rupees = await request('POST', '/v1/payment_intents', {
      amount: 99900,
      currency: 'inr',
      payment_method: 'pm_card_visa',
      confirm: true,
      connector: 'paytm',
    });
    console.log(
      `  ${String(rupees.body.id)} → ${String(rupees.body.status)}, ${money(rupees.body.amount_received, 'inr')}`,
    );
    const partial = await request('POST', '/v1/refunds', {
      payment_intent: rupees.body.id,
      amount: 100,
    });
    console.log(`  partial refund → ${partial.status} ${partial.body.error?.code}`);

    step('Balances, read from the double-entry ledger');
    const balance = await request('GET', '/v1/balance');
    for (const entry of balance.body.pending as { amount: number; currency: string }[])
      console.log(`  pending   ${money(entry.amount, entry.currency)}`);
    for (const entry of balance.body.available as { amount: number; currency: string }[])
      console.log(`  available ${money(entry.amount, entry.currency)}`);
    const report = await verifyLedger(server.context.database);
    console.log(
      `  ledger verify: ${report.ok ? 'ok' : 'FAILED'} (${report.transactions} transactions, ${report.entries} entries, every one balanced and hash-chained)`,
    );
    const truth = (await (await fetch(`${simulator.url}/_sim/ground-truth`)).json()) as {
      operations: { type: string; status: string }[];
    };
    const summary = new Map<string, number>();
    for (const operation of truth.operations)
      summary.set(
        `${operation.type} ${operation.status}`,
        (summary.get(`${operation.type} ${operation.status}`) ?? 0) + 1,
      );
    console.log(
      `  the simulator's own record: ${[...summary].map(([name, count]) => `${count} × ${name}`).join(', ')}`,
    );
    await moneyOut(request, step, simulator.url, adminKey);
    await reconcile(request, step, adminKey);
    const moneyOutReport = await verifyMoneyOut(server.context.database);
    console.log(
      `  money-out verify: ${moneyOutReport.ok ? 'ok' : 'FAILED'} (balance transactions and payouts agree with the ledger)`,
    );
  } finally {
    await server.close();
    await simulator.stop();
  }
}

await main();
