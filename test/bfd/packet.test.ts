// The BFD Control packet codec (RFC 5880 §4.1): annotated vectors both ways,
// every packet-level receive check of §6.8.6 as its own malformed vector, and
// a fuzzer that proves decodeControl never throws and never accepts what a
// check forbids. Session selection (demux.ts) is tested at the end.
import { describe, expect, it } from 'vitest';
import { allocateDiscriminator, selectSession, type DemuxTables } from '../../src/bfd/demux.js';
import { decodeControl, encodeControl, type BfdControlPacket } from '../../src/bfd/packet.js';
import { hex } from '../helpers/hex.js';

// Up, P set, multiplier 3, My 0x11223344, Your 0x55667788, 300 ms / 300 ms, no echo.
const UP_POLL = hex`
  20        # Vers 1, Diag 0
  e0        # Sta 3 (Up), P
  03        # Detect Mult 3
  18        # Length 24
  11223344  # My Discriminator
  55667788  # Your Discriminator
  000493e0  # Desired Min TX 300000 us
  000493e0  # Required Min RX 300000 us
  00000000  # Required Min Echo RX 0
`;

// Down, Diag 1 (Control Detection Time Expired), C set, multiplier 5, Your 0, 1 s / 50 ms.
const DOWN_DIAG1 = hex`
  21 48 05 18
  00000001
  00000000
  000f4240
  0000c350
  00000000
`;

function expectDecoded(buf: Buffer): BfdControlPacket {
  const r = decodeControl(buf);
  if (!r.ok) throw new Error(`unexpected drop: ${r.reason} ${r.detail}`);
  return r.packet;
}

describe('BFD Control packet vectors', () => {
  it('decodes Up with Poll', () => {
    expect(expectDecoded(UP_POLL)).toEqual({
      version: 1,
      diagCode: 0,
      diagnostic: 'none',
      state: 'Up',
      poll: true,
      final: false,
      cpi: false,
      auth: false,
      demand: false,
      multipoint: false,
      detectMult: 3,
      myDiscriminator: 0x11223344,
      yourDiscriminator: 0x55667788,
      desiredMinTxUs: 300_000,
      requiredMinRxUs: 300_000,
      requiredMinEchoRxUs: 0,
    });
  });

  it('encodes Up with Poll to the same bytes', () => {
    const out = encodeControl({
      diagnostic: 'none',
      state: 'Up',
      poll: true,
      detectMult: 3,
      myDiscriminator: 0x11223344,
      yourDiscriminator: 0x55667788,
      desiredMinTxUs: 300_000,
      requiredMinRxUs: 300_000,
    });
    expect(out.toString('hex')).toBe(UP_POLL.toString('hex'));
  });

  it('decodes Down with a diagnostic and the C bit, and round-trips it', () => {
    const p = expectDecoded(DOWN_DIAG1);
    expect(p).toMatchObject({ state: 'Down', diagnostic: 'control-detection-time-expired', cpi: true, detectMult: 5 });
    expect(p.desiredMinTxUs).toBe(1_000_000);
    expect(p.requiredMinRxUs).toBe(50_000);
    expect(encodeControl(p).toString('hex')).toBe(DOWN_DIAG1.toString('hex'));
  });

  it('names every diagnostic code, reserved ones as unknown', () => {
    const names = Array.from({ length: 10 }, (_, code) => {
      const b = Buffer.from(DOWN_DIAG1);
      b[0] = 0x20 | code;
      return expectDecoded(b).diagnostic;
    });
    expect(names).toEqual([
      'none',
      'control-detection-time-expired',
      'echo-function-failed',
      'neighbor-signaled-down',
      'forwarding-plane-reset',
      'path-down',
      'concatenated-path-down',
      'administratively-down',
      'reverse-concatenated-path-down',
      'unknown',
    ]);
  });

  it('decodes every state and the F and D bits', () => {
    const states = [0, 1, 2, 3].map((sta) => {
      const b = Buffer.from(UP_POLL);
      b[1] = (sta << 6) | 0x10 | 0x02; // F and D
      return expectDecoded(b);
    });
    expect(states.map((p) => p.state)).toEqual(['AdminDown', 'Down', 'Init', 'Up']);
    expect(states.every((p) => p.final && p.demand && !p.poll)).toBe(true);
  });

  it('accepts a Length above 24 when the datagram carries it', () => {
    const b = Buffer.concat([UP_POLL, Buffer.alloc(4)]);
    b[3] = 28;
    expect(decodeControl(b).ok).toBe(true);
  });

  it('refuses to encode what no conforming sender sends', () => {
    const base = { diagnostic: 'none', state: 'Up', detectMult: 3, myDiscriminator: 1, yourDiscriminator: 2, desiredMinTxUs: 1, requiredMinRxUs: 1 } as const;
    expect(() => encodeControl({ ...base, poll: true, final: true })).toThrow(/P and F/);
    expect(() => encodeControl({ ...base, detectMult: 0 })).toThrow(/Detect Mult/);
    expect(() => encodeControl({ ...base, myDiscriminator: 2 ** 32 })).toThrow(/My Discriminator/);
  });
});

