// 3-D Secure on the payment path, as Stripe models it: when a rule, the payment itself
// (request_three_d_secure) or the issuer (a soft decline, `authentication_required`) asks for it,
// the intent goes to requires_action and the card holder authenticates at the issuer's ACS
// (next_action.redirect_to_url); the ACS sends the browser back to Payrail, which asks the 3-D
// Secure server for the result (never trusting the browser) and continues the authorization with
// the authentication's data. A failed authentication returns the intent to
// requires_payment_method with `payment_intent_authentication_failure`: retryable, never final.
// Nothing is posted to the ledger before the authorization. Each step follows the three-step
// rule (architecture §1 rule 5): write the intent to act, call out with no transaction open,
// write the answer.
import type { ThreeDSecureData } from '../connectors/types.ts';
import { insertEvents, newEvent, type EventType } from '../events/events.ts';
import { presentIntent } from '../api-objects/payment-intent.ts';
import { newId } from '../ids.ts';
import type { Queryable } from '../storage/database.ts';
import { boolean, defineTable, nullable, text, timestamptz } from '../storage/table.ts';
import {
  merchantNow,
  type AuthenticationAnswer,
  type PaymentAuthentication,
  type PaymentsDependencies,
} from './dependencies.ts';
import { PaymentError } from './errors.ts';
import { attemptsOf, findIntent } from './repository.ts';
import { moveIntent } from './state-machine.ts';
import { paymentIntents } from './tables.ts';
import type { IntentWithAttempts, PaymentIntent } from './types.ts';

export type AuthenticationStatus =
  | 'pending'
  | 'challenge'
  | 'authenticated'
  | 'attempted'
  | 'failed'
  | 'rejected'
  | 'unavailable'
  | 'canceled';

export type AuthenticationReason = 'rule' | 'issuer' | 'requested';

export type Authentication = {
  readonly id: string;
  readonly merchantId: string;
  readonly paymentIntentId: string;
  readonly status: AuthenticationStatus;
  readonly reason: AuthenticationReason;
  readonly ruleId: string | null;
  readonly serverTransactionId: string | null;
  readonly challengeUrl: string | null;
  readonly eci: string | null;
  readonly authenticationValue: string | null;
  readonly dsTransactionId: string | null;
  readonly version: string | null;
  readonly liabilityShift: boolean;
  readonly createdAt: Date;
  readonly completedAt: Date | null;
};

export const authentications = defineTable<Authentication>({
  name: 'three_d_secure_authentications',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    paymentIntentId: text('payment_intent_id'),
    status: text('status'),
    reason: text('reason'),
    ruleId: nullable(text('rule_id')),
    serverTransactionId: nullable(text('server_transaction_id')),
    challengeUrl: nullable(text('challenge_url')),
    eci: nullable(text('eci')),
    authenticationValue: nullable(text('authentication_value')),
    dsTransactionId: nullable(text('ds_transaction_id')),
    version: nullable(text('version')),
    liabilityShift: boolean('liability_shift'),
    createdAt: timestamptz('created_at'),
    completedAt: nullable(timestamptz('completed_at')),
  },
  databaseOnly: [timestamptz('updated_at')],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});

const insertAuthentication = authentications.insert();
const recordAnswer = authentications.update([
  'status',
  'serverTransactionId',
  'challengeUrl',
  'eci',
  'authenticationValue',
  'dsTransactionId',
  'version',
  'liabilityShift',
  'completedAt',
]);
const awaitAction = paymentIntents.update(['status', 'nextAction', 'lastPaymentError']);

/** Whether an authentication lets the authorization go on (with its data, or without any). */
export function letsAuthorizationProceed(status: AuthenticationStatus): boolean {
  return status === 'authenticated' || status === 'attempted' || status === 'unavailable';
}

/** Whether the authorization is sent with the authentication's cryptogram. */
export function carriesAuthenticationData(authentication: Authentication): boolean {
  return (
    (authentication.status === 'authenticated' || authentication.status === 'attempted') &&
    authentication.authenticationValue !== null
  );
}

/** What a PSP takes with the authorization (MPI data), for an authentication that carries it. */
export function authenticationDataOf(authentication: Authentication): ThreeDSecureData | undefined {
  const { status, eci, authenticationValue, dsTransactionId, version } = authentication;
  if (status !== 'authenticated' && status !== 'attempted') return undefined;
  if (eci === null || authenticationValue === null || dsTransactionId === null || version === null)
    return undefined;
  return {
    transactionStatus: status === 'authenticated' ? 'Y' : 'A',
    eci,
    authenticationValue,
    dsTransactionId,
    version,
    authenticationFlow: authentication.challengeUrl === null ? 'frictionless' : 'challenge',
  };
}

export const authenticationFailureMessage =
  'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.';

/** What came of asking the server: go on to authorize, wait for the card holder, or fail. */
export type AuthenticationStep =
  | { readonly kind: 'challenge'; readonly state: IntentWithAttempts }
  | { readonly kind: 'proceed'; readonly authentication: Authentication }
  | { readonly kind: 'failed'; readonly state: IntentWithAttempts };

