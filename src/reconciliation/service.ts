// The reconciliation service (issue 12): runs (real and dry), their list, the exceptions with
// their filters, paging and export, assignment and resolution. Routes call one method each.
import type { ReconciliationMetrics } from '../observability/reconciliation-metrics.ts';
import { systemClock, type Clock } from '../clock.ts';
import { newSortableId } from '../ids.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Database, Queryable } from '../storage/database.ts';
import {
  keysetPage,
  pageSizeMax,
  timeRangeConditions,
  UnknownCursorError,
  type PageRequest,
  type TimeRange,
} from '../storage/pagination.ts';
import { isDate, utcDate } from './engine/dates.ts';
import { ReconciliationError } from './engine/errors.ts';
import {
  applyResolution,
  appendHistory,
  lockException,
  validateResolve,
  type ResolveInput,
} from './engine/resolve.ts';
import { reconcile, type RunSummary } from './engine/run.ts';
import { recordExceptionEvents } from './events.ts';
import {
  assertRules,
  defaultRules,
  rulesHash,
  withStoredSchedules,
  type FeeSchedule,
  type ReconRules,
} from './rules.ts';
import {
  exceptionReasons,
  reconExceptionHistory,
  reconExceptions,
  reconRuns,
  type ExceptionHistoryEntry,
  type ExceptionReason,
  type ExceptionSource,
  type ExceptionStatus,
  type ReconException,
  type ReconRun,
} from './tables.ts';

export { ReconciliationError } from './engine/errors.ts';
export type { ResolveInput, ResolveAction } from './engine/resolve.ts';

export type ExceptionFilter = {
  readonly status?: ExceptionStatus;
  readonly reason?: ExceptionReason;
  readonly source?: ExceptionSource;
  readonly connector?: string;
  readonly currency?: string;
  readonly assignee?: string;
  readonly runId?: string;
  /** Stripe's created filter (src/http/list.ts rangeOf). */
  readonly created?: TimeRange;
};

export type ReconciliationServiceOptions = {
  readonly database: Database;
  readonly ledger: Ledger;
  readonly clock?: Clock;
  readonly rules?: ReconRules;
  /** Counts runs by result (src/observability/reconciliation-metrics.ts). */
  readonly metrics?: Pick<ReconciliationMetrics, 'recordRun'>;
};

/** Events are handed over in chunks, so a run raising many exceptions holds few in memory. */
const eventChunkSize = 1000;

/** Thrown inside a dry run's transaction to roll it back, carrying what the run computed. */
class DryRunRollback extends Error {
  readonly outcome: { summary: RunSummary; resultHash: string };
  constructor(outcome: { summary: RunSummary; resultHash: string }) {
    super('dry run rolled back');
    this.outcome = outcome;
  }
}

export class ReconciliationService {
  readonly #database: Database;
  readonly #ledger: Ledger;
  readonly #clock: Clock;
  readonly #rules: ReconRules;
  readonly #metrics: Pick<ReconciliationMetrics, 'recordRun'> | undefined;

