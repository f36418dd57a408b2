// PURE rtnetlink codec for the FIB writer: netlink message framing (nlmsghdr),
// acknowledgements and errors (NLMSG_ERROR with the echoed request and the
// extended-ACK text), and routes (rtmsg + rtattrs: RTM_NEWROUTE /
// RTM_DELROUTE / RTM_GETROUTE) for IPv4 and IPv6, with ECMP (RTA_MULTIPATH),
// onlink next hops (the Calico IPIP form `via X dev tunl0 onlink`) and IPv4
// over an IPv6 next hop (RTA_VIA, RFC 5549 in the kernel). The protocol is
// described in RFC 3549 §2.3; field layouts follow the Linux UAPI headers.
// No I/O: Buffers in, typed objects out. Decoders never throw on bad input.
import {
  type Family, type PrefixKey, v4Key, v4KeyAddress, v4KeyLength, v4Parse, v4ToString,
  v6KeyBytes, v6KeyFromBytes, v6KeyLength, v6Parse, v6ToString,
} from '../../lib/prefix.js';
import * as C from './constants.js';
import { align4, NlWriter } from './writer.js';

export { NlWriter } from './writer.js';

export type NlResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };
const ok = <T>(value: T): NlResult<T> => ({ ok: true, value });
const bad = <T>(error: string): NlResult<T> => ({ ok: false, error });

/** One netlink message: the nlmsghdr fields and the payload after the header. */
export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly body: Buffer;
}

/** Splits a received datagram (or several, concatenated) into messages (RFC 3549 §2.3.2). */
export function splitMessages(buf: Buffer): NlResult<NlMessage[]> {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + C.NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < C.NLMSG_HDRLEN || off + len > buf.length) return bad(`nlmsg_len ${len} at offset ${off} overruns ${buf.length}`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      body: buf.subarray(off + C.NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  if (off < buf.length) return bad(`${buf.length - off} trailing bytes after the last message`);
  return ok(out);
}

/** Visits the rtattrs in `buf[start, end)`; returns an error text on a malformed attribute. */
export function forEachAttr(buf: Buffer, start: number, end: number, visit: (type: number, value: Buffer) => void): string | undefined {
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > end) return `rtattr length ${len} at offset ${off} overruns ${end}`;
    visit(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len)); // strip NLA_F_NESTED / NET_BYTEORDER
    off += align4(len);
  }
  return undefined;
}

// ---------------------------------------------------------------- acknowledgements

/** A decoded NLMSG_ERROR: errno 0 is the positive ACK of NLM_F_ACK. */
export interface NlAck {
  /** Positive errno (0 = success), e.g. 101 ENETUNREACH, 17 EEXIST, 3 ESRCH. */
  readonly errno: number;
  /** Sequence number and type of the request this answers (from the echoed header). */
  readonly seq: number;
  readonly requestType: number;
  /** NLMSGERR_ATTR_MSG: the kernel's reason text, when extended ACK is on. */
  readonly message?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  readonly offset?: number;
}

/** Decodes the payload of an NLMSG_ERROR (struct nlmsgerr + optional TLVs). */
export function decodeAck(msg: NlMessage): NlResult<NlAck> {
  const b = msg.body;
  if (b.length < 4 + C.NLMSG_HDRLEN) return bad(`NLMSG_ERROR body of ${b.length} octets`);
  const error = b.readInt32LE(0);
  const echoedLen = b.readUInt32LE(4);
  const ack: { -readonly [K in keyof NlAck]: NlAck[K] } = {
    errno: error === 0 ? 0 : -error,
    seq: b.readUInt32LE(12),
    requestType: b.readUInt16LE(8),
  };
  if (msg.flags & C.NLM_F_ACK_TLVS) {
    // The request is echoed whole unless capped (NLM_F_CAPPED, or always on success).
    const echoed = msg.flags & C.NLM_F_CAPPED || error === 0 ? C.NLMSG_HDRLEN : align4(echoedLen);
    const start = 4 + echoed;
    if (start > b.length) return bad('extended ACK TLVs start past the message');
    const err = forEachAttr(b, start, b.length, (type, value) => {
      if (type === C.NLMSGERR_ATTR_MSG) ack.message = value.toString('utf8').replace(/\0+$/, '');
      else if (type === C.NLMSGERR_ATTR_OFFS && value.length >= 4) ack.offset = value.readUInt32LE(0);
    });
    if (err) return bad(err);
  }
  return ok(ack);
}

// ---------------------------------------------------------------- routes

export type RouteType = (typeof C.ROUTE_TYPE_NAMES)[number] | 'unknown';

/** One path of an ECMP route (struct rtnexthop + its attributes). */
export interface NextHop {
  readonly gateway?: string;
  readonly oif?: number;
  readonly onlink?: boolean;
  /** 1..256; the kernel stores weight - 1 in rtnh_hops. */
  readonly weight?: number;
}

