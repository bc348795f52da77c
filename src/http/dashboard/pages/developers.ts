// Developers: the section's index (API keys, webhook endpoints, events and, for the operator, the
// dead-letter queue) and the registration of its pages. The API keys page is its own module
// (pages/api-keys.ts), registered on its own.
import type { FastifyInstance } from 'fastify';
import { html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { principalOf } from '../access.ts';
import { registerSection, sendPage, type DashboardView } from '../layout.ts';
import { developersPath, routeOf } from './developers-common.ts';
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
    const operator = principalOf(request).merchantId === null;
    return sendPage(view, request, reply, {
      title: 'Developers',
      section: 'developers',
      body: html`<h1>Developers</h1>
        <ul class="cards">
          <li>
            <a href="${developersPath}/api-keys">API keys</a>: create, roll and revoke secret keys.
          </li>
          <li>
            <a href="${webhooksPath}">Webhook endpoints</a>: where events are sent, each
            delivery with its attempts, and replays.
          </li>
          <li><a href="${eventsPath}">Events</a>: what happened, with each event's payload.</li>
          ${
            operator &&
            html`<li>
              <a href="${deadLettersPath}">Dead-letter queue</a>: events a consumer gave up on,
              and their replay.
            </li>`
          }
        </ul>
        ${operator && html`<p>The operator's webhook endpoints and events are the platform account's; name a merchant on those pages to see its own.</p>`}`,
    });
  });
  registerDeveloperWebhookPages(app, context, view);
  registerDeveloperEventPages(app, context, view);
  registerDeveloperDeadLetterPages(app, context, view);
}
