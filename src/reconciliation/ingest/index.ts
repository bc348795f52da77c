// Ingestion of external files into reconciliation records (architecture §13).
export { detectFormat } from './detect.ts';
export {
  IngestInputError,
  ReconciliationFiles,
  type IngestInput,
  type IngestResult,
} from './service.ts';
export {
  FileFormatError,
  ingestLimits,
  reconFileFormats,
  type NewRecord,
  type ParsedRow,
} from './types.ts';
