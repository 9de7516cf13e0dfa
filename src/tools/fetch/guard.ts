// SSRF guard. Runs inside the undici connector, so it sees the address actually dialled on every
// request and every redirect hop, for names (after DNS) and IP-literal hosts alike.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';
import { ToolError } from '../types.ts';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", includes 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96], // NAT64 embeds IPv4
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4 embeds IPv4
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** Canonical (compressed, lower-case) spelling of an IPv6 address. */
function canonicalV6(a: string): string {
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a.toLowerCase();
  }
}

/** True for addresses a fetched URL must never reach (internal, reserved or special-purpose). */
export function isBlockedAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(a);
  if (family === 4) return blocked.check(a, 'ipv4');
  if (family === 6) {
    const c = canonicalV6(a);
    // IPv4-mapped (::ffff:a.b.c.d) addresses have no business in a fetched URL: refuse them all.
    if (c.startsWith('::ffff:')) return true;
    return blocked.check(c, 'ipv6');
  }
  return true; // not an address at all: refuse rather than guess
}

export interface GuardOptions {
  /** "host:port" pairs that may be fetched even if they resolve to a blocked address. */
  allowHosts: readonly string[];
  connectTimeoutMs: number;
  /** DNS resolution (default: the system resolver, every address). */
  lookup?: (hostname: string) => Promise<{ address: string }[]>;
}

export function refusal(host: string, address: string): ToolError {
  const shown = host === address ? host : `${host} (${address})`;
  return new ToolError('refused', `refused to fetch ${shown}: it is a private, local or reserved network address`);
}

export function isAllowed(allow: readonly string[], hostname: string, port: string, protocol: string): boolean {
  if (allow.length === 0) return false;
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const p = port || (protocol === 'https:' ? '443' : '80');
  return allow.some((a) => {
    const entry = a.toLowerCase().replace(/^\[([^\]]+)\]/, '$1');
    return entry === `${h}:${p}`;
  });
}

/** An undici connector that resolves the host itself and dials only a checked address. */
export function guardedConnector(opts: GuardOptions): buildConnector.connector {
  const base = buildConnector({ timeout: opts.connectTimeoutMs });
  const resolve = opts.lookup ?? ((h: string) => lookup(h, { all: true, verbatim: true }));
  return (options, callback) => {
    const { hostname, port, protocol } = options;
    const bare = hostname.replace(/^\[|\]$/g, '');
    if (isAllowed(opts.allowHosts, bare, port, protocol)) {
      base(options, callback);
      return;
    }
    if (isIP(bare)) {
      if (isBlockedAddress(bare)) callback(refusal(bare, bare), null);
      else base(options, callback);
      return;
    }
    resolve(bare).then(
      (addrs) => {
        if (addrs.length === 0) return callback(new ToolError('dns', `could not resolve ${bare}`), null);
        const bad = addrs.find((a) => isBlockedAddress(a.address));
        if (bad) return callback(refusal(bare, bad.address), null);
        // Dial only checked addresses; SNI and certificate checks still use the name.
        const dial = (address: string, done: (err: Error | null, socket: unknown) => void) =>
          base({ ...options, hostname: address, servername: options.servername || bare }, done as never);
        dialInTurn(dialOrder(addrs.map((a) => a.address)), dial, callback as never);
      },
      () => callback(new ToolError('dns', `could not resolve ${bare}`), null),
    );
  };
}

/**
 * Which checked addresses to try, in order: the first IPv4 then the first IPv6 one. Dialling an
 * address ourselves bypasses Node's happy-eyeballs, and many hosts (containers especially) have
 * no IPv6 route, so IPv4 goes first and the other family is the fallback.
 */
export function dialOrder(addresses: readonly string[]): string[] {
  const v4 = addresses.find((a) => isIP(a) === 4);
  const v6 = addresses.find((a) => isIP(a) === 6);
  return [v4, v6].filter((a): a is string => a !== undefined);
}

/** Tries each address until one connects; reports the last error when none does. */
export function dialInTurn<S>(
  addresses: readonly string[],
  dial: (address: string, done: (err: Error | null, socket: S | null) => void) => void,
  callback: (err: Error | null, socket: S | null) => void,
): void {
  const attempt = (i: number) =>
    dial(addresses[i], (err, socket) => {
      if (err && i + 1 < addresses.length) attempt(i + 1);
      else callback(err, socket);
    });
  if (addresses.length === 0) callback(new ToolError('dns', 'no usable address'), null);
  else attempt(0);
}
