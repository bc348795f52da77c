// The PSP simulator (sim/) as test-mode merchants use it: its test credentials, the webhook
// secret it signs with, and its webhook settings. Nothing here is used for a live merchant.
import { connectorModules, getConnectorModule } from '../connectors/registry.ts';
import { setConnector, type MerchantConnector } from '../payments/merchant-settings.ts';
import type { Queryable } from '../storage/database.ts';
import type { SecretBox } from '../vault/secret-box.ts';

/** The simulator's PSPs, in the priority order a test merchant gets them: the registry's. */
export const simulatedConnectors: readonly string[] = connectorModules.map((module) => module.name);

/**
 * The webhook signing secret of the simulator's PSP `connector`: a fixed development value (the
 * connector module's test credentials), the same for every test merchant, because the simulator
 * has one secret per PSP. configureSimulatorWebhooks gives the simulator the same value.
 */
export function simulatorWebhookSecret(connector: string): string {
  return getConnectorModule(connector).testCredentials('').webhookSecret ?? '';
}

/** The simulator's test credentials (sim/CONTRACT.md), one per registered connector, in order. */
export function simulatorConnectors(simulatorUrl: string): MerchantConnector[] {
  return connectorModules.map((module, index) => ({
    connector: module.name,
    enabled: true,
    priority: (index + 1) * 10,
    credentials: module.testCredentials(simulatorUrl),
  }));
}

/** Gives a test merchant the simulated PSPs, inside the transaction that creates it. */
export async function setUpSimulatorConnectors(
  tx: Queryable,
  merchantId: string,
  simulatorUrl: string,
  secretBox: SecretBox,
): Promise<void> {
  for (const setting of simulatorConnectors(simulatorUrl))
    await setConnector(tx, merchantId, setting, secretBox);
}

/** Delivery settings of the simulator (sim/CONTRACT.md "Webhook admin"), besides url and secret. */
export type SimulatorWebhookOptions = {
  readonly seed?: number;
  readonly duplicateRate?: number;
  readonly outOfOrderRate?: number;
  readonly outOfOrderDelayMs?: number;
  readonly maxAttempts?: number;
  readonly retryBackoffMs?: number;
  readonly timeoutMs?: number;
};

const simulatorCallTimeoutMs = 5_000;

/**
 * Points the simulator's webhooks for each PSP at Payrail's endpoint
 * (`<payrailUrl>/v1/psp_webhooks/<psp>`), signed with the secret that every test merchant's
 * simulator connectors carry. Throws when the simulator refuses.
 */
export async function configureSimulatorWebhooks(
  simulatorUrl: string,
  payrailUrl: string,
  options: SimulatorWebhookOptions = {},
  connectors: readonly string[] = simulatedConnectors,
): Promise<void> {
  const base = simulatorUrl.replace(/\/+$/, '');
  const target = payrailUrl.replace(/\/+$/, '');
  for (const connector of connectors) {
    const response = await fetch(`${base}/_sim/webhooks/${encodeURIComponent(connector)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...options,
        url: `${target}/v1/psp_webhooks/${connector}`,
        secret: simulatorWebhookSecret(connector),
      }),
      signal: AbortSignal.timeout(simulatorCallTimeoutMs),
    });
    if (!response.ok)
      throw new Error(
        `the simulator refused the webhook settings for ${connector}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`,
      );
    await response.body?.cancel();
  }
}
