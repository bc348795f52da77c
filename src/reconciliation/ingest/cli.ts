// `payrail reconcile ingest FILE…`: each file streamed from disk through ingestFile, with a
// progress bar over its bytes (on a terminal) and one summary line per file; exit code 1 when any
// file failed.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { Config } from '../../config.ts';
import type { Database } from '../../storage/database.ts';
import type { ReconFileFormat } from '../tables.ts';
import { ReconciliationFiles } from './service.ts';
import { reconFileFormats } from './types.ts';

type WithDatabase = <T>(work: (database: Database, config: Config) => Promise<T>) => Promise<T>;

/** The `reconcile` command, shared with the other reconcile subcommands (created once). */
export function reconcileCommand(program: Command): Command {
  return (
    program.commands.find((command) => command.name() === 'reconcile') ??
    program.command('reconcile').description('three-way reconciliation: files, runs, exceptions')
  );
}

export function registerReconcileIngestCommand(program: Command, withDatabase: WithDatabase): void {
  reconcileCommand(program)
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
      withDatabase(async (database) => {
        if (
          options.format !== undefined &&
          !reconFileFormats.includes(options.format as ReconFileFormat)
        )
          throw new Error(`--format must be one of ${reconFileFormats.join(', ')}`);
        const files = new ReconciliationFiles({ database });
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
