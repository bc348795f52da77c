// `payment_method_data`: a card given inline when creating or confirming a payment intent, as
// Stripe.js sends it. It is stored in the vault as a new payment method (as Stripe creates one),
// and the intent uses that. A card is given by its details, or by a test token (`tok_visa`).
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

/** Stores the card and returns the new payment method's id; nothing is written for a bad card. */
export async function storePaymentMethodData(
  vault: CardVault,
  merchantId: string,
  data: PaymentMethodData,
): Promise<string> {
  const card = data.card;
  const extra = { name: data.name ?? null, metadata: data.metadata };
  try {
    // A test token answers only to a test merchant (the vault decides), as on Stripe.
    const stored =
      'token' in card
        ? await vault.createCardFromToken(merchantId, card.token, extra)
        : await vault.createCard(merchantId, {
            number: card.number,
            expMonth: card.expMonth,
            expYear: card.expYear,
            cvc: card.cvc,
            ...extra,
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
