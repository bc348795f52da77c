// Shared TypeBox schemas: used for validation and for the OpenAPI document.
import { Type } from 'typebox';

// Serialized as an exact JSON integer (see serialize.ts); bigint on the server.
export const Int64 = Type.Unsafe<bigint | number>({ type: 'integer', format: 'int64' });

export const MerchantSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('merchant'),
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  created: Type.Integer(),
  livemode: Type.Boolean(),
  metadata: Type.Record(Type.String(), Type.String()),
});

export const ErrorSchema = Type.Object({
  error: Type.Object({
    type: Type.String(),
    code: Type.String(),
    message: Type.String(),
    param: Type.Optional(Type.String()),
    decline_code: Type.Optional(Type.String()),
    /** With card errors: the PaymentIntent as the decline left it. */
    payment_intent: Type.Optional(
      Type.Object(
        { id: Type.String(), object: Type.Literal('payment_intent') },
        { additionalProperties: true },
      ),
    ),
    request_id: Type.String(),
  }),
});

export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  404: ErrorSchema,
};

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    starting_after: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

// Stripe's limits: at most 50 keys; keys of 1 to 40 characters without square brackets; values of
// at most 500 characters. A record's key schema only becomes `patternProperties`, so the key limits
// must be stated as `propertyNames` to be checked at all. U+0000 in a value is refused by the
// validator for every string (app.ts); keys it does not walk, so the key pattern excludes it.
export const Metadata = Type.Record(Type.String(), Type.String({ maxLength: 500 }), {
  maxProperties: 50,
  propertyNames: { minLength: 1, maxLength: 40, pattern: '^[^\\[\\]\\u0000]*$' },
});

export const listOf = <T extends ReturnType<typeof Type.Object>>(item: T) =>
  Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(item),
    has_more: Type.Boolean(),
    url: Type.String(),
  });
