// The one place that decides whether a merchant's clock may be moved. Today: the merchant exists.
// When merchants get a test/live mode, this is where a live merchant is refused (a live merchant's
// money must run on real time), and nowhere else. A move of the system clock moves every merchant
// without its own: with live merchants, their time must then come from real time (the clock's
// `now(merchantId)` for a live merchant), or the system move be refused here too.
import type { Queryable } from '../storage/database.ts';

export type ClockPolicyAnswer = 'allowed' | 'merchant_not_found' | 'live_mode';

export async function mayMoveMerchantClock(
  database: Queryable,
  merchantId: string,
): Promise<ClockPolicyAnswer> {
  const found = await database.query('SELECT 1 FROM merchants WHERE id = $1', [merchantId]);
  return found.rows.length === 0 ? 'merchant_not_found' : 'allowed';
}
