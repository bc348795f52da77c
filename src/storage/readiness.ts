// Whether the database can serve requests: reachable, with every migration applied.
import type { Database } from './database.ts';
import { pendingMigrations } from './migrations.ts';

export type Readiness =
  | { readonly ready: true; readonly database: Database['kind'] }
  | { readonly ready: false; readonly reason: string; readonly error?: unknown };

export async function checkReadiness(database: Database): Promise<Readiness> {
  try {
    await database.query('SELECT 1');
    const pending = await pendingMigrations(database);
    if (pending.length > 0)
      return { ready: false, reason: `migrations not applied: ${pending.join(', ')}` };
    return { ready: true, database: database.kind };
  } catch (error) {
    return {
      ready: false,
      reason: error instanceof Error ? error.message : 'database check failed',
      error,
    };
  }
}
