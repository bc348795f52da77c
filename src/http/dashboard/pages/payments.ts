// Payments: the filterable list (keyset paged, CSV export of exactly the filtered list) and one
// payment's timeline — the API requests, routing, risk, every attempt and PSP call with its
// latency, 3-D Secure, refunds, ledger postings, events and webhook deliveries — with the refund
// action (a reason asked, run exactly once, recorded in the audit log).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  intentStatuses,
  parseSearch,
  type DashboardScope,
  type PaymentFilter,
  type PaymentRow,
  type TimelineEntry,
} from '../../../dashboard/queries/payments.ts';
import { isCurrency, parseDecimal } from '../../../money/index.ts';
import type { IntentStatus } from '../../../payments/types.ts';
import { formatMoney, formatTime } from '../../../web/format.ts';
import { html, type Html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { merchantScope, principalOf, requirePermission } from '../access.ts';
import { DashboardError } from '../errors.ts';
import { onceField, runOnce } from '../once.ts';
import { sendCsv } from '../csv.ts';
import {
  csrfField,
  dashboardPrefix,
  reasonField,
  registerSection,
  sendPage,
  type DashboardView,
} from '../layout.ts';
import { dashboardPageSize, pageRequest, pager } from '../paging.ts';

type Query = Record<string, unknown>;

function text(query: Query, name: string, max = 320): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > max)
    throw new DashboardError(400, `${name}: a single value of at most ${max} characters.`);
  return value.trim();
}

function day(query: Query, name: string): Date | undefined {
  const value = text(query, name, 10);
  if (value === undefined) return undefined;
  const at = new Date(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(at.getTime()))
    throw new DashboardError(400, `${name}: a date as YYYY-MM-DD.`);
  return at;
}

function amount(query: Query, name: string, currency: string | undefined): bigint | undefined {
  const value = text(query, name, 30);
  if (value === undefined) return undefined;
  if (currency === undefined)
    throw new DashboardError(400, `${name}: choose a currency to filter by amount.`);
  try {
    return parseDecimal(value, currency);
  } catch (error) {
    throw new DashboardError(400, `${name}: ${(error as Error).message}.`);
  }
}

/** The list's filters from the URL, each checked: a bad one is a 400 naming it. */
export function paymentFilter(query: Query): PaymentFilter {
  const status = text(query, 'status', 200);
  const statuses = status?.split(',').map((item) => item.trim()) ?? [];
  for (const item of statuses)
    if (!(intentStatuses as readonly string[]).includes(item))
      throw new DashboardError(400, `status: '${item}' is not a payment status.`);
  const connector = text(query, 'connector', 40);
  if (connector !== undefined && !/^[a-z0-9_]{1,40}$/.test(connector))
    throw new DashboardError(400, 'connector: lowercase letters, digits and "_".');
  const currency = text(query, 'currency', 3)?.toLowerCase();
  if (currency !== undefined && !isCurrency(currency))
    throw new DashboardError(400, `currency: '${currency}' is not a currency code.`);
  const from = day(query, 'from');
  const to = day(query, 'to');
  const created =
    from === undefined && to === undefined
      ? undefined
      : {
          ...(from === undefined ? {} : { gte: from }),
          ...(to === undefined ? {} : { lt: new Date(to.getTime() + 24 * 3600 * 1000) }),
        };
  return {
    ...(statuses.length === 0 ? {} : { statuses: statuses as IntentStatus[] }),
    ...(connector === undefined ? {} : { connector }),
    ...(currency === undefined ? {} : { currency }),
    ...(created === undefined ? {} : { created }),
    amountMin: amount(query, 'amount_min', currency),
    amountMax: amount(query, 'amount_max', currency),
    q: text(query, 'q'),
  };
}

export function scopeOf(request: FastifyRequest): DashboardScope {
  const principal = principalOf(request);
  if (principal.merchantId !== null) return { kind: 'merchant', merchantId: principal.merchantId };
  const merchantId = merchantScope(request);
  return merchantId === undefined ? { kind: 'operator' } : { kind: 'operator', merchantId };
}

