// Byte vectors for links and addresses (ifindex <-> name, up/down, local
// subnets for crossSubnet) and the event decoder used by the monitor.
import { describe, expect, it } from 'vitest';
import * as C from '../../../src/fib/netlink/constants.js';
import { decodeEvent } from '../../../src/fib/netlink/events.js';
import { decodeAddress, decodeLink } from '../../../src/fib/netlink/interfaces.js';
import { splitMessages, type NlMessage } from '../../../src/fib/netlink/messages.js';
import { v4KeyParse, v6KeyParse } from '../../../src/lib/prefix.js';
import { hex } from '../../helpers/hex.js';

const body = (type: number, b: Buffer): NlMessage => ({ type, flags: 0, seq: 0, pid: 0, body: b });

const TUNL0 = hex`
  00 00 0300 05000000                 # ifinfomsg: AF_UNSPEC, type 768 (ARPHRD_TUNNEL), index 5
  41000100 ffffffff                   # flags IFF_UP|IFF_RUNNING|IFF_NOARP|IFF_LOWER_UP, change
  0a00 0300 74756e6c3000 0000         # IFLA_IFNAME "tunl0\0", padded
  0800 0400 c4050000                  # IFLA_MTU 1476
  1000 1200 0900 0100 6970697000 000000  # IFLA_LINKINFO { IFLA_INFO_KIND "ipip\0" }`;

describe('links', () => {
  it('maps ifindex to name, state, MTU and kind', () => {
    expect(decodeLink(body(C.RTM_NEWLINK, TUNL0))).toEqual({
      ok: true,
      value: { index: 5, name: 'tunl0', up: true, lowerUp: true, flags: 0x10041, mtu: 1476, kind: 'ipip' },
    });
  });

  it('reports a down link and rejects a truncated one', () => {
    const down = Buffer.from(TUNL0);
    down.writeUInt32LE(0x80, 8); // IFF_NOARP only
    const l = decodeLink(body(C.RTM_NEWLINK, down));
    expect(l.ok && [l.value.up, l.value.lowerUp]).toEqual([false, false]);
    expect(decodeLink(body(C.RTM_NEWLINK, TUNL0.subarray(0, 12))).ok).toBe(false);
    expect(decodeLink(body(C.RTM_NEWLINK, TUNL0.subarray(0, 24))).ok).toBe(false); // IFLA_IFNAME cut short
  });
});

describe('addresses', () => {
  it('an IPv4 address yields its connected subnet', () => {
    const a = decodeAddress(body(C.RTM_NEWADDR, hex`
      02 18 80 00 03000000          # ifaddrmsg: AF_INET /24, IFA_F_PERMANENT, universe, index 3
      0800 0100 c0000265            # IFA_ADDRESS 192.0.2.101
      0800 0200 c0000265            # IFA_LOCAL 192.0.2.101
      0a00 0300 65746830 0000 0000  # IFA_LABEL "eth0"`));
    expect(a).toEqual({
      ok: true,
      value: { family: 'ipv4-unicast', index: 3, address: '192.0.2.101', prefixLength: 24, subnet: v4KeyParse('192.0.2.0/24'), scope: 0, label: 'eth0' },
    });
  });

  it('on a point-to-point link IFA_LOCAL is ours, IFA_ADDRESS the peer', () => {
    const a = decodeAddress(body(C.RTM_NEWADDR, hex`
      02 20 80 00 07000000 0800 0100 0a000002 0800 0200 0a000001`));
    expect(a.ok && a.value?.address).toBe('10.0.0.1');
  });

  it('IPv6', () => {
    const a = decodeAddress(body(C.RTM_NEWADDR, hex`
      0a 40 80 00 03000000 1400 0100 20010db8 00000001 00000000 00000005`));
    expect(a.ok && a.value && [a.value.address, a.value.subnet]).toEqual(['2001:db8:0:1::5', v6KeyParse('2001:db8:0:1::/64')]);
  });

  it('rejects a prefix length beyond the family and a message without an address', () => {
    expect(decodeAddress(body(C.RTM_NEWADDR, hex`02 21 80 00 03000000 0800 0100 c0000265`)).ok).toBe(false);
    expect(decodeAddress(body(C.RTM_NEWADDR, hex`02 18 80 00 03000000`)).ok).toBe(false);
  });
});

describe('events', () => {
  it('turns a notification datagram into typed events', () => {
    const datagram = hex`
      3c000000 1900 0000 00000000 00000000  # RTM_DELROUTE notification (seq 0, pid 0)
      02 1a 00 00 fe c9 00 01 00000000
      0800 0f00 fe000000 0800 0100 0af40100 0800 0500 c0000207 0800 0400 03000000
      44000000 1000 0000 00000000 00000000  # RTM_NEWLINK, 68 octets
      ${TUNL0.toString('hex')}
      18000000 1400 0000 00000000 00000000  # RTM_NEWADDR with a family we do not model (AF_PACKET 17)
      11 00 00 00 01000000`;
    const split = splitMessages(datagram);
    if (!split.ok) throw new Error(split.error);
    const events = split.value.map((m) => decodeEvent(m));
    expect(events[0]!.ok && events[0]!.value).toMatchObject({ kind: 'route', change: 'del', route: { dst: v4KeyParse('10.244.1.0/26'), gateway: '192.0.2.7' } });
    expect(events[1]!.ok && events[1]!.value).toMatchObject({ kind: 'link', change: 'new', link: { name: 'tunl0', index: 5 } });
    expect(events[2]).toEqual({ ok: true, value: null });
  });
});
