// The rule set the payment path asks for on every decision, cached in process per merchant.
// A cached set is served as is for `revalidateMs` (about 2 s); after that one cheap read of the
// merchant's risk version (migration 037's counter, bumped by every write in its transaction)
// says whether another process changed anything, and only then is the set read again (rules,
// lists with their items and settings: three queries, never one per rule). A write in this
// process drops its merchant's entry at once. Rules are compiled once per version: a reload
// reuses the compiled form of every rule whose version did not change.
import type { Clock } from '../clock.ts';
import type { Database } from '../storage/database.ts';
import type { CompiledRule, ListLookup, RuleEntry } from './types.ts';
import {
  defaultRiskThresholds,
  type RiskScoring,
  type RiskThresholds,
  type RiskWeights,
} from './settings.ts';
import { readRiskVersion, readRuleSetRows, type RuleSetRows } from './store.ts';
import { lookupForm, type ValueListItemType } from './value-lists.ts';

/** A rule as the engine takes it, in the merchant's order. */
export type RuleSetRule = RuleEntry;

/** Everything a decision needs of the merchant's risk setup. */
export type RuleSet = {
  /** Active rules (enforced and shadow), compiled, in position order. */
  readonly rules: readonly RuleSetRule[];
  /** The merchant's value lists; expired items never match (decided by the clock at lookup). */
  readonly lists: ListLookup;
  readonly weights: RiskWeights;
  readonly thresholds: RiskThresholds;
  /** Risk decisions run at all (on by default). */
  readonly enabled: boolean;
};

export type RuleSetCacheOptions = {
  readonly database: Database;
  readonly clock: Clock;
  readonly compile: (text: string) => CompiledRule;
  readonly scoring: RiskScoring;
  /** How long a cached set is served before its version is checked again. */
  readonly revalidateMs?: number;
  /** Merchants kept at most (the least recently loaded go first). */
  readonly merchantsMax?: number;
  /**
   * A stored rule that no longer compiles (the attribute catalogue changed under it), or a
   * revalidation that failed while a cached set was served instead: told, never thrown.
   */
  readonly onError?: (error: unknown, context: Record<string, string>) => void;
};

type Entry = {
  readonly version: bigint;
  readonly answer: Promise<RuleSet>;
  readonly compiled: Map<string, { readonly version: number; readonly rule: CompiledRule }>;
  checkedAtMs: number;
  /** A write in this process changed the merchant's setup: read it again, no version check. */
  stale: boolean;
};

/** A rule compiled when saved, handed to the cache so that it is not compiled again. */
export type SavedRule = {
  readonly id: string;
  readonly version: number;
  readonly rule: CompiledRule;
};

export const ruleSetRevalidateMsDefault = 2_000;

type CachedList = { readonly itemType: ValueListItemType; readonly items: Map<string, number> };

export class RuleSetCache {
  readonly #options: RuleSetCacheOptions;
  readonly #revalidateMs: number;
  readonly #merchantsMax: number;
  readonly #entries = new Map<string, Entry>();
  /** One revalidation or load per merchant at a time; dropped by invalidate(). */
  readonly #loading = new Map<string, Promise<RuleSet>>();
  /** Counts invalidations: a load that saw one begin while it read keeps nothing. */
  #generation = 0;

  constructor(options: RuleSetCacheOptions) {
    this.#options = options;
    this.#revalidateMs = options.revalidateMs ?? ruleSetRevalidateMsDefault;
    this.#merchantsMax = options.merchantsMax ?? 10_000;
  }

