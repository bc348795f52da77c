// Ingestion of one external file (architecture §13): its bytes streamed once, hashed as they come
// (sha256: the same content again is the same file), decoded as strict UTF-8, its format told
// from its first characters unless given, parsed into records and quarantined rows, written in
// batches in ONE transaction with the file's row. A file that cannot be read (truncated, wrong
// encoding, wrong columns, a value over a limit, an unknown format) rolls back whole, and only its
// row is written, status failed, with an error naming the file and the line.
import type { ReconciliationMetrics } from '../../observability/reconciliation-metrics.ts';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { systemClock, type Clock } from '../../clock.ts';
import { DomainError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { recordClosingBalances } from '../../banking/balances.ts';
import type { ClosingBalance } from '../../banking/camt053.ts';
import type { Database, Queryable } from '../../storage/database.ts';
import type { QuarantinedRow, ReconFile, ReconFileFormat, ReconRecord } from '../tables.ts';
import { connectorFor, detectFormat, detectionLength, parserFor } from './detect.ts';
import {
  completeFile,
  createIngestingFile,
  fileById,
  fileBySha256,
  insertQuarantineBatch,
  insertRecordBatch,
  quarantineOf,
  recordFailedFile,
  type NewFile,
} from './store.ts';
import { FileFormatError, ingestLimits, type ParsedRow } from './types.ts';

export type IngestInput = {
  readonly name: string;
  readonly format?: ReconFileFormat;
  readonly connector?: string;
  readonly body: AsyncIterable<Buffer | Uint8Array> | Readable;
  /** Called with the bytes read so far (a progress bar). */
  readonly onProgress?: (bytes: number) => void;
};

export type IngestResult = {
  readonly file: ReconFile;
  /** False when the same bytes were ingested before (the earlier file is returned). */
  readonly created: boolean;
};

/** A file refused before it is read (its name, its connector): nothing is written. */
export class IngestInputError extends DomainError<'parameter_invalid'> {
  constructor(param: string, message: string) {
    super('parameter_invalid', 'invalid', message, param);
    this.name = 'IngestInputError';
  }
}

/** Passes the first `bytes` bytes on and drops the rest (still reading it to the end). */
function keepAtMost(bytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const room = bytes - seen;
      seen += chunk.byteLength;
      callback(null, room <= 0 ? undefined : chunk.subarray(0, room));
    },
  });
}

/** Thrown inside the transaction when the content is known: rolls back what was written. */
class SameContent extends Error {}

const connectorPattern = /^[a-z0-9_]{1,40}$/;

export class ReconciliationFiles {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #metrics: Pick<ReconciliationMetrics, 'recordFile'> | undefined;

  constructor(dependencies: {
    readonly database: Database;
    readonly clock?: Clock;
    readonly metrics?: Pick<ReconciliationMetrics, 'recordFile'>;
  }) {
    this.#database = dependencies.database;
    this.#clock = dependencies.clock ?? systemClock;
    this.#metrics = dependencies.metrics;
  }

