// Reconciliation (architecture §13), the operator's only: runs (list and detail), exceptions
// (filtered by status, reason, source, connector, currency, run and assignee; keyset-paged;
// exactly the filtered list as CSV) and an exception's history with the actions the API allows:
// assign, and resolve by a match by hand, a write-off, an adjustment or the PSP's error. Each
// action asks for a reason (the resolution keeps it too) and is recorded in the audit log.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  exceptionReasons,
  presentReconciliationException,
  presentReconciliationRun,
  reconciliationExceptionCsvCells,
  reconciliationExceptionCsvColumns,
} from '../../../api-objects/index.ts';
import { can } from '../../../dashboard/principal.ts';
import { platformAccountId } from '../../../merchants/platform.ts';
import { parseDecimal } from '../../../money/index.ts';
import type { ExceptionFilter, ResolveAction } from '../../../reconciliation/service.ts';
import type { ReconException, ReconRun } from '../../../reconciliation/tables.ts';
import { formatMoney, formatTime } from '../../../web/format.ts';
import { html, type Html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { principalOf, requirePermission } from '../access.ts';
import { DashboardError } from '../errors.ts';
import {
  csrfField,
  dashboardPrefix,
  reasonField,
  registerSection,
  sendPage,
  type DashboardView,
} from '../layout.ts';
import { onceField, runOnce } from '../once.ts';
import { pageRequest, pager } from '../paging.ts';
import {
  badge,
  connectorPattern,
  createdInputs,
  createdRange,
  csvUrl,
  currencyPattern,
  formField,
  idPattern,
  matching,
  oneOf,
  options,
  queryOf,
  reasonOf,
  requireOperator,
  single,
  type Query,
} from './money-shared.ts';
import { sendCsv } from '../csv.ts';

const sources = ['psp_report', 'acquirer_ack', 'bank_statement', 'ledger'] as const;
const recordSources = ['psp_report', 'acquirer_ack', 'bank_statement'] as const;
const statuses = ['open', 'resolved'] as const;
const actions: readonly ResolveAction[] = ['match', 'write_off', 'adjust', 'psp_error'];

function exceptionFilter(query: Query): ExceptionFilter {
  const assignee = single(query, 'assignee');
  return {
    status: oneOf(query, 'status', statuses),
    reason: oneOf(query, 'reason', exceptionReasons),
    source: oneOf(query, 'source', sources),
    connector: matching(query, 'connector', connectorPattern, 'a connector name like stripe'),
    currency: matching(query, 'currency', currencyPattern, 'a currency code like usd'),
    runId: matching(query, 'run', idPattern, 'a run id (rcr_…)'),
    assignee,
    created: createdRange(query),
  };
}

function amountOf(exception: ReconException): string {
  if (exception.amount === null) return '—';
  return exception.currency === null
    ? `${exception.amount} (minor units)`
    : formatMoney(exception.amount, exception.currency);
}

function json(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner),
    2,
  );
}

function exceptionId(request: FastifyRequest): string {
  const id = (request.params as { id: string }).id;
  if (!idPattern.test(id)) throw new DashboardError(404, `No such exception: '${id}'.`);
  return id;
}

function runRow(run: ReconRun): Html {
  const summary = run.summary as { matchRate?: unknown; raised?: unknown };
  const rate =
    typeof summary.matchRate === 'number' ? `${(summary.matchRate * 100).toFixed(2)} %` : '—';
  return html`<tr data-id="${run.id}">
    <th scope="row"><a href="${dashboardPrefix}/reconciliation/runs/${run.id}"><code>${run.id}</code></a></th>
    <td>${badge(run.status)}${run.dryRun && html` <small>(dry run)</small>`}</td>
    <td>${run.asOf}</td>
    <td>${formatTime(run.startedAt)}</td>
    <td class="amount">${rate}</td>
    <td><a href="${dashboardPrefix}/reconciliation/exceptions?run=${run.id}">exceptions</a></td>
  </tr>`;
}

