// The parsed form of a rule: what the parser builds, the compiler turns into closures and the
// printer writes back as text. Every node keeps where it started in the rule's text.
import { metadataAttribute } from '../attributes.ts';
import type { AttributeType, AttributeValue } from '../attributes.ts';
import type { RuleAction } from '../types.ts';
import type { ComparisonOperator } from './lexer.ts';

export type { ComparisonOperator } from './lexer.ts';

/** What a condition reads: an attribute of the catalogue, a metadata value, or a literal. */
export type Operand =
  | {
      readonly kind: 'attribute';
      readonly name: string;
      readonly type: AttributeType;
      readonly start: number;
    }
  /** `::key::`, read from the attributes as `metadata:<key>`; a string. */
  | { readonly kind: 'metadata'; readonly key: string; readonly start: number }
  | { readonly kind: 'literal'; readonly value: AttributeValue; readonly start: number };

/** An operand that reads the payment (not a literal). */
export type Reference = Exclude<Operand, { kind: 'literal' }>;

export type Condition =
  /** `numeric`: a metadata value compared with a number is read as a number. */
  | {
      readonly kind: 'compare';
      readonly operator: ComparisonOperator;
      readonly left: Operand;
      readonly right: Operand;
      readonly numeric: boolean;
      readonly start: number;
    }
  | {
      readonly kind: 'in';
      readonly operand: Reference;
      readonly values: readonly AttributeValue[];
      readonly negated: boolean;
      readonly start: number;
    }
  | {
      readonly kind: 'list';
      readonly operand: Reference;
      readonly alias: string;
      readonly negated: boolean;
      readonly start: number;
    }
  | {
      readonly kind: 'includes' | 'like';
      readonly operand: Reference;
      readonly value: string;
      readonly start: number;
    }
  /** `is_missing(:x:)`, or `is_not_missing(:x:)` when negated. */
  | {
      readonly kind: 'missing';
      readonly operand: Reference;
      readonly negated: boolean;
      readonly start: number;
    }
  /** A boolean attribute alone (`:is_3d_secure_authenticated:`). */
  | { readonly kind: 'flag'; readonly operand: Reference; readonly start: number };

export type Expression =
  | Condition
  | { readonly kind: 'not'; readonly operand: Expression; readonly start: number }
  | {
      readonly kind: 'and' | 'or';
      readonly operands: readonly Expression[];
      readonly start: number;
    };

export type ParsedRule = {
  readonly action: RuleAction;
  /** The text after `if`, trimmed, as written. */
  readonly predicate: string;
  readonly expression: Expression;
  /** How many conditions the predicate has (bounded). */
  readonly conditions: number;
};

/** The attribute name under which a reference's value is found in `Attributes`. */
export function referenceName(reference: Reference): string {
  return reference.kind === 'metadata' ? metadataAttribute(reference.key) : reference.name;
}
