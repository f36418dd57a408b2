// Update groups through the RIB facade (src/rib/update-group.ts,
// group-member.ts, group-out.ts; STYLE.md §10b): sessions with the same export
// result share one group whose UPDATEs are encoded once (the members get the
// same Buffer objects); a member never gets its own routes back (RFC 4456
// split horizon, ORIGINATOR_ID) and still loses a route whose best path moves
// to it; a late joiner gets the group's table, then End-of-RIB; a member that
// stops reading is bounded and catches up to exactly the group's view; a
// refresh re-walks the table for one member alone; policy, role and encoding
// differences split groups, and a reload changing one peer's export rules
// moves it to another group without resetting its session.
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/bgp/wire/message.js';
import { endOfRibFamily } from '../../src/bgp/wire/eor.js';
import { prefixToString } from '../../src/lib/prefix.js';
import { compileGlobalPolicies, type Rib } from '../../src/rib/index.js';
import { CODEC, announce, announced, attrsOf, rib, sent, session, settle, withdraw, withdrawnOf, type PeerOpts } from './rib-helpers.js';

const attrs = (nh: string, med = 0) => ({ origin: 0 as const, asPath: [], nextHop: nh, localPref: 100, med });
const client = (address: string, o: PeerOpts = {}) => session(address, { rrClient: true, families: ['ipv4-unicast'], ...o });

/** Four /26 blocks of node `i` (the Calico pod blocks one client announces in one UPDATE). */
const blocks = (i: number) => [0, 1, 2, 3].map((j) => `10.${100 + (i >> 6)}.${(i & 63) * 4 + j}.0/26`);

function reflector(over: Parameters<typeof rib>[0] = {}): Rib {
  return rib({ isReflector: true, ...over });
}

/** What a peer holds after applying everything it was sent: prefix → MED (its stand-in for the attributes). */
function apply(view: Map<string, number | undefined>, msgs: Buffer[]): void {
  for (const buf of msgs) {
    const m = decodeMessage(buf, CODEC);
    if (!m.ok || m.value.type !== 'update') continue;
    const u = m.value.update;
    if (endOfRibFamily(u)) continue;
    for (const p of u.withdrawn.prefixes) view.delete(prefixToString(p));
    for (const p of u.nlri.prefixes) view.set(prefixToString(p), u.attributes.med);
  }
}

function drain(r: Rib, address: string, view: Map<string, number | undefined>): number {
  let n = 0;
  for (;;) {
    const batch = r.takeUpdates(address, 8);
    if (batch.length === 0) return n;
    n += batch.length;
    apply(view, batch);
  }
}

describe('update groups: one export and one encoding per group', () => {
  it('members share the encoded buffers: the same Buffer objects, one UPDATE per originator', () => {
    const r = reflector();
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) r.peerUp(client(a));
    expect(r.updateGroups()).toHaveLength(1);
    r.update('10.0.0.1', announce(blocks(1), attrs('10.0.0.1')));
    settle(r);
    const got = ['10.0.0.2', '10.0.0.3', '10.0.0.4'].map((a) => r.takeUpdates(a, 100));
    // One UPDATE with the originator's four blocks, then End-of-RIB, the very same objects for every member.
    expect(got[0]).toHaveLength(2);
    for (const g of got.slice(1)) {
      expect(g).toHaveLength(2);
      g.forEach((b, i) => expect(b).toBe(got[0]![i]));
    }
    const first = decodeMessage(got[0]![0]!, CODEC);
    expect(first.ok && first.value.type === 'update' && first.value.update.nlri.prefixes.map(prefixToString)).toEqual(blocks(1));
    expect(r.peerStats('10.0.0.3')?.byFamily['ipv4-unicast'].advertised).toBe(4);
  });

  it('an originator\'s prefixes stay in one UPDATE however small the slices and however members interleave', () => {
    const r = reflector();
    const nodes = Array.from({ length: 40 }, (_, i) => `10.0.1.${i + 1}`);
    for (const a of nodes) r.peerUp(client(a));
    settle(r);
    for (const a of nodes) r.takeUpdates(a, 100); // End-of-RIB
    nodes.forEach((a, i) => r.update(a, announce(blocks(i), attrs(a))));
    const per = new Map<string, Buffer[]>(nodes.map((a) => [a, []]));
    let turns = 0;
    while (r.hasWork() || r.pendingPeers().length > 0) {
      r.process(3); // a handful of prefixes per slice
      for (const a of r.pendingPeers()) per.get(a)!.push(...r.takeUpdates(a, 2));
      if (++turns > 100_000) throw new Error('never settles');
    }
    for (const [a, msgs] of per) {
      const sizes = msgs.map((b) => {
        const m = decodeMessage(b, CODEC);
        return m.ok && m.value.type === 'update' ? m.value.update.nlri.prefixes.length : -1;
      });
      expect(sizes).toHaveLength(nodes.length - 1); // one UPDATE per other originator, none back to itself
      expect(sizes.every((n) => n === 4)).toBe(true);
      expect(r.peerStats(a)?.byFamily['ipv4-unicast'].advertised).toBe(4 * (nodes.length - 1));
    }
  });
});

