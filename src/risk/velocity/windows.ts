// What both velocity stores share: the bounds on what they are given, and how the per-window
// tallies of an entity become the attributes a rule reads. The stores differ only in where the
// entries live (memory, Redis) and where the tallies are computed.
import {
  distinctCardEntities,
  distinctCardsAttribute,
  velocityAttribute,
  velocityEntities,
  velocityWindowMs,
  velocityWindows,
  type AttributeValue,
  type VelocityEntity,
} from '../attributes.ts';
import type { VelocityEntities, VelocityEvent } from '../types.ts';

/** Entries are kept this long (the longest window); anything older is pruned. */
export const velocityRetentionMs = velocityWindowMs.weekly;

/** Keys and dedupe markers outlive the longest window by a day (late events, clock skew). */
export const velocityTimeToLiveMs = velocityRetentionMs + 86_400_000;

/** The default number of entries kept per entity in the week: beyond it the oldest go. */
export const velocityEntriesPerEntityMax = 10_000;

/** Longest attempt id, entity value and card fingerprint accepted (ids and emails fit easily). */
export const velocityIdentifierLengthMax = 512;

/** Largest amount counted, in US dollars: far beyond any one payment, well inside exact cents. */
export const velocityAmountInUsdMax = 1_000_000_000;

/** An entity's tallies over one window (amounts in cents, so sums stay exact). */
export type WindowTally = {
  total: number;
  authorized: number;
  declined: number;
  authorizedCents: number;
  distinctCards: number;
};

/** An entity's tallies for each window, in `velocityWindows` order. */
export type EntityTallies = readonly WindowTally[];

export class VelocityInputError extends Error {
  override readonly name = 'VelocityInputError';
}

// Control characters are refused: no identifier needs one, and they are trouble in key names
// and logs.
const controlCharacter = /[\u0000-\u001f\u007f]/;

function checkIdentifier(value: string, what: string): void {
  if (value.length === 0 || value.length > velocityIdentifierLengthMax)
    throw new VelocityInputError(`${what} must be 1 to ${velocityIdentifierLengthMax} characters`);
  if (controlCharacter.test(value))
    throw new VelocityInputError(`${what} must not contain control characters`);
}

/** The entities given, in catalogue order, each checked against the bounds (record: throws). */
export function givenEntities(entities: VelocityEntities): [VelocityEntity, string][] {
  const given: [VelocityEntity, string][] = [];
  for (const entity of velocityEntities) {
    const value = entities[entity];
    if (value === undefined) continue;
    checkIdentifier(value, entity);
    given.push([entity, value]);
  }
  return given;
}

function isIdentifier(value: string): boolean {
  return (
    value.length > 0 && value.length <= velocityIdentifierLengthMax && !controlCharacter.test(value)
  );
}

/**
 * The entities a read can look up (read never throws): one outside the bounds cannot have been
 * recorded, so it is left out and its attributes are missing, as for an entity not given.
 */
export function readableEntities(entities: VelocityEntities): [VelocityEntity, string][] {
  const given: [VelocityEntity, string][] = [];
  for (const entity of velocityEntities) {
    const value = entities[entity];
    if (value !== undefined && isIdentifier(value)) given.push([entity, value]);
  }
  return given;
}

/** The current card for distinct counts, when it is within the bounds. */
export function readableCard(cardFingerprint: string | undefined): string | undefined {
  return cardFingerprint !== undefined && isIdentifier(cardFingerprint)
    ? cardFingerprint
    : undefined;
}

function checkCardFingerprint(cardFingerprint: string | undefined): void {
  if (cardFingerprint !== undefined) checkIdentifier(cardFingerprint, 'card fingerprint');
}

/** The authorized amount in cents that an event adds (declines add nothing). */
export function authorizedCentsOf(event: VelocityEvent): number {
  if (event.result !== 'authorized' || event.amountInUsd === undefined) return 0;
  return Math.round(event.amountInUsd * 100);
}

/** Refuses an event outside the bounds (a bug upstream: the consumer's retry will not fix it). */
export function checkVelocityEvent(event: VelocityEvent): void {
  checkIdentifier(event.attemptId, 'attempt id');
  checkCardFingerprint(event.cardFingerprint);
  if (!Number.isFinite(event.at.getTime()))
    throw new VelocityInputError('event time is not a time');
  if (event.result !== 'authorized' && event.result !== 'declined')
    throw new VelocityInputError(`unknown result ${String(event.result)}`);
  const amount = event.amountInUsd;
  if (
    amount !== undefined &&
    !(Number.isFinite(amount) && amount >= 0 && amount <= velocityAmountInUsdMax)
  )
    throw new VelocityInputError(`amount in USD must be 0 to ${velocityAmountInUsdMax}`);
  givenEntities(event.entities);
}

/** The window lengths in `velocityWindows` order. */
export const windowLengthsMs: readonly number[] = velocityWindows.map(
  (window) => velocityWindowMs[window],
);

/** Whether an entry at `atMs` lies in the window of `lengthMs` ending at `nowMs` (both ends: (now - length, now]). */
export function inWindow(atMs: number, nowMs: number, lengthMs: number): boolean {
  return atMs > nowMs - lengthMs && atMs <= nowMs;
}

const distinctCardEntitySet: ReadonlySet<VelocityEntity> = new Set(distinctCardEntities);

/** Writes an entity's attributes into `values`: every measure of every window, 0 included. */
export function writeEntityAttributes(
  values: Record<string, AttributeValue>,
  entity: VelocityEntity,
  tallies: EntityTallies,
): void {
  velocityWindows.forEach((window, index) => {
    const tally = tallies[index];
    if (tally === undefined) return;
    values[velocityAttribute('total_charges', entity, window)] = tally.total;
    values[velocityAttribute('authorized_charges', entity, window)] = tally.authorized;
    values[velocityAttribute('declined_charges', entity, window)] = tally.declined;
    values[velocityAttribute('total_amount_in_usd', entity, window)] = tally.authorizedCents / 100;
    if (distinctCardEntitySet.has(entity))
      values[distinctCardsAttribute(entity as 'ip_address' | 'email', window)] =
        tally.distinctCards;
  });
}

/** An empty tally per window. */
export function emptyTallies(): WindowTally[] {
  return windowLengthsMs.map(() => ({
    total: 0,
    authorized: 0,
    declined: 0,
    authorizedCents: 0,
    distinctCards: 0,
  }));
}
