// Runs the real simulator process (node sim/main.ts on a free port) for a test file, and small
// clients that speak each PSP's wire format to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const STARTUP_TIMEOUT_MS = 10_000;

export type SimProcess = {
  readonly url: string;
  readonly child: ChildProcess;
  readonly stderr: string[];
  stop(): Promise<number | null>;
};

export async function startSimProcess(env: Record<string, string> = {}): Promise<SimProcess> {
  const child = spawn(process.execPath, ['sim/main.ts'], {
    cwd: repositoryRoot,
    env: { ...process.env, SIM_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`simulator did not start: ${stderr.join('')}`)),
      STARTUP_TIMEOUT_MS,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /PSP simulator listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited with ${code}: ${stderr.join('')}`));
    });
  });
  return {
    url,
    child,
    stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

export type Json = Record<string, unknown>;

/** The value at a path in parsed JSON (undefined when any step is missing): at(body, 'error', 'code'). */
export function at(value: unknown, ...path: readonly (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

/** A string at a path, failing the test if it is not one. */
export function text(value: unknown, ...path: readonly (string | number)[]): string {
  const found = at(value, ...path);
  if (typeof found !== 'string')
    throw new Error(`expected a string at ${path.join('.')}, got ${JSON.stringify(found)}`);
  return found;
}
export type Reply = {
  readonly status: number;
  readonly body: Json;
  readonly headers: Headers;
  readonly elapsedMs: number;
};

async function exchange(url: string, init: RequestInit): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? {} : (JSON.parse(text) as Json),
    headers: response.headers,
    elapsedMs: performance.now() - started,
  };
}

export type CallOptions = {
  readonly key?: string;
  readonly method?: string;
  readonly authorization?: string | null;
  readonly signal?: AbortSignal;
};

// ---- Stripe ----

export const STRIPE_AUTH = 'Bearer sk_test_sim';

export function stripe(
  sim: SimProcess,
  path: string,
  params?: Record<string, string>,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const authorization = options.authorization === undefined ? STRIPE_AUTH : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  let body: string | undefined;
  if (params !== undefined) {
    body = new URLSearchParams(params).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const method = options.method ?? (params === undefined ? 'GET' : 'POST');
  return exchange(`${sim.url}/stripe${path}`, { method, headers, body, signal: options.signal });
}

export function stripeIntent(
  number: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    amount: '1000',
    currency: 'usd',
    confirm: 'true',
    capture_method: 'automatic',
    'payment_method_data[type]': 'card',
    'payment_method_data[card][number]': number,
    'payment_method_data[card][exp_month]': '12',
    'payment_method_data[card][exp_year]': '2030',
    'payment_method_data[card][cvc]': '123',
    'metadata[reference]': `att_${Math.random().toString(36).slice(2)}`,
    ...extra,
  };
}

// ---- Razorpay ----

export const RAZORPAY_AUTH = `Basic ${Buffer.from('rzp_test_sim:sim_secret').toString('base64')}`;

export function razorpay(
  sim: SimProcess,
  path: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const authorization = options.authorization === undefined ? RAZORPAY_AUTH : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (options.key !== undefined) headers['x-idempotency-key'] = options.key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const method = options.method ?? (body === undefined ? 'GET' : 'POST');
  const text =
    body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return exchange(`${sim.url}/razorpay${path}`, {
    method,
    headers,
    body: text,
    signal: options.signal,
  });
}

export function razorpayPayment(
  number: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const reference = `att_${Math.random().toString(36).slice(2)}`;
  return {
    amount: 50_000,
    currency: 'INR',
    method: 'card',
    card: { number, expiry_month: 12, expiry_year: 2030, cvv: '123', name: 'Test Holder' },
    receipt: reference,
    notes: { reference },
    capture: false,
    ...extra,
  };
}

// ---- Paytm ----

export const PAYTM_MID = 'SIMMID00000000000001';
export const PAYTM_KEY = 'sim_merchant_key';

export function paytmSign(bodyText: string, key = PAYTM_KEY): string {
  return createHmac('sha256', key).update(bodyText).digest('base64');
}

/** Sends {head:{signature}, body} with the signature over the exact body text sent. */
export function paytm(
  sim: SimProcess,
  path: string,
  body: Record<string, unknown>,
  options: { signature?: string; signal?: AbortSignal } = {},
): Promise<Reply> {
  const bodyText = JSON.stringify(body);
  const signature = options.signature ?? paytmSign(bodyText);
  const text = `{"head":{"signature":${JSON.stringify(signature)}},"body":${bodyText}}`;
  return exchange(`${sim.url}/paytm${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: text,
    signal: options.signal,
  });
}

export function paytmRaw(sim: SimProcess, path: string, text: string): Promise<Reply> {
  return exchange(`${sim.url}/paytm${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: text,
  });
}

export function paytmOrder(
  number: string,
  value = '10.00',
  orderId = `ORD_${Math.random().toString(36).slice(2)}`,
): Record<string, unknown> {
  return {
    mid: PAYTM_MID,
    orderId,
    txnAmount: { value, currency: 'INR' },
    paymentMode: 'CREDIT_CARD',
    cardInfo: `|${number}|123|122030`,
  };
}

// ---- Admin ----

export function admin(
  sim: SimProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  return exchange(`${sim.url}/_sim${path}`, init);
}

// The simulator's ground truth is read the same way by every test.
export { groundTruth, type GroundTruth } from '../support/simulator.ts';

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const CARDS = {
  visa: '4242424242424242',
  mastercard: '5555555555554444',
  amex: '378282246310005',
  insufficientFunds: '4000000000009995',
  lost: '4000000000009987',
  stolen: '4000000000009979',
  genericDecline: '4000000000000002',
  expired: '4000000000000069',
  incorrectCvc: '4000000000000127',
  processingError: '4000000000000119',
  velocity: '4000000000006975',
  declineAfterAttach: '4000000000000341',
  radarBlock: '4100000000000019',
  riskHighest: '4000000000004954',
  threeDSecureRequired: '4000002760003184',
  threeDSecureLookupError: '4000008400001280',
  error: '4000009990000013',
  timeout: '4000009990000021',
  lostResponse: '4000009990000039',
} as const;
