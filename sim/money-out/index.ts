// Money out in the simulator (CONTRACT.md "Money out"): the acquirer, the bank and the PSP
// settlement reports, wired into the server (routes /acquirer, /bank, report paths under the PSP
// prefixes, POST /_sim/ground_truth/bulk) and the admin API (settings, faults, fees, ground truth).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, type SimResponse } from '../http.ts';
import type { SimStore } from '../store.ts';
import {
  Acquirer,
  answer,
  drainThen,
  parseAcquirerFaults,
  parseAcquirerSettings,
  streamChunks,
} from './acquirer.ts';
import { Bank, FAILURE_REASONS, parseBankFaults } from './bank.ts';
import { fileRoute } from './files.ts';
import { DEFAULT_FEES, parseFeeSchedule, type FeeSchedule } from './fees.ts';
import { authenticateReport, matchReport } from './reports.ts';
import { parseSeeding, type ReconSeeding } from './seeding.ts';
import { AMOUNT_MAX } from '../psps/common.ts';

export class MoneyOut {
  readonly bank = new Bank();
  readonly acquirer: Acquirer;
  readonly #psps: readonly string[];

  constructor(store: SimStore, psps: readonly string[]) {
    this.#psps = psps;
    this.acquirer = new Acquirer(store, this.bank, psps);
  }

  /** Reconciliation seeding (shared by the acquirer's reports and the bank). */
  get seeding(): ReconSeeding {
    return this.bank.seeding;
  }

  reset(): void {
    this.acquirer.reset();
    this.bank.reset();
    this.bank.seeding.reset();
  }

  /** GET /_sim/files…: whole report and statement files (segments after "files"). */
  handleFile(
    req: IncomingMessage,
    res: ServerResponse,
    segments: readonly string[],
    query: string,
  ): void {
    drainThen(req, () => {
      if ((req.method ?? 'GET') !== 'GET') {
        answer(res, 405, JSON.stringify({ error: { message: 'files are read with GET' } }));
        return;
      }
      const result = fileRoute(this.acquirer, this.bank, segments, new URLSearchParams(query));
      if ('chunks' in result)
        streamChunks(res, result.status, result.contentType, result.chunks, {
          'content-disposition': `attachment; filename="${result.filename}"`,
        });
      else answer(res, result.status, result.text, result.contentType);
    });
  }

  /** /acquirer/…: the body is streamed, so this takes the raw request. */
  handleAcquirer(req: IncomingMessage, res: ServerResponse, segments: readonly string[]): void {
    this.acquirer.handle(req, res, segments);
  }

  /** /bank/…, with the body already read (JSON payouts are small). */
  handleBank(
    res: ServerResponse,
    req: IncomingMessage,
    segments: readonly string[],
    query: string,
    bodyText: string,
  ): void {
    const result = this.bank.handle(req.method ?? 'GET', segments, req.headers, query, bodyText);
    if (result.lose === true) res.socket?.destroy();
    else answer(res, result.status, result.text, result.contentType);
  }

  /** True when the request is a settlement report read (then it has been answered). */
  tryReport(
    psp: string,
    req: IncomingMessage,
    res: ServerResponse,
    segments: readonly string[],
    query: string,
  ): boolean {
    const route = matchReport(psp, req.method ?? 'GET', segments);
    if (route === undefined) return false;
    drainThen(req, () => {
      if (!authenticateReport(psp, req.headers)) {
        answer(
          res,
          401,
          JSON.stringify({ error: { message: `wrong or missing ${psp} credentials` } }),
        );
        return;
      }
      const result = route(this.acquirer, segments, new URLSearchParams(query));
      if ('chunks' in result) streamChunks(res, result.status, result.contentType, result.chunks);
      else answer(res, result.status, result.text, result.contentType);
    });
    return true;
  }

  seedBulk(req: IncomingMessage, res: ServerResponse): void {
    this.acquirer.seedBulk(req, res);
  }

