// The error object every refusal answers with (Stripe's shape, plus the request id).
import { Type } from 'typebox';
import { PaymentIntentSchema } from './payment-intent.ts';
import { PaymentMethodSchema } from './payment-method.ts';

import { SetupIntentSchema } from './setup-intent.ts';

export const ErrorSchema = Type.Object({
  error: Type.Object({
    type: Type.String(),
    code: Type.String(),
    message: Type.String(),
    param: Type.Optional(Type.String()),
    decline_code: Type.Optional(Type.String()),
    /** With card errors: the PaymentIntent as the decline left it. */
    payment_intent: Type.Optional(PaymentIntentSchema),
    /** With card errors: the id of the declined charge (the intent's latest attempt). */
    charge: Type.Optional(Type.String()),
    /** With card errors: the payment method declined. */
    payment_method: Type.Optional(PaymentMethodSchema),

    /** With card errors of a SetupIntent's confirm: the SetupIntent as the decline left it. */
    setup_intent: Type.Optional(SetupIntentSchema),
    request_id: Type.String(),
  }),
});

export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  404: ErrorSchema,
};
