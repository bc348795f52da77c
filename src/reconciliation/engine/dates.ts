// Calendar days as the outside world writes them (YYYY-MM-DD), in SQL and in TypeScript.

/**
 * The day a PSP settles a batch and the bank books its credit: the business day after the
 * cutoff's UTC date (Saturday and Sunday skipped), as the simulator's reports and bank date them
 * (sim/money-out/common.ts nextBusinessDay). `cutoff` is a timestamptz expression.
 */
export function settlementDaySql(cutoff: string): string {
  const day = `((${cutoff}) AT TIME ZONE 'UTC')::date`;
  return `to_char(${day} + CASE extract(isodow FROM ${day})
                              WHEN 5 THEN 3 WHEN 6 THEN 2 ELSE 1 END, 'YYYY-MM-DD')`;
}

/** A YYYY-MM-DD text expression moved by an integer number of calendar days. */
export function plusDaysSql(day: string, days: string): string {
  return `to_char((${day})::date + (${days})::int, 'YYYY-MM-DD')`;
}

export function isDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}