describe('RFC 5880 §6.8.6 receive checks', () => {
  const cases: [string, (b: Buffer) => Buffer, string][] = [
    ['shorter than 24 octets', (b) => b.subarray(0, 23), 'short'],
    ['version 0', (b) => ((b[0] = 0x00), b), 'bad-version'],
    ['version 2', (b) => ((b[0] = 0x40), b), 'bad-version'],
    ['Length below 24', (b) => ((b[3] = 23), b), 'bad-length'],
    ['Length beyond the datagram', (b) => ((b[3] = 25), b), 'bad-length'],
    ['A bit with Length below 26', (b) => ((b[1]! |= 0x04), b), 'bad-length'],
    ['Detect Mult zero', (b) => ((b[2] = 0), b), 'zero-multiplier'],
    ['M bit set', (b) => ((b[1]! |= 0x01), b), 'multipoint'],
    ['My Discriminator zero', (b) => (b.writeUInt32BE(0, 4), b), 'zero-my-discriminator'],
    ['Your Discriminator zero in Up', (b) => (b.writeUInt32BE(0, 8), b), 'zero-your-discriminator'],
    ['Your Discriminator zero in Init', (b) => (b.writeUInt32BE(0, 8), (b[1] = 0x80), b), 'zero-your-discriminator'],
    ['P and F both set', (b) => ((b[1]! |= 0x30), b), 'poll-and-final'],
    [
      'A bit set (no authentication in use)',
      (b) => {
        const c = Buffer.concat([b, Buffer.from([1, 4, 0, 0])]);
        c[1]! |= 0x04;
        c[3] = 28;
        return c;
      },
      'auth-unsupported',
    ],
  ];
  for (const [name, mutate, reason] of cases) {
    it(`drops: ${name}`, () => {
      const r = decodeControl(mutate(Buffer.from(UP_POLL)));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason).toBe(reason);
        expect(r.detail.length).toBeGreaterThan(0);
      }
    });
  }

  it('accepts a zero Your Discriminator in Down and AdminDown', () => {
    for (const sta of [0, 1]) {
      const b = Buffer.from(UP_POLL);
      b.writeUInt32BE(0, 8);
      b[1] = sta << 6;
      expect(decodeControl(b).ok).toBe(true);
    }
  });
});

describe('decodeControl under fuzzing', () => {
  // A small deterministic PRNG (xorshift32), so a failure replays.
  function rng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 2 ** 32;
    };
  }

  it('never throws, and whatever it accepts passes every check and re-encodes to its first 24 octets', () => {
    const r = rng(0xbfd);
    let accepted = 0;
    for (let i = 0; i < 50_000; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        b = Buffer.from(UP_POLL);
        const flips = 1 + Math.floor(r() * 3);
        for (let k = 0; k < flips; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        if (r() < 0.2) b = b.subarray(0, Math.floor(r() * 30));
      } else {
        b = Buffer.from(Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256)));
      }
      const d = decodeControl(b);
      if (!d.ok) continue;
      accepted++;
      const p = d.packet;
      expect(p.version).toBe(1);
      expect(p.detectMult).toBeGreaterThan(0);
      expect(p.multipoint).toBe(false);
      expect(p.auth).toBe(false);
      expect(p.myDiscriminator).not.toBe(0);
      expect(p.poll && p.final).toBe(false);
      expect(b[3]!).toBeGreaterThanOrEqual(24);
      const again = Buffer.from(b.subarray(0, 24));
      again[3] = 24; // we always send the 24-octet form
      expect(encodeControl(p).toString('hex')).toBe(again.toString('hex'));
    }
    expect(accepted).toBeGreaterThan(100); // the mutations do reach the accepting path
  });
});

describe('session selection (demux.ts)', () => {
  interface S {
    peer: string;
  }
  const a: S = { peer: '10.0.0.2' };
  const b: S = { peer: 'fd00::2' };
  const tables: DemuxTables<S> = {
    byDiscriminator: new Map([
      [7, a],
      [9, b],
    ]),
    byPeer: new Map([
      ['10.0.0.2', a],
      ['fd00::2', b],
    ]),
    peerOf: (s) => s.peer,
  };
  const pkt = (your: number): BfdControlPacket => ({ ...expectDecoded(UP_POLL), yourDiscriminator: your });
  const from = (address: string, ttl = 255) => ({ address, port: 49152, ttl });

  it('selects by Your Discriminator when nonzero', () => {
    expect(selectSession(tables, pkt(9), from('fd00::2'))).toEqual({ ok: true, session: b });
  });

  it('selects by source address when Your Discriminator is zero', () => {
    expect(selectSession(tables, pkt(0), from('10.0.0.2'))).toEqual({ ok: true, session: a });
  });

  it('drops an unknown discriminator, a discriminator from the wrong address, an unknown source and TTL below 255', () => {
    const reasons = [
      selectSession(tables, pkt(8), from('10.0.0.2')),
      selectSession(tables, pkt(7), from('10.0.0.3')),
      selectSession(tables, pkt(0), from('10.0.0.3')),
      selectSession(tables, pkt(7), from('10.0.0.2', 254)),
      selectSession(tables, pkt(7), from('10.0.0.2', 64)),
    ].map((r) => (r.ok ? 'ok' : r.reason));
    expect(reasons).toEqual(['unknown-discriminator', 'wrong-source', 'no-session', 'ttl', 'ttl']);
  });

  it('allocates nonzero discriminators that are not in use', () => {
    const used = new Set<number>([1, 2, 3]);
    let calls = 0;
    const seq = [0, 0, 0.5]; // 0 maps to 1 (in use), then a free one
    const d = allocateDiscriminator(used, () => seq[calls++ % seq.length]!);
    expect(d).not.toBe(0);
    expect(used.has(d)).toBe(false);
  });
});
