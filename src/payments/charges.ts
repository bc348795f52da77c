// Charges (issue 13): Stripe's charge as a view of Payrail's payment attempts. A charge is read
// from its attempt, the attempt's intent, the intent's refunds, the card in the vault and the
// balance transaction of the capture; nothing of it is stored on its own, so it can never
// disagree with the payment it shows.
import type { Queryable, Row } from '../storage/database.ts';
import { keysetPage, UnknownCursorError, type PageRequest } from '../storage/pagination.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import { attemptIdOf } from '../ids.ts';
import { chargeSearch, searchPage, type SearchRequest } from '../search/index.ts';
import type { CardVault } from './dependencies.ts';
import { PaymentError } from './errors.ts';
import { paymentAttempts, paymentIntents, refunds as refundsTable } from './tables.ts';
import type { Attempt, ChargeCard, ChargeView, PaymentIntent, Refund } from './types.ts';

export type ChargeListOptions = PageRequest & { readonly paymentIntentId?: string };

/** The card of a payment method as a charge shows it (undefined when the vault has none). */
export async function chargeCard(
  vault: CardVault,
  merchantId: string,
  paymentMethodId: string | null,
): Promise<ChargeCard | undefined> {
  if (paymentMethodId === null) return undefined;
  return cardOf(await vault.get(merchantId, paymentMethodId));
}

/** Only what a charge shows: never more of the vault's record than the card's public facts. */
export function cardOf(method: ChargeCard | undefined): ChargeCard | undefined {
  if (method === undefined) return undefined;
  return {
    brand: method.brand,
    last4: method.last4,
    country: method.country,
    expMonth: method.expMonth,
    expYear: method.expYear,
    fingerprint: method.fingerprint,
    funding: method.funding,
    holderName: method.holderName,
  };
}

/** The charge views of these attempts of one merchant, in their order. */
export async function chargeViews(
  queryable: Queryable,
  merchantId: string,
  attempts: readonly Attempt[],
  cardOf: (paymentMethodId: string) => Promise<ChargeCard | undefined>,
): Promise<ChargeView[]> {
  if (attempts.length === 0) return [];
  const intentIds = [...new Set(attempts.map((attempt) => attempt.paymentIntentId))];
  const ids = textArrayLiteral(intentIds);
  const [intentRows, refundRows, transactionRows] = await Promise.all([
    queryable.query<Row>(
      'SELECT * FROM payment_intents WHERE id = ANY($1::text[]) AND merchant_id = $2',
      [ids, merchantId],
    ),
    queryable.query<Row>(
      'SELECT * FROM refunds WHERE payment_intent_id = ANY($1::text[]) AND merchant_id = $2 ORDER BY id',
      [ids, merchantId],
    ),
    // A charge's balance transaction: the settlement item of its capture (src/settlement/items.ts).
    queryable.query<{ id: string; attempt_id: string }>(
      `SELECT id, attempt_id FROM balance_transactions
        WHERE source = ANY($1::text[]) AND merchant_id = $2 AND type = 'charge'`,
      [ids, merchantId],
    ),
  ]);
  const intents = new Map<string, PaymentIntent>();
  for (const row of intentRows.rows) {
    const intent = paymentIntents.fromRow(row);
    intents.set(intent.id, intent);
  }
  const refunds: Refund[] = refundRows.rows.map(refundsTable.fromRow);
  const transactions = new Map(transactionRows.rows.map((row) => [row.attempt_id, row.id]));
  const cards = new Map<string, ChargeCard | undefined>();
  for (const intent of intents.values()) {
    const method = intent.paymentMethodId;
    if (method !== null && !cards.has(method)) cards.set(method, await cardOf(method));
  }
  return attempts.map((attempt) => {
    const intent = intents.get(attempt.paymentIntentId);
    if (intent === undefined) throw new Error(`attempt ${attempt.id} has no payment intent`);
    return {
      intent,
      attempt,
      refunds: refunds.filter((refund) => refund.paymentIntentId === intent.id),
      card: intent.paymentMethodId === null ? undefined : cards.get(intent.paymentMethodId),
      balanceTransactionId: transactions.get(attempt.id) ?? null,
    };
  });
}

