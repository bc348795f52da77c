// The audit log: who did what, when, why, with the object before and after.
import type { FastifyInstance } from 'fastify';
import { formatTime } from '../../../web/format.ts';
import { html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { principalOf } from '../access.ts';
import { DashboardError } from '../errors.ts';
import { registerSection, sendPage, type DashboardView } from '../layout.ts';
import { pageRequest, pager } from '../paging.ts';

const filterPattern = /^[A-Za-z0-9_.]{1,100}$/;

function filterValue(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !filterPattern.test(value))
    throw new DashboardError(400, `${name}: letters, digits, "_" and "." only.`);
  return value;
}

function json(value: unknown): string {
  return value === null || value === undefined ? '—' : JSON.stringify(value, null, 2);
}

export function registerAuditPage(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('audit');
  app.get('/audit', { schema: { hide: true } }, async (request, reply) => {
    const principal = principalOf(request);
    const query = request.query as Record<string, unknown>;
    const objectId = filterValue(query, 'object');
    const action = filterValue(query, 'action');
    const page = pageRequest(query);
    const found = await context.dashboard.audit.list(
      principal.merchantId,
      { objectId, action },
      page,
    );
    return sendPage(view, request, reply, {
      title: 'Audit log',
      section: 'audit',
      body: html`<h1>Audit log</h1>
        <form method="get" class="filters" role="search">
          <label for="object">Object id</label
          ><input id="object" name="object" value="${objectId}" /> <label for="action">Action</label
          ><input id="action" name="action" value="${action}" placeholder="payment.refund" />
          <button type="submit">Filter</button>
        </form>
        <table class="list" id="audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Object</th>
              <th scope="col">Reason</th>
              <th scope="col">Before → after</th>
            </tr>
          </thead>
          <tbody>
            ${found.rows.map(
              (entry) =>
                html`<tr data-audit="${entry.id}">
                  <td>${formatTime(entry.createdAt)}</td>
                  <td>
                    ${entry.actor}
                    <small>(${entry.actorRole})</small
                    >${principal.merchantId === null && entry.merchantId !== null && html`<br /><small>${entry.merchantId}</small>`}
                  </td>
                  <td><code>${entry.action}</code></td>
                  <td><code>${entry.objectId ?? '—'}</code></td>
                  <td>${entry.reason}</td>
                  <td>
                    <details>
                      <summary>changes</summary>
                      <div class="diff">
                        <pre>${json(entry.before)}</pre>
                        <pre>${json(entry.after)}</pre>
                      </div>
                    </details>
                  </td>
                </tr>`,
            )}
            ${
              found.rows.length === 0 &&
              html`<tr>
                <td colspan="6">No entries.</td>
              </tr>`
            }
          </tbody>
        </table>
        ${pager(
          request.url,
          page,
          found.rows.map((entry) => entry.id),
          found.hasMore,
        )}`,
    });
  });
}
