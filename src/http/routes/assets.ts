// GET /assets/<hash>/<name> — the static files of the dashboard and the checkout page
// (src/web/assets.ts): immutable, gzipped when the browser accepts it, no key needed.
import type { FastifyInstance } from 'fastify';
import { assetsPrefix, type Assets } from '../../web/assets.ts';

export function registerAssetRoutes(app: FastifyInstance, assets: Assets): void {
  app.get(`${assetsPrefix}:hash/:name`, { schema: { hide: true } }, async (request, reply) => {
    const { hash, name } = request.params as { hash: string; name: string };
    const asset = assets.byUrl(`${assetsPrefix}${hash}/${name}`);
    if (asset === undefined) return reply.callNotFound();
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    void reply
      .header('content-type', asset.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding');
    if (gzip) void reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? asset.gzipped : asset.body);
  });
}
