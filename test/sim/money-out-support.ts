// Clients for the simulator's money-out side (CONTRACT.md "Money out"): the acquirer's NDJSON
// clearing batches, bulk seeding, the bank and the PSP settlement reports.
import type { SimProcess } from './support.ts';

export const ACQ_AUTH = 'Bearer acq_test_sim';
export const BANK_AUTH = 'Bearer bank_test_sim';

export type Header = {
  connector: string;
  currency: string;
  cutoff_at: string;
  item_count?: number;
  net_amount?: number;
};
export type Item = {
  item_id: string;
  psp_reference: string;
  type: 'capture' | 'refund';
  amount: number;
  currency: string;
  authorized_at?: string;
};
export type Ack = {
  status: number;
  text: string;
  header: Record<string, unknown>;
  results: { item_id: string; result: string; reason_code?: string }[];
};

/** The NDJSON body of a batch; item_count and net_amount are computed unless given. */
export function batchBody(header: Header, items: readonly Item[]): string {
  const net = items.reduce(
    (sum, item) => sum + (item.type === 'capture' ? item.amount : -item.amount),
    0,
  );
  const full = { item_count: items.length, net_amount: net, ...header };
  return `${[full, ...items].map((line) => JSON.stringify(line)).join('\n')}\n`;
}

export async function submit(sim: SimProcess, batchId: string, body: string): Promise<Ack> {
  const response = await fetch(`${sim.url}/acquirer/v1/clearing_batches/${batchId}`, {
    method: 'POST',
    headers: { authorization: ACQ_AUTH, 'content-type': 'application/x-ndjson' },
    body,
  });
  const text = await response.text();
  if (response.status !== 200)
    return {
      status: response.status,
      text,
      header: JSON.parse(text) as Record<string, unknown>,
      results: [],
    };
  const lines = text.split('\n').filter((line) => line !== '');
  return {
    status: response.status,
    text,
    header: JSON.parse(lines[0] as string) as Record<string, unknown>,
    results: lines.slice(1).map((line) => JSON.parse(line) as Ack['results'][number]),
  };
}

export type Seed = {
  psp: string;
  psp_reference: string;
  type: 'capture' | 'refund';
  amount: number;
  currency: string;
  authorized_at?: string;
  reference?: string;
  payment_reference?: string;
};

export async function seed(
  sim: SimProcess,
  seeds: readonly Seed[],
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sim.url}/_sim/ground_truth/bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: seeds.map((line) => JSON.stringify(line)).join('\n'),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function getJson(
  url: string,
  authorization?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    headers: authorization === undefined ? headers : { authorization, ...headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function adminJson(
  sim: SimProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sim.url}/_sim${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export type PayoutInput = {
  payout_id: string;
  amount: number;
  currency?: string;
  requested_at: string;
  account_number: string;
};

export async function payout(
  sim: SimProcess,
  input: PayoutInput,
): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const response = await fetch(`${sim.url}/bank/v1/payouts`, {
    method: 'POST',
    headers: { authorization: BANK_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({
      payout_id: input.payout_id,
      amount: input.amount,
      currency: input.currency ?? 'usd',
      requested_at: input.requested_at,
      account: {
        holder_name: 'Ada & Co <Ltd>',
        account_number: input.account_number,
        routing_number: '110000000',
        country: 'US',
      },
    }),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

export async function statementXml(
  sim: SimProcess,
  date: string,
  query = '',
): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(`${sim.url}/bank/v1/statements/${date}${query}`, {
    headers: { authorization: BANK_AUTH },
  });
  return {
    status: response.status,
    text: await response.text(),
    type: response.headers.get('content-type'),
  };
}

export type GroundTruthMoneyOut = {
  acquirer: {
    batches: Record<string, Record<string, unknown> & { items?: Record<string, unknown>[] }>;
    seeded: number;
  };
  bank: {
    payouts: Record<string, Record<string, unknown>>;
    credits: {
      settlement_reference: string;
      amount: number;
      batch_id: string;
      entries: { entry_reference: string; amount: number; booked_on: string }[];
    }[];
  };
};

export async function moneyTruth(sim: SimProcess, query = ''): Promise<GroundTruthMoneyOut> {
  const response = await fetch(`${sim.url}/_sim/ground_truth${query}`);
  return (await response.json()) as GroundTruthMoneyOut;
}

let counter = 0;
/** A fresh id with a prefix, unique within a test run. */
export function fresh(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter.toString(36).padStart(4, '0')}`;
}
