// Developers: the section's index (API keys, webhook endpoints, events and, for the operator, the
// dead-letter queue) and the registration of its pages. The API keys page is its own module
// (pages/api-keys.ts), registered on its own.
import type { FastifyInstance } from 'fastify';
import { html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { registerSection, sendPage, type DashboardView } from '../layout.ts';
import { accountPicker, accountScope, developersPath, routeOf } from './developers-common.ts';
import { deadLettersPath, registerDeveloperDeadLetterPages } from './developers-dead-letters.ts';
import { eventsPath, registerDeveloperEventPages } from './developers-events.ts';
import { registerDeveloperWebhookPages, webhooksPath } from './developers-webhooks.ts';

export function registerDevelopersPages(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('developers');
  app.get(routeOf(developersPath), { schema: { hide: true } }, async (request, reply) => {
    // The operator's `?merchant=` carries on to the pages (API keys need one; webhooks and events
    // are the platform account's without one).
    const scope = accountScope(request);
    const keysPath = `${developersPath}/api-keys`;
    return sendPage(view, request, reply, {
      title: 'Developers',
      section: 'developers',
      body: html`<h1>Developers</h1>
        ${accountPicker(scope, scope.accountId)}
        <ul class="cards">
          <li>
            ${
              scope.operator && !scope.operatorOnMerchant
                ? html`API keys: a merchant's; name the merchant above first.`
                : html`<a href="${scope.href(keysPath)}">API keys</a>: create, roll and revoke
                    secret keys.`
            }
          </li>
          <li>
            <a href="${scope.href(webhooksPath)}">Webhook endpoints</a>: where events are sent,
            each delivery with its attempts, and replays.
          </li>
          <li>
            <a href="${scope.href(eventsPath)}">Events</a>: what happened, with each event's
            payload.
          </li>
          ${
            scope.operator &&
            html`<li>
              <a href="${deadLettersPath}">Dead-letter queue</a>: events a consumer gave up on,
              and their replay.
            </li>`
          }
        </ul>
        ${scope.operator && html`<p>Without a merchant, the operator's webhook endpoints and events are the platform account's own.</p>`}`,
    });
  });
  registerDeveloperWebhookPages(app, context, view);
  registerDeveloperEventPages(app, context, view);
  registerDeveloperDeadLetterPages(app, context, view);
}
