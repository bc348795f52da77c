// settlement_report_lines (migration 027): a batch's report staged line by line, and the
// set-based matching of the staged lines with the batch's accepted items. Nothing here holds more
// than one page of lines in memory, and nothing touches the items: what the PSP said of each item
// stays in its line, for reconciliation to compare per item.
import { integerArrayLiteral, textArrayLiteral } from '../../storage/arrays.ts';
import { sqlState, type Queryable } from '../../storage/database.ts';
import type { ReportItem } from './types.ts';

/** What was staged of one report: how many lines, and their sums (to see that they are all there). */
export type StagedTotals = {
  readonly lines: number;
  readonly amount: bigint;
  readonly fee: bigint;
};

// Lines are inserted plainly while none of them is there yet (the first reading of a report), and
// with ON CONFLICT once one is (a retry after a crash or a failure; a concurrent reading): the
// conflict check costs about as much as the insert. A line staged again takes the content the PSP
// gives now; a line of a batch already ingested is never written (its lines are the record of
// that ingestion).
const stageSql = (mode: StageMode) => `
  INSERT INTO settlement_report_lines AS staged
    (batch_id, line, type, psp_reference, currency, amount, fee, net)
  SELECT $1::text, input.line, input.type, input.psp_reference, input.currency, input.amount,
         input.fee, input.net
    FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                $8::bigint[]) AS input (line, type, psp_reference, currency, amount, fee, net)
   WHERE NOT EXISTS (SELECT 1 FROM settlement_batches b WHERE b.id = $1::text AND b.psp_fee IS NOT NULL)
  ${
    mode === 'insert'
      ? ''
      : `ON CONFLICT (batch_id, line) DO UPDATE SET
    type = excluded.type, psp_reference = excluded.psp_reference, currency = excluded.currency,
    amount = excluded.amount, fee = excluded.fee, net = excluded.net
  WHERE (staged.type, staged.psp_reference, staged.currency, staged.amount, staged.fee)
    IS DISTINCT FROM (excluded.type, excluded.psp_reference, excluded.currency, excluded.amount,
                      excluded.fee)`
  }`;
const insertSql = stageSql('insert');
const upsertSql = stageSql('upsert');

/** 'insert' until a line is found staged already, then 'upsert'. */
export type StageMode = 'insert' | 'upsert';

/**
 * Stages lines of a batch's report in one statement (arrays, not a row per statement); returns
 * the mode for the next lines.
 */
export async function stageLines(
  queryable: Queryable,
  batchId: string,
  items: readonly ReportItem[],
  mode: StageMode,
): Promise<StageMode> {
  if (items.length === 0) return mode;
  const parameters = [
    batchId,
    integerArrayLiteral(items.map((item) => item.line)),
    textArrayLiteral(items.map((item) => item.type)),
    textArrayLiteral(items.map((item) => item.pspReference)),
    textArrayLiteral(items.map((item) => item.currency)),
    integerArrayLiteral(items.map((item) => item.amount)),
    integerArrayLiteral(items.map((item) => item.fee)),
    integerArrayLiteral(items.map((item) => item.net)),
  ];
  if (mode === 'insert') {
    try {
      await queryable.query(insertSql, parameters);
      return 'insert';
    } catch (error) {
      if (sqlState(error) !== '23505') throw error;
    }
  }
  await queryable.query(upsertSql, parameters);
  return 'upsert';
}

/** What is staged for the batch now. */
export async function stagedTotals(queryable: Queryable, batchId: string): Promise<StagedTotals> {
  const result = await queryable.query<{ lines: number; amount: bigint; fee: bigint }>(
    `SELECT count(*)::int AS lines, coalesce(sum(amount), 0)::bigint AS amount,
            coalesce(sum(fee), 0)::bigint AS fee
       FROM settlement_report_lines WHERE batch_id = $1`,
    [batchId],
  );
  const row = result.rows[0];
  return {
    lines: row?.lines ?? 0,
    amount: BigInt(row?.amount ?? 0n),
    fee: BigInt(row?.fee ?? 0n),
  };
}

export function sameTotals(left: StagedTotals, right: StagedTotals): boolean {
  return left.lines === right.lines && left.amount === right.amount && left.fee === right.fee;
}

export async function deleteStagedLines(queryable: Queryable, batchId: string): Promise<void> {
  await queryable.query(`DELETE FROM settlement_report_lines WHERE batch_id = $1`, [batchId]);
}

export type BatchMatching = {
  /** Lines matched to an accepted item (their fee is the batch's PSP fee). */
  readonly matched: number;
  readonly fee: bigint;
  /** Discrepancies recorded now (not seen before). */
  readonly discrepancies: number;
};

type Batch = { readonly id: string; readonly connector: string; readonly currency: string };