function noSuchCharge(id: string, param = 'id'): PaymentError {
  return new PaymentError('resource_missing', `No such charge: '${id}'`, { param });
}

/** The attempt a charge id names, the merchant's own, or undefined. */
export async function findChargedAttempt(
  queryable: Queryable,
  merchantId: string,
  chargeId: string,
): Promise<Attempt | undefined> {
  const attemptId = attemptIdOf(chargeId);
  if (attemptId === undefined) return undefined;
  const result = await queryable.query<Row>(
    'SELECT * FROM payment_attempts WHERE id = $1 AND merchant_id = $2',
    [attemptId, merchantId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : paymentAttempts.fromRow(row);
}

/** A charge cursor as the attempt id the keyset names (a non-charge id names nothing). */
function cursorOf(chargeId: string | undefined): string | undefined {
  if (chargeId === undefined) return undefined;
  return attemptIdOf(chargeId) ?? chargeId;
}

export class Charges {
  readonly #database: Queryable;
  readonly #vault: CardVault;

  constructor(database: Queryable, vault: CardVault) {
    this.#database = database;
    this.#vault = vault;
  }

  async retrieve(merchantId: string, chargeId: string): Promise<ChargeView> {
    const attempt = await findChargedAttempt(this.#database, merchantId, chargeId);
    if (attempt === undefined) throw noSuchCharge(chargeId);
    const [view] = await chargeViews(this.#database, merchantId, [attempt], (method) =>
      chargeCard(this.#vault, merchantId, method),
    );
    if (view === undefined) throw noSuchCharge(chargeId);
    return view;
  }

  /** Stripe's charge search (src/search), newest first. */
  async search(
    merchantId: string,
    request: SearchRequest,
  ): Promise<{
    items: ChargeView[];
    hasMore: boolean;
    nextPage: string | null;
    totalCount?: number;
  }> {
    const page = await searchPage(this.#database, chargeSearch, merchantId, request);
    const items = await chargeViews(
      this.#database,
      merchantId,
      page.rows.map(paymentAttempts.fromRow),
      (method) => chargeCard(this.#vault, merchantId, method),
    );
    return { ...page, items };
  }

  /** Newest first (attempt ids sort by creation time), optionally of one payment intent. */
  async list(
    merchantId: string,
    options: ChargeListOptions,
  ): Promise<{ charges: ChargeView[]; hasMore: boolean }> {
    let page: { rows: Row[]; hasMore: boolean };
    try {
      page = await keysetPage<Row, string>(
        this.#database,
        {
          select: '*',
          from: 'payment_attempts',
          scope: 'merchant_id = $1',
          scopeParameters: [merchantId],
          filter: '$2::text IS NULL OR payment_intent_id = $2',
          filterParameters: [options.paymentIntentId ?? null],
          key: 'id',
          keyType: 'text',
          order: 'newest_first',
          noun: 'charge',
        },
        {
          limit: options.limit,
          startingAfter: cursorOf(options.startingAfter),
          endingBefore: cursorOf(options.endingBefore),
        },
      );
    } catch (error) {
      // The cursor is named as the caller gave it (a charge id), not as the attempt it maps to.
      if (!(error instanceof UnknownCursorError)) throw error;
      const param = error.param === 'ending_before' ? 'ending_before' : 'starting_after';
      const given =
        (param === 'ending_before' ? options.endingBefore : options.startingAfter) ?? '';
      throw noSuchCharge(given, param);
    }
    const attempts = page.rows.map(paymentAttempts.fromRow);
    return {
      charges: await chargeViews(this.#database, merchantId, attempts, (method) =>
        chargeCard(this.#vault, merchantId, method),
      ),
      hasMore: page.hasMore,
    };
  }
}
