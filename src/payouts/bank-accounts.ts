// Merchant bank accounts (architecture §12): where payouts go. The account number is sealed at rest
// (SecretBox purpose `payouts.bank-account-number`, bound to merchant and account id) and never
// shown, logged or put in an error or event: the API shows its last four characters, and a keyed
// fingerprint (HMAC under a key derived for this purpose only) finds the same account added twice
// without unsealing anything. The first account of a currency becomes its default.
import crypto from 'node:crypto';
import { newSortableId } from '../ids.ts';
import { isCurrency } from '../money/index.ts';
import type { Queryable } from '../storage/database.ts';
import { errorConstraint, sqlState } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import type { SecretBox } from '../vault/secret-box.ts';
import { PayoutError } from './errors.ts';
import type { BankAccount } from './types.ts';

export type NewBankAccount = {
  readonly currency: string;
  readonly country: string;
  readonly accountHolderName: string;
  readonly routingNumber?: string;
  readonly accountNumber: string;
};

/** What the bank needs to pay into an account (unsealed only for the bank call). */
export type BankAccountDetails = {
  readonly holderName: string;
  readonly accountNumber: string;
  readonly routingNumber: string | null;
  readonly country: string;
};

export const accountNumberPattern = /^[A-Za-z0-9]{4,34}$/;
export const routingNumberPattern = /^[A-Za-z0-9]{1,34}$/;

export type BankAccountKeys = {
  readonly secretBox: SecretBox;
  /** The fingerprint's HMAC key (derivedKey(masterKey, 'payouts.bank-account-fingerprint')). */
  readonly fingerprintKey: Buffer;
};

export function fingerprintOf(
  key: Buffer,
  country: string,
  accountNumber: string,
  routing?: string,
): string {
  return crypto
    .createHmac('sha256', key)
    .update(`${country}\n${routing ?? ''}\n${accountNumber.toUpperCase()}`)
    .digest('base64url')
    .slice(0, 24);
}

const columns = `id, merchant_id, currency, country, account_holder_name, routing_number, last4,
  fingerprint, default_for_currency, status, created_at`;

type Row = {
  id: string;
  merchant_id: string;
  currency: string;
  country: string;
  account_holder_name: string;
  routing_number: string | null;
  last4: string;
  fingerprint: string;
  default_for_currency: boolean;
  status: BankAccount['status'];
  created_at: Date;
};

function fromRow(row: Row): BankAccount {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    currency: row.currency,
    country: row.country,
    accountHolderName: row.account_holder_name,
    routingNumber: row.routing_number,
    last4: row.last4,
    fingerprint: row.fingerprint,
    defaultForCurrency: row.default_for_currency,
    status: row.status,
    createdAt: row.created_at,
  };
}

function validate(input: NewBankAccount): void {
  if (!isCurrency(input.currency))
    throw new PayoutError('parameter_invalid', `Unknown currency '${input.currency}'.`, 'currency');
  if (!/^[A-Z]{2}$/.test(input.country))
    throw new PayoutError(
      'parameter_invalid',
      'country must be an ISO 3166 code such as US.',
      'country',
    );
  if (input.accountHolderName.length < 1 || input.accountHolderName.length > 200)
    throw new PayoutError(
      'parameter_invalid',
      'account_holder_name must be 1 to 200 characters.',
      'account_holder_name',
    );
  // The message never repeats the number.
  if (!accountNumberPattern.test(input.accountNumber))
    throw new PayoutError(
      'parameter_invalid',
      'account_number must be 4 to 34 letters or digits.',
      'account_number',
    );
  if (input.routingNumber !== undefined && !routingNumberPattern.test(input.routingNumber))
    throw new PayoutError(
      'parameter_invalid',
      'routing_number must be 1 to 34 letters or digits.',
      'routing_number',
    );
}

export async function insertBankAccount(
  tx: Queryable,
  merchantId: string,
  input: NewBankAccount,
  keys: BankAccountKeys,
  now: Date,
): Promise<BankAccount> {
  validate(input);
  const id = newSortableId('ba', now.getTime());
  const sealed = keys.secretBox.seal(input.accountNumber, [merchantId, id]);
  const fingerprint = fingerprintOf(
    keys.fingerprintKey,
    input.country,
    input.accountNumber,
    input.routingNumber,
  );
  try {
    // Savepoint-free: a duplicate is found first; the unique index settles a race.
    const duplicate = await tx.query(
      `SELECT 1 FROM merchant_bank_accounts WHERE merchant_id = $1 AND fingerprint = $2 AND currency = $3
          AND deleted_at IS NULL`,
      [merchantId, fingerprint, input.currency],
    );
    if (duplicate.rows.length > 0) throw duplicateError();
    const result = await tx.query<Row>(
      `INSERT INTO merchant_bank_accounts (id, merchant_id, currency, country, account_holder_name,
          routing_number, sealed_account_number, last4, fingerprint, default_for_currency, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
          NOT EXISTS (SELECT 1 FROM merchant_bank_accounts WHERE merchant_id = $2 AND currency = $3
                        AND default_for_currency AND deleted_at IS NULL), $10)
       RETURNING ${columns}`,
      [
        id,
        merchantId,
        input.currency,
        input.country,
        input.accountHolderName,
        input.routingNumber ?? null,
        Buffer.from(sealed, 'utf8'),
        input.accountNumber.slice(-4),
        fingerprint,
        now,
      ],
    );
    return fromRow(result.rows[0] as Row);
  } catch (error) {
    if (
      sqlState(error) === '23505' &&
      errorConstraint(error) === 'merchant_bank_accounts_fingerprint'
    )
      throw duplicateError();
    throw error;
  }
}

