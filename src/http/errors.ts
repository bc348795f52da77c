// The one catalogue of API error codes and the one mapping from errors to HTTP (architecture §4).
// Domain code throws its own typed errors; only this file decides status codes and bodies.
import type { ReconciliationErrorCode } from '../reconciliation/engine/errors.ts';
import { DomainError, type ErrorCategory } from '../errors.ts';
import type { LedgerErrorCode } from '../ledger/index.ts';
import type { MoneyErrorCode } from '../money/index.ts';
import { FormError } from './form.ts';
import { PaymentError, type PaymentErrorCode } from '../payments/errors.ts';
import { ConnectorUnavailableError } from '../connectors/resilience.ts';
import type { VaultErrorCode } from '../vault/index.ts';
import { maskCardNumbers } from '../vault/card.ts';
import type { WebhookErrorCode } from '../webhooks/errors.ts';
import type { RoutingConfigErrorCode } from '../routing/index.ts';
import type { PayoutErrorCode } from '../payouts/errors.ts';
import type { TestClockErrorCode } from '../testmode/clock-service.ts';
import type { DeadLetterErrorCode } from '../events/bus/dead-letters.ts';
import { presentIntent, presentIntentForPublishableKey } from '../api-objects/payment-intent.ts';
import { presentPaymentMethod } from '../api-objects/payment-method.ts';
import { latestChargeId } from '../ids.ts';

import { presentSetupIntent } from '../api-objects/setup-intent.ts';
import { CustomerError, type CustomerErrorCode } from '../customers/errors.ts';
import type { RiskErrorCode } from '../risk/errors.ts';
import type { CheckoutErrorCode } from '../checkout/errors.ts';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'idempotency_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'card_error';

type CatalogueEntry = { readonly status: number; readonly type: ErrorType };

