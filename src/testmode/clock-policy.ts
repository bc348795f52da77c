// The one place that decides whether a clock may be moved. A live merchant's money runs on real
// time: its own clock never moves, and the system clock (which every merchant without its own
// follows) moves only while no live merchant exists.
import type { Queryable } from '../storage/database.ts';

export type ClockPolicyAnswer = 'allowed' | 'merchant_not_found' | 'live_mode';

export async function mayMoveMerchantClock(
  database: Queryable,
  merchantId: string,
): Promise<ClockPolicyAnswer> {
  const found = await database.query<{ livemode: boolean }>(
    'SELECT livemode FROM merchants WHERE id = $1',
    [merchantId],
  );
  const merchant = found.rows[0];
  if (merchant === undefined) return 'merchant_not_found';
  return merchant.livemode ? 'live_mode' : 'allowed';
}

/** The system clock moves every merchant without its own: never while a live merchant exists. */
export async function maySystemClockMove(database: Queryable): Promise<ClockPolicyAnswer> {
  const live = await database.query('SELECT 1 FROM merchants WHERE livemode LIMIT 1');
  return live.rows.length > 0 ? 'live_mode' : 'allowed';
}