const returnPath = (id: string) => `/v1/three_d_secure/${id}/return`;

/**
 * The authentications of payment intents. `server` is the merchant's 3-D Secure server; the
 * orchestration (what happens after an authentication) is the payments service's.
 */
export class Authentications {
  readonly #dependencies: PaymentsDependencies;
  readonly #server: PaymentAuthentication;

  constructor(dependencies: PaymentsDependencies, server: PaymentAuthentication) {
    this.#dependencies = dependencies;
    this.#server = server;
  }

  /**
   * Inside the transaction that moves the intent to requires_action: the authentication, written
   * before the server is asked (so a crash leaves a record, never a dangling call).
   */
  async open(
    tx: Queryable,
    intent: PaymentIntent,
    reason: AuthenticationReason,
    ruleId: string | null,
    now: Date,
  ): Promise<Authentication> {
    const authentication: Authentication = {
      ...blankAuthentication(intent.merchantId, intent.id, now),
      reason,
      ruleId,
    };
    await tx.query(insertAuthentication.sql, insertAuthentication.parameters(authentication));
    return authentication;
  }

  /**
   * After the issuer's soft decline: moves the intent (back in requires_payment_method) to
   * requires_action with a new authentication; undefined when the intent moved on meanwhile.
   */
  async requireAction(
    merchantId: string,
    intentId: string,
    reason: AuthenticationReason,
  ): Promise<{ intent: PaymentIntent; authentication: Authentication } | undefined> {
    const now = merchantNow(this.#dependencies, merchantId);
    return this.#dependencies.database.transaction(async (tx) => {
      const intent = await findIntent(tx, merchantId, intentId, true);
      if (intent === undefined || intent.status !== 'requires_payment_method') return undefined;
      const updated = await awaitAction.run(
        tx,
        intentId,
        {
          status: moveIntent(intentId, intent.status, 'request_action'),
          nextAction: null,
          lastPaymentError: null,
        },
        now,
      );
      return { intent: updated, authentication: await this.open(tx, updated, reason, null, now) };
    });
  }

  /**
   * Asks the 3-D Secure server to authenticate the card holder of an opened authentication;
   * `origin` is where the card holder's browser reaches Payrail (the return route).
   */
  async ask(
    authentication: Authentication,
    intent: PaymentIntent,
    origin: string,
  ): Promise<AuthenticationStep> {
    let answer: AuthenticationAnswer | undefined;
    try {
      answer = await this.#server.authenticate(intent.merchantId, {
        reference: authentication.id,
        amount: intent.amount,
        currency: intent.currency,
        card: await this.#dependencies.vault.reveal(
          intent.merchantId,
          intent.paymentMethodId as string,
        ),
        returnUrl: `${origin}${returnPath(authentication.id)}`,
        challengeRequested: intent.requestThreeDSecure === 'challenge',
      });
    } catch (error) {
      this.#dependencies.logger.warn(
        { err: error instanceof Error ? error.message : String(error), intentId: intent.id },
        '3-D Secure server did not answer; the authentication failed',
      );
    }
    return this.#record(authentication, answer);
  }

  /** The card holder came back from the ACS: the result, asked of the server. */
  async complete(id: string): Promise<{
    step: AuthenticationStep | undefined;
    intentId: string;
    merchantId: string;
  }> {
    const authentication = await this.find(this.#dependencies.database, id);
    if (authentication === undefined)
      throw new PaymentError('resource_missing', `No such 3-D Secure authentication: '${id}'`, {
        param: 'id',
      });
    const { paymentIntentId: intentId, merchantId } = authentication;
    // Already answered (a second return, a reload): the caller goes on from the intent as it is,
    // or resumes an authorization a crash interrupted.
    if (authentication.status !== 'challenge' || authentication.serverTransactionId === null) {
      return letsAuthorizationProceed(authentication.status)
        ? { step: { kind: 'proceed', authentication }, intentId, merchantId }
        : { step: undefined, intentId, merchantId };
    }
    let answer: AuthenticationAnswer | undefined;
    try {
      answer = await this.#server.result(
        authentication.merchantId,
        authentication.serverTransactionId,
      );
    } catch (error) {
      this.#dependencies.logger.warn(
        { err: error instanceof Error ? error.message : String(error), intentId },
        '3-D Secure server did not give the result; the card holder may come back again',
      );
      return { step: undefined, intentId, merchantId };
    }
    // A challenge the card holder has not finished is still a challenge: nothing changes.
    if (answer.status === 'challenge') return { step: undefined, intentId, merchantId };
    return { step: await this.#record(authentication, answer), intentId, merchantId };
  }

  /** Whether `id` is the intent's latest authentication (a later confirm replaced any earlier one). */
  async isCurrent(tx: Queryable, intentId: string, id: string): Promise<boolean> {
    const latest = await tx.query<{ id: string }>(
      `SELECT id FROM three_d_secure_authentications WHERE payment_intent_id = $1
        ORDER BY created_at DESC, id DESC LIMIT 1`,
      [intentId],
    );
    return latest.rows[0]?.id === id;
  }

  async find(queryable: Queryable, id: string): Promise<Authentication | undefined> {
    const found = await queryable.query(
      'SELECT * FROM three_d_secure_authentications WHERE id = $1',
      [id],
    );
    const row = found.rows[0];
    return row === undefined ? undefined : authentications.fromRow(row);
  }

  /**
   * Writes the server's answer, if the authentication still waits for one (a concurrent return
   * may have written it): a challenge shows the card holder where to go; a failure (or no answer
   * at all) sends the intent back to requires_payment_method.
   */
  async #record(
    authentication: Authentication,
    answer: AuthenticationAnswer | undefined,
  ): Promise<AuthenticationStep> {
    const { merchantId, paymentIntentId: intentId } = authentication;
    const now = merchantNow(this.#dependencies, merchantId);
    return this.#dependencies.database.transaction(async (tx) => {
      const intent = await findIntent(tx, merchantId, intentId, true);
      if (intent === undefined) throw new Error(`payment intent ${intentId} vanished`);
      const locked = await tx.query(
        'SELECT * FROM three_d_secure_authentications WHERE id = $1 FOR UPDATE',
        [authentication.id],
      );
      const current = authentications.fromRow(locked.rows[0] as Record<string, unknown>);
      // Only the intent's current authentication, while the intent waits for it: an answer to an
      // earlier one (an abandoned challenge finished in an old tab) changes nothing.
      const waiting =
        (current.status === 'pending' || current.status === 'challenge') &&
        intent.status === 'requires_action' &&
        (await this.isCurrent(tx, intentId, current.id));
      if (!waiting) {
        return letsAuthorizationProceed(current.status)
          ? { kind: 'proceed', authentication: current }
          : { kind: 'failed', state: { intent, attempts: await attemptsOf(tx, [intentId]) } };
      }
      const recorded = await recordAnswer.run(tx, current.id, answerFields(answer, now), now);
      if (recorded.status === 'challenge')
        return { kind: 'challenge', state: await this.#showChallenge(tx, intent, recorded, now) };
      if (letsAuthorizationProceed(recorded.status))
        return { kind: 'proceed', authentication: recorded };
      return { kind: 'failed', state: await this.#fail(tx, intent, now) };
    });
  }

  #showChallenge(
    tx: Queryable,
    intent: PaymentIntent,
    authentication: Authentication,
    now: Date,
  ): Promise<IntentWithAttempts> {
    const nextAction = {
      type: 'redirect_to_url' as const,
      redirect_to_url: { url: authentication.challengeUrl as string, return_url: intent.returnUrl },
    };
    return this.#moveIntent(
      tx,
      intent,
      { status: intent.status, nextAction, lastPaymentError: null },
      'payment_intent.requires_action',
      now,
    );
  }

  #fail(tx: Queryable, intent: PaymentIntent, now: Date): Promise<IntentWithAttempts> {
    const status = moveIntent(intent.id, intent.status, 'authentication_failed');
    const lastPaymentError = {
      code: 'payment_intent_authentication_failure',
      message: authenticationFailureMessage,
    };
    return this.#moveIntent(
      tx,
      intent,
      { status, nextAction: null, lastPaymentError },
      'payment_intent.payment_failed',
      now,
    );
  }

  /** Writes the locked intent's status, next action and error, and tells the merchant. */
  async #moveIntent(
    tx: Queryable,
    intent: PaymentIntent,
    change: Parameters<typeof awaitAction.run>[2],
    eventType: EventType,
    now: Date,
  ): Promise<IntentWithAttempts> {
    const updated = await awaitAction.run(tx, intent.id, change, now);
    const state = { intent: updated, attempts: await attemptsOf(tx, [intent.id]) };
    await insertEvents(tx, [newEvent(intent.merchantId, eventType, presentIntent(state))], now);
    return state;
  }
}

/** What a server's answer fills in, before there is one. */
const unanswered = {
  serverTransactionId: null,
  challengeUrl: null,
  eci: null,
  authenticationValue: null,
  dsTransactionId: null,
  version: null,
  liabilityShift: false,
} as const;

function blankAuthentication(merchantId: string, intentId: string, now: Date): Authentication {
  return {
    id: newId('tds', 24),
    merchantId,
    paymentIntentId: intentId,
    status: 'pending',
    reason: 'rule',
    ruleId: null,
    ...unanswered,
    createdAt: now,
    completedAt: null,
  };
}

/** No answer (the server was down or answered nonsense) fails the authentication. */
function answerFields(answer: AuthenticationAnswer | undefined, now: Date) {
  if (answer === undefined) return { status: 'failed' as const, ...unanswered, completedAt: now };
  return {
    status: answer.status,
    serverTransactionId: answer.serverTransactionId,
    challengeUrl: answer.challengeUrl ?? null,
    eci: answer.eci ?? null,
    authenticationValue: answer.authenticationValue ?? null,
    dsTransactionId: answer.dsTransactionId ?? null,
    version: answer.version ?? null,
    liabilityShift: answer.liabilityShift,
    completedAt: answer.status === 'challenge' ? null : now,
  };
}
