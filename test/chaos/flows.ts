// The load of a chaos run: concurrent merchant clients running mixed payment flows (automatic
// capture, manual capture with partial capture, refunds, cancels, declines, create-then-confirm,
// routed payments that may fail over) across the stripe, razorpay and paytm connectors, within
// each connector's capabilities. Every intent carries `metadata.chaos_ref`, unique per flow, so
// that it can be found even when its create never got an answer; every 2xx answer is recorded
// for the final checks.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Answer, Json, PayrailClient } from './client.ts';
import type { Random } from './random.ts';

export const flowNames = [
  'auto',
  'manual_capture',
  'refunds',
  'cancel',
  'decline',
  'two_step',
  'routed',
] as const;
export type FlowName = (typeof flowNames)[number];

const flowWeights: Readonly<Record<FlowName, number>> = {
  auto: 22,
  manual_capture: 16,
  refunds: 18,
  cancel: 10,
  decline: 10,
  two_step: 10,
  routed: 14,
};

const approvedCards = ['pm_card_visa', 'pm_card_mastercard', 'pm_card_amex'] as const;
const declinedCards = [
  'pm_card_chargeDeclined',
  'pm_card_chargeDeclinedInsufficientFunds',
  'pm_card_chargeDeclinedLostCard',
  'pm_card_chargeDeclinedExpiredCard',
] as const;
const currencies: Readonly<Record<string, readonly string[]>> = {
  stripe: ['usd', 'eur', 'gbp'],
  razorpay: ['inr', 'usd'],
  paytm: ['inr'],
};

/** What a client was last told about one of its intents (2xx answers only), and what it meant to do. */
export type IntentRecord = {
  readonly ref: string;
  readonly merchant: number;
  readonly flow: FlowName;
  readonly connector: string | undefined;
  /** How an authorization left in requires_capture should end (settle phase). */
  readonly intended: 'capture' | 'cancel';
  id: string | undefined;
  /** The last payment intent a 2xx answer showed. */
  answered: { status: string; amountReceived: number; amountRefunded: number } | undefined;
  /** The create or confirm was answered 402 (a card decline). */
  declined: boolean;
  /** Refunds answered 2xx: id → amount and status as answered. */
  readonly refunds: Map<string, { amount: number; status: string }>;
};

export type LoadStats = {
  flows: Record<string, number>;
  /** Definitive answers that the flow did not expect, by step:status:code, with a few samples. */
  unexpected: Record<string, number>;
  unexpectedSamples: string[];
  /** Requests that never got a definitive answer. */
  unanswered: number;
};

export function newLoadStats(): LoadStats {
  return { flows: {}, unexpected: {}, unexpectedSamples: [], unanswered: 0 };
}

export type FlowContext = {
  readonly client: PayrailClient;
  readonly random: Random;
  readonly merchant: number;
  readonly records: Map<string, IntentRecord>;
  readonly stats: LoadStats;
  readonly nextRef: () => string;
};

type CreateParams = {
  amount: number;
  currency: string;
  paymentMethod: string;
  connector: string | undefined;
  capture: 'automatic' | 'manual';
  confirm: boolean;
};

function unexpected(context: FlowContext, step: string, answer: Answer | undefined): void {
  if (answer === undefined) {
    context.stats.unanswered++;
    return;
  }
  const key = `${step}:${answer.status}:${answer.body.error?.code ?? answer.body.status ?? '-'}`;
  context.stats.unexpected[key] = (context.stats.unexpected[key] ?? 0) + 1;
  if (context.stats.unexpectedSamples.length < 10)
    context.stats.unexpectedSamples.push(`${key} ${JSON.stringify(answer.body).slice(0, 300)}`);
}

function isIntent(
  answer: Answer | undefined,
): answer is Answer & { body: Json & { id: string; status: string } } {
  return (
    answer !== undefined &&
    answer.status === 200 &&
    answer.body.object === 'payment_intent' &&
    typeof answer.body.id === 'string'
  );
}

function remember(record: IntentRecord, body: Json): void {
  record.id = String(body.id);
  record.answered = {
    status: String(body.status),
    amountReceived: Number(body.amount_received),
    amountRefunded: Number(body.amount_refunded),
  };
}

function amountFor(random: Random, currency: string): number {
  return currency === 'inr' ? random.integer(100, 500_000) : random.integer(50, 200_000);
}

