// Next-hop tracking end to end without a kernel: monitor events into the
// tracker, the RIB's decision re-run for exactly the prefixes using a changed
// next hop (sliced through a LoopTurns of its own), an alternate path taking
// over when a static route goes and handing back when it returns; one cache
// entry per distinct next hop; a one-hop eBGP peer's next hop must be on a
// connected subnet; the IGP-cost step uses the resolving route's metric.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { INVALID_LOG_INTERVAL_MS, NextHopFaultLog, NextHopTracking, nextHopTables } from '../../src/daemon/next-hop-tracking.js';
import { toBestPathChange } from '../../src/daemon/rib-to-fib.js';
import { HostContext } from '../../src/fib/host-context.js';
import { checkEligibility } from '../../src/rib/decision/eligibility.js';
import { DEFAULT_DECISION_CONTEXT } from '../../src/rib/decision/context.js';
import { prefixParse as pp } from '../../src/lib/prefix.js';
import { LoopTurns } from '../../src/lib/loop-turns.js';
import { silentLogger } from '../../src/lib/log.js';
import { prefixParse, v4Key, v4KeyParse, v4Parse } from '../../src/lib/prefix.js';
import { Rib } from '../../src/rib/index.js';
import { makePeer, Path } from '../../src/rib/route.js';
import type { KernelRoute } from '../../src/fib/netlink/messages.js';
import type { KernelAddress } from '../../src/fib/netlink/interfaces.js';

const LOCAL_AS = 64512;
const staticRoute = (dst: string, gateway: string, priority = 0): KernelRoute => ({
  family: 'ipv4-unicast', dst: prefixParse(dst)!, table: 254, protocol: 4, type: 'unicast', scope: 0, onlink: false, gateway, priority,
});
const ADDR: KernelAddress = { family: 'ipv4-unicast', index: 2, address: '10.0.0.1', prefixLength: 24, subnet: v4KeyParse('10.0.0.0/24')!, scope: 0 };


/** Waits (turn by turn, up to a few seconds) until the tracker has nothing queued or walking. */
async function idle(t: NextHopTracking): Promise<void> {
  const until = Date.now() + 5_000;
  do await new Promise((r) => setImmediate(r));
  while (t.stats().busy && Date.now() < until);
  expect(t.stats().busy).toBe(false);
}

function setup() {
  const rib = new Rib({ routerId: v4Parse('10.0.0.1')!, asn: LOCAL_AS, isReflector: false, clientToClient: true, alwaysCompareMed: false, ecmp: 1 });
  let changed = 0;
  const t = new NextHopTracking({ rib, turns: new LoopTurns(), logger: silentLogger(), tables: [254], protocol: 201, changed: () => changed++ });
  t.load([staticRoute('10.9.0.0/24', '10.0.0.2', 10)], [ADDR]);
  rib.setNextHopLookups(t.lookups());
  const ibgpA = makePeer({ address: '10.0.0.2', asn: LOCAL_AS, localAsn: LOCAL_AS, bgpId: v4Parse('10.0.0.2')! });
  const ibgpB = makePeer({ address: '10.0.0.3', asn: LOCAL_AS, localAsn: LOCAL_AS, bgpId: v4Parse('10.0.0.3')! });
  const path = (p: typeof ibgpA, nextHop: string) => new Path(p, rib.store.intern({ origin: 0, asPath: [], nextHop, localPref: 100 }));
  return { rib, t, ibgpA, ibgpB, path, changes: () => changed };
}

