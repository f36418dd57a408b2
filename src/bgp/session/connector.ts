// Outgoing BGP transport connections (RFC 4271 §8.2.1.1: the speaker initiates
// the TCP connection to the peer's port 179 unless passive). IPv4 and IPv6,
// optional local address binding (Calico sourceAddress: UseNodeIP), and a
// connect timeout so a black-holed SYN does not hold the session forever.
// TCP_NODELAY is on: BGP messages are small and latency-sensitive (KEEPALIVEs).
// With a TCP MD5 key (RFC 2385) or GTSM (RFC 5082) configured, the options
// must be on the socket before the SYN leaves, which net.connect cannot do:
// the native addon's tcpConnect creates, configures and connects the socket
// and the connected fd is wrapped in a net.Socket. If that path is unavailable
// (no addon, kernel refusal) the attempt fails: never an unprotected session.

import { connect as netConnect, isIP, Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { NativeAddon } from '../../lib/native.js';
import {
  GTSM_TTL,
  encodeTcpMd5Sig,
  errnoName,
  gtsmMinTtl,
  md5KeyBytes,
  nativeForSecurity,
  needsSecurity,
  type TransportSecurity,
} from './socket-options.js';

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** Source address to bind before connecting. */
  readonly localAddress?: string;
  /** Source port (tests); default ephemeral. */
  readonly localPort?: number;
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  /** TCP MD5 key and GTSM hops; either one selects the native connect path. */
  readonly security?: TransportSecurity;
  /** The addon loader (tests substitute a failing one). */
  readonly loadNative?: () => NativeAddon;
}

export type ConnectResult =
  | { readonly ok: true; readonly socket: Socket }
  | {
      readonly ok: false;
      readonly reason: string;
      /** The configured MD5 / GTSM protection could not be applied: an operator problem, not a network one. */
      readonly security?: boolean;
    };

export interface PendingConnect {
  /** Abandons the attempt; the callback is not called afterwards. */
  cancel(): void;
}

/** Starts one outgoing connection; `done` is called exactly once unless cancelled. */
export function connectPeer(opts: ConnectOptions, clock: Clock, done: (r: ConnectResult) => void): PendingConnect {
  let finished = false;
  let timer: TimerHandle | undefined;
  const family = isIP(opts.host);
  if (family === 0) {
    queueMicrotask(() => done({ ok: false, reason: `not an IP address: ${opts.host}` }));
    return { cancel: () => {} };
  }
  if (opts.security && needsSecurity(opts.security)) return connectSecured(opts, family as 4 | 6, opts.security, clock, done);
  const socket = netConnect({
    host: opts.host,
    port: opts.port,
    family,
    localAddress: opts.localAddress,
    localPort: opts.localPort,
    noDelay: true,
  });
  const finish = (r: ConnectResult): void => {
    if (finished) return;
    finished = true;
    timer?.cancel();
    socket.removeListener('error', onError);
    socket.removeListener('connect', onConnect);
    if (!r.ok) socket.destroy();
    done(r);
  };
  const onError = (err: Error): void => finish({ ok: false, reason: err.message });
  const onConnect = (): void => {
    socket.setNoDelay(true);
    finish({ ok: true, socket });
  };
  socket.once('error', onError);
  socket.once('connect', onConnect);
  timer = clock.after(opts.timeoutMs, () => finish({ ok: false, reason: `connect timeout after ${opts.timeoutMs} ms` }));
  return {
    cancel: () => {
      if (finished) return;
      finished = true;
      timer?.cancel();
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
    },
  };
}

/**
 * The native path: socket, TCP_MD5SIG with the peer's key (RFC 2385 §2),
 * TTL 255 and the minimum TTL 256 - hops (RFC 5082 §3) — the SYN-ACK is
 * checked too — then bind and connect; the connected fd becomes a net.Socket.
 */
function connectSecured(
  opts: ConnectOptions,
  family: 4 | 6,
  security: TransportSecurity,
  clock: Clock,
  done: (r: ConnectResult) => void,
): PendingConnect {
  const fail = (reason: string, isSecurity: boolean): PendingConnect => {
    queueMicrotask(() => done({ ok: false, reason, ...(isSecurity ? { security: true } : {}) }));
    return { cancel: () => {} };
  };
  const loaded = nativeForSecurity(opts.loadNative);
  if (!loaded.ok) return fail(loaded.message, true);
  const native = loaded.native;
  const { tcpConnect, tcpConnectCancel } = native;
  if (!tcpConnect || !tcpConnectCancel) return fail('the native addon predates tcpConnect: rebuild it (npm ci)', true);
  let md5sig: Buffer | undefined;
  if (security.password !== undefined) {
    md5sig = encodeTcpMd5Sig({ address: opts.host, key: md5KeyBytes(security.password) });
    if (!md5sig) return fail('TCP MD5 key longer than 80 octets', true);
  }
  let finished = false;
  let timer: TimerHandle | undefined;
  const start = tcpConnect(
    {
      family,
      remoteAddress: opts.host,
      remotePort: opts.port,
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
      ...(md5sig ? { md5sig } : {}),
      ...(security.ttlSecurity !== undefined ? { ttl: GTSM_TTL, minTtl: gtsmMinTtl(security.ttlSecurity) } : {}),
    },
    (errno, fd) => {
      if (finished) {
        if (errno === 0) new Socket({ fd }).destroy(); // closes the fd
        return;
      }
      finished = true;
      timer?.cancel();
      if (errno !== 0) return done({ ok: false, reason: `connect: ${errnoName(errno)}` });
      let socket: Socket;
      try {
        socket = new Socket({ fd, readable: true, writable: true });
      } catch (err) {
        new Socket({ fd }).destroy();
        return done({ ok: false, reason: `wrapping the connected socket: ${(err as Error).message}` });
      }
      socket.setNoDelay(true);
      done({ ok: true, socket });
    },
  );
  if (start.errno !== 0) {
    const stage = 'stage' in start ? start.stage : 'connect';
    const isSecurity = stage === 'md5' || stage === 'ttl' || stage === 'minttl';
    const what = stage === 'md5' ? 'setting the TCP MD5 key' : stage === 'ttl' || stage === 'minttl' ? `setting GTSM (${stage})` : stage;
    return fail(`${what}: ${errnoName(start.errno)}`, isSecurity);
  }
  timer = clock.after(opts.timeoutMs, () => {
    if (finished) return;
    finished = true;
    tcpConnectCancel(start);
    done({ ok: false, reason: `connect timeout after ${opts.timeoutMs} ms` });
  });
  return {
    cancel: () => {
      if (finished) return;
      finished = true;
      timer?.cancel();
      tcpConnectCancel(start);
    },
  };
}
