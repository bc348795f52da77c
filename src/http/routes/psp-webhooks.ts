// POST /v1/psp_webhooks/:connector — webhooks from PSPs. Outside the merchant scope: a PSP has no
// API key; each webhook is authenticated by its own signature (src/payments/psp-webhooks.ts).
// Its own encapsulated plugin, because signatures cover the exact bytes sent: here JSON and form
// bodies are kept as raw text, and the parsers of the rest of the API never see them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ErrorSchema,
  PspWebhookReceiptSchema,
  presentPspWebhookReceipt,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';

const Params = Type.Object(
  { connector: Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9_]+$' }) },
  { additionalProperties: false },
);

function keepText(
  _request: FastifyRequest,
  body: string | Buffer,
  done: (error: Error | null, body?: unknown) => void,
): void {
  done(null, typeof body === 'string' ? body : body.toString('utf8'));
}

export async function registerPspWebhookRoutes(
  app: FastifyInstance,
  context: RouteContext,
): Promise<void> {
  const receiver = context.pspWebhooks;
  await app.register(async (scope) => {
    // Only in this scope: any other content type is a 415.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, keepText);
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      keepText,
    );
    const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
    typed.post(
      '/v1/psp_webhooks/:connector',
      {
        schema: {
          tags: ['psp'],
          summary: "Receive a PSP's webhook, signed the PSP's way (no API key)",
          description:
            'The payment it names is synced with the PSP; a duplicate event id changes nothing. ' +
            '400 when it cannot be verified; 500 when it was recorded but the PSP could not be ' +
            'asked yet (the PSP retries).',
          params: Params,
          response: {
            200: PspWebhookReceiptSchema,
            400: ErrorSchema,
            404: ErrorSchema,
            500: ErrorSchema,
          },
        },
      },
      async (request) => {
        const { connector } = request.params;
        if (!receiver.hasConnector(connector))
          throw new ApiError(
            'resource_missing',
            `No connector receives webhooks under '${connector}'.`,
            'connector',
          );
        const body = typeof request.body === 'string' ? request.body : '';
        const receipt = await receiver.receive(connector, { body, headers: request.headers });
        switch (receipt.outcome) {
          case 'processed':
          case 'duplicate':
            return presentPspWebhookReceipt(receipt.outcome === 'duplicate');
          case 'unknown_connector':
            throw new ApiError(
              'resource_missing',
              `No connector receives webhooks under '${connector}'.`,
              'connector',
            );
          case 'malformed':
            request.log.warn(
              { connector, reason: receipt.reason },
              'PSP webhook refused: malformed',
            );
            throw new ApiError('psp_webhook_invalid', `The body is not a ${connector} webhook.`);
          case 'unverified':
            request.log.warn(
              { connector, reason: receipt.reason },
              'PSP webhook refused: not verified',
            );
            throw new ApiError(
              'psp_webhook_signature_invalid',
              'The webhook could not be verified.',
            );
          case 'not_processed':
            throw new ApiError(
              'psp_webhook_not_processed',
              'The webhook was recorded but could not be processed yet; send it again later.',
            );
        }
      },
    );
  });
}
