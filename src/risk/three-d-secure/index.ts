// Payrail's 3-D Secure requestor side: the server interface, its HTTP client, and where the
// simulator's 3-D Secure server is for test mode.
import type { ThreeDSecureServerSettings } from './types.ts';

export * from './types.ts';
export { HttpThreeDSecureServer, parseAuthentication } from './http-client.ts';

/** The simulator's 3-D Secure server key (sim/CONTRACT.md "3-D Secure server"). */
export const SIMULATOR_THREE_D_SECURE_KEY = 'sk_test_3ds_sim';

/** How a test-mode payment reaches the simulator's 3-D Secure server. */
export function simulatorThreeDSecureSettings(
  simulatorUrl: string,
  timeoutMs: number,
): ThreeDSecureServerSettings {
  return {
    baseUrl: `${simulatorUrl.replace(/\/+$/, '')}/3ds`,
    apiKey: SIMULATOR_THREE_D_SECURE_KEY,
    timeoutMs,
  };
}
