// What the developers pages share: whose endpoints and events a page shows (the account scope),
// the checks of their query strings, forms and path ids, and small pieces of markup.
import type { FastifyRequest } from 'fastify';
import { reasonLengthMax, reasonLengthMin } from '../../../dashboard/audit.ts';
import { platformAccountId } from '../../../merchants/platform.ts';
import { formatTime } from '../../../web/format.ts';
import { html, type Html } from '../../../web/html.ts';
import type { Webhooks } from '../../../webhooks/index.ts';
import type { RouteContext } from '../../context.ts';
import { merchantScope, principalOf } from '../access.ts';
import { DashboardError } from '../errors.ts';
import { dashboardPrefix } from '../layout.ts';

export const developersPath = `${dashboardPrefix}/developers`;

/** A route of the dashboard's plugin (registered under its prefix) for a page's path. */
export function routeOf(path: string): string {
  return path.slice(dashboardPrefix.length);
}

/**
 * The account a webhooks or events page acts on. A merchant's session: its own, always. The
 * operator: the platform account (its own endpoints and events, as /v1/admin/webhook_endpoints),
 * or with `?merchant=mch_…` that merchant's, kept in every link and form of the page.
 */
export type AccountScope = {
  readonly accountId: string;
  /** The audit entry's merchant: null for the platform account (listed to the operator only). */
  readonly auditMerchantId: string | null;
  /** Whether the operator looks at a merchant's account (the `merchant` parameter is kept). */
  readonly operatorOnMerchant: boolean;
  readonly operator: boolean;
  /** `path` with the scope's `merchant` parameter and `params` (undefined or '' left out). */
  href(path: string, params?: Readonly<Record<string, string | undefined>>): string;
};

export function accountScope(request: FastifyRequest): AccountScope {
  const operator = principalOf(request).merchantId === null;
  const merchant = merchantScope(request);
  const onMerchant = operator && merchant !== undefined && merchant !== platformAccountId;
  const accountId = merchant ?? platformAccountId;
  return {
    accountId,
    auditMerchantId: accountId === platformAccountId ? null : accountId,
    operatorOnMerchant: onMerchant,
    operator,
    href(path, params = {}) {
      const search = new URLSearchParams();
      if (onMerchant) search.set('merchant', accountId);
      for (const [name, value] of Object.entries(params))
        if (value !== undefined && value !== '') search.set(name, value);
      const query = search.toString();
      return query === '' ? path : `${path}?${query}`;
    },
  };
}

/**
 * The operator acting on a merchant's account: that merchant must exist (a page of an unknown
 * merchant lists nothing; an action on it is refused as missing).
 */
export async function requireAccount(context: RouteContext, scope: AccountScope): Promise<void> {
  if (!scope.operatorOnMerchant) return;
  if ((await context.merchants.get(scope.accountId)) === undefined)
    throw new DashboardError(404, `No such merchant: '${scope.accountId}'.`);
}

export function webhooksOf(context: RouteContext): Webhooks {
  if (context.webhooks === undefined)
    throw new DashboardError(503, 'Webhooks are not enabled on this server.');
  return context.webhooks;
}

function queryOf(request: FastifyRequest): Record<string, unknown> {
  return (request.query as Record<string, unknown> | undefined) ?? {};
}

/** A query parameter that must be one of `allowed` (absent or empty: undefined). */
export function enumQuery<T extends string>(
  request: FastifyRequest,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = queryOf(request)[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new DashboardError(400, `${name}: one of ${allowed.join(', ')}.`);
  return value as T;
}

/** A query parameter matching `pattern` (absent or empty: undefined); `rule` says what fits. */
export function patternQuery(
  request: FastifyRequest,
  name: string,
  pattern: RegExp,
  rule: string,
): string | undefined {
  const value = queryOf(request)[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 200 || !pattern.test(value))
    throw new DashboardError(400, `${name}: ${rule}.`);
  return value;
}

/** A `YYYY-MM-DD` query parameter, as the start of that UTC day. */
export function dayQuery(request: FastifyRequest, name: string): Date | undefined {
  const value = patternQuery(request, name, /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, 'a date as YYYY-MM-DD');
  if (value === undefined) return undefined;
  const day = new Date(`${value}T00:00:00.000Z`);
  if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value)
    throw new DashboardError(400, `${name}: a date as YYYY-MM-DD.`);
  return day;
}

