// Endpoint signing secrets at rest. The secret must be readable again (every delivery is signed
// with it), so it is sealed by the vault's SecretBox under the webhook purpose's own derived key,
// with the endpoint id as associated data so that a sealed secret copied to another row does not open.
import { secretBoxFor, secretBoxPurposes, type SecretBox } from '../vault/secret-box.ts';

export type { SecretBox } from '../vault/secret-box.ts';

/** The SecretBox for webhook endpoint secrets, keyed by the vault master key (32 bytes). */
export function masterKeySecretBox(masterKey: Buffer): SecretBox {
  return secretBoxFor(masterKey, secretBoxPurposes.webhookEndpointSecret);
}
