// `payrail reconcile ingest FILE…`: each file streamed from disk through ingestFile, with a
// progress bar over its bytes (on a terminal) and one summary line per file; exit code 1 when any
// file failed. `payrail reconcile run [--dry-run] [--as-of DAY]`: one run, its figures on stdout;
// exit code 1 when it left open exceptions. Both use the process's runtime, so its clock (a test
// clock in test mode) dates the files and judges the deadlines as the server would.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { presentReconciliationRun } from '../api-objects/reconciliation.ts';
import { toJson } from '../api-objects/json.ts';
import type { Reconciliation } from './index.ts';
import type { ReconciliationFiles } from './ingest/service.ts';
import { reconFileFormats } from './ingest/types.ts';
import type { ReconFileFormat } from './tables.ts';

type WithReconciliation = (
  work: (runtime: { readonly reconciliation: Reconciliation }) => Promise<void>,
) => Promise<void>;

export function registerReconcileCommands(program: Command, withRuntime: WithReconciliation): void {
  const reconcile = program
    .command('reconcile')
    .description('three-way reconciliation: files, runs, exceptions');
  reconcile
    .command('ingest')
    .description(
      'ingest PSP reports, acquirer answers and camt.053 statements; exits 1 if any file failed',
    )
    .argument('<files...>', 'the files')
    .option(
      '--format <format>',
      `one of ${reconFileFormats.join(', ')} (default: told from the content)`,
    )
    .option(
      '--connector <name>',
      "the PSP of a report (required for razorpay_recon: 'razorpay' or 'paytm')",
    )
    .action((paths: string[], options: { format?: string; connector?: string }) =>
      withRuntime(async ({ reconciliation }) => {
        if (
          options.format !== undefined &&
          !reconFileFormats.includes(options.format as ReconFileFormat)
        )
          throw new Error(`--format must be one of ${reconFileFormats.join(', ')}`);
        const files = reconciliation.files;
        let failed = 0;
        for (const path of paths) {
          const line = await ingestOne(
            files,
            path,
            options.format as ReconFileFormat | undefined,
            options.connector,
          );
          console.log(line.text);
          if (line.failed) failed++;
        }
        if (failed > 0) process.exitCode = 1;
      }),
    );
  reconcile
    .command('run')
    .description(
      'import, build expectations, match and raise exceptions; prints the figures, exits 1 if exceptions are open',
    )
    .option('--dry-run', 'compute everything, change nothing')
    .option('--as-of <day>', "the day reconciled through, YYYY-MM-DD (default: the clock's today)")
    .action((options: { dryRun?: boolean; asOf?: string }) =>
      withRuntime(async ({ reconciliation }) => {
        const run = await reconciliation.service.run({
          asOf: options.asOf,
          dryRun: options.dryRun === true,
        });
        console.log(toJson(presentReconciliationRun(run)));
        const open = Number(run.summary.openExceptions ?? 0);
        if (open > 0) process.exitCode = 1;
      }),
    );
}

async function ingestOne(
  files: ReconciliationFiles,
  path: string,
  format: ReconFileFormat | undefined,
  connector: string | undefined,
): Promise<{ text: string; failed: boolean }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    return { text: `${path}: FAILED ${(error as Error).message}`, failed: true };
  }
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          format: `${basename(path)} [{bar}] {percentage}% {value}/{total} bytes`,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(size, 0);
  try {
    const { file, created } = await files.ingestFile({
      name: basename(path).slice(0, 255) || 'file',
      format,
      connector,
      body: createReadStream(path, { highWaterMark: 256 * 1024 }),
      onProgress: (bytes) => bar?.update(bytes),
    });
    bar?.stop();
    if (file.status === 'failed')
      return { text: `${path}: FAILED ${file.error ?? ''}`, failed: true };
    return {
      text: `${path}: ${created ? 'ingested' : 'already ingested'} ${file.id} (${file.format}): ${file.recordCount} records, ${file.duplicateCount} duplicates, ${file.quarantinedCount} quarantined`,
      failed: false,
    };
  } catch (error) {
    bar?.stop();
    return { text: `${path}: FAILED ${(error as Error).message}`, failed: true };
  }
}
