// Turns validated transfer requests into entries against in-memory account states, one request
// at a time. A request that would break a rule is rejected and leaves the states untouched;
// the writer then persists whatever was accepted in one database transaction.
import { applyEntry, totalsInRange, withinLimit } from './balances.ts';
import { legFromCanonical, type CanonicalRequest } from './canonical.ts';
import { LedgerError } from './errors.ts';
import { entryHash, type HashedFields } from './hash.ts';
import type {
  AccountType,
  Direction,
  HoldStatus,
  Layer,
  Leg,
  LimitRule,
  Totals,
  TransferRequest,
} from './types.ts';
import { ledgerLimits } from './types.ts';

export type AccountState = {
  readonly id: string;
  readonly type: AccountType;
  readonly currency: string;
  readonly limit: LimitRule;
  totals: Totals;
  entryCount: bigint;
  lastHash: string;
  touched: boolean;
};

export type HoldState = {
  readonly transactionId: string;
  status: HoldStatus;
  readonly expiresAt: Date | null;
  readonly legs: readonly Leg[];
  resolvedBy: string | null;
  /** True when the hold is created by this batch (inserted, not updated). */
  readonly createdHere: boolean;
  changed: boolean;
};

/** An entry as written: everything but the creation time, which the database sets. */
export type PlannedEntry = HashedFields & { readonly hash: string };

type Movement = {
  accountId: string;
  currency: string;
  layer: Layer;
  direction: Direction;
  amount: bigint;
  param: string;
};

export type PlannedTransfer = {
  readonly legs: readonly Leg[];
  readonly entries: readonly PlannedEntry[];
};

function movementsOf(
  layer: Layer,
  legs: readonly Leg[],
  sign: 1n | -1n,
  paramPrefix: string,
): Movement[] {
  return legs.map((leg, index) => ({
    accountId: leg.accountId,
    currency: leg.currency,
    layer,
    direction: leg.direction,
    amount: leg.amount * sign,
    param: `${paramPrefix}[${index}]`,
  }));
}

function sameAmountEverywhere(legs: readonly Leg[]): boolean {
  return legs.every((leg) => leg.amount === legs[0]?.amount);
}

/** The legs a post moves: all of the hold, a scaled amount, or explicit legs within the hold. */
function postedLegs(
  request: Extract<TransferRequest, { kind: 'post_pending' }>,
  held: readonly Leg[],
): Leg[] | LedgerError {
  if (request.legs !== undefined) {
    const unmatched = [...held];
    for (const [index, leg] of request.legs.entries()) {
      const match = unmatched.findIndex(
        (candidate) =>
          candidate.accountId === leg.accountId &&
          candidate.direction === leg.direction &&
          candidate.currency === leg.currency &&
          candidate.amount >= leg.amount,
      );
      if (match < 0) {
        return new LedgerError(
          'post_exceeds_pending',
          `legs[${index}] does not match a held leg of ${request.pendingId} with at least that amount`,
          `legs[${index}]`,
        );
      }
      unmatched.splice(match, 1);
    }
    return [...request.legs];
  }
  if (request.amount === undefined) return [...held];
  if (!sameAmountEverywhere(held)) {
    return new LedgerError(
      'invalid_request',
      `the legs of ${request.pendingId} carry different amounts; give legs instead of amount`,
      'amount',
    );
  }
  const heldAmount = held[0]?.amount ?? 0n;
  if (request.amount > heldAmount) {
    return new LedgerError(
      'post_exceeds_pending',
      `amount ${request.amount} exceeds the held amount ${heldAmount}`,
      'amount',
    );
  }
  return held.map((leg) => ({ ...leg, amount: request.amount ?? leg.amount }));
}

function checkHold(
  request: TransferRequest & { pendingId: string },
  hold: HoldState | undefined,
  now: Date,
): LedgerError | undefined {
  if (hold === undefined)
    return new LedgerError(
      'pending_not_found',
      `no pending transfer ${request.pendingId}`,
      'pending_id',
    );
  if (hold.status !== 'pending') {
    return new LedgerError(
      'pending_already_resolved',
      `pending transfer ${request.pendingId} is already ${hold.status}`,
      'pending_id',
    );
  }
  const expired = hold.expiresAt !== null && hold.expiresAt.getTime() <= now.getTime();
  if (request.kind === 'expire_pending') {
    return expired
      ? undefined
      : new LedgerError(
          'hold_not_expired',
          `pending transfer ${request.pendingId} has not expired`,
          'pending_id',
        );
  }
  return expired
    ? new LedgerError(
        'hold_expired',
        `pending transfer ${request.pendingId} expired at ${hold.expiresAt?.toISOString()}`,
        'pending_id',
      )
    : undefined;
}

export type PlanContext = {
  readonly accounts: Map<string, AccountState>;
  readonly holds: Map<string, HoldState>;
  readonly now: Date;
};

