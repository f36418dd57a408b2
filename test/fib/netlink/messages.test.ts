// Byte vectors for the pure rtnetlink codec. Encoded requests are checked
// octet for octet; the decoded replies were captured from a real kernel
// (6.x) answering those requests in a network namespace.
import { describe, expect, it } from 'vitest';
import { v4KeyParse, v6KeyParse } from '../../../src/lib/prefix.js';
import * as C from '../../../src/fib/netlink/constants.js';
import {
  decodeAck, decodeRoute, encodeDumpRequest, encodeRouteBatch, encodeRouteOp, forEachAttr, NlWriter, splitMessages,
  type NlMessage, type RouteOp,
} from '../../../src/fib/netlink/messages.js';
import { hex, toHex } from '../../helpers/hex.js';

const v4 = (t: string): number => v4KeyParse(t)!;
const v6 = (t: string): string => v6KeyParse(t)!;

function encode(op: RouteOp, seq: number): Buffer {
  const w = new NlWriter(16);
  const err = encodeRouteOp(w, op, seq);
  expect(err).toBeUndefined();
  return w.take();
}

function one(buf: Buffer): NlMessage {
  const split = splitMessages(buf);
  if (!split.ok) throw new Error(split.error);
  expect(split.value).toHaveLength(1);
  return split.value[0]!;
}

