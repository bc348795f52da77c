// The stored form of a merchant's risk rules, value lists and settings (migration 037): one
// definition per table (src/storage/table.ts), and the few hand-written statements the rule set
// cache reads with.
import type { Queryable } from '../storage/database.ts';
import {
  boolean,
  defineTable,
  integer,
  jsonb,
  nullable,
  text,
  timestamptz,
} from '../storage/table.ts';
import type { RuleAction, RuleMode } from './types.ts';
import type { ValueListItemType } from './value-lists.ts';
import type { RiskSettings, RiskWeights } from './settings.ts';

export type RuleStatus = 'active' | 'disabled';

/** A rule as it is now (its latest version). */
export type RadarRule = {
  readonly id: string;
  readonly merchantId: string;
  readonly version: number;
  readonly action: RuleAction;
  readonly predicate: string;
  /** The whole rule as written (`block if :card_country: != :ip_country:`). */
  readonly text: string;
  readonly mode: RuleMode;
  readonly status: RuleStatus;
  readonly description: string | null;
  /** Rules run in ascending position (ties: the older rule first). */
  readonly position: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
};

/** One version of a rule, as it was written; `createdAt` is when this version was. */
export type RadarRuleVersion = Omit<RadarRule, 'id' | 'updatedAt'> & { readonly ruleId: string };

export type ValueList = {
  readonly id: string;
  readonly merchantId: string;
  readonly alias: string;
  readonly name: string;
  readonly itemType: ValueListItemType;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
};

export type ValueListItem = {
  readonly id: string;
  readonly merchantId: string;
  readonly valueListId: string;
  readonly value: string;
  /** After this instant the item no longer matches (Payrail's extension); null: never expires. */
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
};

const ruleColumns = {
  merchantId: text('merchant_id'),
  version: integer('version'),
  action: text<RuleAction>('action'),
  predicate: text('predicate'),
  text: text('rule_text'),
  mode: text<RuleMode>('mode'),
  status: text<RuleStatus>('status'),
  description: nullable(text('description')),
  position: integer('position'),
  createdAt: timestamptz('created_at'),
};

export const radarRules = defineTable<RadarRule>({
  name: 'radar_rules',
  columns: { id: text('id'), ...ruleColumns, updatedAt: timestamptz('updated_at') },
  updatedAt: 'updated_at',
});

export const radarRuleVersions = defineTable<RadarRuleVersion>({
  name: 'radar_rule_versions',
  columns: { ruleId: text('rule_id'), ...ruleColumns },
});

export const radarValueLists = defineTable<ValueList>({
  name: 'radar_value_lists',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    alias: text('alias'),
    name: text('name'),
    itemType: text<ValueListItemType>('item_type'),
    metadata: jsonb('metadata'),
    createdAt: timestamptz('created_at'),
    updatedAt: timestamptz('updated_at'),
  },
  updatedAt: 'updated_at',
});

export const radarValueListItems = defineTable<ValueListItem>({
  name: 'radar_value_list_items',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    valueListId: text('value_list_id'),
    value: text('value'),
    expiresAt: nullable(timestamptz('expires_at')),
    createdAt: timestamptz('created_at'),
  },
});

type SettingsRow = {
  readonly merchantId: string;
  readonly enabled: boolean;
  readonly weights: RiskWeights | null;
  readonly thresholdElevated: number;
  readonly thresholdHighest: number;
  readonly updatedAt: Date;
};

export const radarSettings = defineTable<SettingsRow>({
  name: 'radar_settings',
  columns: {
    merchantId: text('merchant_id'),
    enabled: boolean('enabled'),
    weights: nullable(jsonb<RiskWeights>('weights')),
    thresholdElevated: integer('threshold_elevated'),
    thresholdHighest: integer('threshold_highest'),
    updatedAt: timestamptz('updated_at'),
  },
});

const insertSettings = radarSettings.insert();
const upsertSettingsSql = `${insertSettings.sql.replace(
  / RETURNING \*$/,
  '',
)} ON CONFLICT (merchant_id) DO UPDATE SET enabled = excluded.enabled, weights = excluded.weights,
  threshold_elevated = excluded.threshold_elevated, threshold_highest = excluded.threshold_highest,
  updated_at = excluded.updated_at`;

