// Developers → Dead-letter queue (the operator's only): events an event-bus consumer gave up on,
// and their replay (the consumer's handler run once more through its inbox, so a second replay
// changes nothing). A merchant's session gets the 404 of a page that does not exist.
import { platformAccountId } from '../../../merchants/platform.ts';
import { onceField, runOnce } from '../once.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { can } from '../../../dashboard/principal.ts';
import type { DeadLetter } from '../../../events/bus/index.ts';
import { formatTime } from '../../../web/format.ts';
import { html, type Html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { principalOf, requirePermission } from '../access.ts';
import { DashboardError } from '../errors.ts';
import { csrfField, reasonField, sendPage, type DashboardView } from '../layout.ts';
import { pageRequest, pager } from '../paging.ts';
import {
  developersPath,
  routeOf,
  enumQuery,
  pathId,
  patternQuery,
  prettyJson,
  reasonOf,
  statusBadge,
} from './developers-common.ts';

export const deadLettersPath = `${developersPath}/dead-letters`;

const statuses = ['pending', 'replayed'] as const;

/** Only the operator's session: anyone else is answered as for a page that does not exist. */
function operatorOnly(request: FastifyRequest, reply: FastifyReply): boolean {
  if (principalOf(request).merchantId === null) return true;
  reply.callNotFound();
  return false;
}

function deadLetterSummary(deadLetter: DeadLetter): Record<string, unknown> {
  return {
    consumer: deadLetter.consumer,
    event_id: deadLetter.eventId,
    attempts: deadLetter.attempts,
    last_error: deadLetter.lastError,
    replayed_at: deadLetter.replayedAt?.toISOString() ?? null,
    replay_count: deadLetter.replayCount,
  };
}

function statusOf(deadLetter: DeadLetter): Html {
  return deadLetter.replayedAt === null
    ? statusBadge('pending')
    : html`${statusBadge('replayed')} <small>${formatTime(deadLetter.replayedAt)}</small>`;
}

function replayForm(
  request: FastifyRequest,
  deadLetter: DeadLetter,
  reasonId: string,
  button: string,
): Html {
  return html`<form method="post" class="stack" action="${deadLettersPath}/${deadLetter.id}/replay">
    ${csrfField(request)} ${onceField()} ${reasonField(reasonId)}
    <button type="submit">${button}</button>
  </form>`;
}

export function registerDeveloperDeadLetterPages(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  app.get(routeOf(deadLettersPath), { schema: { hide: true } }, async (request, reply) => {
    if (!operatorOnly(request, reply)) return reply;
    const consumer = patternQuery(
      request,
      'consumer',
      /^[a-z_]{1,40}$/,
      'a consumer name (lower-case letters and "_")',
    );
    const status = enumQuery(request, 'status', statuses);
    const page = pageRequest(request.query as Record<string, unknown>);
    const found = await context.deadLetters.list({ ...page, consumer, status });
    const mayConfigure = can(principalOf(request), 'configure');
    return sendPage(view, request, reply, {
      title: 'Dead-letter queue',
      section: 'developers',
      body: html`<p><a href="${developersPath}">Developers</a> ›</p>
        <h1>Dead-letter queue</h1>
        <p>
          Events an event-bus consumer gave up on after its attempts. Replay one once its cause is
          fixed: the consumer handles it once more (never twice).
        </p>
        <form method="get" action="${deadLettersPath}" class="filters" role="search" aria-label="Filter dead letters"
          hx-get="${deadLettersPath}" hx-target="#dead-letters-region" hx-select="#dead-letters-region" hx-swap="outerHTML" hx-push-url="true">
          <label for="consumer"
            >Consumer
            <input id="consumer" name="consumer" value="${consumer}" placeholder="webhook_fanout" maxlength="40"
          /></label>
          <label for="status"
            >Status
            <select id="status" name="status">
              <option value="">any</option>
              ${statuses.map((option) => html`<option value="${option}" ${option === status && html`selected`}>${option}</option>`)}
            </select></label
          >
          <button type="submit">Filter</button>
        </form>
        <div id="dead-letters-region"><div class="table-scroll">
          <table class="list developers" id="dead-letters">
            <caption>
              Newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Dead letter</th>
                <th scope="col">Consumer</th>
                <th scope="col">Event</th>
                <th scope="col" class="amount">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Status</th>
                <th scope="col">Dead since</th>
                <th scope="col">Replay</th>
              </tr>
            </thead>
            <tbody>
              ${found.deadLetters.map(
                (deadLetter) => html`<tr data-dead-letter="${deadLetter.id}">
                  <th scope="row">
                    <a href="${deadLettersPath}/${deadLetter.id}"><code>${deadLetter.id}</code></a>
                  </th>
                  <td><code>${deadLetter.consumer}</code></td>
                  <td><code>${deadLetter.eventType}</code><br /><small>${deadLetter.eventId}</small></td>
                  <td class="amount">${deadLetter.attempts}</td>
                  <td><small>${deadLetter.lastError}</small></td>
                  <td>${statusOf(deadLetter)}</td>
                  <td>${formatTime(deadLetter.createdAt)}</td>
                  <td>
                    ${mayConfigure ? html`<details class="row-action"><summary>Replay</summary>${replayForm(request, deadLetter, `reason-${deadLetter.id}`, `Replay ${deadLetter.id}`)}</details>` : '—'}
                  </td>
                </tr>`,
              )}
              ${
                found.deadLetters.length === 0 &&
                html`<tr>
                  <td colspan="8">No dead letters.</td>
                </tr>`
              }
            </tbody>
          </table>
        </div>
        ${pager(
          request.url,
          page,
          found.deadLetters.map((deadLetter) => deadLetter.id),
          found.hasMore,
        )}</div>`,
    });
  });

  app.get(routeOf(`${deadLettersPath}/:id`), { schema: { hide: true } }, async (request, reply) => {
    if (!operatorOnly(request, reply)) return reply;
    const id = pathId(request, 'id', 'dead letter');
    const deadLetter = await context.deadLetters.get(id);
    if (deadLetter === undefined) throw new DashboardError(404, `No such dead letter: '${id}'.`);
    // The outcome of the latest replay, as the audit log recorded it.
    const replays = await context.dashboard.audit.list(
      null,
      { objectId: id, action: 'dead_letter.replay' },
      { limit: 1 },
    );
    const last = replays.rows[0];
    const outcome = (last?.after as { outcome?: unknown; error?: unknown } | null)?.outcome;
    const mayConfigure = can(principalOf(request), 'configure');
    return sendPage(view, request, reply, {
      title: `Dead letter ${deadLetter.id}`,
      section: 'developers',
      body: html`<p>
          <a href="${developersPath}">Developers</a> ›
          <a href="${deadLettersPath}">Dead-letter queue</a> ›
        </p>
        <h1>Dead letter <code>${deadLetter.id}</code></h1>
        ${
          last !== undefined &&
          html`<p class="notice" role="status" id="replay-outcome">
            Last replay: <strong>${String(outcome)}</strong>, by ${last.actor} at
            ${formatTime(last.createdAt)} (${last.reason}).
          </p>`
        }
        <dl class="facts developers">
          <dt>Consumer</dt>
          <dd><code>${deadLetter.consumer}</code></dd>
          <dt>Event</dt>
          <dd><code>${deadLetter.eventType}</code> <code>${deadLetter.eventId}</code></dd>
          <dt>Attempts before it was given up</dt>
          <dd>${deadLetter.attempts}</dd>
          <dt>Last error</dt>
          <dd><pre>${deadLetter.lastError}</pre></dd>
          <dt>Dead since</dt>
          <dd>${formatTime(deadLetter.createdAt)}</dd>
          <dt>Status</dt>
          <dd>${statusOf(deadLetter)}</dd>
          <dt>Replays</dt>
          <dd>${deadLetter.replayCount}</dd>
        </dl>
        ${
          last !== undefined &&
          html`<details>
            <summary>The latest replay as audited</summary>
            <pre>${prettyJson(last.after)}</pre>
          </details>`
        }
        ${
          mayConfigure &&
          html`<div class="actions">
            ${replayForm(request, deadLetter, 'replay-reason', 'Replay')}
          </div>`
        }`,
    });
  });

  app.post(
    routeOf(`${deadLettersPath}/:id/replay`),
    { schema: { hide: true } },
    async (request, reply) => {
      if (!operatorOnly(request, reply)) return reply;
      const principal = requirePermission(request, 'configure');
      const id = pathId(request, 'id', 'dead letter');
      const reason = reasonOf(request);
      const before = await context.deadLetters.get(id);
      if (before === undefined) throw new DashboardError(404, `No such dead letter: '${id}'.`);
      // Once per drawn form (the operator's own key space): a double click replays once.
      const location = await runOnce(context, request, platformAccountId, async () => {
        const result = await context.deadLetters.replay(id);
        request.log.info({ deadLetterId: id, outcome: result.outcome }, 'dead letter replayed');
        await context.dashboard.audit.record(principal, {
          merchantId: null,
          action: 'dead_letter.replay',
          objectId: id,
          reason,
          before: deadLetterSummary(before),
          after: {
            outcome: result.outcome,
            ...(result.error === undefined ? {} : { error: result.error }),
            ...deadLetterSummary(result.deadLetter),
          },
          requestId: request.id,
        });
        return `${deadLettersPath}/${id}`;
      });
      return reply.code(303).header('location', location).send();
    },
  );
}
