// The end of a chaos run, with faults off: every payment Payrail knows is brought to a terminal
// state through the API, as a merchant would: anything unresolved (an intent processing, an
// attempt pending or unknown, a refund pending) is synced; an authorization left in
// requires_capture is captured or canceled as its flow meant; an intent never confirmed is
// canceled. Then the merchants' webhooks are awaited. Every wait is bounded.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Json, PayrailClient } from './client.ts';
import type { IntentRecord } from './flows.ts';

const pageSize = 100;
const pagesMax = 2_000;

/** Every object of a Stripe-style list, following `has_more` with `starting_after`. */
export async function listAll(client: PayrailClient, path: string): Promise<Json[]> {
  const items: Json[] = [];
  let after: string | undefined;
  for (let page = 0; page < pagesMax; page++) {
    const separator = path.includes('?') ? '&' : '?';
    const answer = await client.get(
      `${path}${separator}limit=${pageSize}${after === undefined ? '' : `&starting_after=${after}`}`,
    );
    if (answer === undefined || answer.status !== 200)
      throw new Error(
        `GET ${path}: ${answer === undefined ? 'no answer' : `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`}`,
      );
    const data = answer.body.data as Json[];
    items.push(...data);
    if (answer.body.has_more !== true || data.length === 0) return items;
    after = String(data[data.length - 1]?.id);
  }
  throw new Error(`GET ${path}: more than ${pagesMax} pages`);
}

type Attempt = { id: string; status: string; abandoned?: boolean };

export const terminalStatuses: ReadonlySet<string> = new Set(['succeeded', 'canceled']);

/** Terminal: succeeded, canceled, or requires_payment_method after a decline; and nothing left unresolved on it. */
export function isTerminal(intent: Json, pendingRefundIntents: ReadonlySet<string>): boolean {
  const attempts = (intent.attempts as Attempt[] | undefined) ?? [];
  if (attempts.some((attempt) => attempt.status === 'pending' || attempt.status === 'unknown'))
    return false;
  if (pendingRefundIntents.has(String(intent.id))) return false;
  if (terminalStatuses.has(String(intent.status))) return true;
  return (
    intent.status === 'requires_payment_method' &&
    intent.last_payment_error !== null &&
    intent.last_payment_error !== undefined
  );
}

type Action = 'sync' | 'confirm' | 'capture' | 'cancel' | undefined;

/** Syncs of an authorization in doubt before it is sent again (a PSP that never saw it answers "not found" to a sync). */
const syncsBeforeResend = 2;

function actionFor(
  intent: Json,
  pendingRefundIntents: ReadonlySet<string>,
  intended: 'capture' | 'cancel',
  syncs: number,
): Action {
  if (isTerminal(intent, pendingRefundIntents)) return undefined;
  const attempts = (intent.attempts as Attempt[] | undefined) ?? [];
  const open = (attempt: Attempt) => attempt.status === 'pending' || attempt.status === 'unknown';
  // An authorization whose outcome stays unknown: the customer meant to pay, so the merchant
  // confirms again, which resends the same attempt with the same PSP idempotency key.
  if (
    intent.status === 'processing' &&
    syncs >= syncsBeforeResend &&
    attempts.some((attempt) => open(attempt) && attempt.abandoned !== true)
  )
    return 'confirm';
  if (
    intent.status === 'processing' ||
    pendingRefundIntents.has(String(intent.id)) ||
    attempts.some(open)
  )
    return 'sync';
  if (intent.status === 'requires_capture') return intended;
  return 'cancel'; // never confirmed (or released after every connector refused): nothing was charged
}

export type SettleStats = {
  rounds: number;
  syncs: number;
  resends: number;
  captures: number;
  cancels: number;
  failures: string[];
  left: number;
  seconds: number;
};

export type MerchantHandle = { readonly index: number; readonly client: PayrailClient };

async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

export async function settleEverything(
  merchants: readonly MerchantHandle[],
  records: ReadonlyMap<string, IntentRecord>,
  timeoutMs: number,
): Promise<SettleStats> {
  const started = Date.now();
  const stats: SettleStats = {
    rounds: 0,
    syncs: 0,
    resends: 0,
    captures: 0,
    cancels: 0,
    failures: [],
    left: 0,
    seconds: 0,
  };
  const syncsOf = new Map<string, number>();
  const intendedByRef = new Map(
    [...records.values()].map((record) => [record.ref, record.intended]),
  );
  for (;;) {
    stats.rounds++;
    let left = 0;
    for (const merchant of merchants) {
      const pendingRefundIntents = new Set(
        (await listAll(merchant.client, '/v1/refunds'))
          .filter((refund) => refund.status === 'pending')
          .map((refund) => String(refund.payment_intent)),
      );
      const work = (await listAll(merchant.client, '/v1/payment_intents')).flatMap((intent) => {
        const ref = (intent.metadata as Record<string, string> | undefined)?.chaos_ref;
        const action = actionFor(
          intent,
          pendingRefundIntents,
          (ref === undefined ? undefined : intendedByRef.get(ref)) ?? 'capture',
          syncsOf.get(String(intent.id)) ?? 0,
        );
        return action === undefined ? [] : [{ intent, action }];
      });
      left += work.length;
      if (Date.now() - started > timeoutMs) continue;
      await inParallel(work, 6, async ({ intent, action }) => {
        const path = `/v1/payment_intents/${String(intent.id)}/${action}`;
        const answer = await merchant.client.post(path, {});
        if (action === 'sync') {
          stats.syncs++;
          syncsOf.set(String(intent.id), (syncsOf.get(String(intent.id)) ?? 0) + 1);
        } else if (action === 'confirm') {
          stats.resends++;
          syncsOf.set(String(intent.id), 0);
        } else if (action === 'capture') stats.captures++;
        else stats.cancels++;
        // A resent authorization may be declined (402, a final answer); a capture or cancel refused
        // because the outcome is still unknown is synced next round.
        const settled =
          answer !== undefined &&
          (answer.status === 200 ||
            answer.body.error?.code === 'outcome_unknown' ||
            (action === 'confirm' && answer.body.error?.type === 'card_error'));
        if (!settled && stats.failures.length < 10) {
          stats.failures.push(
            `${action} ${String(intent.id)} (${String(intent.status)}): ${answer === undefined ? 'no answer' : `${answer.status} ${JSON.stringify(answer.body.error ?? answer.body).slice(0, 200)}`}`,
          );
        }
      });
    }
    stats.left = left;
    if (left === 0 || Date.now() - started > timeoutMs) break;
    await sleep(Math.min(2_000, 250 * stats.rounds));
  }
  stats.seconds = (Date.now() - started) / 1000;
  return stats;
}
