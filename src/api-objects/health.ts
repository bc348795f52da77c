// The probes' answers: liveness, and readiness (the database reachable, every migration applied).
import { Type, type Static } from 'typebox';
import type { Readiness } from '../storage/readiness.ts';

export const HealthSchema = Type.Object({ status: Type.Literal('ok') });

export const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  database: Type.Optional(Type.String({ description: 'pglite or postgres, when ready.' })),
  reason: Type.Optional(Type.String({ description: 'Why not ready.' })),
});

export function presentHealth(): Static<typeof HealthSchema> {
  return { status: 'ok' };
}

export function presentReadiness(readiness: Readiness): Static<typeof ReadinessSchema> {
  return readiness.ready
    ? { status: 'ready', database: readiness.database }
    : { status: 'unavailable', reason: readiness.reason };
}
