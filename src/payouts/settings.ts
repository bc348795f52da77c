// A merchant's payout settings (architecture §12): schedule, weekly anchor and minimum balances
// (the merchant's to choose), availability delay and rolling reserve (the operator's). No row
// means the defaults of migration 019: T+2, daily, no reserve, no minimum.
import { isCurrency, MAX_AMOUNT_MINOR } from '../money/index.ts';
import type { Queryable } from '../storage/database.ts';
import { PayoutError } from './errors.ts';
import type { PayoutSchedule, PayoutSettings } from './types.ts';

export const defaultPayoutSettings = {
  delayDays: 2,
  schedule: 'daily' as PayoutSchedule,
  weeklyAnchor: 1,
  reservePercentBps: 0,
  reserveDays: 0,
};

/** What a merchant may change. A minimum of 0 removes that currency's minimum. */
export type MerchantSettingsChange = {
  readonly schedule?: PayoutSchedule;
  readonly weeklyAnchor?: number;
  readonly minimumBalances?: Readonly<Record<string, bigint | number>>;
};

/** What the operator may change besides. */
export type OperatorSettingsChange = MerchantSettingsChange & {
  readonly delayDays?: number;
  readonly reservePercentBps?: number;
  readonly reserveDays?: number;
};

type SettingsRow = {
  delay_days: number;
  schedule: PayoutSchedule;
  weekly_anchor: number;
  reserve_percent_bps: number;
  reserve_days: number;
  updated_at: Date;
};

export async function readPayoutSettings(
  queryable: Queryable,
  merchantId: string,
): Promise<PayoutSettings> {
  const row = (
    await queryable.query<SettingsRow>(
      `SELECT delay_days, schedule, weekly_anchor, reserve_percent_bps, reserve_days, updated_at
         FROM merchant_payout_settings WHERE merchant_id = $1`,
      [merchantId],
    )
  ).rows[0];
  const minimums = await queryable.query<{ currency: string; amount: bigint }>(
    'SELECT currency, amount FROM merchant_minimum_balances WHERE merchant_id = $1 ORDER BY currency',
    [merchantId],
  );
  return {
    merchantId,
    delayDays: row?.delay_days ?? defaultPayoutSettings.delayDays,
    schedule: row?.schedule ?? defaultPayoutSettings.schedule,
    weeklyAnchor: row?.weekly_anchor ?? defaultPayoutSettings.weeklyAnchor,
    reservePercentBps: row?.reserve_percent_bps ?? defaultPayoutSettings.reservePercentBps,
    reserveDays: row?.reserve_days ?? defaultPayoutSettings.reserveDays,
    minimumBalances: Object.fromEntries(minimums.rows.map((m) => [m.currency, BigInt(m.amount)])),
    updatedAt: row?.updated_at ?? null,
  };
}

function check(ok: boolean, message: string, param: string): void {
  if (!ok) throw new PayoutError('parameter_invalid', message, param);
}

/** Guards the domain (the routes' schemas check first). */
function validate(change: OperatorSettingsChange): void {
  const { weeklyAnchor, delayDays, reservePercentBps, reserveDays } = change;
  if (weeklyAnchor !== undefined)
    check(
      Number.isInteger(weeklyAnchor) && weeklyAnchor >= 1 && weeklyAnchor <= 7,
      'weekly_anchor must be a day of the week.',
      'weekly_anchor',
    );
  if (delayDays !== undefined)
    check(
      Number.isInteger(delayDays) && delayDays >= 0 && delayDays <= 30,
      'delay_days must be 0 to 30.',
      'delay_days',
    );
  if (reservePercentBps !== undefined)
    check(
      Number.isInteger(reservePercentBps) && reservePercentBps >= 0 && reservePercentBps <= 10_000,
      'reserve_percent_bps must be 0 to 10000.',
      'reserve_percent_bps',
    );
  if (reserveDays !== undefined)
    check(
      Number.isInteger(reserveDays) && reserveDays >= 0 && reserveDays <= 365,
      'reserve_days must be 0 to 365.',
      'reserve_days',
    );
  for (const [currency, value] of Object.entries(change.minimumBalances ?? {})) {
    check(
      typeof value === 'bigint' || Number.isSafeInteger(value),
      `minimum_balances[${currency}] must be an integer.`,
      `minimum_balances[${currency}]`,
    );
    const amount = BigInt(value);
    check(isCurrency(currency), `Unknown currency '${currency}'.`, 'minimum_balances');
    check(
      amount >= 0n && amount <= MAX_AMOUNT_MINOR,
      `minimum_balances[${currency}] is out of range.`,
      `minimum_balances[${currency}]`,
    );
  }
}

/** Applies a change inside the caller's transaction; fields not given keep their value. */
export async function writePayoutSettings(
  tx: Queryable,
  merchantId: string,
  change: OperatorSettingsChange,
  now: Date,
): Promise<void> {
  validate(change);
  const current = await readPayoutSettings(tx, merchantId);
  await tx.query(
    `INSERT INTO merchant_payout_settings
       (merchant_id, delay_days, schedule, weekly_anchor, reserve_percent_bps, reserve_days, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (merchant_id) DO UPDATE SET delay_days = EXCLUDED.delay_days, schedule = EXCLUDED.schedule,
       weekly_anchor = EXCLUDED.weekly_anchor, reserve_percent_bps = EXCLUDED.reserve_percent_bps,
       reserve_days = EXCLUDED.reserve_days, updated_at = EXCLUDED.updated_at`,
    [
      merchantId,
      change.delayDays ?? current.delayDays,
      change.schedule ?? current.schedule,
      change.weeklyAnchor ?? current.weeklyAnchor,
      change.reservePercentBps ?? current.reservePercentBps,
      change.reserveDays ?? current.reserveDays,
      now,
    ],
  );
  for (const [currency, value] of Object.entries(change.minimumBalances ?? {})) {
    const amount = BigInt(value);
    if (amount === 0n)
      await tx.query(
        'DELETE FROM merchant_minimum_balances WHERE merchant_id = $1 AND currency = $2',
        [merchantId, currency],
      );
    else
      await tx.query(
        `INSERT INTO merchant_minimum_balances (merchant_id, currency, amount) VALUES ($1, $2, $3)
         ON CONFLICT (merchant_id, currency) DO UPDATE SET amount = EXCLUDED.amount`,
        [merchantId, currency, amount],
      );
  }
}
