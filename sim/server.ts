// The simulator's HTTP server on node:http: routes by prefix (one per PSP of psps/registry.ts, and /_sim),
// reads bounded bodies, authenticates, draws faults, runs the PSP handler (synchronously, so an
// operation and its idempotency record are one atomic step), then answers, delays the answer,
// or destroys the connection. Delayed answers are timers that die with their connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin, type AdminContext, type StreamedResponse } from './admin.ts';
import { Faults, type FaultDraw } from './faults.ts';
import type { PspApi, SimRequest, SimResponse } from './http.ts';
import { MoneyOut } from './money-out/index.ts';
import { PSPS, SIM_PSPS } from './psps/registry.ts';
import { CapacityError, DEFAULT_LIMITS, SimStore, type StoreLimits } from './store.ts';
import {
  THREE_D_SECURE_ERRORS,
  ThreeDSecureDirectory,
  handleThreeDSecure,
} from './three-d-secure.ts';
import { Webhooks } from './webhooks.ts';

export type SimulatorOptions = {
  readonly port: number;
  readonly host?: string;
  /** How long the timeout card (and a timeout fault without its own delay) holds its response. */
  readonly timeoutDelayMs?: number;
  readonly maxBodyBytes?: number;
  readonly limits?: Partial<StoreLimits>;
};

export type RunningSimulator = {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
};

export const DEFAULT_PORT = 8090;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_TIMEOUT_DELAY_MS = 30_000;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** A body declared larger than this is refused without reading it (and the connection closed). */
const DRAIN_BYTES_MAX = 1024 * 1024;
const CONNECTIONS_MAX = 20_000;
const PREFIXES = [...PSPS, '3ds', 'acquirer', 'bank', '_sim']
  .map((prefix) => `/${prefix}`)
  .join(', ');

