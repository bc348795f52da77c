// Resolving an exception (issue 12 part 3): match by hand, write off, adjust, or mark as the PSP's
// error. A resolution that involves money posts ONE balanced ledger transaction between
// recon:adjustments:<ccy> and the account in question (the PSP receivable for a PSP-side
// difference, the bank for a bank-side one, the drifting account for a drift), with the transfer id
// `recon_resolution:<exception id>`: resolving twice never posts twice, and a second resolve of a
// resolved exception is a conflict.
import crypto from 'node:crypto';
import { accountIds, reconAdjustmentAccount } from '../../accounts/index.ts';
import type { AccountSpec, Ledger, TransferRequest } from '../../ledger/index.ts';
import type { Queryable } from '../../storage/database.ts';
import {
  reconExceptions,
  recordKeys,
  type ExceptionResolution,
  type ReconException,
} from '../tables.ts';
import { ReconciliationError } from './errors.ts';
import { runLockKey } from './run.ts';

export type ResolveAction = 'match' | 'write_off' | 'adjust' | 'psp_error';

export type ResolveInput = {
  readonly action: ResolveAction;
  readonly reason: string;
  readonly actor: string;
  /** match: the record (source:row_key) or expectation the exception's other side is. */
  readonly recordKey?: string;
  readonly expectationKey?: string;
  /** adjust: how much the ledger account is too high (negative: too low), minor units. */
  readonly amount?: bigint;
};

const resolutionOf: Record<ResolveAction, ExceptionResolution> = {
  match: 'matched',
  write_off: 'written_off',
  adjust: 'adjusted',
  psp_error: 'psp_error',
};

export const resolveLimits = { reasonLengthMax: 1000, actorLengthMax: 200, amountMax: 10n ** 15n };

/**
 * What an exception means for the ledger, when money is involved: the account in question and how
 * much it is above what the outside says (negative: below). None when the ledger is already right
 * or the money is another module's (a late line, a returned payout, a fee posted as the PSP
 * reported it, an acquirer's verdict, a payout's debit), so a write-off posts nothing there.
 *   PSP report      the PSP receivable of the connector: a missing line is still owed (+), an
 *                   unexpected, duplicate or different line was paid without the ledger (−)
 *   bank, a batch   the PSP receivable too: the statement reader posts what the bank booked, so
 *                   a missing or different settlement leaves its difference with the PSP
 *   bank, unknown   the bank account, only for an entry the ledger never posted; the entry is
 *                   then claimed (`written_off`) so the statement reader never posts it again
 *   drift           the account that drifted, by the unexplained amount
 */
export type MoneyEffect = {
  readonly account: AccountSpec;
  readonly excess: bigint;
  /** A bank entry the resolution posts for: claimed in the same transaction. */
  readonly bankEntry?: { readonly reference: string; readonly direction: 'credit' | 'debit' };
};

export async function moneyEffect(
  tx: Queryable,
  exception: ReconException,
): Promise<MoneyEffect | undefined> {
  const currency = exception.currency;
  const amount = exception.amount ?? 0n;
  if (currency === null || amount === 0n || exception.source === 'acquirer_ack') return undefined;
  const asset = (id: string): AccountSpec => ({ id, type: 'asset', currency, owner: 'platform' });
  if (exception.reason === 'balance_drift') {
    const account = exception.details.account;
    return typeof account === 'string' ? { account: asset(account), excess: amount } : undefined;
  }
  const owedMore = exception.reason === 'missing';
  const paidOtherwise = ['unexpected', 'duplicate', 'amount_mismatch'].includes(exception.reason);
  if (!owedMore && !paidOtherwise) return undefined;
  if (exception.source === 'psp_report') {
    if (exception.connector === null) return undefined;
    const excess = owedMore ? amount : -amount;
    return { account: asset(accountIds.pspReceivable(exception.connector, currency)), excess };
  }
  const expectation = exception.expectationKey;
  if (expectation?.startsWith('payout:') === true) return undefined;
  if (expectation?.startsWith('batch:') === true) {
    const found = await tx.query<{ kind: string; connector: string | null }>(
      'SELECT kind, connector FROM recon_expectations WHERE key = $1',
      [expectation],
    );
    const row = found.rows[0];
    if (row?.connector === undefined || row.connector === null) return undefined;
    const sign = row.kind === 'bank_debit' ? -1n : 1n;
    const excess = sign * (owedMore ? amount : -amount);
    return { account: asset(accountIds.pspReceivable(row.connector, currency)), excess };
  }
  return unknownBankEntry(tx, exception, amount, asset(accountIds.bank(currency)));
}

