// JSON values from a token stream (stream-json) or from one line of text, with numbers kept
// exact: an integer within the exact range of a double is a number, anything else (a fraction,
// an exponent, a huge integer) stays its text, so that no amount ever passes through a float.
// Assembly is iterative (an explicit stack, bounded depth), never recursive over the input.
import type { Token } from 'stream-json/core/parser.js';

const integerText = /^-?(0|[1-9]\d*)$/;

/** A JSON number that is not an exact integer: its text as written. */
export class JsonNumberText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  isInteger(): boolean {
    return integerText.test(this.text);
  }
  toJSON(): string {
    return this.text;
  }
}

export function jsonNumber(text: string): number | JsonNumberText {
  if (integerText.test(text)) {
    const value = Number(text);
    if (Number.isSafeInteger(value)) return value;
  }
  return new JsonNumberText(text);
}

export class JsonDepthError extends Error {}

type Frame = { container: Record<string, unknown> | unknown[]; key: string | undefined };

/** Builds one value from its tokens; `push` says when the value is complete. */
export class ValueAssembler {
  readonly #depthMax: number;
  readonly #stack: Frame[] = [];
  #key: string | undefined;

  constructor(depthMax: number) {
    this.#depthMax = depthMax;
  }

  push(token: Token): { complete: false } | { complete: true; value: unknown } {
    switch (token.name) {
      case 'startObject':
      case 'startArray': {
        if (this.#stack.length >= this.#depthMax)
          throw new JsonDepthError(`nested deeper than ${this.#depthMax}`);
        this.#stack.push({
          container: token.name === 'startObject' ? {} : [],
          key: this.#key,
        });
        this.#key = undefined;
        return { complete: false };
      }
      case 'endObject':
      case 'endArray': {
        const frame = this.#stack.pop() as Frame;
        this.#key = frame.key;
        return this.#value(frame.container);
      }
      case 'keyValue':
        this.#key = token.value;
        return { complete: false };
      case 'stringValue':
        return this.#value(token.value);
      case 'numberValue':
        return this.#value(jsonNumber(token.value));
      case 'nullValue':
      case 'trueValue':
      case 'falseValue':
        return this.#value(token.value);
      default:
        return { complete: false };
    }
  }

  #value(value: unknown): { complete: false } | { complete: true; value: unknown } {
    const parent = this.#stack[this.#stack.length - 1];
    if (parent === undefined) return { complete: true, value };
    if (Array.isArray(parent.container)) parent.container.push(value);
    // Own data property even for '__proto__' (no prototype pollution).
    else
      Object.defineProperty(parent.container, this.#key ?? '', {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    this.#key = undefined;
    return { complete: false };
  }
}

/** One line of JSON text, numbers kept exact (JSON.parse with its source text, Node ≥ 21). */
export function parseJsonLine(text: string): unknown {
  return JSON.parse(
    text,
    function (this: unknown, key, value: unknown, context?: { source?: string }) {
      if (typeof value === 'number' && context?.source !== undefined)
        return jsonNumber(context.source);
      // '__proto__' as a key is an own property with JSON.parse already.
      void key;
      return value;
    },
  );
}
