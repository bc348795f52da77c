import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptIdOf, chargeIdOf, latestChargeId, newSortableId, randomBase62 } from './ids.ts';

test('sortable ids: fixed shape, time order, and creation order within one millisecond', () => {
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);
  const sameMillisecond = Array.from({ length: 1000 }, () => newSortableId('evt', now));
  for (const id of sameMillisecond) assert.match(id, /^evt_[0-9A-Za-z]{22}$/);
  assert.deepEqual(
    [...sameMillisecond].sort(),
    sameMillisecond,
    'made in one millisecond, they sort as made',
  );
  assert.equal(new Set(sameMillisecond).size, sameMillisecond.length);
  assert.ok(
    newSortableId('evt', now - 1) < newSortableId('evt', now),
    'an earlier millisecond sorts first',
  );
  assert.ok(newSortableId('evt', now) < newSortableId('evt', now + 1));
});

test('random base62 across many refills of the random pool: every value new, every character about equally likely', () => {
  const secrets = Array.from({ length: 10_000 }, () => randomBase62(43));
  assert.equal(
    new Set(secrets).size,
    secrets.length,
    'no value repeats (pooled bytes are used once)',
  );
  const counts = new Map<string, number>();
  for (const secret of secrets) {
    assert.match(secret, /^[0-9A-Za-z]{43}$/);
    for (const character of secret) counts.set(character, (counts.get(character) ?? 0) + 1);
  }
  assert.equal(counts.size, 62);
  const expected = (secrets.length * 43) / 62;
  for (const [character, count] of counts)
    assert.ok(
      Math.abs(count - expected) < expected * 0.1,
      `${character}: ${count} of ~${expected.toFixed(0)}`,
    );
});

test('a charge id maps to exactly one attempt id and back; anything else names no attempt', () => {
  const attempt = newSortableId('pa');
  const charge = chargeIdOf(attempt);
  assert.match(charge, /^ch_[0-9A-Za-z]{22}$/);
  assert.equal(attemptIdOf(charge), attempt);
  assert.notEqual(chargeIdOf(newSortableId('pa')), charge);
  for (const other of ['ch_', 'pi_abc', 'pa_abc', 'abc', ''])
    assert.equal(attemptIdOf(other), undefined, other);
  assert.throws(() => chargeIdOf('pi_abc'));
  assert.equal(latestChargeId([]), null);
  assert.equal(latestChargeId([{ id: 'pa_1' }, { id: 'pa_2' }]), 'ch_2');
});