describe('route requests', () => {
  it('replace: IPv4 /26 via a gateway on tunl0, onlink (the Calico IPIP form)', () => {
    const buf = encode({ op: 'replace', route: { dst: v4('10.244.1.0/26'), protocol: 201, gateway: '192.0.2.7', oif: 3, onlink: true } }, 5);
    expect(toHex(buf)).toBe(toHex(hex`
      34000000 1800 0505 05000000 00000000  # nlmsghdr: len 52, RTM_NEWROUTE, REQUEST|ACK|REPLACE|CREATE, seq 5, pid 0
      02 1a 00 00 fe c9 00 01 04000000      # rtmsg: AF_INET /26, table main, proto 201, universe, unicast, RTNH_F_ONLINK
      0800 0100 0af40100                    # RTA_DST 10.244.1.0
      0800 0400 03000000                    # RTA_OIF 3
      0800 0500 c0000207                    # RTA_GATEWAY 192.0.2.7`));
  });

  it('add: IPv6 blackhole in a table above 255 uses RTA_TABLE', () => {
    const buf = encode({ op: 'add', route: { dst: v6('2001:db8::/48'), protocol: 201, type: 'blackhole', table: 1000 } }, 1);
    expect(toHex(buf)).toBe(toHex(hex`
      38000000 1800 0506 01000000 00000000  # len 56, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, seq 1
      0a 30 00 00 00 c9 00 06 00000000      # AF_INET6 /48, RT_TABLE_UNSPEC, proto 201, universe, blackhole
      1400 0100 20010db8 00000000 00000000 00000000  # RTA_DST 2001:db8::
      0800 0f00 e8030000                    # RTA_TABLE 1000`));
  });

  it('delete: matches our protocol in any scope and type', () => {
    const buf = encode({ op: 'delete', route: { dst: v4('10.244.1.0/26'), protocol: 201 } }, 7);
    expect(toHex(buf)).toBe(toHex(hex`
      24000000 1900 0500 07000000 00000000  # len 36, RTM_DELROUTE, REQUEST|ACK, seq 7
      02 1a 00 00 fe c9 ff 00 00000000      # scope RT_SCOPE_NOWHERE, type RTN_UNSPEC
      0800 0100 0af40100                    # RTA_DST`));
  });

  it('ECMP: RTA_MULTIPATH with weights and a per-path onlink flag', () => {
    const buf = encode({
      op: 'replace',
      route: {
        dst: v4('10.0.0.0/24'), protocol: 201, priority: 1024,
        multipath: [{ gateway: '192.0.2.1', oif: 2 }, { gateway: '192.0.2.2', oif: 3, weight: 2, onlink: true }],
      },
    }, 9);
    expect(toHex(buf)).toBe(toHex(hex`
      50000000 1800 0505 09000000 00000000  # len 80
      02 18 00 00 fe c9 00 01 00000000      # /24, no rtm_flags: flags live in each rtnexthop
      0800 0100 0a000000                    # RTA_DST 10.0.0.0
      0800 0600 00040000                    # RTA_PRIORITY 1024
      2400 0900                             # RTA_MULTIPATH, 36 octets
        1000 00 00 02000000                 #   rtnexthop len 16, flags 0, hops 0 (weight 1), ifindex 2
        0800 0500 c0000201                  #   RTA_GATEWAY 192.0.2.1
        1000 04 01 03000000                 #   len 16, RTNH_F_ONLINK, hops 1 (weight 2), ifindex 3
        0800 0500 c0000202                  #   RTA_GATEWAY 192.0.2.2`));
  });

  it('IPv4 route over an IPv6 next hop: RTA_VIA, padded to 4 octets', () => {
    const buf = encode({ op: 'replace', route: { dst: v4('10.1.0.0/16'), protocol: 201, gateway: 'fe80::1', oif: 2 } }, 2);
    expect(toHex(buf)).toBe(toHex(hex`
      44000000 1800 0505 02000000 00000000  # len 68
      02 10 00 00 fe c9 00 01 00000000
      0800 0100 0a010000                    # RTA_DST 10.1.0.0
      0800 0400 02000000                    # RTA_OIF 2
      1600 1200 0a00                        # RTA_VIA len 22: rtvia_family AF_INET6
      fe800000 00000000 00000000 00000001 0000  #   fe80::1, then 2 octets of padding`));
  });

  it('a device route without a gateway gets link scope', () => {
    const msg = one(encode({ op: 'replace', route: { dst: v4('10.9.0.0/24'), protocol: 201, oif: 4 } }, 1));
    expect(msg.body[6]).toBe(C.RT_SCOPE_LINK);
  });

  it('a batch packs messages with increasing sequence numbers and reports unencodable ops', () => {
    const ops: RouteOp[] = [
      { op: 'replace', route: { dst: v4('10.0.1.0/26'), protocol: 201, gateway: '192.0.2.1' } },
      { op: 'replace', route: { dst: v4('10.0.2.0/26'), protocol: 201, gateway: 'not-an-ip' } },
      { op: 'replace', route: { dst: v6('2001:db8:1::/64'), protocol: 201, gateway: '192.0.2.1' } },
      { op: 'delete', route: { dst: v4('10.0.3.0/26'), protocol: 201 } },
      { op: 'replace', route: { dst: v4('10.0.4.0/26'), protocol: 201, multipath: [{ gateway: '192.0.2.1', weight: 300 }] } },
    ];
    const batch = encodeRouteBatch(ops, 0xfffffffe);
    const split = splitMessages(batch.buffer);
    expect(split.ok && split.value.map((m) => [m.type, m.seq])).toEqual([[C.RTM_NEWROUTE, 0xfffffffe], [C.RTM_DELROUTE, 1]]);
    expect([...batch.rejected.keys()]).toEqual([1, 2, 4]);
    expect(batch.rejected.get(2)).toMatch(/IPv6 route cannot have an IPv4 next hop/);
    expect(batch.rejected.get(4)).toMatch(/weight 300/);
  });

  it('dump requests carry the family in the first octet of the family header', () => {
    expect(toHex(encodeDumpRequest('route', C.AF_INET6, 3))).toBe(toHex(hex`
      1c000000 1a00 0103 03000000 00000000  # len 28, RTM_GETROUTE, REQUEST|DUMP (ROOT|MATCH)
      0a 00 00 00 00 00 00 00 00000000      # rtmsg, AF_INET6`));
    expect(encodeDumpRequest('link', 0, 1).length).toBe(16 + C.IFINFOMSG_LEN);
    expect(encodeDumpRequest('addr', C.AF_INET, 1).readUInt16LE(4)).toBe(C.RTM_GETADDR);
  });
});

