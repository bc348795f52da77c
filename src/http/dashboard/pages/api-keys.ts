// Developers → API keys: a merchant's keys (hints only), and creating, rolling and revoking them
// (src/merchants/api-keys.ts). Each action needs the `configure` permission, asks a reason, runs
// once however often its form is sent (once.ts), and writes its audit entry in the same database
// transaction as the change. A new key's secret is shown once, in the answer to the form that
// made it, and never again (a resent form shows the list instead).
//
// A merchant's session acts on its own keys only; the operator picks a merchant (`?merchant=`).
// Another merchant's key id answers 404, like one that does not exist.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { can, type Principal } from '../../../dashboard/principal.ts';
import {
  ROLL_EXPIRY_HOURS_MAX,
  type ApiKeyStatus,
  type ApiKeyView,
} from '../../../merchants/api-keys.ts';
import { formatTime } from '../../../web/format.ts';
import { html, type Html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { merchantScope, requirePermission } from '../access.ts';
import { DashboardError } from '../errors.ts';
import { onceField, runOnce } from '../once.ts';
import {
  csrfField,
  dashboardPrefix,
  reasonField,
  sendPage,
  type DashboardView,
} from '../layout.ts';

type Fields = Record<string, unknown>;

const keysPath = `${dashboardPrefix}/developers/api-keys`;
const keyIdPattern = /^key_[A-Za-z0-9]{1,64}$/;

/** Key status → the status badge classes dashboard.css already colours. */
const statusTone: Record<ApiKeyStatus, string> = {
  active: 'succeeded',
  expiring: 'pending',
  expired: 'failed',
  revoked: 'failed',
};

/** The expiries offered when rolling (hours; 0 = now), as Stripe's dashboard offers them. */
const rollExpiries: readonly { hours: number; label: string }[] = [
  { hours: 0, label: 'now' },
  { hours: 1, label: 'in 1 hour' },
  { hours: 24, label: 'in 24 hours' },
  { hours: 72, label: 'in 3 days' },
  { hours: ROLL_EXPIRY_HOURS_MAX, label: 'in 7 days' },
];

const doneNotices: Record<string, string> = {
  created: 'The key was created and recorded in the audit log.',
  rolled: 'The key was rolled and recorded in the audit log.',
  revoked: 'The key was revoked and recorded in the audit log. It is refused from now on.',
  resent:
    'This form was sent already: its key was made then, and its secret was shown only once. ' +
    'If it was not copied, roll that key.',
};

function text(fields: Fields, name: string, max: number): string | undefined {
  const value = fields[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > max)
    throw new DashboardError(400, `${name}: a single value of at most ${max} characters.`);
  return value.trim();
}

function reasonOf(fields: Fields): string {
  const reason = text(fields, 'reason', 500);
  if (reason === undefined || reason.length < 3)
    throw new DashboardError(
      400,
      'reason: say why (3 to 500 characters); it goes in the audit log.',
    );
  return reason;
}

/** The merchant whose keys the request is about: its own, or the operator's `?merchant=`. */
async function keyOwner(context: RouteContext, request: FastifyRequest): Promise<string> {
  const merchantId = merchantScope(request);
  if (merchantId === undefined)
    throw new DashboardError(400, 'merchant: choose the merchant whose keys to manage.');
  if ((await context.merchants.get(merchantId)) === undefined)
    throw new DashboardError(404, `No merchant ${merchantId}.`);
  return merchantId;
}

function keyIdOf(request: FastifyRequest): string {
  const { id } = request.params as { id: string };
  if (!keyIdPattern.test(id)) throw new DashboardError(404, 'No such API key.');
  return id;
}

/** `?merchant=` for the operator (their forms and links carry it), nothing for a merchant. */
function scopeQuery(principal: Principal, merchantId: string): string {
  return principal.merchantId === null ? `?merchant=${encodeURIComponent(merchantId)}` : '';
}

function listUrl(principal: Principal, merchantId: string, done: string): string {
  const scope = scopeQuery(principal, merchantId);
  return `${keysPath}${scope === '' ? '?' : `${scope}&`}done=${done}`;
}

function keyRow(
  request: FastifyRequest,
  principal: Principal,
  merchantId: string,
  key: ApiKeyView,
): Html {
  const scope = scopeQuery(principal, merchantId);
  const configure = can(principal, 'configure');
  const rollable = configure && key.status === 'active';
  const revocable = configure && (key.status === 'active' || key.status === 'expiring');
  return html`<tr data-key="${key.id}">
  <td>${key.name ?? '—'}</td>
  <td><code>${key.hint}</code></td>
  <td>${key.kind}</td>
  <td><span class="status ${statusTone[key.status]}">${key.status}</span></td>
  <td>${formatTime(key.createdAt)}</td>
  <td>${key.revokedAt !== null ? html`revoked ${formatTime(key.revokedAt)}` : key.expiresAt !== null ? html`${key.status === 'expired' ? 'expired' : 'expires'} ${formatTime(key.expiresAt)}` : '—'}</td>
  <td>
  ${
    rollable &&
    html`<details><summary>Roll</summary>
    <form method="post" action="${keysPath}/${key.id}/roll${scope}" class="stack">
      ${csrfField(request)}${onceField()}
      <label for="expires-${key.id}">The old key stops working</label>
      <select id="expires-${key.id}" name="expires_in_hours">
        ${rollExpiries.map((choice) => html`<option value="${String(choice.hours)}">${choice.label}</option>`)}
      </select>
      ${reasonField(`reason-roll-${key.id}`)}
      <button type="submit">Roll ${key.hint}</button>
    </form></details>`
  }
  ${
    revocable &&
    html`<details><summary>Revoke</summary>
    <form method="post" action="${keysPath}/${key.id}/revoke${scope}" class="stack">
      ${csrfField(request)}${onceField()}
      ${reasonField(`reason-revoke-${key.id}`)}
      <button type="submit" class="danger">Revoke ${key.hint} now</button>
    </form></details>`
  }
  </td>
</tr>`;
}

/** The answer to the form that made a key: its secret, once. */
function secretPage(
  view: DashboardView,
  request: FastifyRequest,
  reply: FastifyReply,
  principal: Principal,
  merchantId: string,
  made: { secret: string; key: ApiKeyView; done: 'created' | 'rolled' },
): FastifyReply {
  return sendPage(view, request, reply, {
    title: 'Your new API key',
    section: 'developers',
    body: html`<h1>Your new API key</h1>
<p class="notice" role="status">${doneNotices[made.done]}</p>
<p><strong>Copy it now: it is shown this once and never again.</strong> Payrail keeps only its hash.</p>
<label for="new-secret">${made.key.name ?? 'Secret key'} (${made.key.hint})</label>
<input id="new-secret" class="secret" readonly value="${made.secret}" autocomplete="off" spellcheck="false">
<p><a href="${keysPath}${scopeQuery(principal, merchantId)}">← API keys</a></p>`,
  });
}

export function registerApiKeyPages(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  const apiKeys = context.apiKeys;
  const audit = context.dashboard.audit;

  app.get('/developers/api-keys', { schema: { hide: true } }, async (request, reply) => {
    const principal = requirePermission(request, 'view');
    const query = request.query as Fields;
    if (principal.merchantId === null && merchantScope(request) === undefined)
      return sendPage(view, request, reply, {
        title: 'API keys',
        section: 'developers',
        body: html`<h1>API keys</h1>
<form method="get" action="${keysPath}" class="filters">
  <label>Merchant<input name="merchant" placeholder="mch_…" maxlength="68" required></label>
  <button type="submit">Show its keys</button>
</form>`,
      });
    const merchantId = await keyOwner(context, request);
    const keys = await apiKeys.listKeys(merchantId);
    const done = typeof query.done === 'string' ? doneNotices[query.done] : undefined;
    const scope = scopeQuery(principal, merchantId);
    return sendPage(view, request, reply, {
      title: 'API keys',
      section: 'developers',
      body: html`<h1>API keys</h1>
${principal.merchantId === null && html`<p>Merchant <code>${merchantId}</code></p>`}
${done !== undefined && html`<p class="notice" role="status">${done}</p>`}
<p>Secret keys (<code>sk_</code>) act on everything of the merchant; the publishable key (<code>pk_</code>) only confirms payments with their client secret. A key is shown once, when it is made; this page shows its last four characters. Rolling makes a new key and ends the old one now or later; revoking ends it now.</p>
<div class="table-scroll">
<table class="list">
  <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Ends</th><th scope="col">Actions</th></tr></thead>
  <tbody>${keys.map((key) => keyRow(request, principal, merchantId, key))}</tbody>
</table>
</div>
${
  can(principal, 'configure') &&
  html`<div class="actions">
<form method="post" action="${keysPath}${scope}" class="stack">
  <h2>New secret key</h2>
  ${csrfField(request)}${onceField()}
  <label for="key-name">Name (optional)</label>
  <input id="key-name" name="name" maxlength="100" autocomplete="off">
  ${reasonField('reason-create')}
  <button type="submit">Create secret key</button>
</form>
</div>`
}`,
    });
  });

  app.post('/developers/api-keys', { schema: { hide: true } }, async (request, reply) => {
    const principal = requirePermission(request, 'configure');
    const merchantId = await keyOwner(context, request);
    const fields = request.body as Fields;
    const reason = reasonOf(fields);
    const name = text(fields, 'name', 100);
    let made: { secret: string; key: ApiKeyView } | undefined;
    // The first answer shows the secret; the form sent again gets the list (runOnce's location).
    await runOnce(context, request, merchantId, async (idempotency) => {
      if (idempotency.resumed === true && typeof idempotency.resourceId === 'string')
        return listUrl(principal, merchantId, 'resent');
      const created = await apiKeys.createKey(merchantId, {
        kind: 'secret',
        ...(name === undefined ? {} : { name }),
        within: async (tx, { key, change }) => {
          await idempotency.bind?.(tx, key.id);
          await audit.record(
            principal,
            {
              merchantId,
              action: 'api_key.create',
              objectId: key.id,
              reason,
              before: change.before,
              after: change.after,
              requestId: request.id,
            },
            tx,
          );
        },
      });
      made = created;
      return listUrl(principal, merchantId, 'resent');
    });
    if (made === undefined)
      return reply
        .code(303)
        .header('location', listUrl(principal, merchantId, 'resent'))
        .send();
    return secretPage(view, request, reply, principal, merchantId, { ...made, done: 'created' });
  });

  app.post('/developers/api-keys/:id/roll', { schema: { hide: true } }, async (request, reply) => {
    const principal = requirePermission(request, 'configure');
    const merchantId = await keyOwner(context, request);
    const keyId = keyIdOf(request);
    const fields = request.body as Fields;
    const reason = reasonOf(fields);
    const hoursText = text(fields, 'expires_in_hours', 3) ?? '0';
    const hours = /^\d{1,3}$/.test(hoursText) ? Number(hoursText) : Number.NaN;
    if (!(hours >= 0 && hours <= ROLL_EXPIRY_HOURS_MAX))
      throw new DashboardError(
        400,
        `expires_in_hours: a whole number of hours from 0 to ${ROLL_EXPIRY_HOURS_MAX}.`,
      );
    let made: { secret: string; key: ApiKeyView } | undefined;
    await runOnce(context, request, merchantId, async (idempotency) => {
      if (idempotency.resumed === true && typeof idempotency.resourceId === 'string')
        return listUrl(principal, merchantId, 'resent');
      const rolled = await apiKeys.rollKey(merchantId, keyId, {
        expiresInHours: hours,
        within: async (tx, { key, created, rolled: old }) => {
          await idempotency.bind?.(tx, key.id);
          await audit.record(
            principal,
            {
              merchantId,
              action: 'api_key.roll',
              objectId: keyId,
              reason,
              before: old.before,
              after: { rolled: old.after, new_key: created.after },
              requestId: request.id,
            },
            tx,
          );
        },
      });
      made = rolled;
      return listUrl(principal, merchantId, 'resent');
    });
    if (made === undefined)
      return reply
        .code(303)
        .header('location', listUrl(principal, merchantId, 'resent'))
        .send();
    return secretPage(view, request, reply, principal, merchantId, { ...made, done: 'rolled' });
  });

  app.post(
    '/developers/api-keys/:id/revoke',
    { schema: { hide: true } },
    async (request, reply) => {
      const principal = requirePermission(request, 'configure');
      const merchantId = await keyOwner(context, request);
      const keyId = keyIdOf(request);
      const reason = reasonOf(request.body as Fields);
      const location = await runOnce(context, request, merchantId, async (idempotency) => {
        if (idempotency.resumed === true && typeof idempotency.resourceId === 'string')
          return listUrl(principal, merchantId, 'revoked');
        await apiKeys.revokeKey(merchantId, keyId, {
          within: async (tx, { key, change }) => {
            await idempotency.bind?.(tx, key.id);
            await audit.record(
              principal,
              {
                merchantId,
                action: 'api_key.revoke',
                objectId: key.id,
                reason,
                before: change.before,
                after: change.after,
                requestId: request.id,
              },
              tx,
            );
          },
        });
        return listUrl(principal, merchantId, 'revoked');
      });
      return reply.code(303).header('location', location).send();
    },
  );
}