export async function readSettings(
  queryable: Queryable,
  merchantId: string,
): Promise<RiskSettings | undefined> {
  const found = await queryable.query('SELECT * FROM radar_settings WHERE merchant_id = $1', [
    merchantId,
  ]);
  const row = found.rows[0];
  if (row === undefined) return undefined;
  const stored = radarSettings.fromRow(row);
  return {
    merchantId,
    enabled: stored.enabled,
    weights: stored.weights,
    thresholds: { elevated: stored.thresholdElevated, highest: stored.thresholdHighest },
    updatedAt: stored.updatedAt,
  };
}

export async function writeSettings(queryable: Queryable, settings: RiskSettings): Promise<void> {
  await queryable.query(
    upsertSettingsSql,
    insertSettings.parameters({
      merchantId: settings.merchantId,
      enabled: settings.enabled,
      weights: settings.weights,
      thresholdElevated: settings.thresholds.elevated,
      thresholdHighest: settings.thresholds.highest,
      updatedAt: settings.updatedAt ?? new Date(0),
    }),
  );
}

/**
 * Bumps the merchant's risk version, first in every write transaction: the row lock it takes
 * serializes the merchant's risk writes (so counted bounds hold under concurrency), and the new
 * number tells every process's cache that its copy is stale.
 */
export async function bumpRiskVersion(queryable: Queryable, merchantId: string): Promise<bigint> {
  const bumped = await queryable.query<{ version: bigint }>(
    `INSERT INTO radar_versions (merchant_id, version) VALUES ($1, 1)
     ON CONFLICT (merchant_id) DO UPDATE SET version = radar_versions.version + 1
     RETURNING version`,
    [merchantId],
  );
  return BigInt(bumped.rows[0]?.version ?? 0n);
}

/** The merchant's risk version (0 before its first risk write): the cache's cheap staleness check. */
export async function readRiskVersion(queryable: Queryable, merchantId: string): Promise<bigint> {
  const found = await queryable.query<{ version: bigint }>(
    'SELECT version FROM radar_versions WHERE merchant_id = $1',
    [merchantId],
  );
  return BigInt(found.rows[0]?.version ?? 0n);
}

/** What the rule set cache loads for a merchant, all read in one transaction. */
export type RuleSetRows = {
  readonly version: bigint;
  readonly rules: readonly Pick<RadarRule, 'id' | 'version' | 'text' | 'mode'>[];
  readonly lists: readonly {
    readonly alias: string;
    readonly itemType: ValueListItemType;
    readonly items: readonly { readonly value: string; readonly expiresAtMs: number }[];
  }[];
  readonly settings: RiskSettings | undefined;
};

export async function readRuleSetRows(
  queryable: Queryable,
  merchantId: string,
  now: Date,
): Promise<RuleSetRows> {
  const version = await readRiskVersion(queryable, merchantId);
  const rules = await queryable.query<{
    id: string;
    version: number;
    text: string;
    mode: RuleMode;
  }>(
    `SELECT id, version, rule_text AS text, mode FROM radar_rules
      WHERE merchant_id = $1 AND status = 'active' ORDER BY position, id`,
    [merchantId],
  );
  const items = await queryable.query<{
    alias: string;
    item_type: ValueListItemType;
    value: string | null;
    expires_at: Date | null;
  }>(
    `SELECT l.alias, l.item_type, i.value, i.expires_at
       FROM radar_value_lists l
       LEFT JOIN radar_value_list_items i
         ON i.value_list_id = l.id AND (i.expires_at IS NULL OR i.expires_at > $2::timestamptz)
      WHERE l.merchant_id = $1`,
    [merchantId, now],
  );
  const lists = new Map<
    string,
    { alias: string; itemType: ValueListItemType; items: { value: string; expiresAtMs: number }[] }
  >();
  for (const row of items.rows) {
    let list = lists.get(row.alias);
    if (list === undefined) {
      list = { alias: row.alias, itemType: row.item_type, items: [] };
      lists.set(row.alias, list);
    }
    if (row.value !== null)
      list.items.push({
        value: row.value,
        expiresAtMs: row.expires_at === null ? Infinity : row.expires_at.getTime(),
      });
  }
  return {
    version,
    rules: rules.rows,
    lists: [...lists.values()],
    settings: await readSettings(queryable, merchantId),
  };
}
