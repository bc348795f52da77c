// The card vault (architecture §1 rule 8): validates cards, keeps their numbers only encrypted, and hands
// them out decrypted for one connector call. Domain code: no HTTP, no driver; a `Database`.
//
// A card payload {number, name, expiry} is sealed with AES-256-GCM under the active data key,
// with associated data naming the merchant, payment method and data key, so a ciphertext copied
// to another row or merchant fails to decrypt. The CVC is validated at creation and dropped.
import type { CardData } from '../connectors/types.ts';
import { mergeMetadata as mergeStripeMetadata } from '../metadata.ts';
import { newSortableId } from '../ids.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import { errorConstraint, sqlState } from '../storage/database.ts';
import {
  metadataKeysMax,
  validateCard,
  type CardBrand,
  type CardInput,
  type ValidatedCard,
} from './card.ts';
import {
  cardAad,
  cardFingerprint,
  deriveMasterKeys,
  keyBytes,
  open,
  seal,
  type MasterKeys,
} from './crypto.ts';
import { DataKeyRing, asBuffer } from './data-keys.ts';
import { customerKeyById, customerKeyFor, destroyCustomerKey } from './customer-keys.ts';
import { VaultDecryptionError, VaultError, redactDigits } from './errors.ts';
import { issuerCountryOf, testIssuerCountry, type IssuerCountryLookup } from './issuers.ts';
import {
  testCard,
  testCardByNumber,
  testCardCreatedAt,
  testCardExpiryMonth,
  testCardExpiryYear,
  testToken,
  type TestCard,
} from './test-cards.ts';

export const merchantIdLengthMax = 100;
export const paymentMethodIdLengthMax = 100;
const storedIdPattern = /^pm_[A-Za-z0-9]{8,64}$/;

/** What the API may show of a card: never the number, never the CVC. */
export type PaymentMethod = {
  readonly id: string;
  readonly type: 'card';
  readonly brand: CardBrand;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
  /**
   * The issuing country (ISO 3166-1 alpha-2, e.g. 'US'), from the BIN only; null when unknown.
   * Set when the card is stored, with the lookup the vault had then.
   */
  readonly country: string | null;
  /**
   * The first six digits of the number (the BIN, which PCI DSS lets be kept in the clear with the
   * last four); null for cards stored before it was kept. Risk rules read it (`:card_bin:`).
   */
  readonly bin: string | null;
  /** Same card number at the same merchant → same fingerprint; null once the card is shredded. */
  readonly fingerprint: string | null;
  readonly holderName: string | null;
  /** The billing details other than the name (which is `holderName`). */
  readonly billingDetails: BillingDetails;
  /** The customer the card is saved to (attached), or null. */
  readonly customerId: string | null;
  /** False once the card's number was destroyed (detached, or its customer erased). */
  readonly usable: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: Date;
};

export type Address = {
  readonly city?: string;
  readonly country?: string;
  readonly line1?: string;
  readonly line2?: string;
  readonly postal_code?: string;
  readonly state?: string;
};

export type BillingDetails = {
  readonly email?: string;
  readonly phone?: string;
  readonly address?: Address;
};

/** What an update may change (Stripe's payment method update): metadata is merged, '' deletes a key. */
export type PaymentMethodChange = {
  readonly metadata?: Readonly<Record<string, string>>;
  readonly name?: string | null;
  readonly billingDetails?: BillingDetails;
};

/** Why a payment method cannot be attached or used. */
export type AttachRefusal = 'attached_elsewhere' | 'shredded';

export type VaultOptions = {
  /** 32 bytes: config.vaultMasterKey, or resolveMasterKey(config).key in development. */
  readonly masterKey: Buffer;
  /** The merchant's time (src/clock.ts), for expiry checks and creation times; real time when not given. */
  readonly now?: (merchantId: string) => Date;
  /** Whether pm_card_visa and the other test-mode ids resolve (default true). */
  readonly testPaymentMethods?: boolean;
  /**
   * Whether the merchant is a test merchant; the test-mode ids resolve only for those (Stripe
   * refuses them to a live key). Without it, for every merchant.
   */
  readonly isTestMerchant?: (merchantId: string) => Promise<boolean>;
  /**
   * BIN (first 6 or 8 digits, never the number) → issuing country. Defaults to the test-mode table
   * of issuers.ts, which knows only Stripe's test cards; a real deployment passes a BIN database.
   */
  readonly issuerCountry?: IssuerCountryLookup;
};

