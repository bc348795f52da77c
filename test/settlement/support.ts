// Fixtures of the settlement tests: payments and refunds posted through the real ledger poster
// (PaymentLedger, which writes the settlement items), and a fake acquirer on 127.0.0.1 that
// speaks the SPEC-11 clearing contract (NDJSON in and out, the first answer for a repeated id).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/clock.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { PaymentLedger, type PostingProblem } from '../../src/payments/payment-ledger.ts';
import {
  directCapture,
  feeTransfer,
  orphanCaptureAndRefund,
  refundTransfer,
  type Movement,
} from '../../src/payments/postings.ts';
import type { Database } from '../../src/storage/database.ts';

export type Payments = {
  readonly ledger: PaymentLedger;
  readonly problems: PostingProblem[];
  /** A merchant (its row only). */
  merchant(): Promise<string>;
  /** An attempt captured for `amount` with `fee`, posted; returns the intent and attempt ids. */
  capture(options: {
    merchantId: string;
    connector?: string;
    currency?: string;
    amount: bigint;
    fee?: bigint;
    pspReference?: string;
    /** When the authorization was made (the attempt's created_at); default: now. */
    authorizedAt?: Date;
    /** Write the outbox row but do not post it (the sweeper will). */
    leaveInOutbox?: boolean;
  }): Promise<{ intentId: string; attemptId: string; movement: Movement }>;
  refund(options: {
    merchantId: string;
    intentId: string;
    attemptId: string;
    movement: Movement;
    amount: bigint;
    pspReference?: string;
  }): Promise<string>;
  /** An abandoned attempt's capture and refund (through suspense: no merchant items). */
  orphan(merchantId: string, amount: bigint): Promise<string>;
};

const random = (prefix: string) => `${prefix}_${crypto.randomBytes(8).toString('hex')}`;

