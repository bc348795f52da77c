// JSON helpers: the plain-object test, a canonical text (keys sorted) for comparing two JSON requests, and the exact
// source text of one top-level member, which Paytm's signature is computed over.

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON text with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The source text of the top-level member `name` of a JSON object text (the last one if it is
 * repeated, as JSON.parse does), or undefined. The text must already have parsed as JSON.
 */
export function rawMemberText(text: string, name: string): string | undefined {
  let index = skipSpace(text, 0);
  if (text[index] !== '{') return undefined;
  index = skipSpace(text, index + 1);
  let found: string | undefined;
  while (index < text.length && text[index] === '"') {
    const keyEnd = endOfString(text, index);
    const key = JSON.parse(text.slice(index, keyEnd)) as string;
    index = skipSpace(text, keyEnd);
    if (text[index] !== ':') return undefined;
    const valueStart = skipSpace(text, index + 1);
    const valueEnd = endOfValue(text, valueStart);
    if (key === name) found = text.slice(valueStart, valueEnd);
    index = skipSpace(text, valueEnd);
    if (text[index] !== ',') break;
    index = skipSpace(text, index + 1);
  }
  return found;
}

function skipSpace(text: string, start: number): number {
  let index = start;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
    index += 1;
  }
  return index;
}

/** start is at an opening quote; returns the index after the closing one. */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === '\\') index += 2;
    else if (char === '"') return index + 1;
    else index += 1;
  }
  return text.length;
}

function endOfValue(text: string, start: number): number {
  const first = text[start];
  if (first === '"') return endOfString(text, start);
  if (first === '{' || first === '[') {
    let depth = 0;
    let index = start;
    while (index < text.length) {
      const char = text[index];
      if (char === '"') {
        index = endOfString(text, index);
        continue;
      }
      if (char === '{' || char === '[') depth += 1;
      else if (char === '}' || char === ']') {
        depth -= 1;
        if (depth === 0) return index + 1;
      }
      index += 1;
    }
    return text.length;
  }
  let index = start;
  while (index < text.length && !',}] \n\r\t'.includes(text[index] ?? '')) index += 1;
  return index;
}