  /** Ingests one file (see #take) and counts it by format and outcome. */
  /**
   * An upload from a client: its bytes are first written to a local temporary file (at most the
   * file limit and one byte kept; the rest is read and dropped), and only then ingested. A
   * client that sends slowly, or stops, never holds a database transaction open (on the embedded
   * database, one open transaction would stall every other request).
   */
  async ingestUpload(input: IngestInput): Promise<IngestResult> {
    const directory = await mkdtemp(join(tmpdir(), 'payrail-upload-'));
    const path = join(directory, 'body');
    try {
      await pipeline(
        input.body,
        keepAtMost(ingestLimits.fileBytesMax + 1),
        createWriteStream(path),
      );
      return await this.ingestFile({ ...input, body: createReadStream(path) });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  async ingestFile(input: IngestInput): Promise<IngestResult> {
    const result = await this.#take(input);
    const { file } = result;
    this.#metrics?.recordFile(
      file.format,
      !result.created ? 'duplicate' : file.status === 'failed' ? 'failed' : 'ingested',
      result.created ? file.recordCount : 0,
    );
    return result;
  }

  get(id: string): Promise<ReconFile | undefined> {
    return fileById(this.#database, id);
  }

  quarantine(id: string, afterLine = 0, limit = 100): Promise<QuarantinedRow[]> {
    return quarantineOf(this.#database, id, afterLine, limit);
  }

  async #take(input: IngestInput): Promise<IngestResult> {
    checkInput(input);
    const reader = new BodyReader(input);
    const now = this.#clock.now();
    const file: Omit<NewFile, 'format'> = {
      id: newId('rcf', 20),
      name: input.name,
      connector: input.connector ?? null,
      createdAt: now,
    };
    try {
      const created = await this.#database.transaction((tx) => this.#ingest(tx, file, reader), {
        maxAttempts: 1,
      });
      return { file: created, created: true };
    } catch (error) {
      if (error instanceof SameContent) {
        const existing = await fileBySha256(this.#database, reader.sha256());
        if (existing !== undefined) return { file: existing, created: false };
      }
      if (!(error instanceof FileFormatError)) throw error;
      await reader.drain();
      const failed = await recordFailedFile(
        this.#database,
        {
          ...file,
          format: reader.format ?? 'unknown',
          connector: file.connector,
          sha256: reader.sha256(),
          byteCount: BigInt(reader.bytes),
          error: `${input.name}: line ${error.line}: ${error.message}`,
        },
        this.#clock.now(),
      );
      return { file: failed, created: failed.id === file.id };
    }
  }

  async #ingest(
    tx: Queryable,
    file: Omit<NewFile, 'format'>,
    reader: BodyReader,
  ): Promise<ReconFile> {
    const start = await reader.start();
    const format = reader.format as ReconFileFormat;
    const connector = connectorFor(format, file.connector ?? undefined);
    await createIngestingFile(tx, { ...file, format, connector });
    const parser = parserFor(format, {
      connector: connector ?? undefined,
      today: this.#clock.now().toISOString().slice(0, 10),
    });
    const writer = new BatchWriter(tx, file.id, this.#clock.now());
    await writer.take(parser.push(start));
    for (let text = await reader.next(); text !== undefined; text = await reader.next())
      await writer.take(parser.push(text));
    await writer.take(parser.end());
    await writer.flush();
    const known = await fileBySha256(tx, reader.sha256());
    if (known !== undefined) throw new SameContent();
    try {
      return await completeFile(
        tx,
        file.id,
        reader.sha256(),
        { byteCount: BigInt(reader.bytes), ...writer.counts() },
        this.#clock.now(),
      );
    } catch (error) {
      // A concurrent ingestion of the same bytes committed first.
      if ((error as { code?: unknown }).code === '23505') throw new SameContent();
      throw error;
    }
  }
}

function checkInput(input: IngestInput): void {
  if (input.name.length < 1 || input.name.length > 255)
    throw new IngestInputError('name', 'name must be 1 to 255 characters');
  if (input.connector !== undefined && !connectorPattern.test(input.connector))
    throw new IngestInputError('connector', 'connector must be 1 to 40 of a-z, 0-9 and _');
}

/** Parsed rows into batches of records and quarantined rows, with the counts. */
class BatchWriter {
  readonly #tx: Queryable;
  readonly #fileId: string;
  readonly #now: Date;
  #records: ReconRecord[] = [];
  #quarantined: QuarantinedRow[] = [];
  /** A statement's closing balances (a handful per file; the parser bounds them). */
  #balances: ClosingBalance[] = [];
  #recordCount = 0;
  #duplicateCount = 0;
  #quarantinedCount = 0;

  constructor(tx: Queryable, fileId: string, now: Date) {
    this.#tx = tx;
    this.#fileId = fileId;
    this.#now = now;
  }