function movementsFor(
  request: TransferRequest,
  context: PlanContext,
): { legs: Leg[]; movements: Movement[] } | LedgerError {
  if (request.kind === 'posted' || request.kind === 'pending') {
    return {
      legs: [...request.legs],
      movements: movementsOf(request.kind, request.legs, 1n, 'legs'),
    };
  }
  const hold = context.holds.get(request.pendingId);
  const problem = checkHold(request, hold, context.now);
  if (problem !== undefined || hold === undefined)
    return problem ?? new LedgerError('pending_not_found', 'no pending transfer', 'pending_id');
  const release = movementsOf('pending', hold.legs, -1n, 'pending_id');
  if (request.kind !== 'post_pending') return { legs: [], movements: release };
  const posted = postedLegs(request, hold.legs);
  if (posted instanceof LedgerError) return posted;
  return { legs: posted, movements: [...release, ...movementsOf('posted', posted, 1n, 'legs')] };
}

/** Applies the movements to copies of the totals; returns the problem or the new totals. */
function tryMovements(
  movements: readonly Movement[],
  accounts: Map<string, AccountState>,
): Map<string, Totals> | LedgerError {
  const scratch = new Map<string, Totals>();
  for (const movement of movements) {
    const account = accounts.get(movement.accountId);
    if (account === undefined) {
      return new LedgerError(
        'account_not_found',
        `no ledger account ${movement.accountId}`,
        `${movement.param}.account_id`,
      );
    }
    if (account.currency !== movement.currency) {
      return new LedgerError(
        'currency_mismatch',
        `account ${account.id} holds ${account.currency}, not ${movement.currency}`,
        `${movement.param}.currency`,
      );
    }
    const totals = scratch.get(account.id) ?? { ...account.totals };
    applyEntry(totals, movement.layer, movement.direction, movement.amount);
    scratch.set(account.id, totals);
  }
  for (const [accountId, totals] of scratch) {
    const account = accounts.get(accountId);
    if (account !== undefined && !withinLimit(account.limit, totals)) {
      const param = movements.find((movement) => movement.accountId === accountId)?.param ?? 'legs';
      return new LedgerError(
        'limit_exceeded',
        `account ${accountId} would break its limit (${account.limit})`,
        `${param}.amount`,
      );
    }
    if (!totalsInRange(totals, ledgerLimits.balanceMax)) {
      return new LedgerError(
        'balance_overflow',
        `account ${accountId} would exceed the largest storable balance`,
        'legs',
      );
    }
  }
  return scratch;
}

/** Plans one request; on success the account and hold states have moved forward. */
export function planTransfer(
  request: TransferRequest,
  context: PlanContext,
): PlannedTransfer | LedgerError {
  const moved = movementsFor(request, context);
  if (moved instanceof LedgerError) return moved;
  const checked = tryMovements(moved.movements, context.accounts);
  if (checked instanceof LedgerError) return checked;
  const entries = moved.movements.map((movement, leg) => {
    const account = context.accounts.get(movement.accountId) as AccountState;
    applyEntry(account.totals, movement.layer, movement.direction, movement.amount);
    account.entryCount += 1n;
    account.touched = true;
    const fields = {
      transactionId: request.id,
      leg,
      accountId: account.id,
      currency: movement.currency,
      layer: movement.layer,
      direction: movement.direction,
      amount: movement.amount,
      accountSequence: account.entryCount,
      totalsAfter: { ...account.totals },
    };
    account.lastHash = entryHash(account.lastHash, fields);
    return { ...fields, hash: account.lastHash };
  });
  updateHolds(request, context);
  return { legs: moved.legs, entries };
}

function updateHolds(request: TransferRequest, context: PlanContext): void {
  if (request.kind === 'pending') {
    const expiresAt = request.expiresAt ?? null;
    context.holds.set(request.id, {
      transactionId: request.id,
      status: 'pending',
      expiresAt,
      legs: request.legs,
      resolvedBy: null,
      createdHere: true,
      changed: true,
    });
    return;
  }
  if (request.kind === 'posted') return;
  const hold = context.holds.get(request.pendingId);
  if (hold === undefined) return;
  hold.status =
    request.kind === 'post_pending'
      ? 'posted'
      : request.kind === 'void_pending'
        ? 'voided'
        : 'expired';
  hold.resolvedBy = request.id;
  hold.changed = true;
}

export function holdFromRow(row: {
  transaction_id: string;
  status: HoldStatus;
  expires_at: Date | null;
  request: CanonicalRequest;
}): HoldState {
  return {
    transactionId: row.transaction_id,
    status: row.status,
    expiresAt: row.expires_at,
    legs: (row.request.legs ?? []).map(legFromCanonical),
    resolvedBy: null,
    createdHere: false,
    changed: false,
  };
}
