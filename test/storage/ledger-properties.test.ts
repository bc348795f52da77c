// Property-based ledger tests, run on embedded PGlite and on the real PostgreSQL. fast-check draws
// random sequences of posted transfers, holds (some expiring on a simulated clock), full and
// partial posts, voids, explicit and swept expiries, replays, conflicting replays, invalid
// requests and batches mixing them. Each step runs against the ledger AND against a plain
// in-memory model; after every step the test checks that every currency nets to zero, that no
// limited account breaks its limit, that the ledger's totals, entry counts and holds equal the
// model's, and that a step which created nothing left the database exactly as it was. Every run
// ends with `verifyLedger`.
//
// FC_SEED=<n> reproduces a run (fast-check prints the seed and path on failure); FC_RUNS=<n>
// changes the number of runs per database.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Ledger, LedgerError, verifyLedger } from '../../src/ledger/index.ts';
import type {
  AccountType,
  Leg,
  LimitRule,
  Totals,
  TransferRequest,
  TransferResult,
} from '../../src/ledger/index.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { move } from '../support/ledger-fixtures.ts';

// ---------------------------------------------------------------------------------------------
// What fast-check generates: plain data, interpreted against the run's state when executed.

type LegsSpec = { currency: number; from: number; to: number; amount: number };
type SimpleSpec =
  | { op: 'posted'; legs: LegsSpec; fx: LegsSpec | null }
  | { op: 'pending'; legs: LegsSpec; expiresIn: number | null; fee: number | null }
  | {
      op: 'post';
      hold: number;
      amount: 'full' | 'partial' | 'over' | 'legs' | 'legs_over';
      fraction: number;
    }
  | { op: 'void'; hold: number }
  | { op: 'expire'; hold: number }
  | { op: 'replay'; ref: number }
  | { op: 'conflict'; ref: number }
  | {
      op: 'bad';
      flavor: 'zero' | 'unbalanced' | 'unknown_account' | 'currency_mismatch';
      legs: LegsSpec;
    };
type BatchItemSpec = SimpleSpec | { op: 'dup'; ref: number; change: boolean };
type StepSpec =
  | SimpleSpec
  | { op: 'tick'; minutes: number; sweep: boolean }
  | { op: 'batch'; items: BatchItemSpec[] };

const legsArbitrary: fc.Arbitrary<LegsSpec> = fc.record({
  currency: fc.nat(1),
  from: fc.nat(7),
  to: fc.nat(7),
  amount: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 3_000 })),
});

const simpleArbitrary: fc.Arbitrary<SimpleSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('posted' as const),
      legs: legsArbitrary,
      fx: fc.option(legsArbitrary, { freq: 6 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('pending' as const),
      legs: legsArbitrary,
      expiresIn: fc.option(fc.integer({ min: 1, max: 6 }), { freq: 2 }),
      fee: fc.option(fc.integer({ min: 1, max: 200 }), { freq: 4 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('post' as const),
      hold: fc.nat(40),
      amount: fc.constantFrom(
        'full' as const,
        'partial' as const,
        'over' as const,
        'legs' as const,
        'legs_over' as const,
      ),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('void' as const), hold: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), hold: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replay' as const), ref: fc.nat(1_000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('conflict' as const), ref: fc.nat(1_000) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('bad' as const),
      flavor: fc.constantFrom(
        'zero' as const,
        'unbalanced' as const,
        'unknown_account' as const,
        'currency_mismatch' as const,
      ),
      legs: legsArbitrary,
    }),
  },
);

const batchItemArbitrary: fc.Arbitrary<BatchItemSpec> = fc.oneof(
  { weight: 5, arbitrary: simpleArbitrary },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('dup' as const),
      ref: fc.nat(10),
      change: fc.boolean(),
    }),
  },
);

const stepArbitrary: fc.Arbitrary<StepSpec> = fc.oneof(
  { weight: 8, arbitrary: simpleArbitrary },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('tick' as const),
      minutes: fc.integer({ min: 0, max: 3 }),
      sweep: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('batch' as const),
      items: fc.array(batchItemArbitrary, { minLength: 1, maxLength: 6 }),
    }),
  },
);

// ---------------------------------------------------------------------------------------------
// The model.

type Shape = { key: string; type: AccountType; currency: string; limit: LimitRule };