function status(value: string): Html {
  return html`<span class="status ${value}">${value.replaceAll('_', ' ')}</span>`;
}

function card(row: PaymentRow): string {
  return row.cardLast4 === null ? '—' : `${row.cardBrand ?? 'card'} •••• ${row.cardLast4}`;
}

function filtersForm(query: Query, operator: boolean): Html {
  const value = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : '');
  return html`<form method="get" action="${dashboardPrefix}/payments" class="filters" role="search"
  hx-get="${dashboardPrefix}/payments" hx-target="#payments" hx-select="#payments" hx-push-url="true">
  <label>Search<input name="q" value="${value('q')}" placeholder="pi_…, email or last4" maxlength="320"></label>
  <label>Status<select name="status">
    <option value="">any</option>
    ${intentStatuses.map((item) => html`<option value="${item}"${value('status') === item ? html` selected` : ''}>${item.replaceAll('_', ' ')}</option>`)}
  </select></label>
  <label>Connector<input name="connector" value="${value('connector')}" size="10"></label>
  <label>Currency<input name="currency" value="${value('currency')}" size="4" maxlength="3"></label>
  <label>Amount from<input name="amount_min" value="${value('amount_min')}" size="8" inputmode="decimal"></label>
  <label>to<input name="amount_max" value="${value('amount_max')}" size="8" inputmode="decimal"></label>
  <label>Created from<input type="date" name="from" value="${value('from')}"></label>
  <label>to<input type="date" name="to" value="${value('to')}"></label>
  ${operator && html`<label>Merchant<input name="merchant" value="${value('merchant')}" placeholder="mch_…" size="14"></label>`}
  <button type="submit">Filter</button>
  <a href="${dashboardPrefix}/payments">Clear</a>
</form>`;
}

function exportUrl(url: string): string {
  const parsed = new URL(url, 'http://dashboard.invalid');
  parsed.searchParams.delete('starting_after');
  parsed.searchParams.delete('ending_before');
  return `${dashboardPrefix}/payments.csv${parsed.search}`;
}

function paymentsTable(rows: readonly PaymentRow[], operator: boolean): Html {
  return html`<div class="table-scroll"><table class="list">
<thead><tr><th scope="col">Payment</th><th scope="col" class="amount">Amount</th><th scope="col">Status</th><th scope="col">Card</th><th scope="col">Customer</th><th scope="col">Connector</th>${operator && html`<th scope="col">Merchant</th>`}<th scope="col">Created</th></tr></thead>
<tbody>
${rows.map(
  (row) => html`<tr>
<td><a href="${dashboardPrefix}/payments/${row.id}"><code>${row.id}</code></a></td>
<td class="amount">${formatMoney(row.amount, row.currency)}</td>
<td>${status(row.status)}${row.declineCode !== null && html` <small>${row.declineCode}</small>`}</td>
<td>${card(row)}</td>
<td>${row.customerEmail ?? '—'}</td>
<td>${row.connector ?? '—'}</td>
${operator && html`<td><code>${row.merchantId}</code></td>`}
<td>${formatTime(row.created)}</td>
</tr>`,
)}
${rows.length === 0 && html`<tr><td colspan="8">No payments match.</td></tr>`}
</tbody></table></div>`;
}

function postings(entry: Extract<TimelineEntry, { kind: 'ledger' }>): Html {
  return html`<table class="list postings"><thead><tr><th scope="col">Account</th><th scope="col" class="amount">Debit</th><th scope="col" class="amount">Credit</th><th scope="col">Layer</th></tr></thead><tbody>
${entry.postings.map(
  (posting) => html`<tr><td><code>${posting.accountId}</code></td>
<td class="amount">${posting.direction === 'debit' ? formatMoney(posting.amount, posting.currency) : ''}</td>
<td class="amount">${posting.direction === 'credit' ? formatMoney(posting.amount, posting.currency) : ''}</td>
<td>${posting.layer}</td></tr>`,
)}</tbody></table>`;
}