type Context = {
  readonly apis: ReadonlyMap<string, PspApi>;
  readonly admin: AdminContext;
  readonly faults: Faults;
  readonly timeoutDelayMs: number;
  readonly maxBodyBytes: number;
  readonly pending: Set<NodeJS.Timeout>;
  readonly webhooks: Webhooks;
  readonly moneyOut: MoneyOut;
  readonly threeDSecure: ThreeDSecureDirectory;
  /** The simulator's own URL, once it listens (the 3-D Secure challenge URL's fallback host). */
  url: string;
};

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const host = options.host ?? DEFAULT_HOST;
  const timeoutDelayMs = options.timeoutDelayMs ?? DEFAULT_TIMEOUT_DELAY_MS;
  const store = new SimStore({ ...DEFAULT_LIMITS, ...options.limits });
  const faults = new Faults(PSPS);
  const webhooks = new Webhooks();
  const moneyOut = new MoneyOut(store, PSPS);
  const threeDSecure = new ThreeDSecureDirectory();
  const pspContext = { store, timeoutDelayMs, webhooks, threeDSecure };
  const apis = new Map<string, PspApi>(
    SIM_PSPS.map((module) => [module.psp, module.create(pspContext)]),
  );
  const context: Context = {
    apis,
    admin: { store, faults, webhooks, moneyOut },
    faults,
    timeoutDelayMs,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    pending: new Set(),
    webhooks,
    moneyOut,
    threeDSecure,
    url: '',
  };
  const server = createServer({ keepAliveTimeout: 10_000, noDelay: true }, (req, res) =>
    handle(context, req, res),
  );
  server.maxConnections = CONNECTIONS_MAX;
  await listen(server, options.port, host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  context.url = url;
  return { url, port, close: () => close(server, context) };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server, context: Context): Promise<void> {
  for (const timer of context.pending) clearTimeout(timer);
  context.pending.clear();
  context.webhooks.close();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function handle(context: Context, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const query = queryStart < 0 ? '' : url.slice(queryStart + 1);
  const segments = path.split('/').filter((segment) => segment.length > 0);
  const prefix = segments[0] ?? '';
  const method = req.method ?? 'GET';
  // Money out (sim/money-out/): the acquirer streams its request body; bulk seeding too.
  if (prefix === 'acquirer') {
    context.moneyOut.handleAcquirer(req, res, segments.slice(1));
    return;
  }
  if (prefix === 'bank') {
    const tooLarge = (): SimResponse => ({
      status: 413,
      text: JSON.stringify({ error: { code: 'too_large', message: 'body too large' } }),
    });
    readBody(req, res, context.maxBodyBytes, tooLarge, (bodyText) =>
      context.moneyOut.handleBank(res, req, segments.slice(1), query, bodyText),
    );
    return;
  }
  if (
    prefix === '_sim' &&
    method === 'POST' &&
    (segments[1] === 'ground_truth' || segments[1] === 'ground-truth') &&
    segments[2] === 'bulk' &&
    segments.length === 3 &&
    isLoopback(req.socket.remoteAddress ?? '')
  ) {
    context.moneyOut.seedBulk(req, res);
    return;
  }
  if (prefix === '_sim' && segments[1] === 'files' && isLoopback(req.socket.remoteAddress ?? '')) {
    context.moneyOut.handleFile(req, res, segments.slice(2), query);
    return;
  }
  if (prefix === '3ds') {
    // The 3-D Secure server and ACS (three-d-secure.ts): no PSP faults, its own key.
    readBody(req, res, context.maxBodyBytes, THREE_D_SECURE_ERRORS.tooLarge, (bodyText) => {
      const request: SimRequest = {
        method,
        segments: segments.slice(1),
        query,
        headers: req.headers,
        bodyText,
      };
      send(res, runThreeDSecure(context, request));
    });
    return;
  }
  if (prefix === '_sim') {
    handleAdminRequest(context, req, res, method, segments.slice(1), query);
    return;
  }
  const api = context.apis.get(prefix);
  if (api === undefined) {
    refuseUnread(req, res, {
      status: 404,
      text: JSON.stringify({
        error: { message: `unknown path; prefixes are ${PREFIXES}` },
      }),
    });
    return;
  }
  if (context.moneyOut.tryReport(prefix, req, res, segments.slice(1), query)) return;
  const route = api.match(method, segments.slice(1));
  if (route === undefined) {
    refuseUnread(req, res, api.errors.notFound());
    return;
  }
  readBody(req, res, context.maxBodyBytes, api.errors.tooLarge, (bodyText) => {
    const request: SimRequest = {
      method,
      segments: segments.slice(1),
      query,
      headers: req.headers,
      bodyText,
    };
    const refused = api.authenticate(request);
    if (refused !== undefined) {
      send(res, refused);
      return;
    }
    const injector = context.faults.for(api.psp);
    const draw = injector.draw(route.mutating);
    const response = draw.error ? api.errors.serverError() : run(api, () => route.handle(request));
    const faultDelayMs = draw.timeout
      ? (injector.settings?.timeoutDelayMs ?? context.timeoutDelayMs)
      : 0;
    deliver(context, req, res, response, draw, faultDelayMs);
  });
}

function run(api: PspApi, handler: () => SimResponse): SimResponse {
  try {
    return handler();
  } catch (error) {
    if (error instanceof CapacityError) return api.errors.unavailable(error.message);
    // A bug in the simulator: loud on stderr, a 500 to the client (nothing was recorded
    // unless the bug came after recording, which the log shows).
    console.error('simulator bug:', error);
    return api.errors.serverError();
  }
}

function runThreeDSecure(context: Context, request: SimRequest): SimResponse {
  try {
    return handleThreeDSecure(context.threeDSecure, request, context.url);
  } catch (error) {
    console.error('simulator bug (3-D Secure):', error);
    return {
      status: 500,
      text: JSON.stringify({ error: { code: 'server_error', message: 'simulator bug' } }),
    };
  }
}

function handleAdminRequest(
  context: Context,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  segments: readonly string[],
  query: string,
): void {
  const address = req.socket.remoteAddress ?? '';
  if (!isLoopback(address)) {
    refuseUnread(req, res, {
      status: 403,
      text: JSON.stringify({ error: { message: 'the simulator admin API is loopback only' } }),
    });
    return;
  }
  const tooLarge = (): SimResponse => ({
    status: 413,
    text: JSON.stringify({ error: { message: 'body too large' } }),
  });
  readBody(req, res, context.maxBodyBytes, tooLarge, (bodyText) => {
    const response = handleAdmin(context.admin, method, segments, query, bodyText);
    if ('chunks' in response) stream(res, response);
    else send(res, response);
  });
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** Reads the body as UTF-8 up to maxBytes; beyond it, answers tooLarge once the request is drained. */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
  tooLarge: () => SimResponse,
  done: (text: string) => void,
): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DRAIN_BYTES_MAX) {
    res.shouldKeepAlive = false;
    send(res, tooLarge());
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  // A client that goes away mid-body is no error of ours; without a listener it would throw.
  req.on('error', () => undefined);
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received <= maxBytes) chunks.push(chunk);
    else if (received > DRAIN_BYTES_MAX) req.destroy();
  });
  req.on('end', () => {
    if (received > maxBytes) {
      send(res, tooLarge());
      return;
    }
    done(
      chunks.length === 1
        ? (chunks[0] as Buffer).toString('utf8')
        : Buffer.concat(chunks).toString('utf8'),
    );
  });
}

/** Answers without needing the body; the (bounded) body is drained so keep-alive stays usable. */
function refuseUnread(req: IncomingMessage, res: ServerResponse, response: SimResponse): void {
  readBody(
    req,
    res,
    0,
    () => response,
    () => send(res, response),
  );
}

function deliver(
  context: Context,
  req: IncomingMessage,
  res: ServerResponse,
  response: SimResponse,
  draw: FaultDraw,
  faultDelayMs: number,
): void {
  const lose = draw.lost || response.lose === true;
  const delayMs = draw.latencyMs + faultDelayMs + (response.delayMs ?? 0);
  const act = (): void => {
    if (lose) req.socket.destroy();
    else send(res, response);
  };
  if (delayMs <= 0) {
    act();
    return;
  }
  const onClose = (): void => {
    clearTimeout(timer);
    context.pending.delete(timer);
  };
  const timer = setTimeout(() => {
    context.pending.delete(timer);
    res.off('close', onClose);
    act();
  }, delayMs);
  context.pending.add(timer);
  res.on('close', onClose);
}

function send(res: ServerResponse, response: SimResponse): void {
  if (res.destroyed || res.headersSent) return;
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(response.text),
  };
  if (response.headers !== undefined) Object.assign(headers, response.headers);
  res.writeHead(response.status, headers);
  res.end(response.text);
}

function stream(res: ServerResponse, response: StreamedResponse): void {
  res.writeHead(response.status, { 'content-type': 'application/json' });
  for (const chunk of response.chunks) {
    if (res.destroyed) return;
    res.write(chunk);
  }
  res.end();
}
