import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registeredRoutes } from './fuzz.ts';

test('registered routes are read from Fastify with their full paths, HEAD aside', async () => {
  const app = Fastify();
  app.get('/v1/things', async () => ({}));
  app.post('/v1/things', async () => ({}));
  app.get('/v1/things/:id', async () => ({}));
  app.post('/v1/things/:id/confirm', async () => ({}));
  app.delete('/v1/things/:id', async () => ({}));
  app.put('/v1/admin/things/:id/prices/:currency', async () => ({}));
  await app.ready();
  assert.deepEqual(registeredRoutes(app).sort(), [
    'DELETE /v1/things/{id}',
    'GET /v1/things',
    'GET /v1/things/{id}',
    'POST /v1/things',
    'POST /v1/things/{id}/confirm',
    'PUT /v1/admin/things/{id}/prices/{currency}',
  ]);
  await app.close();
});
