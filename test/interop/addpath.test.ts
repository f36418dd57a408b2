// Interop (RFC 7911 ADD-PATH send): bgp-ts as an RFC 4456 route reflector in
// AS 64512 passes every path of a prefix, not just the best, to receivers that
// negotiated ADD-PATH receive. Two clients, FRR on `s1` (10.0.0.2) and BIRD 2
// on `s2` (10.0.0.3), both announce 10.244.9.0/26 with themselves as next hop.
// Three receivers, each an RR client with `addPath: send` on our side:
//   - FRR bgpd on `frrrx` (10.0.0.4): FRR 8.4 offers ADD-PATH receive on every
//     family by default and shows each path's identifier (addpathRxId);
//   - BIRD 2 on `birdrx` (10.0.0.5) with `add paths rx` (Calico runs `add
//     paths on`), which keeps several paths from one protocol;
//   - BIRD 2 on `plain` (10.0.0.6) without `add paths`: the capability is not
//     negotiated (RFC 7911 §4: send needs the peer's receive), so one path only.
// Proves: ADD-PATH negotiated in both OPENs (our session-established event,
// our peer view, and each receiver's own neighbor view), both paths with both
// next hops and distinct path IDs at the receivers, one source withdraws →
// the receivers keep exactly the other path (withdrawal by path ID, RFC 7911
// §3), the source re-announces → two again, and the receiver without ADD-PATH
// holds one path, the best, throughout; the ADD-PATH-capable FRR source gets
// only the other source's path, never its own back (RFC 4456 §6).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdPeer } from './harness/bird.js';
import { BgpTsDaemon, eventIs } from './harness/bgp-ts.js';
import { pollUntil } from './harness/exec.js';
import { FrrPeer } from './harness/frr.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter, PeerSpec, ReceivedRoute } from './harness/peer.js';
import { interopGate } from './harness/prerequisites.js';
import { pathsFor } from './harness/routes.js';

const AS = 64512;
const RR = '10.0.0.1';
const S1 = { v4: '10.0.0.2', id: '192.0.2.2' }; // FRR source
const S2 = { v4: '10.0.0.3', id: '192.0.2.3' }; // BIRD source
const FRR_RX = { v4: '10.0.0.4', id: '192.0.2.4' };
const BIRD_RX = { v4: '10.0.0.5', id: '192.0.2.5' };
const PLAIN = { v4: '10.0.0.6', id: '192.0.2.6' };
const CLUSTER_ID = '192.0.2.100';
const PREFIX = '10.244.9.0/26';
const BOTH = [S1.v4, S2.v4].sort();

const skip = interopGate(['frr', 'bird']);

/** The next hops a receiver holds for PREFIX from the reflector, sorted. */
const nextHops = (paths: readonly ReceivedRoute[]): string[] => paths.map((p) => p.nextHop).sort();

