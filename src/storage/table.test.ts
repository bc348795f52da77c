import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from './database.ts';
import { openPglite } from './pglite.ts';
import {
  bigint,
  boolean,
  defineTable,
  integer,
  jsonb,
  mapped,
  nullable,
  text,
  timestamptz,
} from './table.ts';

type Level = { readonly rank: number } | null;

type Thing = {
  readonly id: string;
  readonly kind: 'small' | 'large';
  readonly amount: bigint;
  readonly count: number;
  readonly flag: boolean;
  readonly note: string | null;
  readonly data: Readonly<Record<string, string>>;
  readonly level: Level;
  readonly seenAt: Date | null;
  readonly createdAt: Date;
};

const things = defineTable<Thing>({
  name: 'things',
  columns: {
    id: text('id'),
    kind: text('kind'),
    amount: bigint('amount'),
    count: integer('count'),
    flag: boolean('flag'),
    note: nullable(text('note')),
    data: jsonb('data'),
    // A typed value kept as text, converted at the row-mapping edge.
    level: mapped<Level, string | null>(
      nullable(text('level')),
      (level) => (level === null ? null : `rank:${level.rank}`),
      (stored) => (stored === null ? null : { rank: Number(stored.slice('rank:'.length)) }),
    ),
    seenAt: nullable(timestamptz('seen_at')),
    createdAt: timestamptz('created_at'),
  },
  databaseOnly: [timestamptz('updated_at')],
  updatedAt: 'updated_at',
});

const awkward: Thing = {
  id: 'th_"quoted",\\back{slash}',
  kind: 'large',
  amount: 9_223_372_036_854_775_807n,
  count: -3,
  flag: true,
  note: 'NULL',
  data: { 'a "key"': 'a \\ value, {with} braces' },
  level: { rank: 7 },
  seenAt: new Date('2026-01-02T03:04:05.678Z'),
  createdAt: new Date('2025-12-31T23:59:59.999Z'),
};
const plain: Thing = {
  id: 'th_plain',
  kind: 'small',
  amount: 0n,
  count: 0,
  flag: false,
  note: null,
  data: {},
  level: null,
  seenAt: null,
  createdAt: new Date('2026-02-03T00:00:00.000Z'),
};

let database: Database;
before(async () => {
  database = await openPglite('memory://');
  await database.exec(`CREATE TABLE things (
    id text PRIMARY KEY, kind text NOT NULL, amount bigint NOT NULL, count integer NOT NULL,
    flag boolean NOT NULL, note text, data jsonb NOT NULL, level text, seen_at timestamptz,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
});
after(() => database.close());

async function stored(): Promise<Thing[]> {
  const result = await database.query('SELECT * FROM things ORDER BY id');
  return result.rows.map(things.fromRow);
}

test('the statements are generated from the definition, with typed placeholders', () => {
  assert.equal(
    things.insert(['createdAt']).sql.replace(/\s+/g, ' '),
    'INSERT INTO things (id, kind, amount, count, flag, note, data, level, seen_at) VALUES ' +
      '($1::text, $2::text, $3::bigint, $4::integer, $5::boolean, $6::text, $7::jsonb, $8::text, $9::timestamptz) RETURNING *',
  );
  const update = things.update(['amount', 'level'], (now) => `count = count + 1, seen_at = ${now}`);
  assert.equal(
    update.sql,
    'UPDATE things SET amount = $2::bigint, level = $3::text, updated_at = $4::timestamptz, count = count + 1, seen_at = $4::timestamptz WHERE id = $1 RETURNING *',
  );
  const at = new Date('2026-01-02T03:04:05.678Z');
  assert.deepEqual(update.parameters('th_1', { amount: 5n, level: { rank: 2 } }, at), [
    'th_1',
    5n,
    'rank:2',
    at,
  ]);
  const arrays = things.arrays(['amount', 'note', 'flag'], 4, 'x_');
  assert.equal(arrays.placeholders, '$4::bigint[], $5::text[], $6::boolean[]');
  assert.deepEqual(arrays.names, ['x_amount', 'x_note', 'x_flag']);
  assert.equal(
    arrays.assignments('input'),
    'amount = input.x_amount, note = input.x_note, flag = input.x_flag',
  );
  assert.equal(arrays.next, 7);
  assert.deepEqual(arrays.parameters([awkward, plain]), [
    '{9223372036854775807,0}',
    '{"NULL",NULL}',
    '{true,false}',
  ]);
  assert.deepEqual(
    things.shape.map(
      ({ name, type, nullable: allowsNull }) => `${name} ${type}${allowsNull ? '' : ' not null'}`,
    ),
    [
      'id text not null',
      'kind text not null',
      'amount bigint not null',
      'count integer not null',
      'flag boolean not null',
      'note text',
      'data jsonb not null',
      'level text',
      'seen_at timestamptz',
      'created_at timestamptz not null',
      'updated_at timestamptz not null',
    ],
  );
});

test('a batch inserted through unnest arrays reads back equal, whatever the values hold', async () => {
  const batch = things.insertBatch(1);
  await database.query(
    `WITH i AS (${batch.sql} RETURNING id) SELECT count(*) FROM i`,
    batch.parameters([awkward, plain]),
  );
  assert.deepEqual(
    await stored(),
    [plain, awkward].sort((a, b) => (a.id < b.id ? -1 : 1)),
  );
  await database.exec('DELETE FROM things');
});

test('a single insert and an update write the same values; the update returns the row', async () => {
  const insert = things.insert();
  await database.query(insert.sql, insert.parameters(awkward));
  assert.deepEqual(await stored(), [awkward]);
  const update = things.update(['note', 'level', 'seenAt', 'data']);
  // The update is stamped with the time it is given (a clock's), not the database's now().
  const at = new Date('2031-05-06T07:08:09.123Z');
  const updated = await update.run(
    database,
    awkward.id,
    { note: null, level: null, seenAt: null, data: { k: 'v' } },
    at,
  );
  const expected = { ...awkward, note: null, level: null, seenAt: null, data: { k: 'v' } };
  assert.deepEqual(updated, expected);
  assert.deepEqual(await stored(), [expected]);
  const touched = await database.query<{ updated_at: Date }>(
    'SELECT updated_at FROM things WHERE id = $1',
    [awkward.id],
  );
  assert.deepEqual(touched.rows[0]?.updated_at, at);
  await assert.rejects(
    update.run(database, 'th_missing', expected, at),
    /things th_missing does not exist/,
  );
  await database.exec('DELETE FROM things');
});

test('a batch may be filtered and gives the parameter after its last', async () => {
  const batch = things.insertBatch(2, 'input.kind = $1');
  assert.equal(batch.next, 12);
  await database.query(batch.sql, ['small', ...batch.parameters([awkward, plain])]);
  assert.deepEqual(await stored(), [plain]);
  await database.exec('DELETE FROM things');
});