  async take(rows: readonly ParsedRow[]): Promise<void> {
    for (const row of rows) {
      if (row.type === 'record')
        this.#records.push({ ...row.record, fileId: this.#fileId, groupId: null });
      else if (row.type === 'balance') this.#balances.push(row.balance);
      else
        this.#quarantined.push({
          fileId: this.#fileId,
          line: row.line,
          reason: row.reason,
          excerpt: row.excerpt,
        });
    }
    if (
      this.#records.length >= ingestLimits.batchSize ||
      this.#quarantined.length >= ingestLimits.batchSize
    )
      await this.flush();
  }

  async flush(): Promise<void> {
    const records = this.#records;
    const quarantined = this.#quarantined;
    this.#records = [];
    this.#quarantined = [];
    const inserted = await insertRecordBatch(this.#tx, records);
    this.#recordCount += inserted;
    this.#duplicateCount += records.length - inserted;
    this.#quarantinedCount += await insertQuarantineBatch(this.#tx, quarantined);
    const balances = this.#balances;
    this.#balances = [];
    await recordClosingBalances(this.#tx, balances, this.#fileId, this.#now);
  }

  counts(): { recordCount: number; duplicateCount: number; quarantinedCount: number } {
    return {
      recordCount: this.#recordCount,
      duplicateCount: this.#duplicateCount,
      quarantinedCount: this.#quarantinedCount,
    };
  }
}

/**
 * The body as text: hashed and counted as it comes, decoded as strict UTF-8 (a character cut
 * between chunks is joined), bounded in bytes; the first characters decide the format.
 */
class BodyReader {
  readonly #input: IngestInput;
  readonly #iterator: AsyncIterator<Buffer | Uint8Array>;
  readonly #hash: Hash = createHash('sha256');
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  #digest: string | undefined;
  #done = false;
  #lines = 0;
  bytes = 0;
  format: ReconFileFormat | undefined;

  constructor(input: IngestInput) {
    this.#input = input;
    this.format = input.format;
    this.#iterator = (input.body as AsyncIterable<Buffer | Uint8Array>)[Symbol.asyncIterator]();
  }

  /** The first text, enough to tell the format (which it sets). */
  async start(): Promise<string> {
    let text = '';
    let first = true;
    while (text.length < detectionLength) {
      const chunk = await this.#chunk();
      if (chunk === undefined) break;
      if (
        first &&
        chunk.length >= 2 &&
        ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
      )
        throw new FileFormatError('wrong encoding: UTF-16 (a file must be UTF-8)', 1);
      first = false;
      text += this.#decode(chunk, false);
    }
    if (this.#done) text += this.#decode(undefined, true);
    this.format ??= detectFormat(text);
    return text;
  }

  /** The next text, or undefined at the end. */
  async next(): Promise<string | undefined> {
    if (this.#done) return undefined;
    const chunk = await this.#chunk();
    return chunk === undefined ? this.#decode(undefined, true) : this.#decode(chunk, false);
  }

  async #chunk(): Promise<Buffer | Uint8Array | undefined> {
    const result = await this.#iterator.next();
    if (result.done === true) {
      this.#done = true;
      return undefined;
    }
    const chunk = typeof result.value === 'string' ? Buffer.from(result.value) : result.value;
    this.bytes += chunk.byteLength;
    this.#hash.update(chunk);
    this.#input.onProgress?.(this.bytes);
    if (this.bytes > ingestLimits.fileBytesMax)
      throw new FileFormatError(`larger than ${ingestLimits.fileBytesMax} bytes`, this.#lines + 1);
    return chunk;
  }

  #decode(chunk: Uint8Array | undefined, final: boolean): string {
    let text: string;
    try {
      text =
        chunk === undefined
          ? this.#decoder.decode()
          : this.#decoder.decode(chunk, { stream: !final });
    } catch {
      throw new FileFormatError('wrong encoding: not valid UTF-8', this.#lines + 1);
    }
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) this.#lines++;
    return text;
  }

  /** Reads what is left (bounded), so that a failed file's hash is of its content. */
  async drain(): Promise<void> {
    try {
      while (!this.#done && this.bytes <= ingestLimits.fileBytesMax) await this.#chunk();
    } catch {
      // Over the limit: the hash is of what was read (more than any file may hold).
    }
  }

  sha256(): string {
    this.#digest ??= this.#hash.digest('hex');
    return this.#digest;
  }
}
