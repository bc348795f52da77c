// Request schemas shared by the routes (the API objects' own schemas are in src/api-objects).
import { Type } from 'typebox';

export const Id = Type.String({ minLength: 1, maxLength: 100 });
export const IdParams = Type.Object({ id: Id });

/** The body of an action that takes no parameter: an unknown one is refused, not ignored. */
export const Empty = Type.Object({}, { additionalProperties: false });
/** The query of a route that takes none: an unknown parameter is refused, not ignored. */
export const NoQuery = Empty;

// Stripe's limits: at most 50 keys; keys of 1 to 40 characters without square brackets; values of
// at most 500 characters. A record's key schema only becomes `patternProperties`, so the key limits
// must be stated as `propertyNames` to be checked at all. U+0000 in a value is refused by the
// validator for every string (app.ts); keys it does not walk, so the key pattern excludes it.
export const Metadata = Type.Record(Type.String(), Type.String({ maxLength: 500 }), {
  maxProperties: 50,
  propertyNames: { minLength: 1, maxLength: 40, pattern: '^[^\\[\\]\\u0000]*$' },
});
