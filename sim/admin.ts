// Admin routes under /_sim (CONTRACT.md "Faults" and "Ground truth"): fault settings per PSP,
// the ground-truth operation log with per-payment sums, reset and health. No auth; the server
// only lets loopback clients in.
import { parseFaultSettings, type Faults } from './faults.ts';
import { json, type SimResponse } from './http.ts';
import { PSPS, type Operation, type Payment, type Psp, type SimStore } from './store.ts';

export type AdminContext = { readonly store: SimStore; readonly faults: Faults };

/** A response written in pieces: the ground truth can hold millions of operations. */
export type StreamedResponse = { readonly status: number; readonly chunks: Iterable<string> };

const CHUNK_ITEMS = 2000;

export function handleAdmin(context: AdminContext, method: string, segments: readonly string[], query: string, bodyText: string): SimResponse | StreamedResponse {
  const [resource, name, extra] = segments;
  if (extra !== undefined) return notFound();
  if (resource === 'health' && name === undefined && method === 'GET') return json(200, { status: 'ok' });
  if (resource === 'reset' && name === undefined && method === 'POST') {
    context.store.reset();
    context.faults.clearAll();
    return json(200, { status: 'ok' });
  }
  if (resource === 'faults') return faultsRoute(context.faults, method, name, bodyText);
  if (resource === 'ground-truth' && method === 'GET') {
    const filter = readFilter(query);
    if (typeof filter === 'string') return adminError(400, filter);
    if (name === undefined) return { status: 200, chunks: groundTruth(context.store, filter) };
    if (name === 'summary') return json(200, summary(context.store, filter));
  }
  return notFound();
}

function faultsRoute(faults: Faults, method: string, name: string | undefined, bodyText: string): SimResponse {
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
    const payments = filter.reference === undefined ? book.paymentList : (book.paymentsByReference.get(filter.reference) ?? []);
    for (const payment of payments) selected.push(payment);
  }
  return selected;
}

function selectOperations(store: SimStore, filter: Filter, payments: readonly Payment<unknown>[]): readonly Operation[] {
  if (filter.reference !== undefined) return payments.flatMap((payment) => payment.operations).sort((left, right) => left.seq - right.seq);
  if (filter.psp === undefined) return store.operations;
  return store.operations.filter((operation) => operation.psp === filter.psp);
}

/** Serialized synchronously (one consistent snapshot), handed out in chunks of CHUNK_ITEMS items. */
function* groundTruth(store: SimStore, filter: Filter): Generator<string> {
  const payments = selectPayments(store, filter);
  const operations = selectOperations(store, filter, payments);
  yield '{"operations":[';
  yield* joined(operations, presentOperation);
  yield '],"payments":[';
  yield* joined(payments, presentPayment);
  yield ']}';
}

function* joined<T>(items: readonly T[], present: (item: T) => unknown): Generator<string> {
  for (let start = 0; start < items.length; start += CHUNK_ITEMS) {
    const texts: string[] = [];
    for (const item of items.slice(start, start + CHUNK_ITEMS)) texts.push(JSON.stringify(present(item)));
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

type Totals = { psp: Psp; currency: string; payments: number; declined: number; authorized: number; captured: number; refunded: number; voided: number };

/** Sums per PSP and currency: a quick check after a benchmark without moving every operation. */
function summary(store: SimStore, filter: Filter): Record<string, unknown> {
  const payments = selectPayments(store, filter);
  const totals = new Map<string, Totals>();
  for (const payment of payments) {
    const key = `${payment.psp}:${payment.currency}`;
    let total = totals.get(key);
    if (total === undefined) {
      total = { psp: payment.psp, currency: payment.currency, payments: 0, declined: 0, authorized: 0, captured: 0, refunded: 0, voided: 0 };
      totals.set(key, total);
    }
    total.payments += 1;
    if (payment.status === 'declined') total.declined += 1;
    total.authorized += payment.authorized;
    total.captured += payment.captured;
    total.refunded += payment.refunded;
    if (payment.voided) total.voided += payment.authorized;
  }
  return { operations: selectOperations(store, filter, payments).length, payments: payments.length, totals: [...totals.values()] };
}

function adminError(status: number, message: string): SimResponse {
  return json(status, { error: { message } });
}

function notFound(): SimResponse {
  return adminError(404, 'no such simulator admin route');
}
