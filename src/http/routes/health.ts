import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.ts';

export function registerHealthRoutes(app: FastifyInstance, context: RouteContext): void {
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
      const readiness = await context.readiness();
      if (readiness.ready) return { status: 'ready', database: readiness.database };
      if (readiness.error !== undefined)
        request.log.warn({ err: readiness.error }, 'readiness check failed');
      reply.code(503);
      return { status: 'unavailable', reason: readiness.reason };
    },
  );
}
