// A merchant's Radar: risk rules (versioned, compiled when saved), value lists and their items,
// and risk settings, plus the cached rule set every decision reads (`ruleSetFor`). Every write
// bumps the merchant's risk version first in its transaction (store.ts): that row lock
// serializes the merchant's risk writes, so the bounds below hold under concurrency, and the new
// number tells other processes' caches to reload. Domain code: no HTTP; a Database and the clock.
import { systemClock, type Clock } from '../clock.ts';
import { DomainError } from '../errors.ts';
import { newSortableId } from '../ids.ts';
import { resumedResourceId, type IdempotentRequest } from '../idempotency/request.ts';
import { mergeMetadata, type MetadataChange } from '../metadata.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import { looksLikeCardNumber } from '../vault/card.ts';
import { invalidRiskParameter, noSuchRiskObject, refuseCardNumber } from './errors.ts';
import { RuleSetCache, type RuleSet } from './rule-set-cache.ts';
import {
  changedSettings,
  defaultRiskSettings,
  defaultRiskScoring,
  type RiskScoring,
  type RiskSettings,
  type RiskSettingsChange,
  type RiskWeights,
} from './settings.ts';
import {
  bumpRiskVersion,
  radarRuleVersions,
  radarRules,
  radarValueListItems,
  radarValueLists,
  readSettings,
  writeSettings,
  type RadarRule,
  type RadarRuleVersion,
  type RuleStatus,
  type ValueList,
  type ValueListItem,
} from './store.ts';
import type { CompiledRule, RuleMode } from './types.ts';
import {
  checkAlias,
  itemsPerListMax,
  lookupForm,
  normalizeItemValue,
  valueListsPerMerchantMax,
  type ValueListItemType,
} from './value-lists.ts';

export type { RuleSet, RuleSetRule } from './rule-set-cache.ts';

export type Page<Item> = { readonly items: Item[]; readonly hasMore: boolean };

/** Stripe-like bounds: a rule of at most 1,000 characters, at most 100 active rules. */
export const ruleTextLengthMax = 1_000;
export const activeRulesMax = 100;
/** Disabled rules are kept (with their versions): all of a merchant's rules are bounded too. */
export const rulesPerMerchantMax = 1_000;
export const versionsPerRuleMax = 1_000;
export const rulePositionMax = 1_000_000;
/** The items a value list shows inline (Stripe's `list_items`). */
export const listItemsShown = 10;

export type RuleInput = {
  readonly text: string;
  readonly mode?: RuleMode;
  readonly description?: string;
  readonly position?: number;
};

export type RuleChange = {
  readonly text?: string;
  readonly mode?: RuleMode;
  /** null (or '' from the API) clears it. */
  readonly description?: string | null;
  readonly position?: number;
  readonly status?: RuleStatus;
};

export type ValueListInput = {
  readonly alias: string;
  readonly name: string;
  readonly itemType?: ValueListItemType;
  readonly metadata?: MetadataChange;
};

export type ValueListChange = {
  readonly alias?: string;
  readonly name?: string;
  readonly metadata?: MetadataChange;
};

/** A value list with its newest items and how many it holds (Stripe's `list_items`). */
export type ValueListView = {
  readonly list: ValueList;
  readonly items: readonly ValueListItem[];
  readonly itemCount: number;
};

export type ValueListItemInput = {
  readonly valueList: string;
  readonly value: string;
  readonly expiresAt?: Date;
};

export type RiskServiceDependencies = {
  readonly database: Database;
  /** The rule compiler (src/risk/rules): throws an error with a numeric `position` for a bad rule. */
  readonly compile: (text: string) => CompiledRule;
  readonly clock?: Clock;
  /** The default weights and their check: the score's own (src/risk/score.ts) unless given. */
  readonly scoring?: RiskScoring;
  /** How long a cached rule set is served before its version is read again (about 2 s). */
  readonly revalidateMs?: number;
  readonly onError?: (error: unknown, context: Record<string, string>) => void;
};

