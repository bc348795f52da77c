// Keyset pagination, Stripe's list contract, for every list: a page of `limit` rows after
// `starting_after` or before `ending_before` in list order, and whether more rows follow. Rows are
// ordered by a unique key (a sortable id, or a sequence number), so a page never skips or repeats
// a row when rows are added meanwhile, and each page is one index range scan.
import { DomainError } from '../errors.ts';
import type { Queryable, Row as DatabaseRow } from './database.ts';

/** The largest page any list returns (the API's `limit` maximum). */
export const pageSizeMax = 100;

export type PageRequest<Key extends string | bigint = string> = {
  readonly limit: number;
  /** The page starts right after this row, in list order. */
  readonly startingAfter?: Key;
  /** The page ends right before this row, in list order (the previous page). */
  readonly endingBefore?: Key;
};

export type Page<Row> = { readonly rows: Row[]; readonly hasMore: boolean };

/** A time range as Stripe's list filters give it (`created[gte]=…`): each bound optional. */
export type TimeRange = {
  readonly gt?: Date;
  readonly gte?: Date;
  readonly lt?: Date;
  readonly lte?: Date;
};

const rangeOperators = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/**
 * The SQL conditions of a time range on `column` (AND-ed), binding each bound given through
 * `bind`; an empty list for no range. Shared by keysetPage and the few reads that page otherwise.
 */
export function timeRangeConditions(
  column: string,
  range: TimeRange | undefined,
  bind: (value: unknown) => string,
): string[] {
  if (range === undefined) return [];
  return (Object.keys(rangeOperators) as (keyof TimeRange)[]).flatMap((bound) => {
    const at = range[bound];
    return at === undefined ? [] : [`${column} ${rangeOperators[bound]} ${bind(at)}::timestamptz`];
  });
}

export type KeysetQuery<Key extends string | bigint> = {
  /** The select list, e.g. `*` or `d.id, d.status`. */
  readonly select: string;
  /** The table (or join) the rows come from. */
  readonly from: string;
  /**
   * The rows the caller may see at all, in SQL over `scopeParameters` (`$1`…), e.g.
   * `merchant_id = $1`. A cursor must name one of them: another merchant's id is unknown.
   */
  readonly scope: string;
  readonly scopeParameters: readonly unknown[];
  /**
   * Narrows the page without narrowing the valid cursors (e.g. the refunds of one intent); its
   * parameters are numbered after the scope's.
   */
  readonly filter?: string;
  readonly filterParameters?: readonly unknown[];
  /**
   * A time range narrowing the page (Stripe's `created[gte]=…` list filters), on `column`; like
   * `filter`, it does not narrow the valid cursors.
   */
  readonly timeRange?: { readonly column: string; readonly range: TimeRange | undefined };
  /**
   * Equality filters, column (written in code) → value; an undefined value filters nothing. Like
   * `filter`, they do not narrow the valid cursors.
   */
  readonly equals?: Readonly<Record<string, unknown>>;
  /** The unique column rows are ordered by. */
  readonly key: string;
  readonly keyType: Key extends bigint ? 'bigint' : 'text';
  /** List order: newest first (descending key, Stripe's order) or oldest first (ascending). */
  readonly order: 'newest_first' | 'oldest_first';
  /** What a cursor names, for the error when it names nothing (e.g. `payment_intent`). */
  readonly noun: string;
};

type CursorParam = 'starting_after' | 'ending_before';

/** A cursor that names no row the caller may see: Stripe answers "No such …", naming the cursor. */
export class UnknownCursorError extends DomainError<'resource_missing'> {
  constructor(noun: string, cursor: string | bigint, param: CursorParam) {
    super(
      'resource_missing',
      'not_found',
      `No such ${noun}: '${cursor}' (given as ${param}).`,
      param,
    );
    this.name = 'UnknownCursorError';
  }
}

/** Given both cursors, ending_before is the one refused (the API's check names it). */
export class BothCursorsError extends DomainError<'parameter_invalid'> {
  constructor() {
    const message = 'Give starting_after or ending_before, not both.';
    super('parameter_invalid', 'invalid', message, 'ending_before');
    this.name = 'BothCursorsError';
  }
}

async function requireCursor<Key extends string | bigint>(
  queryable: Queryable,
  query: KeysetQuery<Key>,
  cursor: Key | undefined,
  param: CursorParam,
): Promise<void> {
  if (cursor === undefined) return;
  const parameters = [...query.scopeParameters, cursor];
  const found = await queryable.query(
    `SELECT 1 FROM ${query.from}
      WHERE (${query.scope}) AND ${query.key} = $${parameters.length}::${query.keyType} LIMIT 1`,
    parameters,
  );
  if (found.rows.length === 0) throw new UnknownCursorError(query.noun, cursor, param);
}

/**
 * One page: checks the cursors name visible rows, reads `limit + 1` rows from the cursor
 * outwards (towards the cursor's past for `ending_before`, then put back in list order), and
 * reports `hasMore` from the extra row.
 */
export async function keysetPage<Row extends DatabaseRow, Key extends string | bigint>(
  queryable: Queryable,
  query: KeysetQuery<Key>,
  page: PageRequest<Key>,
): Promise<Page<Row>> {
  if (page.startingAfter !== undefined && page.endingBefore !== undefined)
    throw new BothCursorsError();
  await requireCursor(queryable, query, page.startingAfter, 'starting_after');
  await requireCursor(queryable, query, page.endingBefore, 'ending_before');
  const limit = Math.min(Math.max(1, Math.trunc(page.limit)), pageSizeMax);
  const newestFirst = query.order === 'newest_first';
  const backwards = page.endingBefore !== undefined;
  const parameters: unknown[] = [...query.scopeParameters, ...(query.filterParameters ?? [])];
  const bind = (value: unknown): string => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
  const conditions = [`(${query.scope})`];
  if (query.filter !== undefined) conditions.push(`(${query.filter})`);
  if (query.timeRange !== undefined)
    conditions.push(...timeRangeConditions(query.timeRange.column, query.timeRange.range, bind));
  for (const [column, value] of Object.entries(query.equals ?? {}))
    if (value !== undefined) conditions.push(`${column} = ${bind(value)}`);
  const cursor = page.startingAfter ?? page.endingBefore;
  if (cursor !== undefined) {
    // After the cursor in list order is a smaller key newest first; before it, a larger one.
    const smaller = newestFirst !== backwards;
    conditions.push(`${query.key} ${smaller ? '<' : '>'} ${bind(cursor)}::${query.keyType}`);
  }
  const descending = newestFirst !== backwards;
  const result = await queryable.query<Row>(
    `SELECT ${query.select} FROM ${query.from}
      WHERE ${conditions.join(' AND ')}
      ORDER BY ${query.key} ${descending ? 'DESC' : 'ASC'} LIMIT ${bind(limit + 1)}`,
    parameters,
  );
  const rows = result.rows.slice(0, limit);
  if (backwards) rows.reverse();
  return { rows, hasMore: result.rows.length > limit };
}
