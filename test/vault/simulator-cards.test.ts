// The simulator's answer to every test payment method's number (sim/CONTRACT.md "Test cards"):
// the country cards are approved (the simulator approves any Luhn-valid number it has no rule
// for), and the scenario cards keep their outcomes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cardOutcome, normalizeCardNumber } from '../../sim/cards.ts';
import { testCard, testPaymentMethodIds } from '../../src/vault/test-cards.ts';

const scenarios: Record<string, string> = {
  pm_card_chargeDeclined: 'decline',
  pm_card_chargeDeclinedInsufficientFunds: 'decline',
  pm_card_chargeDeclinedLostCard: 'decline',
  pm_card_chargeDeclinedStolenCard: 'decline',
  pm_card_chargeDeclinedExpiredCard: 'decline',
  pm_card_pspError: 'error',
  pm_card_pspTimeout: 'timeout',
  pm_card_pspLostResponse: 'lost',
};

test('the simulator accepts every test card and approves all but the scenario cards', () => {
  for (const id of testPaymentMethodIds) {
    const card = testCard(id);
    assert.ok(card !== undefined, id);
    assert.equal(
      normalizeCardNumber(card.number),
      card.number,
      `${id}: the simulator refuses the number`,
    );
    assert.equal(cardOutcome(card.number).kind, scenarios[id] ?? 'approve', id);
  }
  for (const id of [
    'pm_card_br',
    'pm_card_ca',
    'pm_card_mx',
    'pm_card_gb',
    'pm_card_de',
    'pm_card_fr',
    'pm_card_in',
    'pm_card_jp',
    'pm_card_sg',
    'pm_card_au',
  ]) {
    assert.equal(cardOutcome(testCard(id)?.number ?? '').kind, 'approve', id);
  }
});
