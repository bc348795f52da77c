// Velocity in this process's memory: when no Redis is configured (one process), and in tests.
// Each entity keeps its entries of the last week sorted by time; a read walks them newest first.
// Memory is bounded twice: entries per entity (a hot IP address keeps only its newest), and
// entities in all (the least recently written go first); entities whose entries all left the
// week are swept as records come in.
import type { AttributeValue, VelocityEntity } from '../attributes.ts';
import type { VelocityEntities, VelocityEvent, VelocityReading, VelocityStore } from '../types.ts';
import {
  authorizedCentsOf,
  checkVelocityEvent,
  emptyTallies,
  encodeEntry,
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
  /** Entries kept per entity in the week (default 10,000): beyond it the oldest go. */
  readonly entriesPerEntityMax?: number;
  /**
   * Entities kept in all (default 250,000, a few hundred bytes each): beyond it the least
   * recently written go. A process without Redis is a small deployment; a large one has Redis.
   */
  readonly entitiesMax?: number;
};

type Entry = {
  readonly atMs: number;
  /** The encoded entry: orders entries of one millisecond as Redis does. */
  readonly member: string;
  readonly attemptId: string;
  readonly authorized: boolean;
  readonly authorizedCents: number;
  readonly cardFingerprint: string | undefined;
};

type EntityEntries = {
  /** Oldest first. */
  readonly entries: Entry[];
  readonly attemptIds: Set<string>;
};

/** How many records pass between sweeps of entities gone stale. */
const sweepEveryRecords = 1_024;
/** Entities looked at per sweep, so that a record never pays for the whole map. */
const sweepEntitiesMax = 256;

function compareEntries(left: Entry, right: Entry): number {
  if (left.atMs !== right.atMs) return left.atMs - right.atMs;
  // Redis orders equal scores by the member's bytes; UTF-16 order differs for some characters.
  return Buffer.compare(Buffer.from(left.member), Buffer.from(right.member));
}

/** Inserts in time order (events mostly come in order: the search usually ends at once). */
function insertSorted(entries: Entry[], entry: Entry): void {
  let index = entries.length;
  while (index > 0 && compareEntries(entries[index - 1] as Entry, entry) > 0) index -= 1;
  entries.splice(index, 0, entry);
}

function entryOf(event: VelocityEvent): Entry {
  return {
    atMs: event.at.getTime(),
    member: encodeEntry(event),
    attemptId: event.attemptId,
    authorized: event.result === 'authorized',
    authorizedCents: authorizedCentsOf(event),
    cardFingerprint: event.cardFingerprint,
  };
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

  /** How many entries one entity keeps (tests of the bounds). */
  entryCount(entity: VelocityEntity, value: string): number {
    return this.#entities.get(entityKey(entity, value))?.entries.length ?? 0;
  }

  async record(event: VelocityEvent): Promise<void> {
    checkVelocityEvent(event);
    const entry = entryOf(event);
    for (const [entity, value] of givenEntities(event.entities)) this.#add(entity, value, entry);
    this.#recordsSinceSweep += 1;
    if (this.#recordsSinceSweep >= sweepEveryRecords) this.#sweep(entry.atMs);
  }

  #add(entity: VelocityEntity, value: string, entry: Entry): void {
    const key = entityKey(entity, value);
    const kept = this.#entities.get(key) ?? { entries: [], attemptIds: new Set<string>() };
    // Re-inserted so that the map's order is the order of the last write (eviction order).
    this.#entities.delete(key);
    this.#entities.set(key, kept);
    if (!kept.attemptIds.has(entry.attemptId)) {
      insertSorted(kept.entries, entry);
      kept.attemptIds.add(entry.attemptId);
      prune(kept, this.#entriesPerEntityMax);
    }
    if (kept.entries.length === 0) this.#entities.delete(key);
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
      const tallies = tallyEntries(kept?.entries ?? [], now.getTime(), card);
      writeEntityAttributes(values, entity, tallies);
    }
    return { values, unavailable: false };
  }

  async close(): Promise<void> {
    this.#entities.clear();
  }
}

/** Drops what left the week (measured from the newest entry) and what is beyond the bound. */
function prune(kept: EntityEntries, entriesMax: number): void {
  const newest = kept.entries.at(-1);
  if (newest === undefined) return;
  let drop = 0;
  while (
    drop < kept.entries.length &&
    (kept.entries[drop] as Entry).atMs <= newest.atMs - velocityRetentionMs
  )
    drop += 1;
  drop = Math.max(drop, kept.entries.length - entriesMax);
  if (drop === 0) return;
  for (const gone of kept.entries.splice(0, drop)) kept.attemptIds.delete(gone.attemptId);
}

/** Tallies each window ending at `nowMs`, newest entries first; the current card counts as seen. */
function tallyEntries(
  entries: readonly Entry[],
  nowMs: number,
  cardFingerprint: string | undefined,
): WindowTally[] {
  const tallies = emptyTallies();
  const cards = windowLengthsMs.map(() => new Set<string>());
  const longestMs = Math.max(...windowLengthsMs);
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    const entry = entries[index] as Entry;
    if (entry.atMs <= nowMs - longestMs) break;
    windowLengthsMs.forEach((lengthMs, window) => {
      if (!inWindow(entry.atMs, nowMs, lengthMs)) return;
      const tally = tallies[window] as WindowTally;
      tally.total += 1;
      if (entry.authorized) tally.authorized += 1;
      else tally.declined += 1;
      tally.authorizedCents += entry.authorizedCents;
      if (entry.cardFingerprint !== undefined) cards[window]?.add(entry.cardFingerprint);
    });
  }
  cards.forEach((seen, window) => {
    if (cardFingerprint !== undefined) seen.add(cardFingerprint);
    (tallies[window] as WindowTally).distinctCards = seen.size;
  });
  return tallies;
}
