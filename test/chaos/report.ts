// The summary of a chaos run: a table of the checks (each a number that must be zero, or ok),
// what was done to the system, the first few findings of each kind, and where the logs are.
import type { ChaosResult } from './chaos.ts';

const row = (label: string, value: string | number, verdict = '') =>
  `  ${label.padEnd(42)} ${String(value).padStart(10)}  ${verdict}`;
const zero = (value: number) => (value === 0 ? 'ok' : 'FAILED');

export function formatReport(result: ChaosResult): string {
  const { summary, chaos, load, client, settle, receiver, moneyOut, reconciliation } = result;
  const score = result.reconciliationScore;
  const percent = (ratio: number | undefined) =>
    ratio === undefined ? '-' : `${(ratio * 100).toFixed(1)} %`;
  const lines = [
    '',
    `Payrail chaos run — ${summary.mode}, seed ${summary.seed}, ${summary.clients} clients, ${summary.seconds} s in all: ${summary.chaos === 'ok' ? 'PASSED' : 'FAILED'}`,
    '',
    '  what was done',
    row('payment intents', summary.payments),
    row(
      'flows started',
      Object.values(load.flows).reduce((sum, count) => sum + count, 0),
      Object.entries(load.flows)
        .map(([flow, count]) => `${flow} ${count}`)
        .join(', '),
    ),
    row(
      '  by status',
      '',
      Object.entries(result.statuses.intents)
        .map(([status, count]) => `${status} ${count}`)
        .join(', '),
    ),
    row(
      'attempts by status',
      '',
      Object.entries(result.statuses.attempts)
        .map(([status, count]) => `${status} ${count}`)
        .join(', '),
    ),
    row(
      'attempts synced / PSP webhooks in',
      result.statuses.syncedAttempts,
      `${result.statuses.pspWebhooks} PSP webhooks recorded`,
    ),
    row('refunds', summary.refunds),
    row(
      'requests (retries: network/5xx/409)',
      client.requests,
      `${client.retries.network}/${client.retries.server}/${client.retries.keyInUse}`,
    ),
    row('requests never answered', client.gaveUp),
    row('SIGKILLs (api / worker)', summary.kills, `${chaos.kills.api} / ${chaos.kills.worker}`),
    row('NATS restarts', summary.nats_restarts),
    row(
      'settle: syncs / resends / captures / cancels',
      settle === undefined ? '-' : settle.syncs,
      settle === undefined
        ? ''
        : `${settle.resends} / ${settle.captures} / ${settle.cancels}, ${settle.rounds} rounds, ${settle.seconds.toFixed(1)} s`,
    ),
    row(
      'money out: days / drain days / runs',
      moneyOut === undefined ? '-' : moneyOut.days,
      moneyOut === undefined
        ? ''
        : `${moneyOut.drainDays} / ${moneyOut.runs}, ${moneyOut.payments} payments, ${moneyOut.seconds.toFixed(1)} s`,
    ),
    row(
      '  batches / payouts',
      summary.batches,
      `${summary.payouts} payouts (at the bank: ${
        Object.entries(moneyOut?.bank ?? {})
          .map(([status, count]) => `${status} ${count}`)
          .join(', ') || 'none'
      }); steps: ${Object.entries(moneyOut?.steps ?? {})
        .filter(([, count]) => count > 0)
        .map(([step, count]) => `${step} ${count}`)
        .join(', ')}`,
    ),
    row(
      '  SIGKILLs during runs (api / worker)',
      summary.money_out_kills,
      moneyOut === undefined ? '' : `${moneyOut.kills.api} / ${moneyOut.kills.worker}`,
    ),
    row(
      'reconciliation: injected / open exceptions',
      reconciliation === undefined ? '-' : summary.reconciliation_injected,
      reconciliation === undefined
        ? ''
        : `${summary.reconciliation_exceptions} as of ${reconciliation.asOf} (${Object.entries(
            reconciliation.reasons,
          )
            .map(([reason, count]) => `${reason} ${count}`)
            .join(', ')}); injected: ${
            Object.entries(reconciliation.injectedKinds)
              .map(([kind, count]) => `${kind} ${count}`)
              .join(', ') || 'none'
          }; late settlement credits (bank lateRate) ${score?.lateCredits ?? '-'}`,
    ),
    row('events', summary.events),
    row(
      'webhook deliveries (500s injected)',
      receiver.deliveries,
      `${receiver.injectedFailures} injected, ${receiver.duplicates} duplicates, waited ${result.webhookWaitSeconds.toFixed(1)} s`,
    ),
    row(
      'webhook lag p50 / p99 / max (ms)',
      result.webhookLag === undefined ? '-' : result.webhookLag.p50Ms,
      result.webhookLag === undefined
        ? ''
        : `${result.webhookLag.p99Ms} / ${result.webhookLag.maxMs}, slowest ${result.webhookLag.slowest}`,
    ),
    '',
    '  checks',
    row('double charges', summary.double_charges, zero(summary.double_charges)),
    row('PSP/Payrail mismatches', summary.mismatches, zero(summary.mismatches)),
    row('lost (2xx answered, then missing)', summary.lost, zero(summary.lost)),
    row('ledger verify, outbox drained', summary.ledger, summary.ledger === 'ok' ? 'ok' : 'FAILED'),
    row('webhook events missing', summary.webhooks_missing, zero(summary.webhooks_missing)),
    row('webhook signatures invalid', summary.invalid_signatures, zero(summary.invalid_signatures)),
    row('payments not terminal', summary.non_terminal, zero(summary.non_terminal)),
    row('processes that died by themselves', summary.crashes, zero(summary.crashes)),
    row('batches submitted twice', summary.double_submissions, zero(summary.double_submissions)),
    row('payouts executed twice', summary.double_payouts, zero(summary.double_payouts)),
    row('payouts: bank vs ledger', summary.payout_mismatches, zero(summary.payout_mismatches)),
    row('money out left unfinished', summary.money_out_lost, zero(summary.money_out_lost)),
    row(
      'reconciliation: missed (recall)',
      summary.reconciliation_missed,
      `${zero(summary.reconciliation_missed)}, recall ${percent(score?.recall)} of ${score?.expected ?? '-'}`,
    ),
    row(
      'reconciliation: unexpected (precision)',
      summary.reconciliation_unexpected,
      `${zero(summary.reconciliation_unexpected)}, precision ${percent(score?.precision)} of ${score?.raised ?? '-'}`,
    ),
  ];
  const unexpected = Object.entries(load.unexpected);
  if (unexpected.length > 0 || load.unanswered > 0) {
    lines.push(
      '',
      `  answers the flows did not expect (not failures by themselves): ${unexpected.map(([key, count]) => `${key} ×${count}`).join(', ')}${load.unanswered > 0 ? `; unanswered ×${load.unanswered}` : ''}`,
    );
    for (const sample of load.unexpectedSamples.slice(0, 3)) lines.push(`    ${sample}`);
  }
  if (result.findings.samples.length > 0) {
    lines.push('', '  findings');
    for (const finding of result.findings.samples)
      lines.push(`    [${finding.kind}] ${finding.detail.slice(0, 1_200)}`);
  }
  for (const problem of result.ledger?.problems.slice(0, 10) ?? [])
    lines.push(`    [ledger] ${problem}`);
  for (const sample of receiver.invalidSamples) lines.push(`    [signature] ${sample}`);
  for (const failure of settle?.failures ?? []) lines.push(`    [settle] ${failure}`);
  for (const error of result.errors) lines.push('', `  error: ${error}`);
  if (chaos.timeline.length > 0)
    lines.push(
      '',
      '  timeline (since the load started)',
      ...chaos.timeline.map((line) => `    ${line}`),
    );
  if (moneyOut !== undefined && moneyOut.timeline.length > 0)
    lines.push(
      '',
      '  money-out days (since they started)',
      ...moneyOut.timeline.map((line) => `    ${line}`),
    );
  if (result.logDirectory !== undefined) lines.push('', `  process logs: ${result.logDirectory}`);
  lines.push('');
  return lines.join('\n');
}
