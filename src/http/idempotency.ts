// The Idempotency-Key header on merchant POSTs (architecture §4). Runs after validation and
// authentication, so invalid requests are never stored. 2xx and 4xx answers are stored and
// replayed with `Idempotent-Replayed: true`; after a 5xx the key is released so that the next
// retry resumes at once.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { idempotencyKeyLengthMax, type IdempotencyKeys } from '../idempotency/keys.ts';
import type { IdempotentRequest } from '../idempotency/request.ts';
import { ApiError } from './errors.ts';
import { toJson } from '../api-objects/json.ts';

export type RequestIdempotency = {
  readonly key: string;
  readonly resumed: boolean;
  readonly resourceId: string | null;
};

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: RequestIdempotency;
  }
}

const replayedHeader = 'idempotent-replayed';

export function installIdempotency(app: FastifyInstance, keys: IdempotencyKeys): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST') return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    if (
      typeof header !== 'string' ||
      header.length === 0 ||
      header.length > idempotencyKeyLengthMax
    ) {
      throw new ApiError(
        'parameter_invalid',
        `The Idempotency-Key header must be 1 to ${idempotencyKeyLengthMax} characters.`,
        'Idempotency-Key',
      );
    }
    const begin = await keys.begin({
      merchantId: request.merchantId,
      key: header,
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      body: request.body,
    });
    if (begin.kind === 'replay') {
      return reply
        .code(begin.status)
        .header(replayedHeader, 'true')
        .type('application/json')
        .send(toJson(begin.body));
    }
    if (begin.kind === 'in_use') {
      throw new ApiError(
        'idempotency_key_in_use',
        'There is currently another in-progress request using this Idempotency-Key; ' +
          'retry it later.',
      );
    }
    if (begin.kind === 'mismatch') {
      throw new ApiError(
        'idempotency_error',
        'Keys for idempotent requests can only be used with the same parameters ' +
          'they were first used with.',
        'Idempotency-Key',
      );
    }
    request.idempotency = { key: header, resumed: begin.resumed, resourceId: begin.resourceId };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const idempotency = request.idempotency;
    if (idempotency === undefined || reply.getHeader(replayedHeader) !== undefined) return payload;
    if (reply.statusCode >= 500) await keys.release(request.merchantId, idempotency.key);
    else
      await keys.finish(
        request.merchantId,
        idempotency.key,
        reply.statusCode,
        typeof payload === 'string' ? payload : toJson(payload),
      );
    return payload;
  });
}

/** The request's idempotency as the services take it: resumed or not, and how to bind. */
export function idempotentRequest(
  request: FastifyRequest,
  keys: IdempotencyKeys,
): IdempotentRequest {
  const idempotency = request.idempotency;
  if (idempotency === undefined) return {};
  return {
    resumed: idempotency.resumed,
    resourceId: idempotency.resourceId,
    bind: (tx, id) => keys.bindResource(tx, request.merchantId, idempotency.key, id),
  };
}