describe('update groups: split horizon per member without re-encoding', () => {
  it("a member's own routes are not sent back, nor their withdraws", () => {
    const r = reflector();
    for (const a of ['10.0.0.1', '10.0.0.2']) r.peerUp(client(a));
    settle(r);
    for (const a of ['10.0.0.1', '10.0.0.2']) sent(r, a);
    r.update('10.0.0.1', announce(blocks(1), attrs('10.0.0.1')));
    settle(r);
    expect(sent(r, '10.0.0.1')).toEqual([]);
    expect(announced(sent(r, '10.0.0.2'))).toEqual([...blocks(1)].sort());
    r.update('10.0.0.1', withdraw(blocks(1)));
    settle(r);
    expect(sent(r, '10.0.0.1')).toEqual([]);
    expect(withdrawnOf(sent(r, '10.0.0.2'))).toEqual([...blocks(1)].sort());
  });

  it('withdrawals of many sources in one step share their UPDATEs', () => {
    const r = reflector();
    const nodes = Array.from({ length: 10 }, (_, i) => `10.0.3.${i + 1}`);
    for (const a of nodes) r.peerUp(client(a));
    nodes.forEach((a, i) => r.update(a, announce(blocks(i), attrs(a))));
    settle(r);
    for (const a of nodes) sent(r, a);
    nodes.forEach((a, i) => r.update(a, withdraw(blocks(i))));
    settle(r);
    const got = sent(r, nodes[0]!);
    expect(got).toHaveLength(1); // not one per source
    expect(withdrawnOf(got)).toEqual(expect.arrayContaining(nodes.slice(1).flatMap((_, i) => blocks(i + 1))));
    for (const a of nodes) expect(r.peerStats(a)?.byFamily['ipv4-unicast'].advertised).toBe(0);
  });

  it('a route reflected with an ORIGINATOR_ID is not sent to the router it names (RFC 4456 §8)', () => {
    const r = reflector();
    r.peerUp(session('10.0.9.1', { families: ['ipv4-unicast'] })); // another reflector, a non-client
    for (const a of ['10.0.0.1', '10.0.0.2']) r.peerUp(client(a));
    settle(r);
    for (const a of ['10.0.0.1', '10.0.0.2']) sent(r, a);
    r.update('10.0.9.1', announce(['10.244.7.0/26'], { ...attrs('10.0.0.1'), originatorId: 0x0a000001, clusterList: [0x0a000901] }));
    settle(r);
    expect(sent(r, '10.0.0.1')).toEqual([]);
    expect(announced(sent(r, '10.0.0.2'))).toEqual(['10.244.7.0/26']);
  });

  it('when the best path moves to a member, that member loses the old route and skips the new one', () => {
    const r = reflector({ ecmp: 1 });
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) r.peerUp(client(a));
    settle(r);
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) sent(r, a);
    r.update('10.0.0.1', announce(['10.244.9.0/26'], attrs('10.0.0.1'))); // best: lowest router ID
    r.update('10.0.0.2', announce(['10.244.9.0/26'], attrs('10.0.0.2')));
    settle(r);
    expect(announced(sent(r, '10.0.0.2'))).toEqual(['10.244.9.0/26']); // 10.0.0.1's path
    expect(sent(r, '10.0.0.1')).toEqual([]);
    expect(attrsOf(sent(r, '10.0.0.3'), '10.244.9.0/26')?.nextHop).toBe('10.0.0.1');
    r.update('10.0.0.1', withdraw(['10.244.9.0/26']));
    settle(r);
    const two = sent(r, '10.0.0.2');
    expect(two.map((s) => [announced([s]), withdrawnOf([s])])).toEqual([[[], ['10.244.9.0/26']]]); // a withdraw for it alone
    expect(attrsOf(sent(r, '10.0.0.1'), '10.244.9.0/26')?.nextHop).toBe('10.0.0.2');
    expect(attrsOf(sent(r, '10.0.0.3'), '10.244.9.0/26')?.nextHop).toBe('10.0.0.2');
    expect(r.peerStats('10.0.0.2')?.byFamily['ipv4-unicast'].advertised).toBe(0);
    expect(r.peerStats('10.0.0.3')?.byFamily['ipv4-unicast'].advertised).toBe(1);
  });
});

