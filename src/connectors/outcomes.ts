// Pieces every connector's transformers share: what a response is checked against, the outcomes
// for "we cannot trust or do not have an answer", and the scrubbing that keeps card data out of
// anything a connector returns.
import type { HttpNoResponse } from './http.ts';
import type { PaymentOutcome, RefundOutcome } from './types.ts';

export type PaymentOperation = 'authorize' | 'capture' | 'void' | 'sync';

/** What a payment response must agree with before its status is believed. */
export type PaymentExpectation = {
  readonly operation: PaymentOperation;
  /** Our attempt id as the PSP stores it. */
  readonly reference: string;
  readonly currency: string;
  /** Authorized amount (authorize, void, sync) or the amount to capture (capture). */
  readonly amount: bigint;
  /** The PSP's id, when the request names one. */
  readonly pspReference?: string;
  /** Card number and CVC of an authorize: scrubbed from every returned text. */
  readonly secrets?: readonly string[];
};

export type RefundExpectation = {
  /** The PSP's id of the payment being refunded. */
  readonly pspReference: string;
  readonly reference: string;
  readonly refundReference: string;
  readonly amount: bigint;
  readonly currency: string;
};

/** One field of a response compared with the request; `expected` undefined means "not checked". */
export type Check = {
  readonly field: string;
  readonly expected: string | bigint | undefined;
  readonly actual: string | bigint | undefined;
};

export function findMismatch(checks: readonly Check[]): Check | undefined {
  return checks.find((check) => check.expected !== undefined && check.actual !== check.expected);
}

export const RESPONSE_MISMATCH = 'response_mismatch';
export const NOT_FOUND = 'not_found';
export const UNPARSEABLE_RESPONSE = 'unparseable_response';
export const UNEXPECTED_STATUS = 'unexpected_status';
export const MULTIPLE_MATCHES = 'multiple_matches';

export function mismatchMessage(psp: string, check: Check): string {
  const actual = check.actual === undefined ? 'nothing' : `'${String(check.actual)}'`;
  return redact(
    `${psp} response does not match the request: ${check.field} (expected '${String(check.expected)}', got ${actual})`,
  );
}

/** A response we cannot trust: never authorized/captured, whatever it claims. */
export function paymentMismatch(psp: string, check: Check): PaymentOutcome {
  return { status: 'unknown', pspCode: RESPONSE_MISMATCH, message: mismatchMessage(psp, check) };
}

export function refundMismatch(psp: string, check: Check): RefundOutcome {
  return { status: 'unknown', pspCode: RESPONSE_MISMATCH, message: mismatchMessage(psp, check) };
}

function noResponseFields(
  psp: string,
  reply: HttpNoResponse,
): { pspCode: string; message: string } {
  const what = reply.reason === 'timeout' ? 'timed out' : 'lost the connection';
  return {
    pspCode: reply.reason === 'timeout' ? 'timeout' : 'network_error',
    message: `${psp} call ${what} before a response; the outcome is unknown until sync`,
  };
}

export function noResponsePayment(psp: string, reply: HttpNoResponse): PaymentOutcome {
  return { status: 'unknown', ...noResponseFields(psp, reply) };
}

export function noResponseRefund(psp: string, reply: HttpNoResponse): RefundOutcome {
  return { status: 'unknown', ...noResponseFields(psp, reply) };
}

export function unparseableMessage(psp: string, httpStatus: number): string {
  return `${psp} answered HTTP ${httpStatus} with a body that is not the expected JSON`;
}

// --- keeping card data out -------------------------------------------------------------------

/** Any run of 12 or more digits, optionally grouped by spaces or dashes: a card number's shape. */
const CARD_NUMBER_SHAPE = /\d(?:[ -]?\d){11,}/g;
const REDACTED = '[redacted]';
const MESSAGE_LENGTH_MAX = 500;
const CODE_LENGTH_MAX = 100;

/** Removes anything shaped like a card number, and each given secret where it stands alone. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    result = result.replace(
      new RegExp(`(?<![0-9])${escapeRegExp(secret)}(?![0-9])`, 'g'),
      REDACTED,
    );
  }
  return result.replace(CARD_NUMBER_SHAPE, REDACTED);
}

/** A PSP-supplied text fit for the attempt record: redacted and bounded. */
export function pspText(
  text: string | undefined,
  secrets: readonly string[] = [],
  lengthMax = MESSAGE_LENGTH_MAX,
): string | undefined {
  if (text === undefined || text === '') return undefined;
  const clean = redact(text, secrets);
  return clean.length > lengthMax ? `${clean.slice(0, lengthMax)}…` : clean;
}

export function pspCodeText(
  code: string | undefined,
  secrets: readonly string[] = [],
): string | undefined {
  return pspText(code, secrets, CODE_LENGTH_MAX);
}

/** Last line of defence: every text field of an outcome goes through redaction. */
export function scrubPayment(
  outcome: PaymentOutcome,
  secrets: readonly string[] = [],
): PaymentOutcome {
  return withTexts(outcome, secrets);
}

export function scrubRefund(
  outcome: RefundOutcome,
  secrets: readonly string[] = [],
): RefundOutcome {
  return withTexts(outcome, secrets);
}

function withTexts<
  T extends {
    readonly pspCode?: string;
    readonly message?: string;
    readonly pspReference?: string;
  },
>(outcome: T, secrets: readonly string[]): T {
  const result: { -readonly [K in keyof T]: T[K] } = { ...outcome };
  if (outcome.pspCode !== undefined) result.pspCode = redact(outcome.pspCode, secrets);
  if (outcome.message !== undefined) result.message = redact(outcome.message, secrets);
  // PSP ids may be long digit runs (Paytm's txnId), so only an exact card number removes one.
  const cardNumbers = secrets.filter((secret) => secret.length >= 12);
  if (
    outcome.pspReference !== undefined &&
    cardNumbers.some((number) => outcome.pspReference?.includes(number) === true)
  ) {
    delete result.pspReference;
  }
  return result;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
