// A stand-in for the rule compiler (src/risk/rules) in the Radar service tests: the service takes
// its compiler as a dependency. It knows `<action> if <predicate>`, the value lists a predicate
// names (`@alias`), and matches `:attribute: > <number>` and `:attribute: in @alias` only.
import type { Attributes, CompiledRule, ListLookup, RuleAction } from '../../src/risk/types.ts';

export class StandInRuleSyntaxError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

const actions: readonly string[] = ['request_3ds', 'allow', 'block', 'review'];

export function compileForTests(text: string): CompiledRule {
  const shape = /^(\S+) if (.+)$/s.exec(text);
  if (shape === null) throw new StandInRuleSyntaxError("expected '<action> if <predicate>'", 0);
  const [, action = '', predicate = ''] = shape;
  if (!actions.includes(action))
    throw new StandInRuleSyntaxError('expected request_3ds, allow, block or review', 0);
  const attributes = [...predicate.matchAll(/:(\w+):/g)].map((found) => found[1] ?? '');
  const lists = [...predicate.matchAll(/@(\w+)/g)].map((found) => found[1] ?? '');
  const above = /^:(\w+): > (\d+)$/.exec(predicate);
  const listed = /^:(\w+): in @(\w+)$/.exec(predicate);
  const matches = (values: Attributes, lookup: ListLookup): boolean => {
    if (above !== null) {
      const value = values[above[1] ?? ''];
      return typeof value === 'number' && value > Number(above[2]);
    }
    if (listed !== null) {
      const value = values[listed[1] ?? ''];
      return typeof value === 'string' && lookup(listed[2] ?? '', value);
    }
    return false;
  };
  return { action: action as RuleAction, predicate, attributes, lists, matches };
}
