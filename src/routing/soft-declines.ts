// Which failed authorizations may be tried again on ANOTHER connector (soft declines), and which
// are final. A soft decline is one another acquirer may well approve: the issuer's generic
// refusal, a processing error, the PSP refusing before any issuer decided. A hard decline is
// about the card itself (no funds, lost, stolen, expired, wrong CVC) and fails everywhere;
// retrying it only adds declines to the card's record.
//
// Only an explicit `failed` outcome can ever be retried elsewhere. `unknown` and `pending` may
// have charged the card at the first PSP, so another attempt elsewhere could charge it twice
// (architecture §1 rules 4 and 5): those are resolved by sync, never by failover.
import { connectorModules } from '../connectors/registry.ts';
import type { DeclineMap, DeclineVerdict, PaymentOutcome } from '../connectors/types.ts';

export type { DeclineMap, DeclineVerdict } from '../connectors/types.ts';

/** Defaults for every connector, and per-connector overrides that are looked at before them. */
export type DeclinePolicy = {
  readonly defaults: DeclineMap;
  readonly connectors: Readonly<Record<string, DeclineMap>>;
};

const defaultMap: DeclineMap = {
  declineCodes: {
    do_not_honor: 'retry_elsewhere',
    generic_decline: 'retry_elsewhere',
    insufficient_funds: 'final',
    lost_card: 'final',
    stolen_card: 'final',
    expired_card: 'final',
    incorrect_cvc: 'final',
    // Another acquirer may well process it (as processing_error among the PSP codes below).
    processing_error: 'retry_elsewhere',
    card_velocity_exceeded: 'final',
    fraudulent: 'final',
    // The issuer asked for 3-D Secure: another PSP without the challenge would sidestep it.
    authentication_required: 'final',
  },
  // Common PSP codes (Stripe's names, which many PSPs and our simulator share).
  pspCodes: {
    processing_error: 'retry_elsewhere',
    issuer_not_available: 'retry_elsewhere',
    issuer_unavailable: 'retry_elsewhere',
    try_again_later: 'retry_elsewhere',
    reenter_transaction: 'retry_elsewhere',
    rate_limit: 'retry_elsewhere',
    card_not_supported: 'retry_elsewhere',
    currency_not_supported: 'retry_elsewhere',
    // The issuer asked for 3-D Secure: another PSP without the challenge would sidestep it.
    authentication_required: 'final',
    pickup_card: 'final',
    fraudulent: 'final',
    restricted_card: 'final',
    security_violation: 'final',
    stop_payment_order: 'final',
    revocation_of_authorization: 'final',
    revocation_of_all_authorizations: 'final',
    card_velocity_exceeded: 'final',
    incorrect_number: 'final',
    invalid_number: 'final',
    invalid_expiry_month: 'final',
    invalid_expiry_year: 'final',
    invalid_cvc: 'final',
    incorrect_zip: 'final',
  },
  withoutDeclineCode: 'retry_elsewhere',
};

export const defaultDeclinePolicy: DeclinePolicy = {
  defaults: defaultMap,
  // Each connector module names its own codes (src/connectors/<name>/index.ts).
  connectors: Object.fromEntries(
    connectorModules.flatMap((module) =>
      module.declinePolicy === undefined ? [] : [[module.name, module.declinePolicy]],
    ),
  ),
};

function lookup(
  maps: readonly DeclineMap[],
  pick: (map: DeclineMap) => DeclineVerdict | undefined,
): DeclineVerdict | undefined {
  for (const map of maps) {
    const verdict = pick(map);
    if (verdict !== undefined) return verdict;
  }
  return undefined;
}

/**
 * The verdict on a failed authorization; undefined when the outcome is not a failure (success,
 * pending, unknown). A decline code nobody mapped is final: retrying blindly costs the card.
 */
export function declineVerdict(
  connector: string,
  outcome: PaymentOutcome,
  policy: DeclinePolicy = defaultDeclinePolicy,
): DeclineVerdict | undefined {
  if (outcome.status !== 'failed') return undefined;
  const own = policy.connectors[connector];
  const maps = own === undefined ? [policy.defaults] : [own, policy.defaults];
  const { pspCode, declineCode } = outcome;
  const byPspCode =
    pspCode === undefined
      ? undefined
      : lookup(maps, (map) =>
          map.pspCodes !== undefined && Object.hasOwn(map.pspCodes, pspCode)
            ? map.pspCodes[pspCode]
            : undefined,
        );
  if (byPspCode !== undefined) return byPspCode;
  if (declineCode === undefined) return lookup(maps, (map) => map.withoutDeclineCode) ?? 'final';
  return (
    lookup(maps, (map) =>
      map.declineCodes !== undefined && Object.hasOwn(map.declineCodes, declineCode)
        ? map.declineCodes[declineCode]
        : undefined,
    ) ?? 'final'
  );
}

/** Whether this outcome allows a new attempt on another connector. */
export function isRetryableDecline(
  connector: string,
  outcome: PaymentOutcome,
  policy: DeclinePolicy = defaultDeclinePolicy,
): boolean {
  return declineVerdict(connector, outcome, policy) === 'retry_elsewhere';
}
