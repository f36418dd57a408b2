// Transport security for BGP sessions, applied by fd through the native addon:
//  - TCP MD5 signatures (RFC 2385): Linux `struct tcp_md5sig` set with
//    TCP_MD5SIG (one peer address) or TCP_MD5SIG_EXT + TCP_MD5SIG_FLAG_PREFIX
//    (an address prefix: a listen range, Linux >= 4.13). A key length of 0
//    deletes a key.
//  - GTSM, the Generalized TTL Security Mechanism (RFC 5082): send with TTL
//    (IPv6 hop limit) 255 (§3 (1)) and drop anything that arrives with less
//    than 256 - hops (§3 (2)) via IP_MINTTL / IPV6_MINHOPCOUNT.
// Every call returns a result, never throws: a missing addon or a refusal by
// the kernel is a `SecurityFailure` the caller logs and fails closed on (the
// session must not come up without the protection its config asks for).
// Layout of struct tcp_md5sig checked against /usr/include/linux/tcp.h.

import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { v4Parse, v6Parse } from '../../lib/prefix.js';
import { loadNative, type NativeAddon } from '../../lib/native.js';

export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;
export const IP_TTL = 2;
export const IP_MINTTL = 21;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MINHOPCOUNT = 73;
export const TCP_MD5SIG = 14;
export const TCP_MD5SIG_EXT = 32;
export const TCP_MD5SIG_FLAG_PREFIX = 0x1;
/** RFC 2385 leaves the key length open; Linux caps it at TCP_MD5SIG_MAXKEYLEN. */
export const TCP_MD5SIG_MAXKEYLEN = 80;
/** sizeof(struct tcp_md5sig): sockaddr_storage 128, flags 1, prefixlen 1, keylen 2, ifindex 4, key 80. */
export const TCP_MD5SIG_SIZE = 216;
const AF_INET = 2;
const AF_INET6 = 10;
/** RFC 5082 §3 (1): the TTL / hop limit a GTSM speaker sends with. */
export const GTSM_TTL = 255;

/** What a neighbor or listen range asks of its transport (config `password`, `ttlSecurity`). */
export interface TransportSecurity {
  /** TCP MD5 key (RFC 2385), at most 80 octets. */
  readonly password?: string;
  /** GTSM (RFC 5082): the peer is at most this many hops away. */
  readonly ttlSecurity?: number;
}

export type IpFamily = 4 | 6;

export type SecurityResult = { readonly ok: true } | SecurityFailure;

export interface SecurityFailure {
  readonly ok: false;
  /** Which option: 'md5', 'ttl', 'minttl', 'addon', 'key', ... */
  readonly option: string;
  /** Negative errno from the kernel, when it refused. */
  readonly errno?: number;
  /** One line for the log, never containing the key. */
  readonly message: string;
}

const OK: SecurityResult = { ok: true };

/** Whether this config needs anything from the native addon. */
export function needsSecurity(s: TransportSecurity): boolean {
  return s.password !== undefined || s.ttlSecurity !== undefined;
}

/** RFC 5082 §3 (2): the lowest TTL accepted from a peer at most `hops` away. */
export function gtsmMinTtl(hops: number): number {
  return 256 - hops;
}

/** "EPERM (-1)" for -1; the errno's name when Node knows it. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  const name = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0];
  return `${name ?? 'errno'} (${errno})`;
}

/** The key's octets: the password's UTF-8 bytes. */
export function md5KeyBytes(password: string): Buffer {
  return Buffer.from(password, 'utf8');
}

/**
 * Encodes `struct tcp_md5sig` for `address` (IPv4 or IPv6 text). With
 * `prefixLength` shorter than the address, the TCP_MD5SIG_EXT form with
 * TCP_MD5SIG_FLAG_PREFIX; without `key` (or an empty one), a deletion.
 * Undefined for an unparseable address or a key over 80 octets.
 */
export function encodeTcpMd5Sig(opts: { address: string; prefixLength?: number; key?: Buffer }): Buffer | undefined {
  const family = isIP(opts.address);
  const key = opts.key ?? Buffer.alloc(0);
  if (family === 0 || key.length > TCP_MD5SIG_MAXKEYLEN) return undefined;
  const full = family === 4 ? 32 : 128;
  const len = opts.prefixLength ?? full;
  if (!Number.isInteger(len) || len < 0 || len > full) return undefined;
  const b = Buffer.alloc(TCP_MD5SIG_SIZE);
  // tcpm_addr: struct sockaddr_in / sockaddr_in6 at the start of a sockaddr_storage (family in host order, port 0)
  if (family === 4) {
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt32BE(v4Parse(opts.address)!, 4); // sin_addr
  } else {
    b.writeUInt16LE(AF_INET6, 0);
    v6Parse(opts.address)!.copy(b, 8); // sin6_addr after family, port, flowinfo
  }
  if (len < full) {
    b.writeUInt8(TCP_MD5SIG_FLAG_PREFIX, 128); // tcpm_flags
    b.writeUInt8(len, 129); // tcpm_prefixlen
  }
  b.writeUInt16LE(key.length, 130); // tcpm_keylen (host order)
  b.writeInt32LE(0, 132); // tcpm_ifindex: any
  key.copy(b, 136); // tcpm_key
  return b;
}

/** TCP_MD5SIG for a single address, TCP_MD5SIG_EXT when the key covers a prefix. */
export function md5Option(family: IpFamily, prefixLength?: number): number {
  return prefixLength !== undefined && prefixLength < (family === 4 ? 32 : 128) ? TCP_MD5SIG_EXT : TCP_MD5SIG;
}

