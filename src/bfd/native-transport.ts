// The BFD engine's sockets from the native addon (native/udp.c): the receive
// socket of each family on UDP 3784 with the received TTL reported (RFC 5881
// §5), and send sockets with TTL / hop limit 255 from a port the engine picks
// in 49152–65535 (RFC 5881 §4). Opened on the calling thread's event loop.

import { loadNative } from '../lib/native.js';
import { BFD_CONTROL_PORT, BFD_TTL } from './packet.js';
import type { BfdSocket, BfdTransport } from './engine.js';

export interface NativeTransportOptions {
  /** Receive port (default 3784; tests use another to run beside a real bfdd). */
  readonly port?: number;
  /** Destination port of what we send (default 3784; tests run two engines on one host). */
  readonly peerPort?: number;
  /** Addresses to receive on per family (default any). */
  readonly listen?: { readonly 4?: string; readonly 6?: string };
}

export function nativeTransport(opts: NativeTransportOptions = {}): BfdTransport {
  const native = loadNative();
  const { udpOpen, udpSend, udpClose } = native;
  if (!udpOpen || !udpSend || !udpClose)
    throw new Error('the bgp-ts native addon predates BFD (no udpOpen): run "npm ci" to rebuild it');
  const wrap = (h: ReturnType<typeof udpOpen>): BfdSocket => ({
    port: h.port,
    send: (data, address, port) => udpSend(h, data, address, opts.peerPort ?? port),
    close: () => udpClose(h),
  });
  return {
    openReceiver(family, onDatagram) {
      const address = opts.listen?.[family] ?? (family === 4 ? '0.0.0.0' : '::');
      return wrap(udpOpen({ family, address, port: opts.port ?? BFD_CONTROL_PORT, recvTtl: true, ttl: BFD_TTL }, onDatagram));
    },
    openSender(family, localAddress, port) {
      return wrap(udpOpen({ family, address: localAddress ?? (family === 4 ? '0.0.0.0' : '::'), port, ttl: BFD_TTL }));
    },
  };
}
