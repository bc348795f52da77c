// The JetStream relay (architecture §2): moves outbox rows to the event stream. A batch is claimed for
// a short lease in one statement, published outside any transaction (architecture §1 rule 5) with the
// event id as the message id, and the rows are deleted once JetStream acknowledged them. A relay
// that dies after publishing leaves the claim to expire and the rows are published again;
// JetStream drops those copies within its duplicate window, and the consumers' inboxes drop any
// that get through later. Several relays split the outbox (SKIP LOCKED plus the lease).
import { jetstream, jetstreamManager, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { systemClock, type Clock } from '../../../clock.ts';
import { integerArrayLiteral } from '../../../storage/arrays.ts';
import type { Database } from '../../../storage/database.ts';
import { WakeableLoop, type StepResult } from '../loop.ts';
import { assertPositiveInteger, type BusHooks, type BusLogger } from '../types.ts';
import { encodeEvent, type OutboxEventRow } from './codec.ts';
import { defaultStreamSettings, ensureStream, type StreamSettings } from './nats.ts';

export type JetStreamRelayOptions = {
  readonly connection: NatsConnection;
  readonly database: Database;
  readonly logger: BusLogger;
  readonly hooks?: BusHooks;
  readonly stream?: Partial<StreamSettings>;
  /** Outbox rows per publish batch (default 200). */
  readonly batchSize?: number;
  readonly pollIntervalMs?: number;
  /** While commits keep notifying, a step starts at most this often (default 50 ms; see loop.ts). */
  readonly coalesceMs?: number;
  /** How long a claim keeps other relays off a batch (default 30 s; well inside the duplicate window). */
  readonly claimLeaseMs?: number;
  /** How long to wait for each PubAck (default 5 s). */
  readonly publishTimeoutMs?: number;
  /** Claims run on system time (src/clock.ts). */
  readonly clock?: Clock;
};

type ClaimedRow = OutboxEventRow & { readonly id: bigint };

const claimSql = `WITH claimed AS (
    UPDATE event_outbox o SET claimed_until = $3::timestamptz + $2 * interval '1 millisecond'
     WHERE o.id IN (SELECT id FROM event_outbox WHERE claimed_until IS NULL OR claimed_until < $3::timestamptz
                     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.event_id)
  SELECT c.id, e.id AS event_id, e.merchant_id, e.type, e.object_id, e.data::text AS data, e.created_at
    FROM claimed c JOIN events e ON e.id = c.event_id
   ORDER BY c.id`;

export class JetStreamRelay {
  readonly #connection: NatsConnection;
  readonly #client: JetStreamClient;
  readonly #clock: Clock;
  readonly #database: Database;
  readonly #logger: BusLogger;
  readonly #hooks: BusHooks;
  readonly #stream: StreamSettings;
  readonly #batchSize: number;
  readonly #claimLeaseMs: number;
  readonly #publishTimeoutMs: number;
  readonly #loop: WakeableLoop;

  constructor(options: JetStreamRelayOptions) {
    this.#connection = options.connection;
    this.#client = jetstream(options.connection);
    this.#database = options.database;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#hooks = options.hooks ?? {};
    this.#stream = { ...defaultStreamSettings, ...options.stream };
    this.#batchSize = options.batchSize ?? 200;
    this.#claimLeaseMs = options.claimLeaseMs ?? 30_000;
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    assertPositiveInteger('batchSize', this.#batchSize);
    if (this.#claimLeaseMs >= this.#stream.duplicateWindowMs)
      throw new Error('claimLeaseMs must be shorter than the stream duplicate window');
    this.#loop = new WakeableLoop(
      async (): Promise<StepResult> => ({ more: (await this.relayOnce()) === this.#batchSize }),
      {
        name: 'relay',
        pollIntervalMs: options.pollIntervalMs ?? 1000,
        errorDelayMsMax: 5000,
        logger: options.logger,
        coalesceMs: options.coalesceMs ?? 50,
      },
    );
  }

  /** Creates or updates the stream, then starts relaying. */
  async start(): Promise<void> {
    await ensureStream(await jetstreamManager(this.#connection), this.#stream);
    this.#loop.start();
  }

  notify(): void {
    this.#loop.notify();
  }

  /** Stops relaying; waits for the batch in flight. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** One batch: returns how many rows it claimed. Throws (after releasing them) if any publish failed. */
  async relayOnce(): Promise<number> {
    const claimed = await this.#database.query<ClaimedRow>(claimSql, [
      this.#batchSize,
      this.#claimLeaseMs,
      this.#clock.now(),
    ]);
    if (claimed.rows.length === 0) return 0;
    const rows = claimed.rows;
    // Published in id order without waiting in between; JetStream stores them in the order sent.
    const acks = await Promise.allSettled(
      rows.map((row) =>
        this.#client.publish(`${this.#stream.subjectPrefix}.${row.type}`, encodeEvent(row), {
          msgID: row.event_id,
          timeout: this.#publishTimeoutMs,
        }),
      ),
    );
    const published: bigint[] = [];
    const failed: bigint[] = [];
    let firstError: unknown;
    acks.forEach((ack, index) => {
      const id = (rows[index] as ClaimedRow).id;
      const problem = ack.status === 'rejected' ? ack.reason : this.#wrongStream(ack.value);
      if (problem === undefined) published.push(id);
      else {
        failed.push(id);
        firstError ??= problem;
      }
    });
    if (published.length > 0)
      await this.#database.query('DELETE FROM event_outbox WHERE id = ANY($1::bigint[])', [
        integerArrayLiteral(published),
      ]);
    if (failed.length > 0) {
      // Released at once, so that the next try does not wait for the lease.
      await this.#database.query(
        'UPDATE event_outbox SET claimed_until = NULL WHERE id = ANY($1::bigint[])',
        [integerArrayLiteral(failed)],
      );
    }
    if (published.length > 0) this.#hooks.onPublished?.(published.length);
    if (firstError !== undefined)
      throw new Error(`${failed.length} of ${rows.length} events not published to JetStream`, {
        cause: firstError,
      });
    return rows.length;
  }

  /** A PubAck from another stream means another stream captured our subjects: not our log. */
  #wrongStream(ack: PubAck): Error | undefined {
    return ack.stream === this.#stream.streamName
      ? undefined
      : new Error(`event stored by stream '${ack.stream}', expected '${this.#stream.streamName}'`);
  }
}
