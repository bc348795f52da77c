// Radar value lists and their items (src/risk/service.ts), Stripe's `radar.value_list` and
// `radar.value_list_item`, with Payrail's `expires_at` on an item (an expired item never matches).
import { Type, type Static } from 'typebox';
import type { ValueListView } from '../risk/service.ts';
import type { ValueList, ValueListItem } from '../risk/store.ts';
import { valueListItemTypes } from '../risk/value-lists.ts';
import {
  Enum,
  Nullable,
  StringMap,
  Timestamp,
  testMode,
  unixSeconds,
  unixSecondsOrNull,
} from './json.ts';

/** Who created an object: Payrail's API (Stripe names the dashboard user). */
const createdBy = 'api';

export const RadarValueListItemSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('radar.value_list_item'),
  created: Timestamp,
  created_by: Type.String(),
  expires_at: Nullable(
    Type.Integer({ description: 'Unix seconds; from then on the item never matches (Payrail).' }),
  ),
  livemode: Type.Boolean(),
  value: Type.String(),
  value_list: Type.String(),
});

export const RadarValueListSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('radar.value_list'),
  alias: Type.String(),
  created: Timestamp,
  created_by: Type.String(),
  item_type: Enum(valueListItemTypes),
  list_items: Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(RadarValueListItemSchema),
    has_more: Type.Boolean(),
    total_count: Type.Integer({ minimum: 0 }),
    url: Type.String(),
  }),
  livemode: Type.Boolean(),
  metadata: StringMap,
  name: Type.String(),
});

export const DeletedRadarValueListSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('radar.value_list'),
  deleted: Type.Literal(true),
});

export const DeletedRadarValueListItemSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('radar.value_list_item'),
  deleted: Type.Literal(true),
});

export function presentRadarValueListItem(
  item: ValueListItem,
  livemode = testMode,
): Static<typeof RadarValueListItemSchema> {
  return {
    id: item.id,
    object: 'radar.value_list_item',
    created: unixSeconds(item.createdAt),
    created_by: createdBy,
    expires_at: unixSecondsOrNull(item.expiresAt),
    livemode,
    value: item.value,
    value_list: item.valueListId,
  };
}

export function presentRadarValueList(
  view: ValueListView,
  livemode = testMode,
): Static<typeof RadarValueListSchema> {
  const { list } = view;
  return {
    id: list.id,
    object: 'radar.value_list',
    alias: list.alias,
    created: unixSeconds(list.createdAt),
    created_by: createdBy,
    item_type: list.itemType,
    list_items: {
      object: 'list',
      data: view.items.map((item) => presentRadarValueListItem(item, livemode)),
      has_more: view.itemCount > view.items.length,
      total_count: view.itemCount,
      url: `/v1/radar/value_list_items?value_list=${list.id}`,
    },
    livemode,
    metadata: { ...list.metadata },
    name: list.name,
  };
}

export function presentDeletedRadarValueList(
  list: ValueList,
): Static<typeof DeletedRadarValueListSchema> {
  return { id: list.id, object: 'radar.value_list', deleted: true };
}

export function presentDeletedRadarValueListItem(
  item: ValueListItem,
): Static<typeof DeletedRadarValueListItemSchema> {
  return { id: item.id, object: 'radar.value_list_item', deleted: true };
}
