import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMoney as formatAmount } from '../web/format.ts';
import { renderView } from './page.ts';
import { buyerMessage, parseExpiry, successRedirect } from './service.ts';
import type { CheckoutSession } from './types.ts';

test('amounts in the currency’s format and exponent', () => {
  assert.equal(formatAmount(2_000n, 'usd'), '$20.00');
  assert.equal(formatAmount(1_500n, 'jpy'), '¥1,500');
  assert.equal(formatAmount(1_234_567n, 'eur'), '€12,345.67');
  assert.equal(formatAmount(1_000n, 'bhd'), 'BHD\u00a01.000');
  assert.equal(formatAmount(5n, 'krw'), '₩5');
});

test('expiry as people type it, or as two fields', () => {
  assert.deepEqual(parseExpiry({ expiry: '12/34' }), { month: 12, year: 2034 });
  assert.deepEqual(parseExpiry({ expiry: ' 1 / 2031 ' }), { month: 1, year: 2031 });
  assert.deepEqual(parseExpiry({ expiry: '0734' }), { month: 7, year: 2034 });
  assert.deepEqual(parseExpiry({ expMonth: '3', expYear: '2030' }), { month: 3, year: 2030 });
  for (const expiry of ['13/30', '00/30', '1/3', 'ab/cd', '12/345', ''])
    assert.equal(parseExpiry({ expiry }), undefined, expiry);
});

test('what a buyer reads of a decline', () => {
  assert.match(
    buyerMessage({ code: 'card_declined', decline_code: 'generic_decline' }),
    /declined/,
  );
  assert.match(buyerMessage({ code: 'card_declined', decline_code: 'stolen_card' }), /declined/);
  assert.match(
    buyerMessage({ code: 'card_declined', decline_code: 'insufficient_funds' }),
    /funds/,
  );
  assert.match(buyerMessage({ code: 'payment_intent_authentication_failure' }), /authenticate/);
});

const session: CheckoutSession = {
  id: 'cs_test0001',
  merchantId: 'acct_1',
  mode: 'payment',
  status: 'open',
  paymentStatus: 'unpaid',
  currency: 'usd',
  amountSubtotal: 1_000n,
  amountTotal: 1_000n,
  lineItems: [
    {
      id: 'li_1',
      name: '<img src=x onerror=alert(1)>',
      description: '"quoted" & \'single\'',
      unitAmount: '1000',
      quantity: 1,
      amountTotal: '1000',
    },
  ],
  successUrl: 'https://shop.example/ok?id={CHECKOUT_SESSION_ID}&x=1',
  cancelUrl: 'https://shop.example/cancel?a="b"',
  url: 'http://127.0.0.1/pay/cs_test0001',
  expiresAt: new Date(),
  customerId: null,
  customerEmail: null,
  customerDetails: null,
  clientReferenceId: null,
  metadata: {},
  paymentIntentData: {},
  paymentIntentId: null,
  paymentLinkId: null,
  formToken: 'tok_0123456789abcdef',
  completedAt: null,
  expiredAt: null,
  createdAt: new Date(),
};

test('the page escapes what the merchant wrote, and never carries a script or inline style', () => {
  const { status, page } = renderView(
    {
      kind: 'form',
      session,
      merchant: '<b>Shop</b>',
      error: '<i>no</i>',
      errorField: 'cvc',
      askEmail: true,
      testMode: true,
    },
    '/assets/abc/checkout.css',
    { name: '"><script>x</script>', email: 'a@b.co' },
  );
  assert.equal(status, 200);
  const text = page.value;
  assert.doesNotMatch(text, /<img|<script|<b>|<i>|style=/);
  assert.match(text, /&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(text, /&quot;quoted&quot; &amp; &#39;single&#39;/);
  assert.match(text, /href="https:\/\/shop\.example\/cancel\?a=&quot;b&quot;"/);
  assert.match(text, /value="&quot;&gt;&lt;script&gt;x&lt;\/script&gt;"/);
  assert.match(text, /<button type="submit" id="pay">Pay \$10\.00<\/button>/);
  assert.match(text, /role="alert"[^>]*>&lt;i&gt;no&lt;\/i&gt;/);
  // The field in error: described by the alert, marked invalid, focused.
  assert.match(text, /id="cvc"[^>]*aria-describedby="payment-error" aria-invalid="true" autofocus/);
  assert.match(text, /id="card_number"[^>]*aria-describedby="card-hint"/);
  assert.doesNotMatch(text, /id="card_number"[^>]*aria-invalid/);
});

test('success_url with the session id; the complete page goes on by meta refresh', () => {
  assert.equal(successRedirect(session), 'https://shop.example/ok?id=cs_test0001&x=1');
  const { page } = renderView(
    {
      kind: 'complete',
      session,
      merchant: 'Shop',
      redirect: successRedirect(session),
      message: null,
    },
    '/assets/abc/checkout.css',
  );
  assert.match(page.value, /content="0;url=https:\/\/shop\.example\/ok\?id=cs_test0001&amp;x=1"/);
  const expired = renderView({ kind: 'expired', session, merchant: 'Shop' }, '/x.css');
  assert.equal(expired.status, 410);
});
