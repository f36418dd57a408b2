// Route reflection attributes (RFC 4456 §8): ORIGINATOR_ID (type 9) and
// CLUSTER_LIST (type 10), both optional non-transitive. ORIGINATOR_ID of the
// wrong length, or a CLUSTER_LIST whose length is not a non-zero multiple of 4
// → treat-as-withdraw (RFC 7606 §7.9, §7.10).

import { UPD_ATTRIBUTE_LENGTH } from '../errors.js';
import { v4ToString } from '../../../lib/prefix.js';
import { ATTR_CLUSTER_LIST, ATTR_ORIGINATOR_ID, OPTIONAL_NON_TRANSITIVE, lengthIs, type AttributeSpec } from './spec.js';

export const originatorIdSpec: AttributeSpec = {
  code: ATTR_ORIGINATOR_ID,
  name: 'ORIGINATOR_ID',
  flags: OPTIONAL_NON_TRANSITIVE,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_ATTRIBUTE_LENGTH,
  decode(value, _ctx, into) {
    const bad = lengthIs(value, 4, 'ORIGINATOR_ID');
    if (bad) return bad;
    into.originatorId = value.readUInt32BE(0);
    return undefined;
  },
  valueLength: (a) => (a.originatorId === undefined ? -1 : 4),
  writeValue(a, _ctx, buf, offset) {
    buf.writeUInt32BE(a.originatorId! >>> 0, offset);
  },
  format: (a) => (a.originatorId === undefined ? undefined : v4ToString(a.originatorId)),
};

export const clusterListSpec: AttributeSpec = {
  code: ATTR_CLUSTER_LIST,
  name: 'CLUSTER_LIST',
  flags: OPTIONAL_NON_TRANSITIVE,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_ATTRIBUTE_LENGTH,
  decode(value, _ctx, into) {
    if (value.length === 0 || value.length % 4 !== 0)
      return { reason: `CLUSTER_LIST length ${value.length} is not a non-zero multiple of 4` };
    const ids: number[] = [];
    for (let p = 0; p < value.length; p += 4) ids.push(value.readUInt32BE(p));
    into.clusterList = ids;
    return undefined;
  },
  valueLength: (a) => (a.clusterList === undefined || a.clusterList.length === 0 ? -1 : 4 * a.clusterList.length),
  writeValue(a, _ctx, buf, offset) {
    for (const id of a.clusterList!) {
      buf.writeUInt32BE(id >>> 0, offset);
      offset += 4;
    }
  },
  format: (a) => a.clusterList?.map(v4ToString).join(' '),
};
