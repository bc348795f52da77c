// Stripe's Payment Link (one-time card payments), from src/checkout.
import { Type, type Static } from 'typebox';
import type { PaymentLink } from '../checkout/types.ts';
import { Enum, Nullable, StringMap, testMode } from './json.ts';

export const PaymentLinkSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_link'),
  active: Type.Boolean(),
  after_completion: Type.Object({
    hosted_confirmation: Type.Optional(Type.Object({ custom_message: Nullable(Type.String()) })),
    redirect: Type.Optional(Type.Object({ url: Type.String() })),
    type: Enum(['hosted_confirmation', 'redirect'] as const),
  }),
  allow_promotion_codes: Type.Boolean(),
  application: Type.Null(),
  application_fee_amount: Type.Null(),
  application_fee_percent: Type.Null(),
  automatic_tax: Type.Object({ enabled: Type.Boolean(), liability: Type.Null() }),
  billing_address_collection: Enum(['auto'] as const),
  consent_collection: Type.Null(),
  currency: Type.String(),
  custom_fields: Type.Array(Type.Never()),
  custom_text: Type.Object({
    after_submit: Type.Null(),
    shipping_address: Type.Null(),
    submit: Type.Null(),
    terms_of_service_acceptance: Type.Null(),
  }),
  customer_creation: Enum(['if_required'] as const),
  inactive_message: Nullable(Type.String()),
  invoice_creation: Type.Null(),
  livemode: Type.Boolean(),
  metadata: StringMap,
  on_behalf_of: Type.Null(),
  payment_intent_data: Nullable(
    Type.Object({
      capture_method: Nullable(Enum(['automatic', 'manual'] as const)),
      description: Nullable(Type.String()),
      metadata: StringMap,
      setup_future_usage: Type.Null(),
      statement_descriptor: Type.Null(),
      statement_descriptor_suffix: Type.Null(),
      transfer_group: Type.Null(),
    }),
  ),
  payment_method_collection: Enum(['always'] as const),
  payment_method_options: Type.Null(),
  payment_method_types: Type.Array(Type.Literal('card')),
  phone_number_collection: Type.Object({ enabled: Type.Boolean() }),
  restrictions: Type.Null(),
  shipping_address_collection: Type.Null(),
  shipping_options: Type.Array(Type.Never()),
  submit_type: Enum(['pay'] as const),
  subscription_data: Type.Null(),
  tax_id_collection: Type.Object({ enabled: Type.Boolean(), required: Enum(['never'] as const) }),
  transfer_data: Type.Null(),
  url: Type.String({ description: "The link's page, <origin>/pay/link/<id>." }),
});

export function presentPaymentLink(
  link: PaymentLink,
  livemode = testMode,
): Static<typeof PaymentLinkSchema> {
  const after = link.afterCompletion;
  const data = link.paymentIntentData;
  const hasData =
    data.captureMethod !== undefined ||
    data.description !== undefined ||
    data.metadata !== undefined;
  return {
    id: link.id,
    object: 'payment_link',
    active: link.active,
    after_completion:
      after.type === 'redirect'
        ? { redirect: { url: after.url }, type: 'redirect' }
        : {
            hosted_confirmation: { custom_message: after.customMessage },
            type: 'hosted_confirmation',
          },
    allow_promotion_codes: false,
    application: null,
    application_fee_amount: null,
    application_fee_percent: null,
    automatic_tax: { enabled: false, liability: null },
    billing_address_collection: 'auto',
    consent_collection: null,
    currency: link.currency,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer_creation: 'if_required',
    inactive_message: link.inactiveMessage,
    invoice_creation: null,
    livemode,
    metadata: link.metadata,
    on_behalf_of: null,
    payment_intent_data: hasData
      ? {
          capture_method: data.captureMethod ?? null,
          description: data.description ?? null,
          metadata: data.metadata ?? {},
          setup_future_usage: null,
          statement_descriptor: null,
          statement_descriptor_suffix: null,
          transfer_group: null,
        }
      : null,
    payment_method_collection: 'always',
    payment_method_options: null,
    payment_method_types: ['card'],
    phone_number_collection: { enabled: false },
    restrictions: null,
    shipping_address_collection: null,
    shipping_options: [],
    submit_type: 'pay',
    subscription_data: null,
    tax_id_collection: { enabled: false, required: 'never' },
    transfer_data: null,
    url: link.url,
  };
}
