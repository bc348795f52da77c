// One way to list (Stripe's list contract): one query schema, one check of its cursors, one
// envelope. The page itself is read by the keyset helper (src/storage/pagination.ts), which
// also answers a cursor that names nothing the caller may see.
import { Type, type TProperties, type TSchema } from 'typebox';
import { list, type ListEnvelope } from '../api-objects/json.ts';
import { pageSizeMax } from '../storage/pagination.ts';
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
