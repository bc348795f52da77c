// Request schemas shared by the customer, payment method and SetupIntent routes: Stripe's
// address, email and phone parameters, and the `created` list filter.
import { Type, type Static } from '@fastify/type-provider-typebox';
import type { CreatedRange } from '../../customers/types.ts';

const text = (maxLength: number) => Type.String({ maxLength });

/** Stripe's address parameter; '' (an emptied value, as the SDK sends it) clears it. */
export const AddressInput = Type.Object(
  {
    city: Type.Optional(text(200)),
    country: Type.Optional(text(2)),
    line1: Type.Optional(text(200)),
    line2: Type.Optional(text(200)),
    postal_code: Type.Optional(text(20)),
    state: Type.Optional(text(200)),
  },
  { additionalProperties: false },
);
export const Email = Type.String({ maxLength: 512, pattern: '^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' });
export const Phone = Type.String({ maxLength: 40, pattern: '^[0-9+() .-]*$' });

/** Stripe's `created` filter: a Unix time, or a range `created[gt|gte|lt|lte]`. */
export const CreatedFilter = Type.Union([
  Type.Integer({ minimum: 0, maximum: 253402300799 }),
  Type.Object(
    {
      gt: Type.Optional(Type.Integer({ minimum: 0, maximum: 253402300799 })),
      gte: Type.Optional(Type.Integer({ minimum: 0, maximum: 253402300799 })),
      lt: Type.Optional(Type.Integer({ minimum: 0, maximum: 253402300799 })),
      lte: Type.Optional(Type.Integer({ minimum: 0, maximum: 253402300799 })),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
]);

export function createdRange(
  created: Static<typeof CreatedFilter> | undefined,
): CreatedRange | undefined {
  if (created === undefined) return undefined;
  return typeof created === 'number' ? { gte: created, lte: created } : created;
}