  constructor(options: ReconciliationServiceOptions) {
    this.#metrics = options.metrics;
    this.#database = options.database;
    this.#ledger = options.ledger;
    this.#clock = options.clock ?? systemClock;
    this.#rules = options.rules ?? defaultRules;
    assertRules(this.#rules);
  }

  /** The clock's now (an exception's age is shown against it). */
  now(): Date {
    return this.#clock.now();
  }

  /** The rules in force: the configured ones with the stored fee schedules. */
  async rules(queryable: Queryable = this.#database): Promise<ReconRules> {
    const stored = await queryable.query<{
      connector: string;
      commission_bps: number;
      commission_fixed: bigint;
      markup_bps: number;
      scheme_fee_bps: number;
      interchange_bps: number;
      tax_bps: number;
      refund_fixed: bigint;
    }>(`SELECT * FROM recon_fee_schedules ORDER BY connector`);
    const schedules = new Map<string, FeeSchedule>(
      stored.rows.map((row) => [
        row.connector,
        {
          commissionBps: row.commission_bps,
          commissionFixed: row.commission_fixed,
          markupBps: row.markup_bps,
          schemeFeeBps: row.scheme_fee_bps,
          interchangeBps: row.interchange_bps,
          taxBps: row.tax_bps,
          refundFixed: row.refund_fixed,
        },
      ]),
    );
    return withStoredSchedules(this.#rules, schedules);
  }

  /** One run as of a day (default: the clock's UTC date); a dry run changes nothing but its row. */
  async run(options: { readonly asOf?: string; readonly dryRun: boolean }): Promise<ReconRun> {
    const startedAt = this.#clock.now();
    const asOf = options.asOf ?? utcDate(startedAt);
    if (!isDate(asOf))
      throw new ReconciliationError(
        'parameter_invalid',
        `as_of '${asOf}' is not a date YYYY-MM-DD`,
        'as_of',
      );
    // Deadlines before as_of are judged: as_of tomorrow judges through the end of today; a later
    // day would call lines missing that are not due yet (and a write-off would post them).
    const latest = utcDate(new Date(startedAt.getTime() + 86_400_000));
    if (asOf > latest)
      throw new ReconciliationError(
        'parameter_invalid',
        `as_of '${asOf}' is after ${latest}: a run judges only deadlines that have passed`,
        'as_of',
      );
    const rules = await this.rules();
    const hash = rulesHash(rules);
    const runId = newSortableId('rcr', startedAt.getTime());
    const context = { runId, now: startedAt, asOf };
    try {
      await this.#database.transaction(async (tx) => {
        const computed = await reconcile(tx, rules, context);
        if (options.dryRun) throw new DryRunRollback(computed);
        await insertRun(tx, {
          id: runId,
          dryRun: false,
          asOf,
          rulesHash: hash,
          startedAt,
          status: 'succeeded',
          ...computed,
          finishedAt: this.#clock.now(),
        });
        await this.#recordEvents(tx, runId, startedAt);
      });
      this.#metrics?.recordRun('succeeded');
    } catch (error) {
      if (error instanceof DryRunRollback) {
        this.#metrics?.recordRun('dry_run');
        await insertRun(this.#database, {
          id: runId,
          dryRun: true,
          asOf,
          rulesHash: hash,
          startedAt,
          status: 'succeeded',
          ...error.outcome,
          finishedAt: this.#clock.now(),
        });
      } else {
        this.#metrics?.recordRun('failed');
        const message = error instanceof Error ? error.message : String(error);
        await insertRun(this.#database, {
          id: runId,
          dryRun: options.dryRun,
          asOf,
          rulesHash: hash,
          startedAt,
          status: 'failed',
          error: message.slice(0, 1000),
          finishedAt: this.#clock.now(),
        });
        throw error;
      }
    }
    return this.getRun(runId);
  }

  async #recordEvents(tx: Queryable, runId: string, now: Date): Promise<void> {
    let after = '';
    for (;;) {
      const result = await tx.query(
        `SELECT * FROM recon_exceptions WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
        [runId, after, eventChunkSize],
      );
      const raised = result.rows.map(reconExceptions.fromRow);
      if (raised.length > 0)
        await recordExceptionEvents(tx, 'reconciliation_exception.created', raised, now);
      const last = raised.at(-1);
      if (last === undefined || raised.length < eventChunkSize) return;
      after = last.id;
    }
  }

  async listRuns(page: PageRequest): Promise<{ runs: ReconRun[]; hasMore: boolean }> {
    const { rows, hasMore } = await keysetPage(
      this.#database,
      {
        select: '*',
        from: 'recon_runs',
        scope: 'true',
        scopeParameters: [],
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'reconciliation run',
      },
      page,
    );
    return { runs: rows.map(reconRuns.fromRow), hasMore };
  }

  async getRun(id: string): Promise<ReconRun> {
    const result = await this.#database.query(`SELECT * FROM recon_runs WHERE id = $1`, [id]);
    const row = result.rows[0];
    if (row === undefined)
      throw new ReconciliationError(
        'resource_missing',
        `No such reconciliation run: '${id}'`,
        'id',
      );
    return reconRuns.fromRow(row);
  }

  /** Newest first by (created_at, id), keyset paging with an exception id as the cursor. */
  async listExceptions(
    filter: ExceptionFilter,
    page: PageRequest,
  ): Promise<{ exceptions: ReconException[]; hasMore: boolean }> {
    return listExceptionsPage(this.#database, filter, page);
  }

  /** Exactly the filtered list, newest first, read page by page (bounded memory). */
  async *exceptionsForExport(filter: ExceptionFilter): AsyncGenerator<ReconException> {
    let startingAfter: string | undefined;
    for (;;) {
      const page = await listExceptionsPage(this.#database, filter, {
        limit: pageSizeMax,
        startingAfter,
      });
      yield* page.exceptions;
      const last = page.exceptions.at(-1);
      if (!page.hasMore || last === undefined) return;
      startingAfter = last.id;
    }
  }

  async getException(
    id: string,
  ): Promise<{ exception: ReconException; history: ExceptionHistoryEntry[] }> {
    const result = await this.#database.query(`SELECT * FROM recon_exceptions WHERE id = $1`, [id]);
    const row = result.rows[0];
    if (row === undefined)
      throw new ReconciliationError('resource_missing', `No such exception: '${id}'`, 'id');
    const history = await this.#database.query(
      `SELECT * FROM recon_exception_history WHERE exception_id = $1 ORDER BY seq`,
      [id],
    );
    return {
      exception: reconExceptions.fromRow(row),
      history: history.rows.map(reconExceptionHistory.fromRow),
    };
  }

  async assign(id: string, assignee: string | null, actor: string): Promise<ReconException> {
    if (assignee !== null && (assignee.length === 0 || assignee.length > 200))
      throw new ReconciliationError(
        'parameter_invalid',
        'assignee must be 1 to 200 characters',
        'assignee',
      );
    if (actor.length === 0 || actor.length > 200)
      throw new ReconciliationError(
        'parameter_invalid',
        'actor must be 1 to 200 characters',
        'actor',
      );
    const now = this.#clock.now();
    return this.#database.transaction(async (tx) => {
      await lockException(tx, id);
      const updated = await tx.query(
        `UPDATE recon_exceptions SET assignee = $2 WHERE id = $1 RETURNING *`,
        [id, assignee],
      );
      await appendHistory(tx, id, 'assigned', actor, { assignee }, now);
      return reconExceptions.fromRow(updated.rows[0] as Record<string, unknown>);
    });
  }

  /**
   * Resolves an exception; `within` runs in the resolution's own transaction (the dashboard's
   * audit entry: both or neither).
   */
  async resolve(
    id: string,
    input: ResolveInput,
    within?: (tx: Queryable, resolved: ReconException) => Promise<void>,
  ): Promise<ReconException> {
    validateResolve(input);
    const now = this.#clock.now();
    return this.#database.transaction(async (tx) => {
      const resolved = await applyResolution(tx, this.#ledger, id, input, now);
      await recordExceptionEvents(tx, 'reconciliation_exception.resolved', [resolved], now);
      await within?.(tx, resolved);
      return resolved;
    });
  }
}

type RunRow = {
  id: string;
  dryRun: boolean;
  asOf: string;
  rulesHash: string;
  startedAt: Date;
  finishedAt: Date;
  status: 'succeeded' | 'failed';
  summary?: RunSummary;
  resultHash?: string;
  error?: string;
};

async function insertRun(queryable: Queryable, run: RunRow): Promise<void> {
  await queryable.query(
    `INSERT INTO recon_runs (id, dry_run, status, as_of, rules_hash, result_hash, summary, error,
       started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
    [
      run.id,
      run.dryRun,
      run.status,
      run.asOf,
      run.rulesHash,
      run.resultHash ?? null,
      JSON.stringify(run.summary ?? {}),
      run.error ?? null,
      run.startedAt,
      run.finishedAt,
    ],
  );
}

function filterSql(filter: ExceptionFilter): { sql: string; parameters: unknown[] } {
  if (filter.reason !== undefined && !exceptionReasons.includes(filter.reason))
    throw new ReconciliationError(
      'parameter_invalid',
      `unknown reason '${filter.reason}'`,
      'reason',
    );
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  const add = (column: string, value: unknown, operator = '=') => {
    if (value === undefined) return;
    parameters.push(value);
    conditions.push(`${column} ${operator} $${parameters.length}`);
  };
  add('status', filter.status);
  add('reason', filter.reason);
  add('source', filter.source);
  add('connector', filter.connector);
  add('currency', filter.currency);
  add('assignee', filter.assignee);
  add('run_id', filter.runId);
  const bind = (value: unknown) => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
  conditions.push(...timeRangeConditions('created_at', filter.created, bind));
  return { sql: conditions.length === 0 ? 'true' : conditions.join(' AND '), parameters };
}

/**
 * Exception ids derive from content (not from time), so the list orders by (created_at, id),
 * the index recon_exceptions_list, and a cursor is looked up for its place in that order.
 */
async function listExceptionsPage(
  queryable: Queryable,
  filter: ExceptionFilter,
  page: PageRequest,
): Promise<{ exceptions: ReconException[]; hasMore: boolean }> {
  if (page.startingAfter !== undefined && page.endingBefore !== undefined)
    throw new ReconciliationError(
      'parameter_invalid',
      'Give starting_after or ending_before, not both.',
      'ending_before',
    );
  const limit = Math.min(Math.max(1, Math.trunc(page.limit)), pageSizeMax);
  const { sql, parameters } = filterSql(filter);
  const cursorId = page.startingAfter ?? page.endingBefore;
  const backwards = page.endingBefore !== undefined;
  let cursorCondition = 'true';
  if (cursorId !== undefined) {
    const found = await queryable.query<{ created_at: Date }>(
      `SELECT created_at FROM recon_exceptions WHERE id = $1`,
      [cursorId],
    );
    const cursor = found.rows[0];
    if (cursor === undefined)
      throw new UnknownCursorError(
        'reconciliation exception',
        cursorId,
        backwards ? 'ending_before' : 'starting_after',
      );
    parameters.push(cursor.created_at, cursorId);
    const at = `$${parameters.length - 1}`;
    const id = `$${parameters.length}`;
    cursorCondition = backwards
      ? `(created_at, id) > (${at}, ${id})`
      : `(created_at, id) < (${at}, ${id})`;
  }
  parameters.push(limit + 1);
  const order = backwards ? 'ASC' : 'DESC';
  const result = await queryable.query(
    `SELECT * FROM recon_exceptions WHERE ${sql} AND ${cursorCondition}
      ORDER BY created_at ${order}, id ${order} LIMIT $${parameters.length}`,
    parameters,
  );
  const rows = result.rows.slice(0, limit).map(reconExceptions.fromRow);
  if (backwards) rows.reverse();
  return { exceptions: rows, hasMore: result.rows.length > limit };
}