  /** Admin routes of money out, or undefined when the path is not one of them. */
  admin(method: string, segments: readonly string[], bodyText: string): SimResponse | undefined {
    const [resource, name, extra] = segments;
    if (resource === 'reconciliation' && name === undefined)
      return this.#seedingRoute(method, bodyText);
    if (resource === 'acquirer' && name === undefined) {
      if (method === 'GET') return json(200, { acquirer: this.acquirer.settings });
      if (method !== 'PUT') return undefined;
      const parsed = parseAcquirerSettings(parseBody(bodyText), this.acquirer.settings);
      if (!parsed.ok) return adminError(400, parsed.message);
      this.acquirer.settings = parsed.value;
      return json(200, { acquirer: parsed.value });
    }
    if (
      (resource === 'acquirer' || resource === 'bank') &&
      name === 'faults' &&
      extra === undefined
    ) {
      const target = resource === 'acquirer' ? this.acquirer : this.bank;
      if (method === 'GET') return json(200, { [resource]: target.faults ?? null });
      if (method === 'DELETE') {
        target.configureFaults(undefined);
        return json(200, { [resource]: null });
      }
      if (method !== 'PUT') return undefined;
      const body = parseBody(bodyText);
      if (resource === 'acquirer') {
        const parsed = parseAcquirerFaults(body);
        if (!parsed.ok) return adminError(400, parsed.message);
        this.acquirer.configureFaults(parsed.value);
        return json(200, { acquirer: parsed.value });
      }
      const parsed = parseBankFaults(body);
      if (!parsed.ok) return adminError(400, parsed.message);
      this.bank.configureFaults(parsed.value);
      return json(200, { bank: parsed.value });
    }
    if (resource === 'fees' && extra === undefined) {
      if (name === undefined)
        return method === 'GET' ? json(200, Object.fromEntries(this.acquirer.fees)) : undefined;
      if (!this.#psps.includes(name)) return adminError(404, `unknown psp "${name}"`);
      const current = this.acquirer.fees.get(name) as FeeSchedule;
      if (method === 'GET') return json(200, { [name]: current });
      if (method === 'DELETE') {
        const defaults = DEFAULT_FEES[name] as FeeSchedule;
        this.acquirer.fees.set(name, defaults);
        return json(200, { [name]: defaults });
      }
      if (method !== 'PUT') return undefined;
      const parsed = parseFeeSchedule(parseBody(bodyText), current);
      if (!parsed.ok) return adminError(400, parsed.message);
      this.acquirer.fees.set(name, parsed.schedule);
      return json(200, { [name]: parsed.schedule });
    }
    return undefined;
  }

  /** GET, PUT (replaces the settings, the PRNG restarts from seed) and DELETE /_sim/reconciliation. */
  #seedingRoute(method: string, bodyText: string): SimResponse | undefined {
    const seeding = this.bank.seeding;
    if (method === 'GET') return json(200, { reconciliation: seeding.settings ?? null });
    if (method === 'DELETE') {
      seeding.configure(undefined);
      return json(200, { reconciliation: null });
    }
    if (method !== 'PUT') return undefined;
    const parsed = parseSeeding(parseBody(bodyText), Object.keys(FAILURE_REASONS), AMOUNT_MAX);
    if (!parsed.ok) return adminError(400, parsed.message);
    seeding.configure(parsed.value);
    return json(200, { reconciliation: parsed.value });
  }

  /** `,"acquirer":…,"bank":…` (to append to the ground truth), or `{"acquirer":…,"bank":…}` alone. */
  *groundTruthChunks(
    psp: string | undefined,
    withItems: boolean,
    alone = false,
  ): Generator<string> {
    yield alone ? '{"acquirer":' : ',"acquirer":';
    yield* this.acquirer.groundTruthChunks(psp, withItems);
    yield `,"bank":${JSON.stringify(this.bank.groundTruth(psp))}`;
    if (alone) yield '}';
  }

  summary(): Record<string, unknown> {
    let items = 0;
    let accepted = 0;
    for (const batch of this.acquirer.batches.values()) {
      items += batch.itemIds.length;
      accepted += batch.accepted.length;
    }
    const statuses = { paid: 0, rejected: 0, returned: 0 };
    for (const payout of this.bank.payouts.values()) statuses[payout.status] += 1;
    return {
      acquirer: {
        batches: this.acquirer.batches.size,
        items,
        accepted,
        rejected: items - accepted,
        seeded: this.acquirer.seedCount,
      },
      bank: { payouts: this.bank.payouts.size, ...statuses, credits: this.bank.credits.length },
    };
  }
}

function parseBody(text: string): unknown {
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function adminError(status: number, message: string): SimResponse {
  return json(status, { error: { message } });
}