const currencies = ['usd', 'jpy'] as const;
const shapes: readonly Shape[] = [
  { key: 'usd:bank', type: 'asset', currency: 'usd', limit: 'none' },
  { key: 'usd:m1', type: 'liability', currency: 'usd', limit: 'debits_must_not_exceed_credits' },
  { key: 'usd:m2', type: 'liability', currency: 'usd', limit: 'debits_must_not_exceed_credits' },
  { key: 'usd:fees', type: 'revenue', currency: 'usd', limit: 'none' },
  { key: 'usd:reserve', type: 'asset', currency: 'usd', limit: 'credits_must_not_exceed_debits' },
  { key: 'jpy:bank', type: 'asset', currency: 'jpy', limit: 'none' },
  { key: 'jpy:m1', type: 'liability', currency: 'jpy', limit: 'debits_must_not_exceed_credits' },
  { key: 'jpy:m2', type: 'liability', currency: 'jpy', limit: 'none' },
];

type ModelAccount = {
  id: string;
  currency: string;
  limit: LimitRule;
  totals: Totals;
  entryCount: bigint;
};
type ModelHold = {
  legs: readonly Leg[];
  expiresAt: number | null;
  status: 'pending' | 'posted' | 'voided' | 'expired';
  resolvedBy: string | null;
};
type StoredTransfer = {
  key: string;
  request: TransferRequest;
  legs: readonly Leg[];
  createdAt?: Date;
};
type Outcome =
  | { status: 'created'; legs: readonly Leg[] }
  | { status: 'exists'; id: string }
  | { status: 'rejected'; code: string };
type Movement = {
  accountId: string;
  currency: string;
  layer: 'posted' | 'pending';
  direction: 'debit' | 'credit';
  amount: bigint;
};

function zero(): Totals {
  return { postedDebits: 0n, postedCredits: 0n, pendingDebits: 0n, pendingCredits: 0n };
}

/** The limit rule, written out independently of src/ledger/balances.ts. */
function keepsLimit(limit: LimitRule, totals: Totals): boolean {
  switch (limit) {
    case 'none':
      return true;
    case 'debits_must_not_exceed_credits':
      return totals.postedDebits + totals.pendingDebits <= totals.postedCredits;
    case 'credits_must_not_exceed_debits':
      return totals.postedCredits + totals.pendingCredits <= totals.postedDebits;
  }
}

/** Everything a replay is compared on; independent of src/ledger/canonical.ts. */
function contentKey(request: TransferRequest): string {
  return stringify({
    kind: request.kind,
    legs:
      'legs' in request && request.legs !== undefined
        ? request.legs.map((leg) => [leg.accountId, leg.direction, leg.amount, leg.currency])
        : null,
    pendingId: 'pendingId' in request ? request.pendingId : null,
    amount: request.kind === 'post_pending' ? (request.amount ?? null) : null,
    expiresAt: request.kind === 'pending' ? (request.expiresAt?.toISOString() ?? null) : null,
    description: request.description ?? null,
  });
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_, inner) => (typeof inner === 'bigint' ? `${inner}n` : inner));
}

function staticProblem(request: TransferRequest): string | undefined {
  if (request.kind === 'post_pending' && request.amount !== undefined && request.amount <= 0n)
    return 'invalid_amount';
  if (!('legs' in request) || request.legs === undefined) return undefined;
  if (request.legs.some((leg) => leg.amount <= 0n)) return 'invalid_amount';
  const net = new Map<string, bigint>();
  for (const leg of request.legs)
    net.set(
      leg.currency,
      (net.get(leg.currency) ?? 0n) + (leg.direction === 'debit' ? leg.amount : -leg.amount),
    );
  return [...net.values()].some((value) => value !== 0n) ? 'unbalanced' : undefined;
}

/** A changed copy of a request: same id, different content. */
function conflicting(request: TransferRequest): TransferRequest {
  if ('legs' in request && request.legs !== undefined) {
    return {
      ...request,
      legs: request.legs.map((leg) => ({ ...leg, amount: leg.amount * 2n })),
    } as TransferRequest;
  }
  if (request.kind === 'post_pending') return { ...request, amount: (request.amount ?? 0n) + 1n };
  return { ...request, description: `${request.description ?? ''}x` };
}

