// application/x-www-form-urlencoded with bracket notation, as Stripe's SDKs send it:
// `metadata[order]=42&card[exp_month]=12&items[0][price]=5` → nested objects and arrays.
// Values stay strings; the validator coerces them to the schema's types (app.ts).

export const formEncoded = Symbol('form-encoded');

const pairsMax = 1000;
const depthMax = 5;

/**
 * A malformed form; `param` is set when one field is at fault (answered as parameter_invalid
 * naming it).
 */
export class FormError extends Error {
  readonly param: string | undefined;
  constructor(message: string, param?: string) {
    super(message);
    this.name = 'FormError';
    this.param = param;
  }
}

/** How errors name what is parsed: a form-encoded body, or a query string (same notation). */
type Source = { readonly whole: string; readonly field: string };
const bodySource: Source = { whole: 'The form-encoded body', field: 'form field' };
const querySource: Source = { whole: 'The query string', field: 'query parameter' };

function decode(text: string, source: Source): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new FormError(`${source.whole} has an invalid percent-encoding.`);
  }
}

/** 'a[b][0]' → ['a', 'b', '0']; 'a[]' → ['a', '']. */
function pathOf(key: string, source: Source): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (match === null)
    throw new FormError(
      `The ${source.field} name '${key.slice(0, 100)}' is not valid bracket notation.`,
    );
  const rest = [...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1] ?? '');
  const name = match[1] as string;
  if (rest.length > depthMax)
    throw new FormError(
      `The ${source.field} '${key.slice(0, 100)}' is nested more than ${depthMax} levels deep.`,
      name.slice(0, 100),
    );
  return [name, ...rest];
}

type Node = Record<string, unknown>;

function assign(
  root: Node,
  name: string,
  path: readonly string[],
  value: string,
  source: Source,
): void {
  let node: Node = root;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    const key = segment === '' ? String(Object.keys(node).length) : segment;
    if (key === '__proto__' || key === 'constructor' || key === 'prototype')
      throw new FormError(`The ${source.field} name is not allowed.`);
    if (last) {
      // `amount=1000&amount=5` is ambiguous: refused rather than letting one value silently win.
      if (node[key] !== undefined)
        throw new FormError(
          `The ${source.field} '${name.slice(0, 100)}' is given more than once.`,
          name.slice(0, 100),
        );
      node[key] = value;
      return;
    }
    const next = node[key];
    if (next !== undefined && (typeof next !== 'object' || next === null))
      throw new FormError(
        `The ${source.field} '${path.join('.')}' is given twice with different shapes.`,
      );
    if (next === undefined) node[key] = Object.create(null) as Node;
    node = node[key] as Node;
  }
}

/**
 * Objects whose keys are 0..n-1 become arrays. Recursive, but only over what pathOf let through:
 * at most depthMax + 1 levels, whatever the body.
 */
function arraysOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Node).map(
    ([key, child]) => [key, arraysOf(child)] as const,
  );
  const isArray = entries.length > 0 && entries.every(([key], index) => key === String(index));
  return isArray ? entries.map(([, child]) => child) : Object.fromEntries(entries);
}

export function parseForm(text: string, source: Source = bodySource): Record<string, unknown> {
  const root: Node = Object.create(null) as Node;
  const pairs = text === '' ? [] : text.split('&');
  if (pairs.length > pairsMax)
    throw new FormError(`${source.whole} has more than ${pairsMax} fields.`);
  for (const pair of pairs) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const key = decode(separator < 0 ? pair : pair.slice(0, separator), source);
    const value = separator < 0 ? '' : decode(pair.slice(separator + 1), source);
    // PostgreSQL cannot store U+0000 in text or jsonb; refused here rather than failing as a 500
    // there.
    if (key.includes('\u0000'))
      throw new FormError(`A ${source.field} name contains the character U+0000.`);
    if (value.includes('\u0000'))
      throw new FormError(
        `The ${source.field} '${key.slice(0, 100)}' contains the character U+0000.`,
        key.slice(0, 100),
      );
    assign(root, key, pathOf(key, source), value, source);
  }
  const parsed = arraysOf(root) as Record<string, unknown>;
  Object.defineProperty(parsed, formEncoded, { value: true, enumerable: false });
  return parsed;
}

/** Marks a query string that did not parse; the request is refused before validation (app.ts). */
export const queryError = Symbol('query-error');

/**
 * A query string in the same bracket notation (`types[]=a&types[]=b`, `created[gte]=…`,
 * `expand[0]=customer`), as Stripe's SDKs send it on GET. It never throws: the router calls it
 * outside any error handling, so a malformed query comes back marked and is refused later.
 */
export function parseQuery(text: string): Record<string, unknown> {
  try {
    return parseForm(text, querySource);
  } catch (error) {
    if (!(error instanceof FormError)) throw error;
    const marked: Record<string, unknown> = {};
    Object.defineProperty(marked, queryError, { value: error, enumerable: false });
    return marked;
  }
}
