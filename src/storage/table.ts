// One definition per stored entity: a typed table of columns (name, SQL type, how a domain value
// is written and read), from which every statement that writes or reads whole rows is generated:
// the single-row insert, the batched insert over `unnest` arrays, the array parameters of a batch,
// the SET list of an update and the row → domain mapping. A new column is added once, here, and
// every write path follows; a definition that no longer matches the domain type fails tsc, and
// one that no longer matches the database fails the schema test (test/storage/tables.test.ts).
// Every SQL string is generated when a statement is declared (at module load), never per call:
// the hot paths run hand-shaped statements and only pay for their parameters.
import { textArrayElement } from './arrays.ts';
import type { Queryable, Row } from './database.ts';

export type SqlType =
  'text' | 'bigint' | 'integer' | 'smallint' | 'boolean' | 'timestamptz' | 'jsonb';

/** What the schema test compares with `information_schema.columns`. */
export type ColumnShape = {
  readonly name: string;
  readonly type: SqlType;
  readonly nullable: boolean;
};

export type Column<Value> = ColumnShape & {
  /** The value as a query parameter (bigint and Date as the drivers take them). */
  readonly toParameter: (value: Value) => unknown;
  /** The value as one element of an array literal: `NULL`, `12`, `"text"`. */
  readonly toElement: (value: Value) => string;
  /** The value as the drivers return it (int8 as bigint, timestamptz as Date, jsonb parsed). */
  readonly fromColumn: (stored: unknown) => Value;
};

function column<Value>(
  name: string,
  type: SqlType,
  toElement: (value: Value) => string,
  toParameter: (value: Value) => unknown = (value) => value,
): Column<Value> {
  return {
    name,
    type,
    nullable: false,
    toParameter,
    toElement,
    fromColumn: (stored) => stored as Value,
  };
}

/** A text column; its type may be narrower (`text<IntentStatus>('status')`, inferred in a definition). */
export function text<Value extends string = string>(name: string): Column<Value> {
  return column<Value>(name, 'text', textArrayElement);
}

export function bigint(name: string): Column<bigint> {
  return column<bigint>(name, 'bigint', String);
}

export function integer(name: string): Column<number> {
  return column<number>(name, 'integer', String);
}

/** A smallint column (counters and small settings), a number in the domain. */
export function smallint(name: string): Column<number> {
  return column<number>(name, 'smallint', String);
}

export function boolean(name: string): Column<boolean> {
  return column<boolean>(name, 'boolean', (value) => (value ? 'true' : 'false'));
}

export function timestamptz(name: string): Column<Date> {
  return column<Date>(name, 'timestamptz', (value) => textArrayElement(value.toISOString()));
}

/** A jsonb column holding `Value` as JSON (written as its JSON text, read as parsed by the driver). */
export function jsonb<Value>(name: string): Column<Value> {
  return column<Value>(
    name,
    'jsonb',
    (value) => textArrayElement(JSON.stringify(value)),
    (value) => JSON.stringify(value),
  );
}

/** The same column, NULL allowed (null in the domain). */
export function nullable<Value>(inner: Column<Value>): Column<Value | null> {
  return {
    ...inner,
    nullable: true,
    toParameter: (value) => (value === null ? null : inner.toParameter(value)),
    toElement: (value) => (value === null ? 'NULL' : inner.toElement(value)),
    fromColumn: (stored) => (stored === null ? null : inner.fromColumn(stored)),
  };
}

/**
 * A column stored as `stored` holds a richer domain value: converted at the row-mapping edge and
 * back when written (e.g. a typed union kept in a text column).
 */
export function mapped<Domain, Stored>(
  stored: Column<Stored>,
  toStored: (value: Domain) => Stored,
  fromStored: (value: Stored) => Domain,
): Column<Domain> {
  return {
    name: stored.name,
    type: stored.type,
    nullable: stored.nullable,
    toParameter: (value) => stored.toParameter(toStored(value)),
    toElement: (value) => stored.toElement(toStored(value)),
    fromColumn: (value) => fromStored(stored.fromColumn(value)),
  };
}

/** One column per field of the domain type, each typed with that field's type. */
export type Columns<Domain> = { readonly [Field in keyof Domain]-?: Column<Domain[Field]> };

export type TableDefinition<Domain> = {
  readonly name: string;
  readonly columns: Columns<Domain>;
  /**
   * Columns that only SQL writes and the domain never reads (`updated_at`, a sync timestamp):
   * listed so that the schema test knows every column of the table.
   */
  readonly databaseOnly?: readonly ColumnShape[];
  /** Set by every update to the time it is given (the clock's, never SQL now()). */
  readonly updatedAt?: string;
  /** The field an insert also writes to `updatedAt`: a new row was last changed when created. */
  readonly createdAt?: keyof Domain & string;
};

