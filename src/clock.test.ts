import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clockFrom, clockSql, OffsetClock, systemClock, timeFor } from './clock.ts';

const realMs = Date.parse('2030-01-01T00:00:00Z');
const day = 24 * 3_600_000;

test('the system clock reads real time and has no merchant clocks', () => {
  const before = Date.now();
  const now = systemClock.now('acct_1').getTime();
  assert.ok(now >= before && now <= Date.now());
  assert.equal(systemClock.reading().merchants.size, 0);
});

test('an offset clock runs the system and each merchant ahead of real time, forward only', () => {
  let real = realMs;
  const clock = new OffsetClock(() => real);
  assert.equal(clock.now().getTime(), realMs);
  clock.advance(day);
  assert.equal(clock.now().getTime(), realMs + day);
  clock.advance(7 * day, 'acct_a');
  assert.equal(clock.now('acct_a').getTime(), realMs + 8 * day, 'beyond the system');
  assert.equal(clock.now('acct_b').getTime(), realMs + day, 'others follow the system');
  real += 1_000;
  assert.equal(clock.now('acct_a').getTime(), realMs + 8 * day + 1_000, 'time still runs');
  const reading = clock.reading();
  assert.equal(reading.system.getTime(), realMs + day + 1_000);
  assert.deepEqual([...reading.merchants.keys()], ['acct_a']);
  assert.equal(timeFor(reading, 'acct_a').getTime(), realMs + 8 * day + 1_000);
  assert.equal(timeFor(reading, 'acct_b'), reading.system);
  assert.equal(timeFor(reading, undefined), reading.system);
});

test('an offset clock refuses to go back, except when told to (an explicit reset)', () => {
  const clock = new OffsetClock(() => realMs);
  clock.advance(5_000, 'acct_a');
  assert.throws(() => clock.advance(-1), RangeError);
  assert.throws(() => clock.advance(0.5), RangeError);
  assert.throws(
    () => clock.setOffsets({ systemMs: 0, merchantsMs: new Map([['acct_a', 4_000]]) }),
    /never goes back/,
  );
  assert.throws(
    () => clock.setOffsets({ systemMs: 0, merchantsMs: new Map() }),
    /never goes back/,
    'dropping a merchant clock is going back too',
  );
  clock.setOffsets({ systemMs: 0, merchantsMs: new Map() }, { allowBackwards: true });
  assert.equal(clock.now('acct_a').getTime(), realMs);
});

test('clockFrom gives every merchant the one time it reads', () => {
  const at = new Date(realMs);
  const clock = clockFrom(() => at);
  assert.equal(clock.now('acct_a'), at);
  assert.equal(clock.reading().system, at);
  assert.equal(clock.reading().merchants.size, 0);
});

test('clockSql: one parameter without merchant clocks, a per-row lookup with them', () => {
  const plain = clockSql({ system: new Date(realMs), merchants: new Map() }, 'a.merchant_id', 3);
  assert.equal(plain.now, '$3::timestamptz');
  assert.equal(plain.bound, '$3::timestamptz');
  assert.deepEqual(plain.values, [new Date(realMs)]);
  const merchants = new Map([
    ['acct_a', new Date(realMs + day)],
    ['acct_"b', new Date(realMs + 2 * day)],
  ]);
  const each = clockSql({ system: new Date(realMs), merchants }, 'a.merchant_id', 3);
  assert.match(each.now, /unnest\(\$4::text\[\], \$5::timestamptz\[\]\)/);
  assert.match(each.now, /clock\.merchant = a\.merchant_id\), \$3::timestamptz\)$/);
  assert.equal(
    each.bound,
    'greatest($3::timestamptz, (SELECT max(at) FROM unnest($5::timestamptz[]) AS clock(at)))',
  );
  assert.deepEqual(each.values, [
    new Date(realMs),
    '{"acct_a","acct_\\"b"}',
    `{"${new Date(realMs + day).toISOString()}","${new Date(realMs + 2 * day).toISOString()}"}`,
  ]);
});
