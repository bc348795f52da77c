// The outbound POST of a webhook delivery, guarded against server-side request forgery (ssrf.ts):
// the host is resolved here, every address it resolves to is checked, and the connection goes to
// a checked address (the socket's own lookup is replaced), so a name that answers a public address
// to the check and a private one to the connection (DNS rebinding) cannot get through.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { DomainError } from '../errors.ts';
import { addressRefusal, hostAddress, type AddressPolicy } from './ssrf.ts';

export type ResolvedAddress = { readonly address: string; readonly family: number };

/** Every address of a host name; injected by tests so that no name is ever resolved for real. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  dns.promises.lookup(hostname, { all: true, verbatim: true });

/** The request was not sent: the URL's host is, or resolves to, an address the policy refuses. */
export class AddressRefusedError extends DomainError<'url_invalid'> {
  constructor(message: string) {
    super('url_invalid', 'invalid', message, 'url');
    this.name = 'AddressRefusedError';
  }
}

export type GuardedPost = {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  readonly policy: AddressPolicy;
  readonly resolve: Resolver;
};

async function checkedAddresses(
  hostname: string,
  policy: AddressPolicy,
  resolve: Resolver,
): Promise<readonly ResolvedAddress[]> {
  const literal = hostAddress(hostname);
  const addresses =
    literal === undefined
      ? await resolve(hostname)
      : [{ address: literal, family: literal.includes(':') ? 6 : 4 }];
  if (addresses.length === 0) throw new AddressRefusedError(`${hostname} resolves to no address`);
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal !== undefined)
      throw new AddressRefusedError(`refused to connect to ${hostname}: ${refusal}`);
  }
  return addresses;
}

/** A socket lookup that answers only the addresses already checked, whatever it is asked. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const first = addresses[0] as ResolvedAddress;
    if (options.all === true)
      (callback as unknown as (error: null, all: ResolvedAddress[]) => void)(null, [...addresses]);
    else callback(null, first.address, first.family);
  };
}

function timeout<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * POSTs the body and answers the response's status; the response's body is discarded. No
 * redirects are followed (a 3xx is the answer), no connection is reused (each is checked anew).
 * Rejects with AddressRefusedError before connecting when an address is refused, and with the
 * signal's TimeoutError after `timeoutMs` in all (resolution included).
 */
export async function guardedPost(request: GuardedPost): Promise<number> {
  const url = new URL(request.url);
  const signal = AbortSignal.timeout(request.timeoutMs);
  const addresses = await timeout(
    checkedAddresses(url.hostname, request.policy, request.resolve),
    signal,
  );
  const transport = url.protocol === 'https:' ? https : http;
  const body = Buffer.from(request.body, 'utf8');
  return new Promise<number>((resolve, reject) => {
    const outgoing = transport.request(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(body.length) },
        lookup: pinnedLookup(addresses),
        agent: false,
        signal,
      },
      (response) => {
        // Only the status is used: the connection is closed rather than read to its end.
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
