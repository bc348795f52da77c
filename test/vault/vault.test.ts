// The card vault on embedded PGlite and on the real PostgreSQL: validation before any write,
// round trips, test-mode ids, merchant isolation, tampering, master keys, data key rotation, and a
// scan of every column of every table for the card numbers in every encoding.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Merchants } from '../../src/merchants/merchants.ts';
import type { Database } from '../../src/storage/database.ts';
import {
  Vault,
  VaultDecryptionError,
  VaultError,
  testPaymentMethodIds,
  type CardInput,
  type PaymentMethod,
} from '../../src/vault/index.ts';
import { testCard, testToken } from '../../src/vault/test-cards.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';

const now = () => new Date('2026-05-15T12:00:00Z');
const visa = '4242424242424242';

/** Every card number this suite hands to the vault; the final scan looks for each of them. */
const numbersSeen = new Set<string>(testPaymentMethodIds.map((id) => testCard(id)?.number ?? ''));

function card(overrides: Partial<Record<keyof CardInput, unknown>> = {}): CardInput {
  const input = {
    number: visa,
    expMonth: 12,
    expYear: 2030,
    cvc: '123',
    name: 'Ada Lovelace',
    ...overrides,
  } as CardInput;
  if (typeof input.number === 'string') numbersSeen.add(input.number.replace(/[ -]/g, ''));
  return input;
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  param?: string,
): Promise<VaultError> {
  let caught: VaultError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof VaultError, `expected VaultError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.param, param);
    caught = error;
    return true;
  });
  return caught as VaultError;
}

async function rejectsDecryption(
  promise: Promise<unknown>,
  reason: string,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(
      error instanceof VaultDecryptionError,
      `expected VaultDecryptionError, got ${String(error)}`,
    );
    assert.equal(error.reason, reason);
    assert.match(error.message, message);
    return true;
  });
}

async function count(database: Database, table: string): Promise<number> {
  const result = await database.query<{ count: bigint }>(`SELECT count(*) AS count FROM ${table}`);
  return Number(result.rows[0]?.count);
}

type SealedColumns = {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  auth_tag: Uint8Array;
  data_key_id: string;
};

async function sealedColumns(database: Database, id: string): Promise<SealedColumns> {
  const result = await database.query<SealedColumns>(
    'SELECT ciphertext, iv, auth_tag, data_key_id FROM payment_methods WHERE id = $1',
    [id],
  );
  const row = result.rows[0];
  assert.ok(row !== undefined);
  return row;
}

async function writeSealedColumns(
  database: Database,
  id: string,
  columns: SealedColumns,
): Promise<void> {
  await database.query(
    'UPDATE payment_methods SET ciphertext = $2, iv = $3, auth_tag = $4, data_key_id = $5 WHERE id = $1',
    [
      id,
      Buffer.from(columns.ciphertext),
      Buffer.from(columns.iv),
      Buffer.from(columns.auth_tag),
      columns.data_key_id,
    ],
  );
}

function flipFirstBit(bytes: Uint8Array): Buffer {
  const copy = Buffer.from(bytes);
  copy[0] = (copy[0] ?? 0) ^ 1;
  return copy;
}

// ---- the plaintext scan ------------------------------------------------------------------------

/** A number as text, with separators, as hex of its ASCII, and as base64 at each of the 3 byte alignments. */
function encodingsOf(number: string): string[] {
  const ascii = Buffer.from(number, 'latin1');
  const base64Cores = [0, 1, 2].flatMap((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), ascii]).toString('base64');
    // Drop the first group (holds the padding bytes) and the last (may be partial or padded).
    const core = encoded.slice(offset === 0 ? 0 : 4, encoded.length - 4);
    return [core, core.replace(/\+/g, '-').replace(/\//g, '_')];
  });
  const grouped = number.match(/.{1,4}/g)?.join(' ') ?? number;
  return [
    number,
    grouped,
    grouped.replace(/ /g, '-'),
    ascii.toString('hex'),
    ascii.toString('hex').toUpperCase(),
    ...base64Cores,
  ];
}

/** A value as every text it could be read as: itself, its bytes as text, hex and base64, decoded hex and base64. */
function readingsOf(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value);
    return [
      bytes.toString('latin1'),
      bytes.toString('utf8'),
      bytes.toString('hex'),
      bytes.toString('base64'),
      bytes.toString('base64url'),
    ];
  }
  if (value instanceof Date) return [value.toISOString()];
  if (typeof value === 'object') {
    const nested = Object.values(value as Record<string, unknown>).flatMap(readingsOf);
    return [
      JSON.stringify(value, (_, item) => (typeof item === 'bigint' ? item.toString() : item)),
      ...nested,
    ];
  }
  const text = String(value);
  const readings = [text, text.replace(/[ -]/g, '')];
  if (/^(?:\\x)?[0-9a-f]+$/i.test(text))
    readings.push(Buffer.from(text.replace(/^\\x/, ''), 'hex').toString('latin1'));
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text))
    readings.push(Buffer.from(text, 'base64').toString('latin1'));
  return readings;
}

/** Every place a number appears: "table.column (encoding)". Reads SELECT * and the row as text. */
async function scanForNumbers(
  database: Database,
  numbers: readonly string[],
): Promise<{ findings: string[]; tables: string[]; values: number }> {
  const tables = await database.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const needles = numbers.map((number) => ({ number, encodings: encodingsOf(number) }));
  const findings: string[] = [];
  let values = 0;
  for (const { table_name: table } of tables.rows) {
    const rows = (await database.query(`SELECT * FROM "${table}"`)).rows;
    const rowTexts = (
      await database.query<{ row_text: string }>(`SELECT t::text AS row_text FROM "${table}" t`)
    ).rows;
    const cells = [
      ...rows.flatMap((row) => Object.entries(row)),
      ...rowTexts.map((row) => ['(row as text)', row.row_text] as [string, unknown]),
    ];
    for (const [column, value] of cells) {
      values++;
      for (const reading of readingsOf(value)) {
        for (const { number, encodings } of needles) {
          const found = encodings.find((encoding) => reading.includes(encoding));
          if (found !== undefined)
            findings.push(`${table}.${column} holds …${number.slice(-4)} as "${found}"`);
        }
      }
    }
  }
  return { findings, tables: tables.rows.map((row) => row.table_name), values };
}

// ---- the suite ---------------------------------------------------------------------------------

for (const kind of databaseKinds) {
  describe(`vault on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let database: Database;
    let vault: Vault;
    let merchantA: string;
    let merchantB: string;
    const masterKey = crypto.randomBytes(32);

    before(async () => {
      testDatabase = await openTestDatabase(kind);
      database = testDatabase.database;
      const merchants = new Merchants(database);
      merchantA = (await merchants.create({ name: 'Merchant A' })).merchant.id;
      merchantB = (await merchants.create({ name: 'Merchant B' })).merchant.id;
      vault = new Vault(database, { masterKey, now });
    });
    after(() => testDatabase.drop());

    test('bad input for every field is refused with its param, and nothing is written (not even a data key)', async () => {
      const cases: [string, Partial<Record<keyof CardInput, unknown>>, string, string][] = [
        [
          'letters in the number',
          { number: '4242 4242 4242 424x' },
          'invalid_number',
          'card[number]',
        ],
        ['a short number', { number: '4242' }, 'invalid_number', 'card[number]'],
        [
          'a number of the wrong length for amex',
          { number: '3782822463100050' },
          'invalid_number',
          'card[number]',
        ],
        ['a Luhn failure', { number: '4242424242424241' }, 'incorrect_number', 'card[number]'],
        ['month 13', { expMonth: 13 }, 'invalid_expiry_month', 'card[exp_month]'],
        ['month 0', { expMonth: 0 }, 'invalid_expiry_month', 'card[exp_month]'],
        ['a year too far ahead', { expYear: 2047 }, 'invalid_expiry_year', 'card[exp_year]'],
        ['a two-digit year', { expYear: 30 }, 'invalid_expiry_year', 'card[exp_year]'],
        ['an expired year', { expYear: 2025 }, 'expired_card', 'card[exp_year]'],
        ['an expired month', { expYear: 2026, expMonth: 4 }, 'expired_card', 'card[exp_month]'],
        ['a short CVC', { cvc: '12' }, 'invalid_cvc', 'card[cvc]'],
        [
          'a 3-digit CVC on amex',
          { number: '378282246310005', cvc: '123' },
          'invalid_cvc',
          'card[cvc]',
        ],
        ['a long name', { name: 'n'.repeat(101) }, 'parameter_invalid', 'billing_details[name]'],
        ['a card number as the name', { name: visa }, 'parameter_invalid', 'billing_details[name]'],
        [
          'too many metadata keys',
          { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
          'invalid_request',
          'metadata',
        ],
        [
          'a long metadata value',
          { metadata: { order: 'x'.repeat(501) } },
          'invalid_request',
          'metadata[order]',
        ],
        [
          'the number in metadata',
          { metadata: { note: visa } },
          'invalid_request',
          'metadata[note]',
        ],
      ];
      for (const [name, overrides, code, param] of cases) {
        const error = await rejectsWith(vault.createCard(merchantA, card(overrides)), code, param);
        assert.ok(
          !error.message.includes('42424'),
          `${name}: the message must not hold the number`,
        );
      }
      await rejectsWith(vault.createCard('', card()), 'invalid_request');
      await rejectsWith(vault.createCard('m'.repeat(101), card()), 'invalid_request');
      assert.equal(await count(database, 'payment_methods'), 0);
      assert.equal(await count(database, 'vault_data_keys'), 0);
    });

    test('a card round-trips: the payment method shows brand and last4 only; reveal gives the card without CVC', async () => {
      const created = await vault.createCard(
        merchantA,
        card({ number: '4242-4242 4242-4242', metadata: { order: '42' } }),
      );
      assert.match(created.id, /^pm_[A-Za-z0-9]{22}$/);
      assert.deepEqual(
        { ...created, id: 'x', fingerprint: 'x', createdAt: 'x' },
        {
          id: 'x',
          type: 'card',
          brand: 'visa',
          last4: '4242',
          expMonth: 12,
          expYear: 2030,
          country: 'US',
          bin: '424242',
          fingerprint: 'x',
          holderName: 'Ada Lovelace',
          billingDetails: {},
          customerId: null,
          usable: true,
          metadata: { order: '42' },
          createdAt: 'x',
        },
      );
      assert.ok(created.createdAt instanceof Date);
      // The BIN (first six digits) is kept, as PCI DSS allows with the last four; nothing more.
      assert.ok(!JSON.stringify(created).includes(visa.slice(0, 8)));
      assert.deepEqual(await vault.get(merchantA, created.id), created);
      const revealed = await vault.reveal(merchantA, created.id);
      assert.deepEqual(revealed, {
        number: visa,
        expiryMonth: 12,
        expiryYear: 2030,
        holderName: 'Ada Lovelace',
      });
      assert.ok(!('cvc' in revealed));

      const unnamed = await vault.createCard(merchantA, {
        number: '378282246310005',
        expMonth: 6,
        expYear: 2026,
        cvc: '1234',
      });
      numbersSeen.add('378282246310005');
      assert.equal(unnamed.holderName, null);
      assert.deepEqual(await vault.reveal(merchantA, unnamed.id), {
        number: '378282246310005',
        expiryMonth: 6,
        expiryYear: 2026,
      });
    });

    test('the brand is detected from the number', async () => {
      const cases: [string, string, string][] = [
        ['4000056655665556', 'visa', '123'],
        ['5555555555554444', 'mastercard', '123'],
        ['2223003122003222', 'mastercard', '123'],
        ['371449635398431', 'amex', '1234'],
        ['6011111111111117', 'discover', '123'],
        ['3056930009020004', 'diners', '123'],
        ['36227206271667', 'diners', '123'],
        ['3566002020360505', 'jcb', '123'],
        ['6200000000000005', 'unionpay', '123'],
        ['9999999999999995', 'unknown', '123'],
      ];
      for (const [number, brand, cvc] of cases) {
        const created = await vault.createCard(merchantA, card({ number, cvc }));
        assert.equal(created.brand, brand, number);
        assert.equal(created.last4, number.slice(-4));
        assert.equal((await vault.get(merchantA, created.id))?.brand, brand);
        assert.equal((await vault.reveal(merchantA, created.id)).number, number);
      }
    });

    test('a card is stored with its issuing country, found from the BIN alone; unknown is null', async () => {
      const cases: [string, string | null][] = [
        ['4000000760000002', 'BR'],
        ['4000001240000000', 'CA'],
        ['4000008260000000', 'GB'],
        ['4000002760000016', 'DE'],
        ['4000003560000008', 'IN'],
        ['4000003920000003', 'JP'],
        ['378282246310005', 'US'],
        ['4111111111111111', null],
      ];
      for (const [number, country] of cases) {
        const created = await vault.createCard(
          merchantA,
          card({ number, cvc: number.length === 15 ? '1234' : '123' }),
        );
        assert.equal(created.country, country, number);
        assert.equal((await vault.get(merchantA, created.id))?.country, country, number);
        const column = await database.query<{ country: string | null }>(
          'SELECT country FROM payment_methods WHERE id = $1',
          [created.id],
        );
        assert.equal(column.rows[0]?.country, country);
      }
      // A deployment's own lookup (a BIN database) is handed the BIN, never the number.
      const bins: string[] = [];
      const binDatabase = (bin: string): string | null => {
        bins.push(bin);
        return bin === '41111111' ? 'NZ' : null;
      };
      const withDatabase = new Vault(database, { masterKey, now, issuerCountry: binDatabase });
      assert.equal(
        (await withDatabase.createCard(merchantA, card({ number: '4111111111111111' }))).country,
        'NZ',
      );
      assert.equal(
        (await withDatabase.createCard(merchantA, card({ number: '371449635398431', cvc: '1234' })))
          .country,
        null,
      );
      assert.deepEqual(bins, ['41111111', '371449']);
      // A lookup answering a non-code is a bug: nothing is written.
      const before = await count(database, 'payment_methods');
      const broken = new Vault(database, { masterKey, now, issuerCountry: () => 'usa' });
      await assert.rejects(broken.createCard(merchantA, card()), /alpha-2/);
      assert.equal(await count(database, 'payment_methods'), before);
      // The column accepts only an alpha-2 code in capitals, or null.
      const stored = await vault.createCard(merchantA, card());
      await assert.rejects(
        database.query("UPDATE payment_methods SET country = 'us' WHERE id = $1", [stored.id]),
      );
      await assert.rejects(
        database.query("UPDATE payment_methods SET country = '4242' WHERE id = $1", [stored.id]),
      );
      await database.query('UPDATE payment_methods SET country = NULL WHERE id = $1', [stored.id]);
      assert.equal((await vault.get(merchantA, stored.id))?.country, null);
    });

    test('fingerprints recognize the same card at one merchant and differ between merchants', async () => {
      const first = await vault.createCard(merchantA, card({ number: '5105105105105100' }));
      const second = await vault.createCard(
        merchantA,
        card({ number: '5105 1051 0510 5100', expYear: 2031, name: 'Someone Else' }),
      );
      const other = await vault.createCard(merchantB, card({ number: '5105105105105100' }));
      const different = await vault.createCard(merchantA, card({ number: '5555555555554444' }));
      assert.notEqual(first.id, second.id);
      assert.equal(first.fingerprint, second.fingerprint);
      assert.notEqual(first.fingerprint, other.fingerprint);
      assert.notEqual(first.fingerprint, different.fingerprint);
      const stored = await vault.createCard(merchantA, card({ number: visa }));
      assert.equal((await vault.get(merchantA, 'pm_card_visa'))?.fingerprint, stored.fingerprint);
    });

    test('test-mode ids resolve for any merchant to fixed cards, without touching the table', async () => {
      const before = await count(database, 'payment_methods');
      // A sample of ids; every id of the catalogue is checked against its card below.
      const expected: Record<string, [string, string, string]> = {
        pm_card_visa: ['visa', '4242', 'US'],
        pm_card_mastercard: ['mastercard', '4444', 'US'],
        pm_card_amex: ['amex', '0005', 'US'],
        pm_card_visa_debit: ['visa', '5556', 'US'],
        pm_card_discover: ['discover', '1117', 'US'],
        pm_card_diners: ['diners', '0004', 'US'],
        pm_card_jcb: ['jcb', '0505', 'JP'],
        pm_card_unionpay: ['unionpay', '0005', 'CN'],
        pm_card_us: ['visa', '4242', 'US'],
        pm_card_br: ['visa', '0002', 'BR'],
        pm_card_ar: ['visa', '0021', 'AR'],
        pm_card_cn: ['visa', '0002', 'CN'],
        pm_card_gb_mastercard: ['mastercard', '4449', 'GB'],
        pm_card_jp: ['visa', '0003', 'JP'],
        pm_card_chargeDeclined: ['visa', '0002', 'US'],
        pm_card_chargeDeclinedInsufficientFunds: ['visa', '9995', 'US'],
        pm_card_visa_chargeDeclinedInsufficientFunds: ['visa', '9995', 'US'],
        pm_card_chargeCustomerFail: ['visa', '0341', 'US'],
        pm_card_authenticationRequired: ['visa', '3184', 'DE'],
        pm_card_pspError: ['visa', '0013', 'US'],
        pm_card_pspTimeout: ['visa', '0021', 'US'],
        pm_card_pspLostResponse: ['visa', '0039', 'US'],
      };
      for (const id of testPaymentMethodIds) {
        const card = testCard(id);
        assert.ok(card !== undefined, id);
        const found = await vault.get(merchantA, id);
        assert.deepEqual(
          [found?.brand, found?.last4, found?.country],
          [card.brand, card.number.slice(-4), card.country],
          id,
        );
      }
      for (const [id, [brand, last4, country]] of Object.entries(expected)) {
        for (const merchant of [merchantA, merchantB]) {
          const found = await vault.get(merchant, id);
          assert.equal(found?.id, id);
          assert.equal(found?.brand, brand);
          assert.equal(found?.last4, last4);
          assert.equal(found?.country, country);
          assert.deepEqual([found?.expMonth, found?.expYear], [12, 2034]);
          const revealed = await vault.reveal(merchant, id);
          assert.equal(revealed.number.slice(-4), last4);
          assert.deepEqual(
            [revealed.expiryMonth, revealed.expiryYear, revealed.cvc],
            [12, 2034, undefined],
          );
        }
      }
      assert.equal(
        (await vault.reveal(merchantA, 'pm_card_chargeDeclined')).number,
        '4000000000000002',
      );
      assert.equal(
        (await vault.reveal(merchantA, 'pm_card_pspLostResponse')).number,
        '4000009990000039',
      );
      assert.equal((await vault.reveal(merchantA, 'pm_card_br')).number, '4000000760000002');
      assert.equal((await vault.reveal(merchantA, 'pm_card_jp')).number, '4000003920000003');
      assert.equal(await count(database, 'payment_methods'), before);

      const liveVault = new Vault(database, { masterKey, now, testPaymentMethods: false });
      assert.equal(await liveVault.get(merchantA, 'pm_card_visa'), undefined);
      await rejectsWith(
        liveVault.reveal(merchantA, 'pm_card_visa'),
        'resource_missing',
        'payment_method',
      );

      // Per merchant: the ids resolve for a test merchant only.
      const perMerchant = new Vault(database, {
        masterKey,
        now,
        isTestMerchant: async (merchantId) => merchantId === merchantA,
      });
      assert.equal((await perMerchant.get(merchantA, 'pm_card_visa'))?.last4, '4242');
      assert.equal(
        (await perMerchant.reveal(merchantA, 'pm_card_visa')).number,
        '4242424242424242',
      );
      assert.equal(await perMerchant.get(merchantB, 'pm_card_visa'), undefined);
      await rejectsWith(
        perMerchant.reveal(merchantB, 'pm_card_visa'),
        'resource_missing',
        'payment_method',
      );
    });

    test("a test token (tok_visa) creates a stored card with the token's card, for test merchants only", async () => {
      for (const [token, brand, last4, country] of [
        ['tok_visa', 'visa', '4242', 'US'],
        ['tok_mastercard_prepaid', 'mastercard', '5100', 'US'],
        ['tok_cn', 'visa', '0002', 'CN'],
        ['tok_chargeDeclined', 'visa', '0002', 'US'],
      ] as const) {
        const stored = await vault.createCardFromToken(merchantA, token, {
          metadata: { order: '1' },
        });
        assert.match(stored.id, /^pm_[A-Za-z0-9]+$/);
        assert.deepEqual(
          [stored.brand, stored.last4, stored.country, stored.expMonth, stored.expYear],
          [brand, last4, country, 12, 2034],
          token,
        );
        assert.deepEqual(stored.metadata, { order: '1' });
        assert.equal(
          (await vault.reveal(merchantA, stored.id)).number,
          testToken(token)?.number,
          token,
        );
      }
      const before = await count(database, 'payment_methods');
      await rejectsWith(
        vault.createCardFromToken(merchantA, 'tok_nope'),
        'resource_missing',
        'card[token]',
      );
      const liveVault = new Vault(database, { masterKey, now, testPaymentMethods: false });
      await rejectsWith(
        liveVault.createCardFromToken(merchantA, 'tok_visa'),
        'resource_missing',
        'card[token]',
      );
      assert.equal(await count(database, 'payment_methods'), before);
    });

    test("one of Stripe's test numbers stored as a card reads with its documented country, beyond the BIN's", async () => {
      // 4000001560001232 is not Stripe's: only its BIN (40000015, Chile's range) is looked up.
      for (const [number, country] of [
        ['4000001560000002', 'CN'],
        ['4000000320000021', 'AR'],
        ['4000001560001232', 'CL'],
      ] as const) {
        const stored = await vault.createCard(merchantA, card({ number }));
        assert.equal(stored.country, country, number);
      }
    });

    test("merchants are isolated: B cannot get or reveal A's payment method", async () => {
      const ofA = await vault.createCard(merchantA, card());
      assert.equal(await vault.get(merchantB, ofA.id), undefined);
      const error = await rejectsWith(
        vault.reveal(merchantB, ofA.id),
        'resource_missing',
        'payment_method',
      );
      assert.equal(error.message, `No such payment method: '${ofA.id}'`);
      assert.ok((await vault.get(merchantA, ofA.id)) !== undefined);
    });

    test('unknown, malformed and oversized ids are missing; a card number given as an id is not echoed', async () => {
      assert.equal(await vault.get(merchantA, 'pm_doesnotexist00'), undefined);
      assert.equal(await vault.get(merchantA, 'p'.repeat(101)), undefined);
      assert.equal(await vault.get(merchantA, "pm_'; DROP TABLE payment_methods; --"), undefined);
      await rejectsWith(
        vault.reveal(merchantA, 'pm_doesnotexist00'),
        'resource_missing',
        'payment_method',
      );
      await rejectsWith(
        vault.reveal(merchantA, 'x'.repeat(101)),
        'resource_missing',
        'payment_method',
      );
      for (const id of [visa, `pm_${visa}`, '4242 4242 4242 4242']) {
        const error = await rejectsWith(
          vault.reveal(merchantA, id),
          'resource_missing',
          'payment_method',
        );
        assert.ok(!error.message.includes('424242'), error.message);
      }
      await rejectsWith(vault.get('', 'pm_card_visa'), 'invalid_request');
      await rejectsWith(vault.reveal('m'.repeat(101), 'pm_card_visa'), 'invalid_request');
    });

    test('an unknown merchant is refused', async () => {
      await rejectsWith(vault.createCard('mch_doesnotexist000', card()), 'resource_missing');
    });

    test('altering the ciphertext, IV or tag makes reveal fail with a clear error', async () => {
      const created = await vault.createCard(merchantA, card());
      const original = await sealedColumns(database, created.id);
      for (const field of ['ciphertext', 'iv', 'auth_tag'] as const) {
        await writeSealedColumns(database, created.id, {
          ...original,
          [field]: flipFirstBit(original[field]),
        });
        await rejectsDecryption(
          vault.reveal(merchantA, created.id),
          'card_data_corrupt',
          new RegExp(`payment method ${created.id} failed authentication: it was altered`),
        );
      }
      await writeSealedColumns(database, created.id, original);
      assert.equal((await vault.reveal(merchantA, created.id)).number, visa);
    });

    test("another row's ciphertext fails to decrypt: moved to another id, or to another merchant", async () => {
      const source = await vault.createCard(merchantA, card({ number: '5555555555554444' }));
      const sameMerchant = await vault.createCard(merchantA, card());
      const otherMerchant = await vault.createCard(merchantB, card());
      const stolen = await sealedColumns(database, source.id);
      for (const [target, merchant] of [
        [sameMerchant, merchantA],
        [otherMerchant, merchantB],
      ] as [PaymentMethod, string][]) {
        const original = await sealedColumns(database, target.id);
        await writeSealedColumns(database, target.id, stolen);
        await rejectsDecryption(
          vault.reveal(merchant, target.id),
          'card_data_corrupt',
          /copied from another payment method or merchant/,
        );
        await writeSealedColumns(database, target.id, original);
        assert.equal((await vault.reveal(merchant, target.id)).number, visa);
      }
      // Moving the whole row to another merchant fails too (the merchant is in the associated data).
      await database.query('UPDATE payment_methods SET merchant_id = $2 WHERE id = $1', [
        source.id,
        merchantB,
      ]);
      await rejectsDecryption(
        vault.reveal(merchantB, source.id),
        'card_data_corrupt',
        /failed authentication/,
      );
      await database.query('UPDATE payment_methods SET merchant_id = $2 WHERE id = $1', [
        source.id,
        merchantA,
      ]);
    });

    test('a different master key cannot decrypt, and cannot add cards under the existing data key', async () => {
      const created = await vault.createCard(merchantA, card());
      const intruder = new Vault(database, { masterKey: crypto.randomBytes(32), now });
      await rejectsDecryption(
        intruder.reveal(merchantA, created.id),
        'wrong_master_key',
        /is wrapped under master key [0-9a-f]{16}, but this process has master key [0-9a-f]{16}/,
      );
      const before = await count(database, 'payment_methods');
      await rejectsDecryption(
        intruder.createCard(merchantA, card()),
        'wrong_master_key',
        /PAYRAIL_VAULT_MASTER_KEY/,
      );
      assert.equal(await count(database, 'payment_methods'), before);
      // Its get() still works: listing shows brand and last4, which are not secret.
      assert.equal((await intruder.get(merchantA, created.id))?.last4, '4242');
    });

    test('an altered wrapped data key is reported as such', async () => {
      const created = await vault.createCard(merchantA, card());
      const { data_key_id: dataKeyId } = await sealedColumns(database, created.id);
      const row = (
        await database.query<{ wrapped_key: Uint8Array }>(
          'SELECT wrapped_key FROM vault_data_keys WHERE id = $1',
          [dataKeyId],
        )
      ).rows[0];
      assert.ok(row !== undefined);
      await database.query('UPDATE vault_data_keys SET wrapped_key = $2 WHERE id = $1', [
        dataKeyId,
        flipFirstBit(row.wrapped_key),
      ]);
      const fresh = new Vault(database, { masterKey, now }); // nothing cached
      await rejectsDecryption(
        fresh.reveal(merchantA, created.id),
        'data_key_corrupt',
        new RegExp(`data key ${dataKeyId} failed authentication`),
      );
      await database.query('UPDATE vault_data_keys SET wrapped_key = $2 WHERE id = $1', [
        dataKeyId,
        Buffer.from(row.wrapped_key),
      ]);
      assert.equal((await fresh.reveal(merchantA, created.id)).number, visa);
    });

    test('rotating the data key keeps older cards readable, also for a fresh process', async () => {
      const before = await vault.createCard(merchantA, card({ number: '6011111111111117' }));
      const oldKey = (await sealedColumns(database, before.id)).data_key_id;
      const newKey = await vault.rotateDataKey();
      assert.notEqual(newKey, oldKey);
      const after = await vault.createCard(merchantA, card({ number: '3566002020360505' }));
      assert.equal((await sealedColumns(database, after.id)).data_key_id, newKey);
      const third = await vault.rotateDataKey();
      const active = await database.query<{ id: string }>(
        'SELECT id FROM vault_data_keys WHERE retired_at IS NULL',
      );
      assert.deepEqual(
        active.rows.map((row) => row.id),
        [third],
      );
      const retired = await database.query<{ id: string }>(
        'SELECT id FROM vault_data_keys WHERE id = ANY($1) AND retired_at IS NOT NULL',
        [[oldKey, newKey]],
      );
      assert.equal(retired.rows.length, 2);
      for (const reader of [vault, new Vault(database, { masterKey, now })]) {
        assert.equal((await reader.reveal(merchantA, before.id)).number, '6011111111111117');
        assert.equal((await reader.reveal(merchantA, after.id)).number, '3566002020360505');
      }
      // A fresh process encrypts under the newest key.
      const fromFresh = await new Vault(database, { masterKey, now }).createCard(merchantA, card());
      assert.equal((await sealedColumns(database, fromFresh.id)).data_key_id, third);
    });

    test('the scan finds a number in each encoding it looks for (control)', async () => {
      const number = '4000056655665556';
      await database.exec('CREATE TABLE vault_scan_control (label text, t text, b bytea, j jsonb)');
      const ascii = Buffer.from(number);
      const rows: [string, string | null, Buffer | null, string | null][] = [
        ['text', `card ${number} here`, null, null],
        ['spaced text', '4000 0566 5566 5556', null, null],
        ['bytes', null, Buffer.concat([Buffer.from([1, 2]), ascii]), null],
        ['hex text', ascii.toString('hex'), null, null],
        ['base64 text', Buffer.concat([Buffer.from('x'), ascii]).toString('base64'), null, null],
        [
          'base64 inside json',
          null,
          null,
          JSON.stringify({
            deep: { value: Buffer.concat([Buffer.from('ab'), ascii]).toString('base64') },
          }),
        ],
      ];
      try {
        for (const [label, text, bytes, json] of rows) {
          await database.query('DELETE FROM vault_scan_control');
          await database.query('INSERT INTO vault_scan_control VALUES ($1, $2, $3, $4::jsonb)', [
            label,
            text,
            bytes,
            json,
          ]);
          const { findings } = await scanForNumbers(database, [number]);
          assert.ok(
            findings.some((finding) => finding.startsWith('vault_scan_control.')),
            `${label} was not found`,
          );
        }
      } finally {
        await database.exec('DROP TABLE vault_scan_control');
      }
    });

    test('no card number is stored in plaintext: every column of every table, as text, hex and base64', async () => {
      assert.ok((await count(database, 'payment_methods')) >= 20);
      const numbers = [...numbersSeen].filter((number) => number.length >= 12);
      assert.ok(numbers.length >= 20, `expected many numbers, got ${numbers.length}`);
      const { findings, tables, values } = await scanForNumbers(database, numbers);
      for (const table of [
        'payment_methods',
        'vault_data_keys',
        'merchants',
        'api_keys',
        'schema_migrations',
      ])
        assert.ok(tables.includes(table), table);
      assert.ok(values > 300, `scanned only ${values} values`);
      assert.deepEqual(findings, []);
      // And the schema has no column that could hold a plaintext number or a CVC.
      const columns = await database.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'payment_methods'",
      );
      const names = columns.rows.map((row) => row.column_name);
      assert.ok(!names.some((name) => /number|pan|cvc|cvv/.test(name)), names.join(', '));
    });
  });

  describe(`vault data keys under concurrency on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let merchant: string;
    const masterKey = crypto.randomBytes(32);
    before(async () => {
      testDatabase = await openTestDatabase(kind);
      merchant = (await new Merchants(testDatabase.database).create({ name: 'Busy' })).merchant.id;
    });
    after(() => testDatabase.drop());

    test('many processes creating the first card at once make exactly one data key', async () => {
      const vaults = Array.from(
        { length: 5 },
        () => new Vault(testDatabase.database, { masterKey, now }),
      );
      const created = await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          vaults[index % vaults.length]!.createCard(merchant, card()),
        ),
      );
      assert.equal(await count(testDatabase.database, 'vault_data_keys'), 1);
      for (const pm of created)
        assert.equal((await vaults[0]!.reveal(merchant, pm.id)).number, visa);
    });

    test('concurrent rotations leave exactly one active key and every card readable', async () => {
      const vaults = Array.from(
        { length: 5 },
        () => new Vault(testDatabase.database, { masterKey, now }),
      );
      const work = vaults.flatMap((vault) => [
        vault.rotateDataKey(),
        vault.createCard(merchant, card()),
      ]);
      await Promise.all(work);
      const active = await testDatabase.database.query(
        'SELECT id FROM vault_data_keys WHERE retired_at IS NULL',
      );
      assert.equal(active.rows.length, 1);
      assert.ok((await count(testDatabase.database, 'vault_data_keys')) >= 6);
      const ids = await testDatabase.database.query<{ id: string }>(
        'SELECT id FROM payment_methods',
      );
      const reader = new Vault(testDatabase.database, { masterKey, now });
      for (const { id } of ids.rows) assert.equal((await reader.reveal(merchant, id)).number, visa);
    });
  });
}
