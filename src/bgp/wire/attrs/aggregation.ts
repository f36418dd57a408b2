// Aggregation attributes: ATOMIC_AGGREGATE (type 6, well-known discretionary,
// RFC 4271 §5.1.6), AGGREGATOR (type 7, optional transitive, RFC 4271 §5.1.7)
// and AS4_AGGREGATOR (type 18, RFC 6793 §3). None affects forwarding, so a
// malformed one is dropped: attribute-discard (RFC 7606 §7.6, §7.7; RFC 6793 §6).
// AGGREGATOR is 6 octets (2-octet ASN) or 8 (4-octet ASN) by session.

import { AS_TRANS } from '../types.js';
import { UPD_ATTRIBUTE_LENGTH, UPD_OPTIONAL_ATTRIBUTE } from '../errors.js';
import {
  ATTR_AGGREGATOR,
  ATTR_AS4_AGGREGATOR,
  ATTR_ATOMIC_AGGREGATE,
  OPTIONAL_TRANSITIVE,
  WELL_KNOWN,
  ipv4Text,
  lengthIs,
  writeIpv4Text,
  type AttributeSpec,
} from './spec.js';

export const atomicAggregateSpec: AttributeSpec = {
  code: ATTR_ATOMIC_AGGREGATE,
  name: 'ATOMIC_AGGREGATE',
  flags: WELL_KNOWN,
  onMalformed: 'attribute-discard',
  subcode: UPD_ATTRIBUTE_LENGTH,
  decode(value, _ctx, into) {
    const bad = lengthIs(value, 0, 'ATOMIC_AGGREGATE');
    if (bad) return bad;
    into.atomicAggregate = true;
    return undefined;
  },
  valueLength: (a) => (a.atomicAggregate ? 0 : -1),
  writeValue() {},
  format: (a) => (a.atomicAggregate ? 'yes' : undefined),
};

export const aggregatorSpec: AttributeSpec = {
  code: ATTR_AGGREGATOR,
  name: 'AGGREGATOR',
  flags: OPTIONAL_TRANSITIVE,
  onMalformed: 'attribute-discard',
  subcode: UPD_ATTRIBUTE_LENGTH,
  decode(value, ctx, into) {
    const size = ctx.fourOctetAs ? 8 : 6;
    const bad = lengthIs(value, size, 'AGGREGATOR');
    if (bad) return bad;
    into.aggregator = ctx.fourOctetAs
      ? { asn: value.readUInt32BE(0), address: ipv4Text(value, 4) }
      : { asn: value.readUInt16BE(0), address: ipv4Text(value, 2) };
    return undefined;
  },
  valueLength: (a, ctx) => (a.aggregator === undefined ? -1 : ctx.fourOctetAs ? 8 : 6),
  writeValue(a, ctx, buf, offset) {
    const { asn, address } = a.aggregator!;
    if (ctx.fourOctetAs) {
      buf.writeUInt32BE(asn >>> 0, offset);
      writeIpv4Text(address, buf, offset + 4);
    } else {
      buf.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, offset); // RFC 6793 §4.2.2
      writeIpv4Text(address, buf, offset + 2);
    }
  },
  format: (a) => (a.aggregator ? `${a.aggregator.asn} ${a.aggregator.address}` : undefined),
};

export const as4AggregatorSpec: AttributeSpec = {
  code: ATTR_AS4_AGGREGATOR,
  name: 'AS4_AGGREGATOR',
  flags: OPTIONAL_TRANSITIVE,
  onMalformed: 'attribute-discard',
  subcode: UPD_OPTIONAL_ATTRIBUTE,
  decode(value, ctx, into) {
    // RFC 6793 §4.1: ignored when the peer speaks 4-octet ASNs itself.
    if (ctx.fourOctetAs) return undefined;
    const bad = lengthIs(value, 8, 'AS4_AGGREGATOR');
    if (bad) return bad;
    into.as4Aggregator = { asn: value.readUInt32BE(0), address: ipv4Text(value, 4) };
    return undefined;
  },
  // RFC 6793 §4.2.2: sent to an OLD speaker when the aggregator's ASN needs 4 octets.
  valueLength: (a, ctx) => (!ctx.fourOctetAs && a.aggregator && a.aggregator.asn > 0xffff ? 8 : -1),
  writeValue(a, _ctx, buf, offset) {
    buf.writeUInt32BE(a.aggregator!.asn >>> 0, offset);
    writeIpv4Text(a.aggregator!.address, buf, offset + 4);
  },
};
