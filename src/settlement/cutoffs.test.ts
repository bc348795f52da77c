import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  instantOfWallTime,
  isTimeZone,
  latestCutoffAtOrBefore,
  nextCutoffAfter,
  normalizeCutoffTime,
} from './cutoffs.ts';

const at = (iso: string) => new Date(iso);
const berlin = (cutoffTime: string) => ({ cutoffTime, timezone: 'Europe/Berlin' });
const newYork = (cutoffTime: string) => ({ cutoffTime, timezone: 'America/New_York' });

describe('the next cutoff after a time', () => {
  test('Europe/Berlin 18:00 across the spring change (CET → CEST on 2026-03-29)', () => {
    assert.equal(
      nextCutoffAfter(at('2026-03-28T12:00:00Z'), berlin('18:00')).toISOString(),
      '2026-03-28T17:00:00.000Z',
    );
    assert.equal(
      nextCutoffAfter(at('2026-03-28T17:00:00Z'), berlin('18:00')).toISOString(),
      '2026-03-29T16:00:00.000Z',
    );
  });

  test('Europe/Berlin 18:00 across the autumn change (CEST → CET on 2026-10-25)', () => {
    assert.equal(
      nextCutoffAfter(at('2026-10-24T17:00:00Z'), berlin('18:00')).toISOString(),
      '2026-10-25T17:00:00.000Z',
    );
  });

  test('America/New_York 17:00 across both changes (2026-03-08 and 2026-11-01)', () => {
    assert.equal(
      nextCutoffAfter(at('2026-03-07T23:00:00Z'), newYork('17:00')).toISOString(),
      '2026-03-08T21:00:00.000Z',
    );
    assert.equal(
      nextCutoffAfter(at('2026-10-31T22:00:00Z'), newYork('17:00')).toISOString(),
      '2026-11-01T22:00:00.000Z',
    );
  });

  test('a cutoff in the spring gap moves forward by the gap; a repeated hour takes its first occurrence', () => {
    assert.equal(
      nextCutoffAfter(at('2026-03-29T00:00:00Z'), berlin('02:30')).toISOString(),
      '2026-03-29T01:30:00.000Z',
    );
    assert.equal(
      nextCutoffAfter(at('2026-10-24T23:00:00Z'), berlin('02:30')).toISOString(),
      '2026-10-25T00:30:00.000Z',
    );
    assert.equal(
      instantOfWallTime(Date.UTC(2026, 10, 1, 1, 30), 'America/New_York'),
      Date.parse('2026-11-01T05:30:00Z'),
    );
  });

  test('UTC, a time exactly at a cutoff, and the latest cutoff at or before a time', () => {
    const utc = { cutoffTime: '18:00:00', timezone: 'UTC' };
    assert.equal(
      nextCutoffAfter(at('2026-12-04T18:00:00Z'), utc).toISOString(),
      '2026-12-05T18:00:00.000Z',
    );
    assert.equal(
      latestCutoffAtOrBefore(at('2026-12-04T18:00:00Z'), utc).toISOString(),
      '2026-12-04T18:00:00.000Z',
    );
    assert.equal(
      latestCutoffAtOrBefore(at('2026-12-04T17:59:59Z'), utc).toISOString(),
      '2026-12-03T18:00:00.000Z',
    );
    assert.equal(
      latestCutoffAtOrBefore(at('2026-03-29T15:59:00Z'), berlin('18:00')).toISOString(),
      '2026-03-28T17:00:00.000Z',
    );
  });

  test('over a whole year, every cutoff is at its wall-clock time and they are 23 to 25 hours apart', () => {
    for (const setting of [berlin('18:00'), newYork('00:30'), newYork('23:59:59')]) {
      const wall = new Intl.DateTimeFormat('en-GB', {
        timeZone: setting.timezone,
        hourCycle: 'h23',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
      let cutoff = nextCutoffAfter(at('2026-01-01T00:00:00Z'), setting);
      for (let day = 0; day < 366; day++) {
        assert.equal(wall.format(cutoff), normalizeCutoffTime(setting.cutoffTime));
        const next = nextCutoffAfter(cutoff, setting);
        const hours = (next.getTime() - cutoff.getTime()) / 3_600_000;
        assert.ok(
          hours === 23 || hours === 24 || hours === 25,
          `${hours} h after ${cutoff.toISOString()}`,
        );
        assert.equal(
          latestCutoffAtOrBefore(new Date(next.getTime() - 1), setting).getTime(),
          cutoff.getTime(),
        );
        cutoff = next;
      }
    }
  });
});

test('cutoff times and time zones are checked', () => {
  assert.equal(normalizeCutoffTime('18:00'), '18:00:00');
  assert.equal(normalizeCutoffTime('00:00:59'), '00:00:59');
  for (const bad of ['24:00', '18', '18:60', '8:00', '18:00:00:00', '18:00 ', ''])
    assert.throws(() => normalizeCutoffTime(bad), { code: 'parameter_invalid' }, bad);
  assert.ok(isTimeZone('Europe/Berlin'));
  assert.ok(isTimeZone('UTC'));
  assert.ok(!isTimeZone('Mars/Olympus_Mons'));
  assert.ok(!isTimeZone(''));
});
