// JSON with bigint: amounts go out as exact JSON integers (JSON.rawJSON), never via float.
// Node 24 has JSON.rawJSON; TypeScript's lib does not declare it yet.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

export function toJson(payload: unknown): string {
  return JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === 'bigint' ? rawJson(value.toString()) : value,
  );
}

/** Unix seconds, as Stripe writes `created`. */
export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export type ListEnvelope<T> = { object: 'list'; data: T[]; has_more: boolean; url: string };

export function list<T>(data: T[], hasMore: boolean, url: string): ListEnvelope<T> {
  return { object: 'list', data, has_more: hasMore, url };
}
