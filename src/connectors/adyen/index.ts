// Adyen as one module: what the registry lists (src/connectors/registry.ts). The connector and
// the webhook parser share one journal of verified notifications (notifications.ts).
import type { ConnectorModule } from '../types.ts';
import { createAdyenConnector } from './connector.ts';
import { AdyenNotifications } from './notifications.ts';
import { ADYEN_CAPABILITIES, PSP } from './transformers.ts';
import { createAdyenWebhookParser } from './webhooks.ts';

const notifications = new AdyenNotifications();

/** The simulator's HMAC key: hex, as Adyen's Customer Area shows one. */
export const ADYEN_SIMULATOR_HMAC_KEY = Buffer.from('payrail-simulator-adyen-hmac-key').toString(
  'hex',
);

export const adyenModule: ConnectorModule = {
  name: PSP,
  capabilities: ADYEN_CAPABILITIES,
  connector: createAdyenConnector(notifications),
  webhookParser: createAdyenWebhookParser(notifications),
  // Adyen's refusalReasonCode values: a blocked card (lost, stolen), fraud, an invalid card
  // number or a 3-D Secure demand fail everywhere; an acquirer error or an unreachable issuer
  // says nothing about the card.
  declinePolicy: {
    pspCodes: {
      '4': 'retry_elsewhere',
      '5': 'final',
      '8': 'final',
      '9': 'retry_elsewhere',
      '14': 'final',
      '20': 'final',
      '22': 'final',
      '31': 'final',
    },
  },
  testCredentials: (simulatorUrl) => ({
    baseUrl: `${simulatorUrl}/adyen`,
    apiKey: 'AQE_sim_api_key',
    merchantAccount: 'PayrailSimECOM',
    webhookSecret: ADYEN_SIMULATOR_HMAC_KEY,
  }),
};
