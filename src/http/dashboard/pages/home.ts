// The dashboard's first page: who is signed in, and where to go.
import type { FastifyInstance } from 'fastify';
import { can } from '../../../dashboard/principal.ts';
import { html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { principalOf } from '../access.ts';
import { dashboardPrefix, sendPage, type DashboardView } from '../layout.ts';

export function registerHomePage(
  app: FastifyInstance,
  _context: RouteContext,
  view: DashboardView,
): void {
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const principal = principalOf(request);
    const permissions = (['move_money', 'configure', 'manage_users'] as const).filter((name) =>
      can(principal, name),
    );
    return sendPage(view, request, reply, {
      title: 'Home',
      section: 'home',
      body: html`<h1>${principal.merchantId === null ? 'Operator dashboard' : 'Dashboard'}</h1>
        <p>
          Signed in as
          <strong>${principal.actor}</strong>
          (${principal.role})${principal.merchantId !== null && html` for merchant <code>${principal.merchantId}</code>`}.
        </p>
        <p>
          ${permissions.length === 0 ? 'Read-only access.' : html`You may: ${permissions.join(', ').replaceAll('_', ' ')}.`}
        </p>
        <ul class="cards">
          <li>
            <a href="${dashboardPrefix}/payments">Payments</a>: find a payment and its whole
            timeline.
          </li>
          <li>
            <a href="${dashboardPrefix}/audit">Audit log</a>: every action taken here, with its
            reason.
          </li>
        </ul>`,
    });
  });
}