class Model {
  readonly accounts = new Map<string, ModelAccount>();
  readonly holds = new Map<string, ModelHold>();
  readonly stored = new Map<string, StoredTransfer>();

  /**
   * Predicts a batch: ids are classified against the transfers stored before the batch (a repeat
   * of an id earlier in the same batch is compared with that first occurrence and shares its
   * result), then the new requests apply one at a time, each seeing the ones before it.
   */
  process(requests: readonly TransferRequest[], now: number): Outcome[] {
    const storedBefore = new Map(this.stored);
    const firstIndex = new Map<string, number>();
    const slots = requests.map(
      (request, index): Outcome | { status: 'new' } | { status: 'same_as'; index: number } => {
        const problem = staticProblem(request);
        if (problem !== undefined) return { status: 'rejected', code: problem };
        const stored = storedBefore.get(request.id);
        const earlier = firstIndex.get(request.id);
        const compareTo =
          stored?.key ??
          (earlier === undefined ? undefined : contentKey(requests[earlier] as TransferRequest));
        if (compareTo !== undefined) {
          if (compareTo !== contentKey(request)) return { status: 'rejected', code: 'id_conflict' };
          return stored !== undefined
            ? { status: 'exists', id: request.id }
            : { status: 'same_as', index: earlier as number };
        }
        firstIndex.set(request.id, index);
        return { status: 'new' };
      },
    );
    const outcomes: Outcome[] = [];
    for (const [index, slot] of slots.entries()) {
      if (slot.status === 'new')
        outcomes.push(this.#apply(requests[index] as TransferRequest, now));
      else if (slot.status === 'same_as') {
        const first = outcomes[slot.index] as Outcome;
        outcomes.push(
          first.status === 'rejected'
            ? first
            : { status: 'exists', id: requests[index]?.id as string },
        );
      } else outcomes.push(slot);
    }
    return outcomes;
  }

  #apply(request: TransferRequest, now: number): Outcome {
    let legs: readonly Leg[];
    let movements: Movement[];
    if (request.kind === 'posted' || request.kind === 'pending') {
      legs = request.legs;
      movements = legs.map((leg) => ({ ...leg, layer: request.kind }));
    } else {
      const hold = this.holds.get(request.pendingId);
      if (hold === undefined) return { status: 'rejected', code: 'pending_not_found' };
      if (hold.status !== 'pending')
        return { status: 'rejected', code: 'pending_already_resolved' };
      const expired = hold.expiresAt !== null && hold.expiresAt <= now;
      if (request.kind === 'expire_pending' && !expired)
        return { status: 'rejected', code: 'hold_not_expired' };
      if (request.kind !== 'expire_pending' && expired)
        return { status: 'rejected', code: 'hold_expired' };
      movements = hold.legs.map((leg) => ({ ...leg, layer: 'pending', amount: -leg.amount }));
      legs = [];
      if (request.kind === 'post_pending') {
        if (request.legs !== undefined) {
          // Each posted leg must fit a distinct held leg of the same account, direction and currency.
          const unmatched = [...hold.legs];
          for (const leg of request.legs) {
            const match = unmatched.findIndex(
              (held) =>
                held.accountId === leg.accountId &&
                held.direction === leg.direction &&
                held.currency === leg.currency &&
                held.amount >= leg.amount,
            );
            if (match < 0) return { status: 'rejected', code: 'post_exceeds_pending' };
            unmatched.splice(match, 1);
          }
          legs = request.legs;
        } else if (request.amount === undefined) legs = hold.legs;
        else {
          if (hold.legs.some((leg) => leg.amount !== hold.legs[0]?.amount))
            return { status: 'rejected', code: 'invalid_request' };
          if (request.amount > (hold.legs[0]?.amount ?? 0n))
            return { status: 'rejected', code: 'post_exceeds_pending' };
          legs = hold.legs.map((leg) => ({ ...leg, amount: request.amount ?? leg.amount }));
        }
        movements.push(...legs.map((leg) => ({ ...leg, layer: 'posted' as const })));
      }
    }
    const scratch = new Map<string, Totals>();
    for (const movement of movements) {
      const account = this.accounts.get(movement.accountId);
      if (account === undefined) return { status: 'rejected', code: 'account_not_found' };
      if (account.currency !== movement.currency)
        return { status: 'rejected', code: 'currency_mismatch' };
      const totals = scratch.get(account.id) ?? { ...account.totals };
      addMovement(totals, movement);
      scratch.set(account.id, totals);
    }
    for (const [id, totals] of scratch) {
      if (!keepsLimit(this.accounts.get(id)?.limit ?? 'none', totals))
        return { status: 'rejected', code: 'limit_exceeded' };
    }
    for (const movement of movements) {
      const account = this.accounts.get(movement.accountId) as ModelAccount;
      addMovement(account.totals, movement);
      account.entryCount += 1n;
    }
    if (request.kind === 'pending') {
      this.holds.set(request.id, {
        legs: request.legs,
        expiresAt: request.expiresAt?.getTime() ?? null,
        status: 'pending',
        resolvedBy: null,
      });
    } else if (request.kind !== 'posted') {
      const hold = this.holds.get(request.pendingId) as ModelHold;
      hold.status =
        request.kind === 'post_pending'
          ? 'posted'
          : request.kind === 'void_pending'
            ? 'voided'
            : 'expired';
      hold.resolvedBy = request.id;
    }
    this.stored.set(request.id, { key: contentKey(request), request, legs });
    return { status: 'created', legs };
  }
}

