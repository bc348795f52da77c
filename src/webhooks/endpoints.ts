// Webhook endpoints: where a merchant wants its events sent (Stripe's WebhookEndpoint). The
// signing secret is generated here, shown once by create, and kept only sealed.
import { eventTypes } from '../events/events.ts';
import { newSortableId } from '../ids.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import { resumedResourceId, type IdempotentRequest } from '../idempotency/request.ts';
import {
  eventDeliveries,
  findDelivery,
  listDeliveries,
  type DeliveryListOptions,
  type WebhookDelivery,
} from './deliveries.ts';
import { WebhookError } from './errors.ts';
import type { SecretBox } from './secret-box.ts';
import { generateSecret } from './signing.ts';
import {
  hostRefusal,
  isLoopbackHost,
  policyFor,
  type AddressPolicy,
  type AddressPolicyOptions,
} from './ssrf.ts';

export const urlLengthMax = 2048;
export const enabledEventsMax = 100;
export const descriptionLengthMax = 1000;
import { metadataKeysMax } from '../metadata.ts';
export { metadataKeysMax };
export const metadataKeyLengthMax = 40;
export const metadataValueLengthMax = 500;
/** Stripe's limit per account; more endpoints per merchant multiply every event's deliveries. */
export const endpointsPerMerchantMax = 16;
export const endpointIdLengthMax = 100;
const knownEventTypes: ReadonlySet<string> = new Set(eventTypes);

export type EndpointStatus = 'enabled' | 'disabled';

/** How deliveries are signed: Standard Webhooks (the default) or as Stripe signs them. */
export type SignatureScheme = 'standard_webhooks' | 'stripe';
export const signatureSchemes: readonly SignatureScheme[] = ['standard_webhooks', 'stripe'];
/** A Stripe API version as integrations name it: `2024-06-20`, `2025-03-31.basil`. */
export const apiVersionPattern = /^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[a-z]{1,20})?$/;

export type WebhookEndpoint = {
  readonly id: string;
  readonly merchantId: string;
  readonly url: string;
  readonly enabledEvents: readonly string[];
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly status: EndpointStatus;
  readonly disabledReason: string | null;
  readonly signatureScheme: SignatureScheme;
  readonly apiVersion: string | null;
  readonly createdAt: Date;
};

export type CreateEndpointInput = {
  readonly url: string;
  readonly enabledEvents: readonly string[];
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly signatureScheme?: SignatureScheme;
  readonly apiVersion?: string;
};

/** Absent fields stay as they are; metadata merges, and a key set to '' is removed (Stripe). */
export type UpdateEndpointInput = {
  readonly url?: string;
  readonly enabledEvents?: readonly string[];
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly disabled?: boolean;
  readonly signatureScheme?: SignatureScheme;
};

export type ListOptions = PageRequest;

export const disabledByMerchant = 'disabled by the merchant';

type EndpointRow = {
  id: string;
  merchant_id: string;
  url: string;
  enabled_events: string[];
  description: string | null;
  metadata: Record<string, string>;
  status: EndpointStatus;
  disabled_reason: string | null;
  signature_scheme: SignatureScheme;
  api_version: string | null;
  created_at: Date;
};

const columns =
  'id, merchant_id, url, enabled_events, description, metadata, status, disabled_reason, signature_scheme, api_version, created_at';

function endpointFromRow(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    url: row.url,
    enabledEvents: row.enabled_events,
    description: row.description,
    metadata: row.metadata,
    status: row.status,
    disabledReason: row.disabled_reason,
    signatureScheme: row.signature_scheme,
    apiVersion: row.api_version,
    createdAt: row.created_at,
  };
}

/**
 * https anywhere public; plain http only to loopback (a merchant testing on its own machine). An
 * IP literal or a loopback name is checked here against the address policy (ssrf.ts); a name's
 * addresses are checked again at every delivery, after it is resolved, so a DNS change cannot
 * get past this check.
 */
