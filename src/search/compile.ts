// A parsed search query compiled to a parameterized SQL condition over one object's table, by the
// object's field map: which query fields exist, the column each reads and what kind of value it
// holds. Values are always bound parameters, never SQL text; a field, operator or value the map
// does not allow is a SearchQueryError naming the clause's position.
import { SearchQueryError, substringLengthMin, type Clause, type SearchQuery } from './parser.ts';

/**
 * What a query field holds:
 * - token: an exact value (status, currency, an id); `:` only, or null for none.
 * - text: free text; `:` (exact, any case) and `~` (substring, any case).
 * - integer: a bigint column (amount); `:` `>` `<` `>=` `<=`.
 * - timestamp: a timestamptz column queried in unix seconds (created), whole seconds.
 * - metadata: a jsonb map of strings, queried as metadata['key']:'value' or :null.
 */
export type FieldKind = 'token' | 'text' | 'integer' | 'timestamp' | 'metadata';

export type SearchField = {
  /**
   * SQL over the object's table: a column, or an expression written in code (e.g. a charge's
   * status derived from its attempt's); never anything from the request.
   */
  readonly column: string;
  readonly kind: FieldKind;
  /** Applied to a token's value before it is compared (e.g. currency codes in lower case). */
  readonly normalize?: (value: string) => string;
};

/** One searchable object: its table, its scope and id columns, and its query fields. */
export type SearchableObject = {
  /** The object as Stripe names it, for messages and the page token (e.g. payment_intent). */
  readonly name: string;
  /** A table, or a subquery with an alias (a view joined from several tables, e.g. charges). */
  readonly table: string;
  readonly merchantColumn: string;
  /** A unique, time-sortable key: results are newest first by it, pages continue after it. */
  readonly keyColumn: string;
  readonly fields: Readonly<Record<string, SearchField>>;
};

export type Bind = (value: unknown) => string;

const integerPattern = /^-?[0-9]{1,18}$/;

function fail(clause: Clause, message: string): never {
  throw new SearchQueryError(message, clause.position);
}

function stringOf(clause: Clause): string {
  if (clause.value.kind !== 'string')
    fail(clause, `${clause.field} takes a quoted string, as in ${clause.field}:'value'.`);
  return clause.value.text;
}

function integerOf(clause: Clause): bigint {
  const text = clause.value.kind === 'null' ? 'null' : clause.value.text;
  if (!integerPattern.test(text)) fail(clause, `${clause.field} takes a whole number.`);
  return BigInt(text);
}

const comparisons = { ':': '=', '>': '>', '<': '<', '>=': '>=', '<=': '<=' } as const;

function comparisonOf(clause: Clause): (typeof comparisons)[keyof typeof comparisons] {
  if (clause.operator === '~')
    fail(clause, `${clause.field} is a number: compare it with : > < >= <=, not ~.`);
  return comparisons[clause.operator];
}

function tokenCondition(clause: Clause, field: SearchField, bind: Bind): string {
  if (clause.operator !== ':')
    fail(clause, `${clause.field} matches exact values only: ${clause.field}:'value'.`);
  if (clause.value.kind === 'null') return `${field.column} IS NULL`;
  const value = stringOf(clause);
  return `${field.column} = ${bind(field.normalize?.(value) ?? value)}`;
}

function textCondition(clause: Clause, field: SearchField, bind: Bind): string {
  if (clause.value.kind === 'null' && clause.operator === ':') return `${field.column} IS NULL`;
  const value = stringOf(clause);
  if (clause.operator === ':') return `lower(${field.column}) = lower(${bind(value)})`;
  if (clause.operator !== '~')
    fail(clause, `${clause.field} is text: match it with : (exact) or ~ (contains).`);
  if ([...value].length < substringLengthMin)
    fail(clause, `a substring match (~) needs at least ${substringLengthMin} characters.`);
  return `strpos(lower(${field.column}), lower(${bind(value)})) > 0`;
}

function integerCondition(clause: Clause, field: SearchField, bind: Bind): string {
  const comparison = comparisonOf(clause);
  return `${field.column} ${comparison} ${bind(integerOf(clause).toString())}::bigint`;
}

/** `created` is shown in whole seconds; stored times have milliseconds. */
function timestampCondition(clause: Clause, field: SearchField, bind: Bind): string {
  const comparison = comparisonOf(clause);
  const seconds = integerOf(clause);
  if (seconds < 0n || seconds > 253_402_300_799n)
    fail(clause, `${clause.field} takes unix seconds.`);
  const at = (second: bigint) => `${bind(new Date(Number(second) * 1000))}::timestamptz`;
  switch (comparison) {
    case '=':
      return `(${field.column} >= ${at(seconds)} AND ${field.column} < ${at(seconds + 1n)})`;
    case '>':
      return `${field.column} >= ${at(seconds + 1n)}`;
    case '>=':
      return `${field.column} >= ${at(seconds)}`;
    case '<':
      return `${field.column} < ${at(seconds)}`;
    case '<=':
      return `${field.column} < ${at(seconds + 1n)}`;
  }
}

function metadataCondition(clause: Clause, field: SearchField, bind: Bind): string {
  if (clause.key === undefined)
    fail(clause, `${clause.field} is searched by key, as in ${clause.field}['order']:'123'.`);
  if (clause.operator !== ':')
    fail(clause, `${clause.field}['…'] matches exact values only, with :.`);
  const key = bind(clause.key);
  if (clause.value.kind === 'null') return `(${field.column} -> ${key}) IS NULL`;
  return `(${field.column} ->> ${key}) = ${bind(stringOf(clause))}`;
}

const conditions: Record<FieldKind, (clause: Clause, field: SearchField, bind: Bind) => string> = {
  token: tokenCondition,
  text: textCondition,
  integer: integerCondition,
  timestamp: timestampCondition,
  metadata: metadataCondition,
};

function clauseCondition(object: SearchableObject, clause: Clause, bind: Bind): string {
  const field = Object.hasOwn(object.fields, clause.field)
    ? object.fields[clause.field]
    : undefined;
  if (field === undefined)
    fail(
      clause,
      `${clause.field} is not a search field of ${object.name}s; the fields are ${Object.keys(object.fields).join(', ')}.`,
    );
  if (clause.key !== undefined && field.kind !== 'metadata')
    fail(clause, `${clause.field} takes no key.`);
  const condition = conditions[field.kind](clause, field, bind);
  // A negation also matches rows where the field is empty (NULL is not the value searched).
  return clause.negated ? `(${condition}) IS NOT TRUE` : `(${condition})`;
}

/** The query as one SQL condition (its values bound through `bind`). */
export function compileSearch(object: SearchableObject, query: SearchQuery, bind: Bind): string {
  const parts = query.clauses.map((clause) => clauseCondition(object, clause, bind));
  return `(${parts.join(` ${query.joiner} `)})`;
}
