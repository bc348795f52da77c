// GET /metrics in the Prometheus text format, for a scraper. Not part of the public API (hidden
// from the OpenAPI document). It carries no merchant data, only counts and durations; restrict it
// at the network edge where operational numbers are sensitive.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.ts';

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.render();
    // A Buffer, not a string: the app's reply serializer (toJson) would JSON-quote a string body.
    return reply
      .code(200)
      .header('content-type', metrics.contentType)
      .header('cache-control', 'no-store')
      .send(Buffer.from(text, 'utf8'));
  });
}
