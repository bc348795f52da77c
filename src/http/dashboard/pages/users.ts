// Dashboard users of the scope (the merchant's team, or the operator's staff): list, add with a
// role and a first password, disable and enable. Only an admin may change them; every change is
// audited. A merchant's admin manages that merchant's users only.
import type { FastifyInstance } from 'fastify';
import { can, isRole, roles } from '../../../dashboard/principal.ts';
import { formatTime } from '../../../web/format.ts';
import { html } from '../../../web/html.ts';
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

type Fields = Record<string, unknown>;

function field(body: Fields, name: string, max: number): string {
  const value = body[name];
  if (typeof value !== 'string' || value.trim() === '' || value.length > max)
    throw new DashboardError(400, `${name}: required, at most ${max} characters.`);
  return value.trim();
}

function reason(body: Fields): string {
  const value = field(body, 'reason', 500);
  if (value.length < 3) throw new DashboardError(400, 'reason: at least 3 characters.');
  return value;
}

const publicUser = (user: {
  id: string;
  email: string;
  role: string;
  disabledAt: Date | null;
}) => ({
  id: user.id,
  email: user.email,
  role: user.role,
  disabled: user.disabledAt !== null,
});

export function registerUserPages(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('users');
  const users = context.dashboard.users;

  app.get('/users', { schema: { hide: true } }, async (request, reply) => {
    const principal = principalOf(request);
    const admin = can(principal, 'manage_users');
    const list = await users.list(principal.merchantId);
    const done = (request.query as Fields).done;
    return sendPage(view, request, reply, {
      title: 'Team',
      section: 'users',
      body: html`<h1>${principal.merchantId === null ? 'Operator staff' : 'Team'}</h1>
${typeof done === 'string' && html`<p class="notice" role="status">Saved and recorded in the audit log.</p>`}
<div class="table-scroll"><table class="list" id="users">
<thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Added</th><th scope="col">State</th>${admin && html`<th scope="col">Change</th>`}</tr></thead>
<tbody>
${list.map(
  (user) => html`<tr>
<td>${user.email}</td><td>${user.role}</td><td>${formatTime(user.createdAt)}</td>
<td>${user.disabledAt === null ? 'active' : html`<span class="status canceled">disabled</span>`}</td>
${
  admin &&
  html`<td><form method="post" action="${dashboardPrefix}/users/${user.id}/${user.disabledAt === null ? 'disable' : 'enable'}" class="filters">
  ${csrfField(request)}
  <label>Reason<input name="reason" required minlength="3" maxlength="500"></label>
  <button type="submit"${user.disabledAt === null ? html` class="danger"` : ''}>${user.disabledAt === null ? 'Disable' : 'Enable'}</button>
</form></td>`
}
</tr>`,
)}
${list.length === 0 && html`<tr><td colspan="5">No users yet: sign in with an API key, or add one.</td></tr>`}
</tbody></table></div>
${
  admin &&
  html`<form method="post" action="${dashboardPrefix}/users" class="stack actions">
  <h2>Add a user</h2>
  ${csrfField(request)}
  <label for="new-email">Email</label><input id="new-email" name="email" type="email" required maxlength="320">
  <label for="new-role">Role</label>
  <select id="new-role" name="role">${roles.map((role) => html`<option value="${role}">${role}</option>`)}</select>
  <label for="new-password">First password (12 characters or more; give it to them yourself)</label>
  <input id="new-password" name="password" type="password" required minlength="12" maxlength="200" autocomplete="new-password">
  ${reasonField('new-reason')}
  <button type="submit">Add user</button>
</form>`
}
<p>Roles: <strong>admin</strong> does everything; <strong>developer</strong> API keys, webhooks and replays; <strong>finance</strong> refunds, payouts and reconciliation; <strong>support</strong> reads only.</p>`,
    });
  });

  app.post('/users', { schema: { hide: true } }, async (request, reply) => {
    const principal = requirePermission(request, 'manage_users');
    const body = request.body as Fields;
    const role = field(body, 'role', 20);
    if (!isRole(role)) throw new DashboardError(400, `role: one of ${roles.join(', ')}.`);
    const why = reason(body);
    const user = await users.create({
      email: field(body, 'email', 320),
      password: field(body, 'password', 200),
      role,
      merchantId: principal.merchantId,
    });
    await context.dashboard.audit.record(principal, {
      merchantId: principal.merchantId,
      action: 'dashboard_user.create',
      objectId: user.id,
      reason: why,
      after: publicUser(user),
      requestId: request.id,
    });
    return reply.code(303).header('location', `${dashboardPrefix}/users?done=created`).send();
  });

  app.post('/users/:id/:change', { schema: { hide: true } }, async (request, reply) => {
    const principal = requirePermission(request, 'manage_users');
    const { id, change } = request.params as { id: string; change: string };
    if (change !== 'disable' && change !== 'enable')
      throw new DashboardError(404, `No dashboard page at ${request.url}.`);
    if (id === principal.userId && change === 'disable')
      throw new DashboardError(400, 'You cannot disable yourself.');
    const why = reason(request.body as Fields);
    const changed = await users.setDisabled(principal.merchantId, id, change === 'disable');
    if (changed === undefined) throw new DashboardError(404, `No user ${id}.`);
    await context.dashboard.audit.record(principal, {
      merchantId: principal.merchantId,
      action: `dashboard_user.${change}`,
      objectId: id,
      reason: why,
      before: publicUser(changed.before),
      after: publicUser(changed.after),
      requestId: request.id,
    });
    return reply.code(303).header('location', `${dashboardPrefix}/users?done=${change}`).send();
  });
}