describe('update groups: joining, lagging, refreshing', () => {
  it('a late joiner gets the group\'s current table, then End-of-RIB, then follows the stream', () => {
    const r = reflector();
    for (const a of ['10.0.0.1', '10.0.0.2']) r.peerUp(client(a));
    r.update('10.0.0.1', announce(blocks(1), attrs('10.0.0.1')));
    r.update('10.0.0.2', announce(blocks(2), attrs('10.0.0.2')));
    settle(r);
    for (const a of ['10.0.0.1', '10.0.0.2']) sent(r, a);
    r.peerUp(client('10.0.0.3'));
    expect(r.updateGroups()).toEqual([expect.objectContaining({ members: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] })]);
    settle(r);
    const got = sent(r, '10.0.0.3');
    expect(announced(got)).toEqual([...blocks(1), ...blocks(2)].sort());
    expect(got.at(-1)?.kind).toBe('eor');
    expect(got.filter((s) => s.kind === 'eor')).toHaveLength(1);
    expect(sent(r, '10.0.0.1')).toEqual([]); // the old members are told nothing
    r.update('10.0.0.1', withdraw([blocks(1)[0]!]));
    settle(r);
    const a2 = r.takeUpdates('10.0.0.2', 10);
    const a3 = r.takeUpdates('10.0.0.3', 10);
    expect(a3).toHaveLength(1);
    expect(a3[0]).toBe(a2[0]); // on the shared stream now
  });

  it('a member that stops reading is bounded and catches up to exactly the group\'s view', () => {
    const r = reflector({ maxStreamLag: 4096 });
    const src = Array.from({ length: 60 }, (_, i) => `10.0.2.${i + 1}`);
    for (const a of [...src, '10.0.0.8', '10.0.0.9']) r.peerUp(client(a));
    settle(r);
    for (const a of [...src, '10.0.0.8', '10.0.0.9']) sent(r, a);
    const fast = new Map<string, number | undefined>();
    const slow = new Map<string, number | undefined>();
    let maxItems = 0;
    // Three rounds of change while 10.0.0.9 reads nothing: announce, re-announce half with another MED, withdraw a third.
    for (let round = 0; round < 3; round++) {
      src.forEach((a, i) => {
        if (round === 0) r.update(a, announce(blocks(i), attrs(a, 1)));
        if (round === 1 && i % 2 === 0) r.update(a, announce(blocks(i), attrs(a, 2)));
        if (round === 2 && i % 3 === 0) r.update(a, withdraw(blocks(i)));
      });
      while (r.hasWork() || r.takeUpdates('10.0.0.8', 0).length > 0) {
        r.process(64);
        drain(r, '10.0.0.8', fast);
        for (const a of src) r.takeUpdates(a, 100);
        maxItems = Math.max(maxItems, ...r.updateGroups().map((g) => g.streamItems));
      }
      drain(r, '10.0.0.8', fast);
    }
    // The stream held at most the bound's worth of UPDATEs (~80 octets each) plus one encoding step for the laggard.
    expect(maxItems).toBeLessThanOrEqual(4096 / 60 + 64);
    drain(r, '10.0.0.9', slow);
    expect(fast.size).toBe(src.length * 4 - Math.ceil(src.length / 3) * 4);
    expect([...slow].sort()).toEqual([...fast].sort());
    expect(r.peerStats('10.0.0.9')?.byFamily['ipv4-unicast'].advertised).toBe(fast.size);
    // And from then on it follows the shared stream again.
    r.update(src[1]!, withdraw(blocks(1)));
    settle(r);
    const f = r.takeUpdates('10.0.0.8', 10);
    const s = r.takeUpdates('10.0.0.9', 10);
    expect(s).toHaveLength(1);
    expect(s[0]).toBe(f[0]);
  });

  it('a route refresh re-walks the table for that member alone, with BoRR and EoRR when negotiated', () => {
    const r = reflector();
    r.peerUp(client('10.0.0.1'));
    r.peerUp(client('10.0.0.2', { enhancedRouteRefresh: true }));
    r.peerUp(client('10.0.0.3'));
    expect(r.updateGroups()).toHaveLength(1); // enhanced route refresh is the member's own
    r.update('10.0.0.1', announce(blocks(1), attrs('10.0.0.1')));
    settle(r);
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) sent(r, a);
    expect(r.routeRefresh('10.0.0.2', 'ipv4-unicast', 0)).toBe('resend');
    expect(sent(r, '10.0.0.2').map((s) => s.kind + (s.announced.length ? ' ' + s.announced.join() : ''))).toEqual(['borr', `update ${blocks(1).join()}`, 'eorr']);
    expect(sent(r, '10.0.0.3')).toEqual([]);
    expect(sent(r, '10.0.0.1')).toEqual([]);
  });
});

