// The answer to a PSP's webhook: received, and whether it was a duplicate of one already received.
import { Type, type Static } from 'typebox';

export const PspWebhookReceiptSchema = Type.Object({
  received: Type.Boolean(),
  duplicate: Type.Boolean(),
});

export function presentPspWebhookReceipt(
  duplicate: boolean,
): Static<typeof PspWebhookReceiptSchema> {
  return { received: true, duplicate };
}
