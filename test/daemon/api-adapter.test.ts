// The API adapter's readiness and per-peer records against a scripted session
// wired through peer-events.ts (graceful restart and the peer history real,
// the RIB runner a stand-in) and a fake clock: a configured peer holds /readyz back only past its startup grace; an
// Established session that drops without a NOTIFICATION keeps readiness for
// the restart time the peer advertised (RFC 4724 §3/§4.2), one that ends with
// a NOTIFICATION does not; an administratively shut down peer never counts;
// NOTIFICATIONs are recorded by code/subcode; message counts come from the
// session's own counters.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { buildApiDeps, type ApiParts } from '../../src/daemon/api-adapter.js';
import { attachPeer } from '../../src/daemon/peer-events.js';
import { GracefulRestart } from '../../src/daemon/graceful-restart.js';
import { PeerHistory } from '../../src/daemon/peer-history.js';
import type { RibRunner } from '../../src/daemon/rib-runner.js';
import { silentLogger } from '../../src/lib/log.js';
import type { PeerSession } from '../../src/bgp/session/peer-session.js';
import type { PeerSummary } from '../../src/bgp/session/neighbors.js';
import type { SessionState } from '../../src/bgp/fsm/index.js';
import type { NegotiatedSession } from '../../src/bgp/fsm/types.js';
import type { Rib } from '../../src/rib/index.js';
import { parseConfig } from '../../src/config/load.js';
import { FakeClock } from '../../src/lib/clock.js';

/** Enough of a PeerSession for the adapter: events, a state, message counters. */
class ScriptedSession extends EventEmitter {
  state: SessionState = 'Active';
  session: NegotiatedSession | undefined;
  readonly messages = {
    received: { open: 1, update: 7, notification: 0, keepalive: 12, 'route-refresh': 0 },
    sent: { open: 1, update: 3, notification: 1, keepalive: 11, 'route-refresh': 2 },
  };
  constructor(readonly address: string) {
    super();
  }
  transport() {
    return undefined;
  }
}

const negotiated = (gr: number | undefined) =>
  ({
    peerId: 0x0a000002,
    holdTime: 90,
    keepaliveTime: 30,
    families: new Set(['ipv4-unicast']),
    codec: { fourOctetAs: true, extendedMessage: false, addPathReceive: {}, addPathSend: {} },
    routeRefresh: true,
    enhancedRouteRefresh: false,
    gracefulRestart: gr !== undefined,
    ...(gr !== undefined ? { peerGracefulRestart: { restartTime: gr, restarting: false, notification: false, families: [] } } : {}),
  }) as unknown as NegotiatedSession;

function setup(graceMs = 1000) {
  const clock = new FakeClock(1_000_000);
  const s = new ScriptedSession('10.0.0.2');
  const config = parseConfig('routerId: 10.0.0.1\nasn: 65001\nneighbors: [ { address: 10.0.0.2, asn: 65002 } ]\n');
  if (!config.ok) throw new Error('config');
  const rib = { hasWork: () => false, peerStats: () => undefined, peerState: () => undefined, totals: () => ({ routes: 0, paths: 0 }) } as unknown as Rib;
  const summary = (): PeerSummary => ({ address: s.address, asn: 65002, kind: 'configured', state: s.state, uptimeSeconds: 0 });
  const ok = async () => ({ ok: true as const });
  const history = new PeerHistory(clock);
  const restart = new GracefulRestart({ clock, logger: silentLogger(), sweepFib: () => undefined, restartStateChanged: () => undefined, staleTimerFired: () => undefined });
  // The RIB side is not under test: a runner that takes every call and keeps no routes.
  const runner = { guard: (fn: () => void) => fn(), register: () => undefined, peerUp: () => undefined, peerDown: () => ({ stale: 0 }) } as unknown as RibRunner;
  const parts: ApiParts = {
    clock,
    rib,
    history,
    restart,
    version: 'test',
    config: () => config.config,
    sessions: () => [summary()],
    peer: (a: string) => (a === s.address ? (s as unknown as PeerSession) : undefined),
    control: {
      announce: () => ({ ok: true }),
      withdraw: () => ({ ok: true }),
      resetPeer: ok,
      shutdownPeer: ok,
      enablePeer: ok,
      reloadConfig: async () => ({ ok: true }),
    },
    peerGraceMs: graceMs,
  };
  attachPeer(s as unknown as PeerSession, 'configured', { runner, restart, history });
  const deps = buildApiDeps(parts);
  const up = (gr?: number) => {
    s.state = 'Established';
    s.session = negotiated(gr);
    s.emit('established', s.session);
  };
  const down = (notification?: { code: number; subcode: number }) => {
    s.state = 'Active';
    s.session = undefined;
    s.emit('down', { reason: notification ? 'notification-received' : 'tcp-failure', wasEstablished: true, ...(notification ? { notification: { direction: 'received', message: { type: 'notification', ...notification, data: Buffer.alloc(0) } } } : {}) });
  };
  return { clock, s, deps, up, down };
}

