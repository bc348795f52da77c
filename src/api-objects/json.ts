// The JSON of the API: bigint amounts as exact integers, Unix-seconds times, Stripe's list
// envelope, and the schema pieces every API object is built from.
import { Type, type TSchema } from 'typebox';

// Node 24 has JSON.rawJSON; TypeScript's lib does not declare it yet.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** JSON with bigint: amounts go out as exact JSON integers (JSON.rawJSON), never via float. */
export function toJson(payload: unknown): string {
  return JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === 'bigint' ? rawJson(value.toString()) : value,
  );
}

/** Unix seconds, as Stripe writes `created`. */
export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export function unixSecondsOrNull(date: Date | null): number | null {
  return date === null ? null : unixSeconds(date);
}

/**
 * Every object says whether it belongs to live or test mode. Until merchants have a mode, every
 * presenter defaults to test mode; a caller that knows the mode passes it.
 */
export const testMode = false;

// Serialized as an exact JSON integer (see toJson); bigint on the server.
export const Int64 = Type.Unsafe<bigint>({ type: 'integer', format: 'int64' });

/** A string enum whose TypeScript type is the union of its values. */
export const Enum = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values] });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const StringMap = Type.Record(Type.String(), Type.String());

export const Timestamp = Type.Integer({ description: 'Unix seconds.' });

export type ListEnvelope<T> = { object: 'list'; data: T[]; has_more: boolean; url: string };

export function list<T>(data: T[], hasMore: boolean, url: string): ListEnvelope<T> {
  return { object: 'list', data, has_more: hasMore, url };
}

/** Stripe's search result: a list paged by an opaque `next_page` token instead of cursors. */
export type SearchResultEnvelope<T> = {
  object: 'search_result';
  data: T[];
  has_more: boolean;
  next_page: string | null;
  url: string;
  total_count?: number;
};

export function searchResult<T>(
  data: T[],
  page: {
    readonly hasMore: boolean;
    readonly nextPage: string | null;
    readonly totalCount?: number;
  },
  url: string,
): SearchResultEnvelope<T> {
  return {
    object: 'search_result',
    data,
    has_more: page.hasMore,
    next_page: page.nextPage,
    url,
    ...(page.totalCount === undefined ? {} : { total_count: page.totalCount }),
  };
}

export const searchResultOf = <T extends TSchema>(item: T) =>
  Type.Object({
    object: Type.Literal('search_result'),
    data: Type.Array(item),
    has_more: Type.Boolean(),
    next_page: Nullable(Type.String()),
    url: Type.String(),
    total_count: Type.Optional(Type.Integer({ minimum: 0 })),
  });

export const listOf = <T extends TSchema>(item: T) =>
  Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(item),
    has_more: Type.Boolean(),
    url: Type.String(),
  });
