// Assertions a connector makes before it sends anything: the request is within its capability
// map and its credentials are complete. A failure is a caller bug, thrown as ConnectorError.
import { ConnectorError } from './errors.ts';
import type { PaymentExpectation } from './outcomes.ts';
import type {
  AuthorizeRequest,
  CapabilityMap,
  CaptureMode,
  ConnectorCredentials,
} from './types.ts';

export function assertCurrency(
  connector: string,
  capabilities: CapabilityMap,
  currency: string,
): void {
  if (!capabilities.currencies.includes(currency)) {
    throw new ConnectorError(
      connector,
      'unsupported_currency',
      `currency '${currency}' is not supported`,
    );
  }
}

export function assertCaptureMode(
  connector: string,
  capabilities: CapabilityMap,
  mode: CaptureMode,
): void {
  if (!capabilities.captureModes.includes(mode)) {
    throw new ConnectorError(
      connector,
      'unsupported_capture_mode',
      `capture mode '${mode}' is not supported`,
    );
  }
}

export function assertPositive(connector: string, amount: bigint, field = 'amount'): void {
  if (amount <= 0n) {
    throw new ConnectorError(
      connector,
      'invalid_amount',
      `${field} must be positive, got ${amount}`,
    );
  }
}

export function unsupported(connector: string, operation: string): ConnectorError {
  return new ConnectorError(
    connector,
    'unsupported_operation',
    `${operation} is not supported (see its capability map)`,
  );
}

export function requireSecret(
  connector: string,
  credentials: ConnectorCredentials,
  field: 'apiSecret' | 'merchantAccount',
): string {
  const value = credentials[field];
  if (value === undefined || value === '') {
    throw new ConnectorError(connector, 'missing_credentials', `credentials.${field} is required`);
  }
  return value;
}

/** Deep-freezes a capability map, so no caller can widen what a connector claims to do. */
export function defineCapabilities(capabilities: CapabilityMap): CapabilityMap {
  if (
    capabilities.cardVerification === 'authorize_and_void' &&
    (!capabilities.void || !capabilities.captureModes.includes('manual'))
  )
    throw new Error('a verification by authorize-and-void needs manual capture and void');
  return Object.freeze({
    ...capabilities,
    paymentMethods: Object.freeze([...capabilities.paymentMethods]),
    currencies: Object.freeze([...capabilities.currencies]),
    captureModes: Object.freeze([...capabilities.captureModes]),
    refunds: Object.freeze({ ...capabilities.refunds }),
  });
}

/**
 * The checks every connector makes before an authorization leaves the process, and what its
 * answer will be checked against; the card number and CVC are listed so no answer can echo them.
 */
export function authorizationExpectation(
  connector: string,
  capabilities: CapabilityMap,
  request: AuthorizeRequest,
): PaymentExpectation {
  assertCurrency(connector, capabilities, request.currency);
  assertCaptureMode(connector, capabilities, request.captureMode);
  assertPositive(connector, request.amount);
  const secrets = [
    request.card.number,
    ...(request.card.cvc === undefined ? [] : [request.card.cvc]),
  ];
  return {
    operation: 'authorize',
    reference: request.reference,
    currency: request.currency,
    amount: request.amount,
    secrets,
  };
}
