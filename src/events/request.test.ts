// Which request an event names (src/events/request.ts): the one whose scope it is made in, for the
// account that made it, while it is open; never a background loop's, even one a request started.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newEvent } from './events.ts';
import { WakeableLoop } from './bus/loop.ts';
import { silentLogger } from './bus/types.ts';
import { noRequest, outsideRequest, runInRequest, type RequestScope } from './request.ts';

const object = { id: 'pi_1', object: 'payment_intent' };

function scope(account: string | undefined, key: string | null = 'key-1'): RequestScope {
  return { id: 'req_1', account: () => account, idempotencyKey: () => key, open: true };
}

describe('the request an event names', () => {
  test('outside any request: none', () => {
    assert.deepEqual(newEvent('acct_a', 'payment_intent.created', object).request, noRequest);
  });

  test("inside the account's own request: its id and key, read when the event is made", async () => {
    const open = scope('acct_a');
    const made = await runInRequest(open, async () => {
      await Promise.resolve();
      return newEvent('acct_a', 'payment_intent.created', object);
    });
    assert.deepEqual(made.request, { id: 'req_1', idempotencyKey: 'key-1' });
    const keyless = runInRequest(scope('acct_a', null), () =>
      newEvent('acct_a', 'payment_intent.created', object),
    );
    assert.deepEqual(keyless.request, { id: 'req_1', idempotencyKey: null });
  });

  test("another account's event, an unauthenticated request, a closed request, outsideRequest: none", () => {
    const cases = [
      runInRequest(scope('acct_a'), () => newEvent('acct_b', 'payout.paid', object)),
      runInRequest(scope(undefined), () => newEvent('acct_a', 'payout.paid', object)),
      runInRequest({ ...scope('acct_a'), open: false }, () =>
        newEvent('acct_a', 'payout.paid', object),
      ),
      runInRequest(scope('acct_a'), () =>
        outsideRequest(() => newEvent('acct_a', 'payout.paid', object)),
      ),
    ];
    for (const made of cases) assert.deepEqual(made.request, noRequest);
  });

  test("a bus loop started inside a request makes its events as Payrail's", async () => {
    let made: ReturnType<typeof newEvent> | undefined;
    const loop = new WakeableLoop(
      async () => {
        made ??= newEvent('acct_a', 'balance.available', object);
        return { more: false };
      },
      { name: 'test', pollIntervalMs: 60_000, errorDelayMsMax: 1_000, logger: silentLogger },
    );
    runInRequest(scope('acct_a'), () => loop.start());
    await loop.stop();
    assert.deepEqual(made?.request, noRequest);
  });
});