function addMovement(totals: Totals, movement: Movement): void {
  if (movement.layer === 'posted') {
    if (movement.direction === 'debit') totals.postedDebits += movement.amount;
    else totals.postedCredits += movement.amount;
  } else if (movement.direction === 'debit') totals.pendingDebits += movement.amount;
  else totals.pendingCredits += movement.amount;
}

// ---------------------------------------------------------------------------------------------
// One run: a fresh set of accounts (unique prefix) in a shared database, a model and a clock.

const minute = 60_000;
const day = 24 * 60 * minute;

type Shared = { testDatabase: TestDatabase; ledger: Ledger; clock: { now: number }; runs: number };

class Run {
  readonly #shared: Shared;
  readonly prefix: string;
  readonly model = new Model();
  /** Hold ids in creation order (requested, whether or not they were accepted). */
  readonly #holdIds: string[] = [];
  readonly #heldLegs = new Map<string, readonly Leg[]>();
  /** Ids of every stored transfer, in order: what replays pick from. */
  readonly #storedIds: string[] = [];
  #sequence = 0;

  constructor(shared: Shared) {
    this.#shared = shared;
    this.prefix = `run${shared.runs++}:`;
  }

  get #ledger(): Ledger {
    return this.#shared.ledger;
  }

  get #now(): number {
    return this.#shared.clock.now;
  }

  async start(): Promise<void> {
    // A clean slate for expiry sweeps: whatever an earlier (failed) run left behind expires now.
    this.#shared.clock.now += day;
    await this.#ledger.expireHolds({ now: new Date(this.#now) });
    const specs = shapes.map((shape) => ({
      id: this.prefix + shape.key,
      type: shape.type,
      currency: shape.currency,
      owner: this.prefix,
      limit: shape.limit,
    }));
    await this.#ledger.createAccounts(specs);
    for (const spec of specs) {
      this.model.accounts.set(spec.id, {
        id: spec.id,
        currency: spec.currency,
        limit: spec.limit,
        totals: zero(),
        entryCount: 0n,
      });
    }
    await this.checkInvariants();
    // Opening balances, so that limited accounts have something to lose.
    await this.step({
      op: 'batch',
      items: [
        {
          op: 'posted',
          legs: { currency: 0, from: 0, to: 1, amount: 1_500 },
          fx: { currency: 1, from: 0, to: 1, amount: 1_500 },
        },
        { op: 'posted', legs: { currency: 0, from: 0, to: 2, amount: 1_500 }, fx: null },
        { op: 'posted', legs: { currency: 0, from: 4, to: 3, amount: 1_500 }, fx: null },
      ],
    });
  }

  #id(kind: string): string {
    return `${this.prefix}${kind}-${this.#sequence++}`;
  }

  #legs(spec: LegsSpec): Leg[] {
    const currency = currencies[spec.currency % currencies.length] as string;
    const accounts = shapes.filter((shape) => shape.currency === currency);
    const from = accounts[spec.from % accounts.length] as Shape;
    const to = accounts[spec.to % accounts.length] as Shape;
    return move(this.prefix + from.key, this.prefix + to.key, BigInt(spec.amount), currency);
  }

  /** Mostly a hold that is still pending, sometimes any hold, now and then one that does not exist. */
  #holdId(reference: number, extra: readonly string[]): string {
    const candidates = [...this.#holdIds, ...extra];
    const pending = candidates.filter(
      (id) => extra.includes(id) || this.model.holds.get(id)?.status === 'pending',
    );
    const pool = reference % 10 === 9 ? [] : reference % 3 === 0 ? candidates : pending;
    return pool[reference % Math.max(1, pool.length)] ?? `${this.prefix}no-such-hold-${reference}`;
  }

  /** Builds a request from a spec; undefined when the spec has nothing to refer to. */
  #build(spec: SimpleSpec, extraHolds: readonly string[]): TransferRequest | undefined {
    switch (spec.op) {
      case 'posted': {
        const legs = this.#legs(spec.legs);
        if (spec.fx !== null)
          legs.push(...this.#legs({ ...spec.fx, currency: spec.legs.currency + 1 }));
        return { kind: 'posted', id: this.#id('pay'), legs };
      }
      case 'pending': {
        const id = this.#id('hold');
        const legs = this.#legs(spec.legs);
        const credit = legs[1] as Leg;
        if (spec.fee !== null && BigInt(spec.fee) < credit.amount) {
          // A three-leg hold whose legs carry different amounts: part of it goes to a fee account.
          const fees =
            shapes.find(
              (shape) => shape.currency === credit.currency && shape.key.endsWith(':fees'),
            ) ?? shapes.find((shape) => shape.key === `${credit.currency}:m2`);
          legs.splice(
            1,
            1,
            { ...credit, amount: credit.amount - BigInt(spec.fee) },
            { ...credit, accountId: this.prefix + (fees as Shape).key, amount: BigInt(spec.fee) },
          );
        }
        this.#heldLegs.set(id, legs);
        const request: TransferRequest =
          spec.expiresIn === null
            ? { kind: 'pending', id, legs }
            : {
                kind: 'pending',
                id,
                legs,
                expiresAt: new Date(this.#now + spec.expiresIn * minute),
              };
        return request;
      }
      case 'post': {
        const pendingId = this.#holdId(spec.hold, extraHolds);
        const heldLegs =
          this.#heldLegs.get(pendingId) ??
          move(`${this.prefix}usd:bank`, `${this.prefix}usd:m1`, 100n);
        const held = heldLegs[0]?.amount ?? 100n;
        const id = this.#id('post');
        switch (spec.amount) {
          case 'full':
            return { kind: 'post_pending', id, pendingId };
          case 'partial': {
            const partial = BigInt(Math.floor(Number(held) * spec.fraction));
            return { kind: 'post_pending', id, pendingId, amount: partial > 0n ? partial : 1n };
          }
          case 'over':
            return { kind: 'post_pending', id, pendingId, amount: held + 1n };
          case 'legs':
          case 'legs_over': {
            // Explicit legs: every credit scaled down (or one raised past the hold), debits balancing them.
            const credits = heldLegs.map((leg, index) =>
              leg.direction === 'debit'
                ? 0n
                : spec.amount === 'legs_over'
                  ? leg.amount + (index === heldLegs.length - 1 ? 1n : 0n)
                  : BigInt(Math.floor(Number(leg.amount) * spec.fraction)),
            );
            const total = credits.reduce((sum, amount) => sum + amount, 0n);
            return {
              kind: 'post_pending',
              id,
              pendingId,
              legs: heldLegs.map((leg, index) => ({
                ...leg,
                amount: leg.direction === 'debit' ? total : (credits[index] as bigint),
              })),
            };
          }
        }
      }
      case 'void':
        return {
          kind: 'void_pending',
          id: this.#id('void'),
          pendingId: this.#holdId(spec.hold, extraHolds),
        };
      case 'expire':
        return {
          kind: 'expire_pending',
          id: this.#id('expire'),
          pendingId: this.#holdId(spec.hold, extraHolds),
        };
      case 'replay':
      case 'conflict': {
        if (this.#storedIds.length === 0) return undefined;
        const id = this.#storedIds[spec.ref % this.#storedIds.length] as string;
        const original = (this.model.stored.get(id) as StoredTransfer).request;
        return spec.op === 'replay' ? original : conflicting(original);
      }
      case 'bad': {
        const legs = this.#legs(spec.legs);
        const [debit, credit] = legs as [Leg, Leg];
        const id = this.#id('bad');
        switch (spec.flavor) {
          case 'zero':
            return {
              kind: 'posted',
              id,
              legs: [
                { ...debit, amount: 0n },
                { ...credit, amount: 0n },
              ],
            };
          case 'unbalanced':
            return { kind: 'posted', id, legs: [debit, { ...credit, amount: credit.amount + 1n }] };
          case 'unknown_account':
            return {
              kind: 'posted',
              id,
              legs: [debit, { ...credit, accountId: `${this.prefix}${credit.currency}:nobody` }],
            };
          case 'currency_mismatch': {
            const other = shapes.find((shape) => shape.currency !== credit.currency) as Shape;
            return {
              kind: 'posted',
              id,
              legs: [debit, { ...credit, accountId: this.prefix + other.key }],
            };
          }
        }
      }
    }
  }

  async step(spec: StepSpec): Promise<void> {
    const before = await this.snapshot();
    const created =
      spec.op === 'tick'
        ? await this.#tick(spec.minutes, spec.sweep)
        : spec.op === 'batch'
          ? await this.#batch(spec.items)
          : await this.#single(spec);
    // (d) a rejected request and (e) a replay leave every row as it was
    if (!created)
      assert.equal(
        await this.snapshot(),
        before,
        `${stringify(spec)} created nothing but changed the database`,
      );
    await this.checkInvariants();
  }

  async #single(spec: SimpleSpec): Promise<boolean> {
    const request = this.#build(spec, []);
    if (request === undefined) return false;
    this.#noteHold(request);
    const [expected] = this.model.process([request], this.#now) as [Outcome];
    let actual: TransferResult;
    try {
      actual = await this.#ledger.transfer(request, { now: new Date(this.#now) });
    } catch (error) {
      if (!(error instanceof LedgerError)) throw error;
      actual = { status: 'rejected', error };
    }
    await this.#compare([request], [expected], [actual]);
    return expected.status === 'created';
  }

  async #batch(items: readonly BatchItemSpec[]): Promise<boolean> {
    const requests: TransferRequest[] = [];
    const localHolds: string[] = [];
    for (const item of items) {
      let request: TransferRequest | undefined;
      if (item.op === 'dup') {
        const earlier = requests.length === 0 ? undefined : requests[item.ref % requests.length];
        request = earlier === undefined ? undefined : item.change ? conflicting(earlier) : earlier;
      } else request = this.#build(item, localHolds);
      if (request === undefined) continue;
      if (
        request.kind === 'pending' &&
        !localHolds.includes(request.id) &&
        !this.#holdIds.includes(request.id)
      )
        localHolds.push(request.id);
      requests.push(request);
    }
    if (requests.length === 0) return false;
    for (const request of requests) this.#noteHold(request);
    const expected = this.model.process(requests, this.#now);
    const actual = await this.#ledger.transferBatch(requests, { now: new Date(this.#now) });
    await this.#compare(requests, expected, actual);
    return expected.some((outcome) => outcome.status === 'created');
  }

  /** Advances the clock and (unless told not to) sweeps expired holds. */
  async #tick(minutes: number, sweep: boolean): Promise<boolean> {
    this.#shared.clock.now += minutes * minute;
    if (!sweep) return false;
    const due = [...this.model.holds]
      .filter(
        ([, hold]) =>
          hold.status === 'pending' && hold.expiresAt !== null && hold.expiresAt <= this.#now,
      )
      .map(([id]) => id)
      .sort();
    const requests = due.map((id): TransferRequest => ({
      kind: 'expire_pending',
      id: `expire:${id}`,
      pendingId: id,
    }));
    const expected = this.model.process(requests, this.#now);
    const results = await this.#ledger.expireHolds({ now: new Date(this.#now) });
    const byId = new Map(
      results.map((result) => [result.status === 'rejected' ? '' : result.transaction.id, result]),
    );
    assert.deepEqual(
      [...byId.keys()].sort(),
      requests.map((request) => request.id),
      `the sweep at +${minutes}min expired other holds than the due ones`,
    );
    await this.#compare(
      requests,
      expected,
      requests.map((request) => byId.get(request.id) as TransferResult),
    );
    return due.length > 0;
  }

  #noteHold(request: TransferRequest): void {
    if (request.kind === 'pending' && !this.#holdIds.includes(request.id))
      this.#holdIds.push(request.id);
  }

  async #compare(
    requests: readonly TransferRequest[],
    expected: readonly Outcome[],
    actual: readonly TransferResult[],
  ): Promise<void> {
    assert.equal(actual.length, requests.length);
    const rejectedIds: string[] = [];
    for (const [index, request] of requests.entries()) {
      const want = expected[index] as Outcome;
      const got = actual[index] as TransferResult;
      const label = `request ${index} ${stringify(request)}: expected ${stringify(want)}, got ${got.status === 'rejected' ? `rejected ${got.error.code}: ${got.error.message}` : got.status}`;
      assert.equal(got.status, want.status, label);
      if (want.status === 'rejected' && got.status === 'rejected') {
        assert.equal(got.error.code, want.code, label);
        if (!this.model.stored.has(request.id)) rejectedIds.push(request.id);
      } else if (got.status !== 'rejected') {
        const stored = this.model.stored.get(request.id) as StoredTransfer;
        assert.deepEqual(got.transaction.legs, stored.legs, label);
        assert.equal(got.transaction.id, request.id, label);
        if (want.status === 'created') {
          stored.createdAt = got.transaction.createdAt;
          this.#storedIds.push(request.id);
        } else {
          assert.deepEqual(
            got.transaction.createdAt,
            stored.createdAt,
            `${label}: a replay must return the stored transfer`,
          );
        }
      }
    }
    if (rejectedIds.length > 0) {
      const leaked = await this.#shared.testDatabase.database.query(
        'SELECT id FROM ledger_transactions WHERE id = ANY($1::text[])',
        [rejectedIds],
      );
      assert.deepEqual(leaked.rows, [], 'a rejected transfer was stored');
    }
  }

  /** The rows of this run in the four ledger tables, plus counts and sums over the whole database. */
  async snapshot(): Promise<string> {
    const database = this.#shared.testDatabase.database;
    const queries = [
      'SELECT * FROM ledger_accounts WHERE owner = $1 ORDER BY id',
      `SELECT * FROM ledger_transactions WHERE starts_with(id, $1) OR starts_with(id, 'expire:' || $1) ORDER BY id`,
      'SELECT * FROM ledger_entries WHERE starts_with(account_id, $1) ORDER BY account_id, account_sequence',
      'SELECT * FROM ledger_holds WHERE starts_with(transaction_id, $1) ORDER BY transaction_id',
      `SELECT (SELECT count(*) FROM ledger_accounts) AS accounts, (SELECT count(*) FROM ledger_transactions) AS transactions,
              (SELECT count(*) FROM ledger_entries) AS entries, (SELECT count(*) FROM ledger_holds) AS holds,
              (SELECT count(*) FROM ledger_holds WHERE status = 'pending') AS pending_holds,
              (SELECT sum(entry_count)::text FROM ledger_accounts) AS entry_counts,
              (SELECT sum(posted_debits + posted_credits + pending_debits + pending_credits)::text FROM ledger_accounts) AS volume
         WHERE $1::text IS NOT NULL`,
    ];
    const parts: string[] = [];
    for (const sql of queries)
      parts.push(stringify((await database.query(sql, [this.prefix])).rows));
    return parts.join('\n');
  }

  async checkInvariants(): Promise<void> {
    const database = this.#shared.testDatabase.database;
    const { accounts } = await this.#ledger.listAccounts({ owner: this.prefix, limit: 100 });
    assert.equal(accounts.length, this.model.accounts.size);
    const net = new Map<string, { posted: bigint; pending: bigint }>();
    const modelNet = new Map<string, { posted: bigint; pending: bigint }>();
    for (const account of accounts) {
      const modelled = this.model.accounts.get(account.id);
      assert.ok(modelled !== undefined, `unexpected account ${account.id}`);
      // (c) the ledger's totals and entry counts equal the model's
      assert.deepEqual({ ...account.totals }, modelled.totals, `totals of ${account.id}`);
      assert.equal(account.entryCount, modelled.entryCount, `entry count of ${account.id}`);
      // (b) no limited account breaks its limit
      assert.ok(
        keepsLimit(account.limit, account.totals),
        `${account.id} breaks ${account.limit}: ${stringify(account.totals)}`,
      );
      for (const [sums, totals] of [
        [net, account.totals],
        [modelNet, modelled.totals],
      ] as const) {
        const sum = sums.get(account.currency) ?? { posted: 0n, pending: 0n };
        sum.posted += totals.postedDebits - totals.postedCredits;
        sum.pending += totals.pendingDebits - totals.pendingCredits;
        sums.set(account.currency, sum);
      }
    }
    // (a) every currency nets to zero, in this run, in the model and over the whole database
    for (const sums of [net, modelNet]) {
      for (const [currency, sum] of sums)
        assert.deepEqual(sum, { posted: 0n, pending: 0n }, `${currency} does not net to zero`);
    }
    const global = await database.query<{ currency: string; posted: string; pending: string }>(
      `SELECT currency, sum(posted_debits - posted_credits)::text AS posted, sum(pending_debits - pending_credits)::text AS pending
         FROM ledger_accounts GROUP BY currency`,
    );
    for (const row of global.rows)
      assert.deepEqual(
        [row.posted, row.pending],
        ['0', '0'],
        `${row.currency} does not net to zero over the database`,
      );
    // holds and transfers of this run
    const holds = await database.query<{
      transaction_id: string;
      status: string;
      resolved_by: string | null;
      expires_at: Date | null;
    }>(
      'SELECT transaction_id, status, resolved_by, expires_at FROM ledger_holds WHERE starts_with(transaction_id, $1) ORDER BY transaction_id',
      [this.prefix],
    );
    const modelHolds = [...this.model.holds].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(
      holds.rows.map((row) => [
        row.transaction_id,
        row.status,
        row.resolved_by,
        row.expires_at?.getTime() ?? null,
      ]),
      modelHolds.map(([id, hold]) => [id, hold.status, hold.resolvedBy, hold.expiresAt]),
      'holds',
    );
    const count = await database.query<{ count: bigint }>(
      `SELECT count(*)::bigint AS count FROM ledger_transactions WHERE starts_with(id, $1) OR starts_with(id, 'expire:' || $1)`,
      [this.prefix],
    );
    assert.equal(count.rows[0]?.count, BigInt(this.model.stored.size), 'stored transfers');
  }

  async finish(): Promise<void> {
    // Let every hold with an expiry run out, then re-check the whole ledger.
    await this.step({ op: 'tick', minutes: 24 * 60, sweep: true });
    assert.ok(
      [...this.model.holds.values()].every(
        (hold) => hold.status !== 'pending' || hold.expiresAt === null,
      ),
    );
    const report = await verifyLedger(this.#shared.testDatabase.database);
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
  }
}

