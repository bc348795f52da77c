// Every domain error is a DomainError, answered with the status its category says, by the one
// mapping in errors.ts; and no error class outside the known non-domain ones bypasses it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConnectorUnavailableError } from '../connectors/resilience.ts';
import { DomainError } from '../errors.ts';
import { DeadLetterError, type DeadLetterErrorCode } from '../events/bus/dead-letters.ts';
import { LedgerError, type LedgerErrorCode } from '../ledger/index.ts';
import { MoneyError, type MoneyErrorCode } from '../money/index.ts';
import { PaymentError, type PaymentErrorCode } from '../payments/errors.ts';
import { RoutingConfigError, type RoutingConfigErrorCode } from '../routing/config.ts';
import { BothCursorsError, UnknownCursorError } from '../storage/pagination.ts';
import { TestClockError, type TestClockErrorCode } from '../testmode/clock-service.ts';
import { VaultError, type VaultErrorCode } from '../vault/index.ts';
import { WebhookError, type WebhookErrorCode } from '../webhooks/errors.ts';
import { AddressRefusedError } from '../webhooks/guarded-post.ts';
import { ApiError, apiCode, categoryStatus, toErrorResponse } from './errors.ts';

// Records, so that the type checker fails this test when a code is added and not listed here.
const ledgerCodes: Record<LedgerErrorCode, true> = {
  invalid_request: true,
  invalid_id: true,
  unknown_currency: true,
  invalid_amount: true,
  amount_too_large: true,
  too_few_legs: true,
  too_many_legs: true,
  unbalanced: true,
  currency_mismatch: true,
  account_not_found: true,
  account_conflict: true,
  limit_exceeded: true,
  balance_overflow: true,
  id_conflict: true,
  pending_not_found: true,
  pending_already_resolved: true,
  hold_expired: true,
  hold_not_expired: true,
  post_exceeds_pending: true,
  batch_too_large: true,
};
const moneyCodes: Record<MoneyErrorCode, true> = {
  unknown_currency: true,
  invalid_amount: true,
  amount_too_large: true,
  amount_not_positive: true,
};
const paymentCodes: Record<PaymentErrorCode, true> = {
  resource_missing: true,
  payment_intent_unexpected_state: true,
  card_declined: true,
  expired_card: true,
  incorrect_cvc: true,
  processing_error: true,
  authentication_required: true,
  capability_not_supported: true,
  no_connector_available: true,
  amount_too_large: true,
  amount_too_small: true,
  email_invalid: true,
  parameters_exclusive: true,
  payment_method_unsupported_type: true,
  charge_already_refunded: true,
  capture_failed: true,
  refund_failed: true,
  cancel_failed: true,
  outcome_unknown: true,
  connector_unavailable: true,
  parameter_invalid: true,
  parameter_missing: true,
  refund_not_cancelable: true,
  payment_intent_authentication_failure: true,
  review_not_open: true,
};
const vaultCodes: Record<VaultErrorCode, true> = {
  invalid_number: true,
  incorrect_number: true,
  invalid_expiry_month: true,
  invalid_expiry_year: true,
  expired_card: true,
  invalid_cvc: true,
  invalid_request: true,
  parameter_invalid: true,
  payment_method_unexpected_state: true,
  resource_missing: true,
};
const webhookCodes: Record<WebhookErrorCode, true> = {
  parameter_invalid: true,
  url_invalid: true,
  resource_missing: true,
  webhook_endpoint_limit_reached: true,
  webhook_endpoint_disabled: true,
};
const routingCodes: Record<RoutingConfigErrorCode, true> = {
  parameter_invalid: true,
  parameter_missing: true,
  parameter_unknown: true,
};
const testClockCodes: Record<TestClockErrorCode, true> = {
  clock_backwards: true,
  clock_out_of_range: true,
  merchant_live_mode: true,
  merchant_not_found: true,
};
const deadLetterCodes: Record<DeadLetterErrorCode, true> = {
  dead_letter_not_found: true,
  consumer_not_registered: true,
};

function codes<Code extends string>(record: Record<Code, true>): Code[] {
  return Object.keys(record) as Code[];
}

const everyDomainError: readonly DomainError[] = [
  ...codes(ledgerCodes).map((code) => new LedgerError(code, 'ledger', 'amount')),
  ...codes(moneyCodes).map((code) => new MoneyError(code, 'money', 'currency')),
  ...codes(paymentCodes).map((code) => new PaymentError(code, 'payment', { param: 'amount' })),
  ...codes(vaultCodes).map((code) => new VaultError(code, 'vault', 'card[number]')),
  ...codes(webhookCodes).map((code) => new WebhookError(code, 'webhook', 'url')),
  ...codes(routingCodes).map((code) => new RoutingConfigError(code, 'routing', 'rules')),
  ...codes(testClockCodes).map((code) => new TestClockError(code, 'merchant', 'clock')),
  ...codes(deadLetterCodes).map((code) => new DeadLetterError(code, 'dead letter')),
  new ConnectorUnavailableError('simulator', 'circuit_open', 5),
  new UnknownCursorError('payment_intent', 'pi_x', 'starting_after'),
  new BothCursorsError(),
  new AddressRefusedError('refused to connect to localhost'),
];

