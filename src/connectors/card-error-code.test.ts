// The merchant's error `code` for each normalized decline code, as Stripe answers it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cardErrorCode, type DeclineCode } from './types.ts';

test("each decline code's error code is Stripe's: card_declined but for the four with codes of their own", () => {
  const expected: Record<DeclineCode, string> = {
    generic_decline: 'card_declined',
    insufficient_funds: 'card_declined',
    lost_card: 'card_declined',
    stolen_card: 'card_declined',
    do_not_honor: 'card_declined',
    card_velocity_exceeded: 'card_declined',
    fraudulent: 'card_declined',
    expired_card: 'expired_card',
    incorrect_cvc: 'incorrect_cvc',
    processing_error: 'processing_error',
    authentication_required: 'authentication_required',
  };
  for (const [declineCode, code] of Object.entries(expected))
    assert.equal(cardErrorCode(declineCode), code, declineCode);
  for (const other of [undefined, null, '', 'card_declined', 'toString', 'something_new'])
    assert.equal(cardErrorCode(other), 'card_declined', String(other));
});