export function validateEndpointUrl(url: string, policy: AddressPolicy, param = 'url'): string {
  if (url.length === 0 || url.length > urlLengthMax)
    throw new WebhookError(
      'url_invalid',
      `Invalid URL: ${param} must be 1 to ${urlLengthMax} characters.`,
      param,
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookError(
      'url_invalid',
      `Invalid URL: ${param} is not an absolute URL (expected https://…).`,
      param,
    );
  }
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    throw new WebhookError(
      'url_invalid',
      `Invalid URL: ${param} must use https; plain http is only accepted for localhost and 127.0.0.1 (testing).`,
      param,
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new WebhookError(
      'url_invalid',
      `Invalid URL: ${param} must be an https URL, not ${parsed.protocol.replace(/:$/, '')}.`,
      param,
    );
  const refusal = hostRefusal(parsed.hostname, policy);
  if (refusal !== undefined)
    throw new WebhookError('url_invalid', `Invalid URL: ${param}: ${refusal}.`, param);
  return url;
}

/** Known event types or '*', without duplicates (in the given order). */
export function validateEnabledEvents(
  enabledEvents: readonly string[],
  param = 'enabled_events',
): string[] {
  if (enabledEvents.length === 0)
    throw new WebhookError(
      'parameter_invalid',
      `Invalid ${param}: give at least one event type, or '*' for all.`,
      param,
    );
  if (enabledEvents.length > enabledEventsMax)
    throw new WebhookError(
      'parameter_invalid',
      `Invalid ${param}: at most ${enabledEventsMax} event types.`,
      param,
    );
  for (const [index, type] of enabledEvents.entries()) {
    if (type !== '*' && !knownEventTypes.has(type)) {
      throw new WebhookError(
        'parameter_invalid',
        `Invalid ${param}[${index}]: '${type.slice(0, 100)}' is not an event type; use '*' or one of: ${eventTypes.join(', ')}.`,
        `${param}[${index}]`,
      );
    }
  }
  return [...new Set(enabledEvents)];
}

function validateScheme(scheme: string | undefined): SignatureScheme | undefined {
  if (scheme === undefined) return undefined;
  if (!signatureSchemes.includes(scheme as SignatureScheme))
    throw new WebhookError(
      'parameter_invalid',
      `Invalid signature_scheme: one of ${signatureSchemes.join(', ')}.`,
      'signature_scheme',
    );
  return scheme as SignatureScheme;
}

/** Kept as given (Payrail answers one shape); refused when it is not a Stripe API version. */
function validateApiVersion(version: string | undefined): string | null {
  if (version === undefined) return null;
  if (!apiVersionPattern.test(version))
    throw new WebhookError(
      'parameter_invalid',
      "Invalid api_version: a Stripe API version such as '2024-06-20'.",
      'api_version',
    );
  return version;
}

function validateDescription(description: string | undefined): string | null | undefined {
  if (description === undefined) return undefined;
  if (description.length > descriptionLengthMax)
    throw new WebhookError(
      'parameter_invalid',
      `Invalid description: at most ${descriptionLengthMax} characters.`,
      'description',
    );
  return description === '' ? null : description; // '' unsets it, as in Stripe (form bodies cannot send null)
}

function validateMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (metadata === undefined) return undefined;
  const entries = Object.entries(metadata);
  if (entries.length > metadataKeysMax)
    throw new WebhookError(
      'parameter_invalid',
      `Invalid metadata: at most ${metadataKeysMax} keys.`,
      'metadata',
    );
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > metadataKeyLengthMax)
      throw new WebhookError(
        'parameter_invalid',
        `Invalid metadata: keys are 1 to ${metadataKeyLengthMax} characters.`,
        'metadata',
      );
    if (typeof value !== 'string' || value.length > metadataValueLengthMax) {
      throw new WebhookError(
        'parameter_invalid',
        `Invalid metadata[${key}]: a string of at most ${metadataValueLengthMax} characters.`,
        `metadata[${key}]`,
      );
    }
  }
  return metadata;
}

function missing(id: string): WebhookError {
  return new WebhookError(
    'resource_missing',
    `No such webhook endpoint: '${id.slice(0, endpointIdLengthMax)}'`,
    'id',
  );
}

export class WebhookEndpoints {
  readonly #database: Database;
  readonly #secretBox: SecretBox;
  readonly #addressPolicy: AddressPolicyOptions;

  constructor(database: Database, secretBox: SecretBox, addressPolicy: AddressPolicyOptions = {}) {
    this.#database = database;
    this.#secretBox = secretBox;
    this.#addressPolicy = addressPolicy;
  }

