// Schema drift fails here: every table definition (src/storage/table.ts) names exactly the
// columns the migrated database has, each with its type and nullability. A column added by a
// migration and not to its definition (or the other way round) is a write path that silently
// drops or invents a value.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { balanceTransactions } from '../../src/balances/index.ts';
import { ledgerOutbox } from '../../src/payments/payment-ledger.ts';
import { paymentAttempts, paymentIntents, refunds } from '../../src/payments/tables.ts';
import { customers, setupIntents } from '../../src/customers/tables.ts';
import { checkoutSessions, paymentLinks } from '../../src/checkout/tables.ts';
import {
  radarRuleVersions,
  radarRules,
  radarSettings,
  radarValueListItems,
  radarValueLists,
} from '../../src/risk/store.ts';
import { settlementBatches } from '../../src/settlement/tables.ts';
import { bankStatementDays, bankStatementEntries } from '../../src/banking/tables.ts';
import { discrepancies } from '../../src/banking/discrepancies.ts';
import {
  reconBatchProgress,
  reconExceptionHistory,
  reconExceptions,
  reconExpectations,
  reconFeeSchedules,
  reconFiles,
  reconGroups,
  reconQuarantine,
  reconRecords,
  reconRuns,
  reconStatementBalances,
} from '../../src/reconciliation/tables.ts';
import {
  settlementReportFetches,
  settlementReportLines,
} from '../../src/settlement/reports/tables.ts';
import type { ColumnShape, SqlType } from '../../src/storage/table.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';

const definitions: readonly { readonly name: string; readonly shape: readonly ColumnShape[] }[] = [
  paymentIntents,
  paymentAttempts,
  refunds,
  ledgerOutbox,
  balanceTransactions,
  settlementBatches,
  // Money in (migration 021)
  bankStatementEntries,
  bankStatementDays,
  settlementReportFetches,
  discrepancies,
  // PSP report lines (migration 027)
  settlementReportLines,
  // Reconciliation (migration 029)
  reconFiles,
  reconQuarantine,
  reconRecords,
  reconExpectations,
  reconFeeSchedules,
  reconRuns,
  reconGroups,
  reconExceptions,
  reconExceptionHistory,
  reconBatchProgress,
  reconStatementBalances,
  // Customers and SetupIntents (migration 031)
  customers,
  setupIntents,
  // Radar (migration 037)
  radarRules,
  radarRuleVersions,
  radarValueLists,
  radarValueListItems,
  radarSettings,
  // Hosted checkout (migration 040)
  checkoutSessions,
  paymentLinks,
];

const informationSchemaTypes: Readonly<Record<SqlType, string>> = {
  text: 'text',
  bigint: 'bigint',
  integer: 'integer',
  smallint: 'smallint',
  boolean: 'boolean',
  timestamptz: 'timestamp with time zone',
  jsonb: 'jsonb',
};

function describeColumn(name: string, type: string, nullable: boolean): string {
  return `${name} ${type}${nullable ? '' : ' not null'}`;
}

for (const kind of databaseKinds) {
  describe(`table definitions match the migrated schema (${kind})`, () => {
    let testDatabase: TestDatabase;
    before(async () => {
      testDatabase = await openTestDatabase(kind);
    });
    after(() => testDatabase.drop());

    for (const definition of definitions) {
      test(definition.name, async () => {
        const result = await testDatabase.database.query<{
          column_name: string;
          data_type: string;
          is_nullable: 'YES' | 'NO';
        }>(
          `SELECT column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name`,
          [definition.name],
        );
        const actual = result.rows.map((row) =>
          describeColumn(row.column_name, row.data_type, row.is_nullable === 'YES'),
        );
        const defined = definition.shape
          .map((column) =>
            describeColumn(column.name, informationSchemaTypes[column.type], column.nullable),
          )
          .sort();
        assert.ok(actual.length > 0, `${definition.name} does not exist`);
        assert.deepEqual(defined, actual);
      });
    }
  });
}
