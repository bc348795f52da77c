// Abandoned attempts: when an authorization's outcome is unknown and Payrail fails over to the
// next connector, the first attempt is left `abandoned`. Sync (and the status sync worker) later
// learns what the PSP did with it: an authorization is voided, a capture refunded in full, so a
// failover never charges the customer twice. The intent is never touched: it has moved on. The
// recorder (record.ts) decides under the intent's lock which outcomes are orphans' and hands
// them here: also a late answer for an attempt no longer live, or one Payrail had failed.
import type { PaymentOutcome } from '../connectors/types.ts';
import { connectorNamed, merchantNow, type PaymentsDependencies } from './dependencies.ts';
import type { PaymentLedger } from './payment-ledger.ts';
import { orphanCaptureAndRefund } from './postings.ts';
import {
  attemptOutcomeOf,
  attemptsOf,
  findIntent,
  updateAttemptOutcome,
  updateSyncedAttemptOutcome,
  type AttemptOutcome,
} from './repository.ts';
import { isUnresolvedAttempt, moveAttempt } from './state-machine.ts';
import type { Attempt } from './types.ts';

/** What an orphan's outcome changes; the other outcome fields keep their values. */
type OrphanChange = Partial<AttemptOutcome> & {
  readonly status: Attempt['status'];
  readonly synced?: boolean;
};

export class Orphans {
  readonly #dependencies: PaymentsDependencies;
  readonly #ledger: PaymentLedger;

  constructor(dependencies: PaymentsDependencies, ledger: PaymentLedger) {
    this.#dependencies = dependencies;
    this.#ledger = ledger;
  }

  /** Acts on what the PSP says about an abandoned attempt; an undecided answer waits for the next sync. */
  async settle(
    merchantId: string,
    attempt: Attempt,
    outcome: PaymentOutcome,
    neverSeen: boolean,
  ): Promise<void> {
    const pspReference = outcome.pspReference ?? attempt.pspReference;
    switch (outcome.status) {
      case 'authorized':
        return this.#void(merchantId, attempt, pspReference);
      case 'captured':
        return this.#refund(
          merchantId,
          attempt,
          pspReference,
          outcome.amountCaptured ?? attempt.amount,
        );
      case 'failed':
      case 'voided':
        return this.#record(merchantId, attempt, {
          status: outcome.status,
          pspReference,
          pspCode: outcome.pspCode ?? null,
          failureMessage: outcome.message ?? null,
        });
      default:
        if (neverSeen && outcome.pspCode === 'not_found') {
          return this.#record(merchantId, attempt, {
            status: 'failed',
            pspCode: 'not_found',
            failureMessage: 'The PSP never received this authorization.',
          });
        }
        return this.#record(merchantId, attempt, { status: 'unknown', pspReference, synced: true });
    }
  }

  async #void(merchantId: string, attempt: Attempt, pspReference: string | null): Promise<void> {
    const connector = connectorNamed(this.#dependencies, attempt.connector);
    if (!connector.capabilities.void) {
      // This PSP cannot void. With automatic capture it captures the authorization by itself
      // later: the orphan stays unresolved, and a later sync refunds that capture (or records its
      // failure). With manual capture nobody captures it and the PSP releases it by itself.
      if (attempt.captureMethod === 'automatic')
        return this.#record(merchantId, attempt, { status: 'unknown', pspReference, synced: true });
      return this.#record(merchantId, attempt, {
        status: 'voided',
        pspReference,
        pspCode: 'released_by_psp',
        failureMessage: 'abandoned after a failover',
      });
    }
    const outcome = await connector.void(
      {
        pspReference: pspReference ?? '',
        reference: attempt.id,
        amount: attempt.amount,
        currency: attempt.currency,
      },
      {
        credentials: await this.#dependencies.settings.credentials(merchantId, attempt.connector),
        idempotencyKey: `void_${attempt.id}`,
        timeoutMs: this.#dependencies.pspTimeoutMs,
      },
    );
    if (outcome.status !== 'voided') return;
    await this.#record(merchantId, attempt, {
      status: 'voided',
      pspReference,
      pspCode: outcome.pspCode ?? null,
      failureMessage: 'authorized after Payrail had failed over; voided',
    });
  }

  async #refund(
    merchantId: string,
    attempt: Attempt,
    pspReference: string | null,
    amount: bigint,
  ): Promise<void> {
    const connector = connectorNamed(this.#dependencies, attempt.connector);
    const outcome = await connector.refund(
      {
        pspReference: pspReference ?? '',
        reference: attempt.id,
        refundReference: `orphan_${attempt.id}`,
        amount,
        currency: attempt.currency,
      },
      {
        credentials: await this.#dependencies.settings.credentials(merchantId, attempt.connector),
        idempotencyKey: `orphan_refund_${attempt.id}`,
        timeoutMs: this.#dependencies.pspTimeoutMs,
      },
    );
    if (outcome.status !== 'succeeded') return;
    await this.#record(
      merchantId,
      attempt,
      {
        status: 'refunded',
        pspReference,
        amountAuthorized: attempt.amount,
        amountCaptured: amount,
        pspCode: outcome.pspCode ?? null,
        failureMessage: 'captured after Payrail had failed over; refunded in full',
      },
      amount,
    );
  }

  /** Under the intent's lock (the order every writer uses); only while the attempt is still unresolved. */
  async #record(
    merchantId: string,
    attempt: Attempt,
    change: OrphanChange,
    capturedAndRefunded?: bigint,
  ): Promise<void> {
    await this.#ledger.transaction(async (tx) => {
      await findIntent(tx, merchantId, attempt.paymentIntentId, true);
      const locked = (await attemptsOf(tx, [attempt.paymentIntentId], true)).find(
        (candidate) => candidate.id === attempt.id,
      );
      if (locked === undefined || !locked.abandoned || !isUnresolvedAttempt(locked)) return;
      // Validate the moves the PSP made (unknown → authorized → voided, unknown → captured → refunded).
      const path: Attempt['status'][] =
        change.status === 'refunded'
          ? ['captured', 'refunded']
          : change.status === 'voided'
            ? ['authorized', 'voided']
            : [change.status];
      path.reduce((from, to) => moveAttempt(locked.id, from, to), locked.status);
      const { synced, ...fields } = change;
      const statement = synced === true ? updateSyncedAttemptOutcome : updateAttemptOutcome;
      await statement.run(
        tx,
        locked.id,
        { ...attemptOutcomeOf(locked), ...fields },
        merchantNow(this.#dependencies, merchantId),
      );
      if (capturedAndRefunded !== undefined) {
        const movement = { merchantId, connector: locked.connector, currency: locked.currency };
        await this.#ledger.post(
          tx,
          movement,
          orphanCaptureAndRefund(locked.id, movement, capturedAndRefunded),
        );
      }
    });
  }
}
