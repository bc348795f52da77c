// The bank's statement API: `GET <baseUrl>/v1/statements/:date` (the booking date) answers the
// camt.053 XML of that day. The platform's own credentials (Bearer); in test mode the simulator's
// bank (`<simulator>/bank`, `bank_test_sim`).
import { httpRequest } from '../connectors/http.ts';
import { joinUrl } from '../connectors/wire.ts';
import { parseCamt053, statementLimits, type Statement } from './camt053.ts';

export interface BankStatementSource {
  /** The statement of one booking day (YYYY-MM-DD); a day without entries has none. */
  fetch(date: string): Promise<Statement>;
}

export type BankCredentials = { readonly baseUrl: string; readonly apiKey: string };

export class BankUnavailableError extends Error {
  constructor(message: string) {
    super(`bank statement unavailable: ${message}`);
    this.name = 'BankUnavailableError';
  }
}

export class HttpBankStatements implements BankStatementSource {
  readonly #credentials: BankCredentials;
  readonly #timeoutMs: number;

  constructor(credentials: BankCredentials, options: { readonly timeoutMs?: number } = {}) {
    this.#credentials = credentials;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async fetch(date: string): Promise<Statement> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`'${date}' is not a date`);
    const result = await httpRequest({
      method: 'GET',
      url: joinUrl(this.#credentials.baseUrl, `/v1/statements/${date}`),
      headers: {
        authorization: `Bearer ${this.#credentials.apiKey}`,
        accept: 'application/xml',
      },
      timeoutMs: this.#timeoutMs,
      maxResponseBytes: statementLimits.bytesMax,
    });
    if (result.kind === 'no_response')
      throw new BankUnavailableError(`no answer (${result.reason})`);
    if (result.status === 404) return { statementId: `none-${date}`, entries: [] };
    if (result.status !== 200)
      throw new BankUnavailableError(`HTTP ${result.status} ${result.text.slice(0, 200)}`);
    return parseCamt053(result.text);
  }
}

/** The simulator's bank as test mode reaches it (sim/CONTRACT.md). */
export function simulatorBankCredentials(simulatorUrl: string): BankCredentials {
  return { baseUrl: `${simulatorUrl.replace(/\/+$/, '')}/bank`, apiKey: 'bank_test_sim' };
}
