// Per-customer data keys (crypto-shredding). A card attached to a customer is sealed under that
// customer's own random AES-256 key, stored wrapped under the master key in vault_customer_keys.
// Erasing the customer deletes the key row (and the cards' ciphertext) in one transaction: no copy
// of the key survives in the database, and none is cached in a process, so nothing that was sealed
// under it can be opened again, not even from a backup taken before the card was attached
// elsewhere. Every function takes the caller's transaction: attach and erasure run in one.
import crypto from 'node:crypto';
import { newId } from '../ids.ts';
import type { Queryable } from '../storage/database.ts';
import { keyBytes, unwrapDataKey, wrapDataKey, type MasterKeys } from './crypto.ts';
import { asBuffer } from './data-keys.ts';
import { VaultDecryptionError } from './errors.ts';

type CustomerKeyRow = {
  id: string;
  master_key_id: string;
  wrapped_key: Uint8Array;
  wrap_iv: Uint8Array;
  wrap_tag: Uint8Array;
};

export type CustomerKey = { readonly id: string; readonly key: Buffer };

const columns = 'id, master_key_id, wrapped_key, wrap_iv, wrap_tag';

function unwrap(masterKeys: MasterKeys, row: CustomerKeyRow): Buffer {
  if (row.master_key_id !== masterKeys.masterKeyId)
    throw new VaultDecryptionError(
      'wrong_master_key',
      `vault: customer key ${row.id} is wrapped under master key ${row.master_key_id}, not this process's ${masterKeys.masterKeyId}`,
    );
  const key = unwrapDataKey(masterKeys.wrappingKey, row.id, {
    ciphertext: asBuffer(row.wrapped_key),
    iv: asBuffer(row.wrap_iv),
    authTag: asBuffer(row.wrap_tag),
  });
  if (key === undefined)
    throw new VaultDecryptionError(
      'data_key_corrupt',
      `vault: customer key ${row.id} failed authentication: its stored wrapped key was altered`,
    );
  return key;
}

/** The customer's key, created on first use (a concurrent creator wins through the unique customer_id). */
export async function customerKeyFor(
  queryable: Queryable,
  masterKeys: MasterKeys,
  customerId: string,
): Promise<CustomerKey> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const found = await queryable.query<CustomerKeyRow>(
      `SELECT ${columns} FROM vault_customer_keys WHERE customer_id = $1`,
      [customerId],
    );
    const row = found.rows[0];
    if (row !== undefined) return { id: row.id, key: unwrap(masterKeys, row) };
    const id = newId('ck');
    const key = crypto.randomBytes(keyBytes);
    const wrapped = wrapDataKey(masterKeys.wrappingKey, id, key);
    const inserted = await queryable.query(
      `INSERT INTO vault_customer_keys (id, customer_id, master_key_id, wrapped_key, wrap_iv, wrap_tag)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id) DO NOTHING`,
      [id, customerId, masterKeys.masterKeyId, wrapped.ciphertext, wrapped.iv, wrapped.authTag],
    );
    if (inserted.rowCount === 1) return { id, key };
    key.fill(0);
  }
  throw new Error(`vault: could not create or find the data key of customer ${customerId}`);
}

/** A customer key by id, for decryption; missing once its customer was erased. */
export async function customerKeyById(
  queryable: Queryable,
  masterKeys: MasterKeys,
  id: string,
): Promise<Buffer> {
  const found = await queryable.query<CustomerKeyRow>(
    `SELECT ${columns} FROM vault_customer_keys WHERE id = $1`,
    [id],
  );
  const row = found.rows[0];
  if (row === undefined)
    throw new VaultDecryptionError('data_key_missing', `vault: customer key ${id} does not exist`);
  return unwrap(masterKeys, row);
}

/** Destroys the customer's key; the caller has already destroyed what it sealed. */
export async function destroyCustomerKey(queryable: Queryable, customerId: string): Promise<void> {
  await queryable.query('DELETE FROM vault_customer_keys WHERE customer_id = $1', [customerId]);
}
