// A charge is the view of one payment attempt (issue 13): its id is the attempt's, with Stripe's
// `ch_` prefix instead of `pa_`, so a charge id maps back to exactly one attempt and no second
// record is kept.
const attemptPrefix = 'pa_';
const chargePrefix = 'ch_';

export function chargeIdOf(attemptId: string): string {
  if (!attemptId.startsWith(attemptPrefix)) throw new Error(`not an attempt id: ${attemptId}`);
  return chargePrefix + attemptId.slice(attemptPrefix.length);
}

/** The attempt a charge id names, or undefined when it is no charge id at all. */
export function attemptIdOf(chargeId: string): string | undefined {
  if (!chargeId.startsWith(chargePrefix) || chargeId.length === chargePrefix.length)
    return undefined;
  return attemptPrefix + chargeId.slice(chargePrefix.length);
}

/** The charge of an intent's latest attempt (Stripe's `latest_charge`), or null before any. */
export function latestChargeId(attempts: readonly { readonly id: string }[]): string | null {
  const latest = attempts.at(-1);
  return latest === undefined ? null : chargeIdOf(latest.id);
}
