// Merchant routes for Radar (src/risk/service.ts): rules (versioned; DELETE disables), value
// lists and their items in Stripe's shape, and the risk settings. Thin: validate, call one
// service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  DeletedRadarValueListItemSchema,
  DeletedRadarValueListSchema,
  RadarRuleSchema,
  RadarRuleVersionSchema,
  RadarSettingsSchema,
  RadarValueListItemSchema,
  RadarValueListSchema,
  Enum,
  errorResponses,
  listOf,
  presentDeletedRadarValueList,
  presentDeletedRadarValueListItem,
  presentRadarRule,
  presentRadarRuleVersion,
  presentRadarSettings,
  presentRadarValueList,
  presentRadarValueListItem,
} from '../../api-objects/index.ts';
import { valueListItemTypes } from '../../risk/value-lists.ts';
import type { RouteContext } from '../context.ts';
import { idempotentRequest } from '../idempotency.ts';
import { UnixSeconds, answerList, listQuery } from '../list.ts';
import { Id, IdParams, Metadata, NoQuery } from '../schemas.ts';

const RuleText = Type.String({
  minLength: 1,
  maxLength: 1000,
  description:
    'A Radar rule: `<action> if <predicate>`, e.g. `block if :card_country: != :ip_country:`.',
});
const RuleMode = Enum(['enforced', 'shadow'] as const);
const Position = Type.Integer({ minimum: 0, maximum: 1_000_000 });
const Alias = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const ListName = Type.String({ minLength: 1, maxLength: 100 });

const CreateRule = Type.Object(
  {
    rule: RuleText,
    mode: Type.Optional(RuleMode),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    position: Type.Optional(Position),
  },
  { additionalProperties: false },
);
const UpdateRule = Type.Object(
  {
    rule: Type.Optional(RuleText),
    mode: Type.Optional(RuleMode),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    position: Type.Optional(Position),
    status: Type.Optional(Enum(['active', 'disabled'] as const)),
  },
  { additionalProperties: false },
);
const ListRulesQuery = listQuery({ status: Type.Optional(Enum(['active', 'disabled'] as const)) });
const VersionCursor = Type.Integer({ minimum: 1, maximum: 1_000_000 });
const ListVersionsQuery = listQuery({}, VersionCursor);