  /**
   * Creates an enabled endpoint; `secret` (whsec_…) is returned here and never again (but see
   * `resumeCreate`). `bind` runs in the creating transaction (an idempotency key records the id).
   */
  async create(
    merchantId: string,
    input: CreateEndpointInput,
    bind?: (tx: Queryable, id: string) => Promise<void>,
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = validateEndpointUrl(input.url, await policyFor(this.#addressPolicy, merchantId));
    const enabledEvents = validateEnabledEvents(input.enabledEvents);
    const description = validateDescription(input.description) ?? null;
    const metadata = validateMetadata(input.metadata) ?? {};
    const signatureScheme = validateScheme(input.signatureScheme) ?? 'standard_webhooks';
    const apiVersion = validateApiVersion(input.apiVersion);
    const id = newSortableId('we');
    const secret = generateSecret();
    const sealed = this.#secretBox.seal(secret, id);
    const row = await this.#database.transaction(async (tx) => {
      // The merchant row lock serializes concurrent creates, so the limit holds under concurrency.
      await tx.query('SELECT 1 FROM merchants WHERE id = $1 FOR UPDATE', [merchantId]);
      const count = await tx.query<{ count: bigint }>(
        'SELECT count(*) AS count FROM webhook_endpoints WHERE merchant_id = $1',
        [merchantId],
      );
      if ((count.rows[0]?.count ?? 0n) >= BigInt(endpointsPerMerchantMax)) {
        throw new WebhookError(
          'webhook_endpoint_limit_reached',
          `A merchant can have at most ${endpointsPerMerchantMax} webhook endpoints; delete one first.`,
        );
      }
      const inserted = await tx.query<EndpointRow>(
        `INSERT INTO webhook_endpoints (id, merchant_id, url, enabled_events, description, metadata,
           secret_sealed, signature_scheme, api_version)
         VALUES ($1, $2, $3, $4::text[], $5, $6::jsonb, $7, $8, $9) RETURNING ${columns}`,
        [
          id,
          merchantId,
          url,
          textArrayLiteral(enabledEvents),
          description,
          JSON.stringify(metadata),
          sealed,
          signatureScheme,
          apiVersion,
        ],
      );
      await bind?.(tx, id);
      return inserted.rows[0] as EndpointRow;
    });
    return { endpoint: endpointFromRow(row), secret };
  }

