// Thrown before any network call when a connector is asked for something it cannot do. These are
// bugs in the caller (services check the capability map first) or configuration mistakes, so
// they crash loudly instead of becoming an outcome. Messages never carry card data.

export type ConnectorErrorCode =
  | 'unsupported_operation'
  | 'unsupported_currency'
  | 'unsupported_capture_mode'
  | 'invalid_amount'
  | 'missing_credentials'
  | 'unknown_connector';

export class ConnectorError extends Error {
  readonly code: ConnectorErrorCode;
  readonly connector: string;

  constructor(connector: string, code: ConnectorErrorCode, message: string) {
    super(`${connector}: ${message}`);
    this.name = 'ConnectorError';
    this.code = code;
    this.connector = connector;
  }
}
