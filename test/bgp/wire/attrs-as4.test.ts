// RFC 6793: 4-octet ASNs across a 2-octet session. Decode merges AS4_PATH and
// AS4_AGGREGATOR (§4.2.3); encode sends AS_TRANS plus the AS4_* attributes (§4.2.2).
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../helpers/hex.js';
import { decodeUpdate } from '../../../src/bgp/wire/update.js';
import { mergeAs4Path } from '../../../src/bgp/wire/attrs/as4.js';
import type { CodecContext, PathAttributes } from '../../../src/bgp/wire/types.js';
import { NEW, OLD, body, encodeAttrs } from './attrs-helpers.js';

function attrsOf(hexText: string, ctx: CodecContext): PathAttributes {
  const r = decodeUpdate(body(hexText), ctx);
  if (!r.ok) throw new Error(r.error.reason);
  return r.value.update.attributes;
}

describe('AS4_PATH merge (RFC 6793 §4.2.3)', () => {
  it('replaces AS_TRANS with the real ASNs', () => {
    const attrs = attrsOf(
      `40 02 08 02 03 fc00 5ba0 5ba0         # AS_PATH 64512 23456 23456
       c0 11 0a 02 02 fa56ea00 fa56ea01`, // AS4_PATH 4200000000 4200000001
      OLD,
    );
    expect(attrs.asPath).toEqual([{ type: 2, asns: [64512, 4200000000, 4200000001] }]);
  });

  it('ignores an AS4_PATH longer than AS_PATH', () => {
    const attrs = attrsOf(
      `40 02 04 02 01 5ba0                          # AS_PATH 23456
       c0 11 0a 02 02 fa56ea00 fa56ea01`,
      OLD,
    );
    expect(attrs.asPath).toEqual([{ type: 2, asns: [23456] }]);
  });

  it('counts an AS_SET as one and keeps confederation segments in front', () => {
    const attrs = attrsOf(
      `40 02 10 03 01 fde9 02 02 fc00 5ba0 01 02 0001 0002  # (65001) 64512 23456 {1 2}
       c0 11 10 02 01 fa56ea00 01 02 00000001 00000002`, // AS4_PATH 4200000000 {1 2}
      OLD,
    );
    expect(attrs.asPath).toEqual([
      { type: 3, asns: [65001] },
      { type: 2, asns: [64512, 4200000000] },
      { type: 1, asns: [1, 2] },
    ]);
  });

  it('splits a sequence when the kept head ends inside it', () => {
    expect(
      mergeAs4Path(
        [{ type: 2, asns: [1, 2, 23456, 4] }],
        [{ type: 1, asns: [4200000000, 5] }, { type: 2, asns: [4] }],
      ),
    ).toEqual([{ type: 2, asns: [1, 2] }, { type: 1, asns: [4200000000, 5] }, { type: 2, asns: [4] }]);
  });

  it('uses AS4_AGGREGATOR when AGGREGATOR carries AS_TRANS', () => {
    const attrs = attrsOf('c0 07 06 5ba0 01020304   c0 12 08 fa56ea00 01020304', OLD);
    expect(attrs.aggregator).toEqual({ asn: 4200000000, address: '1.2.3.4' });
  });

  it('ignores AS4_AGGREGATOR and AS4_PATH when AGGREGATOR names a real 2-octet ASN', () => {
    const attrs = attrsOf(
      `40 02 04 02 01 5ba0
       c0 07 06 fc00 01020304
       c0 11 06 02 01 fa56ea00
       c0 12 08 fa56ea00 01020304`,
      OLD,
    );
    expect(attrs.aggregator).toEqual({ asn: 64512, address: '1.2.3.4' });
    expect(attrs.asPath).toEqual([{ type: 2, asns: [23456] }]);
  });

  it('discards AS4_* from a 4-octet peer (RFC 6793 §4.1)', () => {
    const attrs = attrsOf('40 02 06 02 01 0000fc00   c0 11 06 02 01 fa56ea00', NEW);
    expect(attrs).toEqual({ asPath: [{ type: 2, asns: [64512] }] });
  });
});

describe('encoding for a 2-octet peer (RFC 6793 §4.2.2)', () => {
  const attrs: PathAttributes = {
    asPath: [{ type: 3, asns: [65001] }, { type: 2, asns: [64512, 4200000000] }],
    aggregator: { asn: 4200000000, address: '1.2.3.4' },
  };
  const wire = `
    40 02 0a 03 01 fde9 02 02 fc00 5ba0     # AS_PATH (65001) 64512 AS_TRANS
    c0 07 06 5ba0 01020304                  # AGGREGATOR AS_TRANS 1.2.3.4
    c0 11 0a 02 02 0000fc00 fa56ea00        # AS4_PATH 64512 4200000000, no confed segment
    c0 12 08 fa56ea00 01020304              # AS4_AGGREGATOR 4200000000 1.2.3.4`;

  it('sends AS_TRANS and the AS4_* attributes', () => {
    expect(encodeAttrs(attrs, OLD)).toEqual(fromHex(wire));
  });

  it('decodes back to the 4-octet values', () => {
    expect(attrsOf(wire, OLD)).toEqual(attrs);
  });

  it('sends no AS4_* when every ASN fits 2 octets, and none to a 4-octet peer', () => {
    expect(encodeAttrs({ asPath: [{ type: 2, asns: [64512] }] }, OLD)).toEqual(fromHex('40 02 04 02 01 fc00'));
    expect(encodeAttrs(attrs, NEW).includes(Buffer.from([0xc0, 0x11]))).toBe(false);
  });
});
