// API key management (src/merchants/api-keys.ts) as the API sees it: a rolled key keeps working
// until its expiry by the test clock, then is refused; a revoked key is refused at once; a
// merchant cannot act on another merchant's key.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiKeyError } from '../../src/merchants/api-keys.ts';
import { advanceClock } from '../support/clock.ts';
import { createMerchantKey, type Merchant } from '../support/merchants.ts';
import { call, startTestServer, type TestServer } from '../support/server.ts';
import { databaseKinds } from '../support/databases.ts';

for (const kind of databaseKinds) {
  describe(`API keys through the API (${kind})`, () => {
    let server: TestServer;
    let shop: Merchant;
    let other: Merchant;

    before(async () => {
      server = await startTestServer(kind);
      shop = await createMerchantKey(server, 'Key shop');
      other = await createMerchantKey(server, 'Other shop');
    });
    after(() => server.stop());

    const status = async (key: string) =>
      (await call(server, 'GET', '/v1/balance', { key })).status;

    async function secretKeyId(merchantId: string, hint: string): Promise<string> {
      const listed = await server.runtime.apiKeys.listKeys(merchantId);
      const found = listed.find((key) => key.kind === 'secret' && key.hint === hint);
      assert.ok(found !== undefined, `no key ${hint}`);
      return found.id;
    }

    const hintOf = (key: string) => `sk_test_…${key.slice(-4)}`;

    test('a rolled key works until its expiry by the test clock, then is refused', async () => {
      const oldId = await secretKeyId(shop.id, hintOf(shop.key));
      assert.equal(await status(shop.key), 200);
      const rolled = await server.runtime.apiKeys.rollKey(shop.id, oldId, { expiresInHours: 1 });
      assert.equal(await status(shop.key), 200);
      assert.equal(await status(rolled.secret), 200);
      await advanceClock(server, 3_599);
      assert.equal(await status(shop.key), 200, 'one second left');
      await advanceClock(server, 1);
      const refused = await call(server, 'GET', '/v1/balance', { key: shop.key });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error?.code, 'api_key_invalid');
      assert.equal(await status(rolled.secret), 200);
      shop = { id: shop.id, key: rolled.secret };
    });

    test('a revoked key is refused at once', async () => {
      const created = await server.runtime.apiKeys.createKey(shop.id, {
        kind: 'secret',
        name: 'to revoke',
      });
      assert.equal(await status(created.secret), 200, 'works, and is now cached');
      const revoked = await server.runtime.apiKeys.revokeKey(shop.id, created.key.id);
      assert.equal(revoked.change.after.status, 'revoked');
      assert.equal(await status(created.secret), 401);
      assert.equal(await status(shop.key), 200);
    });

    test("a merchant cannot act on another merchant's key id", async () => {
      const theirId = await secretKeyId(other.id, hintOf(other.key));
      for (const act of [
        () => server.runtime.apiKeys.rollKey(shop.id, theirId),
        () => server.runtime.apiKeys.revokeKey(shop.id, theirId),
      ])
        await assert.rejects(act(), (error: unknown) => {
          assert.ok(error instanceof ApiKeyError);
          assert.equal(error.reason, 'not_found');
          return true;
        });
      assert.equal(await server.runtime.apiKeys.getKey(shop.id, theirId), undefined);
      assert.equal(await status(other.key), 200);
    });
  });
}