// Matching rules (those of the discrepancies recorded before lines were staged): the batch's lines
// against its accepted items ('batched' in an acknowledged batch), by (type, PSP reference), in
// report order. A key's first line is matched; a later line with the same key is a duplicate. A
// first line with no item is unknown; with an item, a currency other than the batch's is a
// mismatch (its fee not taken), an amount other than the item's is a mismatch (its fee taken). An
// item no line names (or without a PSP reference) is missing. Two items with one key (clearing
// never makes them) match the first by id, and the other is not missing.
//
// Parameters: $1 batch id, $2 currency, and for the inserts $3 connector, $4 now.

/**
 * Where lines and items are read from. The joins take a (type, psp_reference) key as unique on
 * each side: the plain tables when the counts show it is, else the first line and item of each key.
 */
type Sources = { readonly lines: string; readonly items: string };

const allLines = `(SELECT line, type, psp_reference, currency, amount, fee
                     FROM settlement_report_lines WHERE batch_id = $1::text)`;
const allItems = `(SELECT id, type, psp_reference, amount
                     FROM balance_transactions WHERE batch_id = $1::text AND clearing_status = 'batched')`;
/** Keys named by more than one line, with their first line. */
const repeatedLines = `(SELECT type, psp_reference, min(line) AS first_line
                          FROM settlement_report_lines WHERE batch_id = $1::text
                         GROUP BY type, psp_reference HAVING count(*) > 1)`;
/** Keys of more than one item, with their first item. */
const repeatedItems = `(SELECT type, psp_reference, min(id) AS first_id
                          FROM balance_transactions
                         WHERE batch_id = $1::text AND clearing_status = 'batched'
                           AND psp_reference IS NOT NULL
                         GROUP BY type, psp_reference HAVING count(*) > 1)`;

/** Without duplicates on either side (what the counts of the plain join show) every row is first. */
const plainSources: Sources = { lines: allLines, items: allItems };
/** The first line of each key and the first item of each key. */
const firstSources: Sources = {
  lines: `(SELECT l.* FROM ${allLines} l
            WHERE NOT EXISTS (SELECT 1 FROM ${repeatedLines} r
                               WHERE r.type = l.type AND r.psp_reference = l.psp_reference
                                 AND r.first_line <> l.line))`,
  items: `(SELECT i.* FROM ${allItems} i
            WHERE NOT EXISTS (SELECT 1 FROM ${repeatedItems} r
                               WHERE r.type = i.type AND r.psp_reference = i.psp_reference
                                 AND r.first_id <> i.id))`,
};

/** Lines against items in one hash full join: what matched, and what tells of duplicates. */
const countsSql = (sources: Sources) => `
  SELECT count(*) FILTER (WHERE l.line IS NOT NULL AND i.id IS NOT NULL)::int AS pairs,
         count(*) FILTER (WHERE i.id IS NULL)::int AS unknown,
         count(DISTINCT (l.type, l.psp_reference)) FILTER (WHERE i.id IS NULL)::int AS unknown_keys,
         count(*) FILTER (WHERE l.line IS NULL)::int AS missing,
         count(*) FILTER (WHERE l.line IS NOT NULL AND i.id IS NOT NULL
                            AND (l.currency <> $2::text OR l.amount <> i.amount))::int AS mismatched,
         count(*) FILTER (WHERE i.id IS NOT NULL AND l.currency = $2::text)::int AS matched,
         coalesce(sum(l.fee) FILTER (WHERE i.id IS NOT NULL AND l.currency = $2::text), 0)::bigint
           AS fee,
         (SELECT count(*) FROM ${allItems} AS counted)::int AS items
    FROM ${sources.lines} l
    FULL JOIN ${sources.items} i ON i.type = l.type AND i.psp_reference = l.psp_reference`;

const reportDetails = (l: string) =>
  `jsonb_build_object('line', ${l}.line, 'type', ${l}.type, 'amount', ${l}.amount::text,
                      'fee', ${l}.fee::text, 'currency', ${l}.currency)`;

const insertFound = (found: string) => `
  INSERT INTO money_in_discrepancies
    (key, source, kind, connector, batch_id, reference, currency, amount, details, created_at)
  SELECT 'psp_report:' || $1::text || ':' || kind || ':' || reference, 'psp_report', kind,
         $3::text, $1::text, reference, $2::text, amount, details, $4::timestamptz
    FROM (${found}) AS found (kind, reference, amount, details)
  ON CONFLICT (key) DO NOTHING`;

