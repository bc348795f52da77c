// Merchant routes for the routing configuration: read it, replace it. The schema checks the
// outline (types, unknown fields, sizes) and names the param; parseRoutingConfig then checks what
// a schema cannot (known currencies and connectors, amount ranges, duplicates, dead rules) and
// names the param the same way.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  RoutingConfigSchema,
  RoutingRulesSchema,
  errorResponses,
  presentRoutingConfig,
} from '../../api-objects/index.ts';
import { listConnectorNames } from '../../connectors/registry.ts';
import { parseRoutingConfig, type RoutingConfig } from '../../routing/config.ts';
import type { RoutingStore } from '../../routing/store.ts';

/** What these routes need; AppContext fits once it carries the store. */
export type RoutingRoutesContext = { readonly routing: RoutingStore };

// The body is the rules as the API object shows them: what is accepted is what is shown.
const RoutingBody = Type.Object({ rules: RoutingRulesSchema }, { additionalProperties: false });

const responses = { 200: RoutingConfigSchema, ...errorResponses };

function parseBody(body: unknown): RoutingConfig {
  return parseRoutingConfig(body, { knownConnectors: listConnectorNames() });
}

export function registerRoutingRoutes(app: FastifyInstance, context: RoutingRoutesContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/v1/routing',
    { schema: { tags: ['routing'], summary: "The merchant's routing rules", response: responses } },
    async (request) => presentRoutingConfig(await context.routing.get(request.merchantId)),
  );

  typed.post(
    '/v1/routing',
    {
      schema: {
        tags: ['routing'],
        summary: "Replace the merchant's routing rules (an empty list restores the priority order)",
        body: RoutingBody,
        response: responses,
      },
    },
    async (request) =>
      presentRoutingConfig(await context.routing.put(request.merchantId, parseBody(request.body))),
  );
}
