// The card vault (architecture §1 rule 8): validates cards, keeps their numbers only encrypted, and hands
// them out decrypted for one connector call. Domain code: no HTTP, no driver; a `Database`.
//
// A card payload {number, name, expiry} is sealed with AES-256-GCM under the active data key,
// with associated data naming the merchant, payment method and data key, so a ciphertext copied
// to another row or merchant fails to decrypt. The CVC is validated at creation and dropped.
import type { CardData } from '../connectors/types.ts';
import { newId } from '../ids.ts';
import type { Database } from '../storage/database.ts';
import { errorConstraint, sqlState } from '../storage/database.ts';
import { validateCard, type CardBrand, type CardInput, type ValidatedCard } from './card.ts';
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
  /** Same card number at the same merchant → same fingerprint. */
  readonly fingerprint: string;
  readonly holderName: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: Date;
};

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
  fingerprint: string;
  holder_name: string | null;
  metadata: Record<string, string>;
  created_at: Date;
};

type SealedRow = {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  auth_tag: Uint8Array;
  data_key_id: string;
};

/** The authenticated content of a card ciphertext. */
type CardPayload = { v: 1; number: string; name: string | null; expMonth: number; expYear: number };

const publicColumns =
  'id, brand, last4, exp_month, exp_year, country, fingerprint, holder_name, metadata, created_at';

function paymentMethodFromRow(row: PaymentMethodRow): PaymentMethod {
  return {
    id: row.id,
    type: 'card',
    brand: row.brand,
    last4: row.last4,
    expMonth: row.exp_month,
    expYear: row.exp_year,
    country: row.country,
    fingerprint: row.fingerprint,
    holderName: row.holder_name,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
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
  async createCard(merchantId: string, input: CardInput): Promise<PaymentMethod> {
    checkMerchantId(merchantId);
    const now = this.#now(merchantId);
    const card = validateCard(input, now);
    const country = this.#countryOf(card.number);
    const dataKey = await this.#keyRing.active();
    const id = newId('pm');
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
           (id, merchant_id, brand, last4, exp_month, exp_year, country, fingerprint, holder_name, ciphertext, iv, auth_tag, data_key_id, metadata, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15)
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
  ): Promise<PaymentMethod> {
    checkMerchantId(merchantId);
    const card = testToken(token);
    if (card === undefined || !(await this.#testCardsAllowed(merchantId)))
      throw new VaultError(
        'resource_missing',
        `No such token: '${redactDigits(String(token)).slice(0, 100)}'`,
        'card[token]',
      );
    return this.createCard(merchantId, {
      number: card.number,
      expMonth: card.expMonth,
      expYear: card.expYear,
      ...extra,
    });
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
      'SELECT ciphertext, iv, auth_tag, data_key_id FROM payment_methods WHERE id = $1 AND merchant_id = $2',
      [id, merchantId],
    );
    const row = result.rows[0];
    if (row === undefined) throw noSuchPaymentMethod(id);
    const key = await this.#keyRing.key(row.data_key_id);
    const sealed = {
      ciphertext: asBuffer(row.ciphertext),
      iv: asBuffer(row.iv),
      authTag: asBuffer(row.auth_tag),
    };
    const plaintext = open(key, sealed, cardAad(merchantId, id, row.data_key_id));
    if (plaintext === undefined) {
      throw new VaultDecryptionError(
        'card_data_corrupt',
        `vault: the card data of payment method ${id} failed authentication: it was altered, or copied from another payment method or merchant`,
      );
    }
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
      fingerprint: cardFingerprint(this.#masterKeys.fingerprintKey, merchantId, card.number),
      holderName: null,
      metadata: Object.freeze({}),
      createdAt: testCardCreatedAt,
    });
  }
}
