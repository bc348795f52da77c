import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskUrlDigits } from './logger.ts';

test("a request URL's personal query values and long digit runs are masked", () => {
  assert.equal(
    maskUrlDigits('/v1/customers?email=ada%40example.org&limit=3'),
    '/v1/customers?email=[redacted]&limit=3',
  );
  assert.equal(
    maskUrlDigits(`/v1/customers/search?query=${encodeURIComponent("email:'ada@example.org'")}`),
    '/v1/customers/search?query=[redacted]',
  );
  assert.equal(
    maskUrlDigits('/v1/charges/search?limit=2&query=name~ada&page=x'),
    '/v1/charges/search?limit=2&query=[redacted]&page=x',
  );
  assert.equal(maskUrlDigits('/v1/payment_intents?limit=10'), '/v1/payment_intents?limit=10');
});
