// Shared fixtures for the session tests: FSM configs, a listener that routes
// accepted sockets to sessions, a logger that records pino lines, and waiting.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { FsmConfig } from '../../src/bgp/fsm/index.js';
import { BgpListener } from '../../src/bgp/session/listener.js';
import { PeerSession, type PeerSessionOptions } from '../../src/bgp/session/peer-session.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { v4Parse } from '../../src/lib/prefix.js';

export function fsmConfig(routerId: string, asn: number, peerAsn: number, over: Partial<FsmConfig> = {}): FsmConfig {
  return {
    local: { asn, routerId: v4Parse(routerId)!, holdTime: 90, families: ['ipv4-unicast', 'ipv6-unicast'], extendedMessage: true },
    peerAsn,
    passive: false,
    connectRetryMs: 200,
    connectRetryMaxMs: 1000,
    idleHoldMs: 200,
    idleHoldMaxMs: 1000,
    allowAutomaticStart: true,
    random: () => 0.5,
    ...over,
  };
}

/** A pino logger whose JSON lines land in `lines`. */
export function recordingLogger(level = 'debug'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

export function session(o: Partial<PeerSessionOptions> & Pick<PeerSessionOptions, 'address' | 'port' | 'asn' | 'fsm'>, clock: Clock = systemClock): PeerSession {
  return new PeerSession({ clock, logger: recordingLogger().logger, ...o });
}

/** Listens on `address`:0 and hands every connection to `pick(remote)` (or closes it). */
export async function listenFor(address: string, pick: (remote: string) => PeerSession | undefined): Promise<BgpListener> {
  const l = new BgpListener({
    addresses: [address],
    port: 0,
    logger: recordingLogger().logger,
    onConnection: (c) => {
      const s = pick(c.remote);
      if (s) s.acceptConnection(c.socket);
      else c.socket.destroy();
    },
  });
  await l.start();
  return l;
}

export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
