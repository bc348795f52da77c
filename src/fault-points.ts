// The fault points that production code passes (the crash tests kill the process at one of them):
// only the interface lives here, below every module that calls it; the injector that does
// anything is test mode's (src/testmode/faults.ts), and exists only when PAYRAIL_FAULT_POINT
// names a point.

export const faultPoints = [
  'after_psp_authorize',
  'after_psp_capture',
  'after_psp_refund',
  'before_psp_authorize',
  'before_ledger_post',
  // Settlement (src/settlement/submission.ts): each step of closing and submitting a batch.
  'settlement_after_close',
  'settlement_after_mark_submitted',
  'settlement_after_acquirer_answer',
  'settlement_after_ack_recorded',
  // Payout sending (src/payouts): after the attempt is recorded, after the bank's answer, after it is recorded.
  'payout_after_send_recorded',
  'payout_after_bank_call',
  'payout_after_result_recorded',
] as const;
export type FaultPoint = (typeof faultPoints)[number];

export type FaultInjector = {
  /** Called by production code as it passes `point`; returns at once unless a fault is set there. */
  reach(point: FaultPoint): void;
};

/** The injector of every process that has no fault point configured. */
export const noFaults: FaultInjector = { reach() {} };