// ---------------------------------------------------------------------------------------------

const seed =
  process.env.FC_SEED === undefined || process.env.FC_SEED === ''
    ? undefined
    : Number(process.env.FC_SEED);
const runsOverride =
  process.env.FC_RUNS === undefined || process.env.FC_RUNS === ''
    ? undefined
    : Number(process.env.FC_RUNS);
const settings = {
  pglite: { numRuns: 25, maxSteps: 30 },
  postgres: { numRuns: 25, maxSteps: 30 },
} as const;

for (const kind of databaseKinds) {
  describe(`ledger properties on ${kind}`, () => {
    let shared: Shared;
    before(async () => {
      const testDatabase = await openTestDatabase(kind);
      shared = {
        testDatabase,
        ledger: new Ledger(testDatabase.database),
        clock: { now: Date.parse('2031-01-01T00:00:00.000Z') },
        runs: 0,
      };
    });
    after(() => shared.testDatabase.drop());

    test('random operation sequences keep the ledger equal to the model and every invariant intact', async () => {
      const { numRuns, maxSteps } = settings[kind];
      await fc.assert(
        fc.asyncProperty(
          fc.array(stepArbitrary, { minLength: 1, maxLength: maxSteps, size: 'max' }),
          async (steps) => {
            const run = new Run(shared);
            await run.start();
            for (const step of steps) await run.step(step);
            await run.finish();
          },
        ),
        { numRuns: runsOverride ?? numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    });
  });
}
