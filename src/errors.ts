// The base of every expected, caller-caused failure: a code the API catalogue knows (or one the
// HTTP layer translates), the request parameter at fault, and a category from which the HTTP
// layer (src/http/errors.ts, the one mapping) takes the status. Bugs and configuration mistakes
// (ConfigError, MigrationError, ConnectorError, a vault that cannot decrypt) are not domain
// errors: they stay plain Errors and answer 500.

/** What kind of refusal this is; decides the HTTP status. */
export type ErrorCategory = 'invalid' | 'not_found' | 'conflict' | 'declined' | 'unavailable';

export class DomainError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly category: ErrorCategory;
  /** The API parameter the error is about, when there is one (`amount`, `card[number]` …). */
  readonly param: string | undefined;
  constructor(code: Code, category: ErrorCategory, message: string, param?: string) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.category = category;
    this.param = param;
  }
}
