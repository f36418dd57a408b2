// ADD-PATH send through the RIB facade (RFC 7911, src/rib/update-group.ts): a
// session with ADD-PATH send negotiated gets every eligible candidate of a
// prefix that passes the export rules, best first, each under a path ID that
// names its source for the whole session (BIRD `add paths tx`, which Calico
// turns on for every peer); changes re-announce under the same ID, a path
// that goes is withdrawn by its ID, and a session without ADD-PATH still gets
// the best path alone. The wire form is checked against annotated hex.
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/bgp/wire/message.js';
import { endOfRibFamily } from '../../src/bgp/wire/eor.js';
import type { CodecContext, PathAttributes } from '../../src/bgp/wire/types.js';
import { prefixToString, v4Parse } from '../../src/lib/prefix.js';
import type { Rib } from '../../src/rib/index.js';
import { hex, toHex } from '../helpers/hex.js';
import { CODEC, LOCAL_AS, announce, path, rib, session, settle, withdraw, type PeerOpts } from './rib-helpers.js';

const ADD_PATH_TX: CodecContext = { ...CODEC, addPathSend: { 'ipv4-unicast': true, 'ipv6-unicast': true } };
/** How the receiving peer decodes what we sent with ADD-PATH send: its receive side. */
const ADD_PATH_RX: CodecContext = { ...CODEC, addPathReceive: { 'ipv4-unicast': true, 'ipv6-unicast': true } };

const ANYCAST = '10.96.0.10/32';
const A = '10.0.0.2';
const B = '10.0.0.3';
const C = '10.0.0.4'; // client with ADD-PATH send
const D = '10.0.0.5'; // client without

function addPathSession(address: string, o: PeerOpts = {}) {
  return { ...session(address, o), codec: ADD_PATH_TX };
}

interface PathSeen {
  readonly op: 'announce' | 'withdraw';
  readonly prefix: string;
  readonly pathId: number;
  readonly attrs: PathAttributes;
}

/** What `address` was sent, one entry per NLRI with its path ID (End-of-RIB left out). */
function sentPaths(r: Rib, address: string, codec = ADD_PATH_RX): PathSeen[] {
  const out: PathSeen[] = [];
  for (;;) {
    const batch = r.takeUpdates(address, 8);
    if (batch.length === 0) return out;
    for (const buf of batch) {
      const m = decodeMessage(buf, codec);
      if (!m.ok || m.value.type !== 'update') throw new Error('expected an UPDATE');
      const u = m.value.update;
      if (endOfRibFamily(u)) continue;
      u.withdrawn.prefixes.forEach((p, i) => out.push({ op: 'withdraw', prefix: prefixToString(p), pathId: u.withdrawn.pathIds?.[i] ?? -1, attrs: {} }));
      u.nlri.prefixes.forEach((p, i) => out.push({ op: 'announce', prefix: prefixToString(p), pathId: u.nlri.pathIds?.[i] ?? -1, attrs: u.attributes }));
    }
  }
}

/** A reflector with clients A and B (both originate ANYCAST), C with ADD-PATH send, D without. */
function reflector(): Rib {
  const r = rib({ isReflector: true, ecmp: 1 });
  r.peerUp(session(A, { rrClient: true }));
  r.peerUp(session(B, { rrClient: true }));
  r.peerUp(addPathSession(C, { rrClient: true }));
  r.peerUp(session(D, { rrClient: true }));
  settle(r);
  for (const p of [A, B, C, D]) r.takeUpdates(p, 100);
  r.update(A, announce([ANYCAST], { origin: 0, asPath: [], nextHop: A, localPref: 100, med: 10 }));
  r.update(B, announce([ANYCAST], { origin: 0, asPath: [], nextHop: B, localPref: 100, med: 20 }));
  settle(r);
  return r;
}

