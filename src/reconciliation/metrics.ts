// What the reconciliation gauges show (src/observability/reconciliation-metrics.ts), read from the
// database at scrape time: the open exceptions grouped by reason and age, and the latest real
// run's match rate.
import type {
  ExceptionAgeBucket,
  ReconciliationSnapshot,
} from '../observability/reconciliation-metrics.ts';
import type { Queryable } from '../storage/database.ts';

export async function readReconciliationSnapshot(
  queryable: Queryable,
  now: Date,
): Promise<ReconciliationSnapshot> {
  const open = await queryable.query<{ reason: string; age: ExceptionAgeBucket; count: number }>(
    `SELECT reason, CASE WHEN age < 1 THEN '0-1d' WHEN age < 3 THEN '1-3d'
                         WHEN age < 7 THEN '3-7d' WHEN age < 30 THEN '7-30d' ELSE '30d+' END AS age,
            count(*)::int AS count
       FROM (SELECT reason, extract(epoch FROM ($1::timestamptz - created_at)) / 86400 AS age
               FROM recon_exceptions WHERE status = 'open') AS aged
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [now],
  );
  const latest = await queryable.query<{ rate: string | null }>(
    `SELECT summary ->> 'matchRate' AS rate FROM recon_runs
      WHERE NOT dry_run AND status = 'succeeded' ORDER BY started_at DESC, id DESC LIMIT 1`,
  );
  const rate = latest.rows[0]?.rate;
  return {
    matchRate: rate === undefined || rate === null ? undefined : Number(rate),
    open: open.rows,
  };
}
