// Velocity in this process's memory: when no Redis is configured (one process), and in tests.
// Each entity keeps its attempts of the last week sorted by time, and its cards by the latest
// time each was seen: the same model as the Redis store's keys (scripts.ts), pruned the same
// way, so both give the same readings. Memory is bounded twice: entries per entity (a hot IP
// address keeps only its newest), and entities in all (the least recently written go first);
// entities whose entries all left the week are swept as records come in.
import type { AttributeValue, VelocityEntity } from '../attributes.ts';
import type { VelocityEntities, VelocityEvent, VelocityReading, VelocityStore } from '../types.ts';
import {
  authorizedCentsOf,
  checkVelocityEvent,
  emptyTallies,
  givenEntities,
  inWindow,
  readableCard,
  readableEntities,
  velocityEntriesPerEntityMax,
  velocityRetentionMs,
  windowLengthsMs,
  writeEntityAttributes,
  type WindowTally,
} from './windows.ts';

export type MemoryVelocityOptions = {
  /** Entries (and cards) kept per entity in the week (default 10,000): beyond it the oldest go. */
  readonly entriesPerEntityMax?: number;
  /**
   * Entities kept in all (default 250,000, a few hundred bytes each): beyond it the least
   * recently written go. A process without Redis is a small deployment; a large one has Redis.
   */
  readonly entitiesMax?: number;
};

type Entry = {
  readonly atMs: number;
  readonly attemptId: string;
  readonly declined: boolean;
  readonly authorizedCents: number;
};

type EntityEntries = {
  /** Oldest first; attempts of one millisecond in attempt-id order (as Redis orders them). */
  readonly entries: Entry[];
  readonly attemptIds: Set<string>;
  /** Card fingerprint → the latest time it was seen. */
  readonly cards: Map<string, number>;
};

/** How many records pass between sweeps of entities gone stale. */
const sweepEveryRecords = 1_024;
/** Entities looked at per sweep, so that a record never pays for the whole map. */
const sweepEntitiesMax = 256;

/** Redis orders equal scores by the member's bytes; UTF-16 order differs for some characters. */
function compareTimed(leftMs: number, left: string, rightMs: number, right: string): number {
  if (leftMs !== rightMs) return leftMs - rightMs;
  return Buffer.compare(Buffer.from(left), Buffer.from(right));
}

/** Inserts in time order (events mostly come in order: the search usually ends at once). */
function insertSorted(entries: Entry[], entry: Entry): void {
  let index = entries.length;
  while (index > 0) {
    const before = entries[index - 1] as Entry;
    if (compareTimed(before.atMs, before.attemptId, entry.atMs, entry.attemptId) <= 0) break;
    index -= 1;
  }
  entries.splice(index, 0, entry);
}

function entityKey(entity: VelocityEntity, value: string): string {
  return `${entity}\u0000${value}`;
}

export class MemoryVelocityStore implements VelocityStore {
  readonly #entities = new Map<string, EntityEntries>();
  readonly #entriesPerEntityMax: number;
  readonly #entitiesMax: number;
  #recordsSinceSweep = 0;

