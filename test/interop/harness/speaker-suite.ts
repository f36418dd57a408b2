// The "BGP-4 speaker core" interop scenario, run once per peer implementation
// (bird.test.ts, frr.test.ts, gobgp.test.ts). One two-node topology per file:
// bgp-ts in `dut` (10.0.0.1, 2001:db8::1), the peer in `peer` (10.0.0.2,
// 2001:db8::2). Three phases share it, each restarting both daemons:
//   A. eBGP over IPv4 with 4-octet ASNs (RFC 6793): Established, hold time
//      negotiated down to the peer's 9 s (RFC 4271 §4.2), IPv4 routes and IPv6
//      routes over the IPv4 session (RFC 4760), withdrawals, staying up past
//      several hold times, NOTIFICATION with shutdown communication both ways
//      (RFC 8203), bgp-ts restart, peer restart.
//   B. iBGP over IPv6 with a 2-octet ASN: IPv4 routes over the IPv6 session,
//      hold timer expiry when the link is cut (RFC 4271 §6.5).
//   C. dynamic neighbors: a listen range admits a peer with no neighbor entry
//      and a connection from outside every range is refused.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs, type DaemonConfig, type LogEvent } from './bgp-ts.js';
import { pollUntil, sleep } from './exec.js';
import { Topology } from './netns.js';
import type { PeerKind, PeerRouter, PeerSpec } from './peer.js';
import { createPeer } from './peers.js';
import { interopGate } from './prerequisites.js';

const DUT = { v4: '10.0.0.1', v6: '2001:db8::1' };
const PEER = { v4: '10.0.0.2', v6: '2001:db8::2' };
const AS_DUT = 4200000001;
const AS_PEER = 4200000002;
const AS_IBGP = 65010;
const ROUTE_V4 = '10.244.2.0/26';
const ROUTE_V6 = '2001:db8:244::/64';
const LATE_V4 = '10.244.3.0/26';
const LATE_V6 = '2001:db8:245::/64';
const SHUTDOWN_TEXT = 'bgp-ts shutting down';

const prefixes = (e: LogEvent, field: 'announced' | 'withdrawn'): string[] => (Array.isArray(e[field]) ? (e[field] as string[]) : []);

/** An update-received line from `peer` listing `prefix` as announced (or withdrawn). */
const updateWith =
  (peer: string, prefix: string, field: 'announced' | 'withdrawn' = 'announced') =>
  (e: LogEvent): boolean =>
    e.event === 'update-received' && e.peer === peer && prefixes(e, field).includes(prefix);

/** The first address of a logged next hop (an IPv6 next hop may carry a link-local too). */
const firstNextHop = (e: LogEvent): string => String(e.nextHop ?? '').split(/[\s,;()]+/)[0] ?? '';