/** An unexpected or duplicate bank line: for the bank account only if the ledger never posted it. */
async function unknownBankEntry(
  tx: Queryable,
  exception: ReconException,
  amount: bigint,
  bank: AccountSpec,
): Promise<MoneyEffect | undefined> {
  const key = exception.recordKey;
  const named = key === null ? undefined : recordKeys.bankEntryOf(key);
  if (exception.reason === 'missing' || named === undefined) return undefined;
  const { reference, direction } = named;
  const entry = await tx.query<{ kind: string }>(
    `SELECT kind FROM bank_statement_entries WHERE entry_reference = $1 AND direction = $2
        FOR UPDATE`,
    [reference, direction],
  );
  const kind = entry.rows[0]?.kind;
  if (kind !== undefined && kind !== 'unmatched') return undefined;
  // A credit the ledger never saw: the bank holds more than the ledger (−); a debit: less (+).
  const excess = direction === 'credit' ? -amount : amount;
  return { account: bank, excess, bankEntry: { reference, direction } };
}

/**
 * Claims the bank entry a resolution posted for, so that the statement reader (a fetched
 * statement, or its retry of unmatched entries) never posts it as well.
 */
async function claimBankEntry(
  tx: Queryable,
  exception: ReconException,
  entry: { reference: string; direction: 'credit' | 'debit' },
  transactionId: string,
  now: Date,
): Promise<void> {
  const updated = await tx.query(
    `UPDATE bank_statement_entries SET kind = 'written_off', ledger_transaction_id = $3
      WHERE entry_reference = $1 AND direction = $2 AND kind = 'unmatched'`,
    [entry.reference, entry.direction, transactionId],
  );
  if (updated.rowCount > 0) return;
  await tx.query(
    `INSERT INTO bank_statement_entries (entry_reference, direction, booking_date, currency, amount,
       kind, end_to_end_id, remittance, ledger_transaction_id, seen_at)
     SELECT $1, $2, value_date, currency, amount, 'written_off', trace_id, batch_reference, $3, $4
       FROM recon_records WHERE source = 'bank_statement' AND row_key = $5
     ON CONFLICT (entry_reference, direction) DO NOTHING`,
    [entry.reference, entry.direction, transactionId, now, exception.recordKey],
  );
}

export function validateResolve(input: ResolveInput): void {
  const reason = input.reason.trim();
  if (reason.length === 0 || reason.length > resolveLimits.reasonLengthMax)
    throw new ReconciliationError(
      'parameter_invalid',
      `reason must be 1 to ${resolveLimits.reasonLengthMax} characters`,
      'reason',
    );
  if (input.actor.length === 0 || input.actor.length > resolveLimits.actorLengthMax)
    throw new ReconciliationError(
      'parameter_invalid',
      'actor must be 1 to 200 characters',
      'actor',
    );
  if (!(input.action in resolutionOf))
    throw new ReconciliationError('parameter_invalid', `unknown action ${input.action}`, 'action');
  if (input.action === 'adjust') {
    const amount = input.amount;
    if (
      amount === undefined ||
      amount === 0n ||
      amount > resolveLimits.amountMax ||
      -amount > resolveLimits.amountMax
    )
      throw new ReconciliationError(
        'parameter_invalid',
        'adjust needs a non-zero amount in minor units',
        'amount',
      );
  }
  if (
    input.action === 'match' &&
    (input.recordKey === undefined) === (input.expectationKey === undefined)
  )
    throw new ReconciliationError(
      'parameter_invalid',
      'match needs exactly one of record_key or expectation_key',
      'record_key',
    );
}

/** The posting of a resolution, or none when no money moves. */
export function resolutionTransfer(
  exception: ReconException,
  input: ResolveInput,
  effect: MoneyEffect | undefined,
): { request: TransferRequest; accounts: AccountSpec[] } | undefined {
  if (effect === undefined) return undefined;
  const excess =
    input.action === 'adjust'
      ? (input.amount ?? 0n)
      : input.action === 'write_off'
        ? effect.excess
        : 0n;
  if (excess === 0n) return undefined;
  const account = effect.account;
  const adjustments = reconAdjustmentAccount(account.currency);
  const amount = excess < 0n ? -excess : excess;
  // Too high: the account gives the excess to adjustments; too low: it takes it from them.
  const [debit, credit] = excess > 0n ? [adjustments.id, account.id] : [account.id, adjustments.id];
  return {
    accounts: [adjustments, account],
    request: {
      id: `recon_resolution:${exception.id}`,
      kind: 'posted',
      description: `reconciliation ${input.action} of ${exception.key}`.slice(0, 500),
      metadata: { exception: exception.id, reason: exception.reason },
      legs: [
        { accountId: debit, direction: 'debit', amount, currency: account.currency },
        { accountId: credit, direction: 'credit', amount, currency: account.currency },
      ],
    },
  };
}

export async function lockException(tx: Queryable, id: string): Promise<ReconException> {
  const result = await tx.query(`SELECT * FROM recon_exceptions WHERE id = $1 FOR UPDATE`, [id]);
  const row = result.rows[0];
  if (row === undefined)
    throw new ReconciliationError('resource_missing', `No such exception: '${id}'`, 'id');
  return reconExceptions.fromRow(row);
}

