// Request schemas shared by the customer, payment method and SetupIntent routes: Stripe's
// address, email and phone parameters.
import { Type } from '@fastify/type-provider-typebox';

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