export function describeSpeakerCore(kind: PeerKind): void {
  const skip = interopGate([kind]);
  describe.skipIf(skip !== undefined)(`bgp-ts with ${kind}: BGP-4 speaker core`, () => {
    let topo: Topology;
    let dut: BgpTsDaemon | undefined;
    let peer: PeerRouter | undefined;

    /** Stops whatever runs, then starts the peer and bgp-ts with new configs. */
    async function startPair(config: DaemonConfig, spec: PeerSpec): Promise<{ dut: BgpTsDaemon; peer: PeerRouter }> {
      await dut?.stop();
      await peer?.stop();
      peer = createPeer(kind, topo, 'peer', spec);
      await peer.start();
      dut = new BgpTsDaemon(topo.node('dut').ns, topo.dir, config);
      await dut.start();
      return { dut, peer };
    }

    async function peerState(address: string, want: string, timeoutMs = 20_000): Promise<void> {
      await pollUntil(async () => (await peer!.neighborState(address)) === want, {
        timeoutMs,
        what: `${kind} showing ${address} ${want}\n${peer!.tail(20)}`,
      });
    }

    beforeAll(async () => {
      topo = await Topology.create(['dut', 'peer']);
    });

    afterAll(async () => {
      await dut?.stop();
      await peer?.stop();
      await topo?.destroy();
    });

    describe('A: eBGP over IPv4, 4-octet ASNs', () => {
      let established: LogEvent;
      let establishedAt = 0;
      let establishedIndex = 0;

      beforeAll(async () => {
        await startPair(
          {
            routerId: DUT.v4,
            asn: AS_DUT,
            // hold time 90 here, 9 at the peer: RFC 4271 §4.2 takes the smaller
            neighbors: [{ address: PEER.v4, asn: AS_PEER, holdTime: 90, connectRetryTime: 1, families: ['ipv4-unicast', 'ipv6-unicast'] }],
          },
          {
            routerId: PEER.v4,
            asn: AS_PEER,
            nextHop: { ipv4: PEER.v4, ipv6: PEER.v6 },
            neighbors: [{ address: DUT.v4, asn: AS_DUT, localAddress: PEER.v4, holdTime: 9 }],
            routes: [ROUTE_V4, ROUTE_V6],
          },
        );
      });

      it('reaches Established with the negotiated hold time and both families', async () => {
        established = await dut!.waitForEvent(eventIs('session-established', { peer: PEER.v4 }), 30_000);
        establishedAt = Date.now();
        establishedIndex = dut!.events.indexOf(established);
        expect(established['asn']).toBe(AS_PEER);
        expect(established['holdTime']).toBe(9);
        expect(established['keepaliveTime']).toBe(3);
        expect(established['remoteId']).toBe(PEER.v4);
        expect(established['families']).toEqual(expect.arrayContaining(['ipv4-unicast', 'ipv6-unicast']));
        const transition = await dut!.waitForEvent(eventIs('peer-state', { peer: PEER.v4, to: 'Established' }), 5_000);
        expect(transition['from']).toBe('OpenConfirm'); // RFC 4271 §8.2.2: only OpenConfirm leads to Established
        await peerState(DUT.v4, 'Established');
      });

      it('learns IPv4 routes and IPv6 routes over the IPv4 session with next hop and AS path', async () => {
        const v4 = await dut!.waitForEvent(updateWith(PEER.v4, ROUTE_V4), 15_000);
        expect(v4['family']).toBe('ipv4-unicast');
        expect(firstNextHop(v4)).toBe(PEER.v4);
        expect(v4['asPath']).toEqual([AS_PEER]);
        const v6 = await dut!.waitForEvent(updateWith(PEER.v4, ROUTE_V6), 15_000);
        expect(v6['family']).toBe('ipv6-unicast');
        expect(firstNextHop(v6)).toBe(PEER.v6);
        expect(v6['asPath']).toEqual([AS_PEER]);
      });

      it('sees a later announcement and its withdrawal in both families', async () => {
        const since = dut!.mark();
        await peer!.announce(LATE_V4);
        await peer!.announce(LATE_V6);
        await dut!.waitForEvent(updateWith(PEER.v4, LATE_V4), 15_000, since);
        await dut!.waitForEvent(updateWith(PEER.v4, LATE_V6), 15_000, since);
        const beforeWithdraw = dut!.mark();
        await peer!.withdraw(LATE_V4);
        await peer!.withdraw(LATE_V6);
        const w4 = await dut!.waitForEvent(updateWith(PEER.v4, LATE_V4, 'withdrawn'), 15_000, beforeWithdraw);
        expect(w4['family']).toBe('ipv4-unicast');
        const w6 = await dut!.waitForEvent(updateWith(PEER.v4, LATE_V6, 'withdrawn'), 15_000, beforeWithdraw);
        expect(w6['family']).toBe('ipv6-unicast');
        // the routes announced at start were not withdrawn along with them
        expect(dut!.find(updateWith(PEER.v4, ROUTE_V4, 'withdrawn'))).toBeUndefined();
      });

      it('stays Established past several hold times (keepalives flow both ways)', async () => {
        const wait = establishedAt + 20_000 - Date.now();
        if (wait > 0) await sleep(wait);
        expect(dut!.filter(eventIs('session-down'), establishedIndex)).toEqual([]);
        expect(await peer!.neighborState(DUT.v4)).toBe('Established');
      });

      it('logs the shutdown communication the peer sends (RFC 8203) and comes back', async () => {
        const since = dut!.mark();
        const text = `maintenance by ${kind} 42`;
        await peer!.shutdownNeighbor(DUT.v4, text);
        const n = await dut!.waitForEvent(eventIs('notification-received', { peer: PEER.v4 }), 15_000, since);
        expect(n['code']).toBe(6); // Cease
        expect(n['subcode']).toBe(2); // Administrative Shutdown
        expect(n['text']).toBe(text);
        const down = await dut!.waitForEvent(eventIs('session-down', { peer: PEER.v4 }), 15_000, since);
        expect(down['asn']).toBe(AS_PEER);
        const reEnable = dut!.mark();
        await peer!.enableNeighbor(DUT.v4);
        await dut!.waitForEvent(eventIs('session-established', { peer: PEER.v4 }), 30_000, reEnable);
        await peerState(DUT.v4, 'Established');
      });

      it(`on SIGTERM sends Cease/Administrative Shutdown "${SHUTDOWN_TEXT}" and the peer records it`, async () => {
        const since = dut!.mark();
        const code = await dut!.stop();
        expect(code).toBe(0);
        const sent = dut!.find(eventIs('notification-sent', { peer: PEER.v4 }), since);
        expect(sent).toMatchObject({ code: 6, subcode: 2, text: SHUTDOWN_TEXT });
        expect(dut!.find(eventIs('daemon-stopping'), since)).toBeDefined();
        const got = await pollUntil(async () => peer!.lastNotificationReceived(DUT.v4), {
          timeoutMs: 10_000,
          what: `${kind} recording the NOTIFICATION`,
        });
        expect(got.summary).toMatch(/administrative shutdown/i);
        expect(got.text).toBe(SHUTDOWN_TEXT);
      });

      it('after a bgp-ts restart the peer re-establishes and resends its routes', async () => {
        const since = dut!.mark();
        await dut!.start();
        await dut!.waitForEvent(eventIs('session-established', { peer: PEER.v4 }), 30_000, since);
        await dut!.waitForEvent(updateWith(PEER.v4, ROUTE_V4), 15_000, since);
        await peerState(DUT.v4, 'Established');
      });

      it('when the peer is killed and restarted: session-down, then Established again', async () => {
        const since = dut!.mark();
        await peer!.kill();
        const down = await dut!.waitForEvent(eventIs('session-down', { peer: PEER.v4 }), 15_000, since);
        expect(typeof down['reason']).toBe('string');
        await peer!.start();
        await dut!.waitForEvent(eventIs('session-established', { peer: PEER.v4 }), 30_000, since);
        await dut!.waitForEvent(updateWith(PEER.v4, ROUTE_V6), 15_000, since);
        await peerState(DUT.v4, 'Established');
      });
    });

    describe('B: iBGP over IPv6, 2-octet ASN', () => {
      beforeAll(async () => {
        await startPair(
          {
            routerId: DUT.v4,
            asn: AS_IBGP,
            neighbors: [{ address: PEER.v6, asn: AS_IBGP, holdTime: 6, connectRetryTime: 1, families: ['ipv4-unicast', 'ipv6-unicast'] }],
          },
          {
            routerId: PEER.v4,
            asn: AS_IBGP,
            nextHop: { ipv4: PEER.v4, ipv6: PEER.v6 },
            neighbors: [{ address: DUT.v6, asn: AS_IBGP, localAddress: PEER.v6, holdTime: 9 }],
            routes: [ROUTE_V4, ROUTE_V6],
          },
        );
      });

      it('reaches Established over IPv6 with our smaller hold time', async () => {
        const e = await dut!.waitForEvent(eventIs('session-established', { peer: PEER.v6 }), 30_000);
        expect(e['asn']).toBe(AS_IBGP);
        expect(e['holdTime']).toBe(6);
        expect(e['keepaliveTime']).toBe(2);
        await peerState(DUT.v6, 'Established');
      });

      it('learns IPv6 routes and IPv4 routes over the IPv6 session', async () => {
        const v6 = await dut!.waitForEvent(updateWith(PEER.v6, ROUTE_V6), 15_000);
        expect(v6['family']).toBe('ipv6-unicast');
        expect(firstNextHop(v6)).toBe(PEER.v6);
        const v4 = await dut!.waitForEvent(updateWith(PEER.v6, ROUTE_V4), 15_000);
        expect(v4['family']).toBe('ipv4-unicast');
        expect(firstNextHop(v4)).toBe(PEER.v4);
        // iBGP: a locally originated route carries an empty AS_PATH (RFC 4271 §5.1.2)
        expect(v4['asPath'] ?? []).toEqual([]);
      });

      it('expires the hold timer when the link is cut, and recovers when it returns', async () => {
        const since = dut!.mark();
        const cutAt = Date.now();
        await topo.linkDown('peer');
        try {
          const down = await dut!.waitForEvent(eventIs('session-down', { peer: PEER.v6 }), 15_000, since);
          const elapsed = Date.now() - cutAt;
          expect(down['reason']).toBe('hold-timer-expired');
          // the hold timer (6 s), not a reset: the peer's last KEEPALIVE came at most
          // one keepalive interval (2-3 s, per implementation) before the cut
          expect(elapsed).toBeGreaterThan(2_500);
          expect(elapsed).toBeLessThan(9_000);
          expect(dut!.find(eventIs('notification-sent', { peer: PEER.v6, code: 4 }), since)).toBeDefined();
        } finally {
          await topo.linkUp('peer');
        }
        await topo.waitReachable('peer', DUT.v6);
        await dut!.waitForEvent(eventIs('session-established', { peer: PEER.v6 }), 40_000, since);
        await peerState(DUT.v6, 'Established', 30_000);
      });
    });

    describe('C: dynamic neighbors from a listen range', () => {
      const DUT_EXTRA = '10.0.0.129';
      const PEER_OUTSIDE = '10.0.0.130';

      beforeAll(async () => {
        await topo.addAddress('dut', `${DUT_EXTRA}/24`);
        await topo.addAddress('peer', `${PEER_OUTSIDE}/24`);
        await startPair(
          {
            routerId: DUT.v4,
            asn: AS_DUT,
            neighbors: [],
            // 10.0.0.2 is inside, 10.0.0.130 outside
            listenRanges: [{ prefix: '10.0.0.0/25', asn: AS_PEER, holdTime: 9, families: ['ipv4-unicast'] }],
          },
          {
            routerId: PEER.v4,
            asn: AS_PEER,
            nextHop: { ipv4: PEER.v4, ipv6: PEER.v6 },
            neighbors: [
              { address: DUT.v4, asn: AS_DUT, localAddress: PEER.v4, families: ['ipv4-unicast'] },
              { address: DUT_EXTRA, asn: AS_DUT, localAddress: PEER_OUTSIDE, families: ['ipv4-unicast'] },
            ],
            routes: [ROUTE_V4],
          },
        );
      });

      it('accepts a peer inside the range without a neighbor entry', async () => {
        const e = await dut!.waitForEvent(eventIs('session-established', { peer: PEER.v4 }), 30_000);
        expect(e['asn']).toBe(AS_PEER);
        const u = await dut!.waitForEvent(updateWith(PEER.v4, ROUTE_V4), 15_000);
        expect(firstNextHop(u)).toBe(PEER.v4);
        await peerState(DUT.v4, 'Established');
      });

      it('refuses a connection from outside every range', async () => {
        const r = await dut!.waitForEvent((e) => e.event === 'connection-rejected' && String(e['remote']).includes(PEER_OUTSIDE), 20_000);
        expect(typeof r['reason']).toBe('string');
        expect(dut!.find(eventIs('session-established', { peer: PEER_OUTSIDE }))).toBeUndefined();
        expect(await peer!.neighborState(DUT_EXTRA)).not.toBe('Established');
      });
    });
  });
}
