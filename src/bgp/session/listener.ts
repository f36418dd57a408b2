// Passive side of the BGP transport (RFC 4271 §8.2.1.1, passive TCP
// establishment): listens on every configured address × port and hands each
// accepted socket to its owner with the remote address normalised
// (IPv4-mapped IPv6 "::ffff:a.b.c.d" becomes "a.b.c.d", IPv6 in RFC 5952 form)
// so it compares equal to configured neighbor addresses. Deciding which
// session gets the socket (configured neighbor, listen range, or reject) is
// the owner's job; `findListenRange` below is the range lookup.
// "::" is bound with ipv6Only so "0.0.0.0" and "::" can coexist on one port.
// Transport security (socket-options.ts): each listening socket carries one
// TCP MD5 key per neighbor and per listen range of its family (RFC 2385;
// ranges via TCP_MD5SIG_EXT prefixes), updated on reload, and GTSM (RFC 5082)
// settings; every accepted socket gets its peer's exact GTSM minimum TTL
// before anything is read from it. A connection whose protection could not be
// put in place is refused (fail closed). Caveat: with peers of differing GTSM
// settings the listener cannot drop a far SYN, so the handshake completes and
// the socket's minimum TTL then drops the peer's OPEN, and the session never
// comes up. Keys are installed in the tick listen() returns; a handshake that
// completes before that has no key, and the kernel then drops the signed
// segments of a real peer on it.

import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from '../../lib/log.js';
import type { NativeAddon } from '../../lib/native.js';
import {
  handleFd,
  listenerGtsm,
  nativeForSecurity,
  setGtsm,
  setMd5Key,
  setMinTtl,
  setTtl,
  type IpFamily,
  type ListenerSecurity,
  type SecuredSource,
  type SecurityResult,
} from './socket-options.js';
import { prefixParse, v4Contains, v4Key, v4Parse, v6KeyBytes, v6KeyLength, v6Parse } from '../../lib/prefix.js';
import { normalizeAddress } from '../../lib/address.js';

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
  /** MD5 keys and GTSM per neighbor / listen range; none by default. */
  readonly security?: ListenerSecurity;
  /** The addon loader (tests substitute a failing one). */
  readonly loadNative?: () => NativeAddon;
}

/** One listening socket and the keys installed on it (source id -> password). */
interface Bound {
  readonly server: Server;
  readonly address: string;
  readonly family: IpFamily;
  readonly keys: Map<string, string>;
  /** Sources whose key could not be installed: their connections are refused. */
  readonly failed: Set<string>;
  minTtl: number;
  ttl: number;
}

