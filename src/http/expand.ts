// Stripe's `expand`: a field that holds an object's id may be replaced, on request, by the object
// itself (`expand[]=payment_method`; `data.payment_method` in a list; nested as
// `latest_charge.payment_method`, at most four levels deep, as Stripe allows). One registry says,
// per object type, which fields expand to which type and how the object is read; a route checks
// the requested paths before its service runs (a bad path is a 400 naming `expand` and nothing is
// written), then expands what it presented.
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  presentCharge,
  presentCustomerOrDeleted,
  presentIntent,
  presentPaymentMethod,
} from '../api-objects/index.ts';
import { CustomerError } from '../customers/errors.ts';
import { PaymentError } from '../payments/errors.ts';
import type { RouteContext } from './context.ts';
import { ApiError } from './errors.ts';

/** Stripe's limit: `a.b.c.d` at most, `data.` of a list included. */
export const expandDepthMax = 4;
/** Paths per request; Stripe documents none, every input here has a bound. */
export const expandPathsMax = 20;
const pathLengthMax = 200;

/**
 * The `expand` parameter: in the query of a GET (`expand[]=a&expand[]=b`, or `expand=a`, coerced
 * to one path) and in the body of a POST, where Stripe's SDKs send it.
 */
export const Expand = Type.Optional(
  Type.Array(Type.String({ minLength: 1, maxLength: pathLengthMax }), {
    maxItems: expandPathsMax,
    description:
      'Fields to expand into objects (e.g. payment_method; data.payment_method in a list), ' +
      `at most ${expandDepthMax} levels deep.`,
  }),
);

/** Whose objects a resolver may read, and the mode they are shown in. */
export type ExpandScope = {
  readonly context: RouteContext;
  readonly merchantId: string;
  readonly livemode: boolean;
};

/** The asking merchant's scope of a request. */
export function expandScope(request: FastifyRequest, context: RouteContext): ExpandScope {
  return { context, merchantId: request.merchantId, livemode: request.livemode };
}

/** How one expandable field becomes an object: the object's type, and how it is read by id. */
export type Expandable = {
  readonly type: string;
  /** The merchant's object with this id, presented; undefined leaves the id as it is. */
  resolve(scope: ExpandScope, id: string): Promise<object | undefined>;
};

const paymentMethod: Expandable = {
  type: 'payment_method',
  resolve: async ({ context, merchantId, livemode }, id) => {
    const method = await context.vault.get(merchantId, id);
    return method === undefined ? undefined : presentPaymentMethod(method, livemode);
  },
};

/** A read that answers 404 for an id the merchant cannot see leaves the id unexpanded. */
async function orMissing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    const missing =
      (error instanceof PaymentError || error instanceof CustomerError) &&
      error.code === 'resource_missing';
    if (missing) return undefined;
    throw error;
  }
}

const paymentIntent: Expandable = {
  type: 'payment_intent',
  resolve: async ({ context, merchantId, livemode }, id) => {
    const found = await orMissing(() => context.payments.retrieve(merchantId, id));
    return found === undefined ? undefined : presentIntent(found, livemode);
  },
};

const charge: Expandable = {
  type: 'charge',
  resolve: async ({ context, merchantId, livemode }, id) => {
    const found = await orMissing(() => context.payments.retrieveCharge(merchantId, id));
    return found === undefined ? undefined : presentCharge(found, livemode);
  },
};

/** An erased customer expands to Stripe's deleted stub, as its retrieve answers. */
const customer: Expandable = {
  type: 'customer',
  resolve: async ({ context, merchantId }, id) => {
    const found = await orMissing(() => context.customers.retrieve(merchantId, id));
    return found === undefined ? undefined : presentCustomerOrDeleted(found);
  },
};

/**
 * The registry: object type → expandable field → how it expands. Adding an expandable field is
 * one line here (its resolver reads through a service, never the database).
 */
export const expandables: Readonly<Record<string, Readonly<Record<string, Expandable>>>> = {
  payment_intent: { payment_method: paymentMethod, latest_charge: charge, customer },
  payment_method: { customer },
  charge: { payment_intent: paymentIntent, payment_method: paymentMethod, customer },
  customer: {},
  // The refund routes expand with expansionPlan('refund', …) once they take `expand`.
  refund: { payment_intent: paymentIntent, charge },
};

