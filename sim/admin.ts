// Admin routes under /_sim (CONTRACT.md "Faults", "Ground truth" and "Webhooks"): fault and
// webhook settings per PSP, the ground-truth operation log with per-payment sums and webhook
// deliveries, resending a payment's webhooks, reset and health. No auth; the server only lets
// loopback clients in.
import { parseFaultSettings, type Faults } from './faults.ts';
import { isPlainObject, json, type SimResponse } from './http.ts';
import type { MoneyOut } from './money-out/index.ts';
import { PSPS } from './psps/registry.ts';
import type { Operation, Payment, Psp, SimStore } from './store.ts';
import { parseWebhookSettings, type ResendTarget, type Webhooks } from './webhooks.ts';

export type AdminContext = {
  readonly store: SimStore;
  readonly faults: Faults;
  readonly webhooks: Webhooks;
  readonly moneyOut: MoneyOut;
};

/** A response written in pieces: the ground truth can hold millions of operations. */
export type StreamedResponse = { readonly status: number; readonly chunks: Iterable<string> };

const CHUNK_ITEMS = 2000;

export function handleAdmin(
  context: AdminContext,
  method: string,
  segments: readonly string[],
  query: string,
  bodyText: string,
): SimResponse | StreamedResponse {
  const [resource, name, extra, more] = segments;
  if (resource === 'webhooks' && more === undefined)
    return webhooksRoute(context.webhooks, method, name, extra, query, bodyText);
  if (more === undefined) {
    const moneyOut = context.moneyOut.admin(method, segments, bodyText);
    if (moneyOut !== undefined) return moneyOut;
  }
  if (extra !== undefined) return notFound();
  if (resource === 'health' && name === undefined && method === 'GET')
    return json(200, { status: 'ok' });
  if (resource === 'reset' && name === undefined && method === 'POST') {
    context.store.reset();
    context.faults.clearAll();
    context.webhooks.reset();
    context.moneyOut.reset();
    return json(200, { status: 'ok' });
  }
  if (resource === 'faults') return faultsRoute(context.faults, method, name, bodyText);
  // ground_truth (SPEC-11's spelling) is ground-truth plus the acquirer and the bank; the
  // hyphenated one keeps its shape (tests compare it whole).
  if ((resource === 'ground-truth' || resource === 'ground_truth') && method === 'GET') {
    const filter = readFilter(query);
    if (typeof filter === 'string') return adminError(400, filter);
    if (name === undefined) {
      const withItems = new URLSearchParams(query).get('items') !== 'false';
      const moneyOut = resource === 'ground_truth' ? context.moneyOut : undefined;
      return {
        status: 200,
        chunks: groundTruth(context.store, context.webhooks, moneyOut, filter, withItems),
      };
    }
    if (name === 'summary')
      return json(200, { ...summary(context.store, filter), ...context.moneyOut.summary() });
    if (name === 'reconciliation' && resource === 'ground_truth') {
      const kind = new URLSearchParams(query).get('kind') ?? undefined;
      return json(200, {
        injected: context.moneyOut.seeding.injected({ connector: filter.psp, kind }),
      });
    }
    if (name === 'money_out') {
      const withItems = new URLSearchParams(query).get('items') !== 'false';
      return {
        status: 200,
        chunks: context.moneyOut.groundTruthChunks(filter.psp, withItems, true),
      };
    }
  }
  return notFound();
}

function faultsRoute(
  faults: Faults,
  method: string,
  name: string | undefined,
  bodyText: string,
): SimResponse {
  if (name === undefined) {
    if (method === 'GET') return json(200, faults.view());
    if (method === 'DELETE') {
      faults.clearAll();
      return json(200, faults.view());
    }
    return notFound();
  }
  const psp = PSPS.find((candidate) => candidate === name);
  if (psp === undefined) return adminError(404, `unknown psp "${name}"; one of ${PSPS.join(', ')}`);
  const injector = faults.for(psp);
  if (method === 'GET') return json(200, { [psp]: injector.settings ?? null });
  if (method === 'DELETE') {
    injector.clear();
    return json(200, { [psp]: null });
  }
  if (method !== 'PUT') return notFound();
  let body: unknown;
  try {
    body = bodyText === '' ? {} : (JSON.parse(bodyText) as unknown);
  } catch {
    return adminError(400, 'body must be JSON');
  }
  const parsed = parseFaultSettings(body);
  if (!parsed.ok) return adminError(400, parsed.message);
  injector.configure(parsed.settings);
  return json(200, { [psp]: parsed.settings });
}