const insertRule = radarRules.insert();
const insertRuleVersion = radarRuleVersions.insert();
const updateRule = radarRules.update([
  'version',
  'action',
  'predicate',
  'text',
  'mode',
  'status',
  'description',
  'position',
]);
const insertValueList = radarValueLists.insert();
const updateValueList = radarValueLists.update(['alias', 'name', 'metadata']);
const insertItem = radarValueListItems.insert();

const tooManyMetadataKeys = (count: number): Error =>
  invalidRiskParameter('metadata', `Invalid metadata: at most 50 keys (${count} given).`);

/** The error the rule compiler throws for a bad rule (duck-typed: the compiler is another module). */
function rulePosition(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const position = (error as { position?: unknown }).position;
  return typeof position === 'number' ? position : undefined;
}

export class RiskService {
  readonly #database: Database;
  readonly #compile: (text: string) => CompiledRule;
  readonly #clock: Clock;
  readonly #scoring: RiskScoring;
  readonly #cache: RuleSetCache;

  constructor(dependencies: RiskServiceDependencies) {
    this.#database = dependencies.database;
    this.#compile = dependencies.compile;
    this.#clock = dependencies.clock ?? systemClock;
    this.#scoring = dependencies.scoring ?? defaultRiskScoring;
    this.#cache = new RuleSetCache({
      database: this.#database,
      clock: this.#clock,
      compile: this.#compile,
      scoring: this.#scoring,
      revalidateMs: dependencies.revalidateMs,
      onError: dependencies.onError,
    });
  }

  /**
   * What a decision needs, from the in-process cache: active rules compiled in position order,
   * the value lists, weights, thresholds and whether risk is on. Another process's write is seen
   * within the revalidation interval; this process's own writes at once.
   */
  ruleSetFor(merchantId: string): Promise<RuleSet> {
    return this.#cache.ruleSetFor(merchantId);
  }

  /** The score's default weights (what `weights: null` in the settings means). */
  get defaultWeights(): RiskWeights {
    return this.#scoring.defaultWeights;
  }

  // --- rules -----------------------------------------------------------------------------------

  /** A rule as it would be saved, or a 400 naming `rule` (and the position, for a syntax error). */
  compileRule(text: string): CompiledRule {
    if (text.trim().length === 0 || text.length > ruleTextLengthMax)
      throw invalidRiskParameter('rule', `Invalid rule: 1 to ${ruleTextLengthMax} characters.`);
    if (looksLikeCardNumber(text))
      throw invalidRiskParameter(
        'rule',
        'Invalid rule: a rule never holds a card number (compare :card_fingerprint: or :card_bin:).',
      );
    try {
      return this.#compile(text);
    } catch (error) {
      // The compiler's RuleSyntaxError is already a 400 naming `rule` and the position.
      if (error instanceof DomainError) throw error;
      const position = rulePosition(error);
      if (position === undefined) throw error;
      const message = (error as Error).message;
      throw invalidRiskParameter('rule', `Invalid rule at position ${position}: ${message}`);
    }
  }

  async createRule(
    merchantId: string,
    input: RuleInput,
    idempotency: IdempotentRequest = {},
  ): Promise<RadarRule> {
    const resumed = resumedResourceId(idempotency);
    if (resumed !== undefined) return this.retrieveRule(merchantId, resumed);
    const compiled = this.compileRule(input.text);
    refuseCardNumber('description', input.description);
    const now = this.#clock.now(merchantId);
    const rule = await this.#database.transaction(async (tx) => {
      await bumpRiskVersion(tx, merchantId);
      await this.#requireLists(tx, merchantId, compiled.lists);
      const counted = await tx.query<{ active: bigint; total: bigint; last: number | null }>(
        `SELECT count(*) FILTER (WHERE status = 'active') AS active, count(*) AS total,
                max(position) AS last
           FROM radar_rules WHERE merchant_id = $1`,
        [merchantId],
      );
      const counts = counted.rows[0];
      if (Number(counts?.active ?? 0) >= activeRulesMax)
        throw invalidRiskParameter(
          'rule',
          `A merchant has at most ${activeRulesMax} active rules.`,
        );
      if (Number(counts?.total ?? 0) >= rulesPerMerchantMax)
        throw invalidRiskParameter('rule', `A merchant has at most ${rulesPerMerchantMax} rules.`);
      const last = counts?.last ?? null;
      const created: RadarRule = {
        id: newSortableId('rule', now.getTime()),
        merchantId,
        version: 1,
        action: compiled.action,
        predicate: compiled.predicate,
        text: input.text,
        mode: input.mode ?? 'enforced',
        status: 'active',
        description: input.description ?? null,
        position: input.position ?? Math.min(last === null ? 0 : last + 1, rulePositionMax),
        createdAt: now,
        updatedAt: now,
      };
      await tx.query(insertRule.sql, insertRule.parameters(created));
      await tx.query(insertRuleVersion.sql, insertRuleVersion.parameters(versionOf(created, now)));
      await idempotency.bind?.(tx, created.id);
      return created;
    });
    this.#cache.invalidate(merchantId, { id: rule.id, version: rule.version, rule: compiled });
    return rule;
  }

  async retrieveRule(merchantId: string, id: string): Promise<RadarRule> {
    const found = await this.#findRule(this.#database, merchantId, id, false);
    if (found === undefined) throw noSuchRiskObject('rule', id);
    return found;
  }

  /**
   * A change of text, mode, description, position or status is a new version (the old ones are
   * kept); a change that changes nothing answers the rule as it is.
   */
  async updateRule(merchantId: string, id: string, change: RuleChange): Promise<RadarRule> {
    const compiled = change.text === undefined ? undefined : this.compileRule(change.text);
    refuseCardNumber('description', change.description);
    const now = this.#clock.now(merchantId);
    const result = await this.#database.transaction(async (tx) => {
      await bumpRiskVersion(tx, merchantId);
      const current = await this.#findRule(tx, merchantId, id, true);
      if (current === undefined) throw noSuchRiskObject('rule', id);
      const next = {
        action: compiled?.action ?? current.action,
        predicate: compiled?.predicate ?? current.predicate,
        text: change.text ?? current.text,
        mode: change.mode ?? current.mode,
        status: change.status ?? current.status,
        description: change.description === undefined ? current.description : change.description,
        position: change.position ?? current.position,
      };
      const changed = (Object.keys(next) as (keyof typeof next)[]).some(
        (field) => next[field] !== current[field],
      );
      if (!changed) return { rule: current, changed, saved: undefined };
      if (current.version >= versionsPerRuleMax)
        throw invalidRiskParameter('rule', `A rule has at most ${versionsPerRuleMax} versions.`);
      // A rule that is to run must compile and find its lists now; one being disabled need not
      // (a rule saved before the language got stricter can always be turned off).
      const saved = next.status === 'active' ? (compiled ?? this.compileRule(next.text)) : compiled;
      if (next.status === 'active' && saved !== undefined) {
        await this.#requireLists(tx, merchantId, saved.lists);
        if (current.status !== 'active') await this.#requireActiveRoom(tx, merchantId);
      }
      const rule = await updateRule.run(tx, id, { ...next, version: current.version + 1 }, now);
      await tx.query(insertRuleVersion.sql, insertRuleVersion.parameters(versionOf(rule, now)));
      return { rule, changed, saved };
    });
    // After the commit only: a compiled form is handed over for a version that exists.
    if (result.changed)
      this.#cache.invalidate(
        merchantId,
        result.saved === undefined
          ? undefined
          : { id, version: result.rule.version, rule: result.saved },
      );
    return result.rule;
  }

  /** Stripe's DELETE: the rule stops running (a new version, status disabled); it stays listed. */
  disableRule(merchantId: string, id: string): Promise<RadarRule> {
    return this.updateRule(merchantId, id, { status: 'disabled' });
  }

  /** A page of the merchant's rules, newest first; `status` filters. */
  async listRules(
    merchantId: string,
    filters: { readonly status?: RuleStatus },
    page: PageRequest,
  ): Promise<Page<RadarRule>> {
    const result = await keysetPage(
      this.#database,
      {
        select: '*',
        from: 'radar_rules',
        scope: 'merchant_id = $1',
        scopeParameters: [merchantId],
        equals: { status: filters.status },
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'rule',
      },
      page,
    );
    return { items: result.rows.map(radarRules.fromRow), hasMore: result.hasMore };
  }

  /** A page of a rule's versions, newest first; the cursors are version numbers. */
  async ruleVersions(
    merchantId: string,
    id: string,
    page: PageRequest<bigint>,
  ): Promise<Page<RadarRuleVersion>> {
    await this.retrieveRule(merchantId, id);
    const result = await keysetPage(
      this.#database,
      {
        select: '*',
        from: 'radar_rule_versions',
        scope: 'rule_id = $1 AND merchant_id = $2',
        scopeParameters: [id, merchantId],
        key: 'version',
        keyType: 'bigint',
        order: 'newest_first',
        noun: 'rule version',
      },
      page,
    );
    return { items: result.rows.map(radarRuleVersions.fromRow), hasMore: result.hasMore };
  }

  #findRule(
    queryable: Queryable,
    merchantId: string,
    id: string,
    lock: boolean,
  ): Promise<RadarRule | undefined> {
    return radarRules.findOwned(queryable, merchantId, id, lock);
  }

  async #requireActiveRoom(tx: Queryable, merchantId: string): Promise<void> {
    const counted = await tx.query<{ active: bigint }>(
      `SELECT count(*) AS active FROM radar_rules WHERE merchant_id = $1 AND status = 'active'`,
      [merchantId],
    );
    if (Number(counted.rows[0]?.active ?? 0) >= activeRulesMax)
      throw invalidRiskParameter(
        'status',
        `A merchant has at most ${activeRulesMax} active rules.`,
      );
  }

  /** Every `@alias` a rule names must be one of the merchant's value lists. */
  async #requireLists(
    tx: Queryable,
    merchantId: string,
    aliases: readonly string[],
  ): Promise<void> {
    if (aliases.length === 0) return;
    const found = await tx.query<{ alias: string }>(
      'SELECT alias FROM radar_value_lists WHERE merchant_id = $1 AND alias = ANY($2::text[])',
      [merchantId, textArrayLiteral([...aliases])],
    );
    const known = new Set(found.rows.map((row) => row.alias));
    const missing = aliases.find((alias) => !known.has(alias));
    if (missing !== undefined)
      throw invalidRiskParameter(
        'rule',
        `Invalid rule: no value list has the alias @${missing} (create it first).`,
      );
  }

  /** The merchant's active rules that name `@alias` (compiled again: rules are few and small). */
  async #rulesNaming(tx: Queryable, merchantId: string, alias: string): Promise<string[]> {
    const active = await tx.query<{ id: string; text: string }>(
      `SELECT id, rule_text AS text FROM radar_rules
        WHERE merchant_id = $1 AND status = 'active' ORDER BY id`,
      [merchantId],
    );
    return active.rows
      .filter((row) => {
        try {
          return this.#compile(row.text).lists.includes(alias);
        } catch {
          return false;
        }
      })
      .map((row) => row.id);
  }

  // --- value lists -----------------------------------------------------------------------------

  async createValueList(
    merchantId: string,
    input: ValueListInput,
    idempotency: IdempotentRequest = {},
  ): Promise<ValueListView> {
    const resumed = resumedResourceId(idempotency);
    if (resumed !== undefined) return this.retrieveValueList(merchantId, resumed);
    const alias = checkAlias(input.alias);
    refuseListText(input.name, input.metadata);
    const now = this.#clock.now(merchantId);
    const list = await this.#database.transaction(async (tx) => {
      await bumpRiskVersion(tx, merchantId);
      await this.#requireFreeAlias(tx, merchantId, alias);
      const counted = await tx.query<{ lists: bigint }>(
        'SELECT count(*) AS lists FROM radar_value_lists WHERE merchant_id = $1',
        [merchantId],
      );
      if (Number(counted.rows[0]?.lists ?? 0) >= valueListsPerMerchantMax)
        throw invalidRiskParameter(
          'alias',
          `A merchant has at most ${valueListsPerMerchantMax} value lists.`,
        );
      const created: ValueList = {
        id: newSortableId('rsl', now.getTime()),
        merchantId,
        alias,
        name: input.name,
        itemType: input.itemType ?? 'string',
        metadata: mergeMetadata({}, input.metadata, tooManyMetadataKeys),
        createdAt: now,
        updatedAt: now,
      };
      await tx.query(insertValueList.sql, insertValueList.parameters(created));
      await idempotency.bind?.(tx, created.id);
      return created;
    });
    this.#cache.invalidate(merchantId);
    return { list, items: [], itemCount: 0 };
  }

  async retrieveValueList(merchantId: string, id: string): Promise<ValueListView> {
    const list = await this.#findList(this.#database, merchantId, id, false);
    if (list === undefined) throw noSuchRiskObject('value list', id);
    const [view] = await this.#views(merchantId, [list]);
    if (view === undefined) throw new Error('a value list without its view');
    return view;
  }

  /** Name, alias and metadata; an alias that active rules name cannot change under them. */
  async updateValueList(
    merchantId: string,
    id: string,
    change: ValueListChange,
  ): Promise<ValueListView> {
    refuseListText(change.name, change.metadata);
    const now = this.#clock.now(merchantId);
    await this.#database.transaction(async (tx) => {
      await bumpRiskVersion(tx, merchantId);
      const current = await this.#findList(tx, merchantId, id, true);
      if (current === undefined) throw noSuchRiskObject('value list', id);
      const alias = change.alias === undefined ? current.alias : checkAlias(change.alias);
      if (alias !== current.alias) {
        await this.#requireFreeAlias(tx, merchantId, alias);
        await this.#requireUnnamed(tx, merchantId, current.alias, 'alias');
      }
      await updateValueList.run(
        tx,
        id,
        {
          alias,
          name: change.name ?? current.name,
          metadata: mergeMetadata(current.metadata, change.metadata, tooManyMetadataKeys),
        },
        now,
      );
    });
    this.#cache.invalidate(merchantId);
    return this.retrieveValueList(merchantId, id);
  }

  /** Deletes a list and its items; refused while an active rule names it. */
  async deleteValueList(merchantId: string, id: string): Promise<ValueList> {
    const deleted = await this.#database.transaction(async (tx) => {
      await bumpRiskVersion(tx, merchantId);
      const current = await this.#findList(tx, merchantId, id, true);
      if (current === undefined) throw noSuchRiskObject('value list', id);
      await this.#requireUnnamed(tx, merchantId, current.alias, 'id');
      await tx.query('DELETE FROM radar_value_lists WHERE id = $1 AND merchant_id = $2', [
        id,
        merchantId,
      ]);
      return current;
    });
    this.#cache.invalidate(merchantId);
    return deleted;
  }

  async listValueLists(
    merchantId: string,
    filters: { readonly alias?: string },
    page: PageRequest,
  ): Promise<Page<ValueListView>> {
    const result = await keysetPage(
      this.#database,
      {
        select: '*',
        from: 'radar_value_lists',
        scope: 'merchant_id = $1',
        scopeParameters: [merchantId],
        equals: { alias: filters.alias },
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'value list',
      },
      page,
    );
    const lists = result.rows.map(radarValueLists.fromRow);
    return { items: await this.#views(merchantId, lists), hasMore: result.hasMore };
  }

  /** Each list with its newest items and its item count: one query for the whole page. */
  async #views(merchantId: string, lists: readonly ValueList[]): Promise<ValueListView[]> {
    if (lists.length === 0) return [];
    const found = await this.#database.query<Record<string, unknown> & { item_count: bigint }>(
      `SELECT l.id AS list_id, i.*, (SELECT count(*) FROM radar_value_list_items c
                                      WHERE c.value_list_id = l.id) AS item_count
         FROM unnest($2::text[]) AS l (id)
         LEFT JOIN LATERAL (SELECT * FROM radar_value_list_items n
                             WHERE n.value_list_id = l.id AND n.merchant_id = $1
                             ORDER BY n.id DESC LIMIT ${listItemsShown}) i ON true`,
      [merchantId, textArrayLiteral(lists.map((list) => list.id))],
    );
    return lists.map((list) => {
      const rows = found.rows.filter((row) => row.list_id === list.id);
      return {
        list,
        items: rows.filter((row) => row.id !== null).map(radarValueListItems.fromRow),
        itemCount: Number(rows[0]?.item_count ?? 0),
      };
    });
  }

  #findList(
    queryable: Queryable,
    merchantId: string,
    id: string,
    lock: boolean,
  ): Promise<ValueList | undefined> {
    return radarValueLists.findOwned(queryable, merchantId, id, lock);
  }

  async #requireFreeAlias(tx: Queryable, merchantId: string, alias: string): Promise<void> {
    const taken = await tx.query(
      'SELECT 1 FROM radar_value_lists WHERE merchant_id = $1 AND alias = $2',
      [merchantId, alias],
    );
    if (taken.rows.length > 0)
      throw invalidRiskParameter('alias', `A value list with the alias ${alias} already exists.`);
  }

  async #requireUnnamed(
    tx: Queryable,
    merchantId: string,
    alias: string,
    param: string,
  ): Promise<void> {
    const naming = await this.#rulesNaming(tx, merchantId, alias);
    if (naming.length > 0)
      throw invalidRiskParameter(
        param,
        `The value list @${alias} is used by active rules (${naming.slice(0, 5).join(', ')}): ` +
          'disable or change them first.',
      );
  }

  // --- value list items ------------------------------------------------------------------------

  async createValueListItem(
    merchantId: string,
    input: ValueListItemInput,
    idempotency: IdempotentRequest = {},
  ): Promise<ValueListItem> {
    const resumed = resumedResourceId(idempotency);
    if (resumed !== undefined) return this.retrieveValueListItem(merchantId, resumed);
    const now = this.#clock.now(merchantId);
    if (input.expiresAt !== undefined && input.expiresAt.getTime() <= now.getTime())
      throw invalidRiskParameter('expires_at', 'Invalid expires_at: it must be in the future.');
    const item = await this.#database.transaction(async (tx) => {
      await bumpRiskVersion(tx, merchantId);
      const list = await this.#findList(tx, merchantId, input.valueList, true);
      if (list === undefined) throw noSuchRiskObject('value list', input.valueList, 'value_list');
      const value = normalizeItemValue(list.itemType, input.value);
      // Expired items only take room: they go when the list is written to.
      await tx.query(
        'DELETE FROM radar_value_list_items WHERE value_list_id = $1 AND expires_at <= $2',
        [list.id, now],
      );
      const existing = await tx.query<{ items: bigint; same: bigint }>(
        `SELECT count(*) AS items, count(*) FILTER (WHERE value = $2) AS same
           FROM radar_value_list_items WHERE value_list_id = $1`,
        [list.id, value],
      );
      if (Number(existing.rows[0]?.same ?? 0) > 0)
        throw invalidRiskParameter('value', 'Invalid value: it is on the list already.');
      if (Number(existing.rows[0]?.items ?? 0) >= itemsPerListMax)
        throw invalidRiskParameter('value', `A value list holds at most ${itemsPerListMax} items.`);
      const created: ValueListItem = {
        id: newSortableId('rsli', now.getTime()),
        merchantId,
        valueListId: list.id,
        value,
        expiresAt: input.expiresAt ?? null,
        createdAt: now,
      };
      await tx.query(insertItem.sql, insertItem.parameters(created));
      await idempotency.bind?.(tx, created.id);
      return created;
    });
    this.#cache.invalidate(merchantId);
    return item;
  }

  async retrieveValueListItem(merchantId: string, id: string): Promise<ValueListItem> {
    const found = await this.#database.query(
      'SELECT * FROM radar_value_list_items WHERE id = $1 AND merchant_id = $2',
      [id, merchantId],
    );
    const row = found.rows[0];
    if (row === undefined) throw noSuchRiskObject('value list item', id);
    return radarValueListItems.fromRow(row);
  }

  async deleteValueListItem(merchantId: string, id: string): Promise<ValueListItem> {
    const deleted = await this.#database.transaction(async (tx) => {
      await bumpRiskVersion(tx, merchantId);
      const found = await tx.query(
        'DELETE FROM radar_value_list_items WHERE id = $1 AND merchant_id = $2 RETURNING *',
        [id, merchantId],
      );
      const row = found.rows[0];
      if (row === undefined) throw noSuchRiskObject('value list item', id);
      return radarValueListItems.fromRow(row);
    });
    this.#cache.invalidate(merchantId);
    return deleted;
  }

  /**
   * A page of one list's items (or, without `valueList`, of all the merchant's), newest first;
   * `value` matches exactly, normalized as the list stores it.
   */
  async listValueListItems(
    merchantId: string,
    filters: { readonly valueList?: string; readonly value?: string },
    page: PageRequest,
  ): Promise<Page<ValueListItem>> {
    const list =
      filters.valueList === undefined
        ? undefined
        : await this.#findList(this.#database, merchantId, filters.valueList, false);
    if (filters.valueList !== undefined && list === undefined)
      throw noSuchRiskObject('value list', filters.valueList, 'value_list');
    const result = await keysetPage(
      this.#database,
      {
        select: '*',
        from: 'radar_value_list_items',
        scope: 'merchant_id = $1',
        scopeParameters: [merchantId],
        equals: {
          value_list_id: list?.id,
          value:
            filters.value === undefined
              ? undefined
              : list === undefined
                ? filters.value.trim()
                : lookupForm(list.itemType, filters.value.trim()),
        },
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'value list item',
      },
      page,
    );
    return { items: result.rows.map(radarValueListItems.fromRow), hasMore: result.hasMore };
  }

  // --- settings --------------------------------------------------------------------------------

  async settings(merchantId: string): Promise<RiskSettings> {
    return (await readSettings(this.#database, merchantId)) ?? defaultRiskSettings(merchantId);
  }

  async updateSettings(merchantId: string, change: RiskSettingsChange): Promise<RiskSettings> {
    const now = this.#clock.now(merchantId);
    const updated = await this.#database.transaction(async (tx) => {
      await bumpRiskVersion(tx, merchantId);
      const current = (await readSettings(tx, merchantId)) ?? defaultRiskSettings(merchantId);
      const next = changedSettings(current, change, this.#scoring, now);
      await writeSettings(tx, next);
      return next;
    });
    this.#cache.invalidate(merchantId);
    return updated;
  }
}

function refuseListText(name: string | undefined, metadata: MetadataChange): void {
  refuseCardNumber('name', name);
  if (typeof metadata !== 'object' || metadata === null) return;
  for (const [key, value] of Object.entries(metadata)) {
    refuseCardNumber('metadata', key);
    refuseCardNumber(`metadata[${key}]`, value);
  }
}

function versionOf(rule: RadarRule, at: Date): RadarRuleVersion {
  return {
    ruleId: rule.id,
    merchantId: rule.merchantId,
    version: rule.version,
    action: rule.action,
    predicate: rule.predicate,
    text: rule.text,
    mode: rule.mode,
    status: rule.status,
    description: rule.description,
    position: rule.position,
    createdAt: at,
  };
}
