// The money-out pipeline's steps in the order money travels (architecture §12). Each step counts
// only work it completed for the first time, so the runner stops calling it once nothing new is
// due: a failing acquirer, PSP or bank makes its step return 0 (it is retried on the next run),
// never a loop.
import type { Clock } from '../clock.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Balances } from '../balances/index.ts';
import type { StatementIngestion } from '../banking/index.ts';
import type { PayoutsService } from '../payouts/payouts.ts';
import type { SettlementReportIngestion } from '../settlement/reports/index.ts';
import type { SettlementService } from '../settlement/service.ts';
import type { MoneyOutStep } from './runner.ts';

export type MoneyOutParts = {
  readonly clock: Clock;
  readonly settlement: SettlementService;
  readonly reports: SettlementReportIngestion;
  readonly statements: StatementIngestion;
  readonly balances: Balances;
  readonly payouts: PayoutsService;
  readonly metrics: Metrics;
};

/** Which part of the pipeline: settlement and balances (`payrail settle`), payouts, or all. */
export type PipelinePart = 'settle' | 'payouts' | 'all';

function settleSteps(parts: MoneyOutParts): MoneyOutStep[] {
  return [
    ...parts.settlement.steps(),
    {
      name: 'psp_reports',
      unit: 'batches',
      run: async () => (await parts.reports.ingestDue()).ingested,
    },
    {
      name: 'bank_statements',
      unit: 'entries',
      run: async () => {
        const result = await parts.statements.ingestThrough();
        parts.metrics.recordPayoutOutcomes({
          in_transit: 0,
          failed: 0,
          paid: result.payoutsPaid,
          returned: result.payoutsReturned,
        });
        return result.settlementCredits + result.payoutsPaid + result.payoutsReturned;
      },
    },
    {
      name: 'availability',
      unit: 'items',
      run: async () => (await parts.balances.availability.makeDue(parts.clock.reading())).items,
    },
    {
      name: 'reserve_releases',
      unit: 'holds',
      run: async () => (await parts.balances.reserves.releaseDue(parts.clock.reading())).released,
    },
  ];
}

function payoutSteps(parts: MoneyOutParts): MoneyOutStep[] {
  return [
    {
      name: 'payouts_create',
      unit: 'payouts',
      run: async () => (await parts.payouts.createDue(parts.clock.reading())).created.length,
    },
    {
      name: 'payouts_send',
      unit: 'payouts',
      run: async () => {
        // A payout whose answer is unknown stays pending and is sent again on the next run.
        const sent = await parts.payouts.sendPending({ limit: 500 });
        parts.metrics.recordPayoutOutcomes({
          in_transit: sent.inTransit,
          failed: sent.failed,
          paid: 0,
          returned: 0,
        });
        return sent.inTransit + sent.failed;
      },
    },
  ];
}

export function moneyOutSteps(parts: MoneyOutParts, part: PipelinePart = 'all'): MoneyOutStep[] {
  if (part === 'settle') return settleSteps(parts);
  if (part === 'payouts') return payoutSteps(parts);
  return [...settleSteps(parts), ...payoutSteps(parts)];
}
