// Opens each API request's scope for the events it causes (src/events/request.ts): its id, the
// account whose key made it, and the Idempotency-Key it was accepted under. The scope is entered
// at onRequest and entered again at preValidation, because Node runs the handler from the request
// body's 'end' event, in the socket's async context rather than the hook's (as
// @fastify/request-context does, nodejs/node#34430). It closes when the response is sent.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { runInRequest, type RequestScope } from '../events/request.ts';

declare module 'fastify' {
  interface FastifyRequest {
    eventScope?: RequestScope;
  }
}

function scopeOf(request: FastifyRequest): RequestScope {
  return {
    id: request.id,
    // Set by the merchant's authentication (or the operator's platform scope); undefined otherwise.
    account: () => {
      const account: string | undefined = request.merchantId;
      return account;
    },
    idempotencyKey: () => request.idempotency?.key ?? null,
    open: true,
  };
}

export function installRequestScope(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const scope = scopeOf(request);
    request.eventScope = scope;
    runInRequest(scope, done);
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const scope = request.eventScope;
    if (scope === undefined) done();
    else runInRequest(scope, done);
  });
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.eventScope !== undefined) request.eventScope.open = false;
    done();
  });
}
