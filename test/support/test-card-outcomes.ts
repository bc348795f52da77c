// What Stripe documents for each test card (docs.stripe.com/testing), as the merchant sees it:
// Stripe's error `code` and `decline_code`. One table for every test of the catalogue: the
// simulator's own answers (test/vault/simulator-cards.test.ts), the service and HTTP API
// (test/integration/cards.test.ts) and Stripe's SDK (test/stripe-compat/cards.test.ts).
//
// A card whose issuer wants the card holder authenticated is declined authentication_required by
// the PSP when it comes without 3-D Secure data (documentedOutcome: what the simulator answers);
// Payrail then asks the card holder, so its API answers requires_action (documentedApiOutcome).
// One whose 3DS lookup fails is declined card_declined (generic_decline), as Stripe documents it.
import { invalidTestCardNumbers, testCardNumbers } from '../../src/vault/test-cards.ts';

export type DocumentedOutcome =
  | { readonly kind: 'approve' }
  | { readonly kind: 'decline'; readonly code: string; readonly declineCode: string }
  /** Payrail's own simulator faults. */
  | { readonly kind: 'error' | 'timeout' | 'lost' }
  /** Refused when the payment method is created. */
  | { readonly kind: 'invalid'; readonly code: string }
  /** The card holder must authenticate first (3-D Secure): the intent requires_action. */
  | { readonly kind: 'requires_action' };

const decline = (code: string, declineCode = code): DocumentedOutcome => ({
  kind: 'decline',
  code,
  declineCode,
});
const approve: DocumentedOutcome = { kind: 'approve' };

const declines: Readonly<Record<string, DocumentedOutcome>> = {
  // Declined payments.
  '4000000000000002': decline('card_declined', 'generic_decline'),
  '4000000000009995': decline('card_declined', 'insufficient_funds'),
  '4000000000009987': decline('card_declined', 'lost_card'),
  '4000000000009979': decline('card_declined', 'stolen_card'),
  '4000000000000069': decline('expired_card'),
  '4000000000000127': decline('incorrect_cvc'),
  '4000000000000119': decline('processing_error'),
  '4000000000006975': decline('card_declined', 'card_velocity_exceeded'),
  '4000000000000341': decline('card_declined', 'generic_decline'),
  // Radar: always blocked, and highest risk (blocked by the default rule); elevated risk succeeds.
  '4100000000000019': decline('card_declined', 'fraudulent'),
  '4000000000004954': decline('card_declined', 'fraudulent'),
  // 3-D Secure required (declined without 3DS data), or a failing 3DS lookup.
  '4000002500003155': decline('authentication_required'),
  '4000002760003184': decline('authentication_required'),
  '4000003800000446': decline('authentication_required'),
  '4000008260003178': decline('authentication_required'),
  '4000000000003220': decline('authentication_required'),
  '4000000000003063': decline('authentication_required'),
  '4000008400001629': decline('authentication_required'),
  '4000008400001280': decline('card_declined', 'generic_decline'),
  // Payrail's simulator faults.
  '4000009990000013': { kind: 'error' },
  '4000009990000021': { kind: 'timeout' },
  '4000009990000039': { kind: 'lost' },
};

export function documentedOutcome(number: string): DocumentedOutcome {
  if (invalidTestCardNumbers.includes(number)) return { kind: 'invalid', code: 'incorrect_number' };
  return declines[number] ?? approve;
}

/** What Payrail's API answers: the PSP's decline for authentication becomes requires_action. */
export function documentedApiOutcome(number: string): DocumentedOutcome {
  const outcome = documentedOutcome(number);
  return outcome.kind === 'decline' && outcome.declineCode === 'authentication_required'
    ? { kind: 'requires_action' }
    : outcome;
}

/** Every number the table speaks of is in the catalogue (a typo here would test nothing). */
export const documentedDeclineNumbers: readonly string[] = Object.keys(declines);
export const everyTestNumber: readonly string[] = [...testCardNumbers, ...invalidTestCardNumbers];
