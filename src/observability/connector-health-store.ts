// The rows of connector health (migration 043_connector_health.sql): one per minute, connector and
// process. Every read sums over processes (each wrote only its own calls) and merges the latency
// buckets exactly before taking p50/p99 (connector-health-buckets.ts).
import { DomainError } from '../errors.ts';
import type { Queryable } from '../storage/database.ts';
import { integerArrayLiteral } from '../storage/arrays.ts';
import { LATENCY_BUCKETS, quantileMs } from './connector-health-buckets.ts';
import type { BreakerState } from './metrics.ts';

/** One minute's counts of one connector in one process, as the sampler drains them. */
export type DrainedSlot = {
  readonly connector: string;
  readonly calls: number;
  readonly successes: number;
  readonly rejected: number;
  /** Counts per latency bucket, trailing zeros trimmed. */
  readonly latency: readonly number[];
  /** At the end of the minute: 0 closed, 1 half-open, 2 open (BREAKER_STATE_VALUE). */
  readonly breaker: number;
  /** The worst state during the minute. */
  readonly breakerWorst: number;
};

export type SeriesRequest = {
  /** One connector, or every connector with a row in the range. */
  readonly connector?: string;
  readonly from: Date;
  readonly to: Date;
  /** Width of one point: a whole number of minutes, 60 … 86,400 seconds. */
  readonly bucketSeconds: number;
};

/**
 * One connector's points, one per bucket from `from` (rounded down to the bucket) to `to`
 * (exclusive), with null where nothing was recorded: the arrays uPlot takes as they are.
 */
export type HealthSeries = {
  readonly connector: string;
  readonly bucketSeconds: number;
  /** Unix seconds of each bucket's start (uPlot's x values). */
  readonly timestamps: number[];
  /** PSP calls (attempts) in the bucket; 0 where a process wrote a row without calls, null where none wrote. */
  readonly calls: (number | null)[];
  /** Answered calls / calls, 0..1; null without calls. */
  readonly successRate: (number | null)[];
  /** Milliseconds; null without calls. */
  readonly p50: (number | null)[];
  readonly p99: (number | null)[];
  /** Calls refused by the breaker or the bulkhead (nothing sent). */
  readonly rejected: (number | null)[];
  /** The worst breaker state any process saw in the bucket: 0 closed, 1 half-open, 2 open. */
  readonly breaker: (number | null)[];
};

export type ConnectorSummary = {
  readonly connector: string;
  readonly calls: number;
  readonly successes: number;
  readonly rejected: number;
  /** null without calls in the window. */
  readonly successRate: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  /** The worst state among the processes: this one's now, the others' at their last row. */
  readonly breaker: BreakerState;
};

/** Bounds what one series call may ask for (7 days by the minute is 10,080 points: too many). */
export const SERIES_POINTS_MAX = 2_000;
const bucketSecondsMax = 86_400;
const connectorLengthMax = 64;
/** Another process counts for "breaker now" if it wrote a row this recently. */
const otherInstancesRecentMs = 3 * 60_000;

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'half_open', 'open'];

type CountRow = {
  connector: string;
  t: number;
  calls: number;
  successes: number;
  rejected: number;
  breaker: number;
};
type BucketRow = { connector: string; t: number; bucket: number; n: number };

export class ConnectorHealthStore {
  readonly #database: Queryable;

  constructor(database: Queryable) {
    this.#database = database;
  }

