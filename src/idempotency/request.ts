// What a service needs to know of a request sent under an Idempotency-Key (the HTTP layer's
// idempotency hook fills it in): whether it resumes a first try that stopped midway, and how to
// record what it creates under the key.
import type { Queryable } from '../storage/database.ts';

export type IdempotentRequest = {
  /** A retry that took over the key of a request that stopped midway (a crash, a timeout). */
  readonly resumed?: boolean;
  /** What that first request created (create requests), when it got that far. */
  readonly resourceId?: string | null;
  /** Records the created resource under the key, in the transaction that creates it. */
  readonly bind?: (tx: Queryable, resourceId: string) => Promise<void>;
};

/** The resource a resumed create request's first try made, if it got that far. */
export function resumedResourceId(request: IdempotentRequest): string | undefined {
  return request.resumed === true ? (request.resourceId ?? undefined) : undefined;
}