  ruleSetFor(merchantId: string): Promise<RuleSet> {
    const entry = this.#entries.get(merchantId);
    const nowMs = this.#options.clock.now().getTime();
    if (entry !== undefined && !entry.stale && nowMs - entry.checkedAtMs < this.#revalidateMs)
      return entry.answer;
    const loading = this.#loading.get(merchantId);
    if (loading !== undefined) return loading;
    const load = this.#refresh(merchantId, entry, nowMs);
    this.#loading.set(merchantId, load);
    const done = (): void => {
      if (this.#loading.get(merchantId) === load) this.#loading.delete(merchantId);
    };
    load.then(done, done);
    return load;
  }

  /**
   * A write in this process changed the merchant's risk setup: its next decision reads it. The
   * compiled rules are kept (a reload compiles only new versions), `saved` among them.
   */
  invalidate(merchantId: string, saved?: SavedRule): void {
    this.#generation += 1;
    this.#loading.delete(merchantId);
    const entry = this.#entries.get(merchantId);
    if (entry === undefined) return;
    entry.stale = true;
    if (saved !== undefined)
      entry.compiled.set(saved.id, { version: saved.version, rule: saved.rule });
  }

  async #refresh(merchantId: string, entry: Entry | undefined, nowMs: number): Promise<RuleSet> {
    const generation = this.#generation;
    if (entry !== undefined && !entry.stale) {
      try {
        const version = await readRiskVersion(this.#options.database, merchantId);
        if (version === entry.version) {
          entry.checkedAtMs = nowMs;
          return await entry.answer;
        }
      } catch (error) {
        // The database is out of reach: decisions go on with the set already known.
        this.#options.onError?.(error, { merchantId, during: 'revalidation' });
        return await entry.answer;
      }
    }
    let rows: RuleSetRows;
    try {
      rows = await this.#options.database.transaction(
        (tx) => readRuleSetRows(tx, merchantId, new Date(nowMs)),
        { isolation: 'repeatable read' },
      );
    } catch (error) {
      // Known stale after a write here, but the last set known beats no decision at all.
      if (entry === undefined) throw error;
      this.#options.onError?.(error, { merchantId, during: 'load' });
      return await entry.answer;
    }
    const fresh = this.#build(merchantId, rows, entry, nowMs);
    // A write in this process meanwhile (invalidate) may make what was read stale: it answers
    // this call, and the next one reads again.
    if (generation === this.#generation) this.#keep(merchantId, fresh);
    return await fresh.answer;
  }

  #keep(merchantId: string, entry: Entry): void {
    this.#entries.delete(merchantId);
    this.#entries.set(merchantId, entry);
    if (this.#entries.size > this.#merchantsMax) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  #build(merchantId: string, rows: RuleSetRows, previous: Entry | undefined, nowMs: number): Entry {
    const compiled = new Map<string, { version: number; rule: CompiledRule }>();
    const rules: RuleSetRule[] = [];
    for (const row of rows.rules) {
      const known = previous?.compiled.get(row.id);
      let rule = known !== undefined && known.version === row.version ? known.rule : undefined;
      if (rule === undefined) {
        try {
          rule = this.#options.compile(row.text);
        } catch (error) {
          this.#options.onError?.(error, { merchantId, rule: row.id, during: 'compile' });
          continue;
        }
      }
      compiled.set(row.id, { version: row.version, rule });
      rules.push({ id: row.id, version: row.version, mode: row.mode, compiled: rule });
    }
    const settings = rows.settings;
    const ruleSet: RuleSet = {
      rules,
      lists: this.#lookup(merchantId, rows.lists),
      weights: this.#weights(merchantId, settings?.weights ?? null),
      thresholds: settings?.thresholds ?? defaultRiskThresholds,
      enabled: settings?.enabled ?? true,
    };
    return {
      version: rows.version,
      answer: Promise.resolve(ruleSet),
      compiled,
      checkedAtMs: nowMs,
      stale: false,
    };
  }

  /**
   * Stored weights checked again as the score knows them now: a signal added since takes its
   * default; a set that no longer passes (a signal removed) falls back to the defaults, told.
   */
  #weights(merchantId: string, stored: RiskWeights | null): RiskWeights {
    const scoring = this.#options.scoring;
    if (stored === null) return scoring.defaultWeights;
    try {
      return scoring.checkWeights({ ...scoring.defaultWeights, ...stored });
    } catch (error) {
      this.#options.onError?.(error, { merchantId, during: 'weights' });
      return scoring.defaultWeights;
    }
  }

  #lookup(merchantId: string, lists: RuleSetRows['lists']): ListLookup {
    const byAlias = new Map<string, CachedList>();
    for (const list of lists) {
      const items = new Map<string, number>();
      for (const item of list.items) items.set(item.value, item.expiresAtMs);
      byAlias.set(list.alias, { itemType: list.itemType, items });
    }
    const clock = this.#options.clock;
    return (alias, value) => {
      const list = byAlias.get(alias);
      if (list === undefined) return false;
      const expiresAtMs = list.items.get(lookupForm(list.itemType, value));
      if (expiresAtMs === undefined) return false;
      // Only an item that expires needs the time: the common case reads no clock.
      return expiresAtMs === Infinity || clock.now(merchantId).getTime() < expiresAtMs;
    };
  }
}
