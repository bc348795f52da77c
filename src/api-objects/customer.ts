import { Type, type Static } from 'typebox';
import type { Customer } from '../customers/types.ts';
import { Nullable, StringMap, Timestamp, searchResultOf, testMode, unixSeconds } from './json.ts';
import { AddressSchema, presentAddress } from './payment-method.ts';

export const CustomerSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('customer'),
  address: Nullable(AddressSchema),
  balance: Type.Integer({ description: 'Always 0: Payrail keeps no customer balance.' }),
  created: Timestamp,
  currency: Type.Null(),
  default_source: Type.Null(),
  delinquent: Type.Boolean(),
  description: Nullable(Type.String()),
  email: Nullable(Type.String()),
  invoice_settings: Type.Object({
    custom_fields: Type.Null(),
    default_payment_method: Nullable(Type.String()),
    footer: Type.Null(),
    rendering_options: Type.Null(),
  }),
  livemode: Type.Boolean(),
  metadata: StringMap,
  name: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  preferred_locales: Type.Array(Type.String()),
  shipping: Type.Null(),
  tax_exempt: Type.Literal('none'),
  test_clock: Type.Null(),
});

/** Stripe's answer for a deleted (here: erased) customer. */
export const DeletedCustomerSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('customer'),
  deleted: Type.Literal(true),
});

/** What a retrieve answers: the customer, or Stripe's deleted stub once it was erased. */
export const CustomerOrDeletedSchema = Type.Union([CustomerSchema, DeletedCustomerSchema]);

export function presentCustomer(
  customer: Customer,
  livemode = testMode,
): Static<typeof CustomerSchema> {
  return {
    id: customer.id,
    object: 'customer',
    address: customer.address === null ? null : presentAddress(customer.address),
    balance: 0,
    created: unixSeconds(customer.createdAt),
    currency: null,
    default_source: null,
    delinquent: false,
    description: customer.description,
    email: customer.email,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: customer.defaultPaymentMethod,
      footer: null,
      rendering_options: null,
    },
    livemode,
    metadata: customer.metadata,
    name: customer.name,
    phone: customer.phone,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function presentDeletedCustomer(customer: Customer): Static<typeof DeletedCustomerSchema> {
  return { id: customer.id, object: 'customer', deleted: true };
}

/** A retrieve answers the customer, or Stripe's deleted stub once it was erased. */
export function presentCustomerOrDeleted(
  customer: Customer,
): Static<typeof CustomerSchema> | Static<typeof DeletedCustomerSchema> {
  return customer.deletedAt === null ? presentCustomer(customer) : presentDeletedCustomer(customer);
}

/** GET the objects' /search (Stripe's search_result). */
export const CustomerSearchResultSchema = searchResultOf(CustomerSchema);
