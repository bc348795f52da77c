// The one place that decides whether a clock may be moved. A live merchant's money runs on real
// time: its own clock never moves, and the system clock (which every merchant without its own
// follows) moves only while no live merchant exists.
import type { Queryable } from '../storage/database.ts';
import { lockOffset, systemScope } from './clock-store.ts';

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

/**
 * The system clock moves every merchant without its own: never while a live merchant exists.
 * Asked inside the move's transaction, after it locked the system row (clock-store.ts
 * `lockOffset`), so a live merchant committed meanwhile is seen.
 */
export async function maySystemClockMove(tx: Queryable): Promise<ClockPolicyAnswer> {
  const live = await tx.query('SELECT 1 FROM merchants WHERE livemode LIMIT 1');
  return live.rows.length > 0 ? 'live_mode' : 'allowed';
}

/**
 * A live merchant is made only while the system clock runs on real time, in the transaction
 * that creates it: the system row is held (FOR SHARE) until that commits, so a move of the system
 * clock waits for it and then sees the live merchant (maySystemClockMove).
 */
export async function mayCreateLiveMerchant(tx: Queryable): Promise<ClockPolicyAnswer> {
  return (await lockOffset(tx, systemScope, 'share')) === 0 ? 'allowed' : 'live_mode';
}
