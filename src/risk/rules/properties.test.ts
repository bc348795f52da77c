// Property tests of the rule language (fast-check): printing and parsing agree, the compiled
// closures agree with a plain reference interpreter on random attributes, and no input makes
// the compiler or a rule throw anything but a RuleSyntaxError.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { AttributeValue, Attributes } from '../attributes.ts';
import { referenceName } from './syntax.ts';
import type { Condition, Expression, Operand } from './syntax.ts';
import { RuleSyntaxError, compileRule, likeMatcher, parseRule, printRule } from './index.ts';

const numberAttributes = ['amount', 'amount_in_usd', 'risk_score', 'cards_per_ip_address_daily'];
const stringAttributes = ['customer', 'ip_address', 'card_brand', 'email', 'three_d_secure_eci'];
const booleanAttributes = ['livemode', 'is_3d_secure_authenticated'];
const metadataKeys = ['tier', 'age', 'note'];
const aliases = ['blocked', 'vip'];

const numberValue = fc.integer({ min: -100_000, max: 100_000 }).map((cents) => cents / 100);
const stringValue = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('us', 'US', 'gold', '5'));

const numberAttribute = fc
  .constantFrom(...numberAttributes)
  .map((name): Operand => ({ kind: 'attribute', name, type: 'number', start: 0 }));
const stringAttribute = fc
  .constantFrom(...stringAttributes)
  .map((name): Operand => ({ kind: 'attribute', name, type: 'string', start: 0 }));
const booleanAttribute = fc
  .constantFrom(...booleanAttributes)
  .map((name): Operand => ({ kind: 'attribute', name, type: 'boolean', start: 0 }));
const metadata = fc
  .constantFrom(...metadataKeys)
  .map((key): Operand => ({ kind: 'metadata', key, start: 0 }));
const literal = (value: fc.Arbitrary<AttributeValue>) =>
  value.map((literalValue): Operand => ({ kind: 'literal', value: literalValue, start: 0 }));

type Reference = Exclude<Operand, { kind: 'literal' }>;
const text = fc.oneof(stringAttribute, metadata) as fc.Arbitrary<Reference>;

const comparisons = fc.oneof(
  fc.record({
    kind: fc.constant('compare' as const),
    operator: fc.constantFrom('=', '!=', '<', '>', '<=', '>=' as const),
    left: numberAttribute,
    right: fc.oneof(numberAttribute, literal(numberValue), metadata),
    numeric: fc.constant(false),
    start: fc.constant(0),
  }),
  fc.record({
    kind: fc.constant('compare' as const),
    operator: fc.constantFrom('=', '!=' as const),
    left: text,
    right: fc.oneof(text, literal(stringValue)),
    numeric: fc.constant(false),
    start: fc.constant(0),
  }),
  fc.record({
    kind: fc.constant('compare' as const),
    operator: fc.constantFrom('=', '!=' as const),
    left: booleanAttribute,
    right: fc.oneof(booleanAttribute, literal(fc.boolean())),
    numeric: fc.constant(false),
    start: fc.constant(0),
  }),
);

const condition: fc.Arbitrary<Condition> = fc.oneof(
  comparisons as fc.Arbitrary<Condition>,
  fc.record({
    kind: fc.constant('in' as const),
    operand: text,
    values: fc.array(stringValue, { minLength: 1, maxLength: 3 }),
    negated: fc.boolean(),
    start: fc.constant(0),
  }),
  fc.record({
    kind: fc.constant('list' as const),
    operand: text,
    alias: fc.constantFrom(...aliases),
    negated: fc.boolean(),
    start: fc.constant(0),
  }),
  fc.record({
    kind: fc.constantFrom('includes' as const, 'like' as const),
    operand: text,
    value: fc.string({ minLength: 1, maxLength: 4 }),
    start: fc.constant(0),
  }),
  fc.record({
    kind: fc.constant('missing' as const),
    operand: fc.oneof(numberAttribute, text, booleanAttribute) as fc.Arbitrary<Reference>,
    negated: fc.boolean(),
    start: fc.constant(0),
  }),
  fc.record({
    kind: fc.constant('flag' as const),
    operand: booleanAttribute as fc.Arbitrary<Reference>,
    start: fc.constant(0),
  }),
);

const { expression } = fc.letrec<{ expression: Expression }>((tie) => ({
  expression: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    condition,
    fc.record({
      kind: fc.constant('not' as const),
      operand: tie('expression'),
      start: fc.constant(0),
    }),
    fc.record({
      kind: fc.constantFrom('and' as const, 'or' as const),
      operands: fc.array(tie('expression'), { minLength: 2, maxLength: 3 }),
      start: fc.constant(0),
    }),
  ),
}));

const ruleText = fc
  .tuple(fc.constantFrom('request_3ds', 'allow', 'block', 'review' as const), expression)
  .map(([action, predicate]) =>
    printRule({ action, predicate: '', expression: predicate, conditions: 0 }),
  )
  .filter((printed) => printed.length <= 1000);

