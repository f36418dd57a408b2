// Outgoing BGP transport connections (RFC 4271 §8.2.1.1: the speaker initiates
// the TCP connection to the peer's port 179 unless passive). IPv4 and IPv6,
// optional local address binding (Calico sourceAddress: UseNodeIP), and a
// connect timeout so a black-holed SYN does not hold the session forever.
// TCP_NODELAY is on: BGP messages are small and latency-sensitive (KEEPALIVEs).

import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../lib/clock.js';

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** Source address to bind before connecting. */
  readonly localAddress?: string;
  /** Source port (tests); default ephemeral. */
  readonly localPort?: number;
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
}

export type ConnectResult = { readonly ok: true; readonly socket: Socket } | { readonly ok: false; readonly reason: string };

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
