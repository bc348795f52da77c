// Balances (architecture §12.1): the merchant's balance per currency as GET /v1/balance shows it
// (available, pending, reserved), and its balance transactions, filtered, keyset-paged and
// exported as CSV. The balances service reads one merchant at a time: the operator picks one.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {
  Amount,
  BalanceTransaction,
  BalanceTransactionType,
} from '../../../balances/index.ts';
import { formatMoney, formatTime } from '../../../web/format.ts';
import { html, type Html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { dashboardPrefix, registerSection, sendPage, type DashboardView } from '../layout.ts';
import { pageRequest, pager } from '../paging.ts';
import {
  createdInputs,
  createdRange,
  csvUrl,
  currencyPattern,
  everyRow,
  idPattern,
  matching,
  merchantPicker,
  oneOf,
  options,
  pickedMerchant,
  queryOf,
  scoped,
  badge,
  type Query,
} from './money-shared.ts';
import { sendCsv } from '../csv.ts';

// Every type named (the record is exhaustive, so a new type shows up here as a compile error).
const typeNames: Readonly<Record<BalanceTransactionType, true>> = {
  charge: true,
  refund: true,
  payout: true,
  payout_failure: true,
  payout_cancel: true,
  reserve_hold: true,
  reserve_release: true,
};
export const balanceTransactionTypes = Object.keys(typeNames) as BalanceTransactionType[];

/** Where a balance transaction's source is shown in the dashboard (its own page), if anywhere. */
export function sourceLink(request: FastifyRequest, source: string, merchantId: string): Html {
  if (source.startsWith('po_'))
    return html`<a href="${scoped(request, `/payouts/${source}`, merchantId)}"><code>${source}</code></a>`;
  if (source.startsWith('pi_'))
    return html`<a href="${dashboardPrefix}/payments/${source}"><code>${source}</code></a>`;
  return html`<code>${source}</code>`;
}

function statusOf(transaction: BalanceTransaction): 'available' | 'pending' {
  return transaction.availabilityId === null ? 'pending' : 'available';
}

/** The balance transactions table (also a payout's contents). */
export function transactionsTable(
  request: FastifyRequest,
  merchantId: string,
  rows: readonly BalanceTransaction[],
  id = 'balance-transactions',
): Html {
  return html`<div class="table-scroll"><table class="list" id="${id}">
    <thead>
      <tr>
        <th scope="col">Id</th>
        <th scope="col">Type</th>
        <th scope="col">Source</th>
        <th scope="col">Status</th>
        <th scope="col" class="amount">Amount</th>
        <th scope="col" class="amount">Fee</th>
        <th scope="col" class="amount">Net</th>
        <th scope="col">Created</th>
        <th scope="col">Available on</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (row) => html`<tr data-id="${row.id}">
          <th scope="row"><code>${row.id}</code></th>
          <td>${row.type.replaceAll('_', ' ')}</td>
          <td>${sourceLink(request, row.source, merchantId)}</td>
          <td>${badge(statusOf(row))}</td>
          <td class="amount">${formatMoney(row.amount, row.currency)}</td>
          <td class="amount">${formatMoney(row.fee, row.currency)}</td>
          <td class="amount">${formatMoney(row.net, row.currency)}</td>
          <td>${formatTime(row.createdAt)}</td>
          <td>${formatTime(row.availableOn).slice(0, 10)}</td>
        </tr>`,
      )}
      ${rows.length === 0 && html`<tr><td colspan="9">No balance transactions.</td></tr>`}
    </tbody>
  </table></div>`;
}

/** The columns of the balance transactions CSV, as the API names the fields. */
export const transactionCsvColumns = [
  'id',
  'type',
  'source',
  'status',
  'currency',
  'amount',
  'fee',
  'net',
  'created',
  'available_on',
  'description',
] as const;

export function transactionCsvCells(row: BalanceTransaction): string[] {
  return [
    row.id,
    row.type,
    row.source,
    statusOf(row),
    row.currency,
    String(row.amount),
    String(row.fee),
    String(row.net),
    row.createdAt.toISOString(),
    row.availableOn.toISOString(),
    row.description ?? '',
  ];
}

function transactionFilters(query: Query) {
  return {
    type: oneOf(query, 'type', balanceTransactionTypes),
    currency: matching(query, 'currency', currencyPattern, 'a currency code like usd'),
    payout: matching(query, 'payout', idPattern, 'a payout id (po_…)'),
    created: createdRange(query),
  };
}

function amounts(list: readonly Amount[], currency: string): string {
  const found = list.find((amount) => amount.currency === currency);
  return found === undefined ? '—' : formatMoney(found.amount, currency);
}

export function registerBalancesPage(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('balances');

  app.get('/balances', { schema: { hide: true } }, async (request, reply) => {
    const merchantId = await pickedMerchant(request, context);
    if (merchantId === undefined)
      return sendPage(view, request, reply, {
        title: 'Balances',
        section: 'balances',
        body: html`<h1>Balances</h1>${await merchantPicker(context, 'Balances', '/balances')}`,
      });
    const balance = await context.balances.balance(merchantId);
    const currencies = [
      ...new Set(
        [...balance.available, ...balance.pending, ...balance.reserved].map((a) => a.currency),
      ),
    ].sort();
    return sendPage(view, request, reply, {
      title: 'Balances',
      section: 'balances',
      body: html`<h1>Balances</h1>
        <p>Merchant <code>${merchantId}</code>. Available is net of reserve holds and of what the
          merchant owes after a negative day (it may be negative); pending is not yet available;
          reserved is held by a rolling reserve.</p>
        <div class="table-scroll"><table class="list" id="balances">
          <thead>
            <tr>
              <th scope="col">Currency</th>
              <th scope="col" class="amount">Available</th>
              <th scope="col" class="amount">Pending</th>
              <th scope="col" class="amount">Reserved</th>
              <th scope="col">Transactions</th>
            </tr>
          </thead>
          <tbody>
            ${currencies.map(
              (currency) => html`<tr data-currency="${currency}">
                <th scope="row">${currency.toUpperCase()}</th>
                <td class="amount">${amounts(balance.available, currency)}</td>
                <td class="amount">${amounts(balance.pending, currency)}</td>
                <td class="amount">${amounts(balance.reserved, currency)}</td>
                <td><a href="${scoped(request, `/balances/transactions?currency=${currency}`, merchantId)}">${currency.toUpperCase()} transactions</a></td>
              </tr>`,
            )}
            ${currencies.length === 0 && html`<tr><td colspan="5">No balance yet.</td></tr>`}
          </tbody>
        </table></div>
        <p><a href="${scoped(request, '/balances/transactions', merchantId)}">All balance transactions</a>
          · <a href="${scoped(request, '/payouts', merchantId)}">Payouts</a></p>`,
    });
  });

  app.get('/balances/transactions', { schema: { hide: true } }, async (request, reply) => {
    const query = queryOf(request);
    const filters = transactionFilters(query);
    const page = pageRequest(query);
    const merchantId = await pickedMerchant(request, context);
    if (merchantId === undefined)
      return sendPage(view, request, reply, {
        title: 'Balance transactions',
        section: 'balances',
        body: html`<h1>Balance transactions</h1>${await merchantPicker(context, 'Balance transactions', '/balances/transactions')}`,
      });
    const found = await context.balances.listBalanceTransactions(merchantId, {
      ...page,
      ...filters,
    });
    const rows = found.balanceTransactions;
    return sendPage(view, request, reply, {
      title: 'Balance transactions',
      section: 'balances',
      body: html`<h1>Balance transactions</h1>
        <p>Merchant <code>${merchantId}</code> · <a href="${scoped(request, '/balances', merchantId)}">Balances</a></p>
        <form method="get" class="filters" role="search">
          ${principalHidden(request, merchantId)}
          <label for="type">Type
            <select id="type" name="type">${options(balanceTransactionTypes, filters.type)}</select></label>
          <label for="currency">Currency
            <input id="currency" name="currency" value="${filters.currency}" pattern="[a-z]{3}" size="4" placeholder="usd"
          /></label>
          <label for="payout">Paid out by
            <input id="payout" name="payout" value="${filters.payout}" placeholder="po_…"
          /></label>
          ${createdInputs(query)}
          <button type="submit">Filter</button>
        </form>
        <p><a href="${csvUrl(request.url, '/balances/transactions.csv')}" download>Export this list (CSV, every page)</a></p>
        ${transactionsTable(request, merchantId, rows)}
        ${pager(
          request.url,
          page,
          rows.map((row) => row.id),
          found.hasMore,
        )}`,
    });
  });

  app.get('/balances/transactions.csv', { schema: { hide: true } }, async (request, reply) => {
    const filters = transactionFilters(queryOf(request));
    const merchantId = await pickedMerchant(request, context);
    if (merchantId === undefined)
      return sendPage(view, request, reply, {
        title: 'Balance transactions',
        section: 'balances',
        status: 400,
        body: html`<h1>Balance transactions</h1>
          <p role="alert">merchant: the export is of one merchant's balance transactions.</p>
          ${await merchantPicker(context, 'Balance transactions', '/balances/transactions')}`,
      });
    const rows = everyRow(async (page) => {
      const found = await context.balances.listBalanceTransactions(merchantId, {
        ...page,
        ...filters,
      });
      return { rows: found.balanceTransactions, hasMore: found.hasMore };
    });
    return sendCsv(
      reply,
      `balance-transactions-${merchantId}.csv`,
      transactionCsvColumns,
      rows,
      transactionCsvCells,
    );
  });
}

/** The operator's merchant, kept by a filter form (a merchant's session has its own). */
export function principalHidden(request: FastifyRequest, merchantId: string): Html {
  return request.dashboard?.principal.merchantId === null
    ? html`<input type="hidden" name="merchant" value="${merchantId}" />`
    : html``;
}
