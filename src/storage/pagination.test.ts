import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from './database.ts';
import {
  BothCursorsError,
  keysetPage,
  UnknownCursorError,
  type KeysetQuery,
  type PageRequest,
} from './pagination.ts';
import { openPglite } from './pglite.ts';

type ItemRow = { id: string; owner: string; kind: string; sequence: bigint };

const ownA = Array.from({ length: 7 }, (_, index) => `it_${String(index + 1).padStart(2, '0')}`);

let database: Database;
before(async () => {
  database = await openPglite('memory://');
  await database.exec(
    `CREATE TABLE items (id text PRIMARY KEY, owner text NOT NULL, kind text NOT NULL,
       sequence bigint NOT NULL UNIQUE)`,
  );
  const rows = [
    ...ownA.map((id, index) => [id, 'a', index % 2 === 0 ? 'even' : 'odd', index + 1]),
    ['it_00', 'b', 'even', 100],
    ['it_99', 'b', 'even', 101],
  ];
  for (const row of rows)
    await database.query('INSERT INTO items VALUES ($1, $2, $3, $4)', row as unknown[]);
});
after(() => database.close());

const query = (order: KeysetQuery<string>['order'], kind?: string): KeysetQuery<string> => ({
  select: 'id, owner, kind, sequence',
  from: 'items',
  scope: 'owner = $1',
  scopeParameters: ['a'],
  ...(kind === undefined ? {} : { filter: 'kind = $2', filterParameters: [kind] }),
  key: 'id',
  keyType: 'text',
  order,
  noun: 'item',
});

async function page(order: KeysetQuery<string>['order'], request: PageRequest, kind?: string) {
  const found = await keysetPage<ItemRow, string>(database, query(order, kind), request);
  return { ids: found.rows.map((row) => row.id), hasMore: found.hasMore };
}

/** Every page, walking forward from the start with starting_after. */
async function walkForward(order: KeysetQuery<string>['order'], limit: number) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const found = await page(order, { limit, startingAfter: cursor });
    pages.push(found.ids);
    if (!found.hasMore) return pages;
    cursor = found.ids.at(-1);
  }
}

describe('keyset pagination', () => {
  for (const order of ['newest_first', 'oldest_first'] as const) {
    const listOrder = order === 'newest_first' ? [...ownA].reverse() : ownA;

    test(`${order}: pages cover the scope once, in list order, for every limit`, async () => {
      for (let limit = 1; limit <= 8; limit++) {
        const pages = await walkForward(order, limit);
        assert.deepEqual(pages.flat(), listOrder, `limit ${limit}`);
        assert.ok(pages.slice(0, -1).every((ids) => ids.length === limit));
      }
    });

    test(`${order}: ending_before gives the previous page, in list order`, async () => {
      for (let limit = 1; limit <= 8; limit++) {
        const pages = await walkForward(order, limit);
        for (let index = 1; index < pages.length; index++) {
          const before = await page(order, { limit, endingBefore: pages[index]?.[0] });
          assert.deepEqual(before.ids, pages[index - 1], `limit ${limit}, page ${index}`);
          assert.equal(before.hasMore, index - 1 > 0, 'more pages before it');
        }
      }
    });
  }

  test('a filter narrows the page but not the cursors', async () => {
    const odd = await page('newest_first', { limit: 10, startingAfter: 'it_07' }, 'odd');
    assert.deepEqual(odd.ids, ['it_06', 'it_04', 'it_02']);
    assert.equal(odd.hasMore, false);
  });

  test('a cursor outside the scope, or naming nothing, is refused naming the cursor', async () => {
    for (const [request, param] of [
      [{ limit: 3, startingAfter: 'it_99' }, 'starting_after'],
      [{ limit: 3, endingBefore: 'it_00' }, 'ending_before'],
      [{ limit: 3, startingAfter: 'it_missing' }, 'starting_after'],
    ] as const) {
      await assert.rejects(page('newest_first', request), (error: unknown) => {
        assert.ok(error instanceof UnknownCursorError);
        assert.equal(error.param, param);
        assert.match(error.message, /^No such item: 'it_(99|00|missing)' \(given as /);
        return true;
      });
    }
    await assert.rejects(
      page('newest_first', { limit: 3, startingAfter: 'it_01', endingBefore: 'it_05' }),
      BothCursorsError,
    );
  });

  test('the limit is bounded to 1–100', async () => {
    assert.equal((await page('oldest_first', { limit: 0 })).ids.length, 1);
    assert.equal((await page('oldest_first', { limit: 1_000 })).ids.length, ownA.length);
  });

  test('a bigint key (a sequence number) pages the same way', async () => {
    const bySequence = (request: PageRequest<bigint>) =>
      keysetPage<ItemRow, bigint>(
        database,
        {
          select: 'id, owner, kind, sequence',
          from: 'items',
          scope: 'owner = $1',
          scopeParameters: ['a'],
          key: 'sequence',
          keyType: 'bigint',
          order: 'newest_first',
          noun: 'item',
        },
        request,
      );
    const first = await bySequence({ limit: 3 });
    assert.deepEqual(
      first.rows.map((row) => row.sequence),
      [7n, 6n, 5n],
    );
    const next = await bySequence({ limit: 3, startingAfter: 5n });
    assert.deepEqual(
      next.rows.map((row) => row.sequence),
      [4n, 3n, 2n],
    );
    assert.equal(next.hasMore, true);
    await assert.rejects(bySequence({ limit: 3, endingBefore: 100n }), UnknownCursorError);
  });
});
