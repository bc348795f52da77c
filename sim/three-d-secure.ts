// The simulator's 3-D Secure server and issuer ACS (CONTRACT.md "3-D Secure server"), EMV 3DS 2
// like, on its own path prefix /3ds:
//   POST /3ds/v1/authentications      (Bearer key, JSON)  start: Y A N R U, or C with challenge_url
//   GET  /3ds/v1/authentications/:id  (Bearer key)        the result (C until the challenge is done)
//   GET  /3ds/acs/:id                 (browser)           the challenge page: two buttons
//   POST /3ds/acs/:id                 (browser, form)     records Y or N, 303 to the return URL
// The PSP modules ask `verify` whether 3DS data sent with an authorization is a cryptogram this
// server issued for the same card, amount and currency. Cards are kept as a SHA-256 digest only.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  normalizeCardNumber,
  parseExpiryMonth,
  parseExpiryYear,
  threeDSecureBehaviour,
} from './cards.ts';
import {
  headerValue,
  isPlainObject,
  json,
  type SimRequest,
  type SimResponse,
  type ThreeDSecureEvidence,
  type ThreeDSecureVerifier,
} from './http.ts';
import { randomId } from './ids.ts';
import { AMOUNT_MAX, unixSeconds } from './psps/common.ts';

export const THREE_D_SECURE_KEY = 'sk_test_3ds_sim';
export const THREE_D_SECURE_VERSION = '2.2.0';
/** The oldest authentications are forgotten beyond this many (a bound on the simulator's memory). */
export const AUTHENTICATIONS_MAX = 100_000;
const REFERENCE_LENGTH_MAX = 255;
const URL_LENGTH_MAX = 2048;
const MERCHANT_NAME_LENGTH_MAX = 100;
const ID_PATTERN = /^3ds_[A-Za-z0-9]{24}$/;
const HOST_PATTERN = /^[A-Za-z0-9.:[\]-]{1,255}$/;

type Status = 'Y' | 'A' | 'N' | 'R' | 'U' | 'C';
type ChallengeIndicator = 'no_preference' | 'challenge_requested';

export type Authentication = {
  readonly id: string;
  readonly reference: string;
  /** SHA-256 of the card number: enough to verify an authorization, useless to a reader. */
  readonly cardDigest: string;
  readonly cardLast4: string;
  readonly mastercard: boolean;
  readonly amount: number;
  readonly currency: string;
  readonly returnUrl: string;
  readonly merchantName: string | null;
  readonly challengeIndicator: ChallengeIndicator;
  readonly dsTransactionId: string;
  readonly createdMs: number;
  status: Status;
  eci: string | null;
  authenticationValue: string | null;
  reason: string | null;
  /** The ACS URL, while and after a challenge. */
  challengeUrl: string | null;
};

/** Every authentication this server started, by id and by cryptogram. */
export class ThreeDSecureDirectory implements ThreeDSecureVerifier {
  readonly #byId = new Map<string, Authentication>();
  readonly #byCryptogram = new Map<string, Authentication>();
  readonly #max: number;

  constructor(max = AUTHENTICATIONS_MAX) {
    this.#max = max;
  }

  get(id: string): Authentication | undefined {
    return this.#byId.get(id);
  }

  add(authentication: Authentication): void {
    if (this.#byId.size >= this.#max) {
      const oldest = this.#byId.values().next().value;
      if (oldest !== undefined) this.#forget(oldest);
    }
    this.#byId.set(authentication.id, authentication);
    this.#index(authentication);
  }

  /** The card holder's answer on the ACS page; a second answer changes nothing. */
  complete(authentication: Authentication, passed: boolean): void {
    if (authentication.status !== 'C') return;
    settle(authentication, passed ? 'Y' : 'N', passed ? null : 'challenge_failed');
    this.#index(authentication);
  }

