// Fixed log-scale latency buckets of connector health (connector-health.ts): 4 per doubling from
// 1 ms, bucket i holding (2^((i-1)/4), 2^(i/4)] ms. Counts of several processes and minutes add
// up exactly; a quantile read back lies in the right bucket, so within 19 % of the true value,
// and is interpolated linearly inside it.

/** Buckets per doubling of the latency. */
const BUCKETS_PER_DOUBLING = 4;
/** Bucket 0 is ≤ 1 ms; bucket 70 ends at 2^17.5 ms ≈ 185 s (past the 120 s hard timeout); 71 is beyond. */
export const LATENCY_BUCKETS = 72;

/** The bucket of a latency in milliseconds (NaN and negatives go to bucket 0). */
export function latencyBucket(ms: number): number {
  if (!(ms > 1)) return 0;
  const bucket = Math.ceil(Math.log2(ms) * BUCKETS_PER_DOUBLING);
  return bucket < LATENCY_BUCKETS ? bucket : LATENCY_BUCKETS - 1;
}

/** The upper bound of a bucket in ms (the last bucket has none: its lower bound is returned). */
export function bucketUpperMs(bucket: number): number {
  const last = LATENCY_BUCKETS - 1;
  return 2 ** (Math.min(bucket, last - 1) / BUCKETS_PER_DOUBLING);
}

function bucketLowerMs(bucket: number): number {
  return bucket === 0 ? 0 : 2 ** ((bucket - 1) / BUCKETS_PER_DOUBLING);
}

/**
 * The q-quantile (0 < q ≤ 1) in ms of a bucket histogram, nearest rank, linearly interpolated
 * inside its bucket, rounded to 0.1 ms; null for an empty histogram.
 */
export function quantileMs(histogram: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let index = 0; index < histogram.length; index++) total += histogram[index] ?? 0;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let bucket = 0; bucket < histogram.length; bucket++) {
    const count = histogram[bucket] ?? 0;
    if (count === 0 || seen + count < rank) {
      seen += count;
      continue;
    }
    const lower = bucketLowerMs(bucket);
    if (bucket >= LATENCY_BUCKETS - 1) return round(lower);
    const upper = bucketUpperMs(bucket);
    return round(lower + ((upper - lower) * (rank - seen)) / count);
  }
  return null; // unreachable: rank ≤ total
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
