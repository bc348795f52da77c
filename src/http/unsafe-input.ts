// Checks every request part (body, query, path) before the schema sees it, for what no schema
// states and the database cannot store: nesting deeper than any route needs, U+0000 (PostgreSQL's
// text and jsonb cannot hold it) and lone UTF-16 surrogates (jsonb refuses them, and text would
// store a replacement character instead of what was sent). Iterative, never recursive: a body
// nested a hundred thousand levels deep must be refused, not overflow the stack.

/** Deeper than every route's schema (the routing configuration, the deepest, is 6). */
export const nestingDepthMax = 20;

/** An issue shaped like Ajv's, so that errors.ts names the param the same way. */
export type UnsafeInputIssue = {
  keyword: 'pattern' | 'maxDepth';
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message: string;
  propertyName?: string;
};

type Pending = { value: unknown; path: string; depth: number };

function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the character U+0000';
  if (!text.isWellFormed()) return 'must not contain an unpaired UTF-16 surrogate';
  return undefined;
}

/** The JSON pointer segment of a key (RFC 6901 escapes). */
function pointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function issueAt(path: string, message: string, propertyName?: string): UnsafeInputIssue {
  return {
    keyword: 'pattern',
    instancePath: path,
    schemaPath: '',
    params: {},
    message,
    ...(propertyName === undefined ? {} : { propertyName }),
  };
}

function tooDeep(path: string): UnsafeInputIssue {
  // The top-level param: the whole chain of keys down to the limit would be a useless name.
  const top = path.split('/')[1] ?? '';
  return {
    keyword: 'maxDepth',
    instancePath: top === '' ? '' : `/${top}`,
    schemaPath: '',
    params: { limit: nestingDepthMax },
    message: `must not be nested more than ${nestingDepthMax} levels deep`,
  };
}

/** The first unsafe place in the value, depth first, or undefined when there is none. */
export function findUnsafeInput(value: unknown): UnsafeInputIssue | undefined {
  const stack: Pending[] = [{ value, path: '', depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value === 'string') {
      const problem = textProblem(item.value);
      if (problem !== undefined) return issueAt(item.path, problem);
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= nestingDepthMax) return tooDeep(item.path);
    const entries = Object.entries(item.value);
    // Pushed in reverse so that the first field is looked at first, as a reader would expect.
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, child] = entries[index] as [string, unknown];
      const keyProblem = textProblem(key);
      if (keyProblem !== undefined)
        // A wrong key in a nested object is named by the object that holds it (as the schema's
        // own key checks are); at the top level the key is the param.
        return item.path === ''
          ? issueAt(`/${pointer(key)}`, keyProblem)
          : issueAt(item.path, keyProblem, key);
      stack.push({ value: child, path: `${item.path}/${pointer(key)}`, depth: item.depth + 1 });
    }
  }
  return undefined;
}

/**
 * The first number that is not finite, after the validator coerced text to numbers: Ajv turns a
 * query's `1e400` into Infinity and, even with strictNumbers, lets it pass (its minimum and
 * maximum skip non-finite values), so a cursor reached BigInt() as Infinity. Only text parts
 * need this: a JSON body's Infinity is refused by strictNumbers itself.
 */
export function findNonFiniteNumber(value: unknown): UnsafeInputIssue | undefined {
  const stack: Pending[] = [{ value, path: '', depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value === 'number' && !Number.isFinite(item.value))
      return {
        keyword: 'pattern',
        instancePath: item.path,
        schemaPath: '',
        params: {},
        message: 'must be a finite number',
      };
    if (typeof item.value !== 'object' || item.value === null) continue;
    // Already checked by findUnsafeInput: no deeper than nestingDepthMax.
    for (const [key, child] of Object.entries(item.value).reverse())
      stack.push({ value: child, path: `${item.path}/${pointer(key)}`, depth: item.depth + 1 });
  }
  return undefined;
}