function describe(entry: TimelineEntry): { title: string; detail: Html } {
  switch (entry.kind) {
    case 'api_request':
      return {
        title: `API request ${entry.method ?? ''} ${entry.path ?? ''}`.trim(),
        detail: html`<code>${entry.requestId}</code>${entry.idempotencyKey !== null && html` · Idempotency-Key <code>${entry.idempotencyKey}</code>`}${entry.responseStatus !== null && html` · answered ${entry.responseStatus}`} · events: ${entry.eventTypes.join(', ')}`,
      };
    case 'routing':
      return {
        title: 'Routing',
        detail: html`connectors tried in order: ${entry.connectors.join(' → ')}`,
      };
    case 'risk':
      return {
        title: `Risk decision: ${entry.action}`,
        detail: html`score ${entry.riskScore} (${entry.riskLevel})${entry.ruleId !== null && html` · rule <code>${entry.ruleId}</code>`}${entry.matchedRuleIds.length > 0 && html` · matched: ${entry.matchedRuleIds.join(', ')}`} · attempt <code>${entry.attemptId}</code>`,
      };
    case 'three_d_secure':
      return {
        title: `3-D Secure: ${entry.status}`,
        detail: html`<code>${entry.id}</code> · ${entry.reason}${entry.version !== null && html` · version ${entry.version}`} · liability shift ${entry.liabilityShift ? 'yes' : 'no'}`,
      };
    case 'review':
      return {
        title: `Review ${entry.open ? 'open' : 'closed'}`,
        detail: html`<code>${entry.id}</code> · opened: ${entry.openedReason}${entry.closedReason !== null && html` · closed: ${entry.closedReason}`}`,
      };
    case 'attempt':
      return {
        title: `Attempt at ${entry.connector}: ${entry.status}`,
        detail: html`<code>${entry.chargeId}</code> · ${formatMoney(entry.amount, entry.currency)} · PSP answered in ${entry.latencyMs === null ? 'unknown time' : `${entry.latencyMs} ms`}${entry.pspReference !== null && html` · PSP reference <code>${entry.pspReference}</code>`}${entry.declineCode !== null && html` · declined: <strong>${entry.declineCode}</strong>`}${entry.failureMessage !== null && html` · ${entry.failureMessage}`} · authorized ${formatMoney(entry.amountAuthorized, entry.currency)}, captured ${formatMoney(entry.amountCaptured, entry.currency)}${entry.syncCount > 0 && html` · status synced ${entry.syncCount}×`}${entry.abandoned && html` · abandoned`}`,
      };
    case 'psp_webhook':
      return {
        title: `PSP webhook from ${entry.connector}`,
        detail: html`${entry.type} · <code>${entry.eventId}</code>${entry.processedAt !== null && html` · processed ${formatTime(entry.processedAt)}`}`,
      };
    case 'refund':
      return {
        title: `Refund ${formatMoney(entry.amount, entry.currency)}: ${entry.status}`,
        detail: html`<code>${entry.id}</code>${entry.reason !== null && html` · ${entry.reason}`}${entry.failureReason !== null && html` · failed: ${entry.failureReason}`}`,
      };
    case 'ledger':
      return {
        title: `Ledger transaction (${entry.transactionKind.replaceAll('_', ' ')})`,
        detail: html`<code>${entry.transactionId}</code>${entry.description !== null && html` · ${entry.description}`}${postings(entry)}`,
      };
    case 'event':
      return {
        title: `Event ${entry.type}`,
        detail: html`<code>${entry.id}</code>${entry.requestId !== null && html` · request <code>${entry.requestId}</code>`}`,
      };
    case 'webhook_delivery':
      return {
        title: `Webhook delivery: ${entry.status}`,
        detail: html`${entry.eventType} to ${entry.url} · ${entry.attemptCount} attempt(s)${entry.lastHttpStatus !== null && html` · last answer ${entry.lastHttpStatus}`}${entry.lastDurationMs !== null && html` in ${entry.lastDurationMs} ms`}${entry.lastError !== null && html` · ${entry.lastError}`}${entry.nextAttemptAt !== null && html` · next try ${formatTime(entry.nextAttemptAt)}`}`,
      };
  }
}

