// The simulator's memory: per PSP, its payments, refunds and idempotency records (a PspBook), and
// one ground-truth operation log across PSPs. PSP modules validate requests and word responses;
// the book only records operations and asserts that they are possible (a violation is a bug in
// a PSP module). Amounts are integer minor units; currencies lowercase ISO-4217.
import assert from 'node:assert/strict';
import type { DeclineCode } from './cards.ts';

/** A PSP's name, as sim/psps/registry.ts lists them. */
export type Psp = string;

export type CaptureMode = 'automatic' | 'manual';
export type PaymentStatus =
  'declined' | 'authorized' | 'captured' | 'partially_refunded' | 'refunded' | 'voided';
export type OperationType = 'authorize' | 'capture' | 'void' | 'refund';

export type Operation = {
  readonly seq: number;
  readonly psp: Psp;
  readonly type: OperationType;
  readonly status: 'succeeded' | 'declined';
  readonly paymentId: string;
  readonly reference: string | null;
  readonly refundId?: string;
  readonly refundReference?: string | null;
  readonly amount: number;
  readonly currency: string;
  readonly declineCode?: DeclineCode;
  readonly idempotencyKey?: string;
  readonly atMs: number;
};

export type Payment<Details> = {
  readonly psp: Psp;
  readonly id: string;
  readonly reference: string | null;
  readonly amount: number;
  readonly currency: string;
  readonly captureMode: CaptureMode;
  readonly createdMs: number;
  readonly declineCode: DeclineCode | undefined;
  status: PaymentStatus;
  authorized: number;
  captured: number;
  refunded: number;
  voided: boolean;
  readonly refundIds: string[];
  readonly operations: Operation[];
  readonly details: Details;
};

export type Refund<Details> = {
  readonly id: string;
  readonly paymentId: string;
  readonly reference: string | null;
  readonly amount: number;
  readonly currency: string;
  readonly createdMs: number;
  readonly details: Details;
};

export type IdempotencyRecord = {
  readonly fingerprint: string;
  readonly status: number;
  readonly text: string;
};

export type StoreLimits = {
  readonly maxPayments: number;
  readonly maxRefunds: number;
  readonly maxIdempotencyRecords: number;
};

export const DEFAULT_LIMITS: StoreLimits = {
  maxPayments: 1_000_000,
  maxRefunds: 1_000_000,
  maxIdempotencyRecords: 3_000_000,
};

/** Thrown when a bound is reached; the server answers 503 in the PSP's wording. */
export class CapacityError extends Error {}

type Counters = { payments: number; refunds: number; idempotencyRecords: number; seq: number };

export type AuthorizeInput<Details> = {
  readonly id: string;
  readonly reference: string | null;
  readonly amount: number;
  readonly currency: string;
  readonly captureMode: CaptureMode;
  readonly declineCode?: DeclineCode;
  readonly idempotencyKey?: string;
  readonly details: Details;
};

export type RefundInput<Details> = {
  readonly id: string;
  readonly reference: string | null;
  readonly amount: number;
  readonly idempotencyKey?: string;
  readonly details: Details;
};

export class PspBook<PaymentDetails, RefundDetails> {
  readonly psp: Psp;
  readonly payments = new Map<string, Payment<PaymentDetails>>();
  readonly refunds = new Map<string, Refund<RefundDetails>>();
  readonly paymentsByReference = new Map<string, Payment<PaymentDetails>[]>();
  readonly refundsByReference = new Map<string, Refund<RefundDetails>>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  /** Payments in creation order, for listings. */
  readonly paymentList: Payment<PaymentDetails>[] = [];
  /** Told of every operation once it is recorded (the webhook engine listens here). */
  onOperation: ((operation: Operation) => void) | undefined;
  readonly #store: SimStore;

  constructor(psp: Psp, store: SimStore) {
    this.psp = psp;
    this.#store = store;
  }

  clear(): void {
    this.payments.clear();
    this.refunds.clear();
    this.paymentsByReference.clear();
    this.refundsByReference.clear();
    this.idempotency.clear();
    this.paymentList.length = 0;
  }

  /** Records an authorization (approved or declined) and, for automatic capture, its capture. */
  authorize(input: AuthorizeInput<PaymentDetails>): Payment<PaymentDetails> {
    assert.ok(
      Number.isSafeInteger(input.amount) && input.amount > 0,
      'authorize: amount must be a positive integer',
    );
    assert.ok(!this.payments.has(input.id), 'authorize: duplicate payment id');
    this.#store.reservePayment();
    const declined = input.declineCode !== undefined;
    const payment: Payment<PaymentDetails> = {
      psp: this.psp,
      id: input.id,
      reference: input.reference,
      amount: input.amount,
      currency: input.currency,
      captureMode: input.captureMode,
      createdMs: Date.now(),
      declineCode: input.declineCode,
      status: declined ? 'declined' : 'authorized',
      authorized: declined ? 0 : input.amount,
      captured: 0,
      refunded: 0,
      voided: false,
      refundIds: [],
      operations: [],
      details: input.details,
    };
    this.payments.set(payment.id, payment);
    this.paymentList.push(payment);
    if (payment.reference !== null) {
      const sameReference = this.paymentsByReference.get(payment.reference);
      if (sameReference === undefined) this.paymentsByReference.set(payment.reference, [payment]);
      else sameReference.push(payment);
    }
    this.#log(payment, 'authorize', input.amount, input.idempotencyKey, input.declineCode);
    if (!declined && input.captureMode === 'automatic')
      this.capture(payment, input.amount, input.idempotencyKey);
    return payment;
  }

