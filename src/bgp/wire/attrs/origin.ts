// ORIGIN (type 1, well-known mandatory): how the route entered BGP (RFC 4271
// §4.3 a, §5.1.1). Malformed → treat-as-withdraw (RFC 7606 §7.1).

import type { Origin } from '../types.js';
import { UPD_INVALID_ORIGIN } from '../errors.js';
import { ATTR_ORIGIN, WELL_KNOWN, lengthIs, type AttributeSpec } from './spec.js';

const NAMES = ['igp', 'egp', 'incomplete'] as const;

export const originSpec: AttributeSpec = {
  code: ATTR_ORIGIN,
  name: 'ORIGIN',
  flags: WELL_KNOWN,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_INVALID_ORIGIN,
  decode(value, _ctx, into) {
    const bad = lengthIs(value, 1, 'ORIGIN');
    if (bad) return bad;
    const v = value[0]!;
    // RFC 4271 §6.3: an undefined ORIGIN value is an Invalid ORIGIN Attribute.
    if (v > 2) return { reason: `undefined ORIGIN value ${v}` };
    into.origin = v as Origin;
    return undefined;
  },
  valueLength: (a) => (a.origin === undefined ? -1 : 1),
  writeValue(a, _ctx, buf, offset) {
    buf[offset] = a.origin!;
  },
  format: (a) => (a.origin === undefined ? undefined : NAMES[a.origin]),
};
