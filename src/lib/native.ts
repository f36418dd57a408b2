// Loads the one native addon (native/netlink.c, DESIGN.md "Native code"),
// built by node-gyp into build/Release/bgpts_native.node at `npm ci`. The
// addon gives what Node.js lacks: an AF_NETLINK socket for the FIB and
// setsockopt by fd for BGP TCP sockets (TCP_MD5SIG, RFC 2385; IP_MINTTL /
// IP_TTL, RFC 5082); UDP sockets that report the received TTL, for BFD's
// GTSM check (RFC 5881 §5). Loaded lazily so code paths that never touch the kernel
// (dry-run FIB, tests of pure modules) run without it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An open netlink socket; opaque to everything but src/fib/netlink/transport.ts. */
export interface NativeNetlinkHandle {
  readonly fd: number;
  /** The port ID (nl_pid) the kernel assigned at bind. */
  readonly portId: number;
}

export interface NativeNetlinkOptions {
  /** RTNLGRP_* multicast groups to join (monitoring). */
  groups?: number[];
  /** Receive buffer in bytes (SO_RCVBUFFORCE as root, else capped SO_RCVBUF). */
  rcvbuf?: number;
  sndbuf?: number;
  /** Open the socket inside this network namespace (e.g. /run/netns/NAME). Needs CAP_SYS_ADMIN. */
  netns?: string;
}

/**
 * Called with each readable burst (one or more whole datagrams, concatenated,
 * or null) and 0 or a negative errno (-ENOBUFS: the receive queue overran and
 * messages were lost; the data passed alongside was read around it and is
 * valid). `drained` is true when the read ended on an empty queue, which is
 * when the kernel stops dropping messages after an overrun.
 */
export type NativeDataCallback = (data: Buffer | null, errno: number, drained: boolean) => void;

/** Options of `tcpConnect`: a TCP connection set up before its SYN leaves (RFC 2385, RFC 5082). */
export interface NativeTcpConnectOptions {
  readonly family: 4 | 6;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  /** Encoded struct tcp_md5sig, set with TCP_MD5SIG before connect(). */
  readonly md5sig?: Buffer;
  /** IP_TTL / IPV6_UNICAST_HOPS before connect(). */
  readonly ttl?: number;
  /** IP_MINTTL / IPV6_MINHOPCOUNT before connect(), so the SYN-ACK is checked too. */
  readonly minTtl?: number;
}

/**
 * `{errno: 0}`: under way, a handle for tcpConnectCancel; the callback follows once.
 * `{errno < 0, stage}`: failed before connect() was under way (stage: address,
 * socket, md5, ttl, minttl, bind, connect, poll); no callback.
 */
export type NativeTcpConnectStart = { readonly errno: 0 } | { readonly errno: number; readonly stage: string };

/** errno 0 and a connected, non-blocking fd; or a negative errno and -1 (the addon closed the socket). */
export type NativeTcpConnectCallback = (errno: number, fd: number) => void;

/** Options of `udpOpen`: a UDP socket for BFD (RFC 5881). */
export interface NativeUdpOptions {
  readonly family: 4 | 6;
  /** Local address to bind ("0.0.0.0" / "::" for any). */
  readonly address: string;
  /** Local port; 0 lets the kernel choose. */
  readonly port: number;
  /** IP_TTL / IPV6_UNICAST_HOPS of what it sends (RFC 5881 §5: 255). */
  readonly ttl?: number;
  /** IP_RECVTTL / IPV6_RECVHOPLIMIT: report each datagram's received TTL. */
  readonly recvTtl?: boolean;
}

/** An open UDP socket; opaque to everything but src/bfd. */
export interface NativeUdpHandle {
  readonly fd: number;
  /** The bound local port. */
  readonly port: number;
}

/** One datagram with its source and received TTL / hop limit (-1 when the kernel gave none). */
export type NativeUdpMessageCallback = (data: Buffer, address: string, port: number, ttl: number) => void;

export interface NativeAddon {
  /** Throws an Error with a negative `.errno` when the socket cannot be opened. */
  open(options: NativeNetlinkOptions, onData: NativeDataCallback): NativeNetlinkHandle;
  /** Bytes sent, or a negative errno. */
  send(handle: NativeNetlinkHandle, data: Buffer): number;
  close(handle: NativeNetlinkHandle): void;
  /** Whether the socket keeps the event loop alive. */
  ref(handle: NativeNetlinkHandle, on: boolean): void;
  /** 0 or a negative errno. */
  setsockoptInt(fd: number, level: number, option: number, value: number): number;
  setsockoptBuffer(fd: number, level: number, option: number, value: Buffer): number;
  /** The value, or a negative errno. */
  getsockoptInt(fd: number, level: number, option: number): number;
  /**
   * Starts a non-blocking connect with options applied first; throws TypeError
   * only on malformed options. Optional: absent from an addon built before it existed.
   */
  tcpConnect?(options: NativeTcpConnectOptions, callback: NativeTcpConnectCallback): NativeTcpConnectStart;
  /** Abandons a pending tcpConnect and closes its socket; no callback follows. */
  tcpConnectCancel?(handle: NativeTcpConnectStart): void;
  /**
   * Opens and binds a UDP socket; with `onMessage` it is read on the calling
   * thread's event loop (a worker's, for BFD). Throws TypeError on malformed
   * options, an Error with a negative `.errno` and `.stage` on a system failure.
   * Optional: absent from an addon built before it existed.
   */
  udpOpen?(options: NativeUdpOptions, onMessage?: NativeUdpMessageCallback): NativeUdpHandle;
  /** Bytes sent, or a negative errno (never blocks). */
  udpSend?(handle: NativeUdpHandle, data: Buffer, address: string, port: number): number;
  udpClose?(handle: NativeUdpHandle): void;
}

const ADDON_FILE = join('build', 'Release', 'bgpts_native.node');

let cached: NativeAddon | undefined;

/** Where the addon is looked for: $BGPTS_NATIVE, else build/Release/ in the nearest ancestor holding it. */
export function nativeAddonPath(): string | undefined {
  const fromEnv = process.env['BGPTS_NATIVE'];
  if (fromEnv) return fromEnv;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, ADDON_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** The addon; throws a clear error when it has not been built. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (process.platform !== 'linux') throw new Error(`the bgp-ts native addon needs Linux (running on ${process.platform})`);
  const path = nativeAddonPath();
  if (!path)
    throw new Error(
      `the bgp-ts native addon (${ADDON_FILE}) is not built: run "npm ci" or "npx node-gyp rebuild" in the package root ` +
        '(needs a C compiler and the Node.js headers)',
    );
  const require = createRequire(import.meta.url);
  cached = require(path) as NativeAddon;
  return cached;
}

/** Whether the addon can be loaded (for choosing the dry-run FIB, and for tests). */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}