type PaymentMethodRow = {
  id: string;
  brand: CardBrand;
  last4: string;
  exp_month: number;
  exp_year: number;
  country: string | null;
  bin: string | null;
  fingerprint: string | null;
  holder_name: string | null;
  billing_details: BillingDetails;
  customer_id: string | null;
  shredded_at: Date | null;
  metadata: Record<string, string>;
  created_at: Date;
};

type SealedRow = {
  ciphertext: Uint8Array | null;
  iv: Uint8Array | null;
  auth_tag: Uint8Array | null;
  data_key_id: string | null;
  customer_key_id: string | null;
};

/** The authenticated content of a card ciphertext. */
type CardPayload = { v: 1; number: string; name: string | null; expMonth: number; expYear: number };

const publicColumns =
  'id, brand, last4, exp_month, exp_year, country, bin, fingerprint, holder_name, billing_details, customer_id, shredded_at, metadata, created_at';
const sealedColumns = 'ciphertext, iv, auth_tag, data_key_id, customer_key_id';

/** Stripe's words for a payment method that was detached: it can never be used again. */
export const shreddedPaymentMethodMessage =
  'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.';

function paymentMethodFromRow(row: PaymentMethodRow): PaymentMethod {
  return {
    id: row.id,
    type: 'card',
    brand: row.brand,
    last4: row.last4,
    expMonth: row.exp_month,
    expYear: row.exp_year,
    country: row.country,
    bin: row.bin,
    fingerprint: row.fingerprint,
    holderName: row.holder_name,
    billingDetails: row.billing_details,
    customerId: row.customer_id,
    usable: row.shredded_at === null,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

/** What shredding a card sets ($3 is the time): its number, key, fingerprint and personal fields go. */
const shreddedAssignments = `ciphertext = NULL, iv = NULL, auth_tag = NULL, data_key_id = NULL, customer_key_id = NULL,
  customer_id = NULL, fingerprint = NULL, holder_name = NULL, billing_details = '{}'::jsonb, shredded_at = $3`;

/** Stripe's metadata update (src/metadata.ts): keys merged, an empty value deletes its key. */
export function mergeMetadata(
  current: Readonly<Record<string, string>>,
  change: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  return mergeStripeMetadata(
    current,
    change,
    () =>
      new VaultError(
        'parameter_invalid',
        `Metadata can have at most ${metadataKeysMax} keys.`,
        'metadata',
      ),
  );
}

function validateHolderNameOnly(name: string | null): string | null {
  if (name === null || name === '') return null;
  if (/\d(?:[ -]?\d){11,}/.test(name) || name.length > 100)
    throw new VaultError(
      'parameter_invalid',
      'The cardholder name must be at most 100 characters and contain no card number.',
      'billing_details[name]',
    );
  return name;
}

function checkMerchantId(merchantId: string): void {
  if (
    typeof merchantId !== 'string' ||
    merchantId.length === 0 ||
    merchantId.length > merchantIdLengthMax
  ) {
    throw new VaultError(
      'invalid_request',
      `A merchant id must be 1 to ${merchantIdLengthMax} characters.`,
    );
  }
}

function noSuchPaymentMethod(id: unknown): VaultError {
  const shown =
    typeof id === 'string' && id.length <= paymentMethodIdLengthMax
      ? `: '${redactDigits(id)}'`
      : '';
  return new VaultError('resource_missing', `No such payment method${shown}`, 'payment_method');
}

export class Vault {
  readonly #database: Database;
  readonly #masterKeys: MasterKeys;
  readonly #keyRing: DataKeyRing;
  readonly #now: (merchantId: string) => Date;
  readonly #testPaymentMethods: boolean;
  readonly #isTestMerchant: ((merchantId: string) => Promise<boolean>) | undefined;
  readonly #issuerCountry: IssuerCountryLookup;

  constructor(database: Database, options: VaultOptions) {
    if (!Buffer.isBuffer(options.masterKey) || options.masterKey.length !== keyBytes) {
      throw new Error(`vault: the master key must be ${keyBytes} bytes`);
    }
    this.#database = database;
    this.#masterKeys = deriveMasterKeys(options.masterKey);
    this.#keyRing = new DataKeyRing(database, this.#masterKeys);
    this.#now = options.now ?? (() => new Date());
    this.#testPaymentMethods = options.testPaymentMethods ?? true;
    this.#isTestMerchant = options.isTestMerchant;
    this.#issuerCountry = options.issuerCountry ?? testIssuerCountry;
  }

  /** Validates (everything, before anything is written), encrypts and stores a card. */
  async createCard(
    merchantId: string,
    input: CardInput,
    billingDetails: BillingDetails = {},
  ): Promise<PaymentMethod> {
    checkMerchantId(merchantId);
    const now = this.#now(merchantId);
    const card = validateCard(input, now);
    const country = this.#countryOf(card.number);
    const dataKey = await this.#keyRing.active();
    // Sortable, so that lists come newest first as Stripe's do.
    const id = newSortableId('pm', now.getTime());
    const payload: CardPayload = {
      v: 1,
      number: card.number,
      name: card.holderName,
      expMonth: card.expMonth,
      expYear: card.expYear,
    };
    const plaintext = Buffer.from(JSON.stringify(payload));
    const sealed = seal(dataKey.key, plaintext, cardAad(merchantId, id, dataKey.id));
    plaintext.fill(0);
    try {
      const result = await this.#database.query<PaymentMethodRow>(
        `INSERT INTO payment_methods
           (id, merchant_id, brand, last4, exp_month, exp_year, country, bin, fingerprint, holder_name, ciphertext, iv, auth_tag, data_key_id, metadata, created_at, billing_details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17::jsonb)
         RETURNING ${publicColumns}`,
        [
          id,
          merchantId,
          ...this.#publicValues(merchantId, card, country),
          sealed.ciphertext,
          sealed.iv,
          sealed.authTag,
          dataKey.id,
          JSON.stringify(card.metadata),
          now,
          JSON.stringify(billingDetails),
        ],
      );
      return paymentMethodFromRow(result.rows[0] as PaymentMethodRow);
    } catch (error) {
      if (
        sqlState(error) === '23503' &&
        errorConstraint(error) === 'payment_methods_merchant_id_fkey'
      ) {
        throw new VaultError('resource_missing', 'No such merchant.');
      }
      throw error;
    }
  }

  #publicValues(merchantId: string, card: ValidatedCard, country: string | null): unknown[] {
    const fingerprint = cardFingerprint(this.#masterKeys.fingerprintKey, merchantId, card.number);
    return [
      card.brand,
      card.last4,
      card.expMonth,
      card.expYear,
      country,
      card.number.slice(0, 6),
      fingerprint,
      card.holderName,
    ];
  }

  /**
   * A stored payment method with a test token's card (`tok_visa`): payment_methods.create with
   * `card[token]`, as Stripe does. Test merchants only; anything else is an unknown token.
   */
  async createCardFromToken(
    merchantId: string,
    token: string,
    extra: Pick<CardInput, 'name' | 'metadata'> = {},
    billingDetails: BillingDetails = {},
  ): Promise<PaymentMethod> {
    checkMerchantId(merchantId);
    const card = testToken(token);
    if (card === undefined || !(await this.#testCardsAllowed(merchantId)))
      throw new VaultError(
        'resource_missing',
        `No such token: '${redactDigits(String(token)).slice(0, 100)}'`,
        'card[token]',
      );
    return this.createCard(
      merchantId,
      { number: card.number, expMonth: card.expMonth, expYear: card.expYear, ...extra },
      billingDetails,
    );
  }

  /**
   * The issuing country: with the test-mode issuer table, one of Stripe's test numbers reads as
   * Stripe documents it (its catalogue entry); any other number goes through the BIN lookup.
   */
  #countryOf(number: string): string | null {
    const catalogued =
      this.#issuerCountry === testIssuerCountry ? testCardByNumber(number)?.country : undefined;
    return catalogued ?? issuerCountryOf(number, this.#issuerCountry);
  }

  /** The merchant's payment method, or undefined (also for another merchant's id). */
  async get(merchantId: string, id: string): Promise<PaymentMethod | undefined> {
    checkMerchantId(merchantId);
    const test = await this.#testCard(merchantId, id);
    if (test !== undefined) return this.#testPaymentMethod(merchantId, test);
    if (typeof id !== 'string' || !storedIdPattern.test(id)) return undefined;
    const result = await this.#database.query<PaymentMethodRow>(
      `SELECT ${publicColumns} FROM payment_methods WHERE id = $1 AND merchant_id = $2`,
      [id, merchantId],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : paymentMethodFromRow(row);
  }

  /**
   * The decrypted card, for one connector call only: never log, store or return it. Throws
   * VaultError 'resource_missing' for an unknown id (or another merchant's), and
   * VaultDecryptionError when the stored data fails authentication.
   */
  async reveal(merchantId: string, id: string): Promise<CardData> {
    checkMerchantId(merchantId);
    const test = await this.#testCard(merchantId, id);
    if (test !== undefined)
      return {
        number: test.number,
        expiryMonth: testCardExpiryMonth,
        expiryYear: testCardExpiryYear,
      };
    if (typeof id !== 'string' || !storedIdPattern.test(id)) throw noSuchPaymentMethod(id);
    const result = await this.#database.query<SealedRow>(
      `SELECT ${sealedColumns} FROM payment_methods WHERE id = $1 AND merchant_id = $2`,
      [id, merchantId],
    );
    const row = result.rows[0];
    if (row === undefined) throw noSuchPaymentMethod(id);
    const plaintext = await this.#open(this.#database, merchantId, id, row);
    const payload = JSON.parse(plaintext.toString('utf8')) as CardPayload;
    plaintext.fill(0);
    if (payload.v !== 1)
      throw new Error(`vault: payment method ${id} has an unknown payload version`);
    return {
      number: payload.number,
      expiryMonth: payload.expMonth,
      expiryYear: payload.expYear,
      ...(payload.name === null ? {} : { holderName: payload.name }),
    };
  }

  /** Opens a sealed card, under its customer's key or a vault data key; refuses a shredded one. */
  async #open(
    queryable: Queryable,
    merchantId: string,
    id: string,
    row: SealedRow,
  ): Promise<Buffer> {
    if (row.ciphertext === null || row.iv === null || row.auth_tag === null)
      throw new VaultError(
        'payment_method_unexpected_state',
        shreddedPaymentMethodMessage,
        'payment_method',
      );
    const keyId = row.customer_key_id ?? row.data_key_id;
    if (keyId === null) throw new Error(`vault: payment method ${id} names no key`);
    const key =
      row.customer_key_id === null
        ? await this.#keyRing.key(keyId, queryable)
        : await customerKeyById(queryable, this.#masterKeys, keyId);
    const sealed = {
      ciphertext: asBuffer(row.ciphertext),
      iv: asBuffer(row.iv),
      authTag: asBuffer(row.auth_tag),
    };
    const plaintext = open(key, sealed, cardAad(merchantId, id, keyId));
    if (plaintext === undefined) {
      throw new VaultDecryptionError(
        'card_data_corrupt',
        `vault: the card data of payment method ${id} failed authentication: it was altered, or copied from another payment method or merchant`,
      );
    }
    return plaintext;
  }

  /**
   * A stored payment method for `id`: a test-mode id (pm_card_visa …) becomes a new stored card,
   * as Stripe makes a new PaymentMethod when one is attached; a stored one is returned as it is.
   */
  async materialize(merchantId: string, id: string): Promise<PaymentMethod> {
    const test = await this.#testCard(merchantId, id);
    if (test !== undefined)
      return this.createCard(merchantId, {
        number: test.number,
        expMonth: testCardExpiryMonth,
        expYear: testCardExpiryYear,
      });
    const method = await this.get(merchantId, id);
    if (method === undefined) throw noSuchPaymentMethod(id);
    return method;
  }

  /**
   * Attaches a stored card to a customer, in the caller's transaction (which has locked the
   * customer): the card is re-sealed under the customer's own key, and its row locked, so that of
   * two attaches of one card to two customers exactly one wins. Attaching to the customer it is
   * already attached to changes nothing.
   */
  async attach(
    tx: Queryable,
    merchantId: string,
    id: string,
    customerId: string,
  ): Promise<PaymentMethod> {
    checkMerchantId(merchantId);
    if (typeof id !== 'string' || !storedIdPattern.test(id)) throw noSuchPaymentMethod(id);
    const found = await tx.query<PaymentMethodRow & SealedRow>(
      `SELECT ${publicColumns}, ${sealedColumns} FROM payment_methods
        WHERE id = $1 AND merchant_id = $2 FOR UPDATE`,
      [id, merchantId],
    );
    const row = found.rows[0];
    if (row === undefined) throw noSuchPaymentMethod(id);
    if (row.shredded_at !== null)
      throw new VaultError(
        'payment_method_unexpected_state',
        shreddedPaymentMethodMessage,
        'payment_method',
      );
    if (row.customer_id === customerId) return paymentMethodFromRow(row);
    if (row.customer_id !== null)
      throw new VaultError(
        'payment_method_unexpected_state',
        'The payment method you provided has already been attached to another customer.',
        'payment_method',
      );
    const plaintext = await this.#open(tx, merchantId, id, row);
    const customerKey = await customerKeyFor(tx, this.#masterKeys, customerId);
    const sealed = seal(customerKey.key, plaintext, cardAad(merchantId, id, customerKey.id));
    plaintext.fill(0);
    const updated = await tx.query<PaymentMethodRow>(
      `UPDATE payment_methods
          SET customer_id = $3, customer_key_id = $4, data_key_id = NULL, ciphertext = $5, iv = $6, auth_tag = $7
        WHERE id = $1 AND merchant_id = $2
        RETURNING ${publicColumns}`,
      [id, merchantId, customerId, customerKey.id, sealed.ciphertext, sealed.iv, sealed.authTag],
    );
    return paymentMethodFromRow(updated.rows[0] as PaymentMethodRow);
  }

  /**
   * Detaches a card from its customer, in the caller's transaction. As Stripe has it, a detached
   * payment method can never be used again: its number (and holder name, billing details and
   * fingerprint) is destroyed; brand, last4 and expiry stay for the payments that used it.
   */
  async detach(tx: Queryable, merchantId: string, id: string, now: Date): Promise<PaymentMethod> {
    const shredded = await tx.query<PaymentMethodRow>(
      `UPDATE payment_methods SET ${shreddedAssignments}
        WHERE id = $1 AND merchant_id = $2 AND customer_id IS NOT NULL
        RETURNING ${publicColumns}`,
      [id, merchantId, now],
    );
    const row = shredded.rows[0];
    if (row === undefined)
      throw new VaultError(
        'payment_method_unexpected_state',
        'The payment method you provided is not attached to a customer so detachment is impossible.',
        'payment_method',
      );
    return paymentMethodFromRow(row);
  }

  /**
   * Erasure (crypto-shredding), in the caller's transaction: every card of the customer loses its
   * ciphertext and personal fields, then the customer's key is destroyed. Returns how many cards.
   */
  async eraseCustomer(
    tx: Queryable,
    merchantId: string,
    customerId: string,
    now: Date,
    usedUnsaved: readonly string[] = [],
  ): Promise<number> {
    const shredded = await tx.query(
      `UPDATE payment_methods SET ${shreddedAssignments}, metadata = '{}'::jsonb
        WHERE customer_id = $1 AND merchant_id = $2`,
      [customerId, merchantId, now],
    );
    // The cards the customer paid with but never saved are the customer's card data too.
    const used = await tx.query(
      `UPDATE payment_methods SET ${shreddedAssignments}, metadata = '{}'::jsonb
        WHERE id = ANY($1::text[]) AND merchant_id = $2 AND customer_id IS NULL AND shredded_at IS NULL`,
      [usedUnsaved, merchantId, now],
    );
    await destroyCustomerKey(tx, customerId);
    return (shredded.rowCount ?? 0) + (used.rowCount ?? 0);
  }

  /** Stripe's payment method update: metadata merged ('' deletes a key), billing details replaced. */
  async update(
    merchantId: string,
    id: string,
    change: PaymentMethodChange,
  ): Promise<PaymentMethod | undefined> {
    checkMerchantId(merchantId);
    if (typeof id !== 'string' || !storedIdPattern.test(id)) return undefined;
    return this.#database.transaction(async (tx) => {
      const found = await tx.query<PaymentMethodRow>(
        `SELECT ${publicColumns} FROM payment_methods WHERE id = $1 AND merchant_id = $2 FOR UPDATE`,
        [id, merchantId],
      );
      const row = found.rows[0];
      if (row === undefined) return undefined;
      if (
        row.shredded_at !== null &&
        (change.name !== undefined || change.billingDetails !== undefined)
      )
        throw new VaultError(
          'payment_method_unexpected_state',
          shreddedPaymentMethodMessage,
          'billing_details',
        );
      const metadata = mergeMetadata(row.metadata, change.metadata);
      const holderName =
        change.name === undefined ? row.holder_name : validateHolderNameOnly(change.name);
      const billingDetails = { ...row.billing_details, ...change.billingDetails };
      const updated = await tx.query<PaymentMethodRow>(
        `UPDATE payment_methods SET metadata = $3::jsonb, holder_name = $4, billing_details = $5::jsonb
          WHERE id = $1 AND merchant_id = $2 RETURNING ${publicColumns}`,
        [id, merchantId, JSON.stringify(metadata), holderName, JSON.stringify(billingDetails)],
      );
      return paymentMethodFromRow(updated.rows[0] as PaymentMethodRow);
    });
  }

  /** One page of the merchant's stored cards (or one customer's), newest first. */
  async list(
    merchantId: string,
    customerId: string | undefined,
    page: PageRequest,
  ): Promise<{ items: PaymentMethod[]; hasMore: boolean }> {
    checkMerchantId(merchantId);
    const result = await keysetPage<PaymentMethodRow, string>(
      this.#database,
      {
        select: publicColumns,
        from: 'payment_methods',
        scope:
          customerId === undefined ? 'merchant_id = $1' : 'merchant_id = $1 AND customer_id = $2',
        scopeParameters: customerId === undefined ? [merchantId] : [merchantId, customerId],
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'payment_method',
      },
      page,
    );
    return { items: result.rows.map(paymentMethodFromRow), hasMore: result.hasMore };
  }

  /** Retires the active data key and makes a new one; cards under old keys stay readable. Returns the new key's id. */
  rotateDataKey(): Promise<string> {
    return this.#keyRing.rotate();
  }

  async #testCard(merchantId: string, id: string): Promise<TestCard | undefined> {
    const card = this.#testPaymentMethods && typeof id === 'string' ? testCard(id) : undefined;
    if (card === undefined) return undefined;
    return (await this.#testCardsAllowed(merchantId)) ? card : undefined;
  }

  /** Whether test payment methods and tokens resolve for this merchant (Stripe refuses them to a live key). */
  async #testCardsAllowed(merchantId: string): Promise<boolean> {
    if (!this.#testPaymentMethods) return false;
    return this.#isTestMerchant === undefined ? true : this.#isTestMerchant(merchantId);
  }

  /** Test payment methods are fixed per merchant; kept so that a payment does not recompute the fingerprint. */
  readonly #testMethods = new Map<string, PaymentMethod>();
  static readonly #testMethodsMax = 10_000;

  #testPaymentMethod(merchantId: string, card: TestCard): PaymentMethod {
    const key = `${merchantId}\u0000${card.id}`;
    let method = this.#testMethods.get(key);
    if (method === undefined) {
      method = this.#newTestPaymentMethod(merchantId, card);
      if (this.#testMethods.size >= Vault.#testMethodsMax) this.#testMethods.clear();
      this.#testMethods.set(key, method);
    }
    return method;
  }

  #newTestPaymentMethod(merchantId: string, card: TestCard): PaymentMethod {
    return Object.freeze({
      id: card.id,
      type: 'card',
      brand: card.brand,
      last4: card.number.slice(-4),
      expMonth: testCardExpiryMonth,
      expYear: testCardExpiryYear,
      country: card.country,
      bin: card.number.slice(0, 6),
      fingerprint: cardFingerprint(this.#masterKeys.fingerprintKey, merchantId, card.number),
      holderName: null,
      billingDetails: Object.freeze({}),
      customerId: null,
      usable: true,
      metadata: Object.freeze({}),
      createdAt: testCardCreatedAt,
    });
  }
}
