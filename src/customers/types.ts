// Customers and SetupIntents as the domain knows them (Stripe's objects; src/api-objects shows them).
import type { Address } from '../vault/index.ts';

export type Metadata = Readonly<Record<string, string>>;

export type Customer = {
  readonly id: string;
  readonly merchantId: string;
  readonly email: string | null;
  readonly name: string | null;
  readonly phone: string | null;
  readonly description: string | null;
  readonly address: Address | null;
  readonly metadata: Metadata;
  /** `invoice_settings.default_payment_method`: one of the customer's attached cards. */
  readonly defaultPaymentMethod: string | null;
  /** Set by erasure (DELETE): every personal field above is blank from then on. */
  readonly deletedAt: Date | null;
  readonly createdAt: Date;
};

/** The personal fields a create or update sets; undefined leaves a field, null (or '') clears it. */
export type CustomerFields = {
  readonly email?: string | null;
  readonly name?: string | null;
  readonly phone?: string | null;
  readonly description?: string | null;
  readonly address?: Address | null;
  /** Merged into the metadata; an empty value deletes its key. */
  readonly metadata?: Metadata;
  readonly defaultPaymentMethod?: string | null;
};

export type SetupIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'canceled'
  | 'succeeded';

export type SetupUsage = 'on_session' | 'off_session';

export type SetupError = {
  readonly type: 'card_error' | 'invalid_request_error';
  readonly code: string;
  readonly decline_code?: string;
  readonly message: string;
};

/** How a verification's authorization is taken back: voided, or refunded if it was captured. */
export type VerificationReversal = 'void' | 'refund';

export type SetupIntent = {
  readonly id: string;
  readonly merchantId: string;
  readonly customerId: string | null;
  readonly paymentMethodId: string | null;
  readonly status: SetupIntentStatus;
  readonly usage: SetupUsage;
  readonly clientSecret: string;
  readonly description: string | null;
  readonly metadata: Metadata;
  /** The connector that verified (or is verifying) the card. */
  readonly connector: string | null;
  /** Verifications sent so far; the PSP idempotency key of the current one derives from it. */
  readonly verificationCount: number;
  /** Calls of verification `verificationCount` that may have reached the PSP (decision 212). */
  readonly verificationSends: number;
  /** That verification's authorization still awaits its void, or its refund if it was captured. */
  readonly reversalPending: VerificationReversal | null;
  readonly pspReference: string | null;
  readonly lastSetupError: SetupError | null;
  readonly cancellationReason: string | null;
  readonly createdAt: Date;
};