/** The addon, or a failure naming why it cannot be used. */
export function nativeForSecurity(load: () => NativeAddon = loadNative): { ok: true; native: NativeAddon } | SecurityFailure {
  try {
    return { ok: true, native: load() };
  } catch (err) {
    return { ok: false, option: 'addon', message: `TCP MD5 / GTSM need the native addon: ${(err as Error).message}` };
  }
}

function kernel(option: string, r: number, what: string): SecurityResult {
  return r >= 0 ? OK : { ok: false, option, errno: r, message: `${what}: ${errnoName(r)}` };
}

/**
 * Installs (or with no password, deletes) the MD5 key for `address`/`prefixLength`
 * on socket `fd` of `family` (RFC 2385 §2). Deleting a key that is not there is success.
 */
export function setMd5Key(
  native: NativeAddon,
  fd: number,
  family: IpFamily,
  peer: { address: string; prefixLength?: number; password?: string },
): SecurityResult {
  const key = peer.password !== undefined ? md5KeyBytes(peer.password) : undefined;
  const what = `${key ? 'setting' : 'removing'} the TCP MD5 key for ${peer.address}${peer.prefixLength !== undefined ? `/${peer.prefixLength}` : ''}`;
  const sig = encodeTcpMd5Sig({ address: peer.address, ...(peer.prefixLength !== undefined ? { prefixLength: peer.prefixLength } : {}), ...(key ? { key } : {}) });
  if (!sig) return { ok: false, option: 'key', message: `${what}: bad address or key longer than ${TCP_MD5SIG_MAXKEYLEN} octets` };
  const r = native.setsockoptBuffer(fd, IPPROTO_TCP, md5Option(family, peer.prefixLength), sig);
  if (!key && r === -(osConstants.errno.ENOENT ?? 2)) return OK;
  return kernel('md5', r, what);
}

/** IP_TTL / IPV6_UNICAST_HOPS; -1 restores the system default. */
export function setTtl(native: NativeAddon, fd: number, family: IpFamily, ttl: number): SecurityResult {
  const r = native.setsockoptInt(fd, family === 4 ? IPPROTO_IP : IPPROTO_IPV6, family === 4 ? IP_TTL : IPV6_UNICAST_HOPS, ttl);
  return kernel('ttl', r, `setting the outgoing TTL to ${ttl}`);
}

/** IP_MINTTL / IPV6_MINHOPCOUNT; 0 turns the check off. */
export function setMinTtl(native: NativeAddon, fd: number, family: IpFamily, minTtl: number): SecurityResult {
  const r = native.setsockoptInt(fd, family === 4 ? IPPROTO_IP : IPPROTO_IPV6, family === 4 ? IP_MINTTL : IPV6_MINHOPCOUNT, minTtl);
  return kernel('minttl', r, `setting the minimum accepted TTL to ${minTtl}`);
}

/** RFC 5082 §3 on a connected socket: send with 255, accept >= 256 - hops; without hops, minimum TTL off. */
export function setGtsm(native: NativeAddon, fd: number, family: IpFamily, hops: number | undefined): SecurityResult {
  if (hops === undefined) return setMinTtl(native, fd, family, 0);
  const ttl = setTtl(native, fd, family, GTSM_TTL);
  return ttl.ok ? setMinTtl(native, fd, family, gtsmMinTtl(hops)) : ttl;
}

/** The fd behind a net.Socket or net.Server (Node keeps it on the libuv handle). */
export function handleFd(s: object): number | undefined {
  const fd = (s as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** A neighbor (an address) or a listen range (address + prefixLength) and what its transport needs. */
export interface SecuredSource extends TransportSecurity {
  readonly address: string;
  readonly prefixLength?: number;
}

/** What the listening sockets protect: MD5 keys and GTSM per neighbor and listen range. */
export interface ListenerSecurity {
  /** Configured neighbors, matched first by exact address. */
  readonly neighbors: readonly SecuredSource[];
  /** Listen ranges, in config order (the first containing range wins). */
  readonly ranges: readonly SecuredSource[];
}

const pick = (s: TransportSecurity): TransportSecurity => ({
  ...(s.password !== undefined ? { password: s.password } : {}),
  ...(s.ttlSecurity !== undefined ? { ttlSecurity: s.ttlSecurity } : {}),
});

/** The listener's security settings from the config's `neighbors[]` and `listenRanges[]`. */
export function listenerSecurityFromConfig(config: {
  readonly neighbors: readonly ({ readonly address: string } & TransportSecurity)[];
  readonly listenRanges: readonly ({ readonly prefix: string } & TransportSecurity)[];
}): ListenerSecurity {
  return {
    neighbors: config.neighbors.map((n) => ({ address: n.address, ...pick(n) })),
    ranges: config.listenRanges.map((r) => {
      const [address, len] = r.prefix.split('/');
      return { address: address!, prefixLength: Number(len), ...pick(r) };
    }),
  };
}

/**
 * GTSM on a listening socket (RFC 5082 §3): TTL 255 on what it sends (the
 * SYN-ACK: a GTSM peer checks it) when any source uses GTSM; a minimum TTL
 * only when every source does, the lowest of theirs, so no SYN a configured
 * peer may send is dropped. The exact per-peer value goes on each accepted socket.
 */
export function listenerGtsm(security: ListenerSecurity): { ttl: number; minTtl: number } {
  const all = [...security.neighbors, ...security.ranges];
  const any = all.some((s) => s.ttlSecurity !== undefined);
  const every = all.length > 0 && all.every((s) => s.ttlSecurity !== undefined);
  return {
    ttl: any ? GTSM_TTL : -1,
    minTtl: every ? Math.min(...all.map((s) => gtsmMinTtl(s.ttlSecurity!))) : 0,
  };
}