describe('ADD-PATH send (RFC 7911)', () => {
  it('sends every eligible path, best first, each with its own ID; a peer without ADD-PATH gets the best only', () => {
    const r = reflector();
    const c = sentPaths(r, C);
    expect(c.map((s) => [s.op, s.prefix, s.attrs.nextHop, s.attrs.originatorId])).toEqual([
      ['announce', ANYCAST, A, v4Parse(A)], // RFC 4456 §8: reflected with the originator's ID
      ['announce', ANYCAST, B, v4Parse(B)],
    ]);
    const ids = c.map((s) => s.pathId);
    expect(new Set(ids).size).toBe(2);
    expect(ids.every((id) => id > 0)).toBe(true);
    // D: plain NLRI, one path (the decoder without ADD-PATH would reject a path ID)
    const d = sentPaths(r, D, CODEC);
    expect(d.map((s) => [s.op, s.prefix, s.pathId, s.attrs.nextHop])).toEqual([['announce', ANYCAST, -1, A]]);
  });

  it('never sends a client its own path, but does send it the other one', () => {
    const r = rib({ isReflector: true, ecmp: 1 });
    r.peerUp(addPathSession(A, { rrClient: true }));
    r.peerUp(session(B, { rrClient: true }));
    settle(r);
    r.takeUpdates(A, 100);
    r.update(A, announce([ANYCAST], { origin: 0, asPath: [], nextHop: A, localPref: 200 }));
    settle(r);
    expect(sentPaths(r, A)).toEqual([]); // A's is best, but split horizon
    r.update(B, announce([ANYCAST], { origin: 0, asPath: [], nextHop: B, localPref: 100 }));
    settle(r);
    expect(sentPaths(r, A).map((s) => [s.op, s.attrs.nextHop])).toEqual([['announce', B]]);
  });

  it('keeps the ID of a path across changes, re-announces a non-best path that changed, withdraws by ID', () => {
    const r = reflector();
    const first = sentPaths(r, C);
    const idOf = (nh: string) => first.find((s) => s.attrs.nextHop === nh)!.pathId;
    sentPaths(r, D, CODEC);

    // B's path (not best, not multipath with ecmp 1) changes: only ADD-PATH peers hear of it.
    r.update(B, announce([ANYCAST], { origin: 0, asPath: [], nextHop: B, localPref: 100, med: 30, communities: [0xfde80064] }));
    settle(r);
    expect(sentPaths(r, C).map((s) => [s.op, s.pathId, s.attrs.med])).toEqual([['announce', idOf(B), 30]]);
    expect(sentPaths(r, D, CODEC)).toEqual([]);

    // B becomes best: same IDs, nothing withdrawn.
    r.update(B, announce([ANYCAST], { origin: 0, asPath: [], nextHop: B, localPref: 300 }));
    settle(r);
    const swap = sentPaths(r, C);
    expect(swap.filter((s) => s.op === 'withdraw')).toEqual([]);
    expect(swap.map((s) => s.pathId)).toEqual([idOf(B)]); // A's unchanged path is not resent
    expect(sentPaths(r, D, CODEC).map((s) => s.attrs.nextHop)).toEqual([B]);

    // A withdraws: its ID alone is withdrawn.
    r.update(A, withdraw([ANYCAST]));
    settle(r);
    expect(sentPaths(r, C).map((s) => [s.op, s.prefix, s.pathId])).toEqual([['withdraw', ANYCAST, idOf(A)]]);

    // A comes back: the same ID again (one ID per source for the session).
    r.update(A, announce([ANYCAST], { origin: 0, asPath: [], nextHop: A, localPref: 100 }));
    settle(r);
    expect(sentPaths(r, C).map((s) => [s.op, s.pathId])).toEqual([['announce', idOf(A)]]);

    // A session down without graceful restart: its path goes, by ID.
    r.peerDown(A, { graceful: false });
    settle(r);
    expect(sentPaths(r, C).map((s) => [s.op, s.pathId])).toEqual([['withdraw', idOf(A)]]);
    r.update(B, withdraw([ANYCAST]));
    settle(r);
    expect(sentPaths(r, C).map((s) => [s.op, s.pathId])).toEqual([['withdraw', idOf(B)]]);
    expect(r.peerState(C)!.out!.pathIdsOf(v4Parse('10.96.0.10')! * 64 + 32)).toEqual([]);
  });

  it('leaves out ineligible candidates (RFC 4271 §9.1.2: an AS loop) and paths export policy rejects', () => {
    const r = rib({ ecmp: 1 });
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.peerUp(session('203.0.113.2', { asn: 65002 }));
    r.peerUp(session('203.0.113.3', { asn: 65003 }));
    r.peerUp({
      ...addPathSession('203.0.113.9', { asn: 65009 }),
      export: [{ match: { asPathContains: 65003 }, action: 'reject' }],
    } as ReturnType<typeof addPathSession>);
    settle(r);
    r.takeUpdates('203.0.113.9', 100);
    r.update('203.0.113.1', announce([ANYCAST], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1' }));
    r.update('203.0.113.2', announce([ANYCAST], { origin: 0, asPath: path(65002, LOCAL_AS), nextHop: '203.0.113.2' })); // loop
    r.update('203.0.113.3', announce([ANYCAST], { origin: 0, asPath: path(65003), nextHop: '203.0.113.3' }));
    settle(r);
    const seen = sentPaths(r, '203.0.113.9');
    // eBGP: next hop self for each; tell them apart by AS_PATH
    expect(seen.map((s) => s.attrs.asPath)).toEqual([path(LOCAL_AS, 65001)]);
  });

  it('in a Calico mesh (no reflection) iBGP-learned paths still go to no iBGP peer', () => {
    const r = rib({ ecmp: 1 });
    r.peerUp(addPathSession(A));
    r.peerUp(addPathSession(B));
    r.setConfigOrigins([{ prefix: '10.244.1.0/26' }]);
    settle(r);
    const a0 = sentPaths(r, A);
    expect(a0.map((s) => [s.op, s.prefix, s.attrs.nextHop])).toEqual([['announce', '10.244.1.0/26', '192.0.2.1']]);
    r.update(A, announce(['10.244.2.0/26'], { origin: 0, asPath: [], nextHop: A, localPref: 100 }));
    settle(r);
    expect(sentPaths(r, B)).toEqual([expect.objectContaining({ prefix: '10.244.1.0/26' })]);
    expect(sentPaths(r, B)).toEqual([]);
  });

  it('puts the path ID before each prefix on the wire (RFC 7911 §3)', () => {
    const r = rib({ isReflector: true, ecmp: 1 });
    r.peerUp(session(A, { rrClient: true, families: ['ipv4-unicast'] }));
    r.peerUp({ ...addPathSession(C, { rrClient: true, families: ['ipv4-unicast'] }) });
    settle(r);
    r.takeUpdates(C, 100);
    r.update(A, announce(['10.244.1.0/26'], { origin: 0, asPath: [], nextHop: A, localPref: 100 }));
    settle(r);
    const [msg, ...rest] = r.takeUpdates(C, 100);
    expect(rest).toEqual([]);
    expect(toHex(msg!)).toBe(
      toHex(hex`
        ffffffff ffffffff ffffffff ffffffff   # marker
        0043                                  # length 67
        02                                    # UPDATE
        0000                                  # withdrawn routes length 0
        0023                                  # path attributes length 35
        40 01 01 00                           # ORIGIN IGP
        40 02 00                              # AS_PATH empty (iBGP)
        40 03 04 0a000002                     # NEXT_HOP 10.0.0.2 (kept: reflection)
        40 05 04 00000064                     # LOCAL_PREF 100
        80 09 04 0a000002                     # ORIGINATOR_ID 10.0.0.2 (RFC 4456 §8)
        80 0a 04 c0000201                     # CLUSTER_LIST [192.0.2.1]
        00000001                              # path identifier 1 (RFC 7911 §3)
        1a 0af40100                           # 10.244.1.0/26
      `),
    );
  });
});
