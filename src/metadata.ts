// Stripe's metadata rules, written once: at most 50 keys, and how an update changes a map (keys
// merged, '' deletes a key, '' or null for the whole map deletes every key). Each domain throws
// its own error for a map that would grow too large.
export const metadataKeysMax = 50;

/** An update of a metadata map; undefined leaves it as it is. */
export type MetadataChange = Readonly<Record<string, string>> | '' | null | undefined;

/** The map after the change; `tooMany(count)` is thrown when it would hold too many keys. */
export function mergeMetadata(
  current: Readonly<Record<string, string>>,
  change: MetadataChange,
  tooMany: (count: number) => Error,
): Record<string, string> {
  if (change === undefined) return { ...current };
  if (change === '' || change === null) return {};
  const merged: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(change)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  const count = Object.keys(merged).length;
  if (count > metadataKeysMax) throw tooMany(count);
  return merged;
}
