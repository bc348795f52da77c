// Settlement batches (architecture §12.2), the operator's only: the clearing batches with their
// connector, status and amounts, keyset-paged, and a batch's detail. A merchant's session gets the
// same 404 as a page that does not exist.
import type { FastifyInstance } from 'fastify';
import { settlementBatchStatuses } from '../../../api-objects/index.ts';
import type { BatchItem } from '../../../settlement/service.ts';
import { acknowledgedStatuses, type SettlementBatch } from '../../../settlement/tables.ts';
import { formatMoney, formatTime } from '../../../web/format.ts';
import { html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { DashboardError } from '../errors.ts';
import { dashboardPrefix, registerSection, sendPage, type DashboardView } from '../layout.ts';
import { pageRequest, pager } from '../paging.ts';
import {
  badge,
  connectorPattern,
  matching,
  oneOf,
  options,
  queryOf,
  requireOperator,
} from './money-shared.ts';

/** An item still 'batched' in a batch the acquirer acknowledged was accepted. */
function itemStatus(item: BatchItem, batch: SettlementBatch): string {
  return item.clearingStatus === 'batched' && acknowledgedStatuses.includes(batch.status)
    ? 'accepted'
    : item.clearingStatus;
}

const time = (at: Date | null): string => (at === null ? '—' : formatTime(at));

function fee(batch: SettlementBatch): string {
  return batch.pspFee === null ? 'not reported yet' : formatMoney(batch.pspFee, batch.currency);
}

export function registerSettlementPage(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('settlement');

  app.get('/settlement', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const query = queryOf(request);
    const status = oneOf(query, 'status', settlementBatchStatuses);
    const connector = matching(
      query,
      'connector',
      connectorPattern,
      'a connector name like stripe',
    );
    const page = pageRequest(query);
    const found = await context.settlement.listBatches({ ...page, status, connector });
    const rows = found.batches;
    return sendPage(view, request, reply, {
      title: 'Settlement batches',
      section: 'settlement',
      body: html`<h1>Settlement batches</h1>
        <p>Clearing batches with the acquirer, one per connector and currency and cutoff: closed at
          the cutoff, submitted, acknowledged (with the PSP's fee once its report is read), funded
          when the bank's credits reach the batch's net.</p>
        <form method="get" class="filters" role="search">
          <label for="status">Status
            <select id="status" name="status">${options(settlementBatchStatuses, status)}</select></label>
          <label for="connector">Connector
            <input id="connector" name="connector" value="${connector}" placeholder="stripe" /></label>
          <button type="submit">Filter</button>
        </form>
        <div class="table-scroll"><table class="list" id="settlement-batches">
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">Connector</th>
              <th scope="col">Status</th>
              <th scope="col">Cutoff</th>
              <th scope="col" class="amount">Items</th>
              <th scope="col" class="amount">Net submitted</th>
              <th scope="col" class="amount">Accepted</th>
              <th scope="col" class="amount">PSP fee</th>
              <th scope="col" class="amount">Funded</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (batch) => html`<tr data-id="${batch.id}">
                <th scope="row"><a href="${dashboardPrefix}/settlement/${batch.id}"><code>${batch.id}</code></a></th>
                <td>${batch.connector}</td>
                <td>${badge(batch.status)}${batch.intakeOpen && html` <small>(intake)</small>`}</td>
                <td>${formatTime(batch.cutoffAt)}</td>
                <td class="amount">${batch.itemCount}</td>
                <td class="amount">${formatMoney(batch.netAmount, batch.currency)}</td>
                <td class="amount">${formatMoney(batch.acceptedAmount, batch.currency)}</td>
                <td class="amount">${batch.pspFee === null ? '—' : formatMoney(batch.pspFee, batch.currency)}</td>
                <td class="amount">${formatMoney(batch.fundedAmount, batch.currency)}</td>
              </tr>`,
            )}
            ${rows.length === 0 && html`<tr><td colspan="9">No batches.</td></tr>`}
          </tbody>
        </table></div>
        ${pager(
          request.url,
          page,
          rows.map((batch) => batch.id),
          found.hasMore,
        )}`,
    });
  });

  app.get('/settlement/:id', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const id = (request.params as { id: string }).id;
    const batch = /^[A-Za-z0-9_]{1,100}$/.test(id)
      ? await context.settlement.getBatch(id)
      : undefined;
    if (batch === undefined) throw new DashboardError(404, `No such settlement batch: '${id}'.`);
    const page = pageRequest(queryOf(request));
    const items = await context.settlement.listBatchItems(batch.id, page);
    const money = (amount: bigint) => formatMoney(amount, batch.currency);
    return sendPage(view, request, reply, {
      title: `Settlement batch ${batch.id}`,
      section: 'settlement',
      body: html`<h1>Settlement batch <code>${batch.id}</code> ${badge(batch.status)}</h1>
        <p><a href="${dashboardPrefix}/settlement">← Settlement batches</a></p>
        <dl class="facts">
          <dt>Connector</dt><dd>${batch.connector}</dd>
          <dt>Currency</dt><dd>${batch.currency.toUpperCase()}</dd>
          <dt>Intake batch</dt><dd>${batch.intakeOpen ? 'yes: new items go into it until the cutoff' : 'no'}</dd>
          <dt>Cutoff</dt><dd>${formatTime(batch.cutoffAt)}</dd>
          <dt>Items</dt><dd>${batch.itemCount} (accepted ${batch.acceptedCount}, rejected ${batch.rejectedCount})</dd>
          <dt>Net submitted</dt><dd>${money(batch.netAmount)}</dd>
          <dt>Accepted</dt><dd>${money(batch.acceptedAmount)}</dd>
          <dt>PSP fee</dt><dd>${fee(batch)}</dd>
          <dt>Funded by the bank</dt><dd>${money(batch.fundedAmount)}</dd>
          <dt>Acquirer reference</dt><dd>${batch.acquirerReference ?? '—'}</dd>
          <dt>Settlement reference</dt><dd>${batch.settlementReference ?? '—'}</dd>
          <dt>Submission attempts</dt><dd>${batch.submissionAttempts}</dd>
          ${batch.lastError !== null && html`<dt>Last error</dt><dd class="error">${batch.lastError}</dd>`}
          <dt>Created</dt><dd>${formatTime(batch.createdAt)}</dd>
          <dt>Closed</dt><dd>${time(batch.closedAt)}</dd>
          <dt>Submitted</dt><dd>${time(batch.submittedAt)}</dd>
          <dt>Acknowledged</dt><dd>${time(batch.acknowledgedAt)}</dd>
          <dt>Funded</dt><dd>${time(batch.fundedAt)}</dd>
        </dl>
        <h2>Items</h2>
        <div class="table-scroll"><table class="list" id="batch-items">
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Merchant</th>
              <th scope="col">Type</th>
              <th scope="col">PSP reference</th>
              <th scope="col">Clearing</th>
              <th scope="col" class="amount">Amount</th>
              <th scope="col" class="amount">Net</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            ${items.items.map(
              (item) => html`<tr data-id="${item.id}">
                <th scope="row"><code>${item.id}</code></th>
                <td><a href="${dashboardPrefix}/balances?merchant=${item.merchantId}"><code>${item.merchantId}</code></a></td>
                <td>${item.type}</td>
                <td><code>${item.pspReference ?? '—'}</code></td>
                <td>${badge(itemStatus(item, batch))}${item.rejectReason !== null && html` <small>${item.rejectReason}</small>`}</td>
                <td class="amount">${money(item.amount)}</td>
                <td class="amount">${money(item.net)}</td>
                <td>${formatTime(item.createdAt)}</td>
              </tr>`,
            )}
            ${items.items.length === 0 && html`<tr><td colspan="8">No items.</td></tr>`}
          </tbody>
        </table></div>
        ${pager(
          request.url,
          page,
          items.items.map((item) => item.id),
          items.hasMore,
        )}
        <p><a href="${dashboardPrefix}/reconciliation/exceptions?connector=${batch.connector}&amp;currency=${batch.currency}">Reconciliation exceptions of ${batch.connector} in ${batch.currency.toUpperCase()}</a></p>`,
    });
  });
}