const anyValue = fc.option(
  fc.oneof(numberValue, stringValue, fc.boolean(), fc.constant(Number.NaN)),
  { nil: undefined },
);
const attributeNames = [
  ...numberAttributes,
  ...stringAttributes,
  ...booleanAttributes,
  ...metadataKeys.map((key) => `metadata:${key}`),
];
const attributes: fc.Arbitrary<Attributes> = fc.record(
  Object.fromEntries(attributeNames.map((name) => [name, anyValue])),
  { requiredKeys: [] },
);
const listMembers = fc.array(fc.tuple(fc.constantFrom(...aliases), stringValue), { maxLength: 4 });

/** The plain meaning of a rule: Kleene's three values, undefined standing for unknown. */
function reference(
  node: Expression,
  values: Attributes,
  lists: (alias: string, value: string) => boolean,
): boolean | undefined {
  switch (node.kind) {
    case 'not': {
      const inner = reference(node.operand, values, lists);
      return inner === undefined ? undefined : !inner;
    }
    case 'and':
    case 'or': {
      const results = node.operands.map((operand) => reference(operand, values, lists));
      const decisive = node.kind === 'and' ? false : true;
      if (results.includes(decisive)) return decisive;
      return results.includes(undefined) ? undefined : !decisive;
    }
    default:
      return referenceCondition(node, values, lists);
  }
}

function read(operand: Operand, values: Attributes, numeric: boolean): AttributeValue | undefined {
  if (operand.kind === 'literal') return operand.value;
  const value = values[referenceName(operand)];
  if (operand.kind === 'metadata') {
    if (!numeric) return typeof value === 'string' ? value : undefined;
    return typeof value === 'string' && /^-?[0-9]{1,15}(\.[0-9]{1,15})?$/.test(value)
      ? Number(value)
      : undefined;
  }
  if (operand.type === 'number')
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  return typeof value === operand.type ? value : undefined;
}

function referenceCondition(
  node: Condition,
  values: Attributes,
  lists: (alias: string, value: string) => boolean,
): boolean | undefined {
  if (node.kind === 'missing')
    return (read(node.operand, values, false) === undefined) !== node.negated;
  if (node.kind === 'compare') {
    const left = read(node.left, values, node.numeric);
    const right = read(node.right, values, node.numeric);
    if (left === undefined || right === undefined) return undefined;
    const results = {
      '=': left === right,
      '!=': left !== right,
      '<': left < right,
      '>': left > right,
      '<=': left <= right,
      '>=': left >= right,
    };
    return results[node.operator];
  }
  const value = read(node.operand, values, false);
  if (value === undefined) return undefined;
  switch (node.kind) {
    case 'flag':
      return value === true;
    case 'in':
      return node.values.includes(value) !== node.negated;
    case 'list':
      return lists(node.alias, String(value)) !== node.negated;
    case 'includes':
      return String(value).includes(node.value);
    case 'like':
      return likeMatcher(node.value)(String(value));
  }
}

describe('rule language properties', () => {
  test('printing a parsed rule and parsing it again gives the same text (a fixpoint)', () => {
    fc.assert(
      fc.property(ruleText, (written) => {
        const once = printRule(parseRule(written));
        assert.equal(printRule(parseRule(once)), once);
      }),
      { numRuns: 500 },
    );
  });

  test('compiled rules agree with the reference meaning, and never throw, on random attributes', () => {
    fc.assert(
      fc.property(ruleText, attributes, listMembers, (written, values, members) => {
        const lists = (alias: string, value: string) =>
          members.some(([memberAlias, member]) => memberAlias === alias && member === value);
        const parsed = parseRule(written);
        const compiled = compileRule(written);
        assert.equal(
          compiled.matches(values, lists),
          reference(parsed.expression, values, lists) === true,
          written,
        );
      }),
      { numRuns: 1000 },
    );
  });

  test('any text either compiles or throws a RuleSyntaxError within the text', () => {
    const words = fc.constantFrom(
      'block',
      'if',
      'and',
      'or',
      'not',
      'in',
      'includes',
      'like',
      'is_missing',
      'true',
      '(',
      ')',
      ',',
      ':amount:',
      ':email:',
      ':livemode:',
      '::k::',
      "'x'",
      '5',
      '-1.5',
      '=',
      '!=',
      '<',
      '>=',
      '@list',
      ':',
      "'",
      '::',
    );
    const soup = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(words, { maxLength: 14 }).map((parts) => parts.join(' ')),
      fc.array(words, { maxLength: 14 }).map((parts) => `block if ${parts.join(' ')}`),
    );
    fc.assert(
      fc.property(soup, attributes, (written, values) => {
        try {
          compileRule(written).matches(values, () => false);
        } catch (error) {
          assert.ok(error instanceof RuleSyntaxError, String(error));
          assert.ok(
            error.position >= 0 && error.position <= written.length,
            `${error.position} in ${written}`,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });
});
