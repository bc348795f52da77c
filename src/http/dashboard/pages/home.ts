// The dashboard's first page: who is signed in, and where to go.
import type { FastifyInstance } from 'fastify';
import { can } from '../../../dashboard/principal.ts';
import { html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { principalOf } from '../access.ts';
import { dashboardPrefix, sendPage, type DashboardView } from '../layout.ts';

const sections = [
  { path: '/payments', label: 'Payments', what: 'find a payment, its whole timeline, refund it.' },
  { path: '/balances', label: 'Balances', what: 'available and pending funds, every movement.' },
  { path: '/payouts', label: 'Payouts', what: 'money sent to the bank, and what each one pays.' },
  { path: '/settlement', label: 'Settlement', what: 'clearing batches.', operatorOnly: true },
  {
    path: '/reconciliation',
    label: 'Reconciliation',
    what: 'runs and exceptions, resolved here.',
    operatorOnly: true,
  },
  { path: '/connectors', label: 'Connectors', what: 'each PSP’s success rate and latency.' },
  { path: '/developers', label: 'Developers', what: 'API keys, webhooks, events, replays.' },
  { path: '/users', label: 'Team', what: 'who may sign in, and their roles.' },
  { path: '/audit', label: 'Audit log', what: 'every action taken here, with its reason.' },
];

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
          ${sections
            .filter((section) => !section.operatorOnly || principal.merchantId === null)
            .map(
              (section) =>
                html`<li><a href="${dashboardPrefix}${section.path}">${section.label}</a>: ${section.what}</li>`,
            )}
        </ul>`,
    });
  });
}
