// PURE rtnetlink codec for links and addresses (RTM_NEWLINK / RTM_DELLINK,
// RTM_NEWADDR / RTM_DELADDR; RFC 3549 §3.1.1 and §3.1.2): enough to map an
// ifindex to its name and up/down state (tunl0, the uplink) and to know the
// node's local subnets, which decide the crossSubnet encapsulation mode.
import { type Family, type PrefixKey, v4Key, v6KeyFromBytes, v4ToString, v6ToString } from '../../lib/prefix.js';
import * as C from './constants.js';
import { forEachAttr, type NlMessage, type NlResult } from './messages.js';

export interface KernelLink {
  readonly index: number;
  readonly name: string;
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /** IFF_LOWER_UP: carrier present. */
  readonly lowerUp: boolean;
  readonly flags: number;
  readonly mtu?: number;
  /** IFLA_INFO_KIND: "veth", "ipip", "bridge", ... (absent for physical devices). */
  readonly kind?: string;
}

export interface KernelAddress {
  readonly family: Family;
  readonly index: number;
  /** The interface's own address (IFA_LOCAL, else IFA_ADDRESS), as text. */
  readonly address: string;
  readonly prefixLength: number;
  /** The connected subnet as a prefix key: what crossSubnet compares next hops against. */
  readonly subnet: PrefixKey;
  readonly scope: number;
  readonly label?: string;
}

const cstring = (v: Buffer): string => {
  const nul = v.indexOf(0);
  return v.toString('utf8', 0, nul < 0 ? v.length : nul);
};

/** Decodes an RTM_NEWLINK / RTM_DELLINK body (struct ifinfomsg + IFLA_*). */
export function decodeLink(msg: NlMessage): NlResult<KernelLink> {
  const b = msg.body;
  if (b.length < C.IFINFOMSG_LEN) return { ok: false, error: `ifinfomsg body of ${b.length} octets` };
  const flags = b.readUInt32LE(8);
  const link: { -readonly [K in keyof KernelLink]: KernelLink[K] } = {
    index: b.readInt32LE(4),
    name: '',
    up: (flags & C.IFF_UP) !== 0,
    lowerUp: (flags & C.IFF_LOWER_UP) !== 0,
    flags,
  };
  let nested: string | undefined;
  const err = forEachAttr(b, C.IFINFOMSG_LEN, b.length, (type, v) => {
    if (type === C.IFLA_IFNAME) link.name = cstring(v);
    else if (type === C.IFLA_MTU && v.length >= 4) link.mtu = v.readUInt32LE(0);
    else if (type === C.IFLA_LINKINFO)
      nested = forEachAttr(v, 0, v.length, (t, kv) => {
        if (t === C.IFLA_INFO_KIND) link.kind = cstring(kv);
      });
  });
  if (err ?? nested) return { ok: false, error: (err ?? nested)! };
  return { ok: true, value: link };
}

/** Decodes an RTM_NEWADDR / RTM_DELADDR body (struct ifaddrmsg + IFA_*). */
export function decodeAddress(msg: NlMessage): NlResult<KernelAddress | null> {
  const b = msg.body;
  if (b.length < C.IFADDRMSG_LEN) return { ok: false, error: `ifaddrmsg body of ${b.length} octets` };
  const family = b[0]!;
  if (family !== C.AF_INET && family !== C.AF_INET6) return { ok: true, value: null };
  const size = family === C.AF_INET ? 4 : 16;
  const prefixLength = b[1]!;
  if (prefixLength > size * 8) return { ok: false, error: `ifa_prefixlen ${prefixLength}` };
  let local: Buffer | undefined;
  let address: Buffer | undefined;
  let label: string | undefined;
  const err = forEachAttr(b, C.IFADDRMSG_LEN, b.length, (type, v) => {
    if (type === C.IFA_LOCAL && v.length >= size) local = v;
    else if (type === C.IFA_ADDRESS && v.length >= size) address = v;
    else if (type === C.IFA_LABEL) label = cstring(v);
  });
  if (err) return { ok: false, error: err };
  // On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours when present.
  const own = local ?? address;
  if (!own) return { ok: false, error: 'address message without IFA_LOCAL or IFA_ADDRESS' };
  const value: KernelAddress = {
    family: family === C.AF_INET ? 'ipv4-unicast' : 'ipv6-unicast',
    index: b.readUInt32LE(4),
    address: family === C.AF_INET ? v4ToString(own.readUInt32BE(0)) : v6ToString(own, 0),
    prefixLength,
    subnet: family === C.AF_INET ? v4Key(own.readUInt32BE(0), prefixLength) : v6KeyFromBytes(own, 0, prefixLength),
    scope: b[3]!,
    ...(label !== undefined ? { label } : {}),
  };
  return { ok: true, value };
}