describe('API adapter readiness', () => {
  it('a configured peer not yet Established is fine within the startup grace, named after it', async () => {
    const { clock, deps } = setup(1000);
    expect(await deps.ready()).toEqual({ ready: true, reasons: [] });
    clock.advance(1000);
    expect(await deps.ready()).toEqual({ ready: false, reasons: ['peer 10.0.0.2 is Active'] });
  });

  it('after a drop without NOTIFICATION the peer advertised restart time is a grace (RFC 4724)', async () => {
    const { clock, deps, up, down } = setup(1000);
    up(30);
    clock.advance(5000);
    expect((await deps.ready()).ready).toBe(true);
    down();
    clock.advance(29_999);
    expect((await deps.ready()).ready).toBe(true);
    clock.advance(1);
    expect((await deps.ready()).reasons).toEqual(['peer 10.0.0.2 is Active (last error: tcp-failure)']);
    up(30);
    expect((await deps.ready()).ready).toBe(true);
  });

  it('a NOTIFICATION ends the session for good: no restart grace; without graceful restart none either', async () => {
    const a = setup(1000);
    a.up(30);
    a.clock.advance(5000);
    a.down({ code: 6, subcode: 2 });
    expect((await a.deps.ready()).ready).toBe(false);
    const b = setup(1000);
    b.up(undefined);
    b.clock.advance(5000);
    b.down();
    expect((await b.deps.ready()).ready).toBe(false);
  });

  it('an administratively shut down peer does not hold readiness back', async () => {
    const { clock, deps } = setup(1000);
    clock.advance(5000);
    expect((await deps.ready()).ready).toBe(false);
    await deps.shutdownPeer('10.0.0.2');
    expect((await deps.ready()).ready).toBe(true);
    await deps.enablePeer('10.0.0.2');
    expect((await deps.ready()).ready).toBe(false);
  });
});

describe('API adapter peer object', () => {
  it('messages from the session counters, NOTIFICATIONs by code/subcode, the last one named', async () => {
    const { s, deps, up } = setup();
    up(30);
    s.emit('notification-sent', { type: 'notification', code: 6, subcode: 4, data: Buffer.alloc(0), shutdownMessage: 'maintenance' });
    s.emit('notification-received', { type: 'notification', code: 4, subcode: 0, data: Buffer.alloc(0) });
    s.emit('notification-received', { type: 'notification', code: 4, subcode: 0, data: Buffer.alloc(0) });
    const p = await deps.peer('10.0.0.2');
    expect(p).toMatchObject({
      state: 'Established',
      establishedTransitions: 1,
      holdTime: { configured: 90, negotiated: 90 },
      keepaliveTime: 30,
      capabilities: { families: ['ipv4-unicast'], fourOctetAs: true, routeRefresh: true, gracefulRestart: true },
      messages: { received: { open: 1, update: 7, keepalive: 12 }, sent: { notification: 1, 'route-refresh': 2 } },
      notifications: { sent: [{ code: 6, subcode: 4, count: 1 }], received: [{ code: 4, subcode: 0, count: 2 }] },
      lastNotification: { direction: 'received', code: 4, subcode: 0, name: 'Hold Timer Expired' },
    });
    // A copy, not the live object: later counts do not change an answer already given.
    s.messages.received.update++;
    expect(p?.messages.received.update).toBe(7);
  });
});