export function paymentsOn(database: Database, clock: Clock): Payments {
  const ledger = new Ledger(database, { clock });
  const problems: PostingProblem[] = [];
  const paymentLedger = new PaymentLedger(ledger, database, {
    onProblem: (problem) => problems.push(problem),
    clock,
  });
  const attempt = async (
    merchantId: string,
    connector: string,
    currency: string,
    amount: bigint,
    pspReference: string,
    authorizedAt: Date,
  ) => {
    const intentId = random('pi');
    const attemptId = random('pa');
    await database.query(
      `INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method, connector, amount_received, client_secret, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'succeeded', 'automatic', $5, $3, $1 || '_secret_fixture', $6, $6)`,
      [intentId, merchantId, amount, currency, connector, authorizedAt],
    );
    await database.query(
      `INSERT INTO payment_attempts (id, payment_intent_id, merchant_id, connector, status, amount, currency, capture_method, psp_idempotency_key, psp_reference, amount_authorized, amount_captured, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'captured', $5, $6, 'automatic', $1, $7, $5, $5, $8, $8)`,
      [attemptId, intentId, merchantId, connector, amount, currency, pspReference, authorizedAt],
    );
    return { intentId, attemptId };
  };
  return {
    ledger: paymentLedger,
    problems,
    async merchant() {
      const id = `mch_${crypto.randomBytes(8).toString('hex')}`;
      await database.query(`INSERT INTO merchants (id, name) VALUES ($1, 'Shop')`, [id]);
      return id;
    },
    async capture(options) {
      const connector = options.connector ?? 'stripe';
      const currency = options.currency ?? 'usd';
      const { intentId, attemptId } = await attempt(
        options.merchantId,
        connector,
        currency,
        options.amount,
        options.pspReference ?? random('ch'),
        options.authorizedAt ?? clock.now(options.merchantId),
      );
      const movement = { merchantId: options.merchantId, connector, currency };
      const transfers = [
        directCapture(attemptId, movement, options.amount),
        feeTransfer(attemptId, movement, options.fee ?? 0n),
      ];
      if (options.leaveInOutbox === true)
        await database.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO ledger_outbox (merchant_id, connector, currency, transfers, created_at)
             VALUES ($1, $2, $3, $4, $5)`,
            [
              movement.merchantId,
              connector,
              currency,
              JSON.stringify(
                transfers
                  .filter((transfer) => transfer !== undefined)
                  .map((transfer) => ({
                    kind: transfer.kind,
                    id: transfer.id,
                    legs:
                      'legs' in transfer
                        ? transfer.legs?.map((leg) => ({ ...leg, amount: leg.amount.toString() }))
                        : undefined,
                  })),
              ),
              new Date(clock.now().getTime() - 60_000),
            ],
          );
        });
      else await paymentLedger.transaction((tx) => paymentLedger.post(tx, movement, transfers));
      return { intentId, attemptId, movement };
    },
    async refund(options) {
      const refundId = random('re');
      await database.query(
        `INSERT INTO refunds (id, merchant_id, payment_intent_id, attempt_id, amount, currency, status, psp_idempotency_key, psp_reference, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'succeeded', $1, $7, $8, $8)`,
        [
          refundId,
          options.merchantId,
          options.intentId,
          options.attemptId,
          options.amount,
          options.movement.currency,
          options.pspReference ?? random('rf'),
          clock.now(options.merchantId),
        ],
      );
      await paymentLedger.transaction((tx) =>
        paymentLedger.post(tx, options.movement, [
          refundTransfer(refundId, options.movement, options.amount),
        ]),
      );
      return refundId;
    },
    async orphan(merchantId, amount) {
      const { attemptId } = await attempt(
        merchantId,
        'stripe',
        'usd',
        amount,
        random('ch'),
        clock.now(),
      );
      const movement = { merchantId, connector: 'stripe', currency: 'usd' };
      await paymentLedger.transaction((tx) =>
        paymentLedger.post(tx, movement, orphanCaptureAndRefund(attemptId, movement, amount)),
      );
      return attemptId;
    },
  };
}

export type AcquirerRequest = {
  readonly batchId: string;
  readonly header: Record<string, unknown>;
  readonly items: readonly Record<string, unknown>[];
};

/**
 * The fake acquirer: rejects an item by its PSP reference's prefix (`dup_` duplicate, `unk_`
 * unknown_reference, `amt_` amount_invalid, `late_` authorization_expired), checks the header
 * against the lines (400), answers a repeated batch id with its first answer byte for byte.
 */
export type FakeAcquirer = {
  readonly url: string;
  /** Batch id → how many times it was executed (must stay 1). */
  readonly executions: Map<string, number>;
  /** Every request received, answered or not. */
  readonly requests: AcquirerRequest[];
  /** Rejects items by PSP reference (overrides the prefixes), while set. */
  reject: ((item: Record<string, unknown>) => string | undefined) | undefined;
  /** The next requests fail with this status (then it is cleared). */
  failNext: number | undefined;
  /** A batch id answered before: its first answer goes out before the request is read, while set. */
  answerEarly: boolean;
  close(): Promise<void>;
};

const rejectByPrefix: Record<string, string> = {
  dup_: 'duplicate',
  unk_: 'unknown_reference',
  amt_: 'amount_invalid',
  late_: 'authorization_expired',
};

export async function startFakeAcquirer(): Promise<FakeAcquirer> {
  const answers = new Map<string, string>();
  const acquirer: FakeAcquirer = {
    url: '',
    executions: new Map(),
    requests: [],
    reject: undefined,
    failNext: undefined,
    answerEarly: false,
    close: async () => {},
  };
  let sequence = 0;
  const server = http.createServer((request, response) => {
    const early = answers.get(
      decodeURIComponent((request.url ?? '').replace('/acquirer/v1/clearing_batches/', '')),
    );
    if (acquirer.answerEarly && early !== undefined) {
      // The replay at once, the request read (and thrown away) only after it.
      response.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(early);
      response.on('finish', () => request.resume());
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const batchId = decodeURIComponent(
        (request.url ?? '').replace('/acquirer/v1/clearing_batches/', ''),
      );
      if (request.headers.authorization !== 'Bearer acq_test_sim') {
        response.writeHead(401).end();
        return;
      }
      const lines = Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const [header = {}, ...items] = lines;
      acquirer.requests.push({ batchId, header, items });
      if (acquirer.failNext !== undefined) {
        response.writeHead(acquirer.failNext).end('{"error":"unavailable"}');
        acquirer.failNext = undefined;
        return;
      }
      const first = answers.get(batchId);
      if (first !== undefined) {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(first);
        return;
      }
      const net = items.reduce(
        (sum, item) => sum + (item.type === 'capture' ? 1 : -1) * Number(item.amount),
        0,
      );
      if (header.item_count !== items.length || header.net_amount !== net) {
        response.writeHead(400).end('{"error":"header disagrees with lines"}');
        return;
      }
      acquirer.executions.set(batchId, (acquirer.executions.get(batchId) ?? 0) + 1);
      const results = items.map((item) => {
        const reference = String(item.psp_reference);
        const reason =
          acquirer.reject?.(item) ??
          Object.entries(rejectByPrefix).find(([prefix]) => reference.startsWith(prefix))?.[1];
        return reason === undefined
          ? { item_id: item.item_id, result: 'accepted' }
          : { item_id: item.item_id, result: 'rejected', reason_code: reason };
      });
      const accepted = items.filter((_, index) => results[index]?.result === 'accepted');
      const answer = [
        {
          batch_id: batchId,
          acquirer_reference: `acq_${++sequence}`,
          status: 'accepted',
          accepted_count: accepted.length,
          rejected_count: items.length - accepted.length,
          accepted_amount: accepted.reduce(
            (sum, item) => sum + (item.type === 'capture' ? 1 : -1) * Number(item.amount),
            0,
          ),
          settlement_reference: `po_sim${sequence}`,
        },
        ...results,
      ]
        .map((line) => JSON.stringify(line))
        .join('\n');
      answers.set(batchId, `${answer}\n`);
      response.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(`${answer}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(acquirer, {
    url: `http://127.0.0.1:${port}/acquirer`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
