// Settlement cutoffs (architecture §12): each connector's clearing day closes at a wall-clock time
// in its own IANA time zone. The instants are computed with Intl (the zone database of the
// runtime), so a cutoff stays at its wall-clock time across daylight-saving changes. A cutoff is
// system time (src/clock.ts): it belongs to a connector, not to a merchant.
import type { Clock } from '../clock.ts';
import { DomainError } from '../errors.ts';
import type { Queryable } from '../storage/database.ts';

/** When a connector's clearing day closes, and how long an authorization may wait for its capture. */
export type CutoffSetting = {
  readonly connector: string;
  /** `HH:MM` or `HH:MM:SS`, wall-clock time in `timezone`. */
  readonly cutoffTime: string;
  /** An IANA zone (`Europe/Berlin`, `America/New_York`, `UTC`). */
  readonly timezone: string;
  readonly captureWindowDays: number;
  /** When an operator last changed it; null for the defaults (no row). */
  readonly updatedAt: Date | null;
};

export const defaultCutoff = { cutoffTime: '18:00:00', timezone: 'UTC', captureWindowDays: 7 };

export class SettlementInputError extends DomainError<'parameter_invalid' | 'resource_missing'> {}

const timePattern = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/** `HH:MM:SS` from `HH:MM[:SS]`; throws a 400 error when it is no time of day. */
export function normalizeCutoffTime(value: string): string {
  const match = timePattern.exec(value);
  if (match === null)
    throw new SettlementInputError(
      'parameter_invalid',
      'invalid',
      `cutoff_time must be a time of day HH:MM or HH:MM:SS, got '${value}'`,
      'cutoff_time',
    );
  return `${match[1]}:${match[2]}:${match[3] ?? '00'}`;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timezone: string): Intl.DateTimeFormat {
  let format = formats.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formats.size > 1000) formats.clear();
    formats.set(timezone, format);
  }
  return format;
}

/** Whether the runtime knows this IANA zone. */
export function isTimeZone(timezone: string): boolean {
  if (timezone.length === 0 || timezone.length > 64) return false;
  try {
    formatFor(timezone);
    return true;
  } catch {
    return false;
  }
}

type WallTime = {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
};

function wallTimeOf(instantMs: number, timezone: string): WallTime {
  const wall: Record<string, number> = {};
  for (const part of formatFor(timezone).formatToParts(new Date(instantMs)))
    if (part.type !== 'literal') wall[part.type] = Number(part.value);
  return wall as unknown as WallTime;
}

/** How far the zone's wall clock runs ahead of UTC at an instant (ms, whole seconds). */
function offsetMs(instantMs: number, timezone: string): number {
  const wall = wallTimeOf(instantMs, timezone);
  const wallMs = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return wallMs - Math.floor(instantMs / 1000) * 1000;
}

/**
 * The instant a wall-clock time of a zone names. Like Temporal's 'compatible': a time that occurs
 * twice (autumn) is its first occurrence; a time skipped by a spring-forward gap is moved forward
 * by the gap (02:30 in Berlin on the last Sunday of March is 03:30 CEST).
 */
export function instantOfWallTime(wallMs: number, timezone: string): number {
  const dayMs = 86_400_000;
  const offsets = [
    ...new Set([offsetMs(wallMs - dayMs, timezone), offsetMs(wallMs + dayMs, timezone)]),
  ];
  const valid = offsets
    .map((offset) => wallMs - offset)
    .filter((instant) => instant + offsetMs(instant, timezone) === wallMs)
    .sort((a, b) => a - b);
  if (valid[0] !== undefined) return valid[0];
  // In a gap: the offset before the change carries the wall time past it.
  return wallMs - offsetMs(wallMs - dayMs, timezone);
}

function cutoffOnLocalDay(
  day: { year: number; month: number; day: number },
  dayOffset: number,
  setting: Pick<CutoffSetting, 'cutoffTime' | 'timezone'>,
): number {
  const [hour, minute, second] = normalizeCutoffTime(setting.cutoffTime).split(':').map(Number);
  const wallMs = Date.UTC(day.year, day.month - 1, day.day + dayOffset, hour, minute, second);
  return instantOfWallTime(wallMs, setting.timezone);
}

/** The first cutoff strictly after `after`. */
export function nextCutoffAfter(
  after: Date,
  setting: Pick<CutoffSetting, 'cutoffTime' | 'timezone'>,
): Date {
  const today = wallTimeOf(after.getTime(), setting.timezone);
  for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
    const instant = cutoffOnLocalDay(today, dayOffset, setting);
    if (instant > after.getTime()) return new Date(instant);
  }
  throw new Error(`no cutoff within two days after ${after.toISOString()}`);
}