describe.skipIf(skip !== undefined)('ADD-PATH send: bgp-ts reflects both paths of a prefix to ADD-PATH receivers', () => {
  let topo: Topology;
  let rr: BgpTsDaemon;
  let s1: FrrPeer;
  let s2: BirdPeer;
  let frrRx: FrrPeer;
  let birdRx: BirdPeer;
  let plain: BirdPeer;
  const all = (): PeerRouter[] => [s1, s2, frrRx, birdRx, plain];

  /** A router with one IPv4 session, to the reflector, announcing `routes` with itself as next hop. */
  const spec = (self: { v4: string; id: string }, routes: string[], addPaths?: 'rx'): PeerSpec => ({
    routerId: self.id,
    asn: AS,
    nextHop: { ipv4: self.v4, ipv6: '2001:db8::ffff' },
    neighbors: [{ address: RR, asn: AS, localAddress: self.v4, families: ['ipv4-unicast'], ...(addPaths ? { addPaths } : {}) }],
    routes,
  });
  const dir = (name: string): string => {
    const d = join(topo.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };

  /** Polls until `peer` holds exactly `want` (sorted next hops) for PREFIX from the reflector. */
  const waitForNextHops = async (peer: PeerRouter, want: readonly string[]): Promise<ReceivedRoute[]> => {
    let last: ReceivedRoute[] = [];
    try {
      return await pollUntil(
        async () => {
          last = await pathsFor(peer, PREFIX, RR);
          return JSON.stringify(nextHops(last)) === JSON.stringify(want) ? last : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: `${peer.kind} holding ${PREFIX} via ${want.join(', ')}` },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\nholds: ${JSON.stringify(last)}\n${peer.tail(15)}\nbgp-ts:\n${rr.tail(20)}`);
    }
  };

  beforeAll(async () => {
    topo = await Topology.create(['rr', 's1', 's2', 'frrrx', 'birdrx', 'plain']);
    const client = (address: string) => ({
      address,
      asn: AS,
      routeReflectorClient: true,
      holdTime: 9,
      connectRetryTime: 1,
      families: ['ipv4-unicast'],
      addPath: 'send',
    });
    rr = new BgpTsDaemon(topo.node('rr').ns, dir('rr'), {
      routerId: RR,
      asn: AS,
      clusterId: CLUSTER_ID,
      neighbors: [S1, S2, FRR_RX, BIRD_RX, PLAIN].map((p) => client(p.v4)),
      api: { listen: '127.0.0.1:9179' },
    });
    s1 = new FrrPeer(spec(S1, [PREFIX]), topo.node('s1').ns, dir('s1'));
    s2 = new BirdPeer(spec(S2, [PREFIX]), topo.node('s2').ns, dir('s2'));
    frrRx = new FrrPeer(spec(FRR_RX, []), topo.node('frrrx').ns, dir('frrrx'));
    birdRx = new BirdPeer(spec(BIRD_RX, [], 'rx'), topo.node('birdrx').ns, dir('birdrx'));
    plain = new BirdPeer(spec(PLAIN, []), topo.node('plain').ns, dir('plain'));
    await rr.start();
    await Promise.all(all().map((p) => p.start()));
  }, 60_000);

  afterAll(async () => {
    for (const p of [s1, s2, frrRx, birdRx, plain]) await p?.stop();
    await rr?.stop();
    await topo?.destroy();
  });

  it('negotiates ADD-PATH with the receivers that offer receive, and not with the plain one', async () => {
    const established = new Map<string, Record<string, unknown>>();
    for (const p of [S1, S2, FRR_RX, BIRD_RX, PLAIN]) established.set(p.v4, await rr.waitForEvent(eventIs('session-established', { peer: p.v4 }), 30_000));
    for (const p of all()) await pollUntil(async () => (await p.neighborState(RR)) === 'Established', { timeoutMs: 20_000, what: `${p.kind} Established` });

    // The receivers' OPENs, as bgp-ts read them: RFC 7911 §4 Send/Receive = 1 (receive) for IPv4 unicast
    const caps = (addr: string): string[] => established.get(addr)!['capabilities'] as string[];
    expect(caps(FRR_RX.v4).join(' ')).toMatch(/add-path\([^)]*ipv4-unicast (receive|both)/);
    expect(caps(BIRD_RX.v4).join(' ')).toMatch(/add-path\(ipv4-unicast receive\)/);
    expect(caps(PLAIN.v4).join(' ')).not.toContain('add-path');

    // What bgp-ts applies per session (the codec's negotiated send/receive)
    const view = async (addr: string): Promise<unknown> =>
      (await rr.apiGet<{ capabilities?: { addPath?: Record<string, string> } }>(`/api/v1/peers/${addr}`)).capabilities?.addPath ?? {};
    expect(await view(FRR_RX.v4)).toEqual({ 'ipv4-unicast': 'send' });
    expect(await view(BIRD_RX.v4)).toEqual({ 'ipv4-unicast': 'send' });
    expect(await view(PLAIN.v4)).toEqual({});

    // Our OPEN, as the receivers read it: we offer send (RFC 7911 §4 value 2)
    const frrNeighbor = JSON.stringify(await frrRx.neighborJson(RR));
    expect(frrNeighbor).toMatch(/"addPath":\{"ipv4Unicast":\{[^}]*"txReceived":true/);
    expect(frrNeighbor).toMatch(/"rxAdvertised":true/);
    const split = (info: string): { local: string; theirs: string } => {
      const at = info.indexOf('Neighbor capabilities');
      return { local: info.slice(info.indexOf('Local capabilities'), at), theirs: info.slice(at) };
    };
    const bird = split(await birdRx.protocolInfo(RR));
    // BIRD prints the families per direction: ours send only, its own receive only
    expect(bird.theirs).toMatch(/ADD-PATH\s+RX:[ \t]*\n\s+TX: ipv4\n/);
    expect(bird.local).toMatch(/ADD-PATH\s+RX: ipv4\n\s+TX:[ \t]*\n/);
    // the plain BIRD offers no ADD-PATH; we still offer send, which takes both sides (RFC 7911 §4)
    const plainInfo = split(await plain.protocolInfo(RR));
    expect(plainInfo.local).not.toContain('ADD-PATH');
    expect(plainInfo.theirs).toMatch(/ADD-PATH\s+RX:[ \t]*\n\s+TX: ipv4\n/);
  });

  it('sends both paths, with both next hops, to the ADD-PATH receivers; one path to the plain receiver', async () => {
    const frrPaths = await waitForNextHops(frrRx, BOTH);
    expect(frrPaths.every((p) => p.originatorId !== undefined && p.clusterList?.[0] === CLUSTER_ID)).toBe(true);
    expect(frrPaths.map((p) => p.originatorId).sort()).toEqual([S1.id, S2.id]);
    // two path identifiers, distinct (RFC 7911 §3: one per path for the session)
    const ids = frrPaths.map((p) => p.pathId);
    expect(ids.every((id) => typeof id === 'number' && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(2);
    expect(frrPaths.filter((p) => p.best)).toHaveLength(1);

    const birdPaths = await waitForNextHops(birdRx, BOTH);
    expect(birdPaths.map((p) => p.originatorId).sort()).toEqual([S1.id, S2.id]);

    // Without ADD-PATH receive there is one path per prefix: bgp-ts's best
    const [best] = (await rr.routes(PREFIX)).filter((r) => r.best);
    expect(best).toBeDefined();
    const one = await waitForNextHops(plain, [best!.nextHop]);
    expect(one).toHaveLength(1);

    // FRR as a source negotiated receive too, yet its own path never comes back (RFC 4456 §6): only S2's
    await waitForNextHops(s1, [S2.v4]);

    // our Adj-RIB-Out counts paths: two to each ADD-PATH receiver, one to the plain one
    const { peers } = await rr.apiGet<{ peers: { address: string; prefixes: { advertised: number } }[] }>('/api/v1/peers');
    const advertised = Object.fromEntries(peers.map((p) => [p.address, p.prefixes.advertised]));
    expect([advertised[FRR_RX.v4], advertised[BIRD_RX.v4], advertised[PLAIN.v4]]).toEqual([2, 2, 1]);
  });

  it('withdraws one path by its ID: the receivers keep exactly the other, then get both back', async () => {
    const before = await waitForNextHops(frrRx, BOTH);
    const s2Id = before.find((p) => p.nextHop === S2.v4)!.pathId;

    await s2.withdraw(PREFIX);
    const frrAfter = await waitForNextHops(frrRx, [S1.v4]);
    // the survivor keeps its identifier: only the withdrawn ID went
    expect(frrAfter[0]!.pathId).toBe(before.find((p) => p.nextHop === S1.v4)!.pathId);
    await waitForNextHops(birdRx, [S1.v4]);
    await waitForNextHops(plain, [S1.v4]);

    await s2.announce(PREFIX);
    const frrBack = await waitForNextHops(frrRx, BOTH);
    expect(new Set(frrBack.map((p) => p.pathId)).size).toBe(2);
    // RFC 7911 leaves ID choice to the sender; ours names a source for the session, so S2's returns under its old ID
    expect(frrBack.find((p) => p.nextHop === S2.v4)!.pathId).toBe(s2Id);
    await waitForNextHops(birdRx, BOTH);

    // the other source this time (FRR's path), and back
    await s1.withdraw(PREFIX);
    await waitForNextHops(frrRx, [S2.v4]);
    await waitForNextHops(birdRx, [S2.v4]);
    await waitForNextHops(plain, [S2.v4]);
    await s1.announce(PREFIX);
    await waitForNextHops(frrRx, BOTH);
    await waitForNextHops(birdRx, BOTH);
    const [best] = (await rr.routes(PREFIX)).filter((r) => r.best);
    const plainPaths = await waitForNextHops(plain, [best!.nextHop]);
    expect(plainPaths).toHaveLength(1);
  });
});
