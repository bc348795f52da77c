// One page of a search: the merchant's rows of one object that match the query, newest first (by
// the object's time-sortable key), `limit` of them, and the opaque token of the next page. The
// token names the last row shown and the query it belongs to: given with another query it is
// refused (naming `page`), and it never widens the merchant scope, which every search has.
import { createHash } from 'node:crypto';
import { DomainError } from '../errors.ts';
import type { Queryable, Row } from '../storage/database.ts';
import { pageSizeMax } from '../storage/pagination.ts';
import { compileSearch, type SearchableObject } from './compile.ts';
import { parseSearchQuery } from './parser.ts';

export type SearchRequest = {
  readonly query: string;
  readonly limit: number;
  /** The `next_page` of the previous page. */
  readonly page?: string;
  /** Count every match too (Stripe's `expand[]=total_count`). */
  readonly totalCount?: boolean;
};

export type SearchPage<R extends Row> = {
  readonly rows: R[];
  readonly hasMore: boolean;
  readonly nextPage: string | null;
  readonly totalCount?: number;
};

const pageTokenLengthMax = 300;

export class PageTokenError extends DomainError<'parameter_invalid'> {
  constructor() {
    super(
      'parameter_invalid',
      'invalid',
      'The page token is not one this search returned (next_page of the same query).',
      'page',
    );
    this.name = 'PageTokenError';
  }
}

function digestOf(object: SearchableObject, query: string): string {
  return createHash('sha256')
    .update(`${object.name}\u0000${query}`)
    .digest('base64url')
    .slice(0, 16);
}

export function pageToken(object: SearchableObject, query: string, lastKey: string): string {
  return Buffer.from(`${lastKey}\u0000${digestOf(object, query)}`).toString('base64url');
}

/** The key the page continues after; a token of another query, or no token at all, is refused. */
export function keyOfPageToken(object: SearchableObject, query: string, token: string): string {
  if (token.length > pageTokenLengthMax || !/^[A-Za-z0-9_-]+$/.test(token))
    throw new PageTokenError();
  const [key, digest, ...rest] = Buffer.from(token, 'base64url').toString('utf8').split('\u0000');
  if (key === undefined || key === '' || rest.length > 0 || digest !== digestOf(object, query))
    throw new PageTokenError();
  return key;
}

/** Parses and compiles first (a bad query reads nothing), then reads one page. */
export async function searchPage<R extends Row>(
  queryable: Queryable,
  object: SearchableObject,
  merchantId: string,
  request: SearchRequest,
): Promise<SearchPage<R>> {
  const parsed = parseSearchQuery(request.query);
  const after =
    request.page === undefined ? undefined : keyOfPageToken(object, request.query, request.page);
  const parameters: unknown[] = [merchantId];
  const bind = (value: unknown): string => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
  const matches = `${object.merchantColumn} = $1 AND ${compileSearch(object, parsed, bind)}`;
  const counted = parameters.length;
  const limit = Math.min(Math.max(1, Math.trunc(request.limit)), pageSizeMax);
  const cursor = after === undefined ? '' : ` AND ${object.keyColumn} < ${bind(after)}`;
  const result = await queryable.query<R>(
    `SELECT * FROM ${object.table} WHERE ${matches}${cursor}
      ORDER BY ${object.keyColumn} DESC LIMIT ${bind(limit + 1)}`,
    parameters,
  );
  const rows = result.rows.slice(0, limit);
  const hasMore = result.rows.length > limit;
  const last = rows.at(-1)?.[object.keyColumn];
  const totalCount =
    request.totalCount === true
      ? await countMatches(queryable, object, matches, parameters.slice(0, counted))
      : undefined;
  return {
    rows,
    hasMore,
    nextPage: hasMore && typeof last === 'string' ? pageToken(object, request.query, last) : null,
    ...(totalCount === undefined ? {} : { totalCount }),
  };
}

async function countMatches(
  queryable: Queryable,
  object: SearchableObject,
  matches: string,
  parameters: readonly unknown[],
): Promise<number> {
  const result = await queryable.query<{ count: bigint | number | string }>(
    `SELECT count(*) AS count FROM ${object.table} WHERE ${matches}`,
    parameters,
  );
  return Number(result.rows[0]?.count ?? 0);
}
