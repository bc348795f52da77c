// What the dashboard's money pages share (balances, payouts, settlement, reconciliation): strict
// reading of their filters (a bad value is a 400 page naming the field), the merchant a
// per-merchant service reads, the reason an action asks for, status badges, and CSV exports
// streamed page by page through the services (keyset, never an offset).
import type { FastifyRequest } from 'fastify';
import { reasonLengthMax, reasonLengthMin } from '../../../dashboard/audit.ts';
import { pageSizeMax, type TimeRange } from '../../../storage/pagination.ts';
import { html, type Html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { merchantScope, principalOf } from '../access.ts';
import { DashboardError } from '../errors.ts';
import { dashboardPrefix } from '../layout.ts';

export type Query = Record<string, unknown>;

const dayMs = 86_400_000;

export function queryOf(request: FastifyRequest): Query {
  return (request.query as Query | undefined) ?? {};
}

/** One value of a query parameter ('' is none); a repeated or bracketed one is refused. */
export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 200)
    throw new DashboardError(400, `${name}: give one value (at most 200 characters).`);
  return value;
}

export function oneOf<T extends string>(
  query: Query,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new DashboardError(400, `${name}: one of ${allowed.join(', ')}.`);
  return value as T;
}

export function matching(
  query: Query,
  name: string,
  pattern: RegExp,
  what: string,
): string | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (!pattern.test(value)) throw new DashboardError(400, `${name}: ${what}.`);
  return value;
}

export const currencyPattern = /^[a-z]{3}$/;
export const connectorPattern = /^[a-z0-9_]{1,40}$/;
export const idPattern = /^[A-Za-z0-9_]{1,100}$/;

function day(query: Query, name: string): Date | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const at = new Date(`${value}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    Number.isNaN(at.getTime()) ||
    at.toISOString().slice(0, 10) !== value
  )
    throw new DashboardError(400, `${name}: a day as YYYY-MM-DD.`);
  return at;
}

/** `created_from` and `created_to` (UTC days, both included) as a time range. */
export function createdRange(query: Query): TimeRange | undefined {
  const from = day(query, 'created_from');
  const to = day(query, 'created_to');
  if (from !== undefined && to !== undefined && to < from)
    throw new DashboardError(400, 'created_to: a day before created_from.');
  if (from === undefined && to === undefined) return undefined;
  return { gte: from, lt: to === undefined ? undefined : new Date(to.getTime() + dayMs) };
}

/** The created filter's two inputs, their values as the URL gave them. */
export function createdInputs(query: Query): Html {
  return html`<label for="created_from">Created from
      <input id="created_from" name="created_from" type="date" value="${single(query, 'created_from')}"
    /></label>
    <label for="created_to">Created to
      <input id="created_to" name="created_to" type="date" value="${single(query, 'created_to')}"
    /></label>`;
}

/** `<option>`s of a select, the current value selected, with "any" first. */
export function options(allowed: readonly string[], current: string | undefined): Html {
  return html`<option value="">any</option>${allowed.map(
    (value) =>
      html`<option value="${value}" ${value === current ? html`selected` : ''}>${value.replaceAll('_', ' ')}</option>`,
  )}`;
}

export function badge(status: string): Html {
  return html`<span class="status ${status}">${status.replaceAll('_', ' ')}</span>`;
}

/** A merchant's session may not see operator pages at all: a 404 like a page that is not there. */
export function requireOperator(request: FastifyRequest): void {
  if (principalOf(request).merchantId !== null)
    throw new DashboardError(404, `No dashboard page at ${request.url}.`);
}

/**
 * The merchant a per-merchant service reads: the session's own, or the one the operator picked
 * with `?merchant=` (undefined: not picked yet). A picked merchant that does not exist is a 404.
 */
export async function pickedMerchant(
  request: FastifyRequest,
  context: RouteContext,
): Promise<string | undefined> {
  const merchantId = merchantScope(request);
  if (merchantId === undefined) return undefined;
  if (
    principalOf(request).merchantId === null &&
    (await context.merchants.get(merchantId)) === undefined
  )
    throw new DashboardError(404, `No such merchant: '${merchantId}'.`);
  return merchantId;
}

/** `path` with `?merchant=` when the operator looks at one merchant (a merchant's own: none). */
export function scoped(request: FastifyRequest, path: string, merchantId: string): string {
  if (principalOf(request).merchantId !== null) return `${dashboardPrefix}${path}`;
  const separator = path.includes('?') ? '&' : '?';
  return `${dashboardPrefix}${path}${separator}merchant=${encodeURIComponent(merchantId)}`;
}

/** The operator's form to pick a merchant, for pages whose service reads one merchant at a time. */
export async function merchantPicker(
  context: RouteContext,
  what: string,
  action: string,
): Promise<Html> {
  const first = await context.merchants.list({ limit: 20 });
  return html`<p class="notice">
      ${what} are kept per merchant: the service reads one merchant at a time. Pick a merchant.
    </p>
    <form method="get" action="${dashboardPrefix}${action}" class="filters" role="search">
      <label for="merchant">Merchant id
        <input id="merchant" name="merchant" required pattern="mch_[A-Za-z0-9]{8,64}" placeholder="mch_…"
      /></label>
      <button type="submit">Show</button>
    </form>
    ${
      first.merchants.length > 0 &&
      html`<h2>Merchants</h2>
        <ul class="cards">
          ${first.merchants.map((merchant) => html`<li><a href="${dashboardPrefix}${action}?merchant=${merchant.id}">${merchant.name}</a> <code>${merchant.id}</code></li>`)}
        </ul>`
    }`;
}

function bodyField(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** A form's text field, trimmed ('' is none), at most `max` characters. */
export function formField(body: unknown, name: string, max = 400): string | undefined {
  const value = bodyField(body, name)?.trim();
  if (value === undefined || value === '') return undefined;
  if (value.length > max) throw new DashboardError(400, `${name}: at most ${max} characters.`);
  return value;
}

/** The reason every action that moves money asks for (kept in the audit log). */
export function reasonOf(body: unknown): string {
  const reason = bodyField(body, 'reason')?.trim() ?? '';
  if (reason.length < reasonLengthMin || reason.length > reasonLengthMax)
    throw new DashboardError(
      400,
      `reason: ${reasonLengthMin} to ${reasonLengthMax} characters (it is kept in the audit log).`,
    );
  return reason;
}

/** Every row of a keyset-paged service list, page after page (at most 100 rows held). */
export async function* everyRow<Row extends { readonly id: string }>(
  read: (page: {
    limit: number;
    startingAfter?: string;
  }) => Promise<{ rows: readonly Row[]; hasMore: boolean }>,
): AsyncGenerator<Row> {
  let startingAfter: string | undefined;
  for (;;) {
    const page = await read({ limit: pageSizeMax, startingAfter });
    yield* page.rows;
    const last = page.rows.at(-1);
    if (!page.hasMore || last === undefined) return;
    startingAfter = last.id;
  }
}

export function isoOrEmpty(at: Date | null): string {
  return at === null ? '' : at.toISOString();
}

/** The current URL's path with the same query, for a CSV link of exactly the filtered list. */
export function csvUrl(url: string, path: string): string {
  const parsed = new URL(url, 'http://dashboard.invalid');
  parsed.searchParams.delete('starting_after');
  parsed.searchParams.delete('ending_before');
  return `${dashboardPrefix}${path}${parsed.search}`;
}
