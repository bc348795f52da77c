// The acquirer's clearing API (SPEC-11 wire contract; the simulator's /acquirer): one POST per
// batch, its id the idempotency key. The request is NDJSON streamed from an async source of item
// pages (never the whole batch in memory); the answer is NDJSON parsed as it arrives and handed
// on in chunks. The acquirer answers a repeated batch id with its first answer.
import { TIMEOUT_MS_MAX } from '../connectors/http.ts';
import { BodyError, streamingRequest } from '../connectors/streaming-http.ts';

/** The first line of the request. */
export type ClearingHeader = {
  readonly connector: string;
  readonly currency: string;
  readonly cutoffAt: Date;
  readonly itemCount: number;
  /** Captures minus refunds. */
  readonly netAmount: bigint;
};

/** One item line of the request. */
export type ClearingItem = {
  readonly itemId: string;
  readonly pspReference: string;
  readonly type: 'capture' | 'refund';
  /** Positive, minor units. */
  readonly amount: bigint;
  readonly currency: string;
  /**
   * When the capture's authorization was made (the clearing record's authorization date; the
   * acquirer judges late presentment by it). Absent for refunds.
   */
  readonly authorizedAt?: Date;
};

export type AnswerHeader = {
  readonly batch_id: string;
  readonly acquirer_reference: string;
  readonly status: string;
  readonly accepted_count: number;
  readonly rejected_count: number;
  readonly accepted_amount: number;
  readonly settlement_reference: string;
};

export type AnswerLine = {
  readonly itemId: string;
  readonly result: 'accepted' | 'rejected';
  readonly reasonCode: string | null;
};

/** What to do with the answer as it streams in (both may be called again for a resubmission). */
export type AnswerSink = {
  header(header: AnswerHeader): Promise<void>;
  lines(lines: readonly AnswerLine[]): Promise<void>;
};

/** The acquirer refused the request or answered something that is not the contract. */
export class AcquirerError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'AcquirerError';
    this.status = status;
  }
}

export interface AcquirerClient {
  submit(
    batchId: string,
    header: ClearingHeader,
    pages: AsyncIterable<readonly ClearingItem[]>,
    sink: AnswerSink,
  ): Promise<void>;
}

/** An answer line is an item's id and result (about 60 characters); far longer is no answer. */
const answerLineCharsMax = 65_536;

/** An answer is a line per item (about 60 bytes): this allows batches of tens of millions. */
const answerBytesMax = 2 ** 31;

export type HttpAcquirerOptions = {
  /** The acquirer's base URL, e.g. `http://127.0.0.1:4000/acquirer`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly timeoutMs: number;
  /** Answer lines handed to the sink at once. */
  readonly chunkSize?: number;
};

function headerLine(header: ClearingHeader): string {
  return `{"connector":${JSON.stringify(header.connector)},"currency":${JSON.stringify(header.currency)},"cutoff_at":"${header.cutoffAt.toISOString()}","item_count":${header.itemCount},"net_amount":${header.netAmount.toString()}}\n`;
}

/** Characters a JSON string may hold as they are (no quote, backslash or control character). */
const plainJson = /^[\w .:@/+=-]*$/;

/** A JSON string: as it is when it needs no escaping (ids and references: the common case, cheap). */
function jsonString(value: string): string {
  return plainJson.test(value) ? `"${value}"` : JSON.stringify(value);
}

function itemLine(item: ClearingItem): string {
  const authorized =
    item.authorizedAt === undefined ? '' : `,"authorized_at":"${item.authorizedAt.toISOString()}"`;
  return `{"item_id":${jsonString(item.itemId)},"psp_reference":${jsonString(item.pspReference)},"type":"${item.type}","amount":${item.amount.toString()},"currency":${jsonString(item.currency)}${authorized}}\n`;
}

/** The request body: the header line, then the item lines page by page, as bytes. */
export async function* clearingBody(
  header: ClearingHeader,
  pages: AsyncIterable<readonly ClearingItem[]>,
): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  yield encoder.encode(headerLine(header));
  for await (const page of pages) {
    let text = '';
    for (const item of page) text += itemLine(item);
    if (text.length > 0) yield encoder.encode(text);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJsonLine(line: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new AcquirerError(`the acquirer's ${what} is not JSON: ${line.slice(0, 200)}`);
  }
  if (!isRecord(value)) throw new AcquirerError(`the acquirer's ${what} is not an object`);
  return value;
}

