// Payouts (architecture §12.4): the merchant's payouts, filtered, keyset-paged and exported as CSV;
// a payout with its contents (the balance transactions it pays, from the balances service's
// `payout` filter) and, while the bank has not been sent it, a cancel with a reason, audited.
// The payouts service reads one merchant at a time: the operator picks one.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { presentPayout } from '../../../api-objects/index.ts';
import { can } from '../../../dashboard/principal.ts';
import type { Payout, PayoutStatus } from '../../../payouts/types.ts';
import { formatMoney, formatTime } from '../../../web/format.ts';
import { html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { principalOf, requirePermission } from '../access.ts';
import { DashboardError } from '../errors.ts';
import {
  csrfField,
  reasonField,
  registerSection,
  sendPage,
  type DashboardView,
} from '../layout.ts';
import { onceField, runOnce } from '../once.ts';
import { pageRequest, pager } from '../paging.ts';
import { principalHidden, transactionsTable } from './balances.ts';
import {
  badge,
  createdInputs,
  createdRange,
  csvUrl,
  everyRow,
  merchantPicker,
  oneOf,
  options,
  pickedMerchant,
  queryOf,
  reasonOf,
  scoped,
  type Query,
} from './money-shared.ts';
import { sendCsv } from '../csv.ts';

const payoutStatuses: readonly PayoutStatus[] = [
  'pending',
  'in_transit',
  'paid',
  'failed',
  'canceled',
];

const payoutIdPattern = /^po_[A-Za-z0-9_]{1,100}$/;

function payoutFilters(query: Query) {
  return { status: oneOf(query, 'status', payoutStatuses), created: createdRange(query) };
}

/** Canceled only while pending and never handed to the bank (the service checks it again). */
function cancelable(payout: Payout): boolean {
  return payout.status === 'pending' && payout.sendAttempts === 0;
}

const csvColumns = [
  'id',
  'status',
  'currency',
  'amount',
  'automatic',
  'arrival_date',
  'created',
  'destination',
  'trace_id',
  'failure_code',
  'failure_message',
  'description',
] as const;

function csvCells(payout: Payout): string[] {
  return [
    payout.id,
    payout.status,
    payout.currency,
    String(payout.amount),
    String(payout.method === 'automatic'),
    payout.arrivalDate.toISOString(),
    payout.createdAt.toISOString(),
    payout.bankAccountId,
    payout.traceId ?? '',
    payout.failureCode ?? '',
    payout.failureMessage ?? '',
    payout.description ?? '',
  ];
}

function payoutId(request: FastifyRequest): string {
  const id = (request.params as { id: string }).id;
  // Not a payout id: nothing to find, the same 404 as a payout that is not there.
  if (!payoutIdPattern.test(id)) throw new DashboardError(404, `No such payout: '${id}'.`);
  return id;
}

export function registerPayoutsPage(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('payouts');

  app.get('/payouts', { schema: { hide: true } }, async (request, reply) => {
    const query = queryOf(request);
    const filters = payoutFilters(query);
    const page = pageRequest(query);
    const merchantId = await pickedMerchant(request, context);
    if (merchantId === undefined)
      return sendPage(view, request, reply, {
        title: 'Payouts',
        section: 'payouts',
        body: html`<h1>Payouts</h1>${await merchantPicker(context, 'Payouts', '/payouts')}`,
      });
    const found = await context.payouts.list(merchantId, { ...page, ...filters });
    const rows = found.payouts;
    return sendPage(view, request, reply, {
      title: 'Payouts',
      section: 'payouts',
      body: html`<h1>Payouts</h1>
        <p>Merchant <code>${merchantId}</code> · <a href="${scoped(request, '/balances', merchantId)}">Balances</a></p>
        <form method="get" class="filters" role="search">
          ${principalHidden(request, merchantId)}
          <label for="status">Status
            <select id="status" name="status">${options(payoutStatuses, filters.status)}</select></label>
          ${createdInputs(query)}
          <button type="submit">Filter</button>
        </form>
        <p><a href="${csvUrl(request.url, '/payouts.csv')}" download>Export this list (CSV, every page)</a></p>
        <div class="table-scroll"><table class="list" id="payouts">
          <thead>
            <tr>
              <th scope="col">Payout</th>
              <th scope="col">Status</th>
              <th scope="col" class="amount">Amount</th>
              <th scope="col">Type</th>
              <th scope="col">Arrival</th>
              <th scope="col">Created</th>
              <th scope="col">Failure</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (payout) => html`<tr data-id="${payout.id}">
                <th scope="row"><a href="${scoped(request, `/payouts/${payout.id}`, merchantId)}"><code>${payout.id}</code></a></th>
                <td>${badge(payout.status)}</td>
                <td class="amount">${formatMoney(payout.amount, payout.currency)}</td>
                <td>${payout.method}</td>
                <td>${formatTime(payout.arrivalDate).slice(0, 10)}</td>
                <td>${formatTime(payout.createdAt)}</td>
                <td>${payout.failureCode ?? '—'}</td>
              </tr>`,
            )}
            ${rows.length === 0 && html`<tr><td colspan="7">No payouts.</td></tr>`}
          </tbody>
        </table></div>
        ${pager(
          request.url,
          page,
          rows.map((payout) => payout.id),
          found.hasMore,
        )}`,
    });
  });

  app.get('/payouts.csv', { schema: { hide: true } }, async (request, reply) => {
    const filters = payoutFilters(queryOf(request));
    const merchantId = await pickedMerchant(request, context);
    if (merchantId === undefined)
      throw new DashboardError(400, "merchant: the export is of one merchant's payouts.");
    const rows = everyRow(async (page) => {
      const found = await context.payouts.list(merchantId, { ...page, ...filters });
      return { rows: found.payouts, hasMore: found.hasMore };
    });
    return sendCsv(reply, `payouts-${merchantId}.csv`, csvColumns, rows, csvCells);
  });

  app.get('/payouts/:id', { schema: { hide: true } }, async (request, reply) => {
    const id = payoutId(request);
    const query = queryOf(request);
    const page = pageRequest(query);
    const merchantId = await pickedMerchant(request, context);
    if (merchantId === undefined)
      return sendPage(view, request, reply, {
        title: 'Payout',
        section: 'payouts',
        body: html`<h1>Payout <code>${id}</code></h1>${await merchantPicker(context, 'Payouts', `/payouts/${id}`)}`,
      });
    // Another merchant's payout is "no such payout", exactly like one that does not exist.
    const payout = await context.payouts.retrieve(merchantId, id);
    const contents = await context.balances.listBalanceTransactions(merchantId, {
      ...page,
      payout: id,
    });
    const principal = principalOf(request);
    const rows = contents.balanceTransactions;
    return sendPage(view, request, reply, {
      title: `Payout ${id}`,
      section: 'payouts',
      body: html`<h1>Payout <code>${id}</code> ${badge(payout.status)}</h1>
        ${queryOf(request).done === 'cancel' && payout.status === 'canceled' && html`<p class="notice" role="status">Payout canceled: its money is back in the available balance.</p>`}
        <p><a href="${scoped(request, '/payouts', merchantId)}">← Payouts</a></p>
        <dl class="facts">
          <dt>Merchant</dt><dd><code>${merchantId}</code></dd>
          <dt>Amount</dt><dd>${formatMoney(payout.amount, payout.currency)}</dd>
          <dt>Type</dt><dd>${payout.method}</dd>
          <dt>Created</dt><dd>${formatTime(payout.createdAt)}</dd>
          <dt>Arrival date</dt><dd>${formatTime(payout.arrivalDate).slice(0, 10)}</dd>
          <dt>Bank account</dt><dd><code>${payout.bankAccountId}</code></dd>
          <dt>Bank trace</dt><dd>${payout.traceId ?? '—'}</dd>
          <dt>Sent to the bank</dt><dd>${payout.sendAttempts > 0 ? `yes (${payout.sendAttempts} attempts)` : 'not yet'}</dd>
          ${payout.failureCode !== null && html`<dt>Failure</dt><dd>${payout.failureCode}: ${payout.failureMessage}</dd>`}
          ${payout.description !== null && html`<dt>Description</dt><dd>${payout.description}</dd>`}
        </dl>
        ${
          cancelable(payout) &&
          can(principal, 'move_money') &&
          html`<section class="actions">
            <form method="post" action="${scoped(request, `/payouts/${id}/cancel`, merchantId)}" class="stack">
              <h2>Cancel this payout</h2>
              <p>The bank has not been sent it yet: its money goes back to the available balance.</p>
              ${csrfField(request)}${onceField()}
              ${reasonField('cancel-reason')}
              <button type="submit" class="danger">Cancel payout</button>
            </form>
          </section>`
        }
        <h2>Contents</h2>
        <p>What this payout pays: the items of the clearing groups it took, the balance
          transactions it took, and its own row.</p>
        ${transactionsTable(request, merchantId, rows, 'payout-contents')}
        ${pager(
          request.url,
          page,
          rows.map((row) => row.id),
          contents.hasMore,
        )}`,
    });
  });

  app.post('/payouts/:id/cancel', { schema: { hide: true } }, async (request, reply) => {
    const principal = requirePermission(request, 'move_money');
    const id = payoutId(request);
    const reason = reasonOf(request.body);
    const merchantId = await pickedMerchant(request, context);
    if (merchantId === undefined)
      throw new DashboardError(400, 'merchant: name the merchant whose payout to cancel.');
    // Another merchant's payout: the same 404 as a missing one, before anything else.
    const before = await context.payouts.retrieve(merchantId, id);
    // Once per form: a double click or a resent form answers the first cancel's page.
    const location = await runOnce(context, request, merchantId, async () => {
      // The audit entry commits with the cancel: never one without the other.
      await context.payouts.cancel(merchantId, id, (tx, after) =>
        context.dashboard.audit
          .record(
            principal,
            {
              merchantId,
              action: 'payout.cancel',
              objectId: id,
              reason,
              before: presentPayout(before),
              after: presentPayout(after),
              requestId: request.id,
            },
            tx,
          )
          .then(() => undefined),
      );
      return scoped(request, `/payouts/${id}?done=cancel`, merchantId);
    });
    return reply.code(303).header('location', location).send();
  });
}
