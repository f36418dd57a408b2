// The FIB's route shapes against the netlink codec (src/fib/netlink/messages.ts):
// a desired route encodes to the expected RTM_NEWROUTE bytes, and decoding
// those bytes gives back a kernel route the reconcile diff adopts.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../helpers/hex.js';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import { decodeRoute, encodeRouteBatch, splitMessages } from '../../src/fib/netlink/messages.js';
import { sameRoute } from '../../src/fib/reconcile.js';
import { fibOpKey, fromNetlinkRoute, toNetlinkOp, type DesiredRoute, type FibOp, type KernelRoute } from '../../src/fib/types.js';

const P = (text: string): PrefixKey => prefixParse(text)!;

function roundTrip(op: FibOp): KernelRoute {
  const batch = encodeRouteBatch([toNetlinkOp(op)], 1);
  expect(batch.rejected.size).toBe(0);
  const msgs = splitMessages(batch.buffer);
  if (!msgs.ok) throw new Error(msgs.error);
  const decoded = decodeRoute(msgs.value[0]!);
  if (!decoded.ok || !decoded.value) throw new Error('not decoded');
  return fromNetlinkRoute(decoded.value);
}

const ipip: DesiredRoute = {
  prefix: P('10.244.1.0/26'),
  table: 254,
  protocol: 201,
  metric: 0,
  type: 'unicast',
  nextHops: [{ gateway: '192.168.2.9', ifindex: 7, onlink: true }],
};

describe('FibOp -> netlink', () => {
  it('the Calico IPIP form as RTM_NEWROUTE bytes (installs are always create|replace)', () => {
    const batch = encodeRouteBatch([toNetlinkOp({ kind: 'add', route: ipip, cause: 'rib' })], 0x2a);
    expect(batch.buffer).toEqual(
      fromHex(`
        3c000000  # nlmsg_len 60
        1800      # RTM_NEWROUTE
        0505      # NLM_F_REQUEST|NLM_F_ACK|NLM_F_REPLACE|NLM_F_CREATE (no NLM_F_EXCL)
        2a000000  # seq 42
        00000000  # pid
        02 1a 00 00   # AF_INET, dst_len 26, src_len 0, tos 0
        fe c9 00 01   # table main, protocol 201, scope universe, RTN_UNICAST
        04000000      # rtm_flags RTNH_F_ONLINK
        0800 0100 0af40100  # RTA_DST 10.244.1.0
        0800 0600 00000000  # RTA_PRIORITY 0
        0800 0400 07000000  # RTA_OIF 7 (tunl0)
        0800 0500 c0a80209  # RTA_GATEWAY 192.168.2.9
      `),
    );
  });

  it('round trip: the decoded route is the same form (single path, ECMP, IPv6 link-local, blackhole)', () => {
    const routes: DesiredRoute[] = [
      ipip,
      { ...ipip, table: 1000, nextHops: [{ gateway: '10.0.0.1', onlink: false }, { gateway: '10.0.0.2', ifindex: 3, onlink: true }] },
      {
        prefix: P('fd00:244:1::/64'),
        table: 254,
        protocol: 201,
        metric: 1024,
        type: 'unicast',
        nextHops: [{ gateway: 'fe80::1', ifindex: 2, onlink: false }],
      },
      { prefix: P('10.244.7.0/26'), table: 254, protocol: 201, metric: 0, type: 'blackhole', nextHops: [] },
    ];
    for (const want of routes) {
      const have = roundTrip({ kind: 'replace', route: want, cause: 'rib' });
      expect(sameRoute(want, have)).toBe(true);
      expect(fibOpKey(have)).toEqual(fibOpKey(want));
    }
  });

  it('a delete names prefix, table, protocol and metric', () => {
    expect(toNetlinkOp({ kind: 'delete', route: ipip, cause: 'sweep' })).toEqual({
      op: 'delete',
      route: { dst: ipip.prefix, table: 254, protocol: 201, priority: 0 },
    });
  });
});

describe('netlink -> KernelRoute', () => {
  it('absent RTA_PRIORITY is metric 0 for IPv4; unknown types are "other"', () => {
    const r = fromNetlinkRoute({
      family: 'ipv4-unicast',
      dst: P('10.1.0.0/24'),
      table: 254,
      protocol: 2,
      type: 'throw',
      scope: 0,
      onlink: false,
    });
    expect(r).toEqual({ prefix: P('10.1.0.0/24'), table: 254, protocol: 2, metric: 0, type: 'other', nextHops: [] });
    expect(fromNetlinkRoute({ family: 'ipv6-unicast', dst: P('fd00::/64'), table: 254, protocol: 2, type: 'unicast', scope: 0, onlink: false, oif: 4 }))
      .toMatchObject({ metric: 1024, nextHops: [{ ifindex: 4, onlink: false }] });
  });
});

describe('fibOpKey', () => {
  it('the prefix at the default metric, "prefix@metric" otherwise', () => {
    expect(fibOpKey(ipip)).toBe(ipip.prefix);
    expect(fibOpKey({ ...ipip, metric: 5 })).toBe(`${ipip.prefix}@5`);
    const v6 = P('fd00::/64');
    expect(fibOpKey({ prefix: v6, table: 254, protocol: 201, metric: 1024 })).toBe(v6);
    expect(fibOpKey({ prefix: v6, table: 254, protocol: 201, metric: 0 })).toBe(`${v6}@0`);
  });
});
