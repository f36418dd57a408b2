// The RIB runner's side of RFC 7313 §4: ROUTE-REFRESH messages from a session
// reach the RIB by subtype, a BoRR arms the refresh timer (purging the routes
// not re-advertised if no EoRR comes), an EoRR or the session going down
// disarms it. A fake session (the events PeerSession emits) wired through
// peer-events.ts, and a FakeClock.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { FakeClock } from '../../src/lib/clock.js';
import { prefixParse } from '../../src/lib/prefix.js';
import { RibRunner } from '../../src/daemon/rib-runner.js';
import { attachPeer } from '../../src/daemon/peer-events.js';
import { GracefulRestart } from '../../src/daemon/graceful-restart.js';
import { PeerHistory } from '../../src/daemon/peer-history.js';
import type { NegotiatedSession } from '../../src/bgp/fsm/index.js';
import type { PeerSession } from '../../src/bgp/session/index.js';
import { recordingLogger } from '../helpers/session.js';
import { CODEC, announce } from '../rib/rib-helpers.js';

const PEER = '127.0.0.82';
const WAIT_MS = 60_000;
const k = (t: string) => prefixParse(t)!;
const tick = () => new Promise((r) => setImmediate(r));

const drivers: RibRunner[] = [];
afterEach(() => {
  for (const d of drivers.splice(0)) d.close();
});

function setup(enhancedRouteRefresh = true) {
  const parsed = parseConfig(`
routerId: 10.0.0.81
asn: 65080
fib: { enabled: false }
neighbors:
  - { address: ${PEER}, asn: 65080 }
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const clock = new FakeClock();
  const log = recordingLogger('debug');
  const driver = new RibRunner(parsed.config, { clock, logger: log.logger, refreshStaleMs: WAIT_MS });
  drivers.push(driver);
  const session = Object.assign(new EventEmitter(), {
    address: PEER,
    writable: true,
    sendRaw: () => true,
    transport: () => ({ local: '127.0.0.81' }),
  });
  const restart = new GracefulRestart({ clock, logger: log.logger, sweepFib: () => undefined, restartStateChanged: () => undefined, staleTimerFired: (a) => driver.staleTimerFired(a) });
  attachPeer(session as unknown as PeerSession, 'configured', { runner: driver, restart, history: new PeerHistory(clock) });
  const negotiated = { peerAsn: 65080, localAsn: 65080, peerId: 0x0a000052, families: ['ipv4-unicast'], codec: CODEC, routeRefresh: true, enhancedRouteRefresh, gracefulRestart: false };
  session.emit('established', negotiated as unknown as NegotiatedSession);
  session.emit('update', announce(['10.244.1.0/26', '10.244.2.0/26'], { origin: 0, asPath: [], nextHop: PEER, localPref: 100 }));
  const refresh = (subtype: number, afi = 1) => session.emit('route-refresh', { type: 'route-refresh', afi, safi: 1, subtype });
  const best = (p: string) => driver.rib.locRib.best(k(p))?.peer.address;
  return { clock, driver, session, refresh, best, lines: log.lines };
}

describe('RibRunner: ROUTE-REFRESH from a session (RFC 7313 §4)', () => {
  it('BoRR with no EoRR: the refresh timer purges what was not re-advertised', async () => {
    const { clock, session, refresh, best, lines } = setup();
    refresh(1);
    session.emit('update', announce(['10.244.1.0/26'], { origin: 0, asPath: [], nextHop: PEER, localPref: 100 }));
    await tick();
    clock.advance(WAIT_MS - 1);
    await tick();
    expect(best('10.244.2.0/26')).toBe(PEER); // still waiting for the EoRR
    clock.advance(1);
    await tick();
    expect(best('10.244.2.0/26')).toBeUndefined();
    expect(best('10.244.1.0/26')).toBe(PEER);
    expect(lines.filter((l) => l.event === 'route-refresh-timeout')).toEqual([expect.objectContaining({ peer: PEER, family: 'ipv4-unicast' })]);
    expect(lines.filter((l) => l.event === 'refresh-stale-swept')).toEqual([expect.objectContaining({ routes: 1, reason: 'timer' })]);
  });

  it('EoRR purges at once and disarms the timer', async () => {
    const { clock, refresh, best, lines } = setup();
    refresh(1);
    expect(clock.pending()).toBe(1);
    refresh(2);
    expect(clock.pending()).toBe(0);
    await tick();
    expect(best('10.244.1.0/26')).toBeUndefined();
    expect(lines.filter((l) => l.event === 'refresh-stale-swept')).toEqual([expect.objectContaining({ routes: 2, reason: 'eorr' })]);
  });

  it('the session going down disarms the timer (the refresh ends with it)', async () => {
    const { clock, session, refresh } = setup();
    refresh(1);
    session.emit('down', { reason: 'hold-timer-expired', wasEstablished: true });
    expect(clock.pending()).toBe(0);
    await tick();
  });

  it('without enhanced route refresh, unknown subtypes or other AFI/SAFIs: nothing armed, nothing marked', async () => {
    const plain = setup(false);
    plain.refresh(1);
    expect(plain.clock.pending()).toBe(0);
    expect(plain.driver.rib.peerStats(PEER)?.stale).toBe(0);
    const e = setup();
    e.refresh(7);
    e.refresh(1, 25); // L2VPN AFI
    e.session.emit('route-refresh', { type: 'route-refresh', afi: 1, safi: 2, subtype: 1 }); // multicast
    expect(e.clock.pending()).toBe(0);
    expect(e.driver.rib.peerStats(PEER)?.stale).toBe(0);
    expect(e.lines.filter((l) => l.event === 'route-refresh-ignored').length).toBe(3);
    await tick();
  });
});