// A real kernel reply to three requests: replace 10.244.1.0/26 via an
// unreachable 198.51.100.1 (seq 5), replace 10.244.2.0/26 via 192.0.2.7
// metric 10 (seq 6), and the start of an IPv4 route dump (seq 7).
const KERNEL_REPLY = hex`
  60000000 0200 0002 05000000 f2750000   # NLMSG_ERROR, NLM_F_ACK_TLVS, seq 5, our port id
  9bffffff                               # error -101 ENETUNREACH
  2c000000 1800 0505 05000000 00000000   # the request echoed whole (44 octets)
  021a0000 fec90001 00000000 08000100 0af40100 08000500 c6336401
  2000 0100 4e657874686f702068617320696e76616c6964206761746577617900  # NLMSGERR_ATTR_MSG "Nexthop has invalid gateway"
  24000000 0200 0001 06000000 f2750000   # NLMSG_ERROR, NLM_F_CAPPED, seq 6
  00000000                               # error 0: the ACK
  34000000 1800 0505 06000000 00000000   # the echoed header only
  44000000 1800 0200 07000000 f2750000   # RTM_NEWROUTE, NLM_F_MULTI, seq 7 (dump)
  02 1a 00 00 fe c9 00 01 00000000       # AF_INET /26 main proto 201 universe unicast
  0800 0f00 fe000000                     # RTA_TABLE 254
  0800 0100 0af40200                     # RTA_DST 10.244.2.0
  0800 0600 0a000000                     # RTA_PRIORITY 10
  0800 0500 c0000207                     # RTA_GATEWAY 192.0.2.7
  0800 0400 03000000                     # RTA_OIF 3
  14000000 0300 0200 07000000 f2750000 00000000  # NLMSG_DONE`;

describe('kernel replies', () => {
  const split = splitMessages(KERNEL_REPLY);
  const msgs = split.ok ? split.value : [];

  it('splits a datagram into its messages', () => {
    expect(msgs.map((m) => [m.type, m.seq])).toEqual([[C.NLMSG_ERROR, 5], [C.NLMSG_ERROR, 6], [C.RTM_NEWROUTE, 7], [C.NLMSG_DONE, 7]]);
  });

  it('attributes an error to its request and carries the extended-ACK text', () => {
    expect(decodeAck(msgs[0]!)).toEqual({
      ok: true,
      value: { errno: 101, seq: 5, requestType: C.RTM_NEWROUTE, message: 'Nexthop has invalid gateway' },
    });
  });

  it('decodes a positive ACK', () => {
    expect(decodeAck(msgs[1]!)).toEqual({ ok: true, value: { errno: 0, seq: 6, requestType: C.RTM_NEWROUTE } });
  });

  it('decodes a dumped route', () => {
    expect(decodeRoute(msgs[2]!)).toEqual({
      ok: true,
      value: {
        family: 'ipv4-unicast', dst: v4('10.244.2.0/26'), table: 254, protocol: 201, type: 'unicast', scope: 0,
        onlink: false, priority: 10, gateway: '192.0.2.7', oif: 3,
      },
    });
  });

  it('round-trips what it encodes: table > 255, multipath, VIA, IPv6', () => {
    const w = new NlWriter();
    const ops: RouteOp[] = [
      { op: 'replace', route: { dst: v6('fd00:1::/64'), protocol: 12, table: 4242, gateway: 'fe80::2', oif: 7, priority: 5 } },
      { op: 'replace', route: { dst: v4('10.7.0.0/26'), protocol: 12, multipath: [{ gateway: 'fe80::1', oif: 2, onlink: true, weight: 3 }, { oif: 9 }] } },
      { op: 'add', route: { dst: v4('0.0.0.0/0'), protocol: 12, type: 'blackhole' } },
    ];
    ops.forEach((op, i) => encodeRouteOp(w, op, i + 1));
    const decoded = splitMessages(w.take());
    if (!decoded.ok) throw new Error(decoded.error);
    const routes = decoded.value.map((m) => decodeRoute(m));
    expect(routes[0]).toEqual({
      ok: true,
      value: { family: 'ipv6-unicast', dst: v6('fd00:1::/64'), table: 4242, protocol: 12, type: 'unicast', scope: 0, onlink: false, gateway: 'fe80::2', oif: 7, priority: 5 },
    });
    expect(routes[1]!.ok && routes[1]!.value!.multipath).toEqual([{ gateway: 'fe80::1', oif: 2, onlink: true, weight: 3 }, { oif: 9, onlink: false, weight: 1 }]);
    expect(routes[2]!.ok && [routes[2]!.value!.type, routes[2]!.value!.dst]).toEqual(['blackhole', 0]);
  });
});

