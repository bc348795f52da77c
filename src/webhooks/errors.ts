// Expected webhook failures. The HTTP layer maps codes to statuses (src/http/errors.ts).
import { DomainError } from '../errors.ts';

export type WebhookErrorCode =
  | 'parameter_invalid'
  | 'url_invalid'
  | 'resource_missing'
  | 'webhook_endpoint_limit_reached'
  | 'webhook_endpoint_disabled';

export class WebhookError extends DomainError<WebhookErrorCode> {
  constructor(code: WebhookErrorCode, message: string, param?: string) {
    super(code, code === 'resource_missing' ? 'not_found' : 'invalid', message, param);
    this.name = 'WebhookError';
  }
}
