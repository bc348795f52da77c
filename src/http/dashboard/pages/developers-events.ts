// Developers → Events: the account's events (type and created filters, keyset pages) and an
// event's detail: its JSON as the API and webhooks show it, and its deliveries.
import type { FastifyInstance } from 'fastify';
import { presentEvent } from '../../../api-objects/event.ts';
import { withLivemode } from '../../../merchants/mode.ts';
import { formatTime } from '../../../web/format.ts';
import { html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { DashboardError } from '../errors.ts';
import { sendPage, type DashboardView } from '../layout.ts';
import { pageRequest, pager } from '../paging.ts';
import {
  accountPicker,
  accountScope,
  dayQuery,
  developersPath,
  routeOf,
  pathId,
  patternQuery,
  prettyJson,
  statusBadge,
  timeOrDash,
  webhooksOf,
} from './developers-common.ts';
import { webhooksPath } from './developers-webhooks.ts';

export const eventsPath = `${developersPath}/events`;

const dayMs = 24 * 3_600_000;

export function registerDeveloperEventPages(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  app.get(routeOf(eventsPath), { schema: { hide: true } }, async (request, reply) => {
    const scope = accountScope(request);
    // An exact type, or a prefix wildcard such as `payment_intent.*` (as GET /v1/events).
    const type = patternQuery(
      request,
      'type',
      /^[a-z_]+(\.[a-z_]+)*(\.\*)?$/,
      'an event type such as payment_intent.succeeded, or a prefix such as payment_intent.*',
    );
    const from = dayQuery(request, 'created_from');
    const to = dayQuery(request, 'created_to');
    if (from !== undefined && to !== undefined && to < from)
      throw new DashboardError(400, 'created_to: on or after created_from.');
    const page = pageRequest(request.query as Record<string, unknown>);
    const created =
      from === undefined && to === undefined
        ? undefined
        : {
            ...(from === undefined ? {} : { gte: from }),
            ...(to === undefined ? {} : { lt: new Date(to.getTime() + dayMs) }),
          };
    const found = await context.events.list(scope.accountId, {
      ...page,
      ...(type === undefined ? {} : { types: [type] }),
      ...(created === undefined ? {} : { created }),
    });
    const day = (at: Date | undefined) => at?.toISOString().slice(0, 10);
    return sendPage(view, request, reply, {
      title: 'Events',
      section: 'developers',
      body: html`<p><a href="${developersPath}">Developers</a> ›</p>
        <h1>Events</h1>
        ${accountPicker(scope, scope.accountId)}
        <form method="get" action="${eventsPath}" class="filters" role="search" aria-label="Filter events"
          hx-get="${eventsPath}" hx-target="#events-region" hx-select="#events-region" hx-swap="outerHTML" hx-push-url="true">
          ${scope.operatorOnMerchant && html`<input type="hidden" name="merchant" value="${scope.accountId}" />`}
          <label for="type"
            >Type
            <input id="type" name="type" value="${type}" placeholder="payment_intent.*" maxlength="100"
          /></label>
          <label for="created_from"
            >Created from (UTC day)
            <input id="created_from" name="created_from" type="date" value="${day(from)}"
          /></label>
          <label for="created_to"
            >Created to (UTC day, included)
            <input id="created_to" name="created_to" type="date" value="${day(to)}"
          /></label>
          <button type="submit">Filter</button>
        </form>
        <div id="events-region"><div class="table-scroll"><table class="list developers" id="events">
          <caption>
            Newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Type</th>
              <th scope="col">Object</th>
              <th scope="col">Created</th>
              <th scope="col" class="amount">Pending webhooks</th>
            </tr>
          </thead>
          <tbody>
            ${found.events.map(
              (event) => html`<tr data-event="${event.id}">
                <th scope="row">
                  <a href="${scope.href(`${eventsPath}/${event.id}`)}"><code>${event.id}</code></a>
                </th>
                <td><code>${event.type}</code></td>
                <td><code>${event.objectId}</code></td>
                <td>${formatTime(event.createdAt)}</td>
                <td class="amount">${event.pendingWebhooks}</td>
              </tr>`,
            )}
            ${
              found.events.length === 0 &&
              html`<tr>
                <td colspan="5">No events.</td>
              </tr>`
            }
          </tbody>
        </table></div>
        ${pager(
          request.url,
          page,
          found.events.map((event) => event.id),
          found.hasMore,
        )}</div>`,
    });
  });

  app.get(routeOf(`${eventsPath}/:id`), { schema: { hide: true } }, async (request, reply) => {
    const scope = accountScope(request);
    const id = pathId(request, 'id', 'event');
    const event = await context.events.retrieve(scope.accountId, id);
    if (event === undefined) throw new DashboardError(404, `No such event: '${id}'.`);
    const livemode = (await context.merchants.livemodeOf(scope.accountId)) === true;
    const presented = presentEvent(event);
    const deliveries =
      context.webhooks === undefined
        ? []
        : await webhooksOf(context).endpoints.eventDeliveries(scope.accountId, id);
    return sendPage(view, request, reply, {
      title: `Event ${event.id}`,
      section: 'developers',
      body: html`<p>
          <a href="${developersPath}">Developers</a> ›
          <a href="${scope.href(eventsPath)}">Events</a> ›
        </p>
        <h1>Event <code>${event.id}</code></h1>
        <dl class="facts developers">
          <dt>Type</dt>
          <dd><code>${event.type}</code></dd>
          <dt>Object</dt>
          <dd><code>${event.objectId}</code></dd>
          <dt>Created</dt>
          <dd>${formatTime(event.createdAt)}</dd>
          <dt>API request</dt>
          <dd>${event.request.id === null ? '— (made by Payrail itself)' : html`<code>${event.request.id}</code>`}</dd>
          <dt>Account</dt>
          <dd><code>${event.merchantId}</code></dd>
        </dl>
        <h2 id="deliveries-title">Webhook deliveries</h2>
        <div class="table-scroll"><table class="list developers" id="deliveries" aria-labelledby="deliveries-title">
          <thead>
            <tr>
              <th scope="col">Delivery</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col" class="amount">Attempts</th>
              <th scope="col">Last response</th>
              <th scope="col">Next attempt</th>
            </tr>
          </thead>
          <tbody>
            ${deliveries.map(
              (delivery) => html`<tr data-delivery="${delivery.id}">
                <th scope="row"><code>${delivery.id}</code></th>
                <td><a href="${scope.href(`${webhooksPath}/${delivery.endpointId}`)}"><code>${delivery.endpointId}</code></a></td>
                <td>${statusBadge(delivery.status)}</td>
                <td class="amount">${delivery.attemptCount}</td>
                <td>${delivery.lastHttpStatus ?? '—'}${delivery.lastError !== null && html`<br /><small>${delivery.lastError}</small>`}</td>
                <td>${timeOrDash(delivery.nextAttemptAt)}</td>
              </tr>`,
            )}
            ${
              deliveries.length === 0 &&
              html`<tr>
                <td colspan="6">No deliveries: no endpoint of this account took this event.</td>
              </tr>`
            }
          </tbody>
        </table></div>
        <h2>Payload</h2>
        <p>As <code>GET /v1/events/${event.id}</code> and webhook bodies show it.</p>
        <pre id="payload">${prettyJson(livemode ? withLivemode(presented) : presented)}</pre>`,
    });
  });
}
