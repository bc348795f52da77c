// What each PSP's contract says it keeps (architecture §13): the fee schedule reconciliation
// checks every reported fee against (`fee_variance`). The defaults are in rules.ts; the operator
// replaces a connector's with PUT /v1/reconciliation/fee_schedules/:connector (recon_fee_schedules).
// A schedule applies to runs from then on; expectations already built keep the fee they expected.
import { systemClock, type Clock } from '../clock.ts';
import type { Database } from '../storage/database.ts';
import { ReconciliationError } from './engine/errors.ts';
import { defaultFeeSchedules, zeroFees, type FeeSchedule } from './rules.ts';
import { reconFeeSchedules, type FeeScheduleRow } from './tables.ts';

export type ConnectorFeeSchedule = {
  readonly connector: string;
  readonly schedule: FeeSchedule;
  /** 'default' until the operator sets one. */
  readonly source: 'default' | 'configured';
  readonly updatedAt: Date | null;
};

const connectorPattern = /^[a-z0-9_]{1,40}$/;
const bpsMax = 10_000;
const fixedMax = 1_000_000n;

const insertSchedule = reconFeeSchedules.insertBatch(1);
const upsert = `${insertSchedule.sql}
  ON CONFLICT (connector) DO UPDATE SET commission_bps = EXCLUDED.commission_bps,
    commission_fixed = EXCLUDED.commission_fixed, markup_bps = EXCLUDED.markup_bps,
    scheme_fee_bps = EXCLUDED.scheme_fee_bps, interchange_bps = EXCLUDED.interchange_bps,
    tax_bps = EXCLUDED.tax_bps, refund_fixed = EXCLUDED.refund_fixed,
    updated_at = EXCLUDED.updated_at`;

export class FeeSchedules {
  readonly #database: Database;
  readonly #clock: Clock;

  constructor(options: { readonly database: Database; readonly clock?: Clock }) {
    this.#database = options.database;
    this.#clock = options.clock ?? systemClock;
  }

  /** Every connector with a default or a configured schedule, by name. */
  async list(): Promise<ConnectorFeeSchedule[]> {
    const stored = await this.#database.query('SELECT * FROM recon_fee_schedules');
    const configured = new Map(
      stored.rows.map((row) => {
        const schedule = reconFeeSchedules.fromRow(row);
        return [schedule.connector, schedule];
      }),
    );
    const connectors = [...new Set([...Object.keys(defaultFeeSchedules), ...configured.keys()])];
    return connectors.sort().map((connector) => {
      const row = configured.get(connector);
      if (row !== undefined) return fromRow(row);
      return {
        connector,
        schedule: defaultFeeSchedules[connector] as FeeSchedule,
        source: 'default',
        updatedAt: null,
      };
    });
  }

  /** Replaces a connector's schedule; fields not given keep their current value. */
  async set(connector: string, changes: Partial<FeeSchedule>): Promise<ConnectorFeeSchedule> {
    if (!connectorPattern.test(connector))
      throw new ReconciliationError(
        'parameter_invalid',
        'connector must be 1 to 40 of a-z, 0-9 and _',
        'connector',
      );
    checkChanges(changes);
    const current = (await this.list()).find((entry) => entry.connector === connector);
    const given = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    ) as Partial<FeeSchedule>;
    const schedule: FeeSchedule = { ...(current?.schedule ?? zeroFees), ...given };
    const row: FeeScheduleRow = { connector, ...schedule, updatedAt: this.#clock.now() };
    await this.#database.query(upsert, insertSchedule.parameters([row]));
    return fromRow(row);
  }
}

function fromRow(row: FeeScheduleRow): ConnectorFeeSchedule {
  const { connector, updatedAt, ...schedule } = row;
  return { connector, schedule, source: 'configured', updatedAt };
}

const bpsFields = ['commissionBps', 'markupBps', 'schemeFeeBps', 'interchangeBps', 'taxBps'];

function checkChanges(changes: Partial<FeeSchedule>): void {
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const ok = bpsFields.includes(field)
      ? Number.isInteger(value) && Number(value) >= 0 && Number(value) <= bpsMax
      : typeof value === 'bigint' && value >= 0n && value <= fixedMax;
    if (!ok)
      throw new ReconciliationError(
        'parameter_invalid',
        bpsFields.includes(field)
          ? `${field} must be an integer from 0 to ${bpsMax} basis points`
          : `${field} must be an integer from 0 to ${fixedMax} minor units`,
        field,
      );
  }
}