describe('update groups: what splits them, and moving between them', () => {
  it('export rules, role and encoding split groups; the same settings share one', () => {
    const r = reflector();
    const lp = [{ match: { prefix: '10.244.0.0/16' }, action: 'accept' as const, set: { localPref: 250 } }];
    r.peerUp(client('10.0.0.1'));
    r.peerUp(client('10.0.0.2'));
    r.peerUp(client('10.0.0.3', { export: lp }));
    r.peerUp(client('10.0.0.4', { export: lp }));
    r.peerUp(session('10.0.0.5', { families: ['ipv4-unicast'] })); // non-client
    r.peerUp(session('203.0.113.1', { asn: 65001, families: ['ipv4-unicast'] })); // eBGP
    r.peerUp({ ...client('10.0.0.6'), codec: { ...CODEC, addPathSend: { 'ipv4-unicast': true, 'ipv6-unicast': false } } });
    const groups = r.updateGroups().map((g) => g.members);
    expect(groups).toEqual(expect.arrayContaining([['10.0.0.1', '10.0.0.2'], ['10.0.0.3', '10.0.0.4'], ['10.0.0.5'], ['203.0.113.1'], ['10.0.0.6']]));
    expect(groups).toHaveLength(5);
    r.update('10.0.0.1', announce(['10.244.1.0/26'], attrs('10.0.0.1')));
    settle(r);
    expect(attrsOf(sent(r, '10.0.0.2'), '10.244.1.0/26')?.localPref).toBe(100);
    expect(attrsOf(sent(r, '10.0.0.4'), '10.244.1.0/26')?.localPref).toBe(250);
    r.peerDown('10.0.0.5', { graceful: false });
    expect(r.updateGroups()).toHaveLength(4); // a group goes with its last member
  });

  it('a reload changing one peer\'s export policy moves it to another group without resetting its session', () => {
    const r = reflector();
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) r.peerUp(client(a));
    r.update('10.0.0.1', announce(['10.244.1.0/26', '10.244.2.0/26'], attrs('10.0.0.1')));
    settle(r);
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) sent(r, a);
    const before = r.peerState('10.0.0.3')!;
    const member = before.out;
    const lp = { export: [{ match: { prefix: '10.244.1.0/26' }, action: 'accept' as const, set: { localPref: 250 } }] };
    const globals = compileGlobalPolicies({ ebgpRequiresPolicy: false });
    r.setPolicies(globals, (a) => (a === '10.0.0.3' ? lp : undefined));
    settle(r);
    expect(r.updateGroups().map((g) => g.members)).toEqual(expect.arrayContaining([['10.0.0.1', '10.0.0.2'], ['10.0.0.3']]));
    expect(r.peerState('10.0.0.3')).toBe(before); // same session state, same member: nothing reset
    expect(r.peerState('10.0.0.3')!.out).toBe(member);
    const moved = sent(r, '10.0.0.3');
    expect(moved.map((s) => s.kind)).toEqual(['update']); // no second End-of-RIB, nothing unchanged re-sent
    expect(announced(moved)).toEqual(['10.244.1.0/26']);
    expect(attrsOf(moved, '10.244.1.0/26')?.localPref).toBe(250);
    expect(sent(r, '10.0.0.2')).toEqual([]); // the others are untouched
    // And back: it rejoins the first group, and only the changed route goes again.
    r.setPolicies(globals, (a) => (a === '10.0.0.3' ? { export: [] } : undefined));
    settle(r);
    expect(r.updateGroups().map((g) => g.members)).toEqual([['10.0.0.1', '10.0.0.2', '10.0.0.3']]);
    const back = sent(r, '10.0.0.3');
    expect(announced(back)).toEqual(['10.244.1.0/26']);
    expect(attrsOf(back, '10.244.1.0/26')?.localPref).toBe(100);
    // Following the shared stream again.
    r.update('10.0.0.1', withdraw(['10.244.2.0/26']));
    settle(r);
    const two = r.takeUpdates('10.0.0.2', 10);
    expect(r.takeUpdates('10.0.0.3', 10)[0]).toBe(two[0]);
  });

  it('a reload that changes only one peer\'s import rules re-runs import for that peer alone', () => {
    const r = reflector();
    for (const a of ['10.0.0.1', '10.0.0.2']) r.peerUp(client(a));
    r.update('10.0.0.1', announce(['10.244.1.0/26'], attrs('10.0.0.1')));
    r.update('10.0.0.2', announce(['10.244.2.0/26'], attrs('10.0.0.2')));
    settle(r);
    for (const a of ['10.0.0.1', '10.0.0.2']) sent(r, a);
    const reject = { import: [{ match: { prefix: '10.244.2.0/26' }, action: 'reject' as const }] };
    r.setPolicies(compileGlobalPolicies({ ebgpRequiresPolicy: false }), (a) => (a === '10.0.0.2' ? reject : undefined));
    expect(r.totals().jobs).toBe(1); // one soft-in, for 10.0.0.2; nothing re-exported
    settle(r);
    expect(withdrawnOf(sent(r, '10.0.0.1'))).toEqual(['10.244.2.0/26']);
    expect(r.peerStats('10.0.0.2')?.byFamily['ipv4-unicast']).toMatchObject({ received: 1, accepted: 0 });
  });
});
