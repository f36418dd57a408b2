// Multiprotocol reachability (RFC 4760 §3, §4): MP_REACH_NLRI (type 14) and
// MP_UNREACH_NLRI (type 15), optional non-transitive. IPv6 next hops are 16
// octets, or 32 = global + link-local (RFC 2545 §3); IPv4 unicast takes a
// 4-octet next hop, or an IPv6 one (RFC 8950 §3). Prefixes carry RFC 7911 path
// identifiers when ADD-PATH is negotiated. Any malformation means the NLRI
// cannot be trusted: session reset (RFC 7606 §5.3, §7.11, §7.12). An AFI/SAFI
// we do not carry is dropped (RFC 4760 §7) and reported as attribute-discard.

import type { Family } from '../types.js';
import { afiSafiFamily, familyAfiSafi } from '../types.js';
import { UPD_OPTIONAL_ATTRIBUTE } from '../errors.js';
import { v4Parse, v6Parse, v6ToString } from '../../../lib/prefix.js';
import { decodeNlri, encodedNlriLength, writeNlri } from '../nlri.js';
import { ATTR_MP_REACH_NLRI, ATTR_MP_UNREACH_NLRI, OPTIONAL_NON_TRANSITIVE, ipv4Text, type AttributeSpec } from './spec.js';

function nextHopFieldLength(family: Family, nextHop: string, linkLocal: string | undefined): number {
  if (family === 'ipv4-unicast' && !nextHop.includes(':')) return 4;
  return linkLocal ? 32 : 16;
}

function unsupported(afi: number, safi: number) {
  return { reason: `AFI ${afi} / SAFI ${safi} not supported`, action: 'attribute-discard' as const };
}

export const mpReachSpec: AttributeSpec = {
  code: ATTR_MP_REACH_NLRI,
  name: 'MP_REACH_NLRI',
  flags: OPTIONAL_NON_TRANSITIVE,
  onMalformed: 'session-reset',
  subcode: UPD_OPTIONAL_ATTRIBUTE,
  decode(value, ctx, into) {
    // RFC 4760 §3: AFI (2) SAFI (1) next-hop length (1) next hop, reserved (1), NLRI.
    if (value.length < 5) return { reason: `MP_REACH_NLRI length ${value.length} too short` };
    const afi = value.readUInt16BE(0);
    const safi = value[2]!;
    const nhLen = value[3]!;
    if (5 + nhLen > value.length) return { reason: `MP_REACH_NLRI next hop length ${nhLen} overruns the attribute` };
    const family = afiSafiFamily(afi, safi);
    if (!family) return unsupported(afi, safi);
    let nextHop: string;
    let linkLocalNextHop: string | undefined;
    if (family === 'ipv4-unicast' && nhLen === 4) nextHop = ipv4Text(value, 4);
    else if (nhLen === 16 || nhLen === 32) {
      nextHop = v6ToString(value, 4);
      if (nhLen === 32) linkLocalNextHop = v6ToString(value, 20); // RFC 2545 §3
    } else return { reason: `MP_REACH_NLRI next hop length ${nhLen} invalid for ${family}` };
    const nlri = decodeNlri(value, 5 + nhLen, value.length, family, ctx.addPathReceive[family]);
    if (!nlri.ok) return { reason: `MP_REACH_NLRI: ${nlri.error.reason}` };
    into.mpReach = linkLocalNextHop
      ? { family, nextHop, linkLocalNextHop, nlri: nlri.value }
      : { family, nextHop, nlri: nlri.value };
    return undefined;
  },
  valueLength(a, ctx) {
    const r = a.mpReach;
    if (!r) return -1;
    return 5 + nextHopFieldLength(r.family, r.nextHop, r.linkLocalNextHop) + encodedNlriLength(r.nlri, ctx.addPathSend[r.family]);
  },
  writeValue(a, ctx, buf, offset) {
    const r = a.mpReach!;
    const { afi, safi } = familyAfiSafi(r.family);
    const nhLen = nextHopFieldLength(r.family, r.nextHop, r.linkLocalNextHop);
    buf.writeUInt16BE(afi, offset);
    buf[offset + 2] = safi;
    buf[offset + 3] = nhLen;
    if (nhLen === 4) buf.writeUInt32BE(v4Parse(r.nextHop) ?? 0, offset + 4);
    else {
      (v6Parse(r.nextHop) ?? Buffer.alloc(16)).copy(buf, offset + 4);
      if (nhLen === 32) (v6Parse(r.linkLocalNextHop!) ?? Buffer.alloc(16)).copy(buf, offset + 20);
    }
    buf[offset + 4 + nhLen] = 0; // Reserved
    writeNlri(buf, offset + 5 + nhLen, r.nlri, ctx.addPathSend[r.family]);
  },
  format(a) {
    const r = a.mpReach;
    if (!r) return undefined;
    const nh = r.linkLocalNextHop ? `${r.nextHop} ${r.linkLocalNextHop}` : r.nextHop;
    return `${r.family} next-hop ${nh} (${r.nlri.prefixes.length} prefixes)`;
  },
};

export const mpUnreachSpec: AttributeSpec = {
  code: ATTR_MP_UNREACH_NLRI,
  name: 'MP_UNREACH_NLRI',
  flags: OPTIONAL_NON_TRANSITIVE,
  onMalformed: 'session-reset',
  subcode: UPD_OPTIONAL_ATTRIBUTE,
  decode(value, ctx, into) {
    // RFC 4760 §4: AFI (2) SAFI (1) withdrawn routes.
    if (value.length < 3) return { reason: `MP_UNREACH_NLRI length ${value.length} too short` };
    const afi = value.readUInt16BE(0);
    const safi = value[2]!;
    const family = afiSafiFamily(afi, safi);
    if (!family) return unsupported(afi, safi);
    const nlri = decodeNlri(value, 3, value.length, family, ctx.addPathReceive[family]);
    if (!nlri.ok) return { reason: `MP_UNREACH_NLRI: ${nlri.error.reason}` };
    into.mpUnreach = { nlri: nlri.value };
    return undefined;
  },
  valueLength(a, ctx) {
    const u = a.mpUnreach;
    return u ? 3 + encodedNlriLength(u.nlri, ctx.addPathSend[u.nlri.family]) : -1;
  },
  writeValue(a, ctx, buf, offset) {
    const u = a.mpUnreach!;
    const { afi, safi } = familyAfiSafi(u.nlri.family);
    buf.writeUInt16BE(afi, offset);
    buf[offset + 2] = safi;
    writeNlri(buf, offset + 3, u.nlri, ctx.addPathSend[u.nlri.family]);
  },
  format: (a) => (a.mpUnreach ? `${a.mpUnreach.nlri.family} (${a.mpUnreach.nlri.prefixes.length} prefixes)` : undefined),
};
