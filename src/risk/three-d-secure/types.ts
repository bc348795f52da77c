// Payrail as the merchant's 3-D Secure requestor (EMV 3DS 2 like): it asks a 3-D Secure server to
// authenticate the card holder, sends the browser to the issuer's challenge page (ACS) when the
// server says so, asks the server for the result once the browser is back (never trusting the
// browser's query), and authorizes at the PSP with the authentication data (ThreeDSecureData,
// "MPI data" passthrough). The protocol is Payrail's own; the simulator implements it
// (sim/CONTRACT.md "3-D Secure server").
import type { ThreeDSecureData } from '../../connectors/types.ts';

export type { ThreeDSecureData } from '../../connectors/types.ts';

/**
 * EMV 3DS transStatus: Y authenticated, A attempted (the issuer's stand-in: liability shifts too),
 * N not authenticated, R rejected by the issuer, U unavailable (card not enrolled or not supported,
 * or the lookup failed), C challenge: the card holder must complete the ACS's page first.
 */
export type ThreeDSecureStatus = 'Y' | 'A' | 'N' | 'R' | 'U' | 'C';

/** 'challenge_requested' asks the issuer to challenge even where it would let the payment through. */
export type ChallengeIndicator = 'no_preference' | 'challenge_requested';

export type AuthenticationRequest = {
  /** Payrail's id for this authentication's payment (the attempt or intent id); stored by the server. */
  readonly reference: string;
  /** Goes over the wire to the 3-D Secure server only: never logged, never in an error. */
  readonly card: {
    readonly number: string;
    readonly expiryMonth: number;
    readonly expiryYear: number;
  };
  /** Minor units, as everywhere in Payrail. */
  readonly amount: bigint;
  /** Lowercase ISO-4217. */
  readonly currency: string;
  /**
   * Where the ACS sends the browser back after a challenge (303), with
   * `three_d_secure=<authentication id>` added to its query.
   */
  readonly returnUrl: string;
  readonly challengeIndicator: ChallengeIndicator;
  /** Shown to the card holder on the challenge page. */
  readonly merchantName?: string;
};

export type AuthenticationResult = {
  /** The server's id of the authentication (`3ds_…`): what `result(id)` asks about. */
  readonly id: string;
  readonly status: ThreeDSecureStatus;
  /** Payrail's reference, as given at creation (checked against the request by the client). */
  readonly reference: string;
  /** The protocol version, e.g. '2.2.0'. */
  readonly version: string;
  /** Y and A: the issuer carries the fraud liability. False for every other status. */
  readonly liabilityShift: boolean;
  /** Status C only: the ACS page the browser must be sent to. */
  readonly challengeUrl?: string;
  /** Y, A, and N/R/U where the directory server gives one ('07', '00'). */
  readonly eci?: string;
  /** Y and A only: the cryptogram (CAVV/AAV) the PSP verifies. */
  readonly authenticationValue?: string;
  readonly dsTransactionId?: string;
  /** N, R, U: why, in the server's words (e.g. 'card_not_enrolled'); never card data. */
  readonly reason?: string;
  /** Final statuses: whether the card holder went through a challenge (Stripe's authentication_flow). */
  readonly authenticationFlow?: 'frictionless' | 'challenge';
};

/** Where a 3-D Secure server is and how Payrail authenticates to it; per merchant or per process. */
export type ThreeDSecureServerSettings = {
  /** The server's root, e.g. `http://127.0.0.1:8090/3ds`; the client appends `/v1/…`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Abort the call after this long: the result is then a ThreeDSecureError 'timeout'. */
  readonly timeoutMs: number;
};

export interface ThreeDSecureServer {
  /**
   * Starts an authentication. Frictionless answers (Y, A, N, R, U) are final; C carries
   * `challengeUrl`. Throws ThreeDSecureError on anything but a valid answer.
   */
  authenticate(
    request: AuthenticationRequest,
    settings: ThreeDSecureServerSettings,
  ): Promise<AuthenticationResult>;
  /**
   * The authentication's current result: C while the card holder has not finished the challenge,
   * then Y or N. Throws ThreeDSecureError ('not_found' for an unknown id).
   */
  result(id: string, settings: ThreeDSecureServerSettings): Promise<AuthenticationResult>;
}

/**
 * Why a call to the 3-D Secure server gave no usable answer. 'timeout' and 'unavailable' (network,
 * 5xx) may be retried; 'refused' (4xx: credentials, request) and 'invalid_response' are bugs or
 * configuration; 'not_found' is an unknown authentication id.
 */
export type ThreeDSecureErrorKind =
  'timeout' | 'unavailable' | 'refused' | 'not_found' | 'invalid_response';

/** The one error the client throws; its message never holds card data. */
export class ThreeDSecureError extends Error {
  readonly kind: ThreeDSecureErrorKind;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;

  constructor(kind: ThreeDSecureErrorKind, message: string, status?: number) {
    super(message);
    this.name = 'ThreeDSecureError';
    this.kind = kind;
    this.status = status;
  }
}

/** Whether an authentication result shifts liability (Y and A). */
export function liabilityShifts(status: ThreeDSecureStatus): boolean {
  return status === 'Y' || status === 'A';
}

/**
 * The data to authorize with: for Y and A (with their cryptogram), else undefined (the payment
 * was not authenticated and must not claim it was).
 */
export function threeDSecureDataOf(result: AuthenticationResult): ThreeDSecureData | undefined {
  if (result.status !== 'Y' && result.status !== 'A') return undefined;
  const { eci, authenticationValue, dsTransactionId } = result;
  if (eci === undefined || authenticationValue === undefined || dsTransactionId === undefined)
    return undefined;
  return {
    transactionStatus: result.status,
    eci,
    authenticationValue,
    dsTransactionId,
    version: result.version,
    ...(result.authenticationFlow === undefined
      ? {}
      : { authenticationFlow: result.authenticationFlow }),
  };
}
