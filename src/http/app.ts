// The Fastify application: parsing, validation, auth, error mapping, OpenAPI, and the routes.
// Route handlers stay thin: validate, call one service, present the result.
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { newId } from '../ids.ts';
import { adminAuth, merchantAuth } from './auth.ts';
import { platformAccountId } from '../merchants/platform.ts';
import type { AppContext } from './context.ts';
import { ApiError, toErrorResponse } from './errors.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerDeadLetterRoutes } from './routes/dead-letters.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerRoutingRoutes } from './routes/routing.ts';
import { registerSettlementRoutes } from './routes/settlement.ts';
import { registerMoneyOutRoutes } from './routes/money-out.ts';
import { registerReconciliationRoutes } from './routes/reconciliation.ts';
import { registerReconciliationFileRoutes } from './routes/reconciliation-files.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerLedgerRoutes } from './routes/ledger.ts';
import { registerPaymentRoutes } from './routes/payments.ts';
import { registerCustomerRoutes } from './routes/customers.ts';
import { registerRadarRoutes } from './routes/radar.ts';
import { registerSetupIntentRoutes } from './routes/setup-intents.ts';
import { registerPublishableKeyRoutes } from './routes/publishable-keys.ts';
import { registerPspWebhookRoutes } from './routes/psp-webhooks.ts';
import { registerThreeDSecureRoutes } from './routes/three-d-secure.ts';
import { registerTestClockRoutes } from './routes/test-clocks.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';
import { registerBankAccountRoutes } from './routes/bank-accounts.ts';
import { registerPayoutRoutes } from './routes/payouts.ts';
import {
  registerPayoutOperatorRoutes,
  registerPayoutSettingsRoutes,
} from './routes/payout-settings.ts';
import { FormError, formEncoded, parseForm, parseQuery, queryError } from './form.ts';
import { findNonFiniteNumber, findUnsafeInput } from './unsafe-input.ts';
import { installIdempotency } from './idempotency.ts';
import { installRequestScope } from './request-scope.ts';
import { createValidator } from './validator.ts';
import { toJson } from '../api-objects/json.ts';
import { ErrorSchema } from '../api-objects/error.ts';
import { eventCatalogue, eventPayloadSchemas } from '../api-objects/event-payloads.ts';
import { withLivemode } from '../merchants/mode.ts';
import { addressRateLimitHook, merchantRateLimitHook } from './rate-limit.ts';
import { registerRateLimitRoutes } from './routes/rate-limits.ts';
import { registerAssetRoutes } from './routes/assets.ts';
import { registerPayRoutes } from './routes/pay.ts';
import { registerCheckoutSessionRoutes } from './routes/checkout-sessions.ts';
import { registerPaymentLinkRoutes } from './routes/payment-links.ts';
import { Assets } from '../web/assets.ts';
import { pageHeaders } from '../web/security.ts';
import { html, type Html } from '../web/html.ts';
import { registerDashboard } from './dashboard/index.ts';

export const apiVersion = '2026-11-01';

/** Every body is accepted as JSON and, as Stripe's SDKs send it, form encoded (form.ts). */
export const requestBodyContentTypes = ['application/json', 'application/x-www-form-urlencoded'];

/**
 * OpenAPI 3.1's `webhooks`: one entry per event type of the catalogue, what Payrail POSTs to a
 * merchant's endpoint: the Event with that type and its data.object (api-objects/event-payloads).
 */
function eventWebhooks(): Record<string, unknown> {
  return Object.fromEntries(
    eventPayloadSchemas.map(({ type, schema }) => [
      type,
      {
        post: {
          tags: ['webhooks'],
          operationId: `webhook_${type.replaceAll('.', '_')}`,
          summary: eventCatalogue[type].description,
          description:
            'Sent to each enabled webhook endpoint subscribed to the type (or to `*`), signed ' +
            "with the endpoint's scheme (Standard Webhooks by default, or Stripe-Signature); " +
            'retried with backoff for about three days until the endpoint answers 2xx.',
          requestBody: {
            required: true,
            content: { 'application/json': { schema } },
          },
          responses: { '2XX': { description: 'Received. Anything else is retried.' } },
        },
      },
    ]),
  );
}

