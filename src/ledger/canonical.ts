// The canonical form of a transfer request, stored with the transaction so that a replay of the
// same id can be compared field by field ("same id + same content = the existing transfer").
import type { Leg, TransferRequest } from './types.ts';

export type CanonicalLeg = {
  account_id: string;
  direction: string;
  amount: string;
  currency: string;
};
export type CanonicalRequest = {
  kind: string;
  legs?: CanonicalLeg[];
  pending_id?: string;
  amount?: string;
  description?: string;
  metadata?: Record<string, string>;
  expires_at?: string;
};

function canonicalLeg(leg: Leg): CanonicalLeg {
  return {
    account_id: leg.accountId,
    direction: leg.direction,
    amount: leg.amount.toString(),
    currency: leg.currency,
  };
}

export function canonicalRequest(request: TransferRequest): CanonicalRequest {
  const canonical: CanonicalRequest = { kind: request.kind };
  if ('legs' in request && request.legs !== undefined)
    canonical.legs = request.legs.map(canonicalLeg);
  if ('pendingId' in request) canonical.pending_id = request.pendingId;
  if (request.kind === 'post_pending' && request.amount !== undefined)
    canonical.amount = request.amount.toString();
  if (request.description !== undefined) canonical.description = request.description;
  if (request.metadata !== undefined && Object.keys(request.metadata).length > 0) {
    canonical.metadata = Object.fromEntries(
      Object.entries(request.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }
  if (request.kind === 'pending' && request.expiresAt !== undefined)
    canonical.expires_at = request.expiresAt.toISOString();
  return canonical;
}

export function legFromCanonical(leg: CanonicalLeg): Leg {
  return {
    accountId: leg.account_id,
    direction: leg.direction === 'debit' ? 'debit' : 'credit',
    amount: BigInt(leg.amount),
    currency: leg.currency,
  };
}

/** The first field (as the API names it) in which two canonical requests differ, or undefined. */
export function firstDifference(
  stored: CanonicalRequest,
  incoming: CanonicalRequest,
): string | undefined {
  const scalarFields = ['kind', 'pending_id', 'amount', 'description', 'expires_at'] as const;
  for (const field of scalarFields) {
    if (stored[field] !== incoming[field]) return field;
  }
  const storedLegs = stored.legs ?? [];
  const incomingLegs = incoming.legs ?? [];
  if (storedLegs.length !== incomingLegs.length) return 'legs';
  for (const [index, storedLeg] of storedLegs.entries()) {
    const incomingLeg = incomingLegs[index];
    for (const field of ['account_id', 'direction', 'amount', 'currency'] as const) {
      if (storedLeg[field] !== incomingLeg?.[field]) return `legs[${index}].${field}`;
    }
  }
  if (JSON.stringify(stored.metadata ?? {}) !== JSON.stringify(incoming.metadata ?? {}))
    return 'metadata';
  return undefined;
}