const idPattern = /^[A-Za-z0-9_]{1,100}$/;

/**
 * A path id. One that cannot be an id is missing like one that names nothing (404); `noun` says
 * what was looked for.
 */
export function pathId(request: FastifyRequest, name: string, noun: string): string {
  const value = (request.params as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== 'string' || !idPattern.test(value))
    throw new DashboardError(404, `No such ${noun}.`);
  return value;
}

function bodyField(request: FastifyRequest, name: string): unknown {
  const body = request.body;
  if (typeof body !== 'object' || body === null) return undefined;
  return (body as Record<string, unknown>)[name];
}

/** A form field as text ('' when absent); anything else is a 400 naming it. */
export function formText(request: FastifyRequest, name: string, lengthMax: number): string {
  const value = bodyField(request, name);
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > lengthMax)
    throw new DashboardError(400, `${name}: text of at most ${lengthMax} characters.`);
  return value.trim();
}

/** The checked values of a group of checkboxes named `name[]` (or one `name`). */
export function formList(request: FastifyRequest, name: string, itemsMax: number): string[] {
  const value = bodyField(request, name);
  if (value === undefined || value === '') return [];
  const items = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(items) ||
    items.length > itemsMax ||
    items.some((item) => typeof item !== 'string' || item.length > 100)
  )
    throw new DashboardError(400, `${name}: at most ${itemsMax} values.`);
  return items as string[];
}

/** The reason every configuration change is recorded with (checked here, not only in the form). */
export function reasonOf(request: FastifyRequest): string {
  const reason = formText(request, 'reason', reasonLengthMax * 4);
  if (reason.length < reasonLengthMin || reason.length > reasonLengthMax)
    throw new DashboardError(
      400,
      `reason: give a reason of ${reasonLengthMin} to ${reasonLengthMax} characters (it goes to the audit log).`,
    );
  return reason;
}

/** A status as a badge (dashboard.css colours succeeded, failed, dead, pending …). */
export function statusBadge(status: string): Html {
  return html`<span class="status ${status}">${status}</span>`;
}

export function timeOrDash(at: Date | null | undefined): string {
  return at === null || at === undefined ? '—' : formatTime(at);
}

// Node 24 has JSON.rawJSON; TypeScript's lib does not declare it yet.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** Indented JSON with bigint amounts as exact integers (escaped when placed in a page). */
export function prettyJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, inner: unknown) => (typeof inner === 'bigint' ? rawJson(inner.toString()) : inner),
    2,
  );
}

/** The operator's account picker: the platform account, or one merchant's. */
export function accountPicker(scope: AccountScope, current: string): Html {
  if (!scope.operator) return html``;
  return html`<form method="get" class="filters" aria-label="Account">
    <label for="merchant"
      >Account (empty: the platform account)
      <input
        id="merchant"
        name="merchant"
        value="${scope.operatorOnMerchant ? scope.accountId : ''}"
        placeholder="mch_…"
        pattern="mch_[A-Za-z0-9]{8,64}"
        maxlength="68"
    /></label>
    <button type="submit">Show</button>
    <span>Showing <code>${current}</code></span>
  </form>`;
}

/** A notice after an action (POST-redirect-GET: the redirect names what was done). */
export function doneNotice(
  request: FastifyRequest,
  messages: Readonly<Record<string, string>>,
): Html {
  const done = enumQuery(request, 'done', Object.keys(messages));
  return done === undefined ? html`` : html`<p class="notice" role="status">${messages[done]}</p>`;
}