  /**
   * One minute of one process. Written once per minute and process; should a minute come twice
   * (a test clock reset backwards), the counts add up.
   */
  async write(instance: string, minute: Date, slots: readonly DrainedSlot[]): Promise<void> {
    if (slots.length === 0) return;
    const values: unknown[] = [minute, instance];
    const tuples = slots.map((slot) => {
      const at = values.length;
      values.push(
        slot.connector,
        slot.calls,
        slot.successes,
        slot.rejected,
        integerArrayLiteral(slot.latency),
        slot.breaker,
        slot.breakerWorst,
      );
      return `($1, $${at + 1}, $2, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}::integer[], $${at + 6}, $${at + 7})`;
    });
    await this.#database.query(
      `INSERT INTO connector_health
         (minute, connector, instance, calls, successes, rejected, latency, breaker, breaker_worst)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (minute, connector, instance) DO UPDATE SET
         calls = connector_health.calls + excluded.calls,
         successes = connector_health.successes + excluded.successes,
         rejected = connector_health.rejected + excluded.rejected,
         latency = ARRAY(
           SELECT coalesce(a, 0) + coalesce(b, 0)
           FROM unnest(connector_health.latency, excluded.latency) WITH ORDINALITY AS l(a, b, i)
           ORDER BY i),
         breaker = excluded.breaker,
         breaker_worst = greatest(connector_health.breaker_worst, excluded.breaker_worst)`,
      values,
    );
  }

  /** Deletes rows of minutes before `before`; how many. */
  async prune(before: Date): Promise<number> {
    const result = await this.#database.query('DELETE FROM connector_health WHERE minute < $1', [
      before,
    ]);
    return result.rowCount;
  }

  async series(request: SeriesRequest): Promise<HealthSeries[]> {
    const { connector, bucketSeconds } = request;
    if (
      !Number.isInteger(bucketSeconds) ||
      bucketSeconds < 60 ||
      bucketSeconds > bucketSecondsMax ||
      bucketSeconds % 60 !== 0
    )
      throw new DomainError(
        'parameter_invalid',
        'invalid',
        `bucketSeconds must be a whole number of minutes from 60 to ${bucketSecondsMax}`,
        'bucketSeconds',
      );
    if (
      connector !== undefined &&
      (connector.length === 0 || connector.length > connectorLengthMax)
    )
      throw new DomainError('parameter_invalid', 'invalid', 'no such connector', 'connector');
    const bucketMs = bucketSeconds * 1000;
    const fromMs = Math.floor(request.from.getTime() / bucketMs) * bucketMs;
    const toMs = request.to.getTime();
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs)
      throw new DomainError('parameter_invalid', 'invalid', '`from` must be before `to`', 'from');
    const points = Math.ceil((toMs - fromMs) / bucketMs);
    if (points > SERIES_POINTS_MAX)
      throw new DomainError(
        'parameter_invalid',
        'invalid',
        `${points} points asked for, at most ${SERIES_POINTS_MAX}: take a wider bucket or a shorter range`,
        'bucketSeconds',
      );
    const range = { from: new Date(fromMs), to: new Date(fromMs + points * bucketMs) };
    const { counts, buckets } = await this.#aggregate(range, bucketSeconds, connector);
    const names = [...new Set(counts.map((row) => row.connector))].sort();
    if (connector !== undefined && names.length === 0) names.push(connector);
    return names.map((name) => {
      const timestamps: number[] = [];
      for (let index = 0; index < points; index++)
        timestamps.push((fromMs + index * bucketMs) / 1000);
      const empty = () => timestamps.map((): number | null => null);
      const series = {
        connector: name,
        bucketSeconds,
        timestamps,
        calls: empty(),
        successRate: empty(),
        p50: empty(),
        p99: empty(),
        rejected: empty(),
        breaker: empty(),
      };
      const histograms = new Map<number, number[]>();
      for (const row of buckets) {
        if (row.connector !== name) continue;
        let histogram = histograms.get(row.t);
        if (histogram === undefined) {
          histogram = new Array<number>(LATENCY_BUCKETS).fill(0);
          histograms.set(row.t, histogram);
        }
        histogram[row.bucket] = row.n;
      }
      for (const row of counts) {
        if (row.connector !== name) continue;
        const index = Math.round((row.t * 1000 - fromMs) / bucketMs);
        if (index < 0 || index >= points) continue;
        const histogram = histograms.get(row.t) ?? [];
        series.calls[index] = row.calls;
        series.rejected[index] = row.rejected;
        series.breaker[index] = row.breaker;
        series.successRate[index] = row.calls === 0 ? null : row.successes / row.calls;
        series.p50[index] = quantileMs(histogram, 0.5);
        series.p99[index] = quantileMs(histogram, 0.99);
      }
      return series;
    });
  }

  /**
   * Totals per connector over [from, to) of every process, and the breaker state now: `live`
   * (this process's, by connector) combined with the last row of every other process that wrote
   * one in the last 3 minutes before `to`.
   */
  async current(request: {
    readonly from: Date;
    readonly to: Date;
    readonly instance: string;
    readonly live: ReadonlyMap<string, number>;
  }): Promise<ConnectorSummary[]> {
    const { counts, buckets } = await this.#aggregate(request, undefined, undefined);
    const others = await this.#database.query<{ connector: string; breaker: number }>(
      `SELECT DISTINCT ON (connector, instance) connector, breaker
       FROM connector_health
       WHERE minute >= $1 AND minute < $2 AND instance <> $3
       ORDER BY connector, instance, minute DESC`,
      [new Date(request.to.getTime() - otherInstancesRecentMs), request.to, request.instance],
    );
    const breakers = new Map(request.live);
    for (const row of others.rows)
      breakers.set(row.connector, Math.max(breakers.get(row.connector) ?? 0, row.breaker));
    const names = [...new Set([...breakers.keys(), ...counts.map((row) => row.connector)])].sort();
    return names.map((name) => {
      const total = counts.find((row) => row.connector === name);
      const histogram = new Array<number>(LATENCY_BUCKETS).fill(0);
      for (const row of buckets) if (row.connector === name) histogram[row.bucket] = row.n;
      const calls = total?.calls ?? 0;
      const successes = total?.successes ?? 0;
      return {
        connector: name,
        calls,
        successes,
        rejected: total?.rejected ?? 0,
        successRate: calls === 0 ? null : successes / calls,
        p50: quantileMs(histogram, 0.5),
        p99: quantileMs(histogram, 0.99),
        breaker: BREAKER_STATES[breakers.get(name) ?? 0] ?? 'open',
      };
    });
  }

  /**
   * Sums per connector and bucket of `bucketSeconds` (without it, over the whole range): the
   * counts, and the latency buckets that are not empty.
   */
  async #aggregate(
    range: { readonly from: Date; readonly to: Date },
    bucketSeconds: number | undefined,
    connector: string | undefined,
  ): Promise<{ counts: CountRow[]; buckets: BucketRow[] }> {
    const values: unknown[] = [range.from, range.to];
    const time =
      bucketSeconds === undefined
        ? '0::float8'
        : `(floor(extract(epoch FROM h.minute) / $${values.push(bucketSeconds)}::integer) * $${values.length}::integer)::float8`;
    const scope =
      connector === undefined ? '' : `AND h.connector = $${values.push(connector)}::text`;
    const where = `h.minute >= $1 AND h.minute < $2 ${scope}`;
    const counts = await this.#database.query<CountRow>(
      `SELECT h.connector, ${time} AS t, sum(h.calls)::float8 AS calls,
              sum(h.successes)::float8 AS successes, sum(h.rejected)::float8 AS rejected,
              max(h.breaker_worst)::integer AS breaker
       FROM connector_health h WHERE ${where}
       GROUP BY 1, 2`,
      values,
    );
    const buckets = await this.#database.query<BucketRow>(
      `SELECT h.connector, ${time} AS t, (l.i - 1)::integer AS bucket, sum(l.n)::float8 AS n
       FROM connector_health h CROSS JOIN LATERAL unnest(h.latency) WITH ORDINALITY AS l(n, i)
       WHERE ${where} AND l.n > 0
       GROUP BY 1, 2, 3`,
      values,
    );
    return { counts: counts.rows, buckets: buckets.rows };
  }
}
