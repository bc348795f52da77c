// Moving a test server's clock (PAYRAIL_TEST_CLOCKS, on for every test server) instead of
// sleeping: the operator route moves the system's time, or one merchant's, forward.
import { call, testAdminKey } from './server.ts';

export async function advanceClock(
  server: { url: string },
  seconds: number,
  options: { merchant?: string; adminKey?: string } = {},
): Promise<void> {
  const moved = await call(server, 'POST', '/v1/admin/test_clocks/advance', {
    key: options.adminKey ?? testAdminKey,
    body: { seconds, ...(options.merchant === undefined ? {} : { merchant: options.merchant }) },
  });
  if (moved.status !== 200)
    throw new Error(`moving the clock failed: ${moved.status} ${JSON.stringify(moved.body)}`);
}
