// The rule language (Radar's, docs/decisions.md): compile a rule once when it is saved, then call
// `matches` per decision.
export { compileRule, likeMatcher } from './compile.ts';
export type { Truth } from './compile.ts';
export { RuleSyntaxError } from './errors.ts';
export { conditionsMax, nestingMax, parseRule, ruleLengthMax } from './parser.ts';
export { inValuesMax } from './conditions.ts';
export type { Condition, Expression, Operand, ParsedRule, Reference } from './syntax.ts';
export { printRule } from './print.ts';