  constructor(options: MemoryVelocityOptions = {}) {
    this.#entriesPerEntityMax = options.entriesPerEntityMax ?? velocityEntriesPerEntityMax;
    this.#entitiesMax = options.entitiesMax ?? 250_000;
    if (!Number.isSafeInteger(this.#entriesPerEntityMax) || this.#entriesPerEntityMax < 1)
      throw new RangeError('entriesPerEntityMax must be a positive integer');
    if (!Number.isSafeInteger(this.#entitiesMax) || this.#entitiesMax < 1)
      throw new RangeError('entitiesMax must be a positive integer');
  }

  /** How many entities are kept (tests of the bounds). */
  get entityCount(): number {
    return this.#entities.size;
  }

  /** How many entries and cards one entity keeps (tests of the bounds). */
  entryCount(entity: VelocityEntity, value: string): number {
    return this.#entities.get(entityKey(entity, value))?.entries.length ?? 0;
  }

  cardCount(entity: VelocityEntity, value: string): number {
    return this.#entities.get(entityKey(entity, value))?.cards.size ?? 0;
  }

  async record(event: VelocityEvent): Promise<void> {
    checkVelocityEvent(event);
    const entry: Entry = {
      atMs: event.at.getTime(),
      attemptId: event.attemptId,
      declined: event.result === 'declined',
      authorizedCents: authorizedCentsOf(event),
    };
    for (const [entity, value] of givenEntities(event.entities))
      this.#add(entityKey(entity, value), entry, event.cardFingerprint);
    this.#recordsSinceSweep += 1;
    if (this.#recordsSinceSweep >= sweepEveryRecords) this.#sweep(entry.atMs);
  }

  #add(key: string, entry: Entry, cardFingerprint: string | undefined): void {
    const kept = this.#entities.get(key) ?? {
      entries: [],
      attemptIds: new Set<string>(),
      cards: new Map<string, number>(),
    };
    // Re-inserted so that the map's order is the order of the last write (eviction order).
    this.#entities.delete(key);
    this.#entities.set(key, kept);
    if (!kept.attemptIds.has(entry.attemptId)) {
      insertSorted(kept.entries, entry);
      kept.attemptIds.add(entry.attemptId);
      if (cardFingerprint !== undefined)
        kept.cards.set(
          cardFingerprint,
          Math.max(kept.cards.get(cardFingerprint) ?? entry.atMs, entry.atMs),
        );
      prune(kept, this.#entriesPerEntityMax);
    }
    while (this.#entities.size > this.#entitiesMax) {
      const oldest = this.#entities.keys().next();
      if (oldest.done === true) break;
      this.#entities.delete(oldest.value);
    }
  }

  /**
   * Drops entities, least recently written first, whose newest entry left the week before
   * `nowMs` (the time of the record that triggered the sweep, not the newest time ever seen: one
   * event with a wild time in the future then costs at most one sweep's entities).
   */
  #sweep(nowMs: number): void {
    this.#recordsSinceSweep = 0;
    let looked = 0;
    for (const [key, kept] of this.#entities) {
      if (looked >= sweepEntitiesMax) break;
      looked += 1;
      const newest = kept.entries.at(-1);
      if (newest !== undefined && newest.atMs > nowMs - velocityRetentionMs) break;
      this.#entities.delete(key);
    }
  }

  async read(
    entities: VelocityEntities,
    cardFingerprint: string | undefined,
    now: Date,
  ): Promise<VelocityReading> {
    const card = readableCard(cardFingerprint);
    const values: Record<string, AttributeValue> = {};
    for (const [entity, value] of readableEntities(entities)) {
      const kept = this.#entities.get(entityKey(entity, value));
      writeEntityAttributes(values, entity, tally(kept, now.getTime(), card));
    }
    return { values, unavailable: false };
  }

  async close(): Promise<void> {
    this.#entities.clear();
  }
}

/**
 * Drops, as the Redis record script does: attempts older than the week before the newest one or
 * beyond the bound (oldest first), then cards last seen before that week or beyond the bound.
 */
function prune(kept: EntityEntries, entriesMax: number): void {
  const newest = kept.entries.at(-1);
  if (newest === undefined) return;
  const cutoffMs = newest.atMs - velocityRetentionMs;
  let drop = 0;
  while (drop < kept.entries.length && (kept.entries[drop] as Entry).atMs <= cutoffMs) drop += 1;
  drop = Math.max(drop, kept.entries.length - entriesMax);
  for (const gone of kept.entries.splice(0, drop)) kept.attemptIds.delete(gone.attemptId);
  for (const [card, seenMs] of kept.cards) if (seenMs <= cutoffMs) kept.cards.delete(card);
  while (kept.cards.size > entriesMax) {
    let oldest: [string, number] | undefined;
    for (const [card, seenMs] of kept.cards)
      if (oldest === undefined || compareTimed(seenMs, card, oldest[1], oldest[0]) < 0)
        oldest = [card, seenMs];
    if (oldest === undefined) break;
    kept.cards.delete(oldest[0]);
  }
}

/** The first index whose entry is later than `afterMs` (entries are sorted by time). */
function firstLaterThan(entries: readonly Entry[], afterMs: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((entries[middle] as Entry).atMs > afterMs) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Adds the entries [from, to) to one tally. */
function addRange(tally: WindowTally, entries: readonly Entry[], from: number, to: number): void {
  for (let index = from; index < to; index += 1) {
    const entry = entries[index] as Entry;
    tally.total += 1;
    if (entry.declined) tally.declined += 1;
    else tally.authorized += 1;
    tally.authorizedCents += entry.authorizedCents;
  }
}

/**
 * Tallies each window ending at `nowMs`; the current card counts as seen. The windows are nested
 * (hourly within daily within weekly) and the entries sorted: each window's start is found by
 * binary search and every entry is visited once, in the segment between two starts, whose sums
 * each longer window adds up. A hot entity (10,000 attempts in the week) reads in microseconds.
 */
function tally(
  kept: EntityEntries | undefined,
  nowMs: number,
  cardFingerprint: string | undefined,
): WindowTally[] {
  const tallies = emptyTallies();
  if (kept !== undefined) {
    const entries = kept.entries;
    let end = firstLaterThan(entries, nowMs);
    const segment = emptyTallies()[0] as WindowTally;
    windowLengthsMs.forEach((lengthMs, window) => {
      const start = Math.min(end, firstLaterThan(entries, nowMs - lengthMs));
      addRange(segment, entries, start, end);
      Object.assign(tallies[window] as WindowTally, segment);
      end = start;
    });
  }
  const cards = windowLengthsMs.map(() => 0);
  for (const seenMs of kept?.cards.values() ?? [])
    windowLengthsMs.forEach((lengthMs, window) => {
      if (inWindow(seenMs, nowMs, lengthMs)) cards[window] = (cards[window] as number) + 1;
    });
  const currentSeenMs =
    cardFingerprint === undefined ? undefined : kept?.cards.get(cardFingerprint);
  windowLengthsMs.forEach((lengthMs, window) => {
    const current =
      cardFingerprint !== undefined &&
      (currentSeenMs === undefined || !inWindow(currentSeenMs, nowMs, lengthMs));
    (tallies[window] as WindowTally).distinctCards = (cards[window] as number) + (current ? 1 : 0);
  });
  return tallies;
}
