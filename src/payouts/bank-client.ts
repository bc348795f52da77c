// The bank's payout API (SPEC-11 wire contract; the simulator's bank in test mode):
// POST /bank/v1/payouts, idempotent by our payout id, so a payout resent after a crash is executed
// once. The account number travels only in this request's body; nothing here logs it.
import type { BankAccountDetails } from './bank-accounts.ts';

export type BankPayoutRequest = {
  readonly payoutId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly requestedAt: Date;
  readonly account: BankAccountDetails;
};

export type BankPayoutAnswer =
  | { readonly kind: 'accepted'; readonly traceId: string; readonly expectedOn: string | null }
  /** Refused, not executed: 422 with the bank's failure code, or 400 (a request it cannot read). */
  | { readonly kind: 'rejected'; readonly failureCode: string }
  /** Nothing learned (network, 5xx, an answer we cannot read): the payout is sent again later. */
  | { readonly kind: 'unknown'; readonly reason: string };

export interface BankClient {
  sendPayout(request: BankPayoutRequest): Promise<BankPayoutAnswer>;
}

export type HttpBankClientOptions = {
  /** The bank's base URL, e.g. `http://127.0.0.1:8090/bank`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly timeoutMs?: number;
};

export function httpBankClient(options: HttpBankClientOptions): BankClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async sendPayout(request) {
      // JSON numbers are doubles: an amount past 2^53 would reach the bank rounded. No payout
      // comes near it (90 trillion cents), so one would be a bug: fail loudly.
      if (request.amount > BigInt(Number.MAX_SAFE_INTEGER))
        throw new RangeError(
          `payout ${request.payoutId}: amount ${request.amount} is not exact as JSON`,
        );
      let response: Response;
      try {
        response = await fetch(`${options.baseUrl}/v1/payouts`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            payout_id: request.payoutId,
            amount: Number(request.amount),
            currency: request.currency,
            requested_at: request.requestedAt.toISOString(),
            account: {
              holder_name: request.account.holderName,
              account_number: request.account.accountNumber,
              routing_number: request.account.routingNumber,
              country: request.account.country,
            },
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        return { kind: 'unknown', reason: error instanceof Error ? error.name : 'network error' };
      }
      let body: Record<string, unknown>;
      try {
        body = (await response.json()) as Record<string, unknown>;
      } catch {
        return { kind: 'unknown', reason: `status ${response.status}, body not JSON` };
      }
      if (
        (response.status === 200 || response.status === 201) &&
        body.status === 'accepted' &&
        typeof body.trace_id === 'string'
      )
        return {
          kind: 'accepted',
          traceId: body.trace_id,
          expectedOn: typeof body.expected_on === 'string' ? body.expected_on : null,
        };
      if (response.status === 422 && body.status === 'rejected')
        return {
          kind: 'rejected',
          failureCode: typeof body.failure_code === 'string' ? body.failure_code : 'declined',
        };
      // A request the bank refused as malformed was not executed: the payout fails and its money
      // goes back. Anything else (401, 409 payout_id_reused, 5xx) may hide an executed payout or
      // a fault on our side: it stays unknown and is sent again under the same id.
      if (response.status === 400) return { kind: 'rejected', failureCode: 'could_not_process' };
      return { kind: 'unknown', reason: `status ${response.status}` };
    },
  };
}