/** Links the exception's expectation or record with the other side named by the operator. */
async function matchByHand(
  tx: Queryable,
  exception: ReconException,
  input: ResolveInput,
  runId: string,
  now: Date,
): Promise<string> {
  const expectation = input.expectationKey ?? exception.expectationKey;
  const record =
    input.recordKey ??
    (exception.recordSource === null || exception.recordKey === null
      ? undefined
      : `${exception.recordSource}:${exception.recordKey}`);
  if (expectation === undefined || expectation === null || record === undefined)
    throw new ReconciliationError('match_not_possible', 'the match names no expectation or record');
  const separator = record.indexOf(':');
  const source = record.slice(0, separator);
  const rowKey = record.slice(separator + 1);
  // A match by hand says the two are the same money: a difference is adjusted, not hidden.
  const sides = await tx.query<{ same: boolean }>(
    `SELECT e.amount = r.amount AND e.currency = r.currency AS same
       FROM recon_expectations e, recon_records r
      WHERE e.key = $1 AND r.source = $2 AND r.row_key = $3`,
    [expectation, source, rowKey],
  );
  const same = sides.rows[0]?.same;
  if (same === false)
    throw new ReconciliationError(
      'match_not_possible',
      'the expectation and the record differ in amount or currency: adjust the difference instead',
    );
  const members = [`e|${expectation}`, `r|${source}:${rowKey}`].sort();
  const groupId = `rcg_${crypto.createHash('sha256').update(members.join('\n')).digest('hex').slice(0, 40)}`;
  const linked = await tx.query(
    `WITH e AS (UPDATE recon_expectations SET group_id = $1 WHERE key = $2 AND group_id IS NULL RETURNING 1),
          r AS (UPDATE recon_records SET group_id = $1 WHERE source = $3 AND row_key = $4 AND group_id IS NULL RETURNING 1)
     SELECT (SELECT count(*) FROM e)::int AS e, (SELECT count(*) FROM r)::int AS r`,
    [groupId, expectation, source, rowKey],
  );
  const counts = linked.rows[0] as { e: number; r: number } | undefined;
  if (counts?.e !== 1 || counts.r !== 1)
    throw new ReconciliationError(
      'match_not_possible',
      'the expectation and the record must both exist and be unmatched',
    );
  await tx.query(
    `INSERT INTO recon_groups (id, run_id, pass, created_at) VALUES ($1, $2, 'manual', $3)`,
    [groupId, runId, now],
  );
  return groupId;
}

export async function applyResolution(
  tx: Queryable,
  ledger: Ledger,
  id: string,
  input: ResolveInput,
  now: Date,
): Promise<ReconException> {
  // After any run in progress (a run stamps groups and closes exceptions): never interleaved.
  await tx.query('SELECT pg_advisory_xact_lock($1)', [runLockKey]);
  const exception = await lockException(tx, id);
  if (exception.status === 'resolved')
    throw new ReconciliationError(
      'exception_already_resolved',
      `exception ${id} is already resolved (${exception.resolution ?? ''})`,
    );
  const groupId =
    input.action === 'match' ? await matchByHand(tx, exception, input, exception.runId, now) : null;
  const effect = input.action === 'match' ? undefined : await moneyEffect(tx, exception);
  if (input.action === 'adjust' && effect === undefined)
    throw new ReconciliationError(
      'parameter_invalid',
      'no ledger account is in question for this exception (no money, or another module owns it)',
      'action',
    );
  const posting = resolutionTransfer(exception, input, effect);
  let transactionId: string | null = null;
  if (posting !== undefined) {
    await ledger.ensureAccountsWithin(tx, posting.accounts);
    const [result] = await ledger.transferBatchWithin(tx, [posting.request], { now });
    if (result === undefined || result.status === 'rejected')
      throw result?.error ?? new Error('the ledger returned no result');
    transactionId = result.transaction.id;
    if (effect?.bankEntry !== undefined)
      await claimBankEntry(tx, exception, effect.bankEntry, transactionId, now);
  }
  const reason = input.reason.trim();
  const updated = await tx.query(
    `UPDATE recon_exceptions SET status = 'resolved', resolution = $2, resolution_reason = $3,
            resolved_at = $4, ledger_transaction_id = $5, group_id = coalesce($6, group_id)
      WHERE id = $1 RETURNING *`,
    [id, resolutionOf[input.action], reason, now, transactionId, groupId],
  );
  await appendHistory(
    tx,
    id,
    'resolved',
    input.actor,
    {
      action: input.action,
      reason,
      ledger_transaction_id: transactionId,
      ...(input.amount === undefined ? {} : { amount: input.amount.toString() }),
    },
    now,
  );
  return reconExceptions.fromRow(updated.rows[0] as Record<string, unknown>);
}

export async function appendHistory(
  tx: Queryable,
  id: string,
  action: 'assigned' | 'noted' | 'resolved',
  actor: string,
  details: Readonly<Record<string, unknown>>,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO recon_exception_history (exception_id, seq, action, actor, details, at)
     SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4::jsonb, $5
       FROM recon_exception_history WHERE exception_id = $1`,
    [id, action, actor, JSON.stringify(details), now],
  );
}