const NO_SECURITY: ListenerSecurity = { neighbors: [], ranges: [] };
const sourceId = (s: SecuredSource): string => (s.prefixLength === undefined ? s.address : `${s.address}/${s.prefixLength}`);

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
  private readonly servers: Bound[] = [];
  private boundPort = 0;
  private security: ListenerSecurity;

  constructor(private readonly opts: ListenerOptions) {
    this.security = opts.security ?? NO_SECURITY;
  }

  /** Binds every address; rejects (after closing what was bound) if one fails. */
  async start(): Promise<{ addresses: string[]; port: number }> {
    let port = this.opts.port;
    try {
      for (const address of this.opts.addresses) {
        const family: IpFamily = isIP(address) === 6 ? 6 : 4;
        const bound: Bound = { server: undefined as unknown as Server, address, family, keys: new Map(), failed: new Set(), minTtl: 0, ttl: -1 };
        const server = createServer({ noDelay: true, pauseOnConnect: false }, (s) => this.accept(bound, s));
        (bound as { server: Server }).server = server;
        server.on('error', (err) => this.opts.logger.error({ event: 'listener-error', address, err: err.message }, 'listener error'));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: address, port, ipv6Only: isIP(address) === 6, exclusive: true }, () => {
            server.removeListener('error', reject);
            resolve();
          });
        });
        this.servers.push(bound);
        this.secure(bound);
        const at = server.address();
        if (port === 0 && at && typeof at === 'object') port = at.port;
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
    for (const s of servers) s.server.close();
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Replaces the MD5 keys and GTSM settings (reload): adds, changes and removes keys on every listening socket. */
  setSecurity(security: ListenerSecurity): void {
    this.security = security;
    for (const b of this.servers) this.secure(b);
  }

  /** The neighbor (exact address) or else the first listen range `remote` belongs to. */
  securityFor(remote: string): SecuredSource | undefined {
    return (
      this.security.neighbors.find((n) => normalizeAddress(n.address) === remote) ??
      this.security.ranges.find((r) => prefixContainsAddress(`${r.address}/${r.prefixLength}`, remote))
    );
  }

  private fail(r: Exclude<SecurityResult, { ok: true }>, fields: Record<string, unknown>): void {
    this.opts.logger.error({ event: 'security-error', option: r.option, ...(r.errno !== undefined ? { errno: r.errno } : {}), ...fields }, r.message);
  }

  /** Brings one listening socket's keys and GTSM options in line with `this.security`. */
  private secure(b: Bound): void {
    const sources = [...this.security.neighbors, ...this.security.ranges].filter((s) => isIP(s.address) === b.family);
    const want = new Map(sources.filter((s) => s.password !== undefined).map((s) => [sourceId(s), s]));
    const gtsm = listenerGtsm(this.security);
    const stale = [...b.keys.keys()].filter((id) => !want.has(id));
    b.failed.clear();
    if (want.size === 0 && stale.length === 0 && gtsm.ttl === b.ttl && gtsm.minTtl === b.minTtl) return;
    const loaded = nativeForSecurity(this.opts.loadNative);
    const fd = handleFd(b.server);
    if (!loaded.ok || fd === undefined) {
      const r = loaded.ok ? { ok: false as const, option: 'fd', message: 'no fd on the listening socket' } : loaded;
      this.fail(r, { address: b.address });
      for (const id of want.keys()) b.failed.add(id);
      return;
    }
    const native = loaded.native;
    for (const id of stale) {
      const [address, len] = id.split('/');
      const r = setMd5Key(native, fd, b.family, { address: address!, ...(len !== undefined ? { prefixLength: Number(len) } : {}) });
      if (!r.ok) this.fail(r, { address: b.address, peer: id });
      b.keys.delete(id);
    }
    for (const [id, s] of want) {
      if (b.keys.get(id) === s.password) continue;
      const r = setMd5Key(native, fd, b.family, s); // RFC 2385: the listener signs and checks per peer
      if (r.ok) b.keys.set(id, s.password!);
      else {
        b.keys.delete(id);
        b.failed.add(id);
        this.fail(r, { address: b.address, peer: id });
      }
    }
    if (gtsm.ttl !== b.ttl) {
      const r = setTtl(native, fd, b.family, gtsm.ttl);
      if (r.ok) b.ttl = gtsm.ttl;
      else this.fail(r, { address: b.address });
    }
    if (gtsm.minTtl !== b.minTtl) {
      const r = setMinTtl(native, fd, b.family, gtsm.minTtl);
      if (r.ok) b.minTtl = gtsm.minTtl;
      else this.fail(r, { address: b.address }); // accepted sockets still get theirs
    }
  }

  /** Puts the peer's GTSM minimum TTL on an accepted socket; false (logged) when its protection is missing. */
  private secureAccepted(b: Bound, socket: Socket, remote: string): boolean {
    const s = this.securityFor(remote);
    if (s?.password !== undefined && (b.failed.has(sourceId(s)) || !b.keys.has(sourceId(s)))) {
      this.fail({ ok: false, option: 'md5', message: `refusing ${remote}: its TCP MD5 key is not installed` }, { remote });
      return false;
    }
    if (s?.ttlSecurity === undefined && b.minTtl === 0) return true;
    const loaded = nativeForSecurity(this.opts.loadNative);
    const fd = handleFd(socket);
    const r: SecurityResult = !loaded.ok
      ? loaded
      : fd === undefined
        ? { ok: false, option: 'fd', message: 'no fd on the accepted socket' }
        : setGtsm(loaded.native, fd, b.family, s?.ttlSecurity); // RFC 5082 §3 per peer
    if (r.ok) return true;
    this.fail({ ...r, message: `refusing ${remote}: ${r.message}` }, { remote });
    return false;
  }

  private accept(b: Bound, socket: Socket): void {
    socket.setNoDelay(true);
    const remote = socket.remoteAddress;
    const local = socket.localAddress;
    if (!remote || !local) {
      socket.destroy();
      return;
    }
    if (!this.secureAccepted(b, socket, normalizeAddress(remote))) {
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