const catalogue = {
  parameter_invalid: { status: 400, type: 'invalid_request_error' },
  parameter_missing: { status: 400, type: 'invalid_request_error' },
  parameter_unknown: { status: 400, type: 'invalid_request_error' },
  body_invalid: { status: 400, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  content_type_unsupported: { status: 415, type: 'invalid_request_error' },
  // Refused by the HTTP parser, before any route (app.ts clientErrorHandler).
  request_malformed: { status: 400, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'invalid_request_error' },
  request_headers_too_large: { status: 431, type: 'invalid_request_error' },
  api_key_missing: { status: 401, type: 'authentication_error' },
  api_key_invalid: { status: 401, type: 'authentication_error' },
  admin_key_invalid: { status: 401, type: 'authentication_error' },
  // A publishable key on a route that needs the secret key (Stripe answers 403 with this type).
  secret_key_required: { status: 403, type: 'invalid_request_error' },
  // The Stripe-Account header asks for Stripe Connect, which Payrail does not have.
  stripe_account_unsupported: { status: 400, type: 'invalid_request_error' },
  resource_missing: { status: 404, type: 'invalid_request_error' },
  route_not_found: { status: 404, type: 'invalid_request_error' },
  idempotency_key_in_use: { status: 409, type: 'idempotency_error' },
  idempotency_error: { status: 400, type: 'idempotency_error' },
  // Stripe's code for its rate and concurrency limiters (src/http/rate-limit.ts).
  rate_limit: { status: 429, type: 'rate_limit_error' },
  service_unavailable: { status: 503, type: 'api_error' },
  internal_error: { status: 500, type: 'api_error' },
  // Ledger outcomes, as the ledger names them.
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_id: { status: 400, type: 'invalid_request_error' },
  unknown_currency: { status: 400, type: 'invalid_request_error' },
  invalid_amount: { status: 400, type: 'invalid_request_error' },
  amount_too_large: { status: 400, type: 'invalid_request_error' },
  amount_too_small: { status: 400, type: 'invalid_request_error' },
  email_invalid: { status: 400, type: 'invalid_request_error' },
  parameters_exclusive: { status: 400, type: 'invalid_request_error' },
  amount_not_positive: { status: 400, type: 'invalid_request_error' },
  currency_mismatch: { status: 400, type: 'invalid_request_error' },
  too_few_legs: { status: 400, type: 'invalid_request_error' },
  too_many_legs: { status: 400, type: 'invalid_request_error' },
  unbalanced: { status: 400, type: 'invalid_request_error' },
  account_not_found: { status: 400, type: 'invalid_request_error' },
  account_conflict: { status: 409, type: 'invalid_request_error' },
  limit_exceeded: { status: 400, type: 'invalid_request_error' },
  balance_overflow: { status: 400, type: 'invalid_request_error' },
  id_conflict: { status: 409, type: 'invalid_request_error' },
  pending_not_found: { status: 400, type: 'invalid_request_error' },
  pending_already_resolved: { status: 409, type: 'invalid_request_error' },
  hold_expired: { status: 409, type: 'invalid_request_error' },
  hold_not_expired: { status: 409, type: 'invalid_request_error' },
  post_exceeds_pending: { status: 400, type: 'invalid_request_error' },
  batch_too_large: { status: 400, type: 'invalid_request_error' },
  // Payments.
  payment_intent_unexpected_state: { status: 400, type: 'invalid_request_error' },
  payment_method_unsupported_type: { status: 400, type: 'invalid_request_error' },
  card_declined: { status: 402, type: 'card_error' },
  expired_card: { status: 402, type: 'card_error' },
  incorrect_cvc: { status: 402, type: 'card_error' },
  processing_error: { status: 402, type: 'card_error' },
  // A card that needs 3-D Secure where no authentication can be run (an off-session payment, a
  // merchant without a 3-D Secure server).
  authentication_required: { status: 402, type: 'card_error' },
  // The card holder failed 3-D Secure: the intent waits for another payment method (Stripe's).
  payment_intent_authentication_failure: { status: 400, type: 'invalid_request_error' },
  // Only an open review can be approved.
  review_not_open: { status: 400, type: 'invalid_request_error' },
  capability_not_supported: { status: 400, type: 'invalid_request_error' },
  no_connector_available: { status: 400, type: 'invalid_request_error' },
  charge_already_refunded: { status: 400, type: 'invalid_request_error' },
  capture_failed: { status: 402, type: 'invalid_request_error' },
  refund_failed: { status: 402, type: 'invalid_request_error' },
  cancel_failed: { status: 402, type: 'invalid_request_error' },
  outcome_unknown: { status: 409, type: 'invalid_request_error' },
  // A refund already sent to the PSP, or finished (Stripe cancels only refunds that await action).
  refund_not_cancelable: { status: 400, type: 'invalid_request_error' },

  // Customers, saved payment methods and SetupIntents.
  payment_method_unexpected_state: { status: 400, type: 'invalid_request_error' },
  setup_intent_unexpected_state: { status: 400, type: 'invalid_request_error' },
  // Every connector that could take the payment is refusing calls (circuit open, bulkhead full):
  // nothing was sent.
  connector_unavailable: { status: 503, type: 'api_error' },
  // The card vault (Stripe answers these as card errors).
  invalid_number: { status: 402, type: 'card_error' },
  incorrect_number: { status: 402, type: 'card_error' },
  invalid_expiry_month: { status: 402, type: 'card_error' },
  invalid_expiry_year: { status: 402, type: 'card_error' },
  invalid_cvc: { status: 402, type: 'card_error' },
  // Webhooks.
  url_invalid: { status: 400, type: 'invalid_request_error' },
  webhook_endpoint_limit_reached: { status: 400, type: 'invalid_request_error' },
  webhook_endpoint_disabled: { status: 400, type: 'invalid_request_error' },
  // Webhooks from PSPs. Unknown reference and bad signature share one code: an unauthenticated
  // caller learns nothing about which payments exist.
  psp_webhook_invalid: { status: 400, type: 'invalid_request_error' },
  psp_webhook_signature_invalid: { status: 400, type: 'invalid_request_error' },
  // Verified and recorded, but the payment's state could not be learned yet: a 5xx so the PSP
  // retries.
  psp_webhook_not_processed: { status: 500, type: 'api_error' },
  // Payouts.
  balance_insufficient: { status: 400, type: 'invalid_request_error' },
  no_external_account: { status: 400, type: 'invalid_request_error' },
  payout_not_cancelable: { status: 409, type: 'invalid_request_error' },
  bank_account_exists: { status: 400, type: 'invalid_request_error' },
  bank_account_in_use: { status: 409, type: 'invalid_request_error' },
  // Hosted checkout: a session that is complete, or has a payment in progress, cannot expire.
  checkout_session_unexpected_state: { status: 400, type: 'invalid_request_error' },
  // Reconciliation.
  exception_already_resolved: { status: 409, type: 'invalid_request_error' },
  match_not_possible: { status: 409, type: 'invalid_request_error' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof catalogue;

// Compile-time checks that every domain error code has an HTTP mapping.
const _everyLedgerCodeMapped: Record<LedgerErrorCode, CatalogueEntry> = catalogue;
const _everyPaymentCodeMapped: Record<PaymentErrorCode, CatalogueEntry> = catalogue;
const _everyVaultCodeMapped: Record<VaultErrorCode, CatalogueEntry> = catalogue;
const _everyCustomerCodeMapped: Record<CustomerErrorCode, CatalogueEntry> = catalogue;
const _everyRiskCodeMapped: Record<RiskErrorCode, CatalogueEntry> = catalogue;
const _everyCheckoutCodeMapped: Record<CheckoutErrorCode, CatalogueEntry> = catalogue;
const _everyWebhookCodeMapped: Record<WebhookErrorCode, CatalogueEntry> = catalogue;
const _everyMoneyCodeMapped: Record<MoneyErrorCode, CatalogueEntry> = catalogue;
const _everyRoutingCodeMapped: Record<RoutingConfigErrorCode, CatalogueEntry> = catalogue;
const _everyPayoutCodeMapped: Record<PayoutErrorCode, CatalogueEntry> = catalogue;
const _everyReconciliationCodeMapped: Record<ReconciliationErrorCode, CatalogueEntry> = catalogue;

/** Domain codes that are not API codes, and the API code each answers with. */
const translatedCodes: Record<TestClockErrorCode | DeadLetterErrorCode, ErrorCode> = {
  clock_backwards: 'parameter_invalid',
  clock_out_of_range: 'parameter_invalid',
  merchant_live_mode: 'parameter_invalid',
  merchant_not_found: 'resource_missing',
  dead_letter_not_found: 'resource_missing',
  // The consumer does not run in this process: nothing to replay with here.
  consumer_not_registered: 'service_unavailable',
};

/** The status of every domain error: its category decides. */
export const categoryStatus: Record<ErrorCategory, number> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  declined: 402,
  unavailable: 503,
};

/** The API code a domain error answers with; undefined for a code nobody mapped (a bug: 500). */
export function apiCode(error: DomainError): ErrorCode | undefined {
  if (Object.hasOwn(catalogue, error.code)) return error.code as ErrorCode;
  if (Object.hasOwn(translatedCodes, error.code))
    return translatedCodes[error.code as keyof typeof translatedCodes];
  return undefined;
}

/** An error meant for the API caller, raised by the HTTP layer (auth, lookups, validation). */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly param: string | undefined;
  readonly declineCode: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    param?: string,
    declineCode?: string,
    retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.param = param;
    this.declineCode = declineCode;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type ErrorBody = {
  error: {
    type: ErrorType;
    code: ErrorCode;
    message: string;
    param?: string;
    decline_code?: string;
    payment_intent?: unknown;
    /** The declined charge (Stripe's `error.charge`): the id of the intent's latest attempt. */
    charge?: string;
    payment_method?: unknown;

    setup_intent?: unknown;
    request_id: string;
  };
};

export type ErrorResponse = {
  status: number;
  body: ErrorBody;
  expected: boolean;
  retryAfterSeconds?: number;
};

/** `propertyName` is set when an object's key failed its `propertyNames` schema (metadata keys). */
type ValidationIssue = {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  propertyName?: string;
};

/**
 * A name taken from the request, as the answer (and the log) shows it: no real param is longer
 * than this, and echoing a 250 kB key back cost seconds of card-number masking per request.
 */
const paramNameShownMax = 100;

function shownName(name: string): string {
  return name.length > paramNameShownMax ? `${name.slice(0, paramNameShownMax)}…` : name;
}

/** '/legs/0/amount' → 'legs[0][amount]', the bracket notation Stripe uses for nested params. */
function paramFromPath(instancePath: string): string {
  const parts = instancePath.split('/').filter((part) => part !== '');
  return parts
    .map((part, index) => (index === 0 ? shownName(part) : `[${shownName(part)}]`))
    .join('');
}

function childParam(parent: string, child: string): string {
  return parent === '' ? shownName(child) : `${parent}[${shownName(child)}]`;
}

function fromValidation(issue: ValidationIssue, context: string | undefined): ApiError {
  const where =
    context === 'querystring'
      ? 'query parameter'
      : context === 'params'
        ? 'path parameter'
        : 'parameter';
  if (issue.keyword === 'required') {
    const missing = String(issue.params.missingProperty ?? '');
    const param = childParam(paramFromPath(issue.instancePath), missing);
    return new ApiError('parameter_missing', `Missing required ${where}: ${param}.`, param);
  }
  if (issue.keyword === 'additionalProperties') {
    const unknown = String(issue.params.additionalProperty ?? '');
    const param = childParam(paramFromPath(issue.instancePath), unknown);
    return new ApiError('parameter_unknown', `Received unknown ${where}: ${param}.`, param);
  }
  const param = paramFromPath(issue.instancePath);
  if (param === '')
    return new ApiError('body_invalid', `The request body ${issue.message ?? 'is invalid'}.`);
  if (issue.propertyName !== undefined) {
    // The key itself is wrong, so the param is the object that holds it; the message names the key.
    const key = JSON.stringify(
      issue.propertyName.length > 50 ? `${issue.propertyName.slice(0, 50)}…` : issue.propertyName,
    );
    return new ApiError(
      'parameter_invalid',
      `Invalid ${where} ${param}: the key ${key} ${issue.message ?? 'is not allowed'}.`,
      param,
    );
  }
  return new ApiError(
    'parameter_invalid',
    `Invalid ${where} ${param}: ${issue.message ?? 'invalid value'}.`,
    param,
  );
}

/** Fastify's own errors (parsing, limits, schema validation) as API errors. */
function fromFramework(error: {
  code?: unknown;
  validation?: unknown;
  validationContext?: unknown;
  message: string;
}): ApiError | undefined {
  if (Array.isArray(error.validation) && error.validation.length > 0) {
    return fromValidation(
      error.validation[0] as ValidationIssue,
      typeof error.validationContext === 'string' ? error.validationContext : undefined,
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('body_too_large', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        'content_type_unsupported',
        'Send the body as application/json or application/x-www-form-urlencoded.',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(
        'body_invalid',
        'The request body is empty but the content type says JSON.',
      );
    // Answered through the Fastify option frameworkErrors (app.ts): a path that does not decode.
    case 'FST_ERR_BAD_URL':
      return new ApiError('url_invalid', 'The request URL has an invalid percent-encoding.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError('url_invalid', 'A path parameter of the request URL is too long.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('body_invalid', 'The request body is not valid JSON.');
    default:
      if (error instanceof FormError)
        return error.param === undefined
          ? new ApiError('body_invalid', error.message)
          : new ApiError('parameter_invalid', error.message, error.param);
      return error instanceof SyntaxError
        ? new ApiError('body_invalid', 'The request body is not valid JSON.')
        : undefined;
  }
}

function fromDomain(error: DomainError): ApiError | undefined {
  const code = apiCode(error);
  if (code === undefined) return undefined;
  if (error instanceof PaymentError)
    return new ApiError(
      code,
      error.message,
      error.param,
      error.declineCode,
      error.retryAfterSeconds,
    );
  if (error instanceof CustomerError)
    return new ApiError(code, error.message, error.param, error.declineCode);
  // A capture, cancel, refund or sync refused by the connector's breaker or bulkhead: nothing was
  // sent and the operation stays recorded as in flight, so a retry (or the status sync) resumes it.
  if (error instanceof ConnectorUnavailableError) {
    return new ApiError(
      code,
      `The connector '${error.connector}' is refusing calls right now (${error.reason}); ` +
        'nothing was sent. Retry later.',
      undefined,
      undefined,
      error.retryAfterSeconds,
    );
  }
  return new ApiError(code, error.message, error.param);
}

function asApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof DomainError) return fromDomain(error);
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return fromFramework(error as { code?: unknown; validation?: unknown; message: string });
  }
  return undefined;
}

/**
 * The single place where any error becomes an HTTP status and a Stripe-shaped body. A card error
 * answered to a publishable key carries the intent as that key sees it.
 */
export function toErrorResponse(
  error: unknown,
  requestId: string,
  keyKind: 'secret' | 'publishable' = 'secret',
): ErrorResponse {
  const apiError = asApiError(error);
  if (apiError === undefined) {
    const entry = catalogue.internal_error;
    return {
      status: entry.status,
      expected: false,
      body: {
        error: {
          type: entry.type,
          code: 'internal_error',
          message: `An internal error occurred; quote request ${requestId} when reporting it.`,
          request_id: requestId,
        },
      },
    };
  }
  const entry: CatalogueEntry = catalogue[apiError.code];
  // A card number may come back in what a request named (an unknown field, a path): masked here,
  // for every error, since an answer can also be stored (idempotency keys) and logged.
  const body: ErrorBody = {
    error: {
      type: entry.type,
      code: apiError.code,
      message: maskCardNumbers(apiError.message),
      request_id: requestId,
    },
  };
  if (apiError.param !== undefined) body.error.param = maskCardNumbers(apiError.param);
  if (apiError.declineCode !== undefined) body.error.decline_code = apiError.declineCode;
  // Card errors carry the PaymentIntent as the decline left it, as Stripe's do.
  if (error instanceof PaymentError && error.paymentIntent !== undefined) {
    body.error.payment_intent =
      keyKind === 'publishable'
        ? presentIntentForPublishableKey(error.paymentIntent)
        : presentIntent(error.paymentIntent);
    const charge = latestChargeId(error.paymentIntent.attempts);
    if (charge !== null) body.error.charge = charge;
    // Not to a browser: the payment method shows its metadata, customer and billing details.
    if (error.paymentMethod !== undefined && keyKind !== 'publishable')
      body.error.payment_method = presentPaymentMethod(error.paymentMethod);
  }

  if (error instanceof CustomerError && error.setupIntent !== undefined)
    body.error.setup_intent = presentSetupIntent(error.setupIntent);
  return {
    status: error instanceof DomainError ? categoryStatus[error.category] : entry.status,
    body,
    expected: true,
    ...(apiError.retryAfterSeconds === undefined
      ? {}
      : { retryAfterSeconds: apiError.retryAfterSeconds }),
  };
}
