// An event a consumer of the bus gave up on, as the operator API and the CLI show it.
import { Type, type Static } from 'typebox';
import type { DeadLetter, ReplayOutcome } from '../events/bus/dead-letters.ts';
import { Nullable, Timestamp, unixSeconds, unixSecondsOrNull } from './json.ts';

export const DeadLetterSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('dead_letter'),
  consumer: Type.String(),
  event: Type.String(),
  event_type: Type.String(),
  attempts: Type.Integer(),
  last_error: Type.String(),
  created: Timestamp,
  replayed: Nullable(Timestamp),
  replay_count: Type.Integer(),
});

export const DeadLetterReplaySchema = Type.Object({
  ...DeadLetterSchema.properties,
  replay_outcome: Type.Union([
    Type.Literal('handled'),
    Type.Literal('duplicate'),
    Type.Literal('failed'),
  ]),
});

export function presentDeadLetter(deadLetter: DeadLetter): Static<typeof DeadLetterSchema> {
  return {
    id: deadLetter.id,
    object: 'dead_letter',
    consumer: deadLetter.consumer,
    event: deadLetter.eventId,
    event_type: deadLetter.eventType,
    attempts: deadLetter.attempts,
    last_error: deadLetter.lastError,
    created: unixSeconds(deadLetter.createdAt),
    replayed: unixSecondsOrNull(deadLetter.replayedAt),
    replay_count: deadLetter.replayCount,
  };
}

export function presentDeadLetterReplay(result: {
  readonly deadLetter: DeadLetter;
  readonly outcome: ReplayOutcome;
}): Static<typeof DeadLetterReplaySchema> {
  return { ...presentDeadLetter(result.deadLetter), replay_outcome: result.outcome };
}