/** A statement with its SQL and how its parameters come from a domain value. */
export type Statement<Input> = {
  readonly sql: string;
  readonly parameters: (input: Input) => unknown[];
};

/** Array parameters of a batch, one array per field, `$first` … in order. */
export type ArrayParameters<Value> = {
  /** `$4::text[], $5::bigint[]`, to put in `unnest(…)`. */
  readonly placeholders: string;
  /** The names of the unnested columns (the columns' names with a prefix). */
  readonly names: readonly string[];
  /** The columns' own names, to insert into. */
  readonly columns: readonly string[];
  /** `status = input.i_status, amount = input.i_amount` for an UPDATE … FROM input. */
  readonly assignments: (input: string) => string;
  /** The parameter after the last one. */
  readonly next: number;
  /** An undefined value is a row of NULLs (it keeps a batch aligned with its other arrays). */
  readonly parameters: (values: readonly (Value | undefined)[]) => string[];
};

export type Table<Domain> = {
  readonly name: string;
  /** Every column, the domain's fields in definition order, then the database-only ones. */
  readonly shape: readonly ColumnShape[];
  readonly fromRow: (row: Row) => Domain;
  /** `INSERT … VALUES ($1, …) RETURNING *` for every column except `except`. */
  readonly insert: <Except extends keyof Domain = never>(
    except?: readonly Except[],
  ) => Statement<Omit<Domain, Except>>;
  /**
   * `INSERT … SELECT … FROM unnest($first::type[], …)` inserting a batch of rows, every column;
   * `where` may filter the unnested rows (named `input`).
   */
  readonly insertBatch: (
    first: number,
    where?: string,
  ) => Statement<readonly Domain[]> & {
    readonly next: number;
    /** The array parameter of a field: `$11::timestamptz[]`. */
    readonly placeholderOf: (field: keyof Domain) => string;
  };
  readonly arrays: <Field extends keyof Domain>(
    fields: readonly Field[],
    first: number,
    prefix: string,
  ) => ArrayParameters<Pick<Domain, Field>>;
  /**
   * `UPDATE … SET <fields>, updated_at = $n[, also] WHERE id = $1 RETURNING *`, `$n` being the
   * time the update is given (its last parameter, which `also` may use too); `run` returns the
   * updated row (it must exist).
   */
  /**
   * The row `id` of `merchantId` (`id` and `merchant_id` columns), locked FOR UPDATE when `lock`
   * is set; undefined when there is none, also when it is another merchant's.
   */
  readonly findOwned: (
    queryable: Queryable,
    merchantId: string,
    id: string,
    lock?: boolean,
  ) => Promise<Domain | undefined>;
  readonly update: <Field extends keyof Domain>(
    fields: readonly Field[],
    also?: (now: string) => string,
  ) => Update<Pick<Domain, Field>, Domain>;
};

export type Update<Change, Domain> = {
  readonly sql: string;
  /** `now` is the time of the change (a merchant's clock time for a merchant's row). */
  readonly parameters: (id: string, change: Change, now: Date) => unknown[];
  readonly run: (queryable: Queryable, id: string, change: Change, now: Date) => Promise<Domain>;
};

type Entry<Domain> = readonly [keyof Domain & string, Column<unknown>];

function cast(index: number, type: SqlType, array = false): string {
  return `$${index}::${type}${array ? '[]' : ''}`;
}

