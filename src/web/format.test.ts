import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMoney, formatTime } from './format.ts';

test('amounts show in their currency format, exactly', () => {
  assert.equal(formatMoney(1234n, 'usd'), '$12.34');
  assert.equal(formatMoney(1500n, 'jpy'), '¥1,500');
  assert.equal(formatMoney(1000n, 'kwd'), 'KWD\u00a01.000');
  assert.equal(formatMoney(99_999_999_999n, 'usd'), '$999,999,999.99');
  assert.equal(formatMoney(1234n, 'eur', 'de-DE'), '12,34\u00a0€');
  assert.equal(formatMoney(-500n, 'usd'), '-$5.00');
});

test('times are UTC to the second', () => {
  assert.equal(formatTime(new Date('2026-12-06T18:40:05.123Z')), '2026-12-06 18:40:05 UTC');
});