async function create(
  context: FlowContext,
  flow: FlowName,
  params: CreateParams,
  intended: 'capture' | 'cancel' = 'capture',
): Promise<{ record: IntentRecord; intent: Json | undefined }> {
  const ref = context.nextRef();
  const record: IntentRecord = {
    ref,
    merchant: context.merchant,
    flow,
    connector: params.connector,
    intended,
    id: undefined,
    answered: undefined,
    declined: false,
    refunds: new Map(),
  };
  context.records.set(ref, record);
  const body = {
    amount: params.amount,
    currency: params.currency,
    payment_method: params.paymentMethod,
    confirm: params.confirm,
    capture_method: params.capture,
    ...(params.connector === undefined ? {} : { connector: params.connector }),
    metadata: { chaos_ref: ref, chaos_flow: flow },
  };
  const answer = await context.client.post(
    '/v1/payment_intents',
    body,
    context.client.newKey('create'),
  );
  return { record, intent: await settleAnswer(context, record, 'create', answer) };
}

/** Records a create/confirm answer; a processing intent is synced a few times to learn its outcome. */
async function settleAnswer(
  context: FlowContext,
  record: IntentRecord,
  step: string,
  answer: Answer | undefined,
): Promise<Json | undefined> {
  if (answer?.status === 402 && answer.body.error?.type === 'card_error') {
    record.declined = true;
    return undefined;
  }
  if (!isIntent(answer)) {
    unexpected(context, step, answer);
    return undefined;
  }
  remember(record, answer.body);
  let intent: Json = answer.body;
  for (let syncs = 0; intent.status === 'processing' && syncs < 3; syncs++) {
    await sleep(300);
    const synced = await context.client.post(`/v1/payment_intents/${record.id}/sync`, {});
    if (!isIntent(synced)) {
      unexpected(context, 'sync', synced);
      return undefined;
    }
    remember(record, synced.body);
    intent = synced.body;
  }
  return intent;
}

async function capture(
  context: FlowContext,
  record: IntentRecord,
  intent: Json,
  partial: boolean,
): Promise<void> {
  if (intent.status !== 'requires_capture') return;
  const amount = Number(intent.amount_capturable);
  const body =
    partial && amount > 1
      ? { amount_to_capture: Math.max(1, Math.floor(amount * (0.5 + context.random.next() * 0.4))) }
      : {};
  const answer = await context.client.post(
    `/v1/payment_intents/${record.id}/capture`,
    body,
    context.client.newKey('capture'),
  );
  if (isIntent(answer)) remember(record, answer.body);
  else unexpected(context, 'capture', answer);
}

async function cancel(context: FlowContext, record: IntentRecord): Promise<void> {
  const answer = await context.client.post(
    `/v1/payment_intents/${record.id}/cancel`,
    { cancellation_reason: 'requested_by_customer' },
    context.client.newKey('cancel'),
  );
  if (isIntent(answer)) remember(record, answer.body);
  else unexpected(context, 'cancel', answer);
}

async function refund(
  context: FlowContext,
  record: IntentRecord,
  amount: number | undefined,
): Promise<boolean> {
  const body = {
    payment_intent: record.id,
    ...(amount === undefined ? {} : { amount }),
    metadata: { chaos_ref: record.ref },
  };
  const answer = await context.client.post('/v1/refunds', body, context.client.newKey('refund'));
  if (
    answer?.status === 200 &&
    answer.body.object === 'refund' &&
    typeof answer.body.id === 'string'
  ) {
    record.refunds.set(answer.body.id, {
      amount: Number(answer.body.amount),
      status: String(answer.body.status),
    });
    return answer.body.status === 'succeeded';
  }
  unexpected(context, 'refund', answer);
  return false;
}

async function refunds(
  context: FlowContext,
  record: IntentRecord,
  intent: Json,
  connector: string,
): Promise<void> {
  if (intent.status !== 'succeeded') return;
  const received = Number(intent.amount_received);
  if (connector === 'paytm') {
    await refund(context, record, undefined);
    return;
  }
  let left = received;
  const count = context.random.integer(1, 3);
  for (let index = 0; index < count && left > 1; index++) {
    const last = index === count - 1 && context.random.chance(0.4);
    const amount = last
      ? left
      : Math.max(1, Math.floor(left * (0.2 + context.random.next() * 0.3)));
    if (!(await refund(context, record, amount))) return;
    left -= amount;
  }
}

