// The dashboard's page shell: the navigation its principal may use, the scope it sees, and the
// stylesheet and scripts (same origin only: the CSP allows nothing else).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../dashboard/principal.ts';
import type { Assets } from '../../web/assets.ts';
import { html, type Html } from '../../web/html.ts';
import { pageHeaders } from '../../web/security.ts';

export const dashboardPrefix = '/dashboard';

export type Section =
  | 'home'
  | 'payments'
  | 'balances'
  | 'payouts'
  | 'settlement'
  | 'reconciliation'
  | 'connectors'
  | 'developers'
  | 'users'
  | 'audit';

type NavItem = { section: Section; label: string; path: string; operatorOnly?: boolean };

const navigation: readonly NavItem[] = [
  { section: 'home', label: 'Home', path: '' },
  { section: 'payments', label: 'Payments', path: '/payments' },
  { section: 'balances', label: 'Balances', path: '/balances' },
  { section: 'payouts', label: 'Payouts', path: '/payouts' },
  { section: 'settlement', label: 'Settlement', path: '/settlement', operatorOnly: true },
  {
    section: 'reconciliation',
    label: 'Reconciliation',
    path: '/reconciliation',
    operatorOnly: true,
  },
  { section: 'connectors', label: 'Connectors', path: '/connectors' },
  { section: 'developers', label: 'Developers', path: '/developers' },
  { section: 'users', label: 'Team', path: '/users' },
  { section: 'audit', label: 'Audit log', path: '/audit' },
];

/** Sections that exist: a page registers its section when it is built (layout shows only those). */
const registered = new Set<Section>(['home']);
export function registerSection(section: Section): void {
  registered.add(section);
}

export type PageOptions = {
  readonly title: string;
  readonly section: Section;
  readonly body: Html;
  readonly status?: number;
  /** Scripts beyond htmx (uPlot and the dashboard's chart script on chart pages). */
  readonly charts?: boolean;
  /** No navigation and no sign-out form (the sign-in page, whoever the browser is). */
  readonly bare?: boolean;
};

export type DashboardView = {
  readonly assets: Assets;
};

function scopeLabel(principal: Principal): string {
  return principal.merchantId === null ? 'Operator · all merchants' : principal.merchantId;
}

/** A whole page; for an htmx request that targets part of it, only the `#content` region. */
export function sendPage(
  view: DashboardView,
  request: FastifyRequest,
  reply: FastifyReply,
  options: PageOptions,
): FastifyReply {
  void reply.headers(pageHeaders()).code(options.status ?? 200);
  const principal = options.bare === true ? undefined : request.dashboard?.principal;
  const partial =
    request.headers['hx-request'] === 'true' && request.headers['hx-request-type'] === 'partial';
  if (partial)
    return reply.send(html`<title>${options.title} · Payrail</title>${options.body}`.value);
  const nav =
    principal === undefined
      ? []
      : navigation.filter(
          (item) =>
            registered.has(item.section) &&
            (item.operatorOnly !== true || principal.merchantId === null),
        );
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content='{"includeIndicatorCSS":false}' />
        <title>${options.title} · Payrail</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="${view.assets.url('dashboard.css')}" />
        ${options.charts === true && html`<link rel="stylesheet" href="${view.assets.url('uplot.css')}" />`}
        <script src="${view.assets.url('htmx.js')}" defer></script>
        ${options.charts === true && html`<script src="${view.assets.url('uplot.js')}" defer></script>`}
        <script src="${view.assets.url('dashboard.js')}" defer></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="${dashboardPrefix}">Payrail</a>
          ${
            principal !== undefined &&
            html` <nav aria-label="Sections">
                <ul>
                  ${nav.map((item) => html`<li><a href="${dashboardPrefix}${item.path}" ${item.section === options.section ? html` aria-current="page"` : ''}>${item.label}</a></li>`)}
                </ul>
              </nav>
              <div class="who">
                <span title="${principal.actor}">${scopeLabel(principal)} · ${principal.role}</span>
                <form method="post" action="${dashboardPrefix}/sign-out">
                  <input type="hidden" name="_csrf" value="${request.dashboard?.csrfToken}" />
                  <button type="submit" class="link">Sign out</button>
                </form>
              </div>`
          }
        </header>
        <main id="content">${options.body}</main>
      </body>
    </html>`;
  return reply.send(page.value);
}

/** The hidden CSRF field every POST form of the dashboard carries. */
export function csrfField(request: FastifyRequest): Html {
  return html`<input type="hidden" name="_csrf" value="${request.dashboard?.csrfToken}" />`;
}

/** A required reason, asked by every form that moves money or changes configuration. */
export function reasonField(id = 'reason'): Html {
  return html`<label for="${id}">Reason (recorded in the audit log)</label>
    <input id="${id}" name="reason" required minlength="3" maxlength="500" autocomplete="off" />`;
}
