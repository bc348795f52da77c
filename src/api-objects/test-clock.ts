// A test clock (test mode only): the system's time or one merchant's, as the operator routes of
// src/http/routes/test-clocks.ts show it.
import { Type, type Static } from 'typebox';
import type { ClockScopeView, ClockView } from '../testmode/clock-service.ts';

export const TestClockSchema = Type.Object({
  object: Type.Literal('test_clock'),
  /** null: the system's clock, which every merchant without its own follows. */
  merchant: Type.Union([Type.String(), Type.Null()]),
  /** The clock's time, Unix seconds. */
  now: Type.Integer(),
  now_iso: Type.String(),
  /** How far the clock runs ahead of real time, in milliseconds. */
  offset_ms: Type.Integer(),
});

export const TestClocksSchema = Type.Object({
  object: Type.Literal('test_clocks'),
  system: TestClockSchema,
  merchants: Type.Array(TestClockSchema),
});

export function presentClock(view: ClockScopeView): Static<typeof TestClockSchema> {
  return {
    object: 'test_clock' as const,
    merchant: view.merchantId ?? null,
    now: Math.floor(view.now.getTime() / 1000),
    now_iso: view.now.toISOString(),
    offset_ms: view.offsetMs,
  };
}

export function presentClocks(view: ClockView): Static<typeof TestClocksSchema> {
  return {
    object: 'test_clocks' as const,
    system: presentClock(view.system),
    merchants: view.merchants.map(presentClock),
  };
}
