// The two 4-octet preference attributes: MULTI_EXIT_DISC (type 4, optional
// non-transitive, RFC 4271 §5.1.4) and LOCAL_PREF (type 5, well-known,
// RFC 4271 §5.1.5). A wrong length → treat-as-withdraw (RFC 7606 §7.4, §7.5).
// LOCAL_PREF received from an eBGP peer is discarded by the RIB, which knows
// the session type (RFC 7606 §7.5).

import { UPD_ATTRIBUTE_LENGTH } from '../errors.js';
import {
  ATTR_LOCAL_PREF,
  ATTR_MULTI_EXIT_DISC,
  OPTIONAL_NON_TRANSITIVE,
  WELL_KNOWN,
  lengthIs,
  type AttributeSpec,
} from './spec.js';

export const medSpec: AttributeSpec = {
  code: ATTR_MULTI_EXIT_DISC,
  name: 'MULTI_EXIT_DISC',
  flags: OPTIONAL_NON_TRANSITIVE,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_ATTRIBUTE_LENGTH,
  decode(value, _ctx, into) {
    const bad = lengthIs(value, 4, 'MULTI_EXIT_DISC');
    if (bad) return bad;
    into.med = value.readUInt32BE(0);
    return undefined;
  },
  valueLength: (a) => (a.med === undefined ? -1 : 4),
  writeValue(a, _ctx, buf, offset) {
    buf.writeUInt32BE(a.med! >>> 0, offset);
  },
  format: (a) => (a.med === undefined ? undefined : String(a.med)),
};

export const localPrefSpec: AttributeSpec = {
  code: ATTR_LOCAL_PREF,
  name: 'LOCAL_PREF',
  flags: WELL_KNOWN,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_ATTRIBUTE_LENGTH,
  decode(value, _ctx, into) {
    const bad = lengthIs(value, 4, 'LOCAL_PREF');
    if (bad) return bad;
    into.localPref = value.readUInt32BE(0);
    return undefined;
  },
  valueLength: (a) => (a.localPref === undefined ? -1 : 4),
  writeValue(a, _ctx, buf, offset) {
    buf.writeUInt32BE(a.localPref! >>> 0, offset);
  },
  format: (a) => (a.localPref === undefined ? undefined : String(a.localPref)),
};
