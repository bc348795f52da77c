// The Fastify application: parsing, validation, auth, error mapping, OpenAPI, and the routes.
// Route handlers stay thin: validate, call one service, present the result.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import { newId } from '../merchants/keys.ts';
import { adminAuth, merchantAuth } from './auth.ts';
import type { AppContext } from './context.ts';
import { ApiError, toErrorResponse } from './errors.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerDeadLetterRoutes } from './routes/dead-letters.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerRoutingRoutes } from './routes/routing.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerLedgerRoutes } from './routes/ledger.ts';
import { registerPaymentRoutes } from './routes/payments.ts';
import { registerPspWebhookRoutes } from './routes/psp-webhooks.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';
import { formEncoded, parseForm } from './form.ts';
import { installIdempotency } from './idempotency.ts';
import { toJson } from './serialize.ts';
import { withLivemode } from '../merchants/mode.ts';

export const apiVersion = '2026-11-01';

async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Payrail API',
        version: apiVersion,
        description:
          'Payments, a double-entry ledger and merchant webhooks. Stripe-shaped where the two overlap. Amounts are integers in minor units.',
      },
      components: {
        securitySchemes: {
          secretKey: {
            type: 'http',
            scheme: 'bearer',
            description: "A merchant's secret key, sk_test_…",
          },
          adminKey: { type: 'http', scheme: 'bearer', description: 'The operator key, ak_…' },
        },
      },
    },
    transform: ({ schema, url }) => {
      // PSP webhooks authenticate by their signature, not by a key.
      const security = url.startsWith('/v1/admin/')
        ? [{ adminKey: [] }]
        : url.startsWith('/v1/psp_webhooks/')
          ? []
          : url.startsWith('/v1/')
            ? [{ secretKey: [] }]
            : [];
      return { schema: { ...schema, security } as typeof schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/**
 * Unknown fields are an error, never silently dropped. Query strings and path parameters are
 * text, so they are coerced to the schema's types; JSON bodies are not (a string is not a number).
 */
/**
 * The JSON pointer of the first string holding U+0000, which PostgreSQL's text and jsonb cannot
 * store: refused at validation, for every route, rather than failing as a 500 at the database.
 */
function pathToNul(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = pathToNul(item, `${path}/${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

function installValidation(app: FastifyInstance): void {
  const common: AjvOptions = {
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
  };
  const textAjv = new Ajv({ ...common, coerceTypes: 'array' });
  const bodyAjv = new Ajv({ ...common, coerceTypes: false });
  for (const ajv of [textAjv, bodyAjv]) addFormats.default(ajv);
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const text = textAjv.compile(schema);
    // A form-encoded body is all text, like a query string: coerce it. A JSON body is not coerced.
    const json = httpPart === 'body' ? bodyAjv.compile(schema) : text;
    const validate = (data: unknown): boolean => {
      const nul = pathToNul(data, '');
      if (nul !== undefined) {
        validate.errors = [
          {
            keyword: 'pattern',
            instancePath: nul,
            schemaPath: '',
            params: {},
            message: 'must not contain the character U+0000',
          },
        ];
        return false;
      }
      const chosen = typeof data === 'object' && data !== null && formEncoded in data ? text : json;
      const valid = chosen(data) as boolean;
      validate.errors = chosen.errors;
      return valid;
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

function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const response = toErrorResponse(error, request.id);
    if (response.expected)
      request.log.info(
        { code: response.body.error.code, param: response.body.error.param },
        'request refused',
      );
    else request.log.error({ err: error }, 'unexpected error');
    if (response.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(response.retryAfterSeconds));
    const body = request.livemode ? withLivemode(response.body) : response.body;
    void reply.code(response.status).type('application/json').send(toJson(body));
  });
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
    routerOptions: { maxParamLength: 1000 },
  });
  // Every response goes through toJson, so bigint amounts stay exact; schemas serve validation and docs.
  app.setSerializerCompiler(() => (data) => toJson(data));
  app.setReplySerializer((payload) => toJson(payload));
  installValidation(app);
  // Only JSON (and, for Stripe's SDKs, form encoding) is accepted; text/plain is not a body format here.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('request-id', request.id);
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

  await registerPspWebhookRoutes(app, context);
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminAuth(context.adminKeys));
    registerAdminRoutes(admin, context);
    registerDeadLetterRoutes(admin, context);
  });
  await app.register(async (merchant) => {
    merchant.addHook('onRequest', merchantAuth(context.merchants));
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
    registerEventRoutes(merchant, context);
    registerWebhookRoutes(merchant, context);
    registerRoutingRoutes(merchant, context);
  });
  return app;
}
