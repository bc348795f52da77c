import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LedgerError } from '../ledger/index.ts';
import { MoneyError } from '../money/index.ts';
import { ApiError, toErrorResponse } from './errors.ts';
import { FormError } from './form.ts';

test('domain errors map to Stripe-shaped 4xx bodies with their param', () => {
  const ledger = toErrorResponse(
    new LedgerError('limit_exceeded', 'would break its limit', 'legs[0].amount'),
    'req_1',
  );
  assert.equal(ledger.status, 400);
  assert.deepEqual(ledger.body.error, {
    type: 'invalid_request_error',
    code: 'limit_exceeded',
    message: 'would break its limit',
    param: 'legs[0].amount',
    request_id: 'req_1',
  });
  const money = toErrorResponse(
    new MoneyError('unknown_currency', 'no such currency', 'currency'),
    'req_2',
  );
  assert.equal(money.status, 400);
  assert.equal(money.body.error.param, 'currency');
  assert.equal(toErrorResponse(new ApiError('api_key_invalid', 'nope'), 'r').status, 401);
  assert.equal(toErrorResponse(new ApiError('idempotency_key_in_use', 'busy'), 'r').status, 409);
  assert.equal(
    toErrorResponse(new LedgerError('id_conflict', 'differs', 'amount'), 'r').status,
    409,
  );
});

test('unknown errors become a generic 500 that reveals nothing but the request id', () => {
  const response = toErrorResponse(
    new Error('connection string postgres://secret@db failed'),
    'req_9',
  );
  assert.equal(response.status, 500);
  assert.equal(response.expected, false);
  assert.equal(response.body.error.type, 'api_error');
  assert.ok(!response.body.error.message.includes('secret'));
  assert.ok(response.body.error.message.includes('req_9'));
});

test('schema validation errors name the param in bracket notation', () => {
  const nested = Object.assign(new Error('invalid'), {
    validation: [
      { keyword: 'type', instancePath: '/metadata/colour', params: {}, message: 'must be string' },
    ],
    validationContext: 'body',
  });
  assert.equal(toErrorResponse(nested, 'r').body.error.param, 'metadata[colour]');
  const missing = Object.assign(new Error('invalid'), {
    validation: [
      { keyword: 'required', instancePath: '/card', params: { missingProperty: 'number' } },
    ],
  });
  const body = toErrorResponse(missing, 'r').body.error;
  assert.equal(body.code, 'parameter_missing');
  assert.equal(body.param, 'card[number]');
});

test('a refused object key names its object and quotes the key', () => {
  const issue = {
    keyword: 'maxLength',
    instancePath: '/metadata',
    params: { limit: 40 },
    message: 'must NOT have more than 40 characters',
    propertyName: 'k'.repeat(60),
  };
  const body = toErrorResponse(
    Object.assign(new Error('invalid'), { validation: [issue], validationContext: 'body' }),
    'r',
  ).body.error;
  assert.equal(body.code, 'parameter_invalid');
  assert.equal(body.param, 'metadata');
  assert.equal(
    body.message,
    `Invalid parameter metadata: the key "${'k'.repeat(50)}…" ` +
      'must NOT have more than 40 characters.',
  );
});

test('a form error names its field when it has one', () => {
  const field = toErrorResponse(
    new FormError("The form field 'amount' is given more than once.", 'amount'),
    'r',
  );
  assert.deepEqual(
    [field.status, field.body.error.code, field.body.error.param],
    [400, 'parameter_invalid', 'amount'],
  );
  const whole = toErrorResponse(
    new FormError('The form-encoded body has an invalid percent-encoding.'),
    'r',
  );
  assert.deepEqual(
    [whole.status, whole.body.error.code, whole.body.error.param],
    [400, 'body_invalid', undefined],
  );
});