/** A route as the kernel reports it (dump or notification). */
export interface KernelRoute {
  readonly family: Family;
  readonly dst: PrefixKey;
  readonly table: number;
  readonly protocol: number;
  readonly type: RouteType;
  readonly scope: number;
  readonly gateway?: string;
  readonly oif?: number;
  readonly onlink: boolean;
  readonly priority?: number;
  readonly prefsrc?: string;
  readonly multipath?: readonly NextHop[];
}

/** A route to install or delete. The family follows from `dst`. */
export interface RouteSpec {
  readonly dst: PrefixKey;
  /** Default RT_TABLE_MAIN (254). */
  readonly table?: number;
  /** Our route protocol number (rtm_protocol): deletes match only routes carrying it. */
  readonly protocol: number;
  readonly type?: 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';
  readonly scope?: number;
  readonly gateway?: string;
  readonly oif?: number;
  readonly onlink?: boolean;
  readonly priority?: number;
  readonly multipath?: readonly NextHop[];
}

export type RouteOpKind = 'add' | 'replace' | 'delete';
export interface RouteOp {
  readonly op: RouteOpKind;
  readonly route: RouteSpec;
}

const OP_FLAGS: Record<RouteOpKind, number> = {
  // By default every request asks for an ACK so each outcome is attributed by
  // seq (RFC 3549 §2.3.2.2). The transport may clear NLM_F_ACK on all but the
  // last request of a send: the kernel reports a failure with NLMSG_ERROR
  // whether or not NLM_F_ACK is set, so silence before the acked last one means success.
  add: C.NLM_F_REQUEST | C.NLM_F_ACK | C.NLM_F_CREATE | C.NLM_F_EXCL,
  replace: C.NLM_F_REQUEST | C.NLM_F_ACK | C.NLM_F_CREATE | C.NLM_F_REPLACE,
  delete: C.NLM_F_REQUEST | C.NLM_F_ACK,
};

/** Address text to {family, bytes}; undefined when not an address. */
export function parseAddress(text: string): { family: number; bytes: Buffer } | undefined {
  if (text.includes(':')) {
    const bytes = v6Parse(text);
    return bytes && { family: C.AF_INET6, bytes };
  }
  const v4 = v4Parse(text);
  if (v4 === undefined) return undefined;
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(v4, 0);
  return { family: C.AF_INET, bytes };
}

// Route notifications and dumps name a few gateways (one per node) 100k times over: the
// text of each IPv4 address is made once and shared, bounded like v4Gateways below.
const v4Texts = new Map<number, string>();
function v4Text(address: number): string {
  let t = v4Texts.get(address);
  if (t === undefined) {
    if (v4Texts.size >= 65536) v4Texts.clear();
    v4Texts.set(address, (t = v4ToString(address)));
  }
  return t;
}

function addressText(family: number, b: Buffer): string | undefined {
  if (family === C.AF_INET && b.length >= 4) return v4Text(b.readUInt32BE(0));
  if (family === C.AF_INET6 && b.length >= 16) return v6ToString(b, 0);
  return undefined;
}

// Routes mostly share a few gateways (one per node): parsed IPv4 ones are remembered.
const v4Gateways = new Map<string, number>();

/** RTA_GATEWAY in the route's own family, RTA_VIA across families (v4 over v6). */
function writeGateway(w: NlWriter, family: number, text: string): string | undefined {
  if (family === C.AF_INET) {
    let v = v4Gateways.get(text);
    if (v === undefined && !text.includes(':')) {
      v = v4Parse(text);
      if (v !== undefined) {
        if (v4Gateways.size >= 65536) v4Gateways.clear();
        v4Gateways.set(text, v);
      }
    }
    if (v !== undefined) {
      w.u16(8);
      w.u16(C.RTA_GATEWAY);
      w.u32be(v);
      return undefined;
    }
  }
  const gw = parseAddress(text);
  if (!gw) return `bad gateway ${JSON.stringify(text)}`;
  if (gw.family === family) {
    w.attrBytes(C.RTA_GATEWAY, gw.bytes);
    return undefined;
  }
  if (family === C.AF_INET6) return 'an IPv6 route cannot have an IPv4 next hop';
  const at = w.attrBegin(C.RTA_VIA); // struct rtvia { rtvia_family; rtvia_addr[] }
  w.u16(gw.family);
  w.bytes(gw.bytes);
  w.attrEnd(at);
  return undefined;
}

/**
 * Appends one route request with sequence number `seq`. Returns an error text
 * (and writes nothing) when the spec cannot be encoded. `ack: false` leaves
 * NLM_F_ACK out (the kernel then answers only a failure).
 */
