// Webhooks from PSPs: the parsers by connector name, taken from the registry. The types live in
// types.ts, which the PSP folders import, so that no PSP folder imports this file (no cycle).
import { connectorModules } from './registry.ts';
import type { PspWebhookParser } from './types.ts';

export type {
  Clock,
  PspWebhookEvent,
  PspWebhookParser,
  RawWebhook,
  WebhookHeaders,
  WebhookParse,
  WebhookRefusal,
  WebhookVerification,
} from './types.ts';

export const pspWebhookParsers: ReadonlyMap<string, PspWebhookParser> = new Map(
  connectorModules.map((module) => [module.name, module.webhookParser]),
);
