// The static files of the pages: content-hash URLs, immutable, gzip, and the JavaScript budget.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { Assets } from '../../src/web/assets.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

test('every asset is served under its hash, gzipped on request, cacheable forever', async () => {
  const assets = new Assets();
  for (const name of ['htmx.js', 'uplot.js', 'uplot.css', 'dashboard.css'] as const) {
    const url = assets.url(name);
    assert.match(url, /^\/assets\/[0-9a-f]{12}\//);
    const plain = await server.app.inject({ method: 'GET', url });
    assert.equal(plain.statusCode, 200, name);
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    const gzipped = await server.app.inject({
      method: 'GET',
      url,
      headers: { 'accept-encoding': 'gzip, br' },
    });
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gzipped.rawPayload), plain.rawPayload);
  }
  const stale = await server.app.inject({ method: 'GET', url: '/assets/000000000000/htmx.js' });
  assert.equal(stale.statusCode, 404);
});

test('all the JavaScript of the pages stays under 100 KB gzipped', () => {
  const bytes = new Assets().javascriptGzipBytes();
  assert.ok(bytes > 10_000, `htmx and uPlot are there (${bytes} bytes)`);
  assert.ok(bytes < 100 * 1024, `${bytes} bytes gzipped`);
});