/** The forms of the actions on an open exception (each asks for the reason). */
function actionForms(request: FastifyRequest, exception: ReconException): Html {
  const base = `${dashboardPrefix}/reconciliation/exceptions/${exception.id}`;
  const unit = exception.currency === null ? 'minor units' : exception.currency.toUpperCase();
  return html`<section class="actions" aria-label="Actions">
    <form method="post" action="${base}/assign" class="stack">
      <h2>Assign</h2>
      ${csrfField(request)}${onceField()}
      <label for="assignee">Assignee (empty: unassign)</label>
      <input id="assignee" name="assignee" maxlength="200" value="${exception.assignee}" autocomplete="off" />
      ${reasonField('assign-reason')}
      <button type="submit">Assign</button>
    </form>
    <form method="post" action="${base}/resolve" class="stack">
      <h2>Match by hand</h2>
      ${csrfField(request)}${onceField()}
      <input type="hidden" name="action" value="match" />
      <p>Pair it with the other side, of the same amount and currency: an external record or an
        expectation.</p>
      <label for="record_source">Record source</label>
      <select id="record_source" name="record_source">${recordSources.map((source) => html`<option value="${source}">${source.replaceAll('_', ' ')}</option>`)}</select>
      <label for="record_key">Record key</label>
      <input id="record_key" name="record_key" maxlength="400" autocomplete="off" />
      <label for="expectation">or expectation (item:…, batch:…, payout:…)</label>
      <input id="expectation" name="expectation" maxlength="400" autocomplete="off" />
      ${reasonField('match-reason')}
      <button type="submit">Match</button>
    </form>
    <form method="post" action="${base}/resolve" class="stack">
      <h2>Write off</h2>
      ${csrfField(request)}${onceField()}
      <input type="hidden" name="action" value="write_off" />
      <p>The money is lost or found: its effect is posted to reconciliation adjustments where the
        ledger is wrong.</p>
      ${reasonField('write-off-reason')}
      <button type="submit" class="danger">Write off</button>
    </form>
    <form method="post" action="${base}/resolve" class="stack">
      <h2>Adjust</h2>
      ${csrfField(request)}${onceField()}
      <input type="hidden" name="action" value="adjust" />
      <label for="amount">Amount to post (${unit}, signed)</label>
      <input id="amount" name="amount" required maxlength="40" inputmode="decimal" autocomplete="off" />
      ${reasonField('adjust-reason')}
      <button type="submit" class="danger">Adjust</button>
    </form>
    <form method="post" action="${base}/resolve" class="stack">
      <h2>PSP's error</h2>
      ${csrfField(request)}${onceField()}
      <input type="hidden" name="action" value="psp_error" />
      <p>The PSP's mistake, claimed with the PSP: nothing is posted.</p>
      ${reasonField('psp-error-reason')}
      <button type="submit">PSP's error</button>
    </form>
  </section>`;
}

/** The amount an adjustment posts: a decimal of the exception's currency (minor units without). */
function adjustment(body: unknown, exception: ReconException): bigint {
  const text = formField(body, 'amount', 40);
  if (text === undefined) throw new DashboardError(400, 'amount: an adjustment posts an amount.');
  try {
    if (exception.currency !== null) return parseDecimal(text, exception.currency);
  } catch (error) {
    throw new DashboardError(400, `amount: ${(error as Error).message}.`);
  }
  if (!/^-?\d{1,16}$/.test(text))
    throw new DashboardError(400, 'amount: a whole number of minor units.');
  return BigInt(text);
}

const notices: Readonly<Record<string, string>> = {
  assign: 'Assigned.',
  match: 'Matched by hand.',
  write_off: 'Written off.',
  adjust: 'Adjusted.',
  psp_error: "Resolved as the PSP's error.",
};

function doneNotice(done: unknown): Html | undefined {
  const text = typeof done === 'string' ? notices[done] : undefined;
  return text === undefined ? undefined : html`<p class="notice" role="status">${text}</p>`;
}

