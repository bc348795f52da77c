import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  modeOfKey,
  modeOfSecretKey,
  publishableKeyPrefix,
  secretKeyPrefix,
  withLivemode,
} from './mode.ts';

test('the key prefix names the mode, and only the two prefixes are keys', () => {
  assert.equal(secretKeyPrefix(true), 'sk_live_');
  assert.equal(secretKeyPrefix(false), 'sk_test_');
  assert.deepEqual(modeOfSecretKey('sk_live_abc'), { livemode: true });
  assert.deepEqual(modeOfSecretKey('sk_test_abc'), { livemode: false });
  for (const other of ['sk_abc', 'pk_live_abc', 'ak_abc', 'SK_LIVE_abc', ''])
    assert.equal(modeOfSecretKey(other), undefined, other);
});

test('a key prefix names kind and mode: sk_ secret, pk_ publishable', () => {
  assert.equal(publishableKeyPrefix(true), 'pk_live_');
  assert.equal(publishableKeyPrefix(false), 'pk_test_');
  assert.deepEqual(modeOfKey('pk_live_abc'), { kind: 'publishable', livemode: true });
  assert.deepEqual(modeOfKey('pk_test_abc'), { kind: 'publishable', livemode: false });
  assert.deepEqual(modeOfKey('sk_test_abc'), { kind: 'secret', livemode: false });
  for (const other of ['pk_abc', 'rk_test_abc', 'PK_TEST_abc', 'ak_abc', ''])
    assert.equal(modeOfKey(other), undefined, other);
});

test('withLivemode: the object, each object of a list, and an event with its object', () => {
  const intent = { id: 'pi_1', object: 'payment_intent', livemode: false, amount: 5n };
  assert.deepEqual(withLivemode(intent), { ...intent, livemode: true });
  assert.equal(intent.livemode, false, 'the presented object is not changed in place');

  const page = { object: 'list', data: [intent, { ...intent, id: 'pi_2' }], has_more: false };
  assert.deepEqual(withLivemode(page), {
    ...page,
    data: [
      { ...intent, livemode: true },
      { ...intent, id: 'pi_2', livemode: true },
    ],
  });

  const event = { id: 'evt_1', object: 'event', livemode: false, data: { object: intent } };
  assert.deepEqual(withLivemode(event), {
    ...event,
    livemode: true,
    data: { object: { ...intent, livemode: true } },
  });
  assert.deepEqual(withLivemode({ object: 'list', data: [event] }), {
    object: 'list',
    data: [withLivemode(event)],
  });
});

test('withLivemode: the payment intent of an error, and an error without one as it is', () => {
  const declined = {
    error: { code: 'card_declined', payment_intent: intentLike(), message: 'declined' },
  };
  assert.deepEqual(withLivemode(declined), {
    error: { ...declined.error, payment_intent: { ...intentLike(), livemode: true } },
  });
  const plain = { error: { code: 'resource_missing', message: 'no' } };
  assert.equal(withLivemode(plain), plain);
});

test('withLivemode leaves what has no livemode as it is, and looks no deeper than an event', () => {
  const balance = { object: 'balance', available: [], pending: [] };
  assert.equal(withLivemode(balance), balance);
  for (const value of [null, 'text', 12, [intentLike()]]) assert.equal(withLivemode(value), value);
  const nested = { ...intentLike(), metadata: { livemode: false }, attempts: [intentLike()] };
  const shown = withLivemode(nested) as typeof nested;
  assert.deepEqual(shown.metadata, { livemode: false }, 'merchant metadata is theirs');
  assert.equal(shown.attempts[0]?.livemode, false);
});

function intentLike() {
  return { id: 'pi_x', object: 'payment_intent', livemode: false };
}
