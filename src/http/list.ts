// One way to list (Stripe's list contract): one query schema, one check of its cursors, one
// envelope. The page itself is read by the keyset helper (src/storage/pagination.ts), which
// also answers a cursor that names nothing the caller may see.
import { Type, type TProperties, type TSchema } from 'typebox';
import { list, type ListEnvelope } from '../api-objects/json.ts';
import { pageSizeMax, type TimeRange } from '../storage/pagination.ts';
import { ApiError } from './errors.ts';
import { Id } from './schemas.ts';

/**
 * The query of a list: `limit` 1–100 (default 10), at most one of `starting_after` and
 * `ending_before` (an object id, or `cursor` for lists keyed otherwise), and the list's filters.
 */
export function listQuery<Filters extends TProperties, Cursor extends TSchema = typeof Id>(
  filters: Filters = {} as Filters,
  cursor: Cursor = Id as unknown as Cursor,
) {
  return Type.Object(
    {
      limit: Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 10 }),
      starting_after: Type.Optional(cursor),
      ending_before: Type.Optional(cursor),
      ...filters,
    },
    { additionalProperties: false },
  );
}

export const ListQuery = listQuery({});

/** Unix seconds, up to the end of year 9999. */
export const UnixSeconds = Type.Integer({ minimum: 0, maximum: 253_402_300_799 });

const RangeBounds = Type.Object(
  {
    gt: Type.Optional(UnixSeconds),
    gte: Type.Optional(UnixSeconds),
    lt: Type.Optional(UnixSeconds),
    lte: Type.Optional(UnixSeconds),
  },
  { additionalProperties: false },
);

/**
 * Stripe's time-range list filter, as its SDKs send it: `created=<t>` (that whole second) or
 * `created[gt|gte|lt|lte]=<t>` (bracket notation, read into an object by form.ts). The object
 * comes first so that a bad bound is named (`created[gte]`), not the filter as a whole.
 */
export const RangeFilter = Type.Optional(
  Type.Union([RangeBounds, UnixSeconds], {
    description: 'Unix seconds: exact (that second), or an object of gt, gte, lt, lte.',
  }),
);

/** The `created` filter of every list of objects that have `created`: spread into listQuery. */
export const createdFilter = { created: RangeFilter };

type RangeQuery = number | { gt?: number; gte?: number; lt?: number; lte?: number } | undefined;

/**
 * The time range a RangeFilter gave, in whole seconds as `created` shows them: stored times have
 * milliseconds, so `lte: t` is before t+1 and `gt: t` from t+1; `t` alone is the whole second t.
 */
export function rangeOf(value: RangeQuery): TimeRange | undefined {
  if (value === undefined) return undefined;
  const bounds = typeof value === 'number' ? { gte: value, lte: value } : value;
  const from = [bounds.gte, bounds.gt === undefined ? undefined : bounds.gt + 1];
  const until = [bounds.lt, bounds.lte === undefined ? undefined : bounds.lte + 1];
  const defined = (seconds: (number | undefined)[]) =>
    seconds.filter((second): second is number => second !== undefined);
  const start = defined(from);
  const end = defined(until);
  if (start.length === 0 && end.length === 0) return undefined;
  return {
    gte: start.length === 0 ? undefined : new Date(Math.max(...start) * 1000),
    lt: end.length === 0 ? undefined : new Date(Math.min(...end) * 1000),
  };
}

type CursorQuery<Key> = {
  readonly limit: number;
  readonly starting_after?: Key;
  readonly ending_before?: Key;
};

export type Cursors<Key> = {
  readonly limit: number;
  readonly startingAfter?: Key;
  readonly endingBefore?: Key;
};

/** The page a list query asks for; both cursors at once is refused, naming ending_before. */
export function pageOf<Key>(query: CursorQuery<Key>): Cursors<Key> {
  if (query.starting_after !== undefined && query.ending_before !== undefined)
    throw new ApiError(
      'parameter_invalid',
      'Give starting_after or ending_before, not both.',
      'ending_before',
    );
  return {
    limit: query.limit,
    startingAfter: query.starting_after,
    endingBefore: query.ending_before,
  };
}

/** Answers a list route: checks the cursors, reads one page, presents it in the list envelope. */
export async function answerList<Key, Item, Shown>(
  query: CursorQuery<Key>,
  url: string,
  read: (
    page: Cursors<Key>,
  ) => Promise<{ readonly items: readonly Item[]; readonly hasMore: boolean }>,
  present: (item: Item) => Shown,
): Promise<ListEnvelope<Shown>> {
  const page = await read(pageOf(query));
  return list(
    page.items.map((item) => present(item)),
    page.hasMore,
    url,
  );
}