export function registerReconciliationPage(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('reconciliation');
  const service = context.reconciliation;

  app.get('/reconciliation', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const page = pageRequest(queryOf(request));
    const found = await service.listRuns(page);
    const principal = principalOf(request);
    return sendPage(view, request, reply, {
      title: 'Reconciliation',
      section: 'reconciliation',
      body: html`<h1>Reconciliation</h1>
        <p><a href="${dashboardPrefix}/reconciliation/exceptions?status=open">Open exceptions</a>
          · <a href="${dashboardPrefix}/reconciliation/exceptions">All exceptions</a></p>
        ${
          can(principal, 'move_money') &&
          html`<section class="actions" aria-label="Run">
            <form method="post" action="${dashboardPrefix}/reconciliation/runs" class="stack">
              <h2>Reconcile now</h2>
              ${csrfField(request)}${onceField()}
              <label for="as_of">As of (empty: today)</label>
              <input id="as_of" name="as_of" type="date" />
              <label for="dry_run"><input id="dry_run" name="dry_run" type="checkbox" value="true" />
                Dry run (compute the figures, keep nothing else)</label>
              ${reasonField('run-reason')}
              <button type="submit">Run</button>
            </form>
          </section>`
        }
        <h2>Runs</h2>
        <div class="table-scroll"><table class="list" id="reconciliation-runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">As of</th>
              <th scope="col">Started</th>
              <th scope="col" class="amount">Match rate</th>
              <th scope="col">Exceptions</th>
            </tr>
          </thead>
          <tbody>
            ${found.runs.map(runRow)}
            ${found.runs.length === 0 && html`<tr><td colspan="6">No runs yet.</td></tr>`}
          </tbody>
        </table></div>
        ${pager(
          request.url,
          page,
          found.runs.map((run) => run.id),
          found.hasMore,
        )}`,
    });
  });

  app.post('/reconciliation/runs', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const principal = requirePermission(request, 'move_money');
    const body = request.body;
    const reason = reasonOf(body);
    const asOf = formField(body, 'as_of', 10);
    if (asOf !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(asOf))
      throw new DashboardError(400, 'as_of: a day as YYYY-MM-DD.');
    const dryRun = formField(body, 'dry_run', 5) === 'true';
    const location = await runOnce(context, request, platformAccountId, async () => {
      const run = await service.run({ asOf, dryRun });
      await context.dashboard.audit.record(principal, {
        merchantId: null,
        action: 'reconciliation_run.create',
        objectId: run.id,
        reason,
        after: presentReconciliationRun(run),
        requestId: request.id,
      });
      return `${dashboardPrefix}/reconciliation/runs/${run.id}?done=run`;
    });
    return reply.code(303).header('location', location).send();
  });

  app.get('/reconciliation/runs/:id', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const id = (request.params as { id: string }).id;
    if (!idPattern.test(id)) throw new DashboardError(404, `No such reconciliation run: '${id}'.`);
    const run = await service.getRun(id);
    return sendPage(view, request, reply, {
      title: `Reconciliation run ${run.id}`,
      section: 'reconciliation',
      body: html`<h1>Reconciliation run <code>${run.id}</code> ${badge(run.status)}</h1>
        ${queryOf(request).done === 'run' && html`<p class="notice" role="status">Reconciled${run.dryRun ? ' (dry run)' : ''}.</p>`}
        <p><a href="${dashboardPrefix}/reconciliation">← Runs</a>
          · <a href="${dashboardPrefix}/reconciliation/exceptions?run=${run.id}">Its exceptions</a></p>
        <dl class="facts">
          <dt>Dry run</dt><dd>${run.dryRun ? 'yes (nothing kept but these figures)' : 'no'}</dd>
          <dt>As of</dt><dd>${run.asOf}</dd>
          <dt>Started</dt><dd>${formatTime(run.startedAt)}</dd>
          <dt>Finished</dt><dd>${run.finishedAt === null ? '—' : formatTime(run.finishedAt)}</dd>
          <dt>Rules hash</dt><dd><code>${run.rulesHash}</code></dd>
          <dt>Result hash</dt><dd><code>${run.resultHash ?? '—'}</code></dd>
          ${run.error !== null && html`<dt>Error</dt><dd class="error">${run.error}</dd>`}
        </dl>
        <h2>Figures</h2>
        <pre id="run-summary">${json(run.summary)}</pre>`,
    });
  });

  app.get('/reconciliation/exceptions', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const query = queryOf(request);
    const filter = exceptionFilter(query);
    const page = pageRequest(query);
    const found = await service.listExceptions(filter, page);
    const rows = found.exceptions;
    const now = service.now();
    return sendPage(view, request, reply, {
      title: 'Reconciliation exceptions',
      section: 'reconciliation',
      body: html`<h1>Reconciliation exceptions</h1>
        <p><a href="${dashboardPrefix}/reconciliation">← Runs</a></p>
        <form method="get" class="filters" role="search">
          <label for="status">Status
            <select id="status" name="status">${options(statuses, filter.status)}</select></label>
          <label for="reason">Kind
            <select id="reason" name="reason">${options(exceptionReasons, filter.reason)}</select></label>
          <label for="source">Source
            <select id="source" name="source">${options(sources, filter.source)}</select></label>
          <label for="connector">Connector
            <input id="connector" name="connector" value="${filter.connector}" placeholder="stripe" size="10" /></label>
          <label for="currency">Currency
            <input id="currency" name="currency" value="${filter.currency}" placeholder="usd" size="4" /></label>
          <label for="run">Run
            <input id="run" name="run" value="${filter.runId}" placeholder="rcr_…" /></label>
          <label for="assignee">Assignee
            <input id="assignee" name="assignee" value="${filter.assignee}" /></label>
          ${createdInputs(query)}
          <button type="submit">Filter</button>
        </form>
        <p><a href="${csvUrl(request.url, '/reconciliation/exceptions.csv')}" download>Export this list (CSV, every page)</a></p>
        <div class="table-scroll"><table class="list" id="reconciliation-exceptions">
          <thead>
            <tr>
              <th scope="col">Exception</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Source</th>
              <th scope="col">Connector</th>
              <th scope="col" class="amount">Amount</th>
              <th scope="col">Subject</th>
              <th scope="col" class="amount">Age (days)</th>
              <th scope="col">Assignee</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map((exception) => {
              const shown = presentReconciliationException(exception, now);
              return html`<tr data-id="${exception.id}">
                <th scope="row"><a href="${dashboardPrefix}/reconciliation/exceptions/${exception.id}"><code>${exception.id}</code></a></th>
                <td>${exception.reason.replaceAll('_', ' ')}</td>
                <td>${badge(exception.status)}${exception.resolution !== null && html` <small>${exception.resolution.replaceAll('_', ' ')}</small>`}</td>
                <td>${exception.source.replaceAll('_', ' ')}</td>
                <td>${exception.connector ?? '—'}</td>
                <td class="amount">${amountOf(exception)}</td>
                <td><code>${exception.expectationKey ?? exception.recordKey ?? exception.key}</code></td>
                <td class="amount">${shown.age_days}</td>
                <td>${exception.assignee ?? '—'}</td>
              </tr>`;
            })}
            ${rows.length === 0 && html`<tr><td colspan="9">No exceptions.</td></tr>`}
          </tbody>
        </table></div>
        ${pager(
          request.url,
          page,
          rows.map((exception) => exception.id),
          found.hasMore,
        )}`,
    });
  });

  app.get('/reconciliation/exceptions.csv', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const filter = exceptionFilter(queryOf(request));
    const now = service.now();
    return sendCsv(
      reply,
      'reconciliation-exceptions.csv',
      reconciliationExceptionCsvColumns,
      service.exceptionsForExport(filter),
      (exception) =>
        reconciliationExceptionCsvCells(presentReconciliationException(exception, now)),
    );
  });

  app.get('/reconciliation/exceptions/:id', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const { exception, history } = await service.getException(exceptionId(request));
    const shown = presentReconciliationException(exception, service.now(), history);
    const principal = principalOf(request);
    return sendPage(view, request, reply, {
      title: `Exception ${exception.id}`,
      section: 'reconciliation',
      body: html`<h1>Exception <code>${exception.id}</code> ${badge(exception.status)}</h1>
        ${doneNotice(queryOf(request).done)}
        <p><a href="${dashboardPrefix}/reconciliation/exceptions">← Exceptions</a></p>
        <dl class="facts">
          <dt>Kind</dt><dd>${exception.reason.replaceAll('_', ' ')}</dd>
          <dt>Key</dt><dd><code>${exception.key}</code></dd>
          <dt>Source</dt><dd>${exception.source.replaceAll('_', ' ')}</dd>
          <dt>Connector</dt><dd>${exception.connector ?? '—'}</dd>
          <dt>Amount</dt><dd>${amountOf(exception)}</dd>
          <dt>Expectation</dt><dd><code>${exception.expectationKey ?? '—'}</code></dd>
          <dt>Record</dt><dd>${exception.recordKey === null ? '—' : html`${exception.recordSource} <code>${exception.recordKey}</code>`}</dd>
          <dt>Raised by run</dt><dd><a href="${dashboardPrefix}/reconciliation/runs/${exception.runId}"><code>${exception.runId}</code></a></dd>
          <dt>Raised</dt><dd>${formatTime(exception.createdAt)} (${shown.age_days} days)</dd>
          <dt>Assignee</dt><dd>${exception.assignee ?? '—'}</dd>
          ${exception.resolution !== null && html`<dt>Resolution</dt><dd>${exception.resolution.replaceAll('_', ' ')}: ${exception.resolutionReason}</dd>`}
          ${exception.ledgerTransactionId !== null && html`<dt>Ledger transaction</dt><dd><code>${exception.ledgerTransactionId}</code></dd>`}
        </dl>
        <h2>Details</h2>
        <pre>${json(exception.details)}</pre>
        ${exception.status === 'open' && can(principal, 'move_money') && actionForms(request, exception)}
        <h2>History</h2>
        <table class="list" id="exception-history">
          <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Details</th></tr></thead>
          <tbody>
            ${history.map(
              (entry) => html`<tr>
                <td>${formatTime(entry.at)}</td>
                <td>${entry.action}</td>
                <td>${entry.actor}</td>
                <td><code>${json(entry.details)}</code></td>
              </tr>`,
            )}
          </tbody>
        </table>`,
    });
  });

  app.post(
    '/reconciliation/exceptions/:id/assign',
    { schema: { hide: true } },
    async (request, reply) => {
      requireOperator(request);
      const principal = requirePermission(request, 'move_money');
      const id = exceptionId(request);
      const reason = reasonOf(request.body);
      const assignee = formField(request.body, 'assignee', 200) ?? null;
      const before = await service.getException(id);
      // Once per form (the platform account's idempotency keys): a resent form changes nothing.
      const location = await runOnce(context, request, platformAccountId, async () => {
        const after = await service.assign(id, assignee, principal.actor);
        const now = service.now();
        await context.dashboard.audit.record(principal, {
          merchantId: null,
          action: 'reconciliation_exception.assign',
          objectId: id,
          reason,
          before: presentReconciliationException(before.exception, now),
          after: presentReconciliationException(after, now),
          requestId: request.id,
        });
        return `${dashboardPrefix}/reconciliation/exceptions/${id}?done=assign`;
      });
      return reply.code(303).header('location', location).send();
    },
  );

  app.post(
    '/reconciliation/exceptions/:id/resolve',
    { schema: { hide: true } },
    async (request, reply) => {
      requireOperator(request);
      const principal = requirePermission(request, 'move_money');
      const id = exceptionId(request);
      const body = request.body;
      const action = formField(body, 'action', 20);
      if (action === undefined || !(actions as readonly string[]).includes(action))
        throw new DashboardError(400, `action: one of ${actions.join(', ')}.`);
      const reason = reasonOf(body);
      const before = await service.getException(id);
      const recordKey = action === 'match' ? formField(body, 'record_key') : undefined;
      const recordSource = formField(body, 'record_source', 40) ?? 'psp_report';
      if (!(recordSources as readonly string[]).includes(recordSource))
        throw new DashboardError(400, `record_source: one of ${recordSources.join(', ')}.`);
      const expectationKey = action === 'match' ? formField(body, 'expectation') : undefined;
      if (action === 'match' && recordKey === undefined && expectationKey === undefined)
        throw new DashboardError(
          400,
          'record_key: a match by hand names the other side, a record key or an expectation.',
        );
      const amount = action === 'adjust' ? adjustment(body, before.exception) : undefined;
      // Once per form: a resent form answers the first resolution's page (the service would
      // refuse a second resolution anyway, and never posts twice).
      const location = await runOnce(context, request, platformAccountId, async () => {
        const now = service.now();
        // The audit entry commits with the resolution (and its ledger transfer): both or neither.
        await service.resolve(
          id,
          {
            action: action as ResolveAction,
            reason,
            actor: principal.actor,
            recordKey: recordKey === undefined ? undefined : `${recordSource}:${recordKey}`,
            expectationKey,
            amount,
          },
          async (tx, resolved) => {
            await context.dashboard.audit.record(
              principal,
              {
                merchantId: null,
                action: 'reconciliation_exception.resolve',
                objectId: id,
                reason,
                before: presentReconciliationException(before.exception, now),
                after: presentReconciliationException(resolved, now),
                requestId: request.id,
              },
              tx,
            );
          },
        );
        return `${dashboardPrefix}/reconciliation/exceptions/${id}?done=${action}`;
      });
      return reply.code(303).header('location', location).send();
    },
  );
}
