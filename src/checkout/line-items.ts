// Line items as the API gives them (Stripe's `line_items[]` with inline `price_data`), checked
// and totalled: one currency for all, a positive total within the charge limits.
import { randomBase62 } from '../ids.ts';
import { checkChargeAmount, normalizeCurrency } from '../payments/intent-parameters.ts';
import { CheckoutError, invalid } from './errors.ts';
import type { LineItem } from './types.ts';

export type LineItemInput = {
  /** A Price id: Payrail has no Prices API, so it is refused by name. */
  readonly price?: string;
  readonly priceData?: {
    readonly currency: string;
    readonly unitAmount: number;
    readonly productData: { readonly name: string; readonly description?: string };
  };
  readonly quantity: number;
};

export const lineItemsMax = 100;
/** Stripe's largest quantity of one line item. */
export const quantityMax = 999_999;

export type Priced = {
  readonly currency: string;
  readonly lineItems: LineItem[];
  readonly amountTotal: bigint;
};

/** The items with their ids and totals; every rule before anything is stored. */
export function priceLineItems(inputs: readonly LineItemInput[] | undefined): Priced {
  if (inputs === undefined || inputs.length === 0)
    throw new CheckoutError(
      'parameter_missing',
      'line_items is required in payment mode: give at least one item with price_data.',
      'line_items',
    );
  if (inputs.length > lineItemsMax)
    throw invalid(`At most ${lineItemsMax} line items.`, 'line_items');
  let currency: string | undefined;
  let total = 0n;
  const lineItems = inputs.map((input, index): LineItem => {
    const param = `line_items[${index}]`;
    if (input.price !== undefined)
      throw invalid(
        'Payrail has no Prices API: give the item inline as price_data ' +
          '(currency, unit_amount, product_data[name]) instead of price.',
        `${param}[price]`,
      );
    const data = input.priceData;
    if (data === undefined)
      throw new CheckoutError(
        'parameter_missing',
        'Each line item needs price_data.',
        `${param}[price_data]`,
      );
    const itemCurrency = normalizeCurrency(data.currency);
    if (currency !== undefined && itemCurrency !== currency)
      throw invalid(
        'All line items must have the same currency.',
        `${param}[price_data][currency]`,
      );
    currency = itemCurrency;
    if (!Number.isSafeInteger(data.unitAmount) || data.unitAmount < 0)
      throw invalid(
        'unit_amount must be a non-negative integer.',
        `${param}[price_data][unit_amount]`,
      );
    if (!Number.isSafeInteger(input.quantity) || input.quantity < 1 || input.quantity > quantityMax)
      throw invalid(`quantity must be between 1 and ${quantityMax}.`, `${param}[quantity]`);
    const name = data.productData.name.trim();
    if (name === '')
      throw invalid(
        'product_data[name] must not be empty.',
        `${param}[price_data][product_data][name]`,
      );
    const amount = BigInt(data.unitAmount) * BigInt(input.quantity);
    total += amount;
    return {
      id: `li_${randomBase62(24)}`,
      name,
      description: data.productData.description ?? null,
      unitAmount: String(data.unitAmount),
      quantity: input.quantity,
      amountTotal: String(amount),
    };
  });
  if (currency === undefined) throw new Error('no line items');
  try {
    checkChargeAmount(total, currency);
  } catch (error) {
    if (error instanceof Error)
      throw invalid(`The total of the line items: ${error.message}`, 'line_items');
    throw error;
  }
  return { currency, lineItems, amountTotal: total };
}