function duplicateError(): PayoutError {
  return new PayoutError(
    'bank_account_exists',
    'This bank account already exists for this currency.',
    'account_number',
  );
}

export async function findBankAccount(
  queryable: Queryable,
  merchantId: string,
  id: string,
): Promise<BankAccount | undefined> {
  const result = await queryable.query<Row>(
    `SELECT ${columns} FROM merchant_bank_accounts WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL`,
    [id, merchantId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : fromRow(row);
}

export async function defaultBankAccount(
  queryable: Queryable,
  merchantId: string,
  currency: string,
): Promise<BankAccount | undefined> {
  const result = await queryable.query<Row>(
    `SELECT ${columns} FROM merchant_bank_accounts
      WHERE merchant_id = $1 AND currency = $2 AND default_for_currency AND deleted_at IS NULL`,
    [merchantId, currency],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : fromRow(row);
}

export async function listBankAccounts(
  queryable: Queryable,
  merchantId: string,
  options: PageRequest & { readonly currency?: string },
): Promise<{ bankAccounts: BankAccount[]; hasMore: boolean }> {
  const { rows, hasMore } = await keysetPage<Row, string>(
    queryable,
    {
      select: columns,
      from: 'merchant_bank_accounts',
      scope: 'merchant_id = $1 AND deleted_at IS NULL',
      scopeParameters: [merchantId],
      filter: '($2::text IS NULL OR currency = $2)',
      filterParameters: [options.currency ?? null],
      key: 'id',
      keyType: 'text',
      order: 'newest_first',
      noun: 'bank account',
    },
    options,
  );
  return { bankAccounts: rows.map(fromRow), hasMore };
}

/**
 * Removes an account no open payout uses; when it was its currency's default, the oldest other
 * account of the currency becomes the default.
 */
export async function deleteBankAccount(
  tx: Queryable,
  merchantId: string,
  id: string,
  now: Date,
): Promise<BankAccount> {
  const locked = await tx.query<Row>(
    `SELECT ${columns} FROM merchant_bank_accounts WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL
        FOR UPDATE`,
    [id, merchantId],
  );
  const row = locked.rows[0];
  if (row === undefined) throw missing(id);
  const open = await tx.query(
    "SELECT 1 FROM payouts WHERE bank_account_id = $1 AND status IN ('pending', 'in_transit') LIMIT 1",
    [id],
  );
  if (open.rows.length > 0)
    throw new PayoutError(
      'bank_account_in_use',
      `Bank account ${id} is the destination of a payout that is not finished yet.`,
    );
  await tx.query(
    'UPDATE merchant_bank_accounts SET deleted_at = $2, default_for_currency = false WHERE id = $1',
    [id, now],
  );
  if (row.default_for_currency)
    await tx.query(
      `UPDATE merchant_bank_accounts SET default_for_currency = true
        WHERE id = (SELECT id FROM merchant_bank_accounts WHERE merchant_id = $1 AND currency = $2
                      AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1)`,
      [merchantId, row.currency],
    );
  return { ...fromRow(row), defaultForCurrency: false };
}

export function missing(id: string): PayoutError {
  return new PayoutError('resource_missing', `No such bank account: '${id}'`, 'id');
}

/** The details the bank needs, the number unsealed (for the bank call only; never logged). */
export async function bankAccountDetails(
  queryable: Queryable,
  id: string,
  secretBox: SecretBox,
): Promise<BankAccountDetails> {
  const result = await queryable.query<{
    merchant_id: string;
    account_holder_name: string;
    routing_number: string | null;
    country: string;
    sealed_account_number: Uint8Array;
  }>(
    `SELECT merchant_id, account_holder_name, routing_number, country, sealed_account_number
       FROM merchant_bank_accounts WHERE id = $1`,
    [id],
  );
  const row = result.rows[0];
  if (row === undefined) throw new Error(`bank account ${id} does not exist`);
  return {
    holderName: row.account_holder_name,
    routingNumber: row.routing_number,
    country: row.country,
    accountNumber: secretBox.open(Buffer.from(row.sealed_account_number).toString('utf8'), [
      row.merchant_id,
      id,
    ]),
  };
}
