// Why a reconciliation exception was raised (architecture §13): part of the public API (the
// exception object, the list filter), so the list lives with the API objects.
export const exceptionReasons = [
  'missing',
  'unexpected',
  'amount_mismatch',
  'currency_mismatch',
  'duplicate',
  'fee_variance',
  'late',
  'returned',
  'balance_drift',
] as const;

export type ExceptionReason = (typeof exceptionReasons)[number];