  capture(payment: Payment<PaymentDetails>, amount: number, idempotencyKey?: string): void {
    assert.equal(payment.status, 'authorized', 'capture: payment must be authorized');
    assert.ok(
      Number.isSafeInteger(amount) && amount > 0 && amount <= payment.authorized,
      'capture: amount out of range',
    );
    payment.captured = amount;
    payment.status = 'captured';
    this.#log(payment, 'capture', amount, idempotencyKey);
  }

  void(payment: Payment<PaymentDetails>, idempotencyKey?: string): void {
    assert.equal(payment.status, 'authorized', 'void: payment must be authorized');
    payment.voided = true;
    payment.status = 'voided';
    this.#log(payment, 'void', payment.authorized, idempotencyKey);
  }

  refund(
    payment: Payment<PaymentDetails>,
    input: RefundInput<RefundDetails>,
  ): Refund<RefundDetails> {
    assert.ok(
      Number.isSafeInteger(input.amount) && input.amount > 0,
      'refund: amount must be a positive integer',
    );
    assert.ok(
      input.amount <= payment.captured - payment.refunded,
      'refund: more than is left to refund',
    );
    assert.ok(!this.refunds.has(input.id), 'refund: duplicate refund id');
    this.#store.reserveRefund();
    const refund: Refund<RefundDetails> = {
      id: input.id,
      paymentId: payment.id,
      reference: input.reference,
      amount: input.amount,
      currency: payment.currency,
      createdMs: Date.now(),
      details: input.details,
    };
    this.refunds.set(refund.id, refund);
    if (refund.reference !== null && !this.refundsByReference.has(refund.reference))
      this.refundsByReference.set(refund.reference, refund);
    payment.refundIds.push(refund.id);
    payment.refunded += input.amount;
    payment.status = payment.refunded === payment.captured ? 'refunded' : 'partially_refunded';
    this.#log(payment, 'refund', input.amount, input.idempotencyKey, undefined, refund);
    return refund;
  }

  recall(key: string): IdempotencyRecord | undefined {
    return this.idempotency.get(key);
  }

  /** Throws CapacityError when no new record can be kept; called before an operation is performed. */
  assertCanRemember(): void {
    this.#store.assertIdempotencyCapacity();
  }

  remember(key: string, record: IdempotencyRecord): void {
    if (!this.idempotency.has(key)) this.#store.countIdempotencyRecord();
    this.idempotency.set(key, record);
  }

  #log(
    payment: Payment<PaymentDetails>,
    type: OperationType,
    amount: number,
    idempotencyKey?: string,
    declineCode?: DeclineCode,
    refund?: Refund<RefundDetails>,
  ): void {
    const operation: Operation = {
      seq: this.#store.nextSeq(),
      psp: this.psp,
      type,
      status: declineCode === undefined ? 'succeeded' : 'declined',
      paymentId: payment.id,
      reference: payment.reference,
      ...(refund === undefined ? {} : { refundId: refund.id, refundReference: refund.reference }),
      amount,
      currency: payment.currency,
      ...(declineCode === undefined ? {} : { declineCode }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      atMs: Date.now(),
    };
    payment.operations.push(operation);
    this.#store.operations.push(operation);
    this.onOperation?.(operation);
  }
}

export class SimStore {
  readonly limits: StoreLimits;
  readonly operations: Operation[] = [];
  readonly #counters: Counters = { payments: 0, refunds: 0, idempotencyRecords: 0, seq: 0 };
  readonly #books = new Map<Psp, PspBook<unknown, unknown>>();

  constructor(limits: StoreLimits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  /** The book of one PSP; each PSP module asks once, with its own detail types. */
  book<PaymentDetails, RefundDetails>(psp: Psp): PspBook<PaymentDetails, RefundDetails> {
    assert.ok(!this.#books.has(psp), `book for ${psp} already taken`);
    const book = new PspBook<PaymentDetails, RefundDetails>(psp, this);
    this.#books.set(psp, book as PspBook<unknown, unknown>);
    return book;
  }

  books(): IterableIterator<PspBook<unknown, unknown>> {
    return this.#books.values();
  }

  bookOf(psp: Psp): PspBook<unknown, unknown> | undefined {
    return this.#books.get(psp);
  }

  reset(): void {
    for (const book of this.#books.values()) book.clear();
    this.operations.length = 0;
    this.#counters.payments = 0;
    this.#counters.refunds = 0;
    this.#counters.idempotencyRecords = 0;
    this.#counters.seq = 0;
  }

  nextSeq(): number {
    this.#counters.seq += 1;
    return this.#counters.seq;
  }

  reservePayment(): void {
    if (this.#counters.payments >= this.limits.maxPayments)
      throw new CapacityError(
        `the simulator holds its maximum of ${this.limits.maxPayments} payments`,
      );
    this.#counters.payments += 1;
  }

  reserveRefund(): void {
    if (this.#counters.refunds >= this.limits.maxRefunds)
      throw new CapacityError(
        `the simulator holds its maximum of ${this.limits.maxRefunds} refunds`,
      );
    this.#counters.refunds += 1;
  }

  assertIdempotencyCapacity(): void {
    if (this.#counters.idempotencyRecords >= this.limits.maxIdempotencyRecords) {
      throw new CapacityError(
        `the simulator holds its maximum of ${this.limits.maxIdempotencyRecords} idempotency records`,
      );
    }
  }

  countIdempotencyRecord(): void {
    this.#counters.idempotencyRecords += 1;
  }
}