export function registerPaymentPages(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('payments');
  const payments = context.dashboard.payments;

  app.get('/payments', { schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Query;
    const scope = scopeOf(request);
    const filter = paymentFilter(query);
    const page = pageRequest(query);
    const found = await payments.list(scope, filter, { ...page, limit: dashboardPageSize });
    const operator = scope.kind === 'operator';
    const searched = filter.q === undefined ? undefined : parseSearch(filter.q);
    return sendPage(view, request, reply, {
      title: 'Payments',
      section: 'payments',
      body: html`<h1>Payments</h1>
${filtersForm(query, operator)}
<section id="payments" aria-live="polite">
${searched?.kind === 'nothing' && html`<p class="error" role="alert">The search finds ids (pi_…, ch_…, re_…, pm_…, cus_…), emails and a card's last four digits.</p>`}
<p><a href="${exportUrl(request.url)}" download>Export these payments (CSV)</a></p>
${paymentsTable(found.rows, operator)}
${pager(
  request.url,
  page,
  found.rows.map((row) => row.id),
  found.hasMore,
)}
</section>`,
    });
  });

  app.get('/payments.csv', { schema: { hide: true } }, async (request, reply) => {
    const scope = scopeOf(request);
    const filter = paymentFilter(request.query as Query);
    const columns = [
      'id',
      'merchant',
      'amount',
      'currency',
      'status',
      'connector',
      'created',
      'customer_email',
      'card_brand',
      'card_last4',
      'decline_code',
    ];
    // Checked before the first byte: a bad cursor or filter is still a 400 page, not a cut CSV.
    await payments.list(scope, filter, { limit: 1 });
    return sendCsv(reply, 'payments.csv', columns, payments.exportRows(scope, filter), (row) => [
      row.id,
      row.merchantId,
      row.amount.toString(),
      row.currency,
      row.status,
      row.connector ?? '',
      row.created.toISOString(),
      row.customerEmail ?? '',
      row.cardBrand ?? '',
      row.cardLast4 ?? '',
      row.declineCode ?? '',
    ]);
  });

  app.get('/payments/:id', { schema: { hide: true } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const principal = principalOf(request);
    const timeline = await payments.timeline(scopeOf(request), id);
    if (timeline === undefined) throw new DashboardError(404, `No payment ${id}.`);
    const payment = timeline.payment;
    const refundable = payment.amountReceived - payment.amountRefunded;
    const query = request.query as Query;
    return sendPage(view, request, reply, {
      title: `Payment ${payment.id}`,
      section: 'payments',
      body: html`<p><a href="${dashboardPrefix}/payments">← Payments</a></p>
<h1>${formatMoney(payment.amount, payment.currency)} ${status(payment.status)}</h1>
${query.done === 'refund' && html`<p class="notice" role="status">Refund requested and recorded in the audit log.</p>`}
<dl class="facts">
  <dt>Payment</dt><dd><code>${payment.id}</code></dd>
  ${principal.merchantId === null && html`<dt>Merchant</dt><dd><code>${payment.merchantId}</code></dd>`}
  <dt>Created</dt><dd>${formatTime(payment.created)}</dd>
  <dt>Card</dt><dd>${card(payment)}</dd>
  <dt>Customer</dt><dd>${payment.customerEmail ?? '—'}${payment.customerId !== null && html` (<code>${payment.customerId}</code>)`}</dd>
  <dt>Capture</dt><dd>${payment.captureMethod}; received ${formatMoney(payment.amountReceived, payment.currency)}, refunded ${formatMoney(payment.amountRefunded, payment.currency)}</dd>
  ${payment.description !== null && html`<dt>Description</dt><dd>${payment.description}</dd>`}
</dl>
${
  refundable > 0n &&
  html`<div class="actions">
<form method="post" action="${dashboardPrefix}/payments/${payment.id}/refund" class="stack">
  <h2>Refund</h2>
  ${csrfField(request)}${onceField()}
  <label for="refund-amount">Amount (${payment.currency.toUpperCase()}; empty: the ${formatMoney(refundable, payment.currency)} left)</label>
  <input id="refund-amount" name="amount" inputmode="decimal" maxlength="30">
  <label for="refund-why">Reason for the customer</label>
  <select id="refund-why" name="refund_reason">
    <option value="requested_by_customer">requested by customer</option>
    <option value="duplicate">duplicate</option>
    <option value="fraudulent">fraudulent</option>
  </select>
  ${reasonField('refund-reason')}
  <button type="submit" class="danger">Refund</button>
</form>
</div>`
}
<h2>Timeline</h2>
${timeline.truncated && html`<p>Only the first ${'500'} entries of a kind are shown.</p>`}
<ol class="timeline">
${timeline.entries.map((entry) => {
  const { title, detail } = describe(entry);
  return html`<li data-kind="${entry.kind}"><span class="when">${formatTime(entry.at)}</span><div class="kind">${entry.kind.replaceAll('_', ' ')}</div><strong>${title}</strong><div>${detail}</div></li>`;
})}
</ol>`,
    });
  });

  app.post('/payments/:id/refund', { schema: { hide: true } }, async (request, reply) => {
    const principal = requirePermission(request, 'move_money');
    const { id } = request.params as { id: string };
    const body = request.body as Query;
    const reason = text(body, 'reason', 500);
    if (reason === undefined || reason.length < 3)
      throw new DashboardError(
        400,
        'reason: say why (3 to 500 characters); it goes in the audit log.',
      );
    const before = await payments.timeline(scopeOf(request), id);
    if (before === undefined) throw new DashboardError(404, `No payment ${id}.`);
    const merchantId = before.payment.merchantId;
    const refundReason = text(body, 'refund_reason', 40);
    if (
      refundReason !== undefined &&
      !['requested_by_customer', 'duplicate', 'fraudulent'].includes(refundReason)
    )
      throw new DashboardError(
        400,
        'refund_reason: requested_by_customer, duplicate or fraudulent.',
      );
    const amountText = text(body, 'amount', 30);
    let amountMinor: bigint | undefined;
    try {
      amountMinor =
        amountText === undefined ? undefined : parseDecimal(amountText, before.payment.currency);
    } catch (error) {
      throw new DashboardError(400, `amount: ${(error as Error).message}.`);
    }
    const requested = amountMinor ?? before.payment.amountReceived - before.payment.amountRefunded;
    const location = await runOnce(context, request, merchantId, async (idempotency) => {
      // The audit entry is written in the transaction that creates the refund (beside the
      // idempotency key's binding): a refund is never without its entry, nor audited twice when
      // a crashed request is resumed.
      await context.payments.createRefund(
        merchantId,
        {
          paymentIntent: id,
          ...(amountMinor === undefined ? {} : { amount: amountMinor }),
          ...(refundReason === undefined ? {} : { reason: refundReason as 'duplicate' }),
        },
        {
          ...idempotency,
          bind: async (tx, refundId) => {
            await idempotency.bind?.(tx, refundId);
            await context.dashboard.audit.record(
              principal,
              {
                merchantId,
                action: 'payment.refund',
                objectId: id,
                reason,
                before: {
                  status: before.payment.status,
                  amount_received: before.payment.amountReceived,
                  amount_refunded: before.payment.amountRefunded,
                },
                after: { refund: refundId, amount_requested: requested },
                requestId: request.id,
              },
              tx,
            );
          },
        },
      );
      return `${dashboardPrefix}/payments/${id}?done=refund`;
    });
    return reply.code(303).header('location', location).send();
  });
}