export function defineTable<Domain>(definition: TableDefinition<Domain>): Table<Domain> {
  const entries = Object.entries(definition.columns) as unknown as Entry<Domain>[];
  const entryOf = (field: keyof Domain): Entry<Domain> => {
    const entry = entries.find(([candidate]) => candidate === field);
    if (entry === undefined) throw new Error(`${definition.name} has no field ${String(field)}`);
    return entry;
  };
  const fromRow = (row: Row): Domain => {
    const value: Record<string, unknown> = {};
    for (const [field, stored] of entries) value[field] = stored.fromColumn(row[stored.name]);
    return value as Domain;
  };
  const arrays = <Field extends keyof Domain>(
    fields: readonly Field[],
    first: number,
    prefix: string,
  ): ArrayParameters<Pick<Domain, Field>> => {
    const chosen = fields.map(entryOf);
    const names = chosen.map(([, stored]) => `${prefix}${stored.name}`);
    return {
      placeholders: chosen
        .map(([, stored], index) => cast(first + index, stored.type, true))
        .join(', '),
      names,
      columns: chosen.map(([, stored]) => stored.name),
      assignments: (input) =>
        chosen.map(([, stored], index) => `${stored.name} = ${input}.${names[index]}`).join(', '),
      next: first + chosen.length,
      parameters: (values) =>
        chosen.map(([field, stored]) => {
          const elements = new Array<string>(values.length);
          for (let index = 0; index < values.length; index++) {
            const value = values[index];
            elements[index] =
              value === undefined
                ? 'NULL'
                : stored.toElement((value as Record<string, unknown>)[field]);
          }
          return `{${elements.join(',')}}`;
        }),
    };
  };
  const ownedSql = `SELECT * FROM ${definition.name} WHERE id = $1 AND merchant_id = $2`;
  const lockedSql = `${ownedSql} FOR UPDATE`;
  return {
    name: definition.name,
    findOwned: async (queryable, merchantId, id, lock = false) => {
      const found = await queryable.query(lock ? lockedSql : ownedSql, [id, merchantId]);
      const row = found.rows[0];
      return row === undefined ? undefined : fromRow(row);
    },
    shape: [
      ...entries.map(([, { name, type, nullable: allowsNull }]) => ({
        name,
        type,
        nullable: allowsNull,
      })),
      ...(definition.databaseOnly ?? []),
    ],
    fromRow,
    insert: (except = []) => {
      const chosen = entries.filter(
        ([field]) => !(except as readonly PropertyKey[]).includes(field),
      );
      const names = chosen.map(([, stored]) => stored.name);
      const values = chosen.map(([, stored], index) => cast(index + 1, stored.type));
      const created = chosen.findIndex(([field]) => field === definition.createdAt);
      if (definition.updatedAt !== undefined && created >= 0) {
        names.push(definition.updatedAt);
        values.push(values[created] as string);
      }
      return {
        sql: `INSERT INTO ${definition.name} (${names.join(', ')})
              VALUES (${values.join(', ')}) RETURNING *`,
        parameters: (value) =>
          chosen.map(([field, stored]) =>
            stored.toParameter((value as Record<string, unknown>)[field]),
          ),
      };
    },
    insertBatch: (first, where) => {
      const input = arrays(
        entries.map(([field]) => field),
        first,
        '',
      );
      const names = input.names.join(', ');
      const touched =
        definition.updatedAt === undefined || definition.createdAt === undefined
          ? { columns: '', values: '' }
          : {
              columns: `, ${definition.updatedAt}`,
              values: `, ${entryOf(definition.createdAt)[1].name}`,
            };
      return {
        sql: `INSERT INTO ${definition.name} (${names}${touched.columns})
              SELECT ${names}${touched.values} FROM unnest(${input.placeholders}) AS input (${names})${where === undefined ? '' : ` WHERE ${where}`}`,
        parameters: (values) => input.parameters(values),
        next: input.next,
        placeholderOf: (field) => {
          const index = entries.findIndex(([candidate]) => candidate === field);
          if (index < 0) throw new Error(`${definition.name} has no field ${String(field)}`);
          return cast(first + index, entryOf(field)[1].type, true);
        },
      };
    },
    arrays,
    update: <Field extends keyof Domain>(
      fields: readonly Field[],
      also?: (now: string) => string,
    ): Update<Pick<Domain, Field>, Domain> => {
      const chosen = fields.map(entryOf);
      const set = chosen.map(
        ([, stored], index) => `${stored.name} = ${cast(index + 2, stored.type)}`,
      );
      const now = cast(chosen.length + 2, 'timestamptz');
      if (definition.updatedAt !== undefined) set.push(`${definition.updatedAt} = ${now}`);
      if (also !== undefined) set.push(also(now));
      const sql = `UPDATE ${definition.name} SET ${set.join(', ')} WHERE id = $1 RETURNING *`;
      const parameters = (id: string, change: Pick<Domain, Field>, at: Date): unknown[] => [
        id,
        ...chosen.map(([field, stored]) =>
          stored.toParameter((change as Record<string, unknown>)[field]),
        ),
        at,
      ];
      return {
        sql,
        parameters,
        run: async (queryable: Queryable, id: string, change: Pick<Domain, Field>, at: Date) => {
          const result = await queryable.query(sql, parameters(id, change, at));
          const row = result.rows[0];
          if (row === undefined) throw new Error(`${definition.name} ${id} does not exist`);
          return fromRow(row);
        },
      };
    },
  };
}
