// GET /v1/three_d_secure/:id/return — where the issuer's ACS sends the card holder's browser back
// after a 3-D Secure challenge. Outside the merchant scope: the browser has no API key; the
// authentication's id is unguessable, and the result is asked of the 3-D Secure server, never read
// from the browser's request. The browser goes on to the merchant's return_url with Stripe's
// parameters (payment_intent, payment_intent_client_secret, redirect_status), or, without one,
// gets a short page saying the authentication is done.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PaymentIntent } from '../../payments/types.ts';
import type { RouteContext } from '../context.ts';

const Params = Type.Object(
  { id: Type.String({ minLength: 5, maxLength: 80, pattern: '^tds_[A-Za-z0-9]+$' }) },
  { additionalProperties: false },
);
// The ACS names the authentication (the simulator's `three_d_secure`); nothing of the query is
// trusted, and other parameters an ACS adds are ignored.
const Query = Type.Object({
  three_d_secure: Type.Optional(Type.String({ maxLength: 100 })),
});

/** Where the card holder's browser reaches Payrail: the public URL if set, else this request's. */
export function originOf(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}

/** Stripe's redirect_status (succeeded, pending, failed), from the intent as it stands. */
function redirectStatus(intent: PaymentIntent): string {
  if (intent.status === 'succeeded' || intent.status === 'requires_capture') return 'succeeded';
  if (intent.status === 'processing') return 'pending';
  return 'failed';
}

function returnTo(intent: PaymentIntent): string | undefined {
  if (intent.returnUrl === null) return undefined;
  const url = new URL(intent.returnUrl);
  url.searchParams.set('payment_intent', intent.id);
  url.searchParams.set('payment_intent_client_secret', intent.clientSecret);
  url.searchParams.set('redirect_status', redirectStatus(intent));
  return url.toString();
}

const donePage = (status: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authentication complete</title></head>
<body><h1>Authentication complete</h1>
<p>Payment status: ${status}. You may close this window.</p></body></html>`;

const retryPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authentication pending</title></head>
<body><h1>We could not confirm your authentication yet</h1>
<p>Reload this page in a few seconds to try again.</p></body></html>`;

export function registerThreeDSecureRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/v1/three_d_secure/:id/return',
    {
      schema: {
        tags: ['3-D Secure'],
        summary: "The card holder's return from a 3-D Secure challenge (a browser, no API key)",
        description:
          "Asks the 3-D Secure server for the result, continues the payment's authorization, " +
          "and sends the browser on to the payment's return_url with payment_intent, " +
          'payment_intent_client_secret and redirect_status.',
        // No response schema: the answer is a redirect or an HTML page, never a JSON object.
        params: Params,
        querystring: Query,
      },
    },
    async (request, reply) => {
      const { intent } = await context.payments.completeAuthentication(
        request.params.id,
        originOf(request, context.config.publicUrl),
      );
      // The 3-D Secure server could not tell the result yet: the card holder reloads this page.
      if (intent.status === 'requires_action')
        return reply
          .code(503)
          .type('text/html; charset=utf-8')
          .header('content-security-policy', "default-src 'none'")
          .header('retry-after', '5')
          .send(retryPage);
      const target = returnTo(intent);
      if (target !== undefined) return reply.code(303).header('location', target).send(null);
      return reply
        .code(200)
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'")
        .send(donePage(redirectStatus(intent)));
    },
  );
}