type OpenApi31Webhooks = Extract<
  NonNullable<swagger.FastifyDynamicSwaggerOptions['openapi']>,
  { webhooks?: unknown }
>['webhooks'];

const rateLimitHeader = (description: string) => ({ type: 'integer', description });

/** The 429 of the rate limits: the error object, Retry-After and the RateLimit header fields. */
const rateLimitedResponse = {
  content: { 'application/json': { schema: ErrorSchema } },
  description:
    'Too many requests (code `rate_limit`): per account, per endpoint, in flight, or per ' +
    'address on routes without a key. Retry after Retry-After seconds.',
  headers: {
    'Retry-After': rateLimitHeader('Seconds until a retry can pass.'),
    'RateLimit-Limit': rateLimitHeader('Requests allowed in the window.'),
    'RateLimit-Remaining': rateLimitHeader('Requests left in the window.'),
    'RateLimit-Reset': rateLimitHeader('Seconds until the window ends.'),
    'RateLimit-Policy': { type: 'string', description: '`<limit>;w=<window seconds>`.' },
  },
};

async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Payrail API',
        version: apiVersion,
        description:
          'Payments, a double-entry ledger and merchant webhooks. ' +
          'Stripe-shaped where the two overlap. Amounts are integers in minor units.',
      },
      components: {
        securitySchemes: {
          secretKey: {
            type: 'http',
            scheme: 'bearer',
            description: "A merchant's secret key, sk_test_…",
          },
          adminKey: { type: 'http', scheme: 'bearer', description: 'The operator key, ak_…' },
          publishableKey: {
            type: 'http',
            scheme: 'bearer',
            description:
              "A merchant's publishable key, pk_test_…: only with a PaymentIntent's " +
              'client_secret, on the routes that list it',
          },
        },
      },
      // TypeBox schemas are JSON Schema 2020-12, OpenAPI 3.1's dialect; its typings want 3.1's own.
      webhooks: eventWebhooks() as OpenApi31Webhooks,
    },
    transform: ({ schema, url, route }) => {
      // PSP webhooks authenticate by their signature, not by a key.
      const security = route.config?.publishableKey
        ? [{ secretKey: [] }, { publishableKey: [] }]
        : url.startsWith('/v1/admin/') || url.startsWith('/v1/reconciliation/')
          ? [{ adminKey: [] }]
          : url.startsWith('/v1/psp_webhooks/')
            ? []
            : url.startsWith('/v1/')
              ? [{ secretKey: [] }]
              : [];
      const consumes = schema.body === undefined ? {} : { consumes: requestBodyContentTypes };
      // Every route a merchant key or no key reaches is rate limited (rate-limit.ts); the
      // operator's are not.
      const limited = url.startsWith('/v1/') && !security.some((scheme) => 'adminKey' in scheme);
      const response =
        limited && schema.response !== undefined
          ? { ...(schema.response as object), 429: rateLimitedResponse }
          : schema.response;
      return { schema: { ...schema, ...consumes, security, response } as typeof schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/**
 * Unknown fields are an error, never silently dropped. Query strings and path parameters are
 * text, so they are coerced to the schema's types; JSON bodies are not (a string is not a number).
 * Non-finite numbers (`1e400`, `Infinity` in a query) are never numbers here (strictNumbers).
 * Before any schema, every part is checked for what the database cannot store and for nesting
 * deeper than any route needs (unsafe-input.ts).
 */
function installValidation(app: FastifyInstance): void {
  const textAjv = createValidator(true);
  const bodyAjv = createValidator(false);
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const text = textAjv.compile(schema);
    // A form-encoded body is all text, like a query string: coerce it. A JSON body is not coerced.
    const json = httpPart === 'body' ? bodyAjv.compile(schema) : text;
    const validate = (data: unknown): boolean => {
      const unsafe = findUnsafeInput(data);
      if (unsafe !== undefined) {
        validate.errors = [unsafe];
        return false;
      }
      const chosen = typeof data === 'object' && data !== null && formEncoded in data ? text : json;
      const valid = chosen(data) as boolean;
      validate.errors = chosen.errors;
      const nonFinite = valid && chosen === text ? findNonFiniteNumber(data) : undefined;
      if (nonFinite === undefined) return valid;
      validate.errors = [nonFinite];
      return false;
    };
    validate.errors = undefined as typeof json.errors;
    return validate;
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
}

/** The pages for people (dashboard, hosted checkout) answer errors as a page, not as JSON. */
const pagePrefixes = ['/dashboard', '/pay/'];

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const response = toErrorResponse(error, request.id, request.keyKind);
  if (pagePrefixes.some((prefix) => request.url.startsWith(prefix))) {
    if (!response.expected) request.log.error({ err: error }, 'unexpected error');
    void reply
      .code(response.status)
      .headers(pageHeaders())
      .send(errorPage(response.status, response.body.error.message).value);
    return;
  }
  if (response.expected)
    request.log.info(
      { code: response.body.error.code, param: response.body.error.param },
      'request refused',
    );
  else request.log.error({ err: error }, 'unexpected error');
  if (response.retryAfterSeconds !== undefined)
    void reply.header('retry-after', String(response.retryAfterSeconds));
  // The request-id header is set here too: frameworkErrors answer before the onRequest hook.
  void reply
    .code(response.status)
    .header('request-id', request.id)
    .type('application/json')
    .send(toJson(request.livemode ? withLivemode(response.body) : response.body));
}

/** A bare error page (no stylesheet: the request may not even have reached a route). */
function errorPage(status: number, message: string): Html {
  const head = html`<head><meta charset="utf-8"><title>Error ${status}</title></head>`;
  const body = html`<body><h1>Error ${status}</h1><p role="alert">${message}</p></body>`;
  return html`<!doctype html><html lang="en">${head}${body}</html>`;
}

/**
 * A request the HTTP parser itself refused (malformed, headers too large, too slow): no route or
 * hook runs, so the answer is written on the socket here, in the same error shape as any other.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const apiError =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new ApiError('request_timeout', 'The request was not received in time.')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new ApiError('request_headers_too_large', 'The request headers are too large.')
        : new ApiError('request_malformed', 'The request is not valid HTTP.');
  const requestId = newId('req', 14);
  const response = toErrorResponse(apiError, requestId);
  const body = toJson(response.body);
  const head = [
    `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Content-Type: application/json',
    `Request-Id: ${requestId}`,
    'Connection: close',
  ].join('\r\n');
  if (socket.writable) socket.write(`${head}\r\n\r\n${body}`);
  socket.destroy(error);
}

function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    const response = toErrorResponse(
      new ApiError(
        'route_not_found',
        `Unrecognized request URL (${request.method}: ${request.url}).`,
      ),
      request.id,
    );
    void reply.code(response.status).type('application/json').send(toJson(response.body));
  });
}

export async function buildApp(context: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    genReqId: () => newId('req', 14),
    bodyLimit: context.config.bodyLimitBytes,
    return503OnClosing: true,
    // Long path parameters reach the schema, which answers with our error shape and the param name.
    // Query strings in bracket notation, as Stripe's SDKs send them (form.ts).
    routerOptions: { maxParamLength: 1000, querystringParser: parseQuery },
    // A path that does not decode (`%ED%A0%80`) is refused before routing: in our error shape too.
    frameworkErrors: sendError,
    clientErrorHandler: answerClientError,
  });
  // Every response goes through toJson, so bigint amounts stay exact; schemas serve validation
  // and docs.
  app.setSerializerCompiler(() => (data) => toJson(data));
  app.setReplySerializer((payload) => toJson(payload));
  installValidation(app);
  // First of the hooks: every later one, and the handler, runs in the request's scope.
  installRequestScope(app);
  // Only JSON (and, for Stripe's SDKs, form encoding) is accepted; text/plain is not a body
  // format here.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('request-id', request.id);
    const malformed = (request.query as Record<symbol, unknown>)[queryError];
    if (malformed instanceof FormError)
      throw malformed.param === undefined
        ? new ApiError('url_invalid', malformed.message)
        : new ApiError('parameter_invalid', malformed.message, malformed.param);
  });
  installErrorHandling(app);
  await registerDocs(app);
  registerHealthRoutes(app, context);
  registerMetricsRoute(app, context.metrics);
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL: one series per route, not per object id.
    context.metrics.recordHttpRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  // Login-free routes (PSP webhooks …) are limited per client address (rate-limit.ts).
  if (context.rateLimits !== undefined)
    app.addHook('onRequest', addressRateLimitHook(context.rateLimits));
  await registerPspWebhookRoutes(app, context);
  registerThreeDSecureRoutes(app, context);
  // The pages' static files (dashboard, hosted checkout): read once, served from memory.
  const assets = new Assets();
  registerAssetRoutes(app, assets);
  await registerDashboard(app, context, assets);
  // The hosted checkout pages (a buyer's browser, no key; limited per address like the above).
  registerPayRoutes(app, context, assets);
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminAuth(context.adminKeys));
    registerAdminRoutes(admin, context);
    registerRateLimitRoutes(admin, context);
    registerDeadLetterRoutes(admin, context);
    registerTestClockRoutes(admin, context);
    registerSettlementRoutes(admin, context);
    registerPayoutOperatorRoutes(admin, context);
    registerMoneyOutRoutes(admin, context);
    registerReconciliationRoutes(admin, context);
    registerReconciliationFileRoutes(admin, context);
    // The operator's events and webhook endpoints: the merchant routes, acting as the platform
    // account (reconciliation exceptions are its events).
    await admin.register(async (platform) => {
      platform.addHook('onRequest', async (request) => {
        request.merchantId = platformAccountId;
        request.livemode = false;
      });
      installIdempotency(platform, context.idempotency);
      registerEventRoutes(platform, context, '/v1/admin');
      registerWebhookRoutes(platform, context, '/v1/admin');
    });
  });
  await app.register(async (merchant) => {
    merchant.addHook('onRequest', merchantAuth(context.merchants));
    // After auth (the merchant is known), before any work: a refused request costs nothing more.
    if (context.rateLimits !== undefined)
      merchant.addHook('onRequest', merchantRateLimitHook(context.rateLimits));
    // Stripe's SDKs POST actions such as confirm or cancel with no body at all.
    merchant.addHook('preValidation', async (request) => {
      if (request.method === 'POST' && request.body === undefined) request.body = {};
    });
    // A live key's answers say livemode: true (the presenters write false); before the
    // idempotency hook stores the answer, so a replay says the same.
    merchant.addHook('preSerialization', async (request, _reply, payload) =>
      request.livemode ? withLivemode(payload) : payload,
    );
    installIdempotency(merchant, context.idempotency);
    registerLedgerRoutes(merchant, context);
    registerPaymentRoutes(merchant, context);
    registerCustomerRoutes(merchant, context);
    registerSetupIntentRoutes(merchant, context);
    registerPublishableKeyRoutes(merchant, context);
    registerEventRoutes(merchant, context);
    registerWebhookRoutes(merchant, context);
    registerRoutingRoutes(merchant, context);
    registerPayoutSettingsRoutes(merchant, context);
    registerBankAccountRoutes(merchant, context);
    registerPayoutRoutes(merchant, context);
    registerRadarRoutes(merchant, context);
    registerCheckoutSessionRoutes(merchant, context);
    registerPaymentLinkRoutes(merchant, context);
  });
  return app;
}