/** What to expand on one object: field → what to expand on the object it becomes. */
export type ExpansionPlan = ReadonlyMap<string, ExpansionPlan>;

type Shape = 'object' | 'list';

function cannotExpand(path: string, why = ''): ApiError {
  return new ApiError(
    'parameter_invalid',
    `This property cannot be expanded (${path.slice(0, pathLengthMax)})${why}.`,
    'expand',
  );
}

/**
 * The requested paths checked against the registry, from an object of `type` (or a list of them,
 * whose paths start with `data.`): unknown fields, too deep paths, and more paths than allowed
 * are a 400 naming `expand`. Call it before the service, so a refused request writes nothing.
 */
export function expansionPlan(
  type: string,
  paths: readonly string[] | undefined,
  shape: Shape = 'object',
  registry: typeof expandables = expandables,
): ExpansionPlan {
  const root = new Map<string, ExpansionPlan>();
  if (paths === undefined) return root;
  if (paths.length > expandPathsMax)
    throw new ApiError(
      'parameter_invalid',
      `At most ${expandPathsMax} fields can be expanded at once.`,
      'expand',
    );
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.length > expandDepthMax)
      throw cannotExpand(path, `: expansions are at most ${expandDepthMax} levels deep`);
    if (shape === 'list' && segments.shift() !== 'data')
      throw cannotExpand(path, ': in a list, expand data.<field>');
    let node = root;
    let nodeType = type;
    for (const segment of segments) {
      const expandable = Object.hasOwn(registry[nodeType] ?? {}, segment)
        ? registry[nodeType]?.[segment]
        : undefined;
      if (expandable === undefined) throw cannotExpand(path);
      const next = node.get(segment) ?? new Map<string, ExpansionPlan>();
      node.set(segment, next);
      node = next as Map<string, ExpansionPlan>;
      nodeType = expandable.type;
    }
  }
  return root;
}

/**
 * A POST route's preValidation hook: the body's `expand` checked before the idempotency hook runs,
 * so that a bad path, like any invalid parameter, is not kept under the Idempotency-Key (Stripe
 * saves no result for a request that fails validation). A value of another type is left to the
 * schema.
 */
export function checkBodyExpand(type: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || !('expand' in body)) return;
    const paths = (body as { expand: unknown }).expand;
    const list = typeof paths === 'string' ? [paths] : paths;
    if (Array.isArray(list) && list.every((path) => typeof path === 'string'))
      expansionPlan(type, list as string[]);
  };
}

/**
 * Expands, in place, what `plan` asks for on `object` (of `type`), level by level (no recursion;
 * the plan is at most expandDepthMax deep). A null field stays null.
 */
export async function expand<T>(
  object: T,
  type: string,
  plan: ExpansionPlan,
  scope: ExpandScope,
  registry: typeof expandables = expandables,
): Promise<T> {
  let level: { value: Record<string, unknown>; type: string; plan: ExpansionPlan }[] = [
    { value: object as Record<string, unknown>, type, plan },
  ];
  while (level.length > 0) {
    const next: typeof level = [];
    for (const item of level) {
      for (const [field, below] of item.plan) {
        const expandable = registry[item.type]?.[field];
        const id = item.value[field];
        if (expandable === undefined || typeof id !== 'string') continue;
        const resolved = await expandable.resolve(scope, id);
        if (resolved === undefined) continue;
        item.value[field] = resolved;
        next.push({
          value: resolved as Record<string, unknown>,
          type: expandable.type,
          plan: below,
        });
      }
    }
    level = next;
  }
  return object;
}

/** Expands every item of a list (or search result) page by the plan of its `data.` paths. */
export async function expandEach<T extends { data: unknown[] }>(
  page: T,
  type: string,
  plan: ExpansionPlan,
  scope: ExpandScope,
): Promise<T> {
  if (plan.size === 0) return page;
  for (const item of page.data) await expand(item, type, plan, scope);
  return page;
}
