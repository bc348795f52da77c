// The payouts module's domain types (architecture §12): payout settings, merchant bank accounts and
// payouts. Stored in migrations 019 and 023.

export type PayoutSchedule = 'daily' | 'weekly' | 'manual';

export type PayoutSettings = {
  readonly merchantId: string;
  /** Business days from a capture or refund to its availability. */
  readonly delayDays: number;
  readonly schedule: PayoutSchedule;
  /** ISO day of the week of weekly payouts (1 = Monday). */
  readonly weeklyAnchor: number;
  readonly reservePercentBps: number;
  readonly reserveDays: number;
  /** What a payout always leaves in the available balance, per currency. */
  readonly minimumBalances: Readonly<Record<string, bigint>>;
  /** Null while the merchant runs on the defaults. */
  readonly updatedAt: Date | null;
};

export type BankAccountStatus = 'new' | 'verified' | 'errored';

export type BankAccount = {
  readonly id: string;
  readonly merchantId: string;
  readonly currency: string;
  readonly country: string;
  readonly accountHolderName: string;
  readonly routingNumber: string | null;
  readonly last4: string;
  readonly fingerprint: string;
  readonly defaultForCurrency: boolean;
  readonly status: BankAccountStatus;
  readonly createdAt: Date;
};

export type PayoutStatus = 'pending' | 'in_transit' | 'paid' | 'failed' | 'canceled';
export type PayoutMethod = 'automatic' | 'manual';

export type Payout = {
  readonly id: string;
  readonly merchantId: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly method: PayoutMethod;
  readonly status: PayoutStatus;
  readonly bankAccountId: string;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly traceId: string | null;
  readonly failureCode: string | null;
  readonly failureMessage: string | null;
  readonly sendAttempts: number;
  readonly arrivalDate: Date;
  /** The payout's own balance transaction (type payout). */
  readonly balanceTransactionId: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
};
