import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { pendingMigrations } from '../../storage/migrations.ts';

export function registerHealthRoutes(app: FastifyInstance, context: AppContext): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is up' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'The database is reachable and every migration is applied',
      },
    },
    async (request, reply) => {
      try {
        await context.database.query('SELECT 1');
        const pending = await pendingMigrations(context.database);
        if (pending.length > 0) {
          reply.code(503);
          return { status: 'unavailable', reason: `migrations not applied: ${pending.join(', ')}` };
        }
        return { status: 'ready', database: context.database.kind };
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        reply.code(503);
        return {
          status: 'unavailable',
          reason: error instanceof Error ? error.message : 'database check failed',
        };
      }
    },
  );
}
