// The HTTP client of Payrail's 3-D Secure server protocol (sim/CONTRACT.md "3-D Secure server"):
// JSON over HTTP, `Authorization: Bearer <key>`. Every answer is checked before it is believed
// (status, id, reference, the fields a status needs); anything else is a ThreeDSecureError, never
// a crash and never a guess. The card number is in the request body only: no error message, log
// line or result carries it.
import { httpRequest, type HttpResult } from '../../connectors/http.ts';
import {
  ThreeDSecureError,
  liabilityShifts,
  type AuthenticationRequest,
  type AuthenticationResult,
  type ThreeDSecureServer,
  type ThreeDSecureServerSettings,
  type ThreeDSecureStatus,
} from './types.ts';

/** Answers are small; a larger one is not parsed (invalid_response). */
const RESPONSE_BYTES_MAX = 16 * 1024;
const ID_PATTERN = /^[A-Za-z0-9_]{1,64}$/;
const FIELD_LENGTH_MAX = 2048;
const STATUSES: ReadonlySet<string> = new Set<ThreeDSecureStatus>(['Y', 'A', 'N', 'R', 'U', 'C']);

/** The wire body of POST /v1/authentications. */
export type AuthenticationRequestBody = {
  readonly reference: string;
  readonly card: { readonly number: string; readonly exp_month: number; readonly exp_year: number };
  readonly amount: number;
  readonly currency: string;
  readonly return_url: string;
  readonly challenge_indicator: string;
  readonly merchant_name?: string;
};

export function authenticationRequestBody(
  request: AuthenticationRequest,
): AuthenticationRequestBody {
  if (request.amount <= 0n || request.amount > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError('3-D Secure: the amount must be positive and below 2^53 minor units');
  return {
    reference: request.reference,
    card: {
      number: request.card.number,
      exp_month: request.card.expiryMonth,
      exp_year: request.card.expiryYear,
    },
    amount: Number(request.amount),
    currency: request.currency,
    return_url: request.returnUrl,
    challenge_indicator: request.challengeIndicator,
    ...(request.merchantName === undefined ? {} : { merchant_name: request.merchantName }),
  };
}

export class HttpThreeDSecureServer implements ThreeDSecureServer {
  async authenticate(
    request: AuthenticationRequest,
    settings: ThreeDSecureServerSettings,
  ): Promise<AuthenticationResult> {
    const result = await call(
      settings,
      'POST',
      '/v1/authentications',
      authenticationRequestBody(request),
    );
    const parsed = parseAuthentication(expectOk(result));
    if (parsed.reference !== request.reference)
      throw new ThreeDSecureError(
        'invalid_response',
        '3-D Secure server answered for another reference',
      );
    return parsed;
  }

  async result(id: string, settings: ThreeDSecureServerSettings): Promise<AuthenticationResult> {
    if (!ID_PATTERN.test(id))
      throw new ThreeDSecureError('not_found', 'no such 3-D Secure authentication', 404);
    const result = await call(settings, 'GET', `/v1/authentications/${id}`, undefined);
    const parsed = parseAuthentication(expectOk(result));
    if (parsed.id !== id)
      throw new ThreeDSecureError('invalid_response', '3-D Secure server answered for another id');
    return parsed;
  }
}

async function call(
  settings: ThreeDSecureServerSettings,
  method: 'GET' | 'POST',
  path: string,
  body: AuthenticationRequestBody | undefined,
): Promise<HttpResult> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${settings.apiKey}`,
    accept: 'application/json',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await httpRequest({
      method,
      url: `${settings.baseUrl.replace(/\/+$/, '')}${path}`,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: RESPONSE_BYTES_MAX,
    });
  } catch (error) {
    // httpRequest throws only before sending, on a baseUrl or timeoutMs that cannot be used.
    if (error instanceof TypeError || error instanceof RangeError)
      throw new ThreeDSecureError('refused', `3-D Secure server settings: ${error.message}`);
    throw error;
  }
}

function expectOk(result: HttpResult): unknown {
  if (result.kind === 'no_response')
    throw new ThreeDSecureError(
      result.reason === 'timeout' ? 'timeout' : 'unavailable',
      result.reason === 'timeout'
        ? '3-D Secure server did not answer in time'
        : '3-D Secure server could not be reached',
    );
  const { status } = result;
  if (status === 200) return result.body;
  // The server's own message is not echoed: it could quote the request.
  if (status === 404)
    throw new ThreeDSecureError('not_found', 'no such 3-D Secure authentication', status);
  if (status >= 500 || status === 429)
    throw new ThreeDSecureError('unavailable', `3-D Secure server answered ${status}`, status);
  if (status >= 400)
    throw new ThreeDSecureError(
      'refused',
      `3-D Secure server refused the request (${status}${errorCode(result.body)})`,
      status,
    );
  throw new ThreeDSecureError('invalid_response', `3-D Secure server answered ${status}`, status);
}

function errorCode(body: unknown): string {
  if (!isRecord(body) || !isRecord(body.error)) return '';
  const code = body.error.code;
  return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? `: ${code}` : '';
}

/** The wire answer → AuthenticationResult, or invalid_response naming what is wrong. */
export function parseAuthentication(body: unknown): AuthenticationResult {
  if (!isRecord(body)) throw invalid('the body is not an object');
  const id = body.id;
  const status = body.status;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw invalid('id');
  if (typeof status !== 'string' || !STATUSES.has(status)) throw invalid('status');
  const known = status as ThreeDSecureStatus;
  const reference = requiredString(body, 'reference');
  const version = requiredString(body, 'version');
  const challengeUrl = optionalString(body, 'challenge_url');
  const eci = optionalString(body, 'eci');
  const authenticationValue = optionalString(body, 'authentication_value');
  const dsTransactionId = optionalString(body, 'ds_transaction_id');
  const reason = optionalString(body, 'reason');
  const flow = optionalString(body, 'authentication_flow');
  if (flow !== undefined && flow !== 'frictionless' && flow !== 'challenge')
    throw invalid('authentication_flow');
  if (known === 'C' && (challengeUrl === undefined || !URL.canParse(challengeUrl)))
    throw invalid('challenge_url');
  if (liabilityShifts(known)) {
    if (eci === undefined) throw invalid('eci');
    if (authenticationValue === undefined) throw invalid('authentication_value');
    if (dsTransactionId === undefined) throw invalid('ds_transaction_id');
  }
  return {
    id,
    status: known,
    reference,
    version,
    liabilityShift: liabilityShifts(known),
    ...(known === 'C' && challengeUrl !== undefined ? { challengeUrl } : {}),
    ...(eci === undefined ? {} : { eci }),
    ...(authenticationValue === undefined ? {} : { authenticationValue }),
    ...(dsTransactionId === undefined ? {} : { dsTransactionId }),
    ...(reason === undefined ? {} : { reason }),
    ...(flow === undefined || known === 'C' ? {} : { authenticationFlow: flow }),
  };
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const value = optionalString(body, name);
  if (value === undefined) throw invalid(name);
  return value;
}

/** A non-empty bounded string; null and absence are both undefined. */
function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > FIELD_LENGTH_MAX)
    throw invalid(name);
  return value;
}

function invalid(what: string): ThreeDSecureError {
  return new ThreeDSecureError('invalid_response', `3-D Secure server answer is invalid: ${what}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
