// One way to answer a search route (Stripe's `/v1/<objects>/search`): one query schema, the
// `total_count` expansion taken apart from the object expansions, one envelope.
import { Type } from 'typebox';
import { searchResult, type SearchResultEnvelope } from '../api-objects/json.ts';
import { queryLengthMax, type SearchRequest } from '../search/index.ts';
import { Expand, expandEach, expansionPlan, type ExpandScope } from './expand.ts';
import { ListQuery } from './list.ts';

/** The query of a search route; `fields` names the object's query fields for the docs. */
export function searchQuery(fields: readonly string[], example: string) {
  return Type.Object(
    {
      query: Type.String({
        minLength: 1,
        maxLength: queryLengthMax,
        description:
          `Stripe's search query language, e.g. ${example}; AND or OR (not both), ` +
          `-field:'v' negates, ~ matches a substring. Fields: ${fields.join(', ')}.`,
      }),
      limit: ListQuery.properties.limit,
      page: Type.Optional(
        Type.String({ minLength: 1, maxLength: 300, description: 'The next_page of a result.' }),
      ),
      expand: Expand,
    },
    { additionalProperties: false },
  );
}

type SearchQueryValue = {
  readonly query: string;
  readonly limit: number;
  readonly page?: string;
  readonly expand?: readonly string[];
};

type Found<Item> = {
  readonly items: readonly Item[];
  readonly hasMore: boolean;
  readonly nextPage: string | null;
  readonly totalCount?: number;
};

/**
 * Answers a search: checks the expansions before reading (a bad one reads nothing), reads one
 * page, presents it in Stripe's search_result envelope and expands `data.*` as asked.
 */
export async function answerSearch<Item, Shown>(
  query: SearchQueryValue,
  target: { readonly type: string; readonly url: string; readonly scope: ExpandScope },
  read: (request: SearchRequest) => Promise<Found<Item>>,
  present: (item: Item) => Shown,
): Promise<SearchResultEnvelope<Shown>> {
  const paths = query.expand ?? [];
  const plan = expansionPlan(
    target.type,
    paths.filter((path) => path !== 'total_count'),
    'list',
  );
  const found = await read({
    query: query.query,
    limit: query.limit,
    page: query.page,
    totalCount: paths.includes('total_count'),
  });
  const result = searchResult(
    found.items.map((item) => present(item)),
    found,
    target.url,
  );
  return expandEach(result, target.type, plan, target.scope);
}
