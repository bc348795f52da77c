// Standard Webhooks signatures (https://www.standardwebhooks.com): the sender signs
// "<webhook-id>.<webhook-timestamp>.<body>" with HMAC-SHA256 under the base64 key of a
// `whsec_<base64>` secret and sends `webhook-signature: v1,<base64 mac>` (several signatures may be
// given, space-separated, e.g. during a secret rotation). The receiver checks the timestamp
// against a tolerance, so a captured request cannot be replayed later.
import crypto from 'node:crypto';

export const secretPrefix = 'whsec_';
/** 32 bytes: within the spec's 24–64 byte range. */
export const secretKeyBytes = 32;
const secretKeyBytesMin = 24;
const secretKeyBytesMax = 64;
export const defaultToleranceSeconds = 5 * 60;
const signaturesMax = 10;

export type SignatureHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

/** A new `whsec_` secret with a random 256-bit key. */
export function generateSecret(): string {
  return `${secretPrefix}${crypto.randomBytes(secretKeyBytes).toString('base64')}`;
}

/** The HMAC key of a `whsec_` secret; throws on anything else (a bug, not an input error). */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(secretPrefix))
    throw new Error(`webhooks: a signing secret starts with ${secretPrefix}`);
  const encoded = secret.slice(secretPrefix.length);
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from ignores bad characters; re-encoding catches them.
  if (key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, ''))
    throw new Error('webhooks: the signing secret is not valid base64');
  if (key.length < secretKeyBytesMin || key.length > secretKeyBytesMax) {
    throw new Error(
      `webhooks: a signing key must be ${secretKeyBytesMin} to ${secretKeyBytesMax} bytes`,
    );
  }
  return key;
}

function mac(key: Buffer, id: string, timestampSeconds: number, body: string): Buffer {
  return crypto.createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest();
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  assertTimestamp(timestampSeconds);
  return `v1,${mac(secretKey(secret), id, timestampSeconds, body).toString('base64')}`;
}

/** The three headers of a signed message sent at `at`. */
export function signatureHeaders(
  secret: string,
  id: string,
  at: Date,
  body: string,
): SignatureHeaders {
  const timestampSeconds = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': sign(secret, id, timestampSeconds, body),
  };
}

/**
 * Stripe's signature (`Stripe-Signature: t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">`, keyed by
 * the whole secret string as Stripe's SDKs key it), for endpoints that chose it: an integration
 * written for Stripe verifies with `stripe.webhooks.constructEvent` unchanged.
 */
export function stripeSignatureHeader(secret: string, at: Date, body: string): string {
  if (!secret.startsWith(secretPrefix))
    throw new Error(`webhooks: a signing secret starts with ${secretPrefix}`);
  const timestampSeconds = Math.floor(at.getTime() / 1000);
  assertTimestamp(timestampSeconds);
  const mac = crypto
    .createHmac('sha256', secret)
    .update(`${timestampSeconds}.${body}`)
    .digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

export type VerifyFailure =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature';

export type VerifyResult =
  | { readonly valid: true; readonly timestampSeconds: number }
  | { readonly valid: false; readonly reason: VerifyFailure };

export type VerifyOptions = { readonly toleranceSeconds?: number; readonly now?: Date };

/** Header lookup that ignores case, for plain objects and Fetch `Headers`. */
function header(
  headers: Headers | Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * Checks a received message: a timestamp within the tolerance and at least one `v1` signature
 * that matches (compared in constant time). Expected failures are results, not exceptions.
 */
export function verify(
  secret: string,
  headers: Headers | Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  options: VerifyOptions = {},
): VerifyResult {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (
    id === undefined ||
    id === '' ||
    timestamp === undefined ||
    signatures === undefined ||
    signatures === ''
  )
    return { valid: false, reason: 'missing_headers' };
  if (!/^[0-9]{1,12}$/.test(timestamp)) return { valid: false, reason: 'invalid_timestamp' };
  const timestampSeconds = Number(timestamp);
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const toleranceSeconds = options.toleranceSeconds ?? defaultToleranceSeconds;
  if (nowSeconds - timestampSeconds > toleranceSeconds)
    return { valid: false, reason: 'timestamp_too_old' };
  if (timestampSeconds - nowSeconds > toleranceSeconds)
    return { valid: false, reason: 'timestamp_too_new' };
  const expected = mac(secretKey(secret), id, timestampSeconds, body);
  for (const versioned of signatures.split(' ').slice(0, signaturesMax)) {
    const comma = versioned.indexOf(',');
    if (comma < 0 || versioned.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(versioned.slice(comma + 1), 'base64');
    if (given.length === expected.length && crypto.timingSafeEqual(given, expected))
      return { valid: true, timestampSeconds };
  }
  return { valid: false, reason: 'no_matching_signature' };
}

function assertTimestamp(timestampSeconds: number): void {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0)
    throw new Error('webhooks: a timestamp is whole non-negative seconds');
}
