// Enhanced route refresh received (RFC 7313 §4) through the whole daemon, two
// bgp-ts instances over loopback: A sends B a ROUTE-REFRESH request, B answers
// with BoRR, its table and EoRR on the wire; A's driver hands both markers to
// the RIB, which keeps B's re-sent route (never withdrawn) and purges a route
// B no longer has (planted in A's RIB as if B had sent it before).
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/session.js';
import { events, k, useDaemons } from '../helpers/daemon.js';
import { announce } from '../rib/rib-helpers.js';

const { start } = useDaemons();
const daemon = (yaml: string) => start(yaml);

const nodeA = `
routerId: 10.0.0.81
asn: 65080
listen: { addresses: ["127.0.0.81"], port: 0 }
fib: { enabled: false }
neighbors:
  - { address: 127.0.0.82, asn: 65080, passive: true, holdTime: 9 }
`;
const nodeB = (port: number) => `
routerId: 10.0.0.82
asn: 65080
listen: { enabled: false }
fib: { enabled: false }
originate: [{ prefix: 10.244.82.0/26 }]
neighbors:
  - { address: 127.0.0.81, port: ${port}, localAddress: 127.0.0.82, asn: 65080, holdTime: 9, connectRetryTime: 1 }
`;

describe('enhanced route refresh received, daemon to daemon over loopback (RFC 7313 §4)', () => {
  it('BoRR/EoRR from the peer: its re-sent route stays, a route it no longer has is purged', async () => {
    const a = await daemon(nodeA);
    const b = await daemon(nodeB(a.d.listenPort!));
    const B = '127.0.0.82';
    await until(() => a.d.rib.locRib.best(k('10.244.82.0/26')) !== undefined, 8000, 'B route at A');
    expect(a.d.peer(B)?.session?.enhancedRouteRefresh).toBe(true);

    // A route A believes B sent earlier, which B does not have (a withdraw A missed).
    a.d.rib.update(B, announce(['10.244.99.0/26'], { origin: 0, asPath: [], nextHop: B, localPref: 100 }));
    a.d.runner.schedule();
    expect(a.d.rib.locRib.best(k('10.244.99.0/26'))?.peer.address).toBe(B);

    expect(a.d.peer(B)!.sendRouteRefresh({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 })).toBe(true);
    await until(() => events(a.lines, 'refresh-stale-swept').length > 0, 4000, 'refresh purge at A');
    expect(events(a.lines, 'refresh-stale-swept')).toEqual([expect.objectContaining({ peer: B, family: 'ipv4-unicast', routes: 1, reason: 'eorr' })]);
    const begin = a.lines.findIndex((l) => l.event === 'route-refresh-begin' && l.peer === B);
    const end = a.lines.findIndex((l) => l.event === 'route-refresh-end' && l.peer === B);
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    expect(a.d.rib.locRib.best(k('10.244.99.0/26'))).toBeUndefined();
    expect(a.d.rib.locRib.best(k('10.244.82.0/26'))?.peer.address).toBe(B);
    expect(a.d.rib.peerStats(B)?.stale).toBe(0);
    // B's own route was re-sent between the markers and never withdrawn.
    expect(events(a.lines, 'update-received').some((l) => l.peer === B && JSON.stringify(l.withdrawn ?? []).includes('10.244.82.0/26'))).toBe(false);
    expect(events(b.lines, 'notification-received')).toEqual([]);
  }, 20_000);
});
