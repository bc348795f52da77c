// Reads one settlement's report from its PSP in the PSP's style, page by page, and parses it
// (architecture §12.3): JSON lists a page per request, a CSV streamed through the parser as it
// arrives; no whole report is ever held.
// The credentials are the platform's own at the PSP (connector level, not a merchant's); in test
// mode they are the connector module's test credentials against the simulator.
import { httpRequest, type HttpResult } from '../../connectors/http.ts';
import type { ConnectorCredentials } from '../../connectors/types.ts';
import { joinUrl } from '../../connectors/wire.ts';
import { getConnectorModule, hasConnector } from '../../connectors/registry.ts';
import { adyenSettlementPages } from './adyen.ts';
import { basicAuthorization } from '../../connectors/razorpay/transformers.ts';
import { parseRazorpayRecon } from './razorpay.ts';
import { parseStripePage } from './stripe.ts';
import { BodyError, streamingRequest } from '../../connectors/streaming-http.ts';
import {
  ReportFormatError,
  ReportUnavailableError,
  reportLimits,
  type ReportPage,
  type ReportStyle,
} from './types.ts';

/** Each connector's report style. Paytm's recon has Razorpay's shape in the simulator. */
export const reportStyleOf: Readonly<Record<string, ReportStyle>> = {
  stripe: 'stripe_balance_transactions',
  adyen: 'adyen_settlement_csv',
  razorpay: 'razorpay_recon',
  paytm: 'razorpay_recon',
};

export type ReportFetchOptions = { readonly timeoutMs: number };

export interface SettlementReportSource {
  /**
   * The report of one settlement, page by page in report order (lines increasing), so that no
   * reader holds a whole report. Iterating throws ReportUnavailableError or ReportFormatError,
   * possibly after some pages: a reader must not take a partial report for the report.
   */
  pages(connector: string, settlementReference: string): AsyncIterable<ReportPage>;
}

/** The report source over HTTP, with the platform's credentials per connector. */
export class HttpSettlementReports implements SettlementReportSource {
  readonly #credentialsFor: (connector: string) => ConnectorCredentials | undefined;
  readonly #options: ReportFetchOptions;

  constructor(
    credentialsFor: (connector: string) => ConnectorCredentials | undefined,
    options: ReportFetchOptions = { timeoutMs: 30_000 },
  ) {
    this.#credentialsFor = credentialsFor;
    this.#options = options;
  }

  async *pages(connector: string, settlementReference: string): AsyncGenerator<ReportPage> {
    const style = reportStyleOf[connector];
    if (style === undefined)
      throw new ReportUnavailableError(connector, 'no settlement report style for this connector');
    const credentials = this.#credentialsFor(connector);
    if (credentials === undefined)
      throw new ReportUnavailableError(connector, 'no platform credentials for this connector');
    const headers = authHeaders(connector, credentials);
    const url = (path: string) => joinUrl(credentials.baseUrl, path);
    const getPage = async (path: string): Promise<unknown> =>
      answerOf(
        connector,
        await httpRequest({
          method: 'GET',
          url: url(path),
          headers,
          timeoutMs: this.#options.timeoutMs,
          maxResponseBytes: reportLimits.pageBytesMax,
        }),
      );
    let items = 0;
    const pages =
      style === 'stripe_balance_transactions'
        ? stripePages(connector, settlementReference, getPage)
        : style === 'adyen_settlement_csv'
          ? this.#adyenPages(connector, settlementReference, url, headers)
          : reconPages(connector, settlementReference, getPage);
    for await (const page of pages) {
      items += page.length;
      if (items > reportLimits.itemsMax)
        throw new ReportFormatError(connector, `more than ${reportLimits.itemsMax} items`);
      if (page.length > 0) yield page;
    }
  }

  async *#adyenPages(
    connector: string,
    batchNumber: string,
    url: (path: string) => string,
    headers: Record<string, string>,
  ): AsyncGenerator<ReportPage> {
    if (!/^\d{1,12}$/.test(batchNumber))
      throw new ReportFormatError(connector, `batch number '${batchNumber}' is not a number`);
    const result = await streamingRequest({
      url: url(`/reports/settlement_detail_report_batch_${batchNumber}.csv`),
      headers,
      timeoutMs: this.#options.timeoutMs,
      deadlineMs: reportLimits.reportDeadlineMs,
      maxBytes: reportLimits.reportBytesMax,
    });
    if (result.kind === 'no_response')
      throw new ReportUnavailableError(connector, `no answer (${result.reason})`);
    if (result.status !== 200)
      throw new ReportUnavailableError(
        connector,
        `HTTP ${result.status} ${await textStart(result.body, 200)}`,
      );
    try {
      yield* adyenSettlementPages(result.body, batchNumber, connector);
    } catch (error) {
      throw bodyFailure(connector, error);
    }
  }
}

type GetPage = (path: string) => Promise<unknown>;

function answerOf(connector: string, result: HttpResult): unknown {
  if (result.kind === 'no_response')
    throw new ReportUnavailableError(connector, `no answer (${result.reason})`);
  if (result.status !== 200)
    throw new ReportUnavailableError(
      connector,
      `HTTP ${result.status} ${result.text.slice(0, 200)}`,
    );
  return result.body;
}

