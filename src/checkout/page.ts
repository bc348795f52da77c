// The hosted checkout page's markup (src/http/routes/pay.ts serves it): server-rendered, every
// value escaped by the html tag, no inline script or style (the CSP forbids both), a plain form
// POST that works without JavaScript, labelled fields, and one stylesheet (web/checkout.css).
// The card number is never written into a page: a refused form comes back without it.
import { formatMoney } from '../web/format.ts';
import { html, type Html } from '../web/html.ts';
import type { FormField, HostedView } from './service.ts';
import type { CheckoutSession, LineItem } from './types.ts';

type Layout = {
  readonly title: string;
  readonly stylesheet: string;
  /** A same-page redirect the browser follows at once (meta refresh), with a visible link too. */
  readonly refresh?: { readonly url: string; readonly seconds: number };
  readonly body: Html;
};

export function layout(page: Layout): Html {
  const refresh =
    page.refresh === undefined
      ? ''
      : html`<meta
          http-equiv="refresh"
          content="${page.refresh.seconds};url=${page.refresh.url}"
        />`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <link rel="icon" href="data:," />
        <title>${page.title}</title>
        <link rel="stylesheet" href="${page.stylesheet}" />
        ${refresh}
      </head>
      <body>
        <main class="checkout">${page.body}</main>
        <footer class="powered">Secured by Payrail</footer>
      </body>
    </html>`;
}

function summary(session: CheckoutSession, merchant: string): Html {
  const item = (line: LineItem) =>
    html`<li class="item">
      <span class="item-name"
        >${line.name}${
          line.description === null
            ? ''
            : html`<span class="item-description">${line.description}</span>`
        }</span
      >
      <span class="item-quantity">${line.quantity > 1 ? html`Qty ${line.quantity}` : ''}</span>
      <span class="item-amount">${formatMoney(BigInt(line.amountTotal), session.currency)}</span>
    </li>`;
  return html`<section class="summary" aria-labelledby="merchant">
    <h1 id="merchant">${merchant}</h1>
    <ul class="items">
      ${session.lineItems.map(item)}
    </ul>
    <p class="total">
      <span>Total</span>
      <strong id="total">${formatMoney(session.amountTotal, session.currency)}</strong>
    </p>
  </section>`;
}

export type FormValues = { readonly name?: string; readonly email?: string };

function field(
  id: FormField,
  label: string,
  attributes: Html,
  options: { readonly value?: string; readonly invalid: boolean; readonly hint?: string },
): Html {
  // The field the error is about: marked invalid, described by the alert, and focused (an
  // attribute: no script), so a keyboard or screen-reader user lands where to fix it.
  const describedBy = [
    ...(options.invalid ? ['payment-error'] : []),
    ...(options.hint === undefined ? [] : [options.hint]),
  ].join(' ');
  return html`<div class="field">
    <label for="${id}">${label}</label>
    <input
      id="${id}"
      name="${id}"
      ${attributes}${options.value === undefined ? '' : html` value="${options.value}"`}${
        describedBy === '' ? '' : html` aria-describedby="${describedBy}"`
      }${options.invalid ? html` aria-invalid="true" autofocus` : ''}
    />
  </div>`;
}

function cardForm(view: HostedView & { kind: 'form' }, given: FormValues): Html {
  const { session } = view;
  // After a decline the buyer types only another card: the name and email of the last try stay.
  const known = session.customerDetails;
  const values = {
    name: given.name ?? known?.name ?? undefined,
    email: given.email ?? known?.email ?? undefined,
  };
  const total = formatMoney(session.amountTotal, session.currency);
  const alert =
    view.error === null
      ? ''
      : html`<div class="alert" role="alert" id="payment-error">${view.error}</div>`;
  const invalid = (id: FormField) => view.errorField === id;
  const email = view.askEmail
    ? field('email', 'Email', html`type="email" autocomplete="email" required maxlength="254"`, {
        value: values.email,
        invalid: invalid('email'),
      })
    : '';
  const cancel =
    session.cancelUrl === null
      ? ''
      : html`<p class="cancel">
          <a href="${session.cancelUrl}" id="cancel">Cancel and return to ${view.merchant}</a>
        </p>`;
  const badge = view.testMode
    ? html`<p class="test-mode" id="test-mode">Test mode: no real money moves.</p>`
    : '';
  return html`<section class="pay" aria-labelledby="pay-heading">
    ${badge}
    <h2 id="pay-heading">Pay with card</h2>
    ${alert}
    <form method="post" action="/pay/${session.id}" class="card-form" autocomplete="on">
      <input type="hidden" name="token" value="${session.formToken}" />
      ${email}
      ${field('card_number', 'Card number', html`type="text" inputmode="numeric" autocomplete="cc-number" required maxlength="23" pattern="[0-9 \\-]{12,23}" placeholder="1234 1234 1234 1234"`, { invalid: invalid('card_number'), hint: 'card-hint' })}
      <p class="hint" id="card-hint">
        Your card details go straight to Payrail's vault; ${view.merchant} never sees them.
      </p>
      <div class="row">
        ${field('expiry', 'Expiry (MM / YY)', html`type="text" inputmode="numeric" autocomplete="cc-exp" required maxlength="7" placeholder="MM / YY"`, { invalid: invalid('expiry') })}
        ${field('cvc', 'Security code (CVC)', html`type="text" inputmode="numeric" autocomplete="cc-csc" required maxlength="4" pattern="[0-9]{3,4}" placeholder="CVC"`, { invalid: invalid('cvc') })}
      </div>
      ${field('name', 'Name on card', html`type="text" autocomplete="cc-name" required maxlength="100"`, { value: values.name, invalid: invalid('name') })}
      <button type="submit" id="pay">Pay ${total}</button>
    </form>
    ${cancel}
  </section>`;
}

function message(title: string, text: Html | string, extra: Html | string = ''): Html {
  return html`<section class="message" aria-labelledby="message-heading">
    <h2 id="message-heading">${title}</h2>
    <p>${text}</p>
    ${extra}
  </section>`;
}

/** The page for a view, with its HTTP status. */
export function renderView(
  view: HostedView,
  stylesheet: string,
  values: FormValues = {},
): { status: number; page: Html } {
  switch (view.kind) {
    case 'missing':
      return {
        status: 404,
        page: layout({
          title: 'Payment page not found',
          stylesheet,
          body: message(
            'Payment page not found',
            'This payment page does not exist. Check the link you were given.',
          ),
        }),
      };
    case 'expired': {
      const back =
        view.session.cancelUrl === null
          ? ''
          : html`<p>
              <a href="${view.session.cancelUrl}" id="return">Return to ${view.merchant}</a>
            </p>`;
      return {
        status: 410,
        page: layout({
          title: 'Checkout expired',
          stylesheet,
          body: html`${summary(view.session, view.merchant)}${message(
            'This checkout session has expired',
            'It can no longer be paid. Start again from the merchant’s site.',
            back,
          )}`,
        }),
      };
    }
    case 'complete': {
      const redirect = view.redirect;
      const next =
        redirect === null
          ? ''
          : html`<p><a href="${redirect}" id="continue">Continue to ${view.merchant}</a></p>`;
      return {
        status: 200,
        page: layout({
          title: 'Payment complete',
          stylesheet,
          ...(redirect === null ? {} : { refresh: { url: redirect, seconds: 0 } }),
          body: html`${summary(view.session, view.merchant)}${message(
            'Payment complete',
            view.message ?? `Thank you. Your payment to ${view.merchant} went through.`,
            next,
          )}`,
        }),
      };
    }
    case 'authenticate':
      return {
        status: 200,
        page: layout({
          title: 'Verify your payment',
          stylesheet,
          refresh: { url: view.redirect, seconds: 0 },
          body: message(
            'Verify your payment with your bank',
            'Your bank asks you to confirm this payment. You are being taken to its page.',
            html`<p><a href="${view.redirect}" id="continue">Continue to your bank</a></p>`,
          ),
        }),
      };
    case 'processing':
      return {
        status: 200,
        page: layout({
          title: 'Processing payment',
          stylesheet,
          refresh: { url: `/pay/${view.session.id}`, seconds: 3 },
          body: message(
            'Processing your payment',
            'This takes a moment. This page reloads by itself.',
            html`<p><a href="/pay/${view.session.id}" id="reload">Reload</a></p>`,
          ),
        }),
      };
    case 'form':
      return {
        status: 200,
        page: layout({
          title: `Pay ${view.merchant}`,
          stylesheet,
          body: html`${summary(view.session, view.merchant)}${cardForm(view, values)}`,
        }),
      };
  }
}

export function formExpiredPage(sessionId: string, stylesheet: string): Html {
  return layout({
    title: 'Form expired',
    stylesheet,
    body: message(
      'This form has expired',
      'Nothing was charged. Open the payment page again to pay.',
      html`<p><a href="/pay/${sessionId}" id="reload">Back to the payment page</a></p>`,
    ),
  });
}

export function inactiveLinkPage(merchant: string, text: string | null, stylesheet: string): Html {
  return layout({
    title: 'Link no longer active',
    stylesheet,
    body: message(
      'This payment link is no longer active',
      text ?? `${merchant} no longer accepts payments through this link.`,
    ),
  });
}

export function missingLinkPage(stylesheet: string): Html {
  return layout({
    title: 'Payment link not found',
    stylesheet,
    body: message('Payment link not found', 'Check the link you were given.'),
  });
}

/** A refusal before the page's own logic (a malformed request, too many requests, a failure). */
export function errorPage(status: number, stylesheet: string, requestId: string): Html {
  const [title, text] =
    status === 429
      ? ['Too many requests', 'Please wait a few seconds, then try again.']
      : status === 404
        ? ['Payment page not found', 'Check the link you were given.']
        : status >= 500
          ? [
              'Something went wrong',
              `Nothing was charged twice. Quote ${requestId} if it persists.`,
            ]
          : ['This request could not be read', 'Open the payment page again from its link.'];
  return layout({ title, stylesheet, body: message(title, text) });
}
