// Developers → Webhook endpoints: the account's endpoints (create, enable, disable, delete) and an
// endpoint's deliveries with their attempts, filtered by status, each retried by hand.
//
// Every action needs the `configure` permission and a reason, and is audited with the endpoint
// before and after (never its secret). The signing secret is shown once, in the creation's own
// answer (201, no-store): a redirect would have to carry it in a URL or keep it somewhere to show
// it. Creation and deletion run once per drawn form (once.ts): the same form sent again answers
// as the first time (the creation with the same endpoint and, as the API's retried create, its
// secret), never a second endpoint or a 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { can } from '../../../dashboard/principal.ts';
import { eventTypes } from '../../../events/events.ts';
import { formatTime } from '../../../web/format.ts';
import { html, type Html } from '../../../web/html.ts';
import {
  deliveryStatuses,
  WebhookError,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../../webhooks/index.ts';
import {
  descriptionLengthMax,
  enabledEventsMax,
  urlLengthMax,
} from '../../../webhooks/endpoints.ts';
import type { RouteContext } from '../../context.ts';
import { principalOf, requirePermission } from '../access.ts';
import { csrfField, reasonField, sendPage, type DashboardView } from '../layout.ts';
import { onceField, runOnce } from '../once.ts';
import { pageRequest, pager } from '../paging.ts';
import {
  accountPicker,
  accountScope,
  developersPath,
  routeOf,
  doneNotice,
  enumQuery,
  formList,
  formText,
  pathId,
  reasonOf,
  requireAccount,
  statusBadge,
  timeOrDash,
  webhooksOf,
  type AccountScope,
} from './developers-common.ts';

export const webhooksPath = `${developersPath}/webhooks`;

/** What the audit log keeps of an endpoint: never its secret. */
function endpointSummary(endpoint: WebhookEndpoint): Record<string, unknown> {
  return {
    url: endpoint.url,
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    enabled_events: endpoint.enabledEvents,
    description: endpoint.description,
    signature_scheme: endpoint.signatureScheme,
  };
}

function deliverySummary(delivery: WebhookDelivery): Record<string, unknown> {
  return {
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    last_http_status: delivery.lastHttpStatus,
    next_attempt_at: delivery.nextAttemptAt?.toISOString() ?? null,
  };
}

function eventTypeList(types: readonly string[]): Html {
  return html`${types.map((type, index) => html`${index > 0 && ', '}<code>${type}</code>`)}`;
}

function createForm(request: FastifyRequest, scope: AccountScope): Html {
  return html`<form method="post" action="${scope.href(webhooksPath)}" class="stack endpoint-create" aria-labelledby="create-endpoint">
    <h2 id="create-endpoint">Add an endpoint</h2>
    ${csrfField(request)}${onceField()}
    <label for="url">Endpoint URL (https; http only to localhost for testing)</label>
    <input id="url" name="url" type="url" required maxlength="${urlLengthMax}" placeholder="https://example.com/payrail/webhooks" />
    <label for="description">Description (optional)</label>
    <input id="description" name="description" maxlength="${descriptionLengthMax}" />
    <fieldset class="event-types">
      <legend>Events to send</legend>
      <label for="ev-all"><input id="ev-all" type="checkbox" name="enabled_events[]" value="*" /> All events (<code>*</code>)</label>
      ${eventTypes.map(
        (type) =>
          html`<label for="ev-${type.replaceAll('.', '-')}"><input id="ev-${type.replaceAll('.', '-')}" type="checkbox" name="enabled_events[]" value="${type}" /> <code>${type}</code></label>`,
      )}
    </fieldset>
    ${reasonField('create-reason')}
    <button type="submit">Add endpoint</button>
  </form>`;
}

function deliveryRows(
  request: FastifyRequest,
  scope: AccountScope,
  endpoint: WebhookEndpoint,
  deliveries: readonly WebhookDelivery[],
  mayConfigure: boolean,
): Html {
  if (deliveries.length === 0)
    return html`<tr>
      <td colspan="8">No deliveries.</td>
    </tr>`;
  return html`${deliveries.map(
    (delivery) => html`<tr data-delivery="${delivery.id}">
      <th scope="row"><code>${delivery.id}</code></th>
      <td><a href="${scope.href(`${developersPath}/events/${delivery.eventId}`)}"><code>${delivery.eventType}</code></a><br /><small>${delivery.eventId}</small></td>
      <td>${statusBadge(delivery.status)}</td>
      <td class="amount">${delivery.attemptCount}</td>
      <td>${delivery.lastHttpStatus ?? '—'}${delivery.lastError !== null && html`<br /><small>${delivery.lastError}</small>`}</td>
      <td>${timeOrDash(delivery.nextAttemptAt)}</td>
      <td>
        ${formatTime(delivery.createdAt)}
        ${
          delivery.attempts.length > 0 &&
          html`<details>
            <summary>${delivery.attempts.length} attempts</summary>
            <ol>
              ${delivery.attempts.map((attempt) => html`<li>#${attempt.number} ${formatTime(attempt.attemptedAt)}: ${attempt.httpStatus ?? attempt.error ?? '—'} (${attempt.durationMs} ms)</li>`)}
            </ol>
          </details>`
        }
      </td>
      <td>
        ${
          mayConfigure
            ? html`<details class="row-action">
                <summary>${delivery.status === 'pending' ? 'Send now' : 'Retry'}</summary>
                <form method="post" class="stack" action="${scope.href(`${webhooksPath}/${endpoint.id}/deliveries/${delivery.id}/retry`)}">
                  ${csrfField(request)} ${onceField()} ${reasonField(`reason-${delivery.id}`)}
                  <button type="submit">Send ${delivery.id} again</button>
                </form>
              </details>`
            : '—'
        }
      </td>
    </tr>`,
  )}`;
}

function endpointActions(
  request: FastifyRequest,
  scope: AccountScope,
  endpoint: WebhookEndpoint,
): Html {
  const toggle = endpoint.status === 'enabled' ? 'disable' : 'enable';
  return html`<div class="actions">
    <form method="post" action="${scope.href(`${webhooksPath}/${endpoint.id}/${toggle}`)}" aria-label="${toggle === 'disable' ? 'Disable' : 'Enable'} the endpoint">
      ${csrfField(request)} ${reasonField(`${toggle}-reason`)}
      <button type="submit">${toggle === 'disable' ? 'Disable' : 'Enable'} endpoint</button>
    </form>
    <form method="post" action="${scope.href(`${webhooksPath}/${endpoint.id}/delete`)}" aria-label="Delete the endpoint">
      ${csrfField(request)}${onceField()} ${reasonField('delete-reason')}
      <button type="submit" class="danger">Delete endpoint and its deliveries</button>
    </form>
  </div>`;
}

const endpointNotices = {
  disabled: 'The endpoint is disabled: nothing more is sent to it.',
  enabled: 'The endpoint is enabled.',
  retried: 'The delivery is due now; the deliverer sends it on its next round.',
};

export function registerDeveloperWebhookPages(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  app.get(routeOf(webhooksPath), { schema: { hide: true } }, async (request, reply) => {
    const scope = accountScope(request);
    const page = pageRequest(request.query as Record<string, unknown>);
    const notice = doneNotice(request, { deleted: 'The endpoint is deleted.' });
    const found = await webhooksOf(context).endpoints.list(scope.accountId, page);
    const mayConfigure = can(principalOf(request), 'configure');
    return sendPage(view, request, reply, {
      title: 'Webhook endpoints',
      section: 'developers',
      body: html`<p><a href="${developersPath}">Developers</a> ›</p>
        <h1>Webhook endpoints</h1>
        ${notice} ${accountPicker(scope, scope.accountId)}
        <div class="table-scroll"><table class="list developers" id="endpoints">
          <caption>
            Where this account's events are sent, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Status</th>
              <th scope="col">Events</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            ${found.endpoints.map(
              (endpoint) => html`<tr data-endpoint="${endpoint.id}">
                <th scope="row">
                  <a href="${scope.href(`${webhooksPath}/${endpoint.id}`)}">${endpoint.url}</a>
                  <br /><small><code>${endpoint.id}</code></small>
                </th>
                <td>${statusBadge(endpoint.status)}</td>
                <td>${eventTypeList(endpoint.enabledEvents)}</td>
                <td>${formatTime(endpoint.createdAt)}</td>
              </tr>`,
            )}
            ${
              found.endpoints.length === 0 &&
              html`<tr>
                <td colspan="4">No endpoints.</td>
              </tr>`
            }
          </tbody>
        </table></div>
        ${pager(
          request.url,
          page,
          found.endpoints.map((endpoint) => endpoint.id),
          found.hasMore,
        )}
        ${mayConfigure ? createForm(request, scope) : html`<p>Your role may look at endpoints but not change them.</p>`}`,
    });
  });

  app.post(routeOf(webhooksPath), { schema: { hide: true } }, async (request, reply) => {
    const principal = requirePermission(request, 'configure');
    const scope = accountScope(request);
    const reason = reasonOf(request);
    const url = formText(request, 'url', urlLengthMax);
    const description = formText(request, 'description', descriptionLengthMax);
    const events = formList(request, 'enabled_events', enabledEventsMax);
    await requireAccount(context, scope);
    const endpoints = webhooksOf(context).endpoints;
    // Once per drawn form: a double click or a resent form answers with the first endpoint (and,
    // as the API does for a retried create, its secret once more), never makes a second one.
    let created: { endpoint: WebhookEndpoint; secret: string } | undefined;
    const location = await runOnce(context, request, scope.accountId, async (idempotency) => {
      const made = await endpoints.createOnce(
        scope.accountId,
        { url, enabledEvents: events, ...(description === '' ? {} : { description }) },
        idempotency,
      );
      created = made;
      await context.dashboard.audit.record(principal, {
        merchantId: scope.auditMerchantId,
        action: 'webhook_endpoint.create',
        objectId: made.endpoint.id,
        reason,
        before: null,
        after: endpointSummary(made.endpoint),
        requestId: request.id,
      });
      return scope.href(`${webhooksPath}/${made.endpoint.id}`);
    });
    const { endpoint, secret } =
      created ??
      (await endpoints.resumeCreate(
        scope.accountId,
        /\/(we_[A-Za-z0-9]+)/.exec(location)?.[1] ?? '',
      ));
    // The one answer that carries the secret: not a redirect (see the top of this file).
    return sendPage(view, request, reply, {
      title: 'Endpoint added',
      section: 'developers',
      status: 201,
      body: html`<h1>Endpoint added</h1>
        <p class="notice" role="status">
          <code>${endpoint.url}</code> receives ${eventTypeList(endpoint.enabledEvents)}.
        </p>
        <h2>Signing secret</h2>
        <p>
          Copy it now: it is shown only here, never again. Verify each delivery's signature with
          it (Standard Webhooks).
        </p>
        <p><code class="secret" id="secret">${secret}</code></p>
        <p><a href="${location}">Go to the endpoint</a></p>`,
    });
  });

  app.get(routeOf(`${webhooksPath}/:id`), { schema: { hide: true } }, async (request, reply) => {
    const scope = accountScope(request);
    const id = pathId(request, 'id', 'webhook endpoint');
    const status = enumQuery(request, 'status', deliveryStatuses);
    const page = pageRequest(request.query as Record<string, unknown>);
    const notice = doneNotice(request, endpointNotices);
    const webhooks = webhooksOf(context);
    const endpoint = await webhooks.endpoints.retrieve(scope.accountId, id);
    const found = await webhooks.endpoints.deliveries(scope.accountId, id, { ...page, status });
    const mayConfigure = can(principalOf(request), 'configure');
    return sendPage(view, request, reply, {
      title: `Endpoint ${endpoint.url}`,
      section: 'developers',
      body: html`<p>
          <a href="${developersPath}">Developers</a> ›
          <a href="${scope.href(webhooksPath)}">Webhook endpoints</a> ›
        </p>
        <h1>Endpoint <code>${endpoint.id}</code></h1>
        ${notice}
        <dl class="facts developers">
          <dt>URL</dt>
          <dd><code>${endpoint.url}</code></dd>
          <dt>Status</dt>
          <dd>
            ${statusBadge(endpoint.status)}${endpoint.disabledReason !== null && html` <small>${endpoint.disabledReason}</small>`}
          </dd>
          <dt>Events</dt>
          <dd>${eventTypeList(endpoint.enabledEvents)}</dd>
          <dt>Description</dt>
          <dd>${endpoint.description ?? '—'}</dd>
          <dt>Signature scheme</dt>
          <dd>${endpoint.signatureScheme}</dd>
          <dt>Account</dt>
          <dd><code>${endpoint.merchantId}</code></dd>
          <dt>Created</dt>
          <dd>${formatTime(endpoint.createdAt)}</dd>
        </dl>
        ${mayConfigure && endpointActions(request, scope, endpoint)}
        <h2 id="deliveries-title">Deliveries</h2>
        <form method="get" action="${webhooksPath}/${endpoint.id}" class="filters" role="search" aria-label="Filter deliveries"
          hx-get="${webhooksPath}/${endpoint.id}" hx-target="#deliveries-region" hx-select="#deliveries-region" hx-swap="outerHTML" hx-push-url="true">
          ${scope.operatorOnMerchant && html`<input type="hidden" name="merchant" value="${scope.accountId}" />`}
          <label for="status"
            >Status
            <select id="status" name="status">
              <option value="">any</option>
              ${deliveryStatuses.map((option) => html`<option value="${option}" ${option === status && html`selected`}>${option}</option>`)}
            </select></label
          >
          <button type="submit">Filter</button>
        </form>
        <div id="deliveries-region"><div class="table-scroll">
          <table class="list developers" id="deliveries" aria-labelledby="deliveries-title">
            <thead>
              <tr>
                <th scope="col">Delivery</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" class="amount">Attempts</th>
                <th scope="col">Last response</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Created</th>
                <th scope="col">Replay</th>
              </tr>
            </thead>
            <tbody>
              ${deliveryRows(request, scope, endpoint, found.deliveries, mayConfigure)}
            </tbody>
          </table>
        </div>
        ${pager(
          request.url,
          page,
          found.deliveries.map((delivery) => delivery.id),
          found.hasMore,
        )}</div>`,
    });
  });

  const toggle = (disabled: boolean) =>
    async function (request: FastifyRequest, reply: FastifyReply) {
      const principal = requirePermission(request, 'configure');
      const scope = accountScope(request);
      const id = pathId(request, 'id', 'webhook endpoint');
      const reason = reasonOf(request);
      const endpoints = webhooksOf(context).endpoints;
      const before = await endpoints.retrieve(scope.accountId, id);
      const after = await endpoints.update(scope.accountId, id, { disabled });
      await context.dashboard.audit.record(principal, {
        merchantId: scope.auditMerchantId,
        action: disabled ? 'webhook_endpoint.disable' : 'webhook_endpoint.enable',
        objectId: id,
        reason,
        before: endpointSummary(before),
        after: endpointSummary(after),
        requestId: request.id,
      });
      const done = disabled ? 'disabled' : 'enabled';
      return reply
        .code(303)
        .header('location', scope.href(`${webhooksPath}/${id}`, { done }))
        .send();
    };
  app.post(routeOf(`${webhooksPath}/:id/disable`), { schema: { hide: true } }, toggle(true));
  app.post(routeOf(`${webhooksPath}/:id/enable`), { schema: { hide: true } }, toggle(false));

  app.post(
    routeOf(`${webhooksPath}/:id/delete`),
    { schema: { hide: true } },
    async (request, reply) => {
      const principal = requirePermission(request, 'configure');
      const scope = accountScope(request);
      const id = pathId(request, 'id', 'webhook endpoint');
      const reason = reasonOf(request);
      const endpoints = webhooksOf(context).endpoints;
      // Once per drawn form: a resent form goes where the first went, not to a 404.
      const location = await runOnce(context, request, scope.accountId, async () => {
        const before = await endpoints.retrieve(scope.accountId, id);
        await endpoints.delete(scope.accountId, id);
        await context.dashboard.audit.record(principal, {
          merchantId: scope.auditMerchantId,
          action: 'webhook_endpoint.delete',
          objectId: id,
          reason,
          before: endpointSummary(before),
          after: null,
          requestId: request.id,
        });
        return scope.href(webhooksPath, { done: 'deleted' });
      });
      return reply.code(303).header('location', location).send();
    },
  );

  app.post(
    routeOf(`${webhooksPath}/:id/deliveries/:delivery/retry`),
    { schema: { hide: true } },
    async (request, reply) => {
      const principal = requirePermission(request, 'configure');
      const scope = accountScope(request);
      const id = pathId(request, 'id', 'webhook endpoint');
      const deliveryId = pathId(request, 'delivery', 'webhook delivery');
      const reason = reasonOf(request);
      const webhooks = webhooksOf(context);
      const before = await webhooks.endpoints.delivery(scope.accountId, deliveryId);
      // The delivery of another endpoint (of the same account) is not this page's: missing.
      if (before.endpointId !== id)
        throw new WebhookError(
          'resource_missing',
          `No such webhook delivery: '${deliveryId}'`,
          'id',
        );
      // Once per drawn form: a double click sends the webhook once.
      const location = await runOnce(context, request, scope.accountId, async () => {
        const after = await webhooks.deliverer.redeliver(scope.accountId, deliveryId);
        await context.dashboard.audit.record(principal, {
          merchantId: scope.auditMerchantId,
          action: 'webhook_delivery.retry',
          objectId: deliveryId,
          reason,
          before: deliverySummary(before),
          after: deliverySummary(after),
          requestId: request.id,
        });
        return scope.href(`${webhooksPath}/${id}`, { done: 'retried' });
      });
      return reply.code(303).header('location', location).send();
    },
  );
}
