// Test clocks kept in the database (migration 018): one row per scope, 'system' or a merchant id,
// with how far it runs ahead (a merchant's offset counts beyond the system's). Every process
// sharing the database reads the same rows, so the server and `payrail worker` agree on the time.
import type { ClockOffsets } from '../clock.ts';
import type { Queryable } from '../storage/database.ts';

export const systemScope = 'system';

type OffsetRow = { scope: string; offset_ms: string | number | bigint };

export async function loadOffsets(database: Queryable): Promise<ClockOffsets> {
  const result = await database.query<OffsetRow>('SELECT scope, offset_ms FROM test_clocks');
  const offsets: ClockOffsets = { systemMs: 0, merchantsMs: new Map() };
  for (const row of result.rows) {
    const offsetMs = Number(row.offset_ms);
    if (row.scope === systemScope) offsets.systemMs = offsetMs;
    else offsets.merchantsMs.set(row.scope, offsetMs);
  }
  return offsets;
}

/**
 * Locks the scope's row (creating it at offset 0) and returns its offset, inside `tx`: `update`
 * to move it, `share` to keep it from moving until `tx` ends.
 */
export async function lockOffset(
  tx: Queryable,
  scope: string,
  mode: 'update' | 'share' = 'update',
): Promise<number> {
  await tx.query(
    `INSERT INTO test_clocks (scope, offset_ms, updated_at) VALUES ($1, 0, now())
     ON CONFLICT (scope) DO NOTHING`,
    [scope],
  );
  const result = await tx.query<OffsetRow>(
    `SELECT scope, offset_ms FROM test_clocks WHERE scope = $1 FOR ${mode === 'update' ? 'UPDATE' : 'SHARE'}`,
    [scope],
  );
  return Number(result.rows[0]?.offset_ms ?? 0);
}

/** Stores a scope's offset; the caller has checked that it does not go back. */
export async function storeOffset(tx: Queryable, scope: string, offsetMs: number): Promise<void> {
  // updated_at records when (in real time) an operator moved the clock: an audit trail only.
  await tx.query('UPDATE test_clocks SET offset_ms = $2, updated_at = now() WHERE scope = $1', [
    scope,
    offsetMs,
  ]);
}

/** The explicit reset: one merchant's clock, or every clock when no merchant is given. */
export async function deleteOffsets(tx: Queryable, merchantId: string | undefined): Promise<void> {
  if (merchantId === undefined) await tx.query('DELETE FROM test_clocks');
  else await tx.query('DELETE FROM test_clocks WHERE scope = $1', [merchantId]);
}
