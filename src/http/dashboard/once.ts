// Exactly-once dashboard actions. A form that moves money carries a random token made when the
// page was drawn; its action runs under the idempotency key `dashboard_<token>` of the object's
// merchant, as an API request under an Idempotency-Key would: a double click, a resubmitted form
// or a retry after a crash finishes the first action (resuming it) and never runs a second one.
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { IdempotentRequest } from '../../idempotency/request.ts';
import { html, type Html } from '../../web/html.ts';
import type { RouteContext } from '../context.ts';
import { DashboardError } from './errors.ts';

const tokenPattern = /^[A-Za-z0-9_-]{16,64}$/;

/** The hidden field of a form whose action must run once. */
export function onceField(): Html {
  return html`<input type="hidden" name="_once" value="${crypto.randomBytes(18).toString('base64url')}">`;
}

/**
 * Runs `work` once for the form's token; answers where to send the browser (the first run's
 * answer for a repeat).
 */
export async function runOnce(
  context: RouteContext,
  request: FastifyRequest,
  merchantId: string,
  work: (idempotency: IdempotentRequest) => Promise<string>,
): Promise<string> {
  const fields = { ...(request.body as Record<string, unknown>) };
  const token = fields._once;
  if (typeof token !== 'string' || !tokenPattern.test(token))
    throw new DashboardError(400, '_once: the form is incomplete. Reload the page.');
  delete fields._csrf;
  const key = `dashboard_${token}`;
  const begun = await context.idempotency.begin({
    merchantId,
    key,
    method: 'POST',
    path: request.url,
    body: fields,
  });
  if (begun.kind === 'replay') return (begun.body as { location: string }).location;
  if (begun.kind === 'in_use')
    throw new DashboardError(409, 'This action is still running. Reload the page in a moment.');
  if (begun.kind === 'mismatch')
    throw new DashboardError(400, 'This form was already sent with other values. Reload the page.');
  try {
    const location = await work({
      resumed: begun.resumed,
      resourceId: begun.resourceId,
      bind: (tx, id) => context.idempotency.bindResource(tx, merchantId, key, id),
    });
    await context.idempotency.finish(merchantId, key, 303, JSON.stringify({ location }));
    return location;
  } catch (error) {
    await context.idempotency.release(merchantId, key);
    throw error;
  }
}
