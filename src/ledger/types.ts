// Ledger vocabulary (architecture §7). Amounts are bigint minor units; every leg names its currency.

export type AccountType = 'asset' | 'liability' | 'equity' | 'revenue' | 'expense';
export type LimitRule =
  'none' | 'debits_must_not_exceed_credits' | 'credits_must_not_exceed_debits';
export type Direction = 'debit' | 'credit';
export type Layer = 'posted' | 'pending';
export type TransferKind =
  'posted' | 'pending' | 'post_pending' | 'void_pending' | 'expire_pending';
export type HoldStatus = 'pending' | 'posted' | 'voided' | 'expired';
export type Metadata = Readonly<Record<string, string>>;

export const accountTypes: readonly AccountType[] = [
  'asset',
  'liability',
  'equity',
  'revenue',
  'expense',
];
export const limitRules: readonly LimitRule[] = [
  'none',
  'debits_must_not_exceed_credits',
  'credits_must_not_exceed_debits',
];

export const ledgerLimits = {
  legsPerTransferMax: 32,
  transfersPerBatchMax: 8192,
  idLengthMax: 200,
  descriptionLengthMax: 500,
  metadataKeysMax: 50,
  metadataKeyLengthMax: 40,
  metadataValueLengthMax: 500,
  pageSizeMax: 100,
  // int8 in the database: a balance that would pass this is refused before it could overflow.
  balanceMax: 2n ** 63n - 1n,
} as const;

export type AccountSpec = {
  readonly id: string;
  readonly type: AccountType;
  readonly currency: string;
  readonly owner: string;
  readonly limit?: LimitRule;
  readonly metadata?: Metadata;
};

/** The four running totals TigerBeetle keeps per account; everything else is derived. */
export type Totals = {
  postedDebits: bigint;
  postedCredits: bigint;
  pendingDebits: bigint;
  pendingCredits: bigint;
};

/** Balances as the account's owner reads them, signed by the account's normal side. */
export type Balance = {
  readonly posted: bigint;
  readonly pending: bigint;
  readonly available: bigint;
};

export type Account = {
  readonly id: string;
  readonly type: AccountType;
  readonly currency: string;
  readonly owner: string;
  readonly limit: LimitRule;
  readonly metadata: Metadata;
  readonly totals: Readonly<Totals>;
  readonly balance: Balance;
  readonly entryCount: bigint;
  readonly createdAt: Date;
};

export type Leg = {
  readonly accountId: string;
  readonly direction: Direction;
  readonly amount: bigint;
  readonly currency: string;
};

type TransferCommon = {
  readonly id: string;
  readonly description?: string;
  readonly metadata?: Metadata;
};

export type TransferRequest =
  | (TransferCommon & { readonly kind: 'posted'; readonly legs: readonly Leg[] })
  | (TransferCommon & {
      readonly kind: 'pending';
      readonly legs: readonly Leg[];
      readonly expiresAt?: Date;
    })
  | (TransferCommon & {
      readonly kind: 'post_pending';
      readonly pendingId: string;
      /** Post this much of every leg (holds whose legs all carry one amount). */
      readonly amount?: bigint;
      /** Or post these legs: each matches a held leg (account, direction) and does not exceed it. */
      readonly legs?: readonly Leg[];
    })
  | (TransferCommon & {
      readonly kind: 'void_pending' | 'expire_pending';
      readonly pendingId: string;
    });

export type LedgerTransaction = {
  readonly id: string;
  readonly kind: TransferKind;
  readonly pendingId: string | null;
  /** The legs this transaction moved: held legs for 'pending', posted legs for 'post_pending', none for a void. */
  readonly legs: readonly Leg[];
  readonly description: string | null;
  readonly metadata: Metadata;
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
};

export type Entry = {
  readonly transactionId: string;
  readonly leg: number;
  readonly accountId: string;
  readonly currency: string;
  readonly layer: Layer;
  readonly direction: Direction;
  readonly amount: bigint;
  readonly accountSequence: bigint;
  readonly totalsAfter: Readonly<Totals>;
  readonly hash: string;
  readonly createdAt: Date;
};

export type Hold = {
  readonly transactionId: string;
  readonly status: HoldStatus;
  readonly expiresAt: Date | null;
  readonly resolvedBy: string | null;
};