const CreateValueList = Type.Object(
  {
    alias: Alias,
    name: ListName,
    item_type: Type.Optional(Enum(valueListItemTypes)),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
const UpdateValueList = Type.Object(
  {
    alias: Type.Optional(Alias),
    name: Type.Optional(ListName),
    metadata: Type.Optional(Type.Union([Metadata, Type.Literal('')])),
  },
  { additionalProperties: false },
);
const ListValueListsQuery = listQuery({ alias: Type.Optional(Type.String({ maxLength: 100 })) });

const CreateValueListItem = Type.Object(
  {
    value_list: Id,
    value: Type.String({ minLength: 1, maxLength: 800 }),
    expires_at: Type.Optional(UnixSeconds),
  },
  { additionalProperties: false },
);
// Stripe requires value_list; without it Payrail lists every item of the merchant.
const ListValueListItemsQuery = listQuery({
  value_list: Type.Optional(Id),
  value: Type.Optional(Type.String({ maxLength: 800 })),
});

const UpdateSettings = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    weights: Type.Optional(
      Type.Union([
        Type.Record(Type.String(), Type.Integer({ minimum: 0, maximum: 100 }), {
          maxProperties: 64,
          propertyNames: { minLength: 1, maxLength: 64 },
        }),
        Type.Literal(''),
      ]),
    ),
    thresholds: Type.Optional(
      Type.Object(
        {
          elevated: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
          highest: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export function registerRadarRoutes(app: FastifyInstance, context: RouteContext): void {
  registerRuleRoutes(app, context);
  registerRuleChangeRoutes(app, context);
  registerValueListRoutes(app, context);
  registerValueListChangeRoutes(app, context);
  registerValueListItemRoutes(app, context);
  registerValueListItemChangeRoutes(app, context);
  registerSettingsRoutes(app, context);
}

function registerRuleRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const radar = context.radar;
  const tags = ['radar'];
  const responses = { 200: RadarRuleSchema, ...errorResponses };

  typed.post(
    '/v1/radar/rules',
    {
      schema: {
        tags,
        summary: 'Create a rule (compiled when saved; a bad rule is refused naming its position)',
        body: CreateRule,
        response: responses,
      },
    },
    async (request) =>
      presentRadarRule(
        await radar.createRule(
          request.merchantId,
          {
            text: request.body.rule,
            mode: request.body.mode,
            description: request.body.description,
            position: request.body.position,
          },
          idempotentRequest(request, context.idempotency),
        ),
      ),
  );

  typed.get(
    '/v1/radar/rules',
    {
      schema: {
        tags,
        summary: 'List rules, newest first',
        querystring: ListRulesQuery,
        response: { 200: listOf(RadarRuleSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/radar/rules',
        (page) => radar.listRules(request.merchantId, { status: request.query.status }, page),
        (rule) => presentRadarRule(rule),
      ),
  );

  typed.get(
    '/v1/radar/rules/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a rule',
        params: IdParams,
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) =>
      presentRadarRule(await radar.retrieveRule(request.merchantId, request.params.id)),
  );
}

function registerRuleChangeRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const radar = context.radar;
  const tags = ['radar'];
  const responses = { 200: RadarRuleSchema, ...errorResponses };

  typed.post(
    '/v1/radar/rules/:id',
    {
      schema: {
        tags,
        summary: 'Change a rule: a new version (the old ones are kept)',
        description: "description '' clears it; status active runs a disabled rule again.",
        params: IdParams,
        body: UpdateRule,
        response: responses,
      },
    },
    async (request) => {
      const body = request.body;
      const description = body.description === '' ? null : body.description;
      return presentRadarRule(
        await radar.updateRule(request.merchantId, request.params.id, {
          text: body.rule,
          mode: body.mode,
          description,
          position: body.position,
          status: body.status,
        }),
      );
    },
  );

  typed.delete(
    '/v1/radar/rules/:id',
    {
      schema: {
        tags,
        summary: 'Disable a rule (a new version with status disabled; it stays listed)',
        params: IdParams,
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) =>
      presentRadarRule(await radar.disableRule(request.merchantId, request.params.id)),
  );

  typed.get(
    '/v1/radar/rules/:id/versions',
    {
      schema: {
        tags,
        summary: "List a rule's versions, newest first (cursors are version numbers)",
        params: IdParams,
        querystring: ListVersionsQuery,
        response: { 200: listOf(RadarRuleVersionSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        `/v1/radar/rules/${request.params.id}/versions`,
        (page) =>
          radar.ruleVersions(request.merchantId, request.params.id, {
            limit: page.limit,
            startingAfter:
              page.startingAfter === undefined ? undefined : BigInt(page.startingAfter),
            endingBefore: page.endingBefore === undefined ? undefined : BigInt(page.endingBefore),
          }),
        (version) => presentRadarRuleVersion(version),
      ),
  );
}

function registerValueListRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const radar = context.radar;
  const tags = ['radar'];
  const responses = { 200: RadarValueListSchema, ...errorResponses };

  typed.post(
    '/v1/radar/value_lists',
    {
      schema: { tags, summary: 'Create a value list', body: CreateValueList, response: responses },
    },
    async (request) =>
      presentRadarValueList(
        await radar.createValueList(
          request.merchantId,
          {
            alias: request.body.alias,
            name: request.body.name,
            itemType: request.body.item_type,
            metadata: request.body.metadata,
          },
          idempotentRequest(request, context.idempotency),
        ),
        // The items inside the list are stamped here: the live-mode hook stamps one level only.
        request.livemode,
      ),
  );

  typed.get(
    '/v1/radar/value_lists',
    {
      schema: {
        tags,
        summary: 'List value lists, newest first',
        querystring: ListValueListsQuery,
        response: { 200: listOf(RadarValueListSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/radar/value_lists',
        (page) => radar.listValueLists(request.merchantId, { alias: request.query.alias }, page),
        (view) => presentRadarValueList(view, request.livemode),
      ),
  );
}

function registerValueListChangeRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const radar = context.radar;
  const tags = ['radar'];
  const responses = { 200: RadarValueListSchema, ...errorResponses };

  typed.get(
    '/v1/radar/value_lists/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a value list',
        params: IdParams,
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) =>
      presentRadarValueList(
        await radar.retrieveValueList(request.merchantId, request.params.id),
        request.livemode,
      ),
  );

  typed.post(
    '/v1/radar/value_lists/:id',
    {
      schema: {
        tags,
        summary: 'Update a value list (an alias that active rules use cannot change)',
        params: IdParams,
        body: UpdateValueList,
        response: responses,
      },
    },
    async (request) =>
      presentRadarValueList(
        await radar.updateValueList(request.merchantId, request.params.id, {
          alias: request.body.alias,
          name: request.body.name,
          metadata: request.body.metadata,
        }),
        request.livemode,
      ),
  );

  typed.delete(
    '/v1/radar/value_lists/:id',
    {
      schema: {
        tags,
        summary: 'Delete a value list and its items (refused while an active rule uses it)',
        params: IdParams,
        querystring: NoQuery,
        response: { 200: DeletedRadarValueListSchema, ...errorResponses },
      },
    },
    async (request) =>
      presentDeletedRadarValueList(
        await radar.deleteValueList(request.merchantId, request.params.id),
      ),
  );
}

function registerValueListItemRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const radar = context.radar;
  const tags = ['radar'];
  const responses = { 200: RadarValueListItemSchema, ...errorResponses };

  typed.post(
    '/v1/radar/value_list_items',
    {
      schema: {
        tags,
        summary: 'Add a value to a value list (normalized by the list item type)',
        description: 'expires_at (Payrail): from that time on the item never matches.',
        body: CreateValueListItem,
        response: responses,
      },
    },
    async (request) =>
      presentRadarValueListItem(
        await radar.createValueListItem(
          request.merchantId,
          {
            valueList: request.body.value_list,
            value: request.body.value,
            expiresAt:
              request.body.expires_at === undefined
                ? undefined
                : new Date(request.body.expires_at * 1000),
          },
          idempotentRequest(request, context.idempotency),
        ),
      ),
  );

  typed.get(
    '/v1/radar/value_list_items',
    {
      schema: {
        tags,
        summary: "List a value list's items, newest first",
        querystring: ListValueListItemsQuery,
        response: { 200: listOf(RadarValueListItemSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/radar/value_list_items',
        (page) =>
          radar.listValueListItems(
            request.merchantId,
            { valueList: request.query.value_list, value: request.query.value },
            page,
          ),
        (item) => presentRadarValueListItem(item),
      ),
  );
}

function registerValueListItemChangeRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const radar = context.radar;
  const tags = ['radar'];
  const responses = { 200: RadarValueListItemSchema, ...errorResponses };

  typed.get(
    '/v1/radar/value_list_items/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a value list item',
        params: IdParams,
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) =>
      presentRadarValueListItem(
        await radar.retrieveValueListItem(request.merchantId, request.params.id),
      ),
  );

  typed.delete(
    '/v1/radar/value_list_items/:id',
    {
      schema: {
        tags,
        summary: 'Remove a value from its list',
        params: IdParams,
        querystring: NoQuery,
        response: { 200: DeletedRadarValueListItemSchema, ...errorResponses },
      },
    },
    async (request) =>
      presentDeletedRadarValueListItem(
        await radar.deleteValueListItem(request.merchantId, request.params.id),
      ),
  );
}

function registerSettingsRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const radar = context.radar;
  const tags = ['radar'];
  const responses = { 200: RadarSettingsSchema, ...errorResponses };

  typed.get(
    '/v1/radar/settings',
    {
      schema: {
        tags,
        summary: 'Risk settings: on or off, score weights and level thresholds',
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) =>
      presentRadarSettings(await radar.settings(request.merchantId), radar.defaultWeights),
  );

  typed.post(
    '/v1/radar/settings',
    {
      schema: {
        tags,
        summary: 'Change the risk settings',
        description:
          "weights are merged over the current ones ('' restores the defaults); thresholds " +
          'are integer scores, elevated not above highest.',
        body: UpdateSettings,
        response: responses,
      },
    },
    async (request) => {
      const weights = request.body.weights === '' ? null : request.body.weights;
      return presentRadarSettings(
        await radar.updateSettings(request.merchantId, {
          enabled: request.body.enabled,
          weights,
          thresholds: request.body.thresholds,
        }),
        radar.defaultWeights,
      );
    },
  );
}
