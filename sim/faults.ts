// Fault injection (CONTRACT.md "Faults"): per PSP, a seeded PRNG decides per call whether the
// call fails with a 500, loses its response or times out, and how long it takes. Every call
// draws a fixed count of numbers whatever its outcome (5 for a mutating call, 3 for a read), so
// the same seed and the same sequence of calls give the same faults, run after run.
import type { Psp } from './store.ts';
import { isPlainObject } from './json.ts';
import { seededRandom } from '../src/random.ts';

export type LatencyDistribution = 'fixed' | 'uniform' | 'normal';

export type LatencySettings = {
  readonly distribution: LatencyDistribution;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly stddevMs: number;
};

export type FaultSettings = {
  readonly seed: number;
  readonly latency: LatencySettings | null;
  readonly timeoutRate: number;
  readonly errorRate: number;
  readonly lostResponseRate: number;
  /** null: the simulator's SIM_TIMEOUT_DELAY_MS. */
  readonly timeoutDelayMs: number | null;
};

export type FaultDraw = {
  readonly latencyMs: number;
  readonly error: boolean;
  readonly lost: boolean;
  readonly timeout: boolean;
};

export const NO_FAULTS: FaultDraw = { latencyMs: 0, error: false, lost: false, timeout: false };

/** No configured delay may exceed this (ten minutes). */
export const DELAY_MS_MAX = 600_000;

const SETTING_FIELDS = new Set([
  'seed',
  'latency',
  'timeoutRate',
  'errorRate',
  'lostResponseRate',
  'timeoutDelayMs',
]);
const LATENCY_FIELDS = new Set(['distribution', 'meanMs', 'minMs', 'maxMs', 'stddevMs']);

/** mulberry32: a tiny, fast 32-bit PRNG with good enough statistics for fault draws (the one Payrail's tests use). */
export const mulberry32 = seededRandom;

export type ParsedSettings =
  | { readonly ok: true; readonly settings: FaultSettings }
  | { readonly ok: false; readonly message: string };

/** Validates a PUT /_sim/faults/:psp body; absent fields mean "no such fault". */
export function parseFaultSettings(value: unknown): ParsedSettings {
  if (!isPlainObject(value)) return { ok: false, message: 'body must be a JSON object' };
  const unknown = Object.keys(value).find((key) => !SETTING_FIELDS.has(key));
  if (unknown !== undefined) return { ok: false, message: `unknown field "${unknown}"` };
  try {
    const seed =
      value.seed === undefined ? Math.floor(Math.random() * 4294967296) : readSeed(value.seed);
    const latency =
      value.latency === undefined || value.latency === null ? null : readLatency(value.latency);
    const settings: FaultSettings = {
      seed,
      latency,
      timeoutRate: readRate(value, 'timeoutRate'),
      errorRate: readRate(value, 'errorRate'),
      lostResponseRate: readRate(value, 'lostResponseRate'),
      timeoutDelayMs:
        value.timeoutDelayMs === undefined || value.timeoutDelayMs === null
          ? null
          : readMs(value.timeoutDelayMs, 'timeoutDelayMs'),
    };
    return { ok: true, settings };
  } catch (error) {
    if (error instanceof SettingError) return { ok: false, message: error.message };
    throw error;
  }
}

class SettingError extends Error {}

function readSeed(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new SettingError('seed must be an integer');
  return value >>> 0;
}

function readRate(object: Record<string, unknown>, field: string): number {
  const value = object[field];
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new SettingError(`${field} must be a number from 0 to 1`);
  return value;
}

function readMs(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= DELAY_MS_MAX))
    throw new SettingError(`${field} must be a number of milliseconds from 0 to ${DELAY_MS_MAX}`);
  return value;
}

function readLatency(value: unknown): LatencySettings {
  if (!isPlainObject(value)) throw new SettingError('latency must be an object');
  const unknown = Object.keys(value).find((key) => !LATENCY_FIELDS.has(key));
  if (unknown !== undefined) throw new SettingError(`unknown field "latency.${unknown}"`);
  const distribution = value.distribution ?? 'fixed';
  if (distribution !== 'fixed' && distribution !== 'uniform' && distribution !== 'normal') {
    throw new SettingError('latency.distribution must be "fixed", "uniform" or "normal"');
  }
  const optional = (field: string, fallback: number): number =>
    value[field] === undefined ? fallback : readMs(value[field], `latency.${field}`);
  const meanMs = optional('meanMs', 0);
  const minMs = optional('minMs', distribution === 'fixed' ? meanMs : 0);
  const maxMs = optional('maxMs', distribution === 'uniform' ? 2 * meanMs : DELAY_MS_MAX);
  const stddevMs = optional('stddevMs', 0);
  if (minMs > maxMs) throw new SettingError('latency.minMs must not exceed latency.maxMs');
  if (distribution === 'uniform' && value.maxMs === undefined && value.meanMs === undefined) {
    throw new SettingError('a uniform latency needs maxMs (or meanMs)');
  }
  return { distribution, meanMs, minMs, maxMs: Math.min(maxMs, DELAY_MS_MAX), stddevMs };
}

/** One PSP's fault state: its settings and the PRNG seeded from them. */
export class FaultInjector {
  #settings: FaultSettings | undefined;
  #random: () => number = Math.random;

  get settings(): FaultSettings | undefined {
    return this.#settings;
  }

  /** Replaces the settings and restarts the PRNG from the seed. */
  configure(settings: FaultSettings): void {
    this.#settings = settings;
    this.#random = mulberry32(settings.seed);
  }

  clear(): void {
    this.#settings = undefined;
  }

  draw(mutating: boolean): FaultDraw {
    const settings = this.#settings;
    if (settings === undefined) return NO_FAULTS;
    const random = this.#random;
    const latencyMs = latencyFrom(settings.latency, random(), random());
    const error = random() < settings.errorRate;
    if (!mutating) return { latencyMs, error, lost: false, timeout: false };
    const lost = random() < settings.lostResponseRate;
    const timeout = random() < settings.timeoutRate && !lost;
    return { latencyMs, error, lost, timeout };
  }
}

function latencyFrom(latency: LatencySettings | null, first: number, second: number): number {
  if (latency === null) return 0;
  let latencyMs: number;
  if (latency.distribution === 'fixed') latencyMs = latency.meanMs;
  else if (latency.distribution === 'uniform')
    latencyMs = latency.minMs + first * (latency.maxMs - latency.minMs);
  else {
    // Box–Muller; 1 - first keeps the logarithm finite.
    const standard = Math.sqrt(-2 * Math.log(1 - first)) * Math.cos(2 * Math.PI * second);
    latencyMs = latency.meanMs + latency.stddevMs * standard;
  }
  return Math.round(Math.min(latency.maxMs, Math.max(latency.minMs, latencyMs, 0)));
}

export class Faults {
  readonly #injectors: ReadonlyMap<Psp, FaultInjector>;

  constructor(psps: readonly Psp[]) {
    this.#injectors = new Map(psps.map((psp) => [psp, new FaultInjector()]));
  }

  for(psp: Psp): FaultInjector {
    const injector = this.#injectors.get(psp);
    if (injector === undefined) throw new Error(`no fault injector for ${psp}`);
    return injector;
  }

  clearAll(): void {
    for (const injector of this.#injectors.values()) injector.clear();
  }

  view(): Record<string, FaultSettings | null> {
    const view: Record<string, FaultSettings | null> = {};
    for (const [psp, injector] of this.#injectors) view[psp] = injector.settings ?? null;
    return view;
  }
}