test('every domain error is a DomainError answered with the status of its category', () => {
  for (const error of everyDomainError) {
    const what = `${error.name} ${error.code}`;
    assert.ok(error instanceof DomainError, what);
    const code = apiCode(error);
    assert.ok(code !== undefined, `${what} has an API code`);
    const response = toErrorResponse(error, 'req_1');
    assert.equal(response.expected, true, what);
    assert.equal(response.status, categoryStatus[error.category], what);
    assert.equal(response.body.error.code, code, what);
    // The category's status is the status the catalogue documents for that API code.
    assert.equal(toErrorResponse(new ApiError(code, 'm'), 'r').status, response.status, what);
  }
});

test('a domain code that no one mapped is a bug: 500, not a guess', () => {
  const unmapped = new DomainError('no_such_code', 'invalid', 'what');
  assert.equal(apiCode(unmapped), undefined);
  assert.equal(toErrorResponse(unmapped, 'req_1').status, 500);
});

test('translated codes keep the answers the routes gave before the central mapping', () => {
  const merchant = toErrorResponse(new TestClockError('merchant_not_found', 'merchant', 'x'), 'r');
  assert.equal(merchant.status, 404);
  assert.deepEqual(merchant.body.error, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: 'x',
    param: 'merchant',
    request_id: 'r',
  });
  const backwards = toErrorResponse(new TestClockError('clock_backwards', 'to', 'y'), 'r');
  assert.equal(backwards.status, 400);
  assert.equal(backwards.body.error.code, 'parameter_invalid');
  assert.equal(backwards.body.error.param, 'to');
  const letter = toErrorResponse(new DeadLetterError('dead_letter_not_found', 'gone'), 'r');
  assert.equal(letter.status, 404);
  assert.equal(letter.body.error.param, 'id');
  const consumer = toErrorResponse(new DeadLetterError('consumer_not_registered', 'no'), 'r');
  assert.equal(consumer.status, 503);
  assert.deepEqual(consumer.body.error, {
    type: 'api_error',
    code: 'service_unavailable',
    message: 'no',
    request_id: 'r',
  });
});

// Errors that are bugs, configuration or infrastructure, not a caller's request: they answer 500.
const notDomainErrors = new Set([
  'ApiError', // the HTTP layer's own answer, already an API code
  'FormError', // the HTTP body parser's, mapped with the framework's errors
  'ConfigError',
  'MigrationError',
  'DataDirectoryInUseError',
  'ConnectorError', // a caller asked a connector for what its capability map says it cannot do
  'VaultDecryptionError', // stored card data failed authentication: never the caller's fault
  'UndecodableEventError', // a bus message that is not an event
  'FastPathFailed', // control flow inside the embedded bus
  'AcquirerError', // the acquirer refused a clearing batch or broke its contract (src/settlement)
  // What a PSP's settlement report or the bank's statement is (money in): the outside's, retried
  'ReportFormatError',
  'ReportUnavailableError',
  'StatementFormatError',
  'CsvSyntaxError', // CSV text that is not RFC 4180; adyen.ts makes it a ReportFormatError
  'BodyError', // a report's answer cut short; the report client makes it a ReportUnavailableError
  'BankUnavailableError',
  // Reconciliation files: what the outside sent, kept as the file's failure (never an HTTP error)
  'FileFormatError', // a file that cannot be read; its row says why, naming the file and line
  'JsonDepthError', // JSON nested beyond the limit inside a file; becomes a FileFormatError
  'SameContent', // control flow: the same bytes were ingested before (rolls back the copy)
  'DryRunRollback', // control flow: a dry run's transaction rolled back with its figures
  // Risk: failures of the outside the payment path falls back from (never an HTTP error)
  'ThreeDSecureError', // the 3-D Secure server failed or answered nonsense: authentication fails
  'VelocityUnavailableError', // Redis down or slow: the velocity consumer's event is retried
  'VelocityInputError', // an out-of-bounds velocity event: a bug in its loader, not input
  'TimeoutError', // a Redis call past its bound, inside the velocity store only
  'DashboardError', // a dashboard page's refusal: answered as a page with its status, never JSON
  'AttachLost', // control flow: another submit attached its intent to the session first
]);

function sourceFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

test('every error class in src is a DomainError or one of the named non-domain errors', () => {
  const source = path.resolve(import.meta.dirname, '..');
  for (const file of sourceFiles(source)) {
    const text = fs.readFileSync(file, 'utf8');
    if (file === path.join(source, 'errors.ts')) continue;
    for (const match of text.matchAll(/class (\w+)(?:<[^>]*>)? extends Error\b/g))
      assert.ok(notDomainErrors.has(match[1] as string), `${match[1]} in ${file}`);
  }
});
