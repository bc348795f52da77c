// Stripe's own Node SDK pointed at a Payrail server on loopback: what the compatibility suite
// (test/stripe-compat) drives every call through. Only the base URL and the key differ from a
// merchant's real Stripe integration.
import Stripe from 'stripe';
import { startSimulatedStack, type SimulatedStack } from './simulator.ts';
import { call, testAdminKey, type TestServer } from './server.ts';

export type StripeStack = {
  readonly stack: SimulatedStack;
  readonly server: TestServer;
  /** The SDK with a new test-mode merchant's secret key. */
  readonly stripe: Stripe;
  readonly secretKey: string;
  /** Another merchant's client, for isolation checks. */
  newMerchant(name?: string): Promise<{ stripe: Stripe; secretKey: string }>;
  stop(): Promise<void>;
};

/** The SDK for a key, talking to the server's loopback address over plain HTTP. */
export function stripeClient(server: TestServer, key: string): Stripe {
  const url = new URL(server.url);
  return new Stripe(key, {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries: 1,
    telemetry: false,
  });
}

async function createMerchant(server: TestServer, name: string): Promise<string> {
  const created = await call(server, 'POST', '/v1/admin/merchants', {
    key: testAdminKey,
    body: { name },
  });
  if (created.status !== 201) throw new Error(`merchant not created: ${JSON.stringify(created)}`);
  return String(created.body.secret_key);
}

export async function startStripeStack(
  options: Parameters<typeof startSimulatedStack>[0] = {},
): Promise<StripeStack> {
  const stack = await startSimulatedStack(options);
  try {
    const { server } = stack;
    const newMerchant = async (name = 'SDK shop') => {
      const secretKey = await createMerchant(server, name);
      return { stripe: stripeClient(server, secretKey), secretKey };
    };
    const first = await newMerchant();
    return { stack, server, ...first, newMerchant, stop: () => stack.stop() };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
