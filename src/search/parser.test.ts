import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  clausesMax,
  parseSearchQuery,
  queryLengthMax,
  SearchQueryError,
  type SearchQuery,
} from './parser.ts';

const parsed = (text: string) => parseSearchQuery(text);

function refusal(text: string): SearchQueryError {
  try {
    parseSearchQuery(text);
  } catch (error) {
    assert.ok(error instanceof SearchQueryError, String(error));
    return error;
  }
  assert.fail(`parsed: ${text}`);
}

test("Stripe's documented examples parse", () => {
  assert.deepEqual(parsed("status:'succeeded' AND metadata['order']:'123'"), {
    joiner: 'AND',
    clauses: [
      {
        field: 'status',
        key: undefined,
        operator: ':',
        value: { kind: 'string', text: 'succeeded' },
        negated: false,
        position: 1,
      },
      {
        field: 'metadata',
        key: 'order',
        operator: ':',
        value: { kind: 'string', text: '123' },
        negated: false,
        position: 24,
      },
    ],
  } satisfies SearchQuery);
  const numbers = parsed('amount>1000 OR created<=1700000000 or amount:5');
  assert.equal(numbers.joiner, 'OR');
  assert.deepEqual(
    numbers.clauses.map((clause) => [clause.field, clause.operator, clause.value]),
    [
      ['amount', '>', { kind: 'number', text: '1000' }],
      ['created', '<=', { kind: 'number', text: '1700000000' }],
      ['amount', ':', { kind: 'number', text: '5' }],
    ],
  );
  const negated = parsed(`-currency:"eur" description~'gift' metadata["k"]:null`);
  assert.equal(negated.joiner, 'AND');
  assert.equal(negated.clauses[0]?.negated, true);
  assert.deepEqual(negated.clauses[1]?.value, { kind: 'string', text: 'gift' });
  assert.equal(negated.clauses[1]?.operator, '~');
  assert.deepEqual(negated.clauses[2]?.value, { kind: 'null' });
  assert.equal(negated.clauses[2]?.key, 'k');
});

test('quotes inside strings are escaped with a backslash', () => {
  assert.deepEqual(parsed(String.raw`description:'it\'s \\ "x"'`).clauses[0]?.value, {
    kind: 'string',
    text: `it's \\ "x"`,
  });
});

test('refusals name the character where the query went wrong', () => {
  const cases: [string, number, RegExp][] = [
    ['', 1, /empty/],
    ['   ', 4, /empty/],
    ["status:'a' AND amount>1 OR amount<5", 25, /AND and OR/],
    ["status:'a' amount>1 OR amount<5", 21, /AND and OR/],
    ["status:'open", 8, /never closed/],
    ['status', 7, /operator/],
    ['status=1', 7, /operator/],
    ["status:'a'AND amount>1", 11, /space, AND or OR/],
    ["status:'a' AND ", 16, /after AND/],
    ['status:open', 8, /value/],
    ["metadata[order]:'1'", 10, /quoted key/],
    ["metadata['order':'1'", 17, /\]/],
    ["metadata['']:'1'", 10, /1 to 40/],
    [String.raw`status:'a\b'`, 10, /backslash/],
    [':x', 1, /field/],
  ];
  for (const [text, position, message] of cases) {
    const error = refusal(text);
    assert.equal(error.position, position, `${text}: ${error.message}`);
    assert.match(error.message, message, text);
    assert.equal(error.param, 'query');
    assert.match(error.message, new RegExp(`character ${position}:`));
  }
});

test('bounded: clause count and length', () => {
  const clause = "status:'a'";
  parsed(Array.from({ length: clausesMax }, () => clause).join(' AND '));
  assert.match(
    refusal(Array.from({ length: clausesMax + 1 }, () => clause).join(' AND ')).message,
    /at most 10 clauses/,
  );
  assert.match(refusal(`status:'${'x'.repeat(queryLengthMax)}'`).message, /at most 1000/);
});

const alphabet = [
  ...'abcdemnorstuz_.:~<>=-[]\'"\\ 0123456789',
  'AND',
  'OR',
  'and',
  'null',
  'status',
  'metadata',
  "'x'",
  '\n',
  '\u0000',
  '\u{1F600}',
];

test('any generated query either parses or is refused with a position inside it, never otherwise', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.array(fc.constantFrom(...alphabet), { maxLength: 80 }).map((parts) => parts.join('')),
      ),
      (text) => {
        try {
          const query = parseSearchQuery(text);
          assert.ok(query.clauses.length >= 1 && query.clauses.length <= clausesMax);
        } catch (error) {
          assert.ok(error instanceof SearchQueryError, String(error));
          assert.ok(error.position >= 1 && error.position <= text.length + 1, error.message);
        }
      },
    ),
    { numRuns: 3_000 },
  );
});

test('well-formed generated queries parse to the clauses they were made of', () => {
  const field = fc.constantFrom('status', 'amount', 'created', 'currency', 'a_b.c');
  const text = fc.string({ maxLength: 20 });
  const clause = fc.record({
    negated: fc.boolean(),
    field,
    operator: fc.constantFrom(':', '~', '>', '<', '>=', '<='),
    value: fc.oneof(
      text.map((value) => ({ kind: 'string' as const, text: value })),
      fc.integer({ min: -1_000_000, max: 1_000_000 }).map((value) => ({
        kind: 'number' as const,
        text: String(value),
      })),
    ),
  });
  fc.assert(
    fc.property(
      fc.array(clause, { minLength: 1, maxLength: clausesMax }),
      fc.constantFrom(' AND ', ' OR ', ' '),
      (clauses, joiner) => {
        const written = clauses
          .map((item) => {
            const value =
              item.value.kind === 'number'
                ? item.value.text
                : `'${item.value.text.replace(/[\\']/g, (character) => `\\${character}`)}'`;
            return `${item.negated ? '-' : ''}${item.field}${item.operator}${value}`;
          })
          .join(joiner);
        const query = parseSearchQuery(written);
        assert.equal(query.joiner, joiner === ' OR ' && clauses.length > 1 ? 'OR' : 'AND');
        assert.deepEqual(
          query.clauses.map((item) => ({
            negated: item.negated,
            field: item.field,
            operator: item.operator,
            value: item.value,
          })),
          // fast-check may make records without a prototype; compared as plain objects.
          clauses.map((item) => ({ ...item, value: { ...item.value } })),
        );
      },
    ),
    { numRuns: 1_000 },
  );
});
