// Paytm as one module: what the registry lists (src/connectors/registry.ts).
import type { ConnectorModule } from '../types.ts';
import { paytmConnector } from './connector.ts';
import { PAYTM_CAPABILITIES, PSP } from './transformers.ts';
import { paytmWebhookParser } from './webhooks.ts';

export const paytmModule: ConnectorModule = {
  name: PSP,
  capabilities: PAYTM_CAPABILITIES,
  connector: paytmConnector,
  webhookParser: paytmWebhookParser,
  // Paytm result codes: 1001 "request parameters are not valid" fails anywhere; 330 (checksum,
  // i.e. this merchant's Paytm credentials) says nothing about the card.
  declinePolicy: { pspCodes: { '1001': 'final', '330': 'retry_elsewhere' } },
  testCredentials: (simulatorUrl) => ({
    baseUrl: `${simulatorUrl}/paytm`,
    apiKey: 'SIMMID00000000000001',
    apiSecret: 'sim_merchant_key',
    merchantAccount: 'SIMMID00000000000001',
    webhookSecret: 'whsec_payrail_simulator_paytm',
  }),
};
