// OPEN and capabilities (RFC 4271 §4.2, §6.2; RFC 5492; RFC 9072; RFC 6793;
// RFC 4724/8538; RFC 7911; RFC 7313; RFC 8654; draft-walton-bgp-hostname-capability).
import { describe, expect, it } from 'vitest';
import { capabilityName, decodeCapabilities } from '../../../src/bgp/wire/capabilities.js';
import { decodeOpen, encodeOpen, myAsField, openAsn } from '../../../src/bgp/wire/open.js';
import type { Capability, OpenMessage } from '../../../src/bgp/wire/types.js';
import { hex } from '../../helpers/hex.js';
import { FRR_STYLE_OPEN, MARKER, REAL_OPEN } from './golden.js';

const body = (m: Buffer) => m.subarray(19);

const REAL_CAPS: Capability[] = [
  { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
  { kind: 'multiprotocol', code: 1, afi: 2, safi: 1 },
  { kind: 'route-refresh', code: 2 },
  { kind: 'enhanced-route-refresh', code: 70 },
  { kind: 'extended-message', code: 6 },
  { kind: 'four-octet-as', code: 65, asn: 4200000001 },
  {
    kind: 'graceful-restart',
    code: 64,
    restarting: false,
    notification: true,
    restartTime: 120,
    families: [
      { afi: 1, safi: 1, forwardingState: true },
      { afi: 2, safi: 1, forwardingState: false },
    ],
  },
  {
    kind: 'add-path',
    code: 69,
    families: [
      { afi: 1, safi: 1, mode: 'both' },
      { afi: 2, safi: 1, mode: 'receive' },
    ],
  },
  { kind: 'fqdn', code: 73, hostname: 'node-a', domain: 'k8s.local' },
];

const REAL: OpenMessage = { type: 'open', version: 4, myAs: 23456, holdTime: 90, bgpId: 0xc0000201, capabilities: REAL_CAPS };

/** An OPEN body with the given fixed fields and raw optional-parameters section (length octet included). */
function openBody(fields: { version?: number; myAs?: number; hold?: number; id?: number }, params: Buffer): Buffer {
  const b = Buffer.alloc(9);
  b[0] = fields.version ?? 4;
  b.writeUInt16BE(fields.myAs ?? 64512, 1);
  b.writeUInt16BE(fields.hold ?? 90, 3);
  b.writeUInt32BE(fields.id ?? 0x0a000001, 5);
  return Buffer.concat([b, params]);
}

const err = (code: number, subcode: number, data?: Buffer) => ({
  ok: false,
  error: data === undefined ? { code, subcode, action: 'session-reset' } : { code, subcode, data, action: 'session-reset' },
});

describe('OPEN: real-world vector', () => {
  it('decodes the BIRD/GoBGP-style OPEN', () => {
    expect(decodeOpen(body(REAL_OPEN))).toEqual({ ok: true, value: REAL });
  });

  it('encodes it back to the same bytes', () => {
    expect(encodeOpen(REAL)).toEqual(REAL_OPEN);
  });

  it('decodes the FRR-style OPEN (one parameter per capability) to the same capabilities', () => {
    expect(decodeOpen(body(FRR_STYLE_OPEN))).toEqual({ ok: true, value: REAL });
  });

  it('reports the 4-octet ASN, not AS_TRANS', () => {
    expect(openAsn(REAL)).toBe(4200000001);
    expect(openAsn({ ...REAL, myAs: 64512, capabilities: [] })).toBe(64512);
    expect(myAsField(4200000001)).toBe(23456);
    expect(myAsField(64512)).toBe(64512);
  });

  it('names capabilities for logs', () => {
    expect(REAL_CAPS.map(capabilityName)).toEqual([
      'multiprotocol(ipv4-unicast)',
      'multiprotocol(ipv6-unicast)',
      'route-refresh',
      'enhanced-route-refresh',
      'extended-message',
      'four-octet-as(4200000001)',
      'graceful-restart(N time 120 ipv4-unicast+F,ipv6-unicast)',
      'add-path(ipv4-unicast both,ipv6-unicast receive)',
      'fqdn(node-a.k8s.local)',
    ]);
    expect(capabilityName({ kind: 'unknown', code: 128, value: hex`0102` })).toBe('capability-128(0102)');
  });
});

describe('OPEN: vectors both ways', () => {
  it('an OPEN with no optional parameters', () => {
    const m = hex`${MARKER} 001d 01   04 fde8 00b4 0a000001 00   # AS 65000, hold 180, id 10.0.0.1, no params`;
    const o: OpenMessage = { type: 'open', version: 4, myAs: 65000, holdTime: 180, bgpId: 0x0a000001, capabilities: [] };
    expect(decodeOpen(body(m))).toEqual({ ok: true, value: o });
    expect(encodeOpen(o)).toEqual(m);
  });

  it('graceful restart with the R bit, restart time 4095 and no families', () => {
    const m = hex`${MARKER} 0023 01   04 fde8 0000 0a000001   06 02 04 40 02 8fff   # R bit, time 4095`;
    const o: OpenMessage = {
      type: 'open', version: 4, myAs: 65000, holdTime: 0, bgpId: 0x0a000001,
      capabilities: [{ kind: 'graceful-restart', code: 64, restarting: true, notification: false, restartTime: 4095, families: [] }],
    };
    expect(decodeOpen(body(m))).toEqual({ ok: true, value: o });
    expect(encodeOpen(o)).toEqual(m);
  });

  it('keeps an unknown capability byte for byte', () => {
    const m = hex`${MARKER} 0022 01   04 fde8 005a 0a000001   05 02 03 80 01 ff   # capability 128, value ff`;
    const r = decodeOpen(body(m));
    expect(r).toEqual({
      ok: true,
      value: { type: 'open', version: 4, myAs: 65000, holdTime: 90, bgpId: 0x0a000001, capabilities: [{ kind: 'unknown', code: 128, value: hex`ff` }] },
    });
    expect(r.ok && encodeOpen(r.value)).toEqual(m);
  });

  it('several capabilities in one parameter and several parameters both count', () => {
    const params = hex`0e   02 06 01 04 0001 00 01   02 04 02 00 06 00   # MP in one, RR + EM in the other`;
    const r = decodeOpen(openBody({}, params));
    expect(r.ok && r.value.capabilities.map((c) => c.kind)).toEqual(['multiprotocol', 'route-refresh', 'extended-message']);
  });

  it('decodes the RFC 9072 extended optional parameters encoding', () => {
    const params = hex`
      ff ff 000b                 # Non-Ext OP Len 255, Non-Ext OP Type 255, extended length 11
      02 0008                    # capabilities, 2-octet length 8
        01 04 0001 00 01         #   multiprotocol ipv4 unicast
        02 00                    #   route refresh
    `;
    const r = decodeOpen(openBody({}, params));
    expect(r.ok && r.value.capabilities).toEqual([
      { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
      { kind: 'route-refresh', code: 2 },
    ]);
  });

  it('encodes with RFC 9072 extended lengths only when the parameters exceed 255 octets, and reads that back', () => {
    const many: Capability[] = Array.from({ length: 60 }, (_, i) => ({ kind: 'unknown', code: 200, value: Buffer.from([i, i, i]) }));
    const m = encodeOpen({ myAs: 65000, holdTime: 90, bgpId: 1, capabilities: many });
    // 60 capabilities of 5 octets = 300 octets: one parameter with a 2-octet length.
    expect(m.subarray(28, 35)).toEqual(hex`ff ff 012f   02 012c   # ext len 303 = 3 + 300; param len 300`);
    expect(m.length).toBe(19 + 9 + 4 + 303);
    const r = decodeOpen(body(m));
    expect(r.ok && r.value.capabilities).toEqual(many);

    const few = many.slice(0, 50); // 250 octets: fits one ordinary parameter
    const m2 = encodeOpen({ myAs: 65000, holdTime: 90, bgpId: 1, capabilities: few });
    expect(m2.subarray(28, 30)).toEqual(hex`fc 02   # opt len 252, capabilities`);
  });

  it('splits capabilities over several ordinary parameters when one would exceed 255 but all fit', () => {
    const caps: Capability[] = [
      { kind: 'unknown', code: 200, value: Buffer.alloc(120, 1) },
      { kind: 'unknown', code: 201, value: Buffer.alloc(120, 2) },
    ];
    // 2 x 122 = 244 octets of TLVs, one parameter of 246: fits in 255.
    const m = encodeOpen({ myAs: 65000, holdTime: 90, bgpId: 1, capabilities: caps });
    expect(m[28]).toBe(246);
    const r = decodeOpen(body(m));
    expect(r.ok && r.value.capabilities).toEqual(caps);
  });
});

describe('OPEN: malformed', () => {
  const NO_PARAMS = hex`00`;

  it('version 3: Unsupported Version Number, data = 2-octet 4', () => {
    expect(decodeOpen(openBody({ version: 3 }, NO_PARAMS))).toMatchObject(err(2, 1, hex`0004`));
  });

  it('hold time 1 and 2: Unacceptable Hold Time; 0 and 3 are fine', () => {
    expect(decodeOpen(openBody({ hold: 1 }, NO_PARAMS))).toMatchObject(err(2, 6));
    expect(decodeOpen(openBody({ hold: 2 }, NO_PARAMS))).toMatchObject(err(2, 6));
    expect(decodeOpen(openBody({ hold: 0 }, NO_PARAMS)).ok).toBe(true);
    expect(decodeOpen(openBody({ hold: 3 }, NO_PARAMS)).ok).toBe(true);
  });

  it('BGP Identifier 0: Bad BGP Identifier (RFC 6286)', () => {
    expect(decodeOpen(openBody({ id: 0 }, NO_PARAMS))).toMatchObject(err(2, 3));
  });

  it('an optional parameter other than capabilities: Unsupported Optional Parameter', () => {
    expect(decodeOpen(openBody({}, hex`03 01 01 00   # type 1 (authentication), length 1`))).toMatchObject(err(2, 4));
  });

  it('optional parameters length not matching the message: OPEN Message Error / 0', () => {
    expect(decodeOpen(openBody({}, hex`05 02 02 02 00   # claims 5, has 4`))).toMatchObject(err(2, 0));
    expect(decodeOpen(openBody({}, hex`02 02 02 02 00   # claims 2, has 4`))).toMatchObject(err(2, 0));
  });

  it('a parameter length running past the message: OPEN Message Error / 0', () => {
    expect(decodeOpen(openBody({}, hex`04 02 05 02 00   # parameter claims 5`))).toMatchObject(err(2, 0));
    expect(decodeOpen(openBody({}, hex`01 02   # parameter with no length octet`))).toMatchObject(err(2, 0));
  });

  it('a capability length running past its parameter: OPEN Message Error / 0', () => {
    expect(decodeOpen(openBody({}, hex`04 02 02 41 04   # 4-octet AS claims 4, has 0`))).toMatchObject(err(2, 0));
    expect(decodeOpen(openBody({}, hex`03 02 01 41   # capability code with no length`))).toMatchObject(err(2, 0));
  });

  it('impossible capability sizes: OPEN Message Error / 0', () => {
    expect(decodeCapabilities(hex`01 03 0001 01   # multiprotocol of 3`)).toMatchObject(err(2, 0));
    expect(decodeCapabilities(hex`41 02 fde8   # 4-octet AS of 2`)).toMatchObject(err(2, 0));
    expect(decodeCapabilities(hex`40 01 00   # graceful restart of 1`)).toMatchObject(err(2, 0));
    expect(decodeCapabilities(hex`40 05 0078 0001 01   # graceful restart with a 3-octet family`)).toMatchObject(err(2, 0));
    expect(decodeCapabilities(hex`45 03 0001 01   # ADD-PATH of 3`)).toMatchObject(err(2, 0));
    expect(decodeCapabilities(hex`45 04 0001 01 04   # ADD-PATH Send/Receive 4`)).toMatchObject(err(2, 0));
  });

  it('extended parameters length missing or wrong: OPEN Message Error / 0', () => {
    expect(decodeOpen(openBody({}, hex`ff ff 00`))).toMatchObject(err(2, 0));
    expect(decodeOpen(openBody({}, hex`ff ff 0009 02 0004 02 00 06 00`))).toMatchObject(err(2, 0));
  });

  it('keeps a malformed FQDN capability as unknown rather than failing the session', () => {
    expect(decodeCapabilities(hex`49 03 05 6e6f   # hostname claims 5, has 2`)).toEqual({
      ok: true,
      value: [{ kind: 'unknown', code: 73, value: hex`05 6e6f` }],
    });
  });

  it('tolerates octets after a zero-length capability', () => {
    expect(decodeCapabilities(hex`02 01 00`)).toEqual({ ok: true, value: [{ kind: 'route-refresh', code: 2 }] });
  });

  it('checks version before hold time before identifier', () => {
    expect(decodeOpen(openBody({ version: 5, hold: 1, id: 0 }, NO_PARAMS))).toMatchObject(err(2, 1));
    expect(decodeOpen(openBody({ hold: 1, id: 0 }, NO_PARAMS))).toMatchObject(err(2, 6));
  });

  it('never throws on random bodies', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff;
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(Array.from({ length: 10 + (rand() % 40) }, rand));
      b[0] = 4;
      if (i % 2 === 0) b[9] = b.length - 10; // half with a consistent parameters length
      const r = decodeOpen(b);
      if (!r.ok) expect(r.error.code).toBe(2);
    }
  });
});
