// The hosted checkout page, GET and POST /pay/:session, and payment links' pages, GET
// /pay/link/:id. Outside the merchant scope: the buyer's browser has no key; a session's id is
// the capability (unguessable), and the form carries a per-session token too. Answers are HTML
// pages with a strict CSP (src/web/security.ts). A submitted form is answered with a 303 to the
// page itself (POST-redirect-GET): Chromium applies form-action to the redirects after a form
// POST, so the way on to the merchant's success_url or the issuer's 3-D Secure page is a same-
// origin page with a meta refresh (and a visible link), never a redirect answering the POST.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  errorPage,
  formExpiredPage,
  inactiveLinkPage,
  missingLinkPage,
  renderView,
} from '../../checkout/page.ts';
import type { Html } from '../../web/html.ts';
import type { Assets } from '../../web/assets.ts';
import { pageHeaders } from '../../web/security.ts';
import type { RouteContext } from '../context.ts';
import { toErrorResponse } from '../errors.ts';
import { originOf } from './three-d-secure.ts';

const SessionParams = Type.Object(
  { session: Type.String({ minLength: 5, maxLength: 80, pattern: '^cs_[A-Za-z0-9]+$' }) },
  { additionalProperties: false },
);
const LinkParams = Type.Object(
  { id: Type.String({ minLength: 8, maxLength: 80, pattern: '^plink_[A-Za-z0-9]+$' }) },
  { additionalProperties: false },
);
// The 3-D Secure return route sends the browser back here with Stripe's parameters; the page
// reads where the payment stands from the payment itself, never from these.
const PageQuery = Type.Object(
  {
    payment_intent: Type.Optional(Type.String({ maxLength: 100 })),
    payment_intent_client_secret: Type.Optional(Type.String({ maxLength: 200 })),
    redirect_status: Type.Optional(Type.String({ maxLength: 20 })),
  },
  { additionalProperties: false },
);
const Text = (maxLength: number) => Type.Optional(Type.String({ maxLength }));
const CardFormBody = Type.Object(
  {
    token: Text(100),
    card_number: Text(30),
    expiry: Text(10),
    exp_month: Text(2),
    exp_year: Text(4),
    cvc: Text(4),
    name: Text(100),
    email: Text(254),
  },
  { additionalProperties: false },
);

const tags = ['hosted checkout'];

function sendPage(reply: FastifyReply, status: number, page: Html): FastifyReply {
  return reply.code(status).headers(pageHeaders()).send(page.value);
}

export function registerPayRoutes(
  app: FastifyInstance,
  context: RouteContext,
  assets: Assets,
): void {
  const stylesheet = assets.url('checkout.css');
  // In their own scope: a refusal before the handler (validation, the per-address rate limit) or
  // a failure is a page too, never the API's JSON error (a person reads it).
  void app.register(async (pages) => {
    pages.setErrorHandler((error, request, reply) => {
      const response = toErrorResponse(error, request.id);
      if (response.expected)
        request.log.info(
          { code: response.body.error.code, param: response.body.error.param },
          'page request refused',
        );
      else request.log.error({ err: error }, 'unexpected error');
      if (response.retryAfterSeconds !== undefined)
        void reply.header('retry-after', String(response.retryAfterSeconds));
      return sendPage(reply, response.status, errorPage(response.status, stylesheet, request.id));
    });
    registerPages(pages, context, stylesheet);
  });
}

function registerPages(app: FastifyInstance, context: RouteContext, stylesheet: string): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const checkout = context.checkout;

  typed.get(
    '/pay/:session',
    {
      schema: {
        tags,
        summary: "A Checkout Session's hosted page (a browser, no key): HTML",
        description:
          'The card form while the session is open; the way on to success_url once paid, to ' +
          "the issuer's page while 3-D Secure waits; 410 once expired. Also where the buyer " +
          'comes back after 3-D Secure.',
        params: SessionParams,
        querystring: PageQuery,
      },
    },
    async (request, reply) => {
      const view = await checkout.hostedView(request.params.session);
      const { status, page } = renderView(view, stylesheet);
      return sendPage(reply, status, page);
    },
  );

  typed.post(
    '/pay/:session',
    {
      schema: {
        tags,
        summary: 'Pay a Checkout Session with a card (the hosted form; a browser, no key)',
        description:
          "The card goes into Payrail's vault; the session's PaymentIntent is confirmed with it. " +
          'Answers 303 to the page (which shows the outcome), or the form again (400) when it ' +
          'does not check out.',
        params: SessionParams,
        body: CardFormBody,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = await checkout.submit(
        request.params.session,
        {
          token: body.token,
          cardNumber: body.card_number,
          expiry: body.expiry,
          expMonth: body.exp_month,
          expYear: body.exp_year,
          cvc: body.cvc,
          name: body.name,
          email: body.email,
        },
        { origin: originOf(request, context.config.publicUrl), ip: request.ip },
      );
      switch (outcome.kind) {
        case 'see_page':
          return reply.code(303).header('location', `/pay/${request.params.session}`).send(null);
        case 'missing': {
          const { status, page } = renderView({ kind: 'missing' }, stylesheet);
          return sendPage(reply, status, page);
        }
        case 'form_expired':
          return sendPage(reply, 403, formExpiredPage(request.params.session, stylesheet));
        case 'refused': {
          const { page } = renderView(outcome.view, stylesheet, {
            name: body.name,
            email: body.email,
          });
          return sendPage(reply, outcome.status, page);
        }
      }
    },
  );

  typed.get(
    '/pay/link/:id',
    {
      // A HEAD (a link checker, a preview) must not make a session.
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: "A Payment Link's page (a browser, no key): a new Checkout Session each visit",
        description:
          "Answers 303 to the new session's page; an inactive link answers 410 with a page " +
          'that says so.',
        params: LinkParams,
      },
    },
    async (request, reply) => {
      const visit = await checkout.visitLink(
        request.params.id,
        originOf(request, context.config.publicUrl),
      );
      if (visit.kind === 'missing') return sendPage(reply, 404, missingLinkPage(stylesheet));
      if (visit.kind === 'inactive')
        return sendPage(
          reply,
          410,
          inactiveLinkPage(visit.merchant, visit.link.inactiveMessage, stylesheet),
        );
      return reply
        .code(303)
        .header('location', `/pay/${visit.session.id}`)
        .header('cache-control', 'no-store')
        .send(null);
    },
  );
}