export function parseAnswerHeader(line: string): AnswerHeader {
  const value = parseJsonLine(line, 'answer header');
  const texts = ['batch_id', 'acquirer_reference', 'status', 'settlement_reference'] as const;
  const counts = ['accepted_count', 'rejected_count', 'accepted_amount'] as const;
  for (const field of texts)
    if (typeof value[field] !== 'string')
      throw new AcquirerError(`the acquirer's answer header has no ${field}`);
  for (const field of counts)
    if (typeof value[field] !== 'number' || !Number.isSafeInteger(value[field]))
      throw new AcquirerError(`the acquirer's answer header has no integer ${field}`);
  return value as unknown as AnswerHeader;
}

export function parseAnswerLine(line: string): AnswerLine {
  const value = parseJsonLine(line, 'answer line');
  const itemId = value.item_id;
  const result = value.result;
  const reason = value.reason_code;
  if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > 100)
    throw new AcquirerError('an answer line has no item_id');
  if (result !== 'accepted' && result !== 'rejected')
    throw new AcquirerError(`an answer line has the result ${JSON.stringify(result)}`);
  if (
    reason !== undefined &&
    reason !== null &&
    (typeof reason !== 'string' || reason.length > 100)
  )
    throw new AcquirerError('an answer line has an invalid reason_code');
  return {
    itemId,
    result,
    reasonCode:
      result === 'rejected' ? (typeof reason === 'string' ? reason : 'unspecified') : null,
  };
}

/** Splits a byte stream into lines (without their newline), decoding UTF-8 across chunk edges. */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of body) {
    const searchFrom = rest.length;
    rest += decoder.decode(chunk, { stream: true });
    let newline = rest.indexOf('\n', searchFrom);
    if (newline < 0 && rest.length > answerLineCharsMax)
      throw new AcquirerError(`an answer line is longer than ${answerLineCharsMax} characters`);
    let start = 0;
    while (newline >= 0) {
      const line = rest.slice(start, newline).trim();
      if (line.length > 0) yield line;
      start = newline + 1;
      newline = rest.indexOf('\n', start);
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest.trim().length > 0) yield rest.trim();
}

/** Reads an answer: the header first, then the item lines in chunks. */
export async function readAnswer(
  lines: AsyncIterable<string>,
  sink: AnswerSink,
  chunkSize: number,
): Promise<void> {
  let header: AnswerHeader | undefined;
  let chunk: AnswerLine[] = [];
  for await (const line of lines) {
    if (header === undefined) {
      header = parseAnswerHeader(line);
      await sink.header(header);
      continue;
    }
    chunk.push(parseAnswerLine(line));
    if (chunk.length >= chunkSize) {
      await sink.lines(chunk);
      chunk = [];
    }
  }
  if (header === undefined) throw new AcquirerError('the acquirer answered nothing');
  if (chunk.length > 0) await sink.lines(chunk);
}

export class HttpAcquirerClient implements AcquirerClient {
  readonly #options: HttpAcquirerOptions;

  constructor(options: HttpAcquirerOptions) {
    this.#options = options;
  }

  async submit(
    batchId: string,
    header: ClearingHeader,
    pages: AsyncIterable<readonly ClearingItem[]>,
    sink: AnswerSink,
  ): Promise<void> {
    const url = `${this.#options.baseUrl.replace(/\/$/, '')}/v1/clearing_batches/${encodeURIComponent(batchId)}`;
    // Streamed both ways with backpressure (src/connectors/streaming-http.ts): the request is
    // written as its pages are read, the answer read as its lines are staged.
    const answer = await streamingRequest({
      url,
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.#options.apiKey}`,
        'content-type': 'application/x-ndjson',
        accept: 'application/x-ndjson',
      },
      body: clearingBody(header, pages),
      // Each wait (the socket taking the request, the answer's headers, each part of its body)
      // within the connectors' longest timeout; the whole exchange within the acquirer's.
      timeoutMs: Math.min(this.#options.timeoutMs, TIMEOUT_MS_MAX),
      deadlineMs: this.#options.timeoutMs,
      maxBytes: answerBytesMax,
    });
    if (answer.kind === 'no_response')
      throw new AcquirerError(`the acquirer did not answer (${answer.reason})`);
    try {
      if (answer.status !== 200) {
        let text = '';
        for await (const chunk of answer.body) {
          text += chunk.toString('utf8');
          if (text.length > 500) break;
        }
        throw new AcquirerError(
          `the acquirer answered ${answer.status}: ${text.slice(0, 500)}`,
          answer.status,
        );
      }
      await readAnswer(ndjsonLines(answer.body), sink, this.#options.chunkSize ?? 2_000);
    } catch (error) {
      if (error instanceof BodyError)
        throw new AcquirerError(`the acquirer's answer broke off: ${error.message}`);
      throw error;
    } finally {
      // An acquirer that answered before reading the whole request: its pages stop being read
      // here, so the caller may read the rest itself (submission.ts tallies every item once).
      await answer.finish();
    }
  }
}