type Filter = { readonly psp: Psp | undefined; readonly reference: string | undefined };

function webhooksRoute(
  webhooks: Webhooks,
  method: string,
  name: string | undefined,
  action: string | undefined,
  query: string,
  bodyText: string,
): SimResponse {
  if (name === undefined) {
    if (method === 'GET') return json(200, webhooks.view());
    if (method === 'DELETE') {
      webhooks.clearAll();
      return json(200, webhooks.view());
    }
    return notFound();
  }
  if (name === 'deliveries' && action === undefined) {
    if (method !== 'GET') return notFound();
    const filter = readFilter(query);
    if (typeof filter === 'string') return adminError(400, filter);
    const paymentId = new URLSearchParams(query).get('paymentId') ?? undefined;
    return json(200, {
      deliveries: webhooks.deliveries({ ...filter, paymentId }),
      dropped: webhooks.dropped,
    });
  }
  if (name === 'activity' && action === undefined)
    return method === 'GET' ? json(200, webhooks.activity()) : notFound();
  const psp = PSPS.find((candidate) => candidate === name);
  if (psp === undefined) return adminError(404, `unknown psp "${name}"; one of ${PSPS.join(', ')}`);
  if (action === 'resend') return method === 'POST' ? resend(webhooks, psp, bodyText) : notFound();
  if (action !== undefined) return notFound();
  if (method === 'GET') return json(200, { [psp]: webhooks.settings(psp) ?? null });
  if (method === 'DELETE') {
    webhooks.clear(psp);
    return json(200, { [psp]: null });
  }
  if (method !== 'PUT') return notFound();
  const body = parseJson(bodyText);
  if (body === undefined) return adminError(400, 'body must be JSON');
  const parsed = parseWebhookSettings(body);
  if (!parsed.ok) return adminError(400, parsed.message);
  webhooks.configure(psp, parsed.settings);
  return json(200, { [psp]: parsed.settings });
}

function resend(webhooks: Webhooks, psp: Psp, bodyText: string): SimResponse {
  const body = parseJson(bodyText);
  const paymentId = isPlainObject(body) ? body.paymentId : undefined;
  const reference = isPlainObject(body) ? body.reference : undefined;
  let target: ResendTarget;
  if (typeof paymentId === 'string' && reference === undefined) target = { paymentId };
  else if (typeof reference === 'string' && paymentId === undefined) target = { reference };
  else return adminError(400, 'body must be {"paymentId": "…"} or {"reference": "…"}');
  if (webhooks.settings(psp) === undefined)
    return adminError(409, `no webhook is set for ${psp}; PUT /_sim/webhooks/${psp} first`);
  const events = webhooks.resend(psp, target);
  if (events === undefined) return adminError(404, `no ${psp} payment matches`);
  if (events === 'full')
    return adminError(503, 'the webhook delivery log is full; POST /_sim/reset frees it');
  return json(200, {
    psp,
    resent: events.map((event) => ({
      eventId: event.eventId,
      type: event.type,
      paymentId: event.paymentId,
    })),
  });
}

