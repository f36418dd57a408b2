// Interop, BFD against BIRD 2 (`protocol bfd {}` and `bfd on` in its BGP
// protocols, RFC 5882 on both sides): IPv4 and IPv6 single-hop sessions
// (RFC 5881) come Up on both sides (`birdc show bfd sessions`) at 300 ms x 3,
// BGP Established over them, nothing changes for 30 s, new timers on reload
// are renegotiated by Poll/Final without a flap, and when bgp-ts stops
// (AdminDown first, RFC 5880 §6.8.16) BIRD's sessions go Down.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs } from './harness/bgp-ts.js';
import type { BirdPeer } from './harness/bird.js';
import { pollUntil, sleep } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';

const reason = interopGate(['bird']);

interface BfdList {
  sessions: { peer: string; state: string; txIntervalMs: number; rxIntervalMs: number; detectionTimeMs: number; flaps: number }[];
}

describe.skipIf(reason !== undefined)(`BFD against BIRD 2${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let bird: BirdPeer;
  let DUT: { v4: string; v6: string };
  let PEER: { v4: string; v6: string };

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'bird']);
    const [a, b] = topo.nodes;
    DUT = { v4: a!.ipv4, v6: a!.ipv6 };
    PEER = { v4: b!.ipv4, v6: b!.ipv6 };
    const bfd = { intervalMs: 300, multiplier: 3 };
    bird = createPeer('bird', topo, 'bird', {
      routerId: PEER.v4,
      asn: 65020,
      nextHop: { ipv4: PEER.v4, ipv6: PEER.v6 },
      neighbors: [
        { address: DUT.v4, asn: 64512, localAddress: PEER.v4, families: ['ipv4-unicast'], bfd },
        { address: DUT.v6, asn: 64512, localAddress: PEER.v6, families: ['ipv6-unicast'], bfd },
      ],
      routes: ['10.79.0.0/24', 'fd79::/48'],
    }) as BirdPeer;
    await bird.start();
    mkdirSync(join(topo.dir, 'dut'), { recursive: true });
    dut = new BgpTsDaemon(a!.ns, join(topo.dir, 'dut'), {
      routerId: DUT.v4,
      asn: 64512,
      api: { listen: '127.0.0.1:9179' },
      neighbors: [
        { address: PEER.v4, asn: 65020, localAddress: DUT.v4, families: ['ipv4-unicast'], bfd: {} },
        { address: PEER.v6, asn: 65020, localAddress: DUT.v6, families: ['ipv6-unicast'], bfd: {} },
      ],
    });
    await dut.start();
  });

  afterAll(async () => {
    await dut?.stop();
    await bird?.stop();
    await topo?.destroy();
  });

  it('IPv4 and IPv6 sessions come Up on both sides at 300 ms x 3, BGP Established', async () => {
    for (const peer of [PEER.v4, PEER.v6]) {
      await dut.waitForEvent(eventIs('session-established', { peer }), 30_000);
      await dut.waitForEvent(eventIs('bfd-state-changed', { peer, to: 'Up' }), 30_000);
    }
    const theirs = await pollUntil(async () => {
      const rows = await bird.bfdSessions();
      return rows.length === 2 && rows.every((r) => r.state === 'Up') ? rows : undefined;
    }, { timeoutMs: 15_000, what: 'BIRD: both BFD sessions Up' });
    expect(theirs.map((r) => r.address).sort()).toEqual([DUT.v4, DUT.v6].sort());
    for (const r of theirs) expect(r).toMatchObject({ intervalMs: 300, timeoutMs: 900 });
    const ours = await pollUntil(async () => {
      const l = await dut.apiGet<BfdList>('/api/v1/bfd');
      return l.sessions.every((s) => s.state === 'Up' && s.txIntervalMs === 300) ? l : undefined;
    }, { timeoutMs: 10_000, what: 'bgp-ts: both Up at 300 ms' });
    for (const s of ours.sessions) expect(s).toMatchObject({ rxIntervalMs: 300, detectionTimeMs: 900 });
  });

  it('stays Up for 30 s on both sides', async () => {
    const since = dut.mark();
    await sleep(30_000);
    expect(dut.filter(eventIs('bfd-state-changed'), since)).toEqual([]);
    expect(dut.filter(eventIs('session-down'), since)).toEqual([]);
    expect((await bird.bfdSessions()).every((r) => r.state === 'Up')).toBe(true);
  });

  it('new timers on reload go through Poll/Final: BIRD renegotiates to 500 ms x 3, nobody flaps', async () => {
    const since = dut.mark();
    dut.config = { ...dut.config, neighbors: (dut.config.neighbors ?? []).map((n) => ({ ...n, bfd: { enabled: true, minRx: 500, minTx: 500 } })) };
    await dut.reload();
    // BIRD's Interval = max(its DesiredMinTx 300, our RequiredMinRx); Timeout = our multiplier x max(its RequiredMinRx 300, our DesiredMinTx)
    await pollUntil(async () => {
      const rows = await bird.bfdSessions();
      return rows.length === 2 && rows.every((r) => r.state === 'Up' && r.intervalMs === 500 && r.timeoutMs === 1500) ? rows : undefined;
    }, { timeoutMs: 10_000, what: 'BIRD: both sessions renegotiated to 500 ms x 3' });
    const ours = await pollUntil(async () => {
      const l = await dut.apiGet<BfdList>('/api/v1/bfd');
      return l.sessions.every((x) => x.state === 'Up' && x.txIntervalMs === 500 && x.detectionTimeMs === 1500) ? l : undefined;
    }, { timeoutMs: 10_000, what: 'bgp-ts: both at 500 ms, detection 1.5 s' });
    expect(ours.sessions.every((x) => x.flaps === 0)).toBe(true);
    await sleep(2_000);
    expect(dut.filter(eventIs('bfd-state-changed'), since)).toEqual([]);
    expect(dut.filter(eventIs('session-down'), since)).toEqual([]);
    expect((await bird.bfdSessions()).every((r) => r.state === 'Up')).toBe(true);
  });

  it('bgp-ts stopping (AdminDown first): BIRD sees both sessions go Down', async () => {
    await dut.stop();
    const rows = await pollUntil(async () => {
      const r = await bird.bfdSessions();
      return r.length === 2 && r.every((x) => x.state !== 'Up') ? r : undefined;
    }, { timeoutMs: 5_000, what: 'BIRD: BFD sessions down after our stop' });
    expect(rows.map((r) => r.state)).toEqual(['Down', 'Down']);
  });
});
