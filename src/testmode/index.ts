// Test mode (docs/decisions.md): everything Payrail does only for test merchants and tests. A
// test merchant gets the simulated PSPs; a live merchant gets none and may not point a connector
// at the simulator. The crash tests' fault points are here too. Production code reaches this
// module only through `TestMode` (built once, in runtime.ts) and the FaultInjector interface.
import type { Merchant } from '../merchants/merchants.ts';
import type { Queryable } from '../storage/database.ts';
import type { SecretBox } from '../vault/secret-box.ts';
import type { FaultInjector, FaultPoint } from '../fault-points.ts';
import { faultInjector } from './faults.ts';
import { assertLiveMerchantAllowed } from './clock-service.ts';
import { setUpSimulatorConnectors } from './simulator.ts';

export { faultPoints, noFaults, type FaultInjector, type FaultPoint } from '../fault-points.ts';

export type TestModeOptions = {
  /** Where the PSP simulator listens: the base of every test merchant's connectors. */
  readonly simulatorUrl: string;
  /** The box connector credentials are sealed with (merchant-settings.ts). */
  readonly secretBox: SecretBox;
  /** Tests only: the process dies at this point (PAYRAIL_FAULT_POINT). */
  readonly faultPoint?: FaultPoint;
};

export type TestMode = {
  readonly faults: FaultInjector;
  /** In a new merchant's creating transaction: the simulated PSPs for a test merchant only. */
  setUpMerchant(tx: Queryable, merchant: Pick<Merchant, 'id' | 'livemode'>): Promise<void>;
  /** Why a live merchant may not use a connector at this base URL (the simulator), if it may not. */
  liveConnectorRefusal(baseUrl: string): string | undefined;
};

export function createTestMode(options: TestModeOptions): TestMode {
  return {
    faults: faultInjector(options.faultPoint),
    async setUpMerchant(tx, merchant) {
      if (merchant.livemode) return assertLiveMerchantAllowed(tx);
      await setUpSimulatorConnectors(tx, merchant.id, options.simulatorUrl, options.secretBox);
    },
    liveConnectorRefusal(baseUrl) {
      return sameServer(baseUrl, options.simulatorUrl)
        ? `${baseUrl} is the PSP simulator; a live merchant's connectors must be real PSPs.`
        : undefined;
    },
  };
}

const loopbackHost =
  /^(localhost|0\.0\.0\.0|\[::\]|127(\.\d{1,3}){3}|\[::1\]|\[::ffff:127(\.\d{1,3}){3}\]|\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\])$/i;

function port(url: URL): string {
  return url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
}

/** The same host and port, where every loopback name counts as one host (the simulator is local). */
export function sameServer(first: string, second: string): boolean {
  let a: URL;
  let b: URL;
  try {
    a = new URL(first);
    b = new URL(second);
  } catch {
    return false;
  }
  if (port(a) !== port(b)) return false;
  if (a.hostname === b.hostname) return true;
  return loopbackHost.test(a.hostname) && loopbackHost.test(b.hostname);
}
