// Reconciliation in a chaos run (issue 12): during the money-out days the simulator seeds known
// discrepancies into its PSP settlement reports and bank statements (sim/CONTRACT.md
// "Reconciliation seeding"); after the drain the operator runs reconciliation through the API and
// the final check `reconciliation` (checks.ts) compares the open exceptions with what the
// simulator injected: precision and recall must both be 100 %.
import type { Queryable } from '../../src/storage/database.ts';
import {
  clearSeeding,
  exceptionSubject,
  injectedDiscrepancies,
  pspReferencesOfItems,
  setSeeding,
  type ExceptionJson,
  type Injected,
  type SeededKind,
  type SeedingInput,
} from '../support/reconciliation.ts';
import type { ReconRaised } from './checks.ts';
import type { PayrailClient } from './client.ts';

/**
 * Seeding for the days: a fixed seed (from the run's), every kind at a rate that injects each at
 * least once in the short run of `npm test` (about a hundred accepted items, ten settlements and
 * ten paid payouts; see the chaos report's `reconciliation` row). Line kinds are drawn per
 * accepted item (their sum ≤ 1), splits per settlement credit, returns per paid payout; a
 * seeded return comes back the next day so that the drain does not wait longer for it.
 */
export function reconciliationSeeding(seed: number): SeedingInput {
  return {
    seed: seed + 12,
    rates: {
      missing_line: 0.08,
      unexpected_line: 0.08,
      duplicate_line: 0.08,
      fee_variance: 0.08,
      amount_off_by_one: 0.08,
      late_line: 0.08,
      split_settlement: 0.5,
      payout_returned: 0.5,
    },
    returnAfterDays: 1,
  };
}

export async function startSeeding(simulatorUrl: string, seed: number): Promise<void> {
  await setSeeding({ url: simulatorUrl }, reconciliationSeeding(seed));
}

/** Seeding off: what was injected stays listed; a late line already held back still travels. */
export async function stopSeeding(simulatorUrl: string): Promise<void> {
  await clearSeeding({ url: simulatorUrl });
}

export type ReconciliationRead = {
  readonly runId: string;
  readonly asOf: string;
  /** What the simulator injected, in its order. */
  readonly injected: readonly Injected[];
  /** Injected discrepancies by kind (the chaos report shows that every kind was exercised). */
  readonly injectedKinds: Partial<Record<SeededKind, number>>;
  /** The run's open exceptions, each with its subject. */
  readonly raised: readonly ReconRaised[];
  /** Open exceptions by reason. */
  readonly reasons: Record<string, number>;
};

/**
 * The operator's reconciliation run as of `asOf` (`POST /v1/reconciliation/runs`), then every open
 * exception (`GET /v1/reconciliation/exceptions`, all pages) with its subject, and the simulator's
 * list of what it injected.
 */
export async function runReconciliation(
  admin: PayrailClient,
  simulatorUrl: string,
  database: Queryable,
  asOf: string,
): Promise<ReconciliationRead> {
  const ran = await admin.post('/v1/reconciliation/runs', { as_of: asOf });
  if (ran?.status !== 201 || ran.body.status !== 'succeeded')
    throw new Error(
      `reconciliation run: ${ran === undefined ? 'no answer' : `${ran.status} ${JSON.stringify(ran.body)}`}`,
    );
  const exceptions: ExceptionJson[] = [];
  let after = '';
  for (;;) {
    const page = await admin.get(
      `/v1/reconciliation/exceptions?status=open&limit=100${after === '' ? '' : `&starting_after=${after}`}`,
    );
    if (page?.status !== 200)
      throw new Error(
        `reconciliation exceptions: ${page === undefined ? 'no answer' : `${page.status} ${JSON.stringify(page.body)}`}`,
      );
    const data = page.body.data as ExceptionJson[];
    exceptions.push(...data);
    if (page.body.has_more !== true || data.length === 0) break;
    after = String(data.at(-1)?.id);
  }
  const pspReferenceOf = await pspReferencesOfItems(database);
  const injected = await injectedDiscrepancies({ url: simulatorUrl });
  const injectedKinds: Partial<Record<SeededKind, number>> = {};
  for (const entry of injected) injectedKinds[entry.kind] = (injectedKinds[entry.kind] ?? 0) + 1;
  const reasons: Record<string, number> = {};
  for (const exception of exceptions)
    reasons[exception.reason] = (reasons[exception.reason] ?? 0) + 1;
  return {
    runId: String(ran.body.id),
    asOf,
    injected,
    injectedKinds,
    raised: exceptions.map((exception) => ({
      id: exception.id,
      reason: exception.reason,
      subject: exceptionSubject(exception, pspReferenceOf),
    })),
    reasons,
  };
}
