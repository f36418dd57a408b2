// Passive side of the BGP transport (RFC 4271 §8.2.1.1, passive TCP
// establishment): listens on every configured address × port and hands each
// accepted socket to its owner with the remote address normalised
// (IPv4-mapped IPv6 "::ffff:a.b.c.d" becomes "a.b.c.d", IPv6 in RFC 5952 form)
// so it compares equal to configured neighbor addresses. Deciding which
// session gets the socket (configured neighbor, listen range, or reject) is
// the owner's job; `findListenRange` below is the range lookup.
// "::" is bound with ipv6Only so "0.0.0.0" and "::" can coexist on one port.

import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from '../../lib/log.js';
import { prefixParse, v4Contains, v4Key, v4Parse, v6KeyBytes, v6KeyLength, v6Parse, v6ToString } from '../../lib/prefix.js';

export interface AcceptedConnection {
  readonly socket: Socket;
  /** Normalised remote address. */
  readonly remote: string;
  readonly remotePort: number;
  /** Normalised local address the peer connected to. */
  readonly local: string;
  readonly localPort: number;
}

export interface ListenerOptions {
  readonly addresses: readonly string[];
  /** 0 = ephemeral: the first address picks a port and the others reuse it. */
  readonly port: number;
  readonly logger: Logger;
  readonly onConnection: (c: AcceptedConnection) => void;
}

/** Canonical text of an address: IPv4-mapped IPv6 unwrapped, IPv6 per RFC 5952. */
export function normalizeAddress(address: string): string {
  const zone = address.indexOf('%');
  const bare = zone >= 0 ? address.slice(0, zone) : address;
  if (isIP(bare) !== 6) return bare;
  const bytes = v6Parse(bare);
  if (!bytes) return bare;
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  return v6ToString(bytes);
}

/** True when `address` (normalised text) lies inside prefix text `prefix`. */
export function prefixContainsAddress(prefix: string, address: string): boolean {
  const key = prefixParse(prefix);
  if (key === undefined) return false;
  if (typeof key === 'number') {
    const a = v4Parse(address);
    return a !== undefined && v4Contains(key, v4Key(a, 32));
  }
  const a = v6Parse(address);
  if (!a || address.indexOf(':') < 0) return false;
  const net = v6KeyBytes(key);
  const len = v6KeyLength(key);
  for (let bit = 0; bit < len; bit += 8) {
    const i = bit >> 3;
    const bits = Math.min(8, len - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

/** The first listen range whose prefix contains `address`, or undefined. */
export function findListenRange<R extends { readonly prefix: string }>(ranges: readonly R[], address: string): R | undefined {
  return ranges.find((r) => prefixContainsAddress(r.prefix, address));
}

export class BgpListener {
  private readonly servers: Server[] = [];
  private boundPort = 0;

  constructor(private readonly opts: ListenerOptions) {}

  /** Binds every address; rejects (after closing what was bound) if one fails. */
  async start(): Promise<{ addresses: string[]; port: number }> {
    let port = this.opts.port;
    try {
      for (const address of this.opts.addresses) {
        const server = createServer({ noDelay: true, pauseOnConnect: false }, (s) => this.accept(s));
        server.on('error', (err) => this.opts.logger.error({ event: 'listener-error', address, err: err.message }, 'listener error'));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: address, port, ipv6Only: isIP(address) === 6, exclusive: true }, () => {
            server.removeListener('error', reject);
            resolve();
          });
        });
        this.servers.push(server);
        const bound = server.address();
        if (port === 0 && bound && typeof bound === 'object') port = bound.port;
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    this.boundPort = port;
    return { addresses: [...this.opts.addresses], port };
  }

  /** The bound port (useful when started with port 0). */
  get port(): number {
    return this.boundPort;
  }

  /**
   * Stops accepting. Connections already handed over stay up (their sessions
   * own them), so this does not wait for them as net.Server#close would.
   */
  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    for (const s of servers) s.close();
    await new Promise((resolve) => setImmediate(resolve));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const remote = socket.remoteAddress;
    const local = socket.localAddress;
    if (!remote || !local) {
      socket.destroy();
      return;
    }
    try {
      this.opts.onConnection({
        socket,
        remote: normalizeAddress(remote),
        remotePort: socket.remotePort ?? 0,
        local: normalizeAddress(local),
        localPort: socket.localPort ?? 0,
      });
    } catch (err) {
      this.opts.logger.error({ event: 'listener-error', remote, err: (err as Error).message }, 'accept handler failed');
      socket.destroy();
    }
  }
}