/** Unknown and missing items and mismatches, from the full join of first lines and first items. */
const joinedDiscrepanciesSql = (sources: Sources) =>
  insertFound(`
    SELECT CASE WHEN l.line IS NULL THEN 'report_missing_item'
                WHEN i.id IS NULL THEN 'report_unknown_item'
                WHEN l.currency <> $2::text THEN 'report_currency_mismatch'
                ELSE 'report_amount_mismatch' END,
           CASE WHEN l.line IS NULL THEN i.id ELSE l.type || ':' || l.psp_reference END,
           CASE WHEN l.line IS NULL THEN i.amount
                WHEN i.id IS NULL OR l.currency <> $2::text THEN l.amount
                ELSE l.amount - i.amount END,
           CASE WHEN l.line IS NULL
                  THEN jsonb_build_object('type', i.type, 'psp_reference', i.psp_reference)
                WHEN i.id IS NULL THEN ${reportDetails('l')}
                WHEN l.currency <> $2::text
                  THEN ${reportDetails('l')} || jsonb_build_object('item', i.id)
                ELSE ${reportDetails('l')}
                       || jsonb_build_object('item', i.id, 'payrail_amount', i.amount::text)
           END
      FROM ${sources.lines} l
      FULL JOIN ${sources.items} i ON i.type = l.type AND i.psp_reference = l.psp_reference
     WHERE l.line IS NULL OR i.id IS NULL OR l.currency <> $2::text OR l.amount <> i.amount`);

/** Every line after the first of its key. */
const duplicatesSql = insertFound(`
  SELECT 'report_duplicate_item', l.type || ':' || l.psp_reference || ':' || l.line, l.amount,
         ${reportDetails('l')}
    FROM ${allLines} l
    JOIN ${repeatedLines} r
      ON r.type = l.type AND r.psp_reference = l.psp_reference AND l.line > r.first_line`);

/** Items after the first of their key that no line names (the first is missing from the join). */
const repeatedItemsMissingSql = insertFound(`
  SELECT 'report_missing_item', i.id, i.amount,
         jsonb_build_object('type', i.type, 'psp_reference', i.psp_reference)
    FROM ${allItems} i
    JOIN ${repeatedItems} r
      ON r.type = i.type AND r.psp_reference = i.psp_reference AND i.id <> r.first_id
   WHERE NOT EXISTS (SELECT 1 FROM ${allLines} l
                      WHERE l.type = i.type AND l.psp_reference = i.psp_reference)`);

type Counts = {
  pairs: number;
  unknown: number;
  unknown_keys: number;
  missing: number;
  mismatched: number;
  matched: number;
  fee: bigint;
  items: number;
};

/**
 * Matches the batch's staged lines (`lines` of them) with its accepted items and records the
 * discrepancies, set-based; the caller holds the batch's lock. The usual report (no key twice on
 * either side) costs one join for the counts and, only if something differs, one for the
 * discrepancies; duplicates take the exact way through the first line and item of each key.
 */
export async function matchStagedLines(
  tx: Queryable,
  batch: Batch,
  lines: number,
  now: Date,
): Promise<BatchMatching> {
  // These statements join whole batches; the planner's estimates for a batch just staged are far
  // off (it chose a nested loop over 20,000 × 20,000 rows), so for them: hash joins, and memory to
  // hash. Set for the transaction and put back after (a failure rolls the settings back with it).
  const saved = await tx.query<{ nestloop: string; work_mem: string }>(
    `SELECT current_setting('enable_nestloop') AS nestloop, current_setting('work_mem') AS work_mem,
            set_config('enable_nestloop', 'off', true), set_config('work_mem', '64MB', true)`,
  );
  const matching = await match(tx, [batch.id, batch.currency, batch.connector, now], lines);
  const before = saved.rows[0];
  if (before !== undefined)
    await tx.query(
      `SELECT set_config('enable_nestloop', $1, true), set_config('work_mem', $2, true)`,
      [before.nestloop, before.work_mem],
    );
  return matching;
}

async function match(
  tx: Queryable,
  parameters: readonly unknown[],
  lines: number,
): Promise<BatchMatching> {
  const counts = await countsOf(tx, plainSources, parameters);
  const unique =
    counts.pairs + counts.unknown === lines &&
    counts.pairs + counts.missing === counts.items &&
    counts.unknown_keys === counts.unknown;
  if (unique) {
    const differences = counts.unknown + counts.missing + counts.mismatched;
    const recorded =
      differences === 0
        ? 0
        : (await tx.query(joinedDiscrepanciesSql(plainSources), parameters)).rowCount;
    return { matched: counts.matched, fee: counts.fee, discrepancies: recorded };
  }
  const firsts = await countsOf(tx, firstSources, parameters);
  let recorded = 0;
  for (const sql of [duplicatesSql, joinedDiscrepanciesSql(firstSources), repeatedItemsMissingSql])
    recorded += (await tx.query(sql, parameters)).rowCount;
  return { matched: firsts.matched, fee: firsts.fee, discrepancies: recorded };
}

async function countsOf(
  tx: Queryable,
  sources: Sources,
  parameters: readonly unknown[],
): Promise<Counts> {
  const result = await tx.query<Counts>(countsSql(sources), parameters.slice(0, 2));
  const row = result.rows[0];
  if (row === undefined) throw new Error('the counts of a join have no row');
  return { ...row, fee: BigInt(row.fee) };
}
