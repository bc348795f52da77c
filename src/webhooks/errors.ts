// Expected webhook failures. The HTTP layer maps codes to statuses (src/http/errors.ts).
export type WebhookErrorCode =
  | 'parameter_invalid'
  | 'url_invalid'
  | 'resource_missing'
  | 'webhook_endpoint_limit_reached'
  | 'webhook_endpoint_disabled';

export class WebhookError extends Error {
  readonly code: WebhookErrorCode;
  readonly param: string | undefined;
  constructor(code: WebhookErrorCode, message: string, param?: string) {
    super(message);
    this.name = 'WebhookError';
    this.code = code;
    this.param = param;
  }
}