/** One flow, chosen by the client's random generator. */
export async function runFlow(context: FlowContext): Promise<void> {
  const random = context.random;
  const flow = random.weighted(flowWeights);
  context.stats.flows[flow] = (context.stats.flows[flow] ?? 0) + 1;
  const card = random.pick(approvedCards);
  const pick = (connectors: readonly string[]) => {
    const connector = random.pick(connectors);
    const currency = random.pick(currencies[connector] ?? ['usd']);
    return { connector, currency, amount: amountFor(random, currency) };
  };
  switch (flow) {
    case 'auto': {
      const { connector, currency, amount } = pick(['stripe', 'razorpay', 'paytm']);
      await create(context, flow, {
        amount,
        currency,
        paymentMethod: card,
        connector,
        capture: 'automatic',
        confirm: true,
      });
      return;
    }
    case 'manual_capture': {
      const { connector, currency, amount } = pick(['stripe', 'razorpay']);
      const { record, intent } = await create(context, flow, {
        amount,
        currency,
        paymentMethod: card,
        connector,
        capture: 'manual',
        confirm: true,
      });
      if (intent !== undefined)
        await capture(context, record, intent, connector === 'stripe' && random.chance(0.7));
      return;
    }
    case 'refunds': {
      const { connector, currency, amount } = pick(['stripe', 'razorpay', 'paytm']);
      const { record, intent } = await create(context, flow, {
        amount,
        currency,
        paymentMethod: card,
        connector,
        capture: 'automatic',
        confirm: true,
      });
      if (intent !== undefined) await refunds(context, record, intent, connector);
      return;
    }
    case 'cancel': {
      // An authorization voided at the PSP (stripe), or an intent canceled before any PSP call.
      const voided = random.chance(0.6);
      const { connector, currency, amount } = pick(
        voided ? ['stripe'] : ['stripe', 'razorpay', 'paytm'],
      );
      const { record, intent } = await create(
        context,
        flow,
        {
          amount,
          currency,
          paymentMethod: card,
          connector,
          capture: voided ? 'manual' : 'automatic',
          confirm: voided,
        },
        'cancel',
      );
      if (
        intent !== undefined &&
        (intent.status === 'requires_capture' ||
          intent.status === 'requires_confirmation' ||
          intent.status === 'requires_payment_method')
      )
        await cancel(context, record);
      return;
    }
    case 'decline': {
      const { connector, currency, amount } = pick(['stripe', 'razorpay', 'paytm']);
      await create(context, flow, {
        amount,
        currency,
        paymentMethod: random.pick(declinedCards),
        connector,
        capture: 'automatic',
        confirm: true,
      });
      return;
    }
    case 'two_step': {
      const { connector, currency, amount } = pick(['stripe', 'razorpay']);
      const manual = random.chance(0.5);
      const { record, intent } = await create(context, flow, {
        amount,
        currency,
        paymentMethod: card,
        connector,
        capture: manual ? 'manual' : 'automatic',
        confirm: false,
      });
      if (intent === undefined) return;
      let confirmed = await settleAnswer(
        context,
        record,
        'confirm',
        await context.client.post(
          `/v1/payment_intents/${record.id}/confirm`,
          {},
          context.client.newKey('confirm'),
        ),
      );
      if (confirmed !== undefined && random.chance(0.2)) {
        // The checkout submitted twice (a new idempotency key): Stripe refuses a confirm of a confirmed intent.
        const again = await context.client.post(
          `/v1/payment_intents/${record.id}/confirm`,
          {},
          context.client.newKey('confirm-again'),
        );
        if (isIntent(again))
          confirmed = await settleAnswer(context, record, 'confirm again', again);
        else if (
          again?.status !== 400 ||
          again.body.error?.code !== 'payment_intent_unexpected_state'
        )
          unexpected(context, 'confirm again', again);
      }
      if (confirmed !== undefined && manual) await capture(context, record, confirmed, false);
      return;
    }
    case 'routed': {
      // No connector named: the merchant's routing picks one and may fail over to the next.
      const currency = random.pick(['usd', 'inr']);
      const manual = currency === 'usd' && random.chance(0.4);
      const { record, intent } = await create(context, flow, {
        amount: amountFor(random, currency),
        currency,
        paymentMethod: card,
        connector: undefined,
        capture: manual ? 'manual' : 'automatic',
        confirm: true,
      });
      if (intent !== undefined && manual) await capture(context, record, intent, false);
      return;
    }
  }
}

/** Runs `clients` concurrent loops of flows until `stopped()`; each client has its own random stream. */
export async function runLoad(options: {
  clients: readonly { client: PayrailClient; merchant: number; random: Random }[];
  records: Map<string, IntentRecord>;
  stats: LoadStats;
  stopped: () => boolean;
}): Promise<void> {
  await Promise.all(
    options.clients.map(async ({ client, merchant, random }, index) => {
      let count = 0;
      const context: FlowContext = {
        client,
        random,
        merchant,
        records: options.records,
        stats: options.stats,
        nextRef: () => `c${index}-${++count}`,
      };
      while (!options.stopped()) await runFlow(context);
    }),
  );
}