  /**
   * Whether the data is a cryptogram this server issued (status Y or A) for this card, amount
   * and currency, with its ECI and directory server transaction id.
   */
  verify(evidence: ThreeDSecureEvidence): boolean {
    const found = this.#byCryptogram.get(evidence.authenticationValue);
    return (
      found !== undefined &&
      (found.status === 'Y' || found.status === 'A') &&
      found.cardDigest === digest(evidence.cardNumber) &&
      found.amount === evidence.amount &&
      found.currency === evidence.currency.toLowerCase() &&
      (evidence.eci === undefined || found.eci === evidence.eci) &&
      found.dsTransactionId === evidence.dsTransactionId
    );
  }

  #index(authentication: Authentication): void {
    if (authentication.authenticationValue !== null)
      this.#byCryptogram.set(authentication.authenticationValue, authentication);
  }

  #forget(authentication: Authentication): void {
    this.#byId.delete(authentication.id);
    if (authentication.authenticationValue !== null)
      this.#byCryptogram.delete(authentication.authenticationValue);
  }
}

function digest(cardNumber: string): string {
  return createHash('sha256').update(cardNumber).digest('hex');
}

/** ECI by status: Mastercard's own values (02/01/00), everyone else's (05/06/07). */
function eciOf(status: Status, mastercard: boolean): string | null {
  if (status === 'Y') return mastercard ? '02' : '05';
  if (status === 'A') return mastercard ? '01' : '06';
  if (status === 'N' || status === 'R') return mastercard ? '00' : '07';
  return null;
}

function settle(authentication: Authentication, status: Status, reason: string | null): void {
  authentication.status = status;
  authentication.eci = eciOf(status, authentication.mastercard);
  authentication.reason = reason;
  // A cryptogram (CAVV/AAV) is 20 bytes, base64: only Y and A have one.
  authentication.authenticationValue =
    status === 'Y' || status === 'A' ? randomBytes(20).toString('base64') : null;
}

function isMastercard(number: string): boolean {
  const prefix = Number(number.slice(0, 4));
  return number.startsWith('5') ? /^5[1-5]/.test(number) : prefix >= 2221 && prefix <= 2720;
}

/** The frictionless answer for a card, or C. */
function firstAnswer(
  number: string,
  indicator: ChallengeIndicator,
): { status: Status; reason: string | null } {
  switch (threeDSecureBehaviour(number)) {
    case 'challenge':
      return { status: 'C', reason: null };
    case 'enrolled':
      return indicator === 'challenge_requested'
        ? { status: 'C', reason: null }
        : { status: 'Y', reason: null };
    case 'not_enrolled':
      return { status: 'A', reason: 'card_not_enrolled' };
    case 'not_supported':
      return { status: 'U', reason: 'not_supported' };
    case 'lookup_error':
      return { status: 'U', reason: 'processing_error' };
    case 'not_authenticated':
      return { status: 'N', reason: 'not_authenticated' };
    case 'rejected':
      return { status: 'R', reason: 'rejected' };
  }
}

// --- HTTP -------------------------------------------------------------------------------------

class RequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly param: string | undefined;

  constructor(status: number, code: string, message: string, param?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

function errorResponse(status: number, code: string, message: string, param?: string): SimResponse {
  return json(status, { error: { code, message, ...(param === undefined ? {} : { param }) } });
}

export const THREE_D_SECURE_ERRORS = {
  notFound: (): SimResponse => errorResponse(404, 'not_found', 'Unrecognized request URL.'),
  tooLarge: (): SimResponse => errorResponse(413, 'too_large', 'The request body is too large.'),
};

/**
 * One request under /3ds (segments after the prefix). `ownUrl` is the simulator's URL, used for
 * the challenge URL when the request's Host header is unusable.
 */
export function handleThreeDSecure(
  directory: ThreeDSecureDirectory,
  request: SimRequest,
  ownUrl: string,
): SimResponse {
  const [first, second, third, extra] = request.segments;
  try {
    if (extra !== undefined) return THREE_D_SECURE_ERRORS.notFound();
    if (first === 'acs' && second !== undefined && third === undefined)
      return handleAcs(directory, request, second);
    if (first !== 'v1' || second !== 'authentications') return THREE_D_SECURE_ERRORS.notFound();
    if (headerValue(request.headers, 'authorization') !== `Bearer ${THREE_D_SECURE_KEY}`)
      return errorResponse(401, 'api_key_invalid', 'Invalid API Key provided.');
    if (third === undefined && request.method === 'POST') return create(directory, request, ownUrl);
    if (third !== undefined && request.method === 'GET') {
      const found = ID_PATTERN.test(third) ? directory.get(third) : undefined;
      if (found === undefined)
        return errorResponse(404, 'resource_missing', 'No such authentication.', 'id');
      return json(200, present(found));
    }
    return THREE_D_SECURE_ERRORS.notFound();
  } catch (error) {
    if (error instanceof RequestError)
      return errorResponse(error.status, error.code, error.message, error.param);
    throw error;
  }
}

function create(
  directory: ThreeDSecureDirectory,
  request: SimRequest,
  ownUrl: string,
): SimResponse {
  const body = parseJsonObject(request.bodyText);
  const reference = readString(body.reference, 'reference', REFERENCE_LENGTH_MAX);
  const number = readCard(body.card);
  const amount = body.amount;
  if (
    typeof amount !== 'number' ||
    !Number.isSafeInteger(amount) ||
    amount < 1 ||
    amount > AMOUNT_MAX
  )
    throw new RequestError(
      400,
      'parameter_invalid',
      `amount must be an integer from 1 to ${AMOUNT_MAX}.`,
      'amount',
    );
  const currency = readString(body.currency, 'currency', 3);
  if (!/^[a-z]{3}$/.test(currency))
    throw new RequestError(
      400,
      'parameter_invalid',
      'currency must be a lowercase ISO code.',
      'currency',
    );
  const returnUrl = readReturnUrl(body.return_url);
  const indicator = readIndicator(body.challenge_indicator);
  const merchantName =
    body.merchant_name === undefined || body.merchant_name === null
      ? null
      : readString(body.merchant_name, 'merchant_name', MERCHANT_NAME_LENGTH_MAX);
  const id = randomId('3ds_');
  const authentication: Authentication = {
    id,
    reference,
    cardDigest: digest(number),
    cardLast4: number.slice(-4),
    mastercard: isMastercard(number),
    amount,
    currency,
    returnUrl,
    merchantName,
    challengeIndicator: indicator,
    dsTransactionId: randomUUID(),
    createdMs: Date.now(),
    status: 'C',
    eci: null,
    authenticationValue: null,
    reason: null,
    challengeUrl: null,
  };
  const answer = firstAnswer(number, indicator);
  if (answer.status === 'C')
    authentication.challengeUrl = `${publicUrl(request, ownUrl)}/3ds/acs/${id}`;
  else settle(authentication, answer.status, answer.reason);
  directory.add(authentication);
  return json(200, present(authentication));
}

function present(authentication: Authentication): Record<string, unknown> {
  const status = authentication.status;
  return {
    id: authentication.id,
    object: 'three_d_secure_authentication',
    reference: authentication.reference,
    status,
    version: THREE_D_SECURE_VERSION,
    liability_shift: status === 'Y' || status === 'A',
    amount: authentication.amount,
    currency: authentication.currency,
    card_last4: authentication.cardLast4,
    challenge_url: status === 'C' ? authentication.challengeUrl : null,
    eci: authentication.eci,
    authentication_value: authentication.authenticationValue,
    ds_transaction_id: authentication.dsTransactionId,
    reason: authentication.reason,
    authentication_flow:
      status === 'C' ? null : authentication.challengeUrl === null ? 'frictionless' : 'challenge',
    created: unixSeconds(authentication.createdMs),
  };
}

/** The simulator as the browser reaches it: the Host the API call came to, else its own URL. */
function publicUrl(request: SimRequest, ownUrl: string): string {
  const host = headerValue(request.headers, 'host');
  return host !== undefined && HOST_PATTERN.test(host) ? `http://${host}` : ownUrl;
}

function parseJsonObject(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new RequestError(400, 'parameter_invalid', 'The body must be JSON.');
  }
  if (!isPlainObject(body))
    throw new RequestError(400, 'parameter_invalid', 'The body must be a JSON object.');
  return body;
}

