// Fetches one settlement's report from its PSP in the PSP's style and parses it (architecture §12).
// The credentials are the platform's own at the PSP (connector level, not a merchant's); in test
// mode they are the connector module's test credentials against the simulator.
import { httpRequest, type HttpResult } from '../../connectors/http.ts';
import type { ConnectorCredentials } from '../../connectors/types.ts';
import { joinUrl } from '../../connectors/wire.ts';
import { getConnectorModule, hasConnector } from '../../connectors/registry.ts';
import { parseAdyenSettlementCsv } from './adyen.ts';
import { basicAuthorization } from '../../connectors/razorpay/transformers.ts';
import { parseRazorpayRecon } from './razorpay.ts';
import { parseStripePage } from './stripe.ts';
import {
  ReportFormatError,
  ReportUnavailableError,
  reportLimits,
  type ReportItem,
  type ReportStyle,
  type SettlementReport,
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
  fetch(connector: string, settlementReference: string): Promise<SettlementReport>;
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

  async fetch(connector: string, settlementReference: string): Promise<SettlementReport> {
    const style = reportStyleOf[connector];
    if (style === undefined)
      throw new ReportUnavailableError(connector, 'no settlement report style for this connector');
    const credentials = this.#credentialsFor(connector);
    if (credentials === undefined)
      throw new ReportUnavailableError(connector, 'no platform credentials for this connector');
    const call = (path: string) => this.#get(connector, credentials, path);
    const items =
      style === 'stripe_balance_transactions'
        ? await fetchStripe(connector, settlementReference, call)
        : style === 'adyen_settlement_csv'
          ? await fetchAdyen(connector, settlementReference, call)
          : await fetchRecon(connector, settlementReference, call);
    return { connector, settlementReference, items };
  }

  async #get(connector: string, credentials: ConnectorCredentials, path: string): Promise<Answer> {
    const result = await httpRequest({
      method: 'GET',
      url: joinUrl(credentials.baseUrl, path),
      headers: authHeaders(connector, credentials),
      timeoutMs: this.#options.timeoutMs,
      maxResponseBytes: reportLimits.responseBytesMax,
    });
    return answerOf(connector, result);
  }
}

type Answer = { readonly body: unknown; readonly text: string };
type Get = (path: string) => Promise<Answer>;

function answerOf(connector: string, result: HttpResult): Answer {
  if (result.kind === 'no_response')
    throw new ReportUnavailableError(connector, `no answer (${result.reason})`);
  if (result.status !== 200)
    throw new ReportUnavailableError(
      connector,
      `HTTP ${result.status} ${result.text.slice(0, 200)}`,
    );
  return { body: result.body, text: result.text };
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

async function fetchStripe(connector: string, payoutId: string, get: Get): Promise<ReportItem[]> {
  const items: ReportItem[] = [];
  let startingAfter: string | undefined;
  let line = 1;
  for (let page = 0; page < reportLimits.pagesMax; page++) {
    const query = new URLSearchParams({ payout: payoutId, limit: String(reportLimits.pageSize) });
    if (startingAfter !== undefined) query.set('starting_after', startingAfter);
    const answer = await get(`/v1/balance_transactions?${query.toString()}`);
    const parsed = parseStripePage(answer.body, payoutId, line, connector);
    items.push(...parsed.items);
    checkSize(connector, items.length);
    if (!parsed.hasMore) return items;
    line += reportLimits.pageSize;
    startingAfter = parsed.lastId;
  }
  throw new ReportFormatError(connector, `more than ${reportLimits.pagesMax} pages`);
}

async function fetchAdyen(connector: string, batchNumber: string, get: Get): Promise<ReportItem[]> {
  if (!/^\d{1,12}$/.test(batchNumber))
    throw new ReportFormatError(connector, `batch number '${batchNumber}' is not a number`);
  const answer = await get(`/reports/settlement_detail_report_batch_${batchNumber}.csv`);
  return parseAdyenSettlementCsv(answer.text, batchNumber, connector);
}

async function fetchRecon(
  connector: string,
  settlementId: string,
  get: Get,
): Promise<ReportItem[]> {
  const items: ReportItem[] = [];
  for (let page = 0; page < reportLimits.pagesMax; page++) {
    const query = new URLSearchParams({
      settlement_id: settlementId,
      count: String(reportLimits.pageSize),
      skip: String(items.length),
    });
    const answer = await get(`/v1/settlements/recon/combined?${query.toString()}`);
    const parsed = parseRazorpayRecon(answer.body, settlementId, items.length + 1, connector);
    items.push(...parsed);
    checkSize(connector, items.length);
    // A short page is the last; a server that ignores paging answers everything at once.
    if (parsed.length !== reportLimits.pageSize) return items;
  }
  throw new ReportFormatError(connector, `more than ${reportLimits.pagesMax} pages`);
}

function checkSize(connector: string, count: number): void {
  if (count > reportLimits.itemsMax)
    throw new ReportFormatError(connector, `more than ${reportLimits.itemsMax} items`);
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
