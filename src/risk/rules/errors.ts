// The one error of the rule language: where the rule went wrong (a 0-based character offset) and
// what was expected there. A DomainError, so the HTTP layer answers 400 `parameter_invalid` naming
// `rule` without knowing the rule language. Messages never repeat a rule's literal values: a rule
// is merchant text and could hold anything, a card number included.
import { DomainError } from '../../errors.ts';

export class RuleSyntaxError extends DomainError<'parameter_invalid'> {
  /** 0-based offset into the rule's text of the character where it went wrong. */
  readonly position: number;
  constructor(message: string, position: number) {
    super(
      'parameter_invalid',
      'invalid',
      `Invalid rule at position ${position}: ${message}`,
      'rule',
    );
    this.name = 'RuleSyntaxError';
    this.position = position;
  }
}
