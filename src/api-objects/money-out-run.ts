// One run of the money-out pipeline (operator route POST /v1/admin/money_out/run): the units of
// work each step completed, in the order the steps ran (architecture §12).
import { Type, type Static } from 'typebox';

export const MoneyOutRunSchema = Type.Object({
  object: Type.Literal('money_out_run'),
  part: Type.Union([Type.Literal('settle'), Type.Literal('payouts'), Type.Literal('all')]),
  steps: Type.Array(
    Type.Object({
      name: Type.String(),
      completed: Type.Integer({ minimum: 0 }),
    }),
  ),
});

export function presentMoneyOutRun(
  part: 'settle' | 'payouts' | 'all',
  report: Readonly<Record<string, number>>,
): Static<typeof MoneyOutRunSchema> {
  return {
    object: 'money_out_run',
    part,
    steps: Object.entries(report).map(([name, completed]) => ({ name, completed })),
  };
}
