// Razorpay as one module: what the registry lists (src/connectors/registry.ts).
import type { ConnectorModule } from '../types.ts';
import { razorpayConnector } from './connector.ts';
import { PSP, RAZORPAY_CAPABILITIES } from './transformers.ts';
import { razorpayWebhookParser } from './webhooks.ts';

export const razorpayModule: ConnectorModule = {
  name: PSP,
  capabilities: RAZORPAY_CAPABILITIES,
  connector: razorpayConnector,
  webhookParser: razorpayWebhookParser,
  // Razorpay reports every failure with a decline code (unknown reasons become generic_decline),
  // so its card-data validation failure must be named to stay final.
  declinePolicy: { pspCodes: { input_validation_failed: 'final' } },
  testCredentials: (simulatorUrl) => ({
    baseUrl: `${simulatorUrl}/razorpay`,
    apiKey: 'rzp_test_sim',
    apiSecret: 'sim_secret',
    webhookSecret: 'whsec_payrail_simulator_razorpay',
  }),
};