function parseJson(text: string): unknown {
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function readFilter(query: string): Filter | string {
  const params = new URLSearchParams(query);
  const pspName = params.get('psp');
  const psp = pspName === null ? undefined : PSPS.find((candidate) => candidate === pspName);
  if (pspName !== null && psp === undefined) return `unknown psp "${pspName}"`;
  return { psp, reference: params.get('reference') ?? undefined };
}

function selectPayments(store: SimStore, filter: Filter): Payment<unknown>[] {
  const selected: Payment<unknown>[] = [];
  for (const book of store.books()) {
    if (filter.psp !== undefined && book.psp !== filter.psp) continue;
    const payments =
      filter.reference === undefined
        ? book.paymentList
        : (book.paymentsByReference.get(filter.reference) ?? []);
    for (const payment of payments) selected.push(payment);
  }
  return selected;
}

function selectOperations(
  store: SimStore,
  filter: Filter,
  payments: readonly Payment<unknown>[],
): readonly Operation[] {
  if (filter.reference !== undefined)
    return payments
      .flatMap((payment) => payment.operations)
      .sort((left, right) => left.seq - right.seq);
  if (filter.psp === undefined) return store.operations;
  return store.operations.filter((operation) => operation.psp === filter.psp);
}

/** Serialized synchronously (one consistent snapshot), handed out in chunks of CHUNK_ITEMS items. */
function* groundTruth(
  store: SimStore,
  webhooks: Webhooks,
  moneyOut: MoneyOut | undefined,
  filter: Filter,
  withItems: boolean,
): Generator<string> {
  const payments = selectPayments(store, filter);
  const operations = selectOperations(store, filter, payments);
  const deliveries = webhooks.deliveries(filter);
  yield '{"operations":[';
  yield* joined(operations, presentOperation);
  yield '],"payments":[';
  yield* joined(payments, presentPayment);
  yield '],"webhooks":[';
  yield* joined(deliveries, (delivery) => delivery);
  yield ']';
  if (moneyOut !== undefined) yield* moneyOut.groundTruthChunks(filter.psp, withItems);
  yield '}';
}

function* joined<T>(items: readonly T[], present: (item: T) => unknown): Generator<string> {
  for (let start = 0; start < items.length; start += CHUNK_ITEMS) {
    const texts: string[] = [];
    for (const item of items.slice(start, start + CHUNK_ITEMS))
      texts.push(JSON.stringify(present(item)));
    yield (start === 0 ? '' : ',') + texts.join(',');
  }
}

function presentOperation(operation: Operation): Record<string, unknown> {
  const { atMs, ...rest } = operation;
  return { ...rest, at: new Date(atMs).toISOString() };
}

function presentPayment(payment: Payment<unknown>): Record<string, unknown> {
  return {
    psp: payment.psp,
    paymentId: payment.id,
    reference: payment.reference,
    currency: payment.currency,
    amount: payment.amount,
    authorized: payment.authorized,
    captured: payment.captured,
    refunded: payment.refunded,
    voided: payment.voided,
    status: payment.status,
  };
}

type Totals = {
  psp: Psp;
  currency: string;
  payments: number;
  declined: number;
  authorized: number;
  captured: number;
  refunded: number;
  voided: number;
};

/** Sums per PSP and currency: a quick check after a benchmark without moving every operation. */
function summary(store: SimStore, filter: Filter): Record<string, unknown> {
  const payments = selectPayments(store, filter);
  const totals = new Map<string, Totals>();
  for (const payment of payments) {
    const key = `${payment.psp}:${payment.currency}`;
    let total = totals.get(key);
    if (total === undefined) {
      total = {
        psp: payment.psp,
        currency: payment.currency,
        payments: 0,
        declined: 0,
        authorized: 0,
        captured: 0,
        refunded: 0,
        voided: 0,
      };
      totals.set(key, total);
    }
    total.payments += 1;
    if (payment.status === 'declined') total.declined += 1;
    total.authorized += payment.authorized;
    total.captured += payment.captured;
    total.refunded += payment.refunded;
    if (payment.voided) total.voided += payment.authorized;
  }
  return {
    operations: selectOperations(store, filter, payments).length,
    payments: payments.length,
    totals: [...totals.values()],
  };
}

function adminError(status: number, message: string): SimResponse {
  return json(status, { error: { message } });
}

function notFound(): SimResponse {
  return adminError(404, 'no such simulator admin route');
}
