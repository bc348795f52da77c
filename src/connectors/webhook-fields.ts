// Small pieces every PSP webhook parser shares: reading a body that may not be JSON, and
// accepting an id from an unverified body only when it is printable and bounded.

const REFERENCE = /^[\x21-\x7e]{1,255}$/;

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The value when it is 1 to 255 printable ASCII characters, else undefined. */
export function boundedId(value: string | undefined): string | undefined {
  return value !== undefined && REFERENCE.test(value) ? value : undefined;
}
