// The writes of one file's ingestion, set-based: records and quarantined rows in batches (one
// INSERT … SELECT FROM unnest each), the file row created first (its id is the quarantine's
// foreign key) and completed last. Everything but a failed file's row runs in the file's one
// transaction.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../storage/database.ts';
import {
  reconFiles,
  reconQuarantine,
  reconRecords,
  type ReconFile,
  type QuarantinedRow,
  type ReconRecord,
} from '../tables.ts';

const insertFile = reconFiles.insert();
const insertRecords = `${reconRecords.insertBatch(1).sql} ON CONFLICT (source, row_key) DO NOTHING`;
const recordParameters = reconRecords.insertBatch(1).parameters;
const insertQuarantine = `${reconQuarantine.insertBatch(1).sql} ON CONFLICT (file_id, line) DO NOTHING`;
const quarantineParameters = reconQuarantine.insertBatch(1).parameters;
const insertFailed = `${insertFile.sql.replace(/ RETURNING \*$/, '')} ON CONFLICT (sha256) DO NOTHING RETURNING *`;

export type NewFile = Pick<ReconFile, 'id' | 'name' | 'format' | 'connector' | 'createdAt'>;

/** The file's row while it is read: its hash is not known yet (a unique placeholder). */
export async function createIngestingFile(tx: Queryable, file: NewFile): Promise<void> {
  await tx.query(
    insertFile.sql,
    insertFile.parameters({
      ...file,
      sha256: randomBytes(32).toString('hex'),
      status: 'ingesting',
      byteCount: 0n,
      recordCount: 0,
      duplicateCount: 0,
      quarantinedCount: 0,
      error: null,
      completedAt: null,
    }),
  );
}

/** Inserts records; returns how many were new (the others were known by source and row key). */
export async function insertRecordBatch(
  tx: Queryable,
  records: readonly ReconRecord[],
): Promise<number> {
  if (records.length === 0) return 0;
  const result = await tx.query(insertRecords, recordParameters(records));
  return result.rowCount;
}

export async function insertQuarantineBatch(
  tx: Queryable,
  rows: readonly QuarantinedRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await tx.query(insertQuarantine, quarantineParameters(rows));
  return result.rowCount;
}

export type FileCounts = {
  readonly byteCount: bigint;
  readonly recordCount: number;
  readonly duplicateCount: number;
  readonly quarantinedCount: number;
};

/** Completes the file's row with its hash; a unique violation (23505) means the content is known. */
export async function completeFile(
  tx: Queryable,
  id: string,
  sha256: string,
  counts: FileCounts,
  now: Date,
): Promise<ReconFile> {
  const result = await tx.query(
    `UPDATE recon_files SET sha256 = $2, status = 'ingested', byte_count = $3, record_count = $4,
            duplicate_count = $5, quarantined_count = $6, completed_at = $7
      WHERE id = $1 RETURNING *`,
    [
      id,
      sha256,
      counts.byteCount,
      counts.recordCount,
      counts.duplicateCount,
      counts.quarantinedCount,
      now,
    ],
  );
  return reconFiles.fromRow(result.rows[0] as Record<string, unknown>);
}

/** A file that could not be read: its row alone, status failed (or the row of the same bytes). */
export async function recordFailedFile(
  queryable: Queryable,
  file: NewFile & { readonly sha256: string; readonly byteCount: bigint; readonly error: string },
  now: Date,
): Promise<ReconFile> {
  const result = await queryable.query(
    insertFailed,
    insertFile.parameters({
      ...file,
      status: 'failed',
      recordCount: 0,
      duplicateCount: 0,
      quarantinedCount: 0,
      completedAt: now,
    }),
  );
  const row = result.rows[0];
  if (row !== undefined) return reconFiles.fromRow(row);
  const existing = await fileBySha256(queryable, file.sha256);
  if (existing === undefined) throw new Error(`recon file ${file.sha256} vanished`);
  return existing;
}

export async function fileBySha256(
  queryable: Queryable,
  sha256: string,
): Promise<ReconFile | undefined> {
  const result = await queryable.query(`SELECT * FROM recon_files WHERE sha256 = $1`, [sha256]);
  const row = result.rows[0];
  return row === undefined ? undefined : reconFiles.fromRow(row);
}

export async function fileById(queryable: Queryable, id: string): Promise<ReconFile | undefined> {
  const result = await queryable.query(`SELECT * FROM recon_files WHERE id = $1`, [id]);
  const row = result.rows[0];
  return row === undefined ? undefined : reconFiles.fromRow(row);
}

export async function quarantineOf(
  queryable: Queryable,
  fileId: string,
  afterLine: number,
  limit: number,
): Promise<QuarantinedRow[]> {
  const result = await queryable.query(
    `SELECT * FROM recon_quarantine WHERE file_id = $1 AND line > $2 ORDER BY line LIMIT $3`,
    [fileId, afterLine, limit],
  );
  return result.rows.map(reconQuarantine.fromRow);
}
