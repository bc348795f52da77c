import { systemClock, type Clock } from '../clock.ts';
import type { CardData, Connector } from '../connectors/types.ts';
import type { Ledger } from '../ledger/index.ts';
import type { DeclinePolicy, RoutingConfig, SuccessRateTracker } from '../routing/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Database, Queryable } from '../storage/database.ts';
import type { MerchantSettings } from './merchant-settings.ts';
import type { FaultInjector } from '../fault-points.ts';
import type { CardInput } from '../vault/card.ts';
import type { PaymentMethod } from '../vault/index.ts';
import type { RiskRecord } from '../risk/types.ts';

/** What payments need of the card vault. */
export type CardVault = {
  get(merchantId: string, id: string): Promise<PaymentMethod | undefined>;
  reveal(merchantId: string, id: string): Promise<CardData>;
  /** Stores a card given inline (`payment_method_data`); validates it before writing anything. */
  createCard(merchantId: string, input: CardInput): Promise<{ readonly id: string }>;
  /** Stores the card a test token (`tok_visa`) names, for a test merchant only. */
  createCardFromToken(
    merchantId: string,
    token: string,
    extra: Pick<CardInput, 'name' | 'metadata'>,
  ): Promise<{ readonly id: string }>;
};

/** What payments need of customers (src/customers): checks before a card is used, saving it after. */
export type PaymentCustomers = {
  /** Refuses an unknown or erased customer, and a card saved to another customer (nothing written). */
  checkUse(
    merchantId: string,
    customerId: string | null,
    paymentMethodId: string | null,
  ): Promise<void>;
  /**
   * In the transaction that writes a payment's customer or card: the customer's row held FOR SHARE
   * until commit, so an erasure (which locks it FOR UPDATE) runs wholly before or after; refuses an
   * unknown or erased customer (404 naming `customer`).
   */
  holdForPayment(tx: Queryable, merchantId: string, customerId: string): Promise<void>;
  /**
   * After a customer's payment was authorized (or failed): when the customer was erased meanwhile,
   * what the payment wrote since (its events) is cleaned as the erasure cleans. One read when not.
   */
  cleanIfErased(merchantId: string, customerId: string): Promise<void>;
  /** Saves the card to the customer after a successful payment; never throws. */
  saveAfterPayment(merchantId: string, customerId: string, paymentMethodId: string): Promise<void>;
};

export type PaymentsDependencies = {
  readonly database: Database;
  readonly ledger: Ledger;
  readonly vault: CardVault;
  readonly connector: (name: string) => Connector | undefined;
  readonly settings: MerchantSettings;
  readonly pspTimeoutMs: number;
  /** An authorization the PSP has never heard of this long after it was sent is failed by sync. */
  readonly neverSeenAfterMs: number;
  /** Crash points for the crash tests (src/testmode/faults.ts); without it, none. */
  readonly faults?: FaultInjector;
  readonly logger: Logger;
  /** Told after a commit that wrote events, so the event bus delivers them without waiting for its poll. */
  readonly events?: { notify(): void };
  /** Routing rules and what routing learns; without it, the capable connectors are tried by priority. */
  readonly routing?: PaymentRouting;
  /** Business time (src/clock.ts); real time when not given. */
  readonly clock?: Clock;
  /** Customers, for `customer` and `setup_future_usage`; without it, neither is checked or acted on. */
  readonly customers?: PaymentCustomers;
  /** The risk decision before each authorization (src/risk); without it, every payment is sent. */
  readonly risk?: PaymentRisk;
  /** 3-D Secure authentication of the card holder; without it, no payment can require action. */
  readonly threeDSecure?: PaymentAuthentication;
};

/** What a risk decision reads of a payment about to be sent (never the card number). */
export type RiskFacts = {
  readonly merchantId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly card: PaymentMethod;
  readonly email: string | null;
  readonly ipAddress: string | null;
  readonly ipCountry: string | null;
  readonly customerId: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** After the card holder authenticated (3-D Secure): request_3ds rules are not evaluated again. */
  readonly authentication?: {
    readonly authenticated: boolean;
    readonly liabilityShift: boolean;
    readonly eci: string | null;
  };
  readonly now: Date;
};

export type PaymentRisk = {
  /** The decision for an authorization about to be sent; undefined when risk is off for the merchant. */
  assess(facts: RiskFacts): Promise<RiskRecord | undefined>;
};

/** A 3-D Secure server's answer (src/risk/three-d-secure). */
export type AuthenticationAnswer = {
  readonly status:
    'challenge' | 'authenticated' | 'attempted' | 'failed' | 'rejected' | 'unavailable';
  readonly serverTransactionId: string;
  readonly challengeUrl?: string;
  readonly eci?: string;
  readonly authenticationValue?: string;
  readonly dsTransactionId?: string;
  readonly version?: string;
  readonly liabilityShift: boolean;
};

export type PaymentAuthentication = {
  /** Whether the merchant's mode has a 3-D Secure server (live mode needs one configured). */
  available(merchantId: string): Promise<boolean>;
  /** Starts an authentication; throws when the server cannot be reached or answers nonsense. */
  authenticate(
    merchantId: string,
    request: {
      readonly reference: string;
      readonly amount: bigint;
      readonly currency: string;
      readonly card: CardData;
      /** Where the ACS sends the card holder's browser back to (Payrail's return route). */
      readonly returnUrl: string;
      readonly challengeRequested: boolean;
    },
  ): Promise<AuthenticationAnswer>;
  /** The result of a challenge, asked of the server (never taken from the browser). */
  result(merchantId: string, serverTransactionId: string): Promise<AuthenticationAnswer>;
};

/** The time for a merchant's payment objects, from the injected clock. */
export function merchantNow(dependencies: PaymentsDependencies, merchantId: string): Date {
  return (dependencies.clock ?? systemClock).now(merchantId);
}

export type PaymentRouting = {
  readonly store: { get(merchantId: string): Promise<{ readonly config: RoutingConfig }> };
  readonly tracker: SuccessRateTracker;
  /** False while a connector refuses calls (its circuit breaker is open). */
  readonly isAvailable: (connector: string) => boolean;
  readonly random: () => number;
  readonly declinePolicy?: DeclinePolicy;
};

export function connectorNamed(dependencies: PaymentsDependencies, name: string): Connector {
  const connector = dependencies.connector(name);
  if (connector === undefined) throw new Error(`connector ${name} is not registered`);
  return connector;
}
