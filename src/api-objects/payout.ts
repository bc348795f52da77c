// Stripe's payout and bank account (external account), and Payrail's payout settings (§12).
import { Type, type Static } from 'typebox';
import type { BankAccount, Payout, PayoutSettings } from '../payouts/types.ts';
import { Enum, Int64, Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

export const PayoutSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payout'),
  amount: Int64,
  currency: Type.String(),
  arrival_date: Timestamp,
  automatic: Type.Boolean(),
  method: Type.Literal('standard'),
  type: Type.Literal('bank_account'),
  status: Enum(['pending', 'in_transit', 'paid', 'failed', 'canceled'] as const),
  failure_code: Nullable(Type.String()),
  failure_message: Nullable(Type.String()),
  destination: Type.String({ description: 'The bank account id.' }),
  balance_transaction: Nullable(Type.String()),
  trace_id: Nullable(Type.String({ description: "The bank's reference once it took the payout." })),
  description: Nullable(Type.String()),
  metadata: StringMap,
  created: Timestamp,
  livemode: Type.Boolean(),
});

export function presentPayout(payout: Payout, livemode = testMode): Static<typeof PayoutSchema> {
  return {
    id: payout.id,
    object: 'payout',
    amount: payout.amount,
    currency: payout.currency,
    arrival_date: unixSeconds(payout.arrivalDate),
    automatic: payout.method === 'automatic',
    method: 'standard',
    type: 'bank_account',
    status: payout.status,
    failure_code: payout.failureCode,
    failure_message: payout.failureMessage,
    destination: payout.bankAccountId,
    balance_transaction: payout.balanceTransactionId,
    trace_id: payout.traceId,
    description: payout.description,
    metadata: { ...payout.metadata },
    created: unixSeconds(payout.createdAt),
    livemode,
  };
}

export const BankAccountSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('bank_account'),
  account_holder_name: Type.String(),
  country: Type.String(),
  currency: Type.String(),
  default_for_currency: Type.Boolean(),
  fingerprint: Type.String({
    description: 'The same for the same account number, country and routing number.',
  }),
  last4: Type.String(),
  routing_number: Nullable(Type.String()),
  status: Enum(['new', 'verified', 'errored'] as const),
  created: Timestamp,
  livemode: Type.Boolean(),
});

export function presentBankAccount(
  account: BankAccount,
  livemode = testMode,
): Static<typeof BankAccountSchema> {
  return {
    id: account.id,
    object: 'bank_account',
    account_holder_name: account.accountHolderName,
    country: account.country,
    currency: account.currency,
    default_for_currency: account.defaultForCurrency,
    fingerprint: account.fingerprint,
    last4: account.last4,
    routing_number: account.routingNumber,
    status: account.status,
    created: unixSeconds(account.createdAt),
    livemode,
  };
}

export const DeletedBankAccountSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('bank_account'),
  deleted: Type.Literal(true),
});

export const weekdays = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export type Weekday = (typeof weekdays)[number];

export const PayoutSettingsSchema = Type.Object({
  object: Type.Literal('payout_settings'),
  schedule: Type.Object({
    interval: Enum(['daily', 'weekly', 'manual'] as const),
    weekly_anchor: Enum(weekdays),
    delay_days: Type.Integer(),
  }),
  reserve: Type.Object({
    percent_bps: Type.Integer(),
    days: Type.Integer(),
  }),
  minimum_balances: Type.Record(Type.String(), Int64),
  updated: Nullable(Timestamp),
});

export function presentPayoutSettings(
  settings: PayoutSettings,
): Static<typeof PayoutSettingsSchema> {
  return {
    object: 'payout_settings',
    schedule: {
      interval: settings.schedule,
      weekly_anchor: weekdays[settings.weeklyAnchor - 1] ?? 'monday',
      delay_days: settings.delayDays,
    },
    reserve: { percent_bps: settings.reservePercentBps, days: settings.reserveDays },
    minimum_balances: { ...settings.minimumBalances },
    updated: settings.updatedAt === null ? null : unixSeconds(settings.updatedAt),
  };
}

export const PayoutRunSchema = Type.Object({
  object: Type.Literal('payout_run'),
  created: Type.Integer({ description: 'Automatic payouts created.' }),
  skipped: Type.Integer({ description: 'Due merchants and currencies with nothing to pay.' }),
  sent: Type.Object({
    attempted: Type.Integer(),
    in_transit: Type.Integer(),
    failed: Type.Integer(),
    unknown: Type.Integer({ description: "The bank's answer not learned: sent again next run." }),
  }),
});

export function presentPayoutRun(run: {
  created: number;
  skipped: number;
  sent: { attempted: number; inTransit: number; failed: number; unknown: number };
}): Static<typeof PayoutRunSchema> {
  return {
    object: 'payout_run',
    created: run.created,
    skipped: run.skipped,
    sent: {
      attempted: run.sent.attempted,
      in_transit: run.sent.inTransit,
      failed: run.sent.failed,
      unknown: run.sent.unknown,
    },
  };
}
