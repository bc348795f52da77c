// The merchants' webhook receiver: one node:http server, one path per merchant, each verified
// with that merchant's endpoint secret by the `standardwebhooks` package (the reference
// implementation of the spec, not ours). An event counts as received once it was verified and
// answered 2xx; a few valid deliveries are answered 500 on purpose (seeded) so that the
// deliverer's retries are exercised.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Random } from './random.ts';

const bodyBytesMax = 1_048_576;

export type WebhookReceiver = {
  readonly url: string;
  /** The URL to give Payrail for the endpoint `name`. */
  endpointUrl(name: string): string;
  /** The signing secret of the endpoint `name` (its deliveries are refused until it is set). */
  setSecret(name: string, secret: string): void;
  /** Event ids verified and accepted (2xx) per endpoint name. */
  accepted(name: string): ReadonlySet<string>;
  /** When each event id was first accepted (ms since the epoch). */
  readonly acceptedAt: ReadonlyMap<string, number>;
  readonly stats: {
    deliveries: number;
    accepted: number;
    duplicates: number;
    injectedFailures: number;
    invalidSignatures: number;
    invalidSamples: string[];
  };
  close(): Promise<void>;
};

export async function startWebhookReceiver(
  random: Random,
  failureRate: number,
): Promise<WebhookReceiver> {
  const secrets = new Map<string, Webhook>();
  const accepted = new Map<string, Set<string>>();
  const acceptedAt = new Map<string, number>();
  const stats: WebhookReceiver['stats'] = {
    deliveries: 0,
    accepted: 0,
    duplicates: 0,
    injectedFailures: 0,
    invalidSignatures: 0,
    invalidSamples: [],
  };
  const invalid = (reason: string) => {
    stats.invalidSignatures++;
    if (stats.invalidSamples.length < 5) stats.invalidSamples.push(reason.slice(0, 300));
  };
  const handle = (request: http.IncomingMessage, body: string): number => {
    stats.deliveries++;
    const name = /^\/hooks\/([\w-]+)$/.exec(request.url ?? '')?.[1];
    const verifier = name === undefined ? undefined : secrets.get(name);
    if (name === undefined) {
      invalid(`unknown path ${request.url}`);
      return 404;
    }
    if (verifier === undefined) return 503; // its secret is not known yet: Payrail retries
    let payload: unknown;
    try {
      payload = verifier.verify(body, request.headers as Record<string, string>);
    } catch (error) {
      invalid(
        `${name}: ${(error as Error).message} (webhook-id ${String(request.headers['webhook-id'])})`,
      );
      return 400;
    }
    const id = (payload as { id?: unknown }).id;
    if (typeof id !== 'string' || id !== request.headers['webhook-id']) {
      invalid(
        `${name}: body id ${String(id)} differs from webhook-id ${String(request.headers['webhook-id'])}`,
      );
      return 400;
    }
    if (random.chance(failureRate)) {
      stats.injectedFailures++;
      return 500;
    }
    const seen = accepted.get(name) ?? new Set<string>();
    accepted.set(name, seen);
    if (seen.has(id)) stats.duplicates++;
    else acceptedAt.set(id, Date.now());
    seen.add(id);
    stats.accepted++;
    return 200;
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= bodyBytesMax) chunks.push(chunk);
    });
    request.on('end', () => {
      const status =
        size > bodyBytesMax ? 413 : handle(request, Buffer.concat(chunks).toString('utf8'));
      response
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(status === 200 ? 'ok' : 'no');
    });
    request.on('error', () => response.destroy());
  });
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    endpointUrl: (name) => `${url}/hooks/${name}`,
    setSecret: (name, secret) => void secrets.set(name, new Webhook(secret)),
    accepted: (name) => accepted.get(name) ?? new Set(),
    acceptedAt,
    stats,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