export function encodeRouteOp(w: NlWriter, op: RouteOp, seq: number, ack = true): string | undefined {
  const r = op.route;
  const v4 = typeof r.dst === 'number';
  const family = v4 ? C.AF_INET : C.AF_INET6;
  const table = r.table ?? C.RT_TABLE_MAIN;
  const type = op.op === 'delete' && r.type === undefined ? C.RTN_UNSPEC : C.ROUTE_TYPE_NAMES.indexOf(r.type ?? 'unicast');
  const paths = r.multipath?.length ?? 0;
  // Scope: a next hop means a universe route; a bare device route is link scope.
  // RT_SCOPE_NOWHERE on delete matches any scope (fib_table_delete).
  const scope = r.scope ?? (op.op === 'delete' ? C.RT_SCOPE_NOWHERE
    : type === C.RTN_UNICAST && r.gateway === undefined && paths === 0 && r.oif !== undefined ? C.RT_SCOPE_LINK
    : C.RT_SCOPE_UNIVERSE);
  const flags = ack ? OP_FLAGS[op.op] : OP_FLAGS[op.op] & ~C.NLM_F_ACK;
  const at = w.begin(op.op === 'delete' ? C.RTM_DELROUTE : C.RTM_NEWROUTE, flags, seq);
  const len = v4 ? v4KeyLength(r.dst as number) : v6KeyLength(r.dst as string);
  // struct rtmsg
  w.u8(family);
  w.u8(len); // rtm_dst_len
  w.u8(0); // rtm_src_len
  w.u8(0); // rtm_tos
  w.u8(table > 255 ? C.RT_TABLE_UNSPEC : table);
  w.u8(r.protocol);
  w.u8(scope);
  w.u8(type);
  w.u32(r.onlink && paths === 0 ? C.RTNH_F_ONLINK : 0); // rtm_flags carries RTNH_F_* for a single path
  if (v4) {
    w.u16(8);
    w.u16(C.RTA_DST);
    w.u32be(v4KeyAddress(r.dst as number));
  } else {
    w.attrBytes(C.RTA_DST, v6KeyBytes(r.dst as string));
  }
  if (table > 255) w.attrU32(C.RTA_TABLE, table);
  if (r.priority !== undefined) w.attrU32(C.RTA_PRIORITY, r.priority);
  if (r.oif !== undefined) w.attrU32(C.RTA_OIF, r.oif);
  let error: string | undefined;
  if (r.gateway !== undefined) error = writeGateway(w, family, r.gateway);
  if (!error && paths > 0) {
    const mp = w.attrBegin(C.RTA_MULTIPATH);
    for (const nh of r.multipath!) {
      const weight = nh.weight ?? 1;
      if (weight < 1 || weight > 256) error = `next hop weight ${weight} outside 1..256`;
      const nhAt = w.pos; // struct rtnexthop
      w.u16(0);
      w.u8(nh.onlink ? C.RTNH_F_ONLINK : 0);
      w.u8(weight - 1);
      w.u32(nh.oif ?? 0);
      if (nh.gateway !== undefined) error ??= writeGateway(w, family, nh.gateway);
      w.buf.writeUInt16LE(w.pos - nhAt, nhAt);
      if (error) break;
    }
    w.attrEnd(mp);
  }
  if (error) {
    w.rewind(at);
    return error;
  }
  w.end(at);
  return undefined;
}

/** Result of packing a batch: message i carries seq `firstSeq + i` unless rejected. */
export interface RouteBatch {
  readonly buffer: Buffer;
  readonly firstSeq: number;
  readonly count: number;
  /** Index in `ops` -> why it was not encoded (no message carries its seq). */
  readonly rejected: ReadonlyMap<number, string>;
}

/** Packs many route requests into one send buffer with increasing sequence numbers. */
export function encodeRouteBatch(ops: readonly RouteOp[], firstSeq: number, w = new NlWriter(ops.length * 64 + 64)): RouteBatch {
  const rejected = new Map<number, string>();
  for (let i = 0; i < ops.length; i++) {
    const err = encodeRouteOp(w, ops[i]!, (firstSeq + i) >>> 0);
    if (err) rejected.set(i, err);
  }
  return { buffer: w.take(), firstSeq, count: ops.length, rejected };
}

