// Every status change of a payment intent or an attempt goes through these tables (architecture §5).
// Intents move by actions (confirm, capture, cancel, the outcome of a PSP call …): one table
// says, per action, from which statuses it may start and where it leads. The guards elsewhere
// derive from it: which intents confirm may start an authorization from, which ones still wait
// for an authorization's outcome (and the SQL condition the fast record path checks), which
// attempts are unresolved. Attempts move by PSP outcomes only.
import { PaymentError } from './errors.ts';
import type { AttemptStatus, IntentStatus, PendingOperation } from './types.ts';

export type { AttemptStatus, IntentStatus, PendingOperation } from './types.ts';

export const intentStatuses: readonly IntentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
];

export const attemptStatuses: readonly AttemptStatus[] = [
  'pending',
  'authorized',
  'captured',
  'voided',
  'failed',
  'unknown',
  'refunded',
];

type Transition = {
  /** The verb of the API's refusal: "You cannot <verb> this PaymentIntent …". */
  readonly verb: string;
  readonly moves: Readonly<Partial<Record<IntentStatus, IntentStatus>>>;
};

const waiting = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;
const fromEach = (statuses: readonly IntentStatus[], to: IntentStatus) =>
  Object.fromEntries(statuses.map((status) => [status, to]));

/** The intent's transitions: action → (status before → status after). */
const intentTransitions = {
  // Starts an authorization (a new attempt). A processing intent resumes its open attempt instead.
  confirm: { verb: 'confirm', moves: fromEach(waiting, 'processing') },
  // The card holder must authenticate (3-D Secure) before the authorization is sent: asked by a
  // rule or by the payment itself before any attempt, or by the issuer's soft decline after one.
  request_action: { verb: 'authenticate', moves: fromEach(waiting, 'requires_action') },
  // The authentication failed: another payment method (or another try) is needed. Never final.
  authentication_failed: {
    verb: 'authenticate',
    moves: { requires_action: 'requires_payment_method' },
  },
  // Nothing reached a PSP (every connector refused the call): the intent can be confirmed again.
  release: { verb: 'release', moves: { processing: 'requires_confirmation' } },
  fail_over: { verb: 'fail over', moves: { processing: 'processing' } },
  // The outcome of the live authorization.
  record_authorized: { verb: 'authorize', moves: { processing: 'requires_capture' } },
  record_captured: { verb: 'capture', moves: { processing: 'succeeded' } },
  record_failed: { verb: 'fail', moves: { processing: 'requires_payment_method' } },
  record_unknown: { verb: 'sync', moves: { processing: 'processing' } },
  // A capture goes in flight (pending_operation); its outcome moves the intent.
  capture: { verb: 'capture', moves: { requires_capture: 'requires_capture' } },
  capture_succeeded: {
    verb: 'capture',
    moves: { requires_capture: 'succeeded', processing: 'succeeded' },
  },
  capture_failed: {
    verb: 'capture',
    moves: { requires_capture: 'requires_capture', processing: 'requires_capture' },
  },
  capture_unknown: {
    verb: 'capture',
    moves: { requires_capture: 'processing', processing: 'processing' },
  },
  // Before an authorization the intent is canceled at once; an authorization is voided first.
  cancel: {
    verb: 'cancel',
    moves: { ...fromEach(waiting, 'canceled'), requires_capture: 'requires_capture' },
  },
  void_succeeded: {
    verb: 'cancel',
    moves: { requires_capture: 'canceled', processing: 'canceled' },
  },
  void_failed: {
    verb: 'cancel',
    moves: { requires_capture: 'requires_capture', processing: 'requires_capture' },
  },
  void_unknown: {
    verb: 'cancel',
    moves: { requires_capture: 'processing', processing: 'processing' },
  },
  // A refund leaves the intent succeeded (its amounts change).
  refund: { verb: 'refund', moves: { succeeded: 'succeeded' } },
  // An update (POST /v1/payment_intents/:id) of what is charged (amount, currency, capture
  // method) before any confirmation; one that gives a payment method makes it confirmable.
  update_payment: {
    verb: 'update',
    moves: {
      requires_payment_method: 'requires_payment_method',
      requires_confirmation: 'requires_confirmation',
    },
  },
  attach_payment_method: {
    verb: 'update',
    moves: fromEach(['requires_payment_method', 'requires_confirmation'], 'requires_confirmation'),
  },
  // Metadata and description describe the payment and may change in every status (Stripe's).
  describe: { verb: 'update', moves: Object.fromEntries(intentStatuses.map((s) => [s, s])) },
} as const satisfies Record<string, Transition>;

export type IntentAction = keyof typeof intentTransitions;

const intentActions = Object.keys(intentTransitions) as IntentAction[];

function movesOf(action: IntentAction): Transition['moves'] {
  return intentTransitions[action].moves;
}

/** The status after `action`, or undefined when the action cannot start from `from`. */
export function nextIntentStatus(
  from: IntentStatus,
  action: IntentAction,
): IntentStatus | undefined {
  return movesOf(action)[from];
}

