// NEXT_HOP (type 3, well-known, mandatory with IPv4 NLRI): the IPv4 address to
// forward to (RFC 4271 §4.3 c, §5.1.3). A wrong length → treat-as-withdraw
// (RFC 7606 §7.3); semantic checks (own address, martians) belong to the RIB.

import { UPD_ATTRIBUTE_LENGTH } from '../errors.js';
import { ATTR_NEXT_HOP, WELL_KNOWN, ipv4Text, lengthIs, writeIpv4Text, type AttributeSpec } from './spec.js';

export const nextHopSpec: AttributeSpec = {
  code: ATTR_NEXT_HOP,
  name: 'NEXT_HOP',
  flags: WELL_KNOWN,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_ATTRIBUTE_LENGTH,
  decode(value, _ctx, into) {
    const bad = lengthIs(value, 4, 'NEXT_HOP');
    if (bad) return bad;
    into.nextHop = ipv4Text(value, 0);
    return undefined;
  },
  valueLength: (a) => (a.nextHop === undefined ? -1 : 4),
  writeValue(a, _ctx, buf, offset) {
    writeIpv4Text(a.nextHop!, buf, offset);
  },
  format: (a) => a.nextHop,
};