/** A dump request (NLM_F_DUMP) for routes, links or addresses of one family (0 = all). */
export function encodeDumpRequest(kind: 'route' | 'link' | 'addr', family: number, seq: number): Buffer {
  const w = new NlWriter(64);
  const type = kind === 'route' ? C.RTM_GETROUTE : kind === 'link' ? C.RTM_GETLINK : C.RTM_GETADDR;
  const at = w.begin(type, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  w.u8(family); // first octet of rtmsg / ifinfomsg / ifaddrmsg is the family
  w.zero((kind === 'route' ? C.RTMSG_LEN : kind === 'link' ? C.IFINFOMSG_LEN : C.IFADDRMSG_LEN) - 1);
  w.end(at);
  return w.take();
}

function decodeNextHops(family: number, v: Buffer): NlResult<NextHop[]> {
  const hops: NextHop[] = [];
  let off = 0;
  while (off + C.RTNH_LEN <= v.length) {
    const len = v.readUInt16LE(off);
    if (len < C.RTNH_LEN || off + len > v.length) return bad(`rtnexthop length ${len} overruns RTA_MULTIPATH`);
    const nh: { -readonly [K in keyof NextHop]: NextHop[K] } = {
      onlink: (v[off + 2]! & C.RTNH_F_ONLINK) !== 0,
      weight: v[off + 3]! + 1,
    };
    const oif = v.readInt32LE(off + 4);
    if (oif !== 0) nh.oif = oif;
    const err = forEachAttr(v, off + C.RTNH_LEN, off + len, (type, value) => {
      if (type === C.RTA_GATEWAY) nh.gateway = addressText(family, value);
      else if (type === C.RTA_VIA && value.length >= 2) nh.gateway = addressText(value.readUInt16LE(0), value.subarray(2));
    });
    if (err) return bad(err);
    hops.push(nh);
    off += align4(len);
  }
  return ok(hops);
}

/**
 * Decodes an RTM_NEWROUTE / RTM_DELROUTE body. `null` for families other
 * than IPv4 / IPv6 (MPLS, multicast), which the FIB does not model.
 */
export function decodeRoute(msg: NlMessage): NlResult<KernelRoute | null> {
  const b = msg.body;
  if (b.length < C.RTMSG_LEN) return bad(`rtmsg body of ${b.length} octets`);
  const family = b[0]!;
  if (family !== C.AF_INET && family !== C.AF_INET6) return ok(null);
  const dstLen = b[1]!;
  if (dstLen > (family === C.AF_INET ? 32 : 128)) return bad(`rtm_dst_len ${dstLen}`);
  const r: { -readonly [K in keyof KernelRoute]: KernelRoute[K] } = {
    family: family === C.AF_INET ? 'ipv4-unicast' : 'ipv6-unicast',
    dst: family === C.AF_INET ? v4Key(0, dstLen) : v6KeyFromBytes(Buffer.alloc(16), 0, dstLen),
    table: b[4]!,
    protocol: b[5]!,
    scope: b[6]!,
    type: C.ROUTE_TYPE_NAMES[b[7]!] ?? 'unknown',
    onlink: (b.readUInt32LE(8) & C.RTNH_F_ONLINK) !== 0,
  };
  let problem: string | undefined;
  // The rtattrs walked in place (forEachAttr's layout and errors): the fixed-size
  // IPv4 ones are read from the body without a Buffer view each, since the
  // monitor decodes one notification per route the writer installs.
  const v4 = family === C.AF_INET;
  const end = b.length;
  let off = C.RTMSG_LEN;
  while (off + 4 <= end) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > end) return bad(`rtattr length ${len} at offset ${off} overruns ${end}`);
    const at = off + 4;
    const size = len - 4;
    switch (b.readUInt16LE(off + 2) & 0x3fff) { // strip NLA_F_NESTED / NET_BYTEORDER
      case C.RTA_DST:
        if (size < (v4 ? 4 : 16)) problem = `RTA_DST of ${size} octets`;
        else r.dst = v4 ? v4Key(b.readUInt32BE(at), dstLen) : v6KeyFromBytes(b.subarray(at, off + len), 0, dstLen);
        break;
      case C.RTA_TABLE:
        if (size >= 4) r.table = b.readUInt32LE(at);
        break;
      case C.RTA_OIF:
        if (size >= 4) r.oif = b.readInt32LE(at);
        break;
      case C.RTA_PRIORITY:
        if (size >= 4) r.priority = b.readUInt32LE(at);
        break;
      case C.RTA_GATEWAY:
        r.gateway = v4 ? (size >= 4 ? v4Text(b.readUInt32BE(at)) : undefined) : addressText(family, b.subarray(at, off + len));
        break;
      case C.RTA_VIA:
        if (size >= 2) r.gateway = addressText(b.readUInt16LE(at), b.subarray(at + 2, off + len));
        break;
      case C.RTA_PREFSRC:
        r.prefsrc = addressText(family, b.subarray(at, off + len));
        break;
      case C.RTA_MULTIPATH: {
        const hops = decodeNextHops(family, b.subarray(at, off + len));
        if (hops.ok) r.multipath = hops.value;
        else problem = hops.error;
        break;
      }
    }
    off += align4(len);
  }
  if (problem) return bad(problem);
  return ok(r);
}
