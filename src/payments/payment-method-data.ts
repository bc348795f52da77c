// `payment_method_data`: a card given inline when creating or confirming a payment intent, as
// Stripe.js sends it. It is stored in the vault as a new payment method (as Stripe creates one),
// and the intent uses that. A card is given by its details, or by a test token (`tok_visa`).
import { PaymentError } from './errors.ts';
import type { CardVault } from './dependencies.ts';
import { VaultError } from '../vault/errors.ts';

export type PaymentMethodData = {
  readonly card:
    | {
        readonly number: string;
        readonly expMonth: number;
        readonly expYear: number;
        readonly cvc?: string;
      }
    | { readonly token: string };
  readonly name?: string | null;
  readonly metadata?: Record<string, string>;
};

const tokenParam = 'payment_method_data[card][token]';

/**
 * The test payment method a Stripe test token names: Stripe's `tok_<card>` tokens mirror its
 * `pm_card_<card>` ids (tok_visa, tok_chargeDeclined …). A stand-in for the vault's
 * `testToken(id)` (src/vault/test-cards.ts, helper "cards"), which replaces it at merge.
 */
function testTokenPaymentMethod(token: string): string | undefined {
  const match = /^tok_([A-Za-z0-9_]{1,60})$/.exec(token);
  return match === null ? undefined : `pm_card_${match[1]}`;
}

/** Stores the card and returns the new payment method's id; nothing is written for a bad card. */
export async function storePaymentMethodData(
  vault: CardVault,
  merchantId: string,
  data: PaymentMethodData,
): Promise<string> {
  const card = data.card;
  if ('token' in card) {
    const testMethod = testTokenPaymentMethod(card.token);
    // A test card answers only to a test merchant (the vault decides), so a live merchant's
    // token is unknown here as on Stripe.
    const found = testMethod === undefined ? undefined : await vault.get(merchantId, testMethod);
    if (testMethod === undefined || found === undefined)
      throw new PaymentError('resource_missing', `No such token: '${card.token.slice(0, 80)}'`, {
        param: tokenParam,
      });
    const revealed = await vault.reveal(merchantId, testMethod);
    const stored = await vault.createCard(merchantId, {
      number: revealed.number,
      expMonth: revealed.expiryMonth,
      expYear: revealed.expiryYear,
      name: data.name ?? null,
      metadata: data.metadata,
    });
    return stored.id;
  }
  try {
    const stored = await vault.createCard(merchantId, {
      number: card.number,
      expMonth: card.expMonth,
      expYear: card.expYear,
      cvc: card.cvc,
      name: data.name ?? null,
      metadata: data.metadata,
    });
    return stored.id;
  } catch (error) {
    // The vault names a card's fields as payment_methods.create has them (`card[number]`).
    if (error instanceof VaultError && error.param !== undefined)
      throw new VaultError(
        error.code,
        error.message,
        error.param.replace(/^([^[]+)/, 'payment_method_data[$1]'),
      );
    throw error;
  }
}
