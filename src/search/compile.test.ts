import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSearch } from './compile.ts';
import { paymentIntentSearch } from './objects.ts';
import { parseSearchQuery, SearchQueryError } from './parser.ts';
import { keyOfPageToken, pageToken, PageTokenError } from './search.ts';

function compiled(text: string): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = ['merchant'];
  const sql = compileSearch(paymentIntentSearch, parseSearchQuery(text), (value) => {
    parameters.push(value);
    return `$${parameters.length}`;
  });
  return { sql, parameters: parameters.slice(1) };
}

test('clauses compile to conditions over bound values, never query text in the SQL', () => {
  const { sql, parameters } = compiled(
    "status:'succeeded' AND metadata['order']:'1' AND amount>=100 AND -currency:'EUR'",
  );
  assert.equal(
    sql,
    '((status = $2) AND ((metadata ->> $3) = $4) AND (amount >= $5::bigint) AND (currency = $6) IS NOT TRUE)',
  );
  assert.deepEqual(parameters, ['succeeded', 'order', '1', '100', 'eur']);
  const injection = compiled(String.raw`status:'x\' OR 1=1 --' OR metadata['a\'b']:null`);
  assert.ok(!injection.sql.includes('1=1'));
  assert.deepEqual(injection.parameters, ["x' OR 1=1 --", "a'b"]);
});

test('created compares whole seconds', () => {
  const at = (seconds: number) => new Date(seconds * 1000);
  const cases: [string, string, Date[]][] = [
    [
      'created:10',
      '((created_at >= $2::timestamptz AND created_at < $3::timestamptz))',
      [at(10), at(11)],
    ],
    ['created>10', '(created_at >= $2::timestamptz)', [at(11)]],
    ['created>=10', '(created_at >= $2::timestamptz)', [at(10)]],
    ['created<10', '(created_at < $2::timestamptz)', [at(10)]],
    ['created<=10', '(created_at < $2::timestamptz)', [at(11)]],
  ];
  for (const [text, sql, parameters] of cases) {
    const result = compiled(text);
    assert.equal(result.sql, `(${sql})`, text);
    assert.deepEqual(result.parameters, parameters, text);
  }
});

test('what the field map does not allow is refused at the clause', () => {
  const cases: [string, number, RegExp][] = [
    ["nothing:'x'", 1, /not a search field of payment_intents; the fields are amount, created/],
    ["status:'a' AND amount~'100'", 16, /number/],
    ["amount:'abc'", 1, /whole number/],
    ['amount>1.5', 1, /whole number/],
    ['amount>12345678901234567890', 1, /whole number/],
    ['status>3', 1, /exact values/],
    ['status:3', 1, /quoted string/],
    ["metadata:'x'", 1, /by key/],
    ["metadata['k']~'abc'", 1, /exact values/],
    ["status['k']:'x'", 1, /no key/],
    ['created>-5', 1, /unix seconds/],
    ['__proto__:null', 1, /not a search field/],
  ];
  for (const [text, position, message] of cases) {
    assert.throws(
      () => compiled(text),
      (error: unknown) => {
        assert.ok(error instanceof SearchQueryError, String(error));
        assert.equal(error.position, position, text);
        assert.match(error.message, message, text);
        return true;
      },
    );
  }
});

test('page tokens belong to their query', () => {
  const token = pageToken(paymentIntentSearch, "status:'succeeded'", 'pi_123');
  assert.equal(keyOfPageToken(paymentIntentSearch, "status:'succeeded'", token), 'pi_123');
  for (const [query, given] of [
    ["status:'canceled'", token],
    ["status:'succeeded'", 'garbage'],
    ["status:'succeeded'", `${token}x`],
    ["status:'succeeded'", 'a'.repeat(400)],
    ["status:'succeeded'", '!!'],
  ] as const)
    assert.throws(() => keyOfPageToken(paymentIntentSearch, query, given), PageTokenError);
});