describe('decodeRoute walks its attributes in place', () => {
  const msg = (body: Buffer): NlMessage => ({ type: C.RTM_NEWROUTE, flags: 0, seq: 0, pid: 0, body });

  it('gives every IPv4 gateway its own text, past the bound of the shared texts', () => {
    const w = new NlWriter();
    const gw = (i: number): string => `100.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
    const n = 70_000; // more distinct gateways than the shared texts hold (65,536)
    for (let i = 0; i < n; i++) encodeRouteOp(w, { op: 'replace', route: { dst: v4('10.0.0.0/26') + i * 64 * 64, protocol: 201, gateway: gw(i), oif: 3 } }, i + 1);
    const split = splitMessages(w.take());
    if (!split.ok) throw new Error(split.error);
    for (const i of [0, 1, 65_535, 65_536, 69_999, 0, 1])
      expect(decodeRoute(split.value[i]!)).toEqual({
        ok: true,
        value: { family: 'ipv4-unicast', dst: v4('10.0.0.0/26') + i * 64 * 64, table: 254, protocol: 201, type: 'unicast', scope: 0, onlink: false, gateway: gw(i), oif: 3 },
      });
    for (let i = 0; i < n; i++) {
      const r = decodeRoute(split.value[i]!);
      if (!r.ok || r.value?.gateway !== gw(i)) throw new Error(`route ${i}: ${JSON.stringify(r)}`);
    }
  });

  it('rejects an rtattr overrunning the body by any amount, and strips the NLA_F_ flag bits from the type', () => {
    const body = hex`02 1a 00 00 fe c9 00 01 00000000 0800 0400 07000000`; // RTA_OIF 7
    expect(decodeRoute(msg(body))).toMatchObject({ ok: true, value: { oif: 7 } });
    for (let cut = 1; cut < 8; cut++) expect(decodeRoute(msg(body.subarray(0, body.length - cut))).ok, `cut ${cut}`).toBe(cut > 4 ? true : false);
    expect(decodeRoute(msg(hex`02 1a 00 00 fe c9 00 01 00000000 0800 0480 07000000`))).toMatchObject({ ok: true, value: { oif: 7 } });
  });

  it('decodes as a walk with forEachAttr over subarrays would, byte-mutated messages included', () => {
    // The reference: the same switch over forEachAttr's (type, value) views.
    const text = (family: number, b: Buffer): string | undefined =>
      family === C.AF_INET && b.length >= 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : family === C.AF_INET6 && b.length >= 16 ? 'v6' : undefined;
    const reference = (m: NlMessage): unknown => {
      const b = m.body;
      const got = decodeRoute(m);
      if (b.length < C.RTMSG_LEN || (b[0] !== C.AF_INET && b[0] !== C.AF_INET6)) return got; // the header checks are unchanged
      const fam = b[0]!;
      const seen: Record<string, unknown> = {};
      let problem: string | undefined;
      const err = forEachAttr(b, C.RTMSG_LEN, b.length, (type, v) => {
        if (type === C.RTA_DST) seen.dst = v.length < (fam === C.AF_INET ? 4 : 16) ? (problem = `RTA_DST of ${v.length} octets`) : toHex(v.subarray(0, fam === C.AF_INET ? 4 : 16));
        else if (type === C.RTA_TABLE && v.length >= 4) seen.table = v.readUInt32LE(0);
        else if (type === C.RTA_OIF && v.length >= 4) seen.oif = v.readInt32LE(0);
        else if (type === C.RTA_PRIORITY && v.length >= 4) seen.priority = v.readUInt32LE(0);
        else if (type === C.RTA_GATEWAY) seen.gateway = text(fam, v);
      });
      if (err ?? problem) return { ok: false, error: err ?? problem };
      return seen;
    };
    const base = splitMessages(KERNEL_REPLY);
    if (!base.ok) throw new Error(base.error);
    let seed = 7;
    const rand = (k: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % k;
    for (let round = 0; round < 3000; round++) {
      const m = base.value[rand(base.value.length)]!;
      if (m.type !== C.RTM_NEWROUTE) continue;
      const body = Buffer.from(m.body);
      for (let k = 1 + rand(3); k > 0; k--) body[C.RTMSG_LEN + rand(Math.max(1, body.length - C.RTMSG_LEN))] = rand(256);
      const mm = msg(body);
      const want = reference(mm);
      const got = decodeRoute(mm);
      if (!got.ok || got.value === null) {
        expect(got).toEqual(want);
        continue;
      }
      const r = got.value;
      const want2 = want as Record<string, unknown>;
      expect('ok' in want2 ? want2 : null).toBeNull(); // the reference accepted it too
      if (want2.table !== undefined) expect(r.table).toBe(want2.table);
      expect(r.oif).toBe(want2.oif);
      expect(r.priority).toBe(want2.priority);
      if (r.family === 'ipv4-unicast') expect(r.gateway).toBe(want2.gateway);
    }
  });
});

describe('malformed input is an error value, never an exception', () => {
  it('rejects an nlmsg_len shorter than the header or past the buffer', () => {
    expect(splitMessages(hex`0c000000 1800 0000 01000000 00000000`).ok).toBe(false);
    expect(splitMessages(hex`ff000000 1800 0000 01000000 00000000`).ok).toBe(false);
    expect(splitMessages(hex`14000000 0300 0200 07000000 00000000 00000000 0000`).ok).toBe(false); // 2 trailing octets
  });

  it('rejects an rtattr overrunning its container', () => {
    expect(forEachAttr(hex`0900 0100 0af40100`, 0, 8, () => undefined)).toMatch(/overruns/);
    expect(forEachAttr(hex`0200 0100`, 0, 4, () => undefined)).toMatch(/length 2/);
  });

  it('rejects short bodies and impossible prefix lengths', () => {
    const msg = (body: Buffer): NlMessage => ({ type: C.RTM_NEWROUTE, flags: 0, seq: 0, pid: 0, body });
    expect(decodeRoute(msg(hex`02 1a 00 00`)).ok).toBe(false);
    expect(decodeRoute(msg(hex`02 21 00 00 fe c9 00 01 00000000`)).ok).toBe(false); // /33
    expect(decodeRoute(msg(hex`02 1a 00 00 fe c9 00 01 00000000 0600 0100 0af4`)).ok).toBe(false); // 2-octet RTA_DST
    expect(decodeRoute(msg(hex`02 18 00 00 fe c9 00 01 00000000 0c00 0900 0700 00 00 00000000`)).ok).toBe(false); // rtnh_len 7
    expect(decodeRoute(msg(hex`1c 14 00 00 fe c9 00 01 00000000`))).toEqual({ ok: true, value: null }); // AF_MPLS
    expect(decodeAck({ type: C.NLMSG_ERROR, flags: 0, seq: 0, pid: 0, body: hex`00000000` }).ok).toBe(false);
  });

  it('survives every truncation of a real reply without throwing', () => {
    for (let cut = 0; cut < KERNEL_REPLY.length; cut++) {
      const split = splitMessages(KERNEL_REPLY.subarray(0, cut));
      if (!split.ok) continue;
      for (const m of split.value) {
        if (m.type === C.NLMSG_ERROR) decodeAck(m);
        else decodeRoute(m);
      }
    }
    // Truncating inside a message body (its header kept consistent) must not throw either.
    for (let len = 16; len < 0x60; len++) {
      const b = Buffer.from(KERNEL_REPLY.subarray(0, len));
      b.writeUInt32LE(len, 0);
      const s = splitMessages(b);
      expect(s.ok).toBe(true);
      if (s.ok) expect(() => decodeAck(s.value[0]!)).not.toThrow();
    }
  });
});