describe('NextHopTracking', () => {
  it('a static route going away moves the best path to the alternate, and back when it returns, re-deciding only affected prefixes', async () => {
    const { rib, t, ibgpA, ibgpB, path, changes } = setup();
    const far = path(ibgpA, '10.9.0.7'); // behind the static route, lower router ID: preferred
    const near = path(ibgpB, '10.0.0.3'); // connected
    const P = [1, 2, 3].map((i) => v4Key(v4Parse(`10.244.${i}.0`)!, 26));
    for (const p of P) {
      rib.locRib.update(p, far);
      rib.locRib.update(p, near);
    }
    const other = v4Key(v4Parse('10.245.0.0')!, 26);
    rib.locRib.update(other, path(ibgpB, '10.0.0.3'));
    // IGP cost (§9.1.2.2 e): the static route's metric 10 against 0 on the connected subnet.
    expect(rib.locRib.best(P[0]!)).toBe(near);
    expect(rib.explain(P[0]!).find((c) => c.path === far)?.text).toMatch(/igp-cost: IGP cost 10 against IGP cost 0/);
    // Same metric: the lower router ID (far) wins.
    t.event({ kind: 'route', change: 'new', route: staticRoute('10.9.0.0/24', '10.0.0.2', 0) });
    t.event({ kind: 'route', change: 'del', route: staticRoute('10.9.0.0/24', '10.0.0.2', 10) });
    await idle(t);
    expect(rib.locRib.best(P[0]!)).toBe(far);
    // Only the three prefixes using 10.9.0.7 are looked at (the index), not `other`.
    expect(t.stats()).toMatchObject({ nextHops: 2, walks: 1, redecided: 3, visited: 3 });
    expect(changes()).toBeGreaterThan(0);
    // The static route goes: the far path is ineligible, near takes over.
    t.event({ kind: 'route', change: 'del', route: staticRoute('10.9.0.0/24', '10.0.0.2', 0) });
    await idle(t);
    for (const p of P) expect(rib.locRib.best(p)).toBe(near);
    expect(rib.explain(P[0]!).find((c) => c.path === far)).toMatchObject({ status: 'ineligible', ineligible: 'next-hop-unreachable' });
    expect(t.stats()).toMatchObject({ walks: 2, redecided: 6 });
    // It comes back.
    t.event({ kind: 'route', change: 'new', route: staticRoute('10.9.0.0/24', '10.0.0.2', 0) });
    await idle(t);
    for (const p of P) expect(rib.locRib.best(p)).toBe(far);
    expect(t.stats()).toMatchObject({ walks: 3, redecided: 9, visited: 9 });
    // The published changes reach the RIB's FIB output.
    rib.process(1_000);
    expect(rib.takeFibChanges().map((c) => c.prefix)).toEqual(expect.arrayContaining(P));
  });

  it('a prefix using two next hops that change together is re-decided once; withdrawn prefixes leave the index', async () => {
    const { rib, t, ibgpA, ibgpB, path } = setup();
    const a = path(ibgpA, '10.9.0.7');
    const b = path(ibgpB, '10.9.0.8');
    const both = v4Key(v4Parse('10.244.30.0')!, 26);
    const onlyB = v4Key(v4Parse('10.244.31.0')!, 26);
    const gone = v4Key(v4Parse('10.244.32.0')!, 26);
    rib.locRib.update(both, a);
    rib.locRib.update(both, b);
    rib.locRib.update(onlyB, path(ibgpB, '10.9.0.8'));
    rib.locRib.update(gone, path(ibgpA, '10.9.0.7'));
    rib.locRib.withdraw(gone, ibgpA);
    t.event({ kind: 'route', change: 'del', route: staticRoute('10.9.0.0/24', '10.0.0.2', 10) });
    await idle(t);
    expect(rib.locRib.best(both)).toBeUndefined();
    expect(rib.locRib.best(onlyB)).toBeUndefined();
    // both (once), onlyB; `gone` is no longer in the index.
    expect(t.stats()).toMatchObject({ walks: 1, redecided: 2, visited: 3 });
  });

  it('a route that changes no cached answer starts no walk', async () => {
    const { rib, t, ibgpA, path } = setup();
    rib.locRib.update(v4Key(v4Parse('10.244.9.0')!, 26), path(ibgpA, '10.9.0.7'));
    t.event({ kind: 'route', change: 'new', route: staticRoute('192.0.2.0/24', '10.0.0.2') });
    await idle(t);
    expect(t.stats()).toMatchObject({ nextHops: 1, walks: 0, redecided: 0 });
  });

  it('a one-hop eBGP peer needs its next hop on a connected subnet; a multihop one resolves recursively', () => {
    const { rib, t } = setup();
    const oneHop = makePeer({ address: '10.0.0.9', asn: 65001, localAsn: LOCAL_AS, bgpId: v4Parse('10.0.0.9')! });
    const multihop = makePeer({ address: '10.9.0.9', asn: 65001, localAsn: LOCAL_AS, bgpId: v4Parse('10.9.0.9')! });
    const attrs = rib.store.intern({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.9.0.7' });
    expect(t.resolution(new Path(oneHop, attrs), 'ipv4-unicast').reachable).toBe(false);
    expect(t.resolution(new Path(multihop, attrs), 'ipv4-unicast').reachable).toBe(true);
  });

  it('our own address as next hop is named by the decision', () => {
    const { rib, ibgpA, path } = setup();
    const p = v4Key(v4Parse('10.244.50.0')!, 26);
    rib.locRib.update(p, path(ibgpA, '10.0.0.1'));
    expect(rib.explain(p)[0]).toMatchObject({ status: 'ineligible', ineligible: 'next-hop-own-address' });
  });

  it('a semantically wrong next hop is logged, rate-limited per peer and next hop; the path is kept, ineligible', () => {
    const rib = new Rib({ routerId: v4Parse('10.0.0.1')!, asn: LOCAL_AS, isReflector: false, clientToClient: true, alwaysCompareMed: false, ecmp: 1 });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    let now = 0;
    const t = new NextHopTracking({ rib, turns: new LoopTurns(), logger, tables: [254], protocol: 201, changed: () => undefined, now: () => now });
    t.load([], [ADDR]);
    rib.setNextHopLookups(t.lookups());
    const peer = makePeer({ address: '10.0.0.2', asn: LOCAL_AS, localAsn: LOCAL_AS, bgpId: v4Parse('10.0.0.2')! });
    const invalid = () => lines.filter((l) => l['event'] === 'next-hop-invalid');
    const cases: [string, string][] = [['127.0.0.1', 'next-hop-loopback'], ['0.0.0.0', 'next-hop-unspecified'], ['224.0.0.1', 'next-hop-multicast'], ['10.0.0.1', 'next-hop-own-address']];
    cases.forEach(([nh, reason], i) => {
      const p = v4Key(v4Parse(`10.244.${60 + i}.0`)!, 26);
      rib.locRib.update(p, new Path(peer, rib.store.intern({ origin: 0, asPath: [], nextHop: nh, localPref: 100 })));
      expect(rib.locRib.best(p)).toBeUndefined();
      expect(rib.locRib.candidates(p)).toHaveLength(1);
      expect(rib.explain(p)[0]).toMatchObject({ status: 'ineligible', ineligible: reason });
      expect(invalid().at(-1)).toMatchObject({ level: 40, peer: '10.0.0.2', nextHop: nh, reason, prefix: `10.244.${60 + i}.0/26` });
    });
    expect(invalid()).toHaveLength(4);
    // More routes with the loopback next hop within the minute: no new line...
    const loop = rib.store.intern({ origin: 0, asPath: [], nextHop: '127.0.0.1', localPref: 100 });
    for (let i = 0; i < 5; i++) rib.locRib.update(v4Key(v4Parse(`10.245.${i}.0`)!, 26), new Path(peer, loop));
    expect(invalid()).toHaveLength(4);
    // ...after it, one line saying how many were held back.
    now += INVALID_LOG_INTERVAL_MS;
    rib.locRib.update(v4Key(v4Parse('10.245.9.0')!, 26), new Path(peer, loop));
    expect(invalid()).toHaveLength(5);
    expect(invalid().at(-1)).toMatchObject({ nextHop: '127.0.0.1', heldBack: 5 });
    expect(t.stats().invalidNextHops).toBe(10);
  });

  it('a one-hop session gets its interface (PeerInfo.interface): link-local next hops from it are eligible and go to the FIB with it', () => {
    const host = new HostContext();
    host.handle({ kind: 'link', change: 'new', link: { index: 3, name: 'eth1', up: true, lowerUp: true, flags: 1 } });
    host.handle({ kind: 'addr', change: 'new', address: { family: 'ipv6-unicast', index: 3, address: 'fe80::1', prefixLength: 64, subnet: pp('fe80::/64')!, scope: 253 } });
    host.handle({ kind: 'addr', change: 'new', address: { ...ADDR, index: 3 } });
    expect(host.interfaceFor('fe80::1', 'fe80::2')).toBe('eth1');
    expect(host.interfaceFor('fe80::1%eth1', 'fe80::2%eth1')).toBe('eth1');
    expect(host.interfaceFor('10.0.0.1', '10.0.0.9')).toBe('eth1');
    expect(host.interfaceFor('10.0.0.1', '10.9.0.9')).toBeUndefined(); // multihop: no interface
    const rib = new Rib({ routerId: v4Parse('10.0.0.1')!, asn: LOCAL_AS, isReflector: false, clientToClient: true, alwaysCompareMed: false, ecmp: 1 });
    const mpReach = (nextHop: string) => ({ mpReach: { family: 'ipv6-unicast' as const, nextHop, nlri: { family: 'ipv6-unicast' as const, prefixes: [] } } });
    const attrs = rib.store.intern({ origin: 0, asPath: [{ type: 2, asns: [65001] }], ...mpReach('fe80::2') });
    const peerInit = { address: 'fe80::2', asn: 65001, localAsn: LOCAL_AS, bgpId: v4Parse('10.0.0.9')! };
    const withIf = new Path(makePeer({ ...peerInit, interface: host.interfaceFor('fe80::1', 'fe80::2')! }), attrs);
    const without = new Path(makePeer(peerInit), attrs);
    expect(checkEligibility(withIf, DEFAULT_DECISION_CONTEXT, 'ipv6-unicast')).toBeUndefined();
    expect(checkEligibility(without, DEFAULT_DECISION_CONTEXT, 'ipv6-unicast')).toBe('next-hop-link-local');
    const prefix = pp('2001:db8:44::/48')!;
    expect(toBestPathChange({ prefix, paths: [withIf], local: false }).nextHops).toEqual([{ address: 'fe80::2', interface: 'eth1' }]);
    // A global next hop needs no interface.
    const global = new Path(withIf.peer, rib.store.intern({ origin: 0, asPath: [{ type: 2, asns: [65001] }], ...mpReach('2001:db8::2') }));
    expect(toBestPathChange({ prefix, paths: [global], local: false }).nextHops).toEqual([{ address: '2001:db8::2' }]);
  });

  it('next hops resolve in the FIB\'s table and the ones the kernel falls back to for a gateway (main, default)', () => {
    expect(nextHopTables(254)).toEqual([254, 253]);
    expect(nextHopTables(100)).toEqual([100, 254, 253]);
    const rib = new Rib({ routerId: v4Parse('10.0.0.1')!, asn: LOCAL_AS, isReflector: false, clientToClient: true, alwaysCompareMed: false, ecmp: 1 });
    const t = new NextHopTracking({ rib, turns: new LoopTurns(), logger: silentLogger(), tables: nextHopTables(100), protocol: 201, changed: () => undefined });
    t.load([staticRoute('10.9.0.0/24', '10.0.0.2')], [ADDR]); // in main (254), with the FIB writing table 100
    const peer = makePeer({ address: '10.0.0.2', asn: LOCAL_AS, localAsn: LOCAL_AS, bgpId: v4Parse('10.0.0.2')! });
    expect(t.resolution(new Path(peer, rib.store.intern({ origin: 0, asPath: [], nextHop: '10.9.0.7' })), 'ipv4-unicast').reachable).toBe(true);
  });

  it('after a monitor overrun the dump replaces the kept routes: a route deleted meanwhile is gone', async () => {
    const { rib, t, ibgpA, path } = setup();
    const p = v4Key(v4Parse('10.244.70.0')!, 26);
    const far = path(ibgpA, '10.9.0.7');
    rib.locRib.update(p, far);
    expect(rib.locRib.best(p)).toBe(far);
    // The static route went while the monitor's socket overflowed: no event, only the new dump.
    t.reload([], [ADDR]);
    await idle(t);
    expect(rib.locRib.best(p)).toBeUndefined();
    expect(t.stats().kernelRoutes).toBe(0);
    t.reload([staticRoute('10.9.0.0/24', '10.0.0.2')], undefined);
    await idle(t);
    expect(rib.locRib.best(p)).toBe(far);
  });

  it('without tracking (FIB not writing the kernel) a wrong next hop is still logged and ineligible', () => {
    const rib = new Rib({ routerId: v4Parse('10.0.0.1')!, asn: LOCAL_AS, isReflector: false, clientToClient: true, alwaysCompareMed: false, ecmp: 1 });
    const lines: Record<string, unknown>[] = [];
    const log = new NextHopFaultLog(pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }));
    rib.setNextHopLookups({ nextHopFaultSeen: log.seen });
    const peer = makePeer({ address: '10.0.0.2', asn: 65001, localAsn: LOCAL_AS, bgpId: v4Parse('10.0.0.2')! });
    const p = v4Key(v4Parse('10.244.80.0')!, 26);
    rib.locRib.update(p, new Path(peer, rib.store.intern({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '224.0.0.1' })));
    expect(rib.explain(p)[0]).toMatchObject({ status: 'ineligible', ineligible: 'next-hop-multicast' });
    expect(lines).toEqual([expect.objectContaining({ event: 'next-hop-invalid', reason: 'next-hop-multicast', nextHop: '224.0.0.1' })]);
    expect(log.count).toBe(1);
  });
});
