// Stripe as one module: what the registry lists (src/connectors/registry.ts).
import type { ConnectorModule } from '../types.ts';
import { stripeConnector } from './connector.ts';
import { PSP, STRIPE_CAPABILITIES } from './transformers.ts';
import { stripeWebhookParser } from './webhooks.ts';

export const stripeModule: ConnectorModule = {
  name: PSP,
  capabilities: STRIPE_CAPABILITIES,
  connector: stripeConnector,
  webhookParser: stripeWebhookParser,
  // Stripe's decline codes are the default map's own names.
  testCredentials: (simulatorUrl) => ({
    baseUrl: `${simulatorUrl}/stripe`,
    apiKey: 'sk_test_sim',
    webhookSecret: 'whsec_payrail_simulator_stripe',
  }),
};
