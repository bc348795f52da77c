// The fuzz sets connector URLs and webhook endpoints to whatever it generates; nothing it makes
// the server do may reach beyond this machine. Every socket this process opens (fetch, http,
// tls, the PSP connectors) goes through net.Socket#connect and every name through dns.lookup:
// both refuse anything but loopback while the guard is installed, and count what they refused.
import dns from 'node:dns';
import net from 'node:net';

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;
type Lookup = typeof dns.lookup;

const loopbackNames = new Set(['localhost', 'localhost.', '']);

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (loopbackNames.has(bare.toLowerCase())) return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

/** The host a Socket#connect call names; undefined for a Unix socket path. */
function hostOf(args: unknown[]): string | undefined {
  const [first, second] = args;
  if (Array.isArray(first)) return hostOf(first as unknown[]);
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: unknown; path?: unknown };
    if (typeof options.path === 'string') return undefined;
    return typeof options.host === 'string' ? options.host : 'localhost';
  }
  if (typeof first === 'number' || /^\d+$/.test(String(first)))
    return typeof second === 'string' ? second : 'localhost';
  return undefined;
}

export type NetworkGuard = { readonly refused: string[]; uninstall(): void };

export function installLoopbackOnlyGuard(): NetworkGuard {
  const refused: string[] = [];
  const connect = net.Socket.prototype.connect as unknown as Connect;
  const lookup = dns.lookup;
  const promisesLookup = dns.promises.lookup;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const host = hostOf(args);
    if (host === undefined || isLoopback(host)) return connect.apply(this, args);
    refused.push(host);
    process.nextTick(() => this.destroy(new Error(`fuzz: refused to connect to ${host}`)));
    return this;
  } as unknown as typeof net.Socket.prototype.connect;
  dns.lookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
    if (isLoopback(hostname)) return (lookup as (...args: unknown[]) => void)(hostname, ...rest);
    refused.push(hostname);
    const callback = rest.at(-1) as (error: Error) => void;
    const error = Object.assign(new Error(`fuzz: refused to resolve ${hostname}`), {
      code: 'ENOTFOUND',
    });
    process.nextTick(() => callback(error));
  } as Lookup;
  dns.promises.lookup = (async (hostname: string, ...rest: unknown[]) => {
    if (isLoopback(hostname))
      return (promisesLookup as (...args: unknown[]) => Promise<unknown>)(hostname, ...rest);
    refused.push(hostname);
    throw Object.assign(new Error(`fuzz: refused to resolve ${hostname}`), { code: 'ENOTFOUND' });
  }) as typeof dns.promises.lookup;
  return {
    refused,
    uninstall() {
      net.Socket.prototype.connect = connect as unknown as typeof net.Socket.prototype.connect;
      dns.lookup = lookup;
      dns.promises.lookup = promisesLookup;
    },
  };
}
