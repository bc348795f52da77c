// Writes a parsed rule back as canonical text: keywords lowercase, one space around operators,
// literals normalized as compiled, parentheses only where precedence needs them. Parsing the
// printed text gives the same rule again (tested), so it can show a rule the way it is read.
// Recursion over the parsed tree only, whose depth the parser bounds; asserted here too.
import type { AttributeValue } from '../attributes.ts';
import type { Expression, Operand, ParsedRule, Reference } from './syntax.ts';

const printDepthMax = 64;

export function printRule(rule: ParsedRule): string {
  return `${rule.action} if ${printExpression(rule.expression, 0)}`;
}

export function printExpression(expression: Expression, depth: number): string {
  if (depth > printDepthMax) throw new Error('rule expression deeper than the parser allows');
  switch (expression.kind) {
    case 'not':
      return `not ${grouped(expression.operand, expression.operand.kind === 'and' || expression.operand.kind === 'or', depth)}`;
    case 'and':
      return expression.operands
        .map((operand) => grouped(operand, operand.kind === 'or', depth))
        .join(' and ');
    case 'or':
      return expression.operands.map((operand) => printExpression(operand, depth + 1)).join(' or ');
    case 'compare':
      return `${printOperand(expression.left)} ${expression.operator} ${printOperand(expression.right)}`;
    case 'in': {
      const keyword = expression.negated ? 'not in' : 'in';
      return `${printOperand(expression.operand)} ${keyword} (${expression.values.map(printValue).join(', ')})`;
    }
    case 'list':
      return `${printOperand(expression.operand)} ${expression.negated ? 'not in' : 'in'} @${expression.alias}`;
    case 'includes':
    case 'like':
      return `${printOperand(expression.operand)} ${expression.kind} ${printValue(expression.value)}`;
    case 'missing':
      return `${expression.negated ? 'is_not_missing' : 'is_missing'}(${printOperand(expression.operand)})`;
    case 'flag':
      return printOperand(expression.operand);
  }
}

function grouped(expression: Expression, parenthesize: boolean, depth: number): string {
  const text = printExpression(expression, depth + 1);
  return parenthesize ? `(${text})` : text;
}

function printOperand(operand: Operand | Reference): string {
  if (operand.kind === 'attribute') return `:${operand.name}:`;
  if (operand.kind === 'metadata') return `::${operand.key}::`;
  return printValue(operand.value);
}

export function printValue(value: AttributeValue): string {
  if (typeof value === 'string')
    return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return printNumber(value);
}

/** Plain decimal notation (the lexer reads no exponents): `1e-7` is written `0.0000001`. */
function printNumber(value: number): string {
  const text = String(value);
  const [mantissa = text, exponentText] = text.split('e');
  if (exponentText === undefined) return text;
  const sign = mantissa.startsWith('-') ? '-' : '';
  const unsigned = sign === '' ? mantissa : mantissa.slice(1);
  const point = unsigned.indexOf('.');
  const digits = unsigned.replace('.', '');
  const position = (point < 0 ? unsigned.length : point) + Number(exponentText);
  if (position <= 0) return `${sign}0.${'0'.repeat(-position)}${digits}`;
  if (position >= digits.length) return `${sign}${digits}${'0'.repeat(position - digits.length)}`;
  return `${sign}${digits.slice(0, position)}.${digits.slice(position)}`;
}