function readString(value: unknown, name: string, lengthMax: number): string {
  if (value === undefined || value === null || value === '')
    throw new RequestError(400, 'parameter_missing', `Missing required param: ${name}.`, name);
  if (typeof value !== 'string' || value.length > lengthMax)
    throw new RequestError(
      400,
      'parameter_invalid',
      `${name} must be a string of at most ${lengthMax} characters.`,
      name,
    );
  return value;
}

/** The card number, checked; errors name the field, never the number. */
function readCard(value: unknown): string {
  if (!isPlainObject(value))
    throw new RequestError(400, 'parameter_missing', 'Missing required param: card.', 'card');
  const number = normalizeCardNumber(value.number);
  if (number === undefined)
    throw new RequestError(
      400,
      'incorrect_number',
      'The card number is incorrect.',
      'card[number]',
    );
  if (parseExpiryMonth(value.exp_month) === undefined)
    throw new RequestError(
      400,
      'invalid_expiry_month',
      'The expiry month is invalid.',
      'card[exp_month]',
    );
  if (parseExpiryYear(value.exp_year) === undefined)
    throw new RequestError(
      400,
      'invalid_expiry_year',
      'The expiry year is invalid.',
      'card[exp_year]',
    );
  return number;
}

function readReturnUrl(value: unknown): string {
  const text = readString(value, 'return_url', URL_LENGTH_MAX);
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new RequestError(
      400,
      'parameter_invalid',
      'return_url must be an absolute http(s) URL.',
      'return_url',
    );
  return text;
}

function readIndicator(value: unknown): ChallengeIndicator {
  if (value === undefined || value === null || value === 'no_preference') return 'no_preference';
  if (value === 'challenge_requested') return 'challenge_requested';
  throw new RequestError(
    400,
    'parameter_invalid',
    'challenge_indicator must be no_preference or challenge_requested.',
    'challenge_indicator',
  );
}

// --- The ACS challenge page ---------------------------------------------------------------------

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // No scripts, no outside resources; the form posts to this page and is then redirected.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
};

function page(status: number, title: string, body: string): SimResponse {
  const text = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto}button{margin:.5rem .5rem 0 0}</style>
</head><body>${body}</body></html>`;
  return { status, text, headers: PAGE_HEADERS };
}

function handleAcs(directory: ThreeDSecureDirectory, request: SimRequest, id: string): SimResponse {
  const found = ID_PATTERN.test(id) ? directory.get(id) : undefined;
  if (found === undefined || found.challengeUrl === null)
    return page(404, 'Not found', '<h1>No such authentication</h1>');
  if (request.method === 'GET') return challengePage(found);
  if (request.method !== 'POST')
    return page(405, 'Method not allowed', '<h1>Method not allowed</h1>');
  const outcome = new URLSearchParams(request.bodyText).get('outcome');
  if (outcome !== 'complete' && outcome !== 'fail')
    return page(400, 'Bad request', '<h1>Choose Complete or Fail</h1>');
  directory.complete(found, outcome === 'complete');
  const back = new URL(found.returnUrl);
  back.searchParams.set('three_d_secure', found.id);
  return { status: 303, text: '', headers: { ...PAGE_HEADERS, location: back.toString() } };
}

function challengePage(authentication: Authentication): SimResponse {
  const merchant = authentication.merchantName ?? 'the merchant';
  const amount = formatAmount(authentication.amount, authentication.currency);
  if (authentication.status !== 'C')
    return page(
      409,
      'Authentication finished',
      `<h1>Authentication finished</h1><p>This authentication is already ${authentication.status === 'Y' ? 'complete' : 'failed'}.</p>`,
    );
  return page(
    200,
    '3D Secure challenge',
    `<h1>3D Secure test payment page</h1>
<p>Pay <strong>${escapeHtml(amount)}</strong> to <strong>${escapeHtml(merchant)}</strong>
with the card ending ${escapeHtml(authentication.cardLast4)}.</p>
<form method="post" action="/3ds/acs/${authentication.id}">
<button type="submit" name="outcome" value="complete">Complete authentication</button>
<button type="submit" name="outcome" value="fail">Fail authentication</button>
</form>`,
  );
}

function formatAmount(minor: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    return `${minor} ${currency.toUpperCase()} (minor units)`;
  }
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
