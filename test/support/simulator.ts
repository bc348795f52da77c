// The PSP simulator's own record of what happened at each PSP (`/_sim/ground-truth`): the truth a
// test compares Payrail's answers and ledger with.
import { createMerchantKey, type Merchant } from './merchants.ts';
import { startSimulator, type RunningProcess } from './processes.ts';
import { startTestServer, type TestServer } from './server.ts';

/** What `/_sim/ground-truth` answers (sim/admin.ts). */
export type GroundTruth = {
  operations: {
    seq: number;
    psp: string;
    type: string;
    status: string;
    paymentId: string;
    reference: string | null;
    refundId?: string;
    amount: number;
    currency: string;
    declineCode?: string;
    idempotencyKey?: string;
    at: string;
  }[];
  payments: {
    psp: string;
    paymentId: string;
    reference: string | null;
    currency: string;
    authorized: number;
    captured: number;
    refunded: number;
    voided: boolean;
    status: string;
  }[];
  webhooks: unknown[];
};

/**
 * The operations and per-payment sums, filtered by `reference` and/or `psp` when given. A test
 * may name a narrower type of the fields it reads.
 */
export async function groundTruth<Truth = GroundTruth>(
  simulator: { readonly url: string },
  query: { readonly reference?: string | undefined; readonly psp?: string | undefined } = {},
): Promise<Truth> {
  const filter: Record<string, string> = {};
  if (query.psp !== undefined) filter.psp = query.psp;
  if (query.reference !== undefined) filter.reference = query.reference;
  const search = new URLSearchParams(filter).toString();
  const response = await fetch(
    `${simulator.url}/_sim/ground-truth${search === '' ? '' : `?${search}`}`,
  );
  if (response.status !== 200) throw new Error(`simulator ground truth: ${response.status}`);
  return (await response.json()) as Truth;
}

/** The simulator and a Payrail server that calls it, with merchants made by the operator API. */
export type SimulatedStack = {
  readonly simulator: RunningProcess;
  readonly server: TestServer;
  /** A new merchant (test mode), by the operator route. */
  merchant(name?: string): Promise<Merchant>;
  /** Stops the server (and its log check), then the simulator whatever happened. */
  stop(): Promise<void>;
};

export async function startSimulatedStack(
  options: {
    readonly database?: 'pglite' | 'postgres';
    /** Payrail's environment besides PAYRAIL_SIMULATOR_URL. */
    readonly env?: Record<string, string>;
    readonly simulatorEnv?: Record<string, string>;
  } = {},
): Promise<SimulatedStack> {
  const simulator = await startSimulator(options.simulatorEnv);
  let server: TestServer;
  try {
    server = await startTestServer(options.database ?? 'pglite', {
      PAYRAIL_SIMULATOR_URL: simulator.url,
      ...options.env,
    });
  } catch (error) {
    await simulator.stop();
    throw error;
  }
  return {
    simulator,
    server,
    merchant: (name = 'Shop') => createMerchantKey(server, name),
    async stop() {
      try {
        await server.stop();
      } finally {
        await simulator.stop();
      }
    },
  };
}