  /**
   * The answer a create would have given, for a retried create whose first try committed but
   * whose response was lost (the idempotency key names the endpoint): the client never saw the
   * secret, so it is shown once more.
   */
  async resumeCreate(
    merchantId: string,
    id: string,
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const result = await this.#database.query<EndpointRow & { secret_sealed: string }>(
      `SELECT ${columns}, secret_sealed FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2`,
      [id, merchantId],
    );
    const row = result.rows[0];
    if (row === undefined) throw missing(id);
    return {
      endpoint: endpointFromRow(row),
      secret: this.#secretBox.open(row.secret_sealed, row.id),
    };
  }

  /** Creates an endpoint; a resumed retry answers with the one its first try created. */
  async createOnce(
    merchantId: string,
    input: CreateEndpointInput,
    request: IdempotentRequest = {},
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const existing = resumedResourceId(request);
    if (existing !== undefined) return this.resumeCreate(merchantId, existing);
    return this.create(merchantId, input, request.bind);
  }

  async retrieve(merchantId: string, id: string): Promise<WebhookEndpoint> {
    const found = await findEndpoint(this.#database, merchantId, id);
    if (found === undefined) throw missing(id);
    return found;
  }

  /** Newest first, Stripe's list order. */
  async list(
    merchantId: string,
    options: ListOptions,
  ): Promise<{ endpoints: WebhookEndpoint[]; hasMore: boolean }> {
    const { rows, hasMore } = await keysetPage<EndpointRow, string>(
      this.#database,
      {
        select: columns,
        from: 'webhook_endpoints',
        scope: 'merchant_id = $1',
        scopeParameters: [merchantId],
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'webhook_endpoint',
      },
      options,
    );
    return { endpoints: rows.map(endpointFromRow), hasMore };
  }

  async update(
    merchantId: string,
    id: string,
    input: UpdateEndpointInput,
  ): Promise<WebhookEndpoint> {
    const url =
      input.url === undefined
        ? undefined
        : validateEndpointUrl(input.url, await policyFor(this.#addressPolicy, merchantId));
    const enabledEvents =
      input.enabledEvents === undefined ? undefined : validateEnabledEvents(input.enabledEvents);
    const description = validateDescription(input.description);
    const metadata = validateMetadata(input.metadata);
    return this.#database.transaction(async (tx) => {
      const result = await tx.query<EndpointRow>(
        `UPDATE webhook_endpoints SET
           url = coalesce($3, url),
           enabled_events = coalesce($4::text[], enabled_events),
           description = CASE WHEN $5::boolean THEN $6 ELSE description END,
           metadata = CASE WHEN $7::jsonb IS NULL THEN metadata ELSE
             (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(metadata || $7::jsonb) WHERE value <> '""'::jsonb) END,
           status = CASE $8::boolean WHEN true THEN 'disabled' WHEN false THEN 'enabled' ELSE status END,
           disabled_reason = CASE $8::boolean WHEN true THEN coalesce(disabled_reason, $9) WHEN false THEN NULL ELSE disabled_reason END,
           signature_scheme = coalesce($10, signature_scheme),
           updated_at = now()
         WHERE id = $1 AND merchant_id = $2 RETURNING ${columns}`,
        [
          id,
          merchantId,
          url ?? null,
          enabledEvents === undefined ? null : textArrayLiteral(enabledEvents),
          description !== undefined,
          description ?? null,
          metadata === undefined ? null : JSON.stringify(metadata),
          input.disabled ?? null,
          disabledByMerchant,
          validateScheme(input.signatureScheme) ?? null,
        ],
      );
      const row = result.rows[0];
      if (row === undefined) throw missing(id);
      if (input.disabled === true) await failPendingDeliveries(tx, id, 'the endpoint was disabled');
      return endpointFromRow(row);
    });
  }

  /** The endpoint's deliveries, newest first, each with its attempts (of one status if given). */
  deliveries(
    merchantId: string,
    endpointId: string,
    options: DeliveryListOptions,
  ): Promise<{ deliveries: WebhookDelivery[]; hasMore: boolean }> {
    return listDeliveries(this.#database, merchantId, endpointId, options);
  }

  /** One of the merchant's deliveries with its attempts; another merchant's is missing too. */
  async delivery(merchantId: string, id: string): Promise<WebhookDelivery> {
    const found = await findDelivery(this.#database, merchantId, id);
    if (found === undefined)
      throw new WebhookError(
        'resource_missing',
        `No such webhook delivery: '${id.slice(0, endpointIdLengthMax)}'`,
        'id',
      );
    return found;
  }

  /** The merchant's deliveries of one event (one per endpoint it went to), with their attempts. */
  eventDeliveries(merchantId: string, eventId: string): Promise<WebhookDelivery[]> {
    return eventDeliveries(this.#database, merchantId, eventId);
  }

  /** Deletes the endpoint with its deliveries and their attempts. */
  async delete(merchantId: string, id: string): Promise<void> {
    const result = await this.#database.query(
      'DELETE FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2',
      [id, merchantId],
    );
    if (result.rowCount === 0) throw missing(id);
  }
}

export async function findEndpoint(
  queryable: Queryable,
  merchantId: string,
  id: string,
): Promise<WebhookEndpoint | undefined> {
  const result = await queryable.query<EndpointRow>(
    `SELECT ${columns} FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2`,
    [id, merchantId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : endpointFromRow(row);
}

/**
 * A disabled endpoint gets no more sends: its pending deliveries fail at once (they stay
 * replayable). A delivery leased by a worker right now is left to finish its attempt; a retry
 * it schedules is failed when next claimed, since the claim checks the endpoint's status.
 */
export async function failPendingDeliveries(
  tx: Queryable,
  endpointId: string,
  reason: string,
): Promise<void> {
  await tx.query(
    `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $2, updated_at = now()
      WHERE endpoint_id = $1 AND status = 'pending' AND lease_id IS NULL`,
    [endpointId, reason],
  );
}
