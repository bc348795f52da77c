// The hosted checkout pages have no key: like the 3-D Secure return and PSP webhooks, they are
// limited per client address (src/http/rate-limit.ts), so nobody can try session ids or card
// numbers at speed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('hosted checkout pages under the per-address rate limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite', {
      PAYRAIL_RATE_LIMITS: 'on',
      PAYRAIL_RATE_LIMIT_IP_PER_SECOND: '3',
      LOG_LEVEL: 'warn',
    });
  });
  after(() => server.stop());

  test('/pay/… answers 429 past the limit, with the rate-limit headers', async () => {
    const answers = await Promise.all(
      ['/pay/cs_nosuchsession1', '/pay/link/plink_nosuchlink1'].flatMap((path) =>
        Array.from({ length: 3 }, async () => {
          const response = await fetch(`${server.url}${path}`, { redirect: 'manual' });
          return {
            status: response.status,
            headers: response.headers,
            text: await response.text(),
          };
        }),
      ),
    );
    const refused = answers.filter((answer) => answer.status === 429);
    assert.equal(refused.length, 3);
    for (const answer of refused) {
      assert.equal(answer.headers.get('ratelimit-limit'), '3');
      assert.ok(answer.headers.get('retry-after') !== null);
      // A person reads it: a page, not the API's JSON error.
      assert.match(String(answer.headers.get('content-type')), /^text\/html/);
      assert.match(answer.text, /Too many requests/);
    }
    assert.ok(answers.filter((answer) => answer.status === 404).length === 3);
  });
});
