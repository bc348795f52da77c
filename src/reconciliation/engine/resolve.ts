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
import { reconExceptions, type ExceptionResolution, type ReconException } from '../tables.ts';
import { ReconciliationError } from './errors.ts';

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

/** How much the ledger's account is above what the outside says, by the exception's amount. */
export function ledgerExcess(exception: ReconException): bigint {
  const amount = exception.amount ?? 0n;
  switch (exception.reason) {
    case 'missing':
    case 'balance_drift':
      return amount;
    case 'unexpected':
    case 'duplicate':
    case 'amount_mismatch':
    case 'fee_variance':
      return -amount;
    default:
      return 0n;
  }
}

function accountInQuestion(exception: ReconException): AccountSpec {
  const currency = exception.currency;
  if (currency === null)
    throw new ReconciliationError('parameter_invalid', 'the exception names no currency');
  const detailAccount = exception.details.account;
  if (exception.source === 'ledger' && typeof detailAccount === 'string')
    return { id: detailAccount, type: 'asset', currency, owner: 'platform' };
  if (exception.source === 'bank_statement' || exception.connector === null)
    return { id: accountIds.bank(currency), type: 'asset', currency, owner: 'platform' };
  return {
    id: accountIds.pspReceivable(exception.connector, currency),
    type: 'asset',
    currency,
    owner: 'platform',
  };
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
): { request: TransferRequest; accounts: AccountSpec[] } | undefined {
  const excess =
    input.action === 'adjust'
      ? (input.amount ?? 0n)
      : input.action === 'write_off'
        ? ledgerExcess(exception)
        : 0n;
  if (excess === 0n) return undefined;
  const account = accountInQuestion(exception);
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
  const exception = await lockException(tx, id);
  if (exception.status === 'resolved')
    throw new ReconciliationError(
      'exception_already_resolved',
      `exception ${id} is already resolved (${exception.resolution ?? ''})`,
    );
  const groupId =
    input.action === 'match' ? await matchByHand(tx, exception, input, exception.runId, now) : null;
  const posting = resolutionTransfer(exception, input);
  let transactionId: string | null = null;
  if (posting !== undefined) {
    await ledger.ensureAccountsWithin(tx, posting.accounts);
    const [result] = await ledger.transferBatchWithin(tx, [posting.request], { now });
    if (result === undefined || result.status === 'rejected')
      throw result?.error ?? new Error('the ledger returned no result');
    transactionId = result.transaction.id;
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