/** A body that broke off is no report (unavailable); one too large is not a report we take. */
function bodyFailure(connector: string, error: unknown): unknown {
  if (!(error instanceof BodyError)) return error;
  return error.reason === 'too_large'
    ? new ReportFormatError(
        connector,
        `the report is larger than ${reportLimits.reportBytesMax} bytes`,
      )
    : new ReportUnavailableError(connector, `the report broke off (${error.message})`);
}

/** The first characters of an error answer (the rest is not read). */
async function textStart(body: AsyncIterable<Buffer>, length: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      total += chunk.byteLength;
      if (total >= length) break;
    }
  } catch {
    // What arrived is enough to say what went wrong.
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, length);
}

function authHeaders(connector: string, credentials: ConnectorCredentials): Record<string, string> {
  if (connector === 'adyen') return { 'x-api-key': credentials.apiKey };
  if (connector === 'razorpay' || connector === 'paytm')
    return {
      authorization: basicAuthorization(credentials.apiKey, credentials.apiSecret ?? ''),
      accept: 'application/json',
    };
  return { authorization: `Bearer ${credentials.apiKey}`, accept: 'application/json' };
}

/** A request started now, awaited later: its failure is handled when it is awaited. */
function ahead(request: Promise<unknown>): Promise<unknown> {
  request.catch(() => undefined);
  return request;
}

async function* stripePages(
  connector: string,
  payoutId: string,
  get: GetPage,
): AsyncGenerator<ReportPage> {
  const path = (startingAfter: string | undefined) => {
    const query = new URLSearchParams({ payout: payoutId, limit: String(reportLimits.pageSize) });
    if (startingAfter !== undefined) query.set('starting_after', startingAfter);
    return `/v1/balance_transactions?${query.toString()}`;
  };
  let line = 1;
  let next = ahead(get(path(undefined)));
  for (let page = 0; page < reportLimits.pagesMax; page++) {
    const body = await next;
    // The next page is asked for before this one is read and handed on: the PSP prepares it
    // meanwhile (pages follow each other by the last id, so one request ahead at most).
    const peeked = lastIdIfMore(body);
    if (peeked !== undefined) next = ahead(get(path(peeked)));
    const parsed = parseStripePage(body, payoutId, line, connector);
    if (parsed.entries > reportLimits.pageSize)
      throw new ReportFormatError(
        connector,
        `a page lists ${parsed.entries} entries, more than the ${reportLimits.pageSize} asked`,
      );
    yield parsed.items;
    if (!parsed.hasMore) return;
    line += parsed.entries;
    if (peeked !== parsed.lastId) next = ahead(get(path(parsed.lastId)));
  }
  throw new ReportFormatError(connector, `more than ${reportLimits.pagesMax} pages`);
}

/** The id to continue after, when a page says there is more (read strictly by the parser). */
function lastIdIfMore(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { has_more: hasMore, data } = body as { has_more?: unknown; data?: unknown };
  if (hasMore !== true || !Array.isArray(data)) return undefined;
  const last: unknown = data.at(-1);
  const id = typeof last === 'object' && last !== null ? (last as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

async function* reconPages(
  connector: string,
  settlementId: string,
  get: GetPage,
): AsyncGenerator<ReportPage> {
  const count = reportLimits.reconPageSize;
  const path = (skip: number) =>
    `/v1/settlements/recon/combined?${new URLSearchParams({
      settlement_id: settlementId,
      count: String(count),
      skip: String(skip),
    }).toString()}`;
  let skip = 0;
  let next = ahead(get(path(0)));
  for (let page = 0; page < reportLimits.pagesMax; page++) {
    const body = await next;
    // A full page may have a next: asked for before this one is read (see stripePages).
    const full = isFullPage(body, count);
    if (full) next = ahead(get(path(skip + count)));
    const items = parseRazorpayRecon(body, settlementId, skip + 1, connector);
    // A server that ignores paging would hand over the whole report at once: refused, so that
    // no page is larger than asked for.
    if (items.length > count)
      throw new ReportFormatError(
        connector,
        `a page holds ${items.length} items, more than the ${count} asked`,
      );
    yield items;
    // A short page is the last.
    if (items.length < count) return;
    skip += items.length;
    if (!full) next = ahead(get(path(skip)));
  }
  throw new ReportFormatError(connector, `more than ${reportLimits.pagesMax} pages`);
}

function isFullPage(body: unknown, count: number): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const items = (body as { items?: unknown }).items;
  return Array.isArray(items) && items.length === count;
}

/** The platform's credentials at each simulated PSP (test mode): the connectors' test credentials. */
export function simulatorReportCredentials(
  simulatorUrl: string,
): (connector: string) => ConnectorCredentials | undefined {
  return (connector) =>
    hasConnector(connector)
      ? getConnectorModule(connector).testCredentials(simulatorUrl.replace(/\/+$/, ''))
      : undefined;
}
