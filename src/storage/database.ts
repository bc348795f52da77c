// One storage interface over embedded PGlite and PostgreSQL. Domain code receives a `Database`
// and writes plain SQL; the two adapters only differ in how they connect.
export type Row = Record<string, unknown>;

export type QueryResult<R extends Row = Row> = { rows: R[]; rowCount: number };

export interface Queryable {
  query<R extends Row = Row>(sql: string, parameters?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs several statements separated by semicolons (migrations); no parameters. */
  exec(sql: string): Promise<void>;
}

export type TransactionOptions = {
  /** How many times the whole unit of work may run when Postgres reports a serialization failure or deadlock. */
  readonly maxAttempts?: number;
  readonly isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Extra SQLSTATE codes (with optional constraint name) that make the work safe to run again. */
  readonly retryOn?: (error: DatabaseErrorShape) => boolean;
};

export type DatabaseErrorShape = { code?: string; constraint?: string; message: string };

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one database transaction, retrying it on transient conflicts. */
  transaction<T>(work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

export const defaultTransactionAttempts = 8;
const retryDelayMsMax = 50;

/** SQLSTATE codes after which re-running a whole transaction is safe and likely to succeed. */
export function isTransientConflict(error: unknown): boolean {
  const code = sqlState(error);
  return code === '40001' || code === '40P01';
}

export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function errorConstraint(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const constraint = (error as { constraint?: unknown }).constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

/** Shared retry loop for both adapters: `attempt` runs BEGIN … COMMIT once. */
export async function runWithRetries<T>(
  attempt: () => Promise<T>,
  options: TransactionOptions | undefined,
): Promise<T> {
  const maxAttempts = options?.maxAttempts ?? defaultTransactionAttempts;
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt();
    } catch (error) {
      const retryable =
        isTransientConflict(error) || (options?.retryOn?.(toErrorShape(error)) ?? false);
      if (!retryable || attemptNumber >= maxAttempts) throw error;
      // Jittered backoff so that conflicting transactions do not collide again in lockstep.
      const ceilingMs = Math.min(retryDelayMsMax, 2 ** attemptNumber);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * ceilingMs));
    }
  }
}

function toErrorShape(error: unknown): DatabaseErrorShape {
  return {
    code: sqlState(error),
    constraint: errorConstraint(error),
    message: error instanceof Error ? error.message : String(error),
  };
}

export function beginStatement(options: TransactionOptions | undefined): string {
  return options?.isolation === undefined
    ? 'BEGIN'
    : `BEGIN ISOLATION LEVEL ${options.isolation.toUpperCase()}`;
}
