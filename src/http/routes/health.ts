import type { FastifyInstance } from 'fastify';
import {
  HealthSchema,
  ReadinessSchema,
  presentHealth,
  presentReadiness,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';

export function registerHealthRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get(
    '/healthz',
    {
      schema: { tags: ['health'], summary: 'The process is up', response: { 200: HealthSchema } },
    },
    async () => presentHealth(),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'The database is reachable and every migration is applied',
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
      },
    },
    async (request, reply) => {
      const readiness = await context.readiness();
      if (!readiness.ready) {
        if (readiness.error !== undefined)
          request.log.warn({ err: readiness.error }, 'readiness check failed');
        reply.code(503);
      }
      return presentReadiness(readiness);
    },
  );
}