/** Throws the typed error the API answers with when a payment intent cannot take this action. */
export function moveIntent(id: string, from: IntentStatus, action: IntentAction): IntentStatus {
  const to = nextIntentStatus(from, action);
  if (to === undefined) {
    throw new PaymentError(
      'payment_intent_unexpected_state',
      `You cannot ${intentTransitions[action].verb} this PaymentIntent because it has a status of ${from}.`,
      { paymentIntentId: id },
    );
  }
  return to;
}

/** Whether some action moves an intent from `from` to `to`. */
export function canMoveIntent(from: IntentStatus, to: IntentStatus): boolean {
  return intentActions.some((action) => movesOf(action)[from] === to);
}

/** No action leads away from a final status (a refund of a succeeded payment keeps it succeeded). */
export function isFinalIntent(status: IntentStatus): boolean {
  return intentActions.every((action) => {
    const to = movesOf(action)[status];
    return to === undefined || to === status;
  });
}

/** The statuses an action may start from. */
export function intentStatusesFor(action: IntentAction): IntentStatus[] {
  return intentStatuses.filter((status) => movesOf(action)[status] !== undefined);
}

/** The actions that record an authorization's outcome, by the outcome. */
export const outcomeActions = {
  authorized: 'record_authorized',
  captured: 'record_captured',
  failed: 'record_failed',
  unknown: 'record_unknown',
} as const satisfies Record<string, IntentAction>;

/** The statuses from which every outcome of an authorization can be recorded. */
const awaitingStatuses = intentStatuses.filter((status) =>
  Object.values(outcomeActions).every((action) => nextIntentStatus(status, action) !== undefined),
);

/**
 * Whether the intent waits for an authorization's outcome: in a status every outcome can be
 * recorded from, with no capture or cancel in flight.
 */
export function awaitsAuthorization(intent: {
  readonly status: IntentStatus;
  readonly pendingOperation: PendingOperation | null;
}): boolean {
  return awaitingStatuses.includes(intent.status) && intent.pendingOperation === null;
}

function sqlList(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(', ');
}

/** `awaitsAuthorization` as an SQL condition on the payment_intents row named `alias`. */
export function awaitsAuthorizationSql(alias: string): string {
  return `${alias}.status IN (${sqlList(awaitingStatuses)}) AND ${alias}.pending_operation IS NULL`;
}

const attemptTransitions: Readonly<Record<AttemptStatus, readonly AttemptStatus[]>> = {
  pending: ['authorized', 'captured', 'failed', 'unknown'],
  unknown: ['unknown', 'authorized', 'captured', 'failed'],
  authorized: ['captured', 'voided'],
  // Refunded in full: only an abandoned attempt that turned out captured after a failover.
  captured: ['refunded'],
  voided: [],
  // Reopened as an abandoned orphan (to be voided or refunded) when the PSP reports it charged after all.
  failed: ['unknown'],
  refunded: [],
};

export function moveAttempt(id: string, from: AttemptStatus, to: AttemptStatus): AttemptStatus {
  if (!attemptTransitions[from].includes(to)) {
    // Attempts only move by PSP outcomes recorded under a row lock: this is a bug, not input.
    throw new Error(`illegal attempt transition ${from} → ${to} for ${id}`);
  }
  return to;
}

/** Attempts whose authorization's outcome is not known yet: every outcome can still be recorded. */
export const unresolvedAttemptStatuses: readonly AttemptStatus[] = attemptStatuses.filter(
  (status) =>
    (['authorized', 'captured', 'failed', 'unknown'] as const).every((to) =>
      attemptTransitions[status].includes(to),
    ),
);

export function isUnresolvedAttempt(attempt: { readonly status: AttemptStatus }): boolean {
  return unresolvedAttemptStatuses.includes(attempt.status);
}

/** `isUnresolvedAttempt` as an SQL condition on the payment_attempts row named `alias`. */
export function unresolvedAttemptSql(alias: string): string {
  return `${alias}.status IN (${sqlList(unresolvedAttemptStatuses)})`;
}

/** The stored form of a pending operation: 'capture:<amount>' or 'cancel' (migration 004). */
export function formatPendingOperation(operation: PendingOperation): string {
  return operation.kind === 'capture' ? `capture:${operation.amount}` : 'cancel';
}

export function parsePendingOperation(stored: string): PendingOperation {
  if (stored === 'cancel') return { kind: 'cancel' };
  const amount = /^capture:([1-9][0-9]*)$/.exec(stored)?.[1];
  if (amount === undefined) throw new Error(`unreadable pending operation '${stored}'`);
  return { kind: 'capture', amount: BigInt(amount) };
}

/** For messages: "a capture of 500", "a cancel". */
export function describePendingOperation(operation: PendingOperation): string {
  return operation.kind === 'capture' ? `a capture of ${operation.amount}` : 'a cancel';
}