/** The last cutoff at or before `at` (the one a closing at `at` closes). */
export function latestCutoffAtOrBefore(
  at: Date,
  setting: Pick<CutoffSetting, 'cutoffTime' | 'timezone'>,
): Date {
  const today = wallTimeOf(at.getTime(), setting.timezone);
  for (let dayOffset = 0; dayOffset >= -2; dayOffset--) {
    const instant = cutoffOnLocalDay(today, dayOffset, setting);
    if (instant <= at.getTime()) return new Date(instant);
  }
  throw new Error(`no cutoff within two days before ${at.toISOString()}`);
}

type CutoffRow = {
  connector: string;
  cutoff_time: string;
  timezone: string;
  capture_window_days: number;
  updated_at: Date;
};

function fromRow(row: CutoffRow): CutoffSetting {
  return {
    connector: row.connector,
    cutoffTime: normalizeCutoffTime(String(row.cutoff_time).slice(0, 8)),
    timezone: row.timezone,
    captureWindowDays: Number(row.capture_window_days),
    updatedAt: row.updated_at,
  };
}

/** The cutoffs table: an operator's setting per connector, the defaults without one. */
export class SettlementCutoffs {
  readonly #database: Queryable;
  readonly #clock: Clock;
  readonly #connectors: readonly string[];

  constructor(database: Queryable, clock: Clock, connectors: readonly string[]) {
    this.#database = database;
    this.#clock = clock;
    this.#connectors = connectors;
  }

  /** The connectors that have cutoffs: every registered one. */
  get connectors(): readonly string[] {
    return this.#connectors;
  }

  #checkConnector(connector: string): void {
    if (!this.#connectors.includes(connector))
      throw new SettlementInputError(
        'resource_missing',
        'not_found',
        `No such connector: '${connector}'`,
        'connector',
      );
  }

  async list(): Promise<CutoffSetting[]> {
    const stored = await this.#database.query<CutoffRow>(
      'SELECT connector, cutoff_time::text AS cutoff_time, timezone, capture_window_days, updated_at FROM settlement_cutoffs',
    );
    const byConnector = new Map(stored.rows.map((row) => [row.connector, fromRow(row)]));
    return this.#connectors.map(
      (connector) => byConnector.get(connector) ?? { connector, ...defaultCutoff, updatedAt: null },
    );
  }

  async get(connector: string): Promise<CutoffSetting> {
    this.#checkConnector(connector);
    const stored = await this.#database.query<CutoffRow>(
      'SELECT connector, cutoff_time::text AS cutoff_time, timezone, capture_window_days, updated_at FROM settlement_cutoffs WHERE connector = $1',
      [connector],
    );
    const row = stored.rows[0];
    return row === undefined ? { connector, ...defaultCutoff, updatedAt: null } : fromRow(row);
  }

  async set(
    connector: string,
    change: { cutoffTime: string; timezone: string; captureWindowDays?: number },
  ): Promise<CutoffSetting> {
    this.#checkConnector(connector);
    const cutoffTime = normalizeCutoffTime(change.cutoffTime);
    if (!isTimeZone(change.timezone))
      throw new SettlementInputError(
        'parameter_invalid',
        'invalid',
        `timezone must be an IANA time zone such as 'Europe/Berlin', got '${change.timezone}'`,
        'timezone',
      );
    const window = change.captureWindowDays ?? defaultCutoff.captureWindowDays;
    if (!Number.isInteger(window) || window < 1 || window > 30)
      throw new SettlementInputError(
        'parameter_invalid',
        'invalid',
        'capture_window_days must be an integer from 1 to 30',
        'capture_window_days',
      );
    const stored = await this.#database.query<CutoffRow>(
      `INSERT INTO settlement_cutoffs (connector, cutoff_time, timezone, capture_window_days, updated_at)
       VALUES ($1, $2::time, $3, $4, $5)
       ON CONFLICT (connector) DO UPDATE SET cutoff_time = excluded.cutoff_time,
         timezone = excluded.timezone, capture_window_days = excluded.capture_window_days,
         updated_at = excluded.updated_at
       RETURNING connector, cutoff_time::text AS cutoff_time, timezone, capture_window_days, updated_at`,
      [connector, cutoffTime, change.timezone, window, this.#clock.now()],
    );
    return fromRow(stored.rows[0] as CutoffRow);
  }
}
