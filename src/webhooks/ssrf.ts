// Server-side request forgery guard for merchants' webhook endpoints. A merchant names a URL and
// Payrail POSTs to it from inside its own network: without this guard that URL could be the cloud
// metadata service (169.254.169.254), a database on 10.0.0.5 or an admin port on loopback. Only
// public addresses are reached; loopback only in test mode and only when the operator says so.
// The checks are pure functions over address text; resolution and connection are in
// guarded-post.ts, which checks every address a name resolves to and connects to a checked one.
import net from 'node:net';

/** What decides whether an address may be reached: the merchant's mode and the operator's setting. */
export type AddressPolicy = {
  readonly livemode: boolean;
  /** PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: a test-mode merchant may use a receiver on this machine. */
  readonly allowLoopback: boolean;
};

/** How webhooks learn the policy for a merchant (the deliverer's and the endpoints' options). */
export type AddressPolicyOptions = {
  /** The operator's PAYRAIL_WEBHOOK_ALLOW_LOOPBACK; off unless given. */
  readonly allowLoopback?: boolean;
  /** Whether the merchant is in live mode; until merchants have modes, every one is in test mode. */
  readonly livemodeOf?: (merchantId: string) => boolean | Promise<boolean>;
};

export async function policyFor(
  options: AddressPolicyOptions,
  merchantId: string,
): Promise<AddressPolicy> {
  return {
    livemode: (await options.livemodeOf?.(merchantId)) ?? false,
    allowLoopback: options.allowLoopback ?? false,
  };
}

export type AddressClass = 'public' | 'loopback' | 'non_public';

type Range = { readonly base: bigint; readonly bits: number };

function v4(text: string): bigint {
  return text.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function v6(text: string): bigint {
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const expand = (parts: string[]): number[] =>
    parts.flatMap((part) => {
      if (!part.includes('.')) return [Number.parseInt(part, 16)];
      const embedded = Number(v4(part));
      return [embedded >>> 16, embedded & 0xffff];
    });
  const left = expand(groups(head));
  const right = tail === undefined ? [] : expand(groups(tail));
  const hextets = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return hextets.reduce((value, hextet) => (value << 16n) | BigInt(hextet), 0n);
}

const range4 = (cidr: string): Range => {
  const [base = '', bits = '32'] = cidr.split('/');
  return { base: v4(base), bits: Number(bits) };
};
const range6 = (cidr: string): Range => {
  const [base = '', bits = '128'] = cidr.split('/');
  return { base: v6(base), bits: Number(bits) };
};

function inRange(value: bigint, width: number, range: Range): boolean {
  const shift = BigInt(width - range.bits);
  return value >> shift === range.base >> shift;
}

// IANA's special-purpose registries: nothing here is a merchant's public web server.
const ipv4NonPublic: readonly Range[] = [
  '0.0.0.0/8', // "this network"; 0.0.0.0 reaches loopback on Linux
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT
  '169.254.0.0/16', // link-local, cloud metadata
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and the broadcast address
].map(range4);
const ipv4Loopback = range4('127.0.0.0/8');

const ipv6GlobalUnicast = range6('2000::/3');
const ipv6NonPublic: readonly Range[] = [
  '2001::/23', // IETF protocol assignments, Teredo among them
  '2001:db8::/32', // documentation
  '2002::/16', // 6to4: wraps an IPv4 address of any kind
  '3fff::/20', // documentation
].map(range6);
const ipv6Loopback = v6('::1');
const ipv4Mapped = range6('::ffff:0:0/96');

function classifyIpv4(value: bigint): AddressClass {
  if (inRange(value, 32, ipv4Loopback)) return 'loopback';
  return ipv4NonPublic.some((range) => inRange(value, 32, range)) ? 'non_public' : 'public';
}

function classifyIpv6(value: bigint): AddressClass {
  if (value === ipv6Loopback) return 'loopback';
  // ::ffff:10.0.0.1 and ::ffff:7f00:1 are IPv4 addresses in IPv6 clothing: judged as IPv4.
  if (inRange(value, 128, ipv4Mapped)) return classifyIpv4(value & 0xffffffffn);
  // Only global unicast can be public: this leaves out ::, unique-local fc00::/7, link-local
  // fe80::/10, multicast ff00::/8, NAT64 64:ff9b::/96 and the deprecated IPv4-compatible ::a.b.c.d.
  if (!inRange(value, 128, ipv6GlobalUnicast)) return 'non_public';
  return ipv6NonPublic.some((range) => inRange(value, 128, range)) ? 'non_public' : 'public';
}

/** The class of an IP address in its text form (an IPv6 zone such as `%eth0` is ignored); undefined when it is not one. */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net.isIP(bare);
  if (family === 4) return classifyIpv4(v4(bare));
  if (family === 6) return classifyIpv6(v6(bare.toLowerCase()));
  return undefined;
}

/** Why the address may not be reached under the policy, or undefined when it may. */
export function addressRefusal(address: string, policy: AddressPolicy): string | undefined {
  const kind = classifyAddress(address);
  if (kind === 'public') return undefined;
  if (kind === undefined) return `'${address}' is not an IP address`;
  if (kind === 'non_public') return `${address} is not a public address`;
  if (policy.livemode) return `${address} is a loopback address, never reached in live mode`;
  return policy.allowLoopback
    ? undefined
    : `${address} is a loopback address, reached only when the operator allows it (PAYRAIL_WEBHOOK_ALLOW_LOOPBACK, test mode)`;
}

/**
 * What a URL's host is known to be before any name is resolved: an IP literal (the URL parser has
 * already turned decimal, hex and octal IPv4 spellings such as 0x7f.1 or 2130706433 into dotted
 * decimal), a name that is loopback by definition (localhost, RFC 6761), or a name to resolve.
 */
export function hostAddress(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (net.isIP(bare) !== 0) return bare;
  const lower = bare.toLowerCase();
  return lower === 'localhost' || lower.endsWith('.localhost') ? '127.0.0.1' : undefined;
}

/** Why a URL's host may not be reached, as far as can be told without resolving a name. */
export function hostRefusal(hostname: string, policy: AddressPolicy): string | undefined {
  const address = hostAddress(hostname);
  if (address === undefined) return undefined;
  const refusal = addressRefusal(address, policy);
  return refusal === undefined || address === hostname ? refusal : `${hostname}: ${refusal}`;
}

/** Whether a host is loopback: plain http is accepted only for those (a receiver on this machine). */
export function isLoopbackHost(hostname: string): boolean {
  const address = hostAddress(hostname);
  return address !== undefined && classifyAddress(address) === 'loopback';
}
