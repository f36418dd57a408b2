// Wire robustness against a live daemon, part 1: broken headers (RFC 4271
// §6.1), bad OPENs (§6.2, RFC 5492) and messages out of order (RFC 6608 FSM
// Error subcodes). Each case dials a fresh fuzz peer (test/robustness/live.ts);
// the daemon must answer with the right NOTIFICATION (code, subcode, data),
// close that connection, and keep its witness peer Established with its route.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/bgp/wire/index.js';
import { hex } from '../helpers/hex.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { FUZZ_CTX, Live, k, message, notified, until } from './live.js';
import { prng } from './prng.js';

let live: Live;
beforeAll(async () => {
  live = await Live.start({ address: '127.0.0.81', range: '127.1.0.0/16' });
});
afterAll(async () => live?.stop());
afterEach(() => expect(live.witnessHealthy()).toBeUndefined());

const MARKER = 'ffffffff ffffffff ffffffff ffffffff';

describe('broken headers on an Established session: Message Header Error (RFC 4271 §6.1)', () => {
  const cases: { name: string; bytes: Buffer; subcode: number; data: string }[] = [
    { name: 'marker not all ones', bytes: hex`ffffffff ffffffff ffffffff fffffffe 0013 04`, subcode: 1, data: '' },
    { name: 'length 18', bytes: hex`${MARKER} 0012 04`, subcode: 2, data: '0012' },
    { name: 'length 4097 without extended messages', bytes: hex`${MARKER} 1001 02 0000 0000`, subcode: 2, data: '1001' },
    { name: 'length 65535', bytes: hex`${MARKER} ffff 02`, subcode: 2, data: 'ffff' },
    { name: 'unknown type 9', bytes: hex`${MARKER} 0013 09`, subcode: 3, data: '09' },
    { name: 'type 0', bytes: hex`${MARKER} 0013 00`, subcode: 3, data: '00' },
    { name: 'KEEPALIVE of 20 octets', bytes: hex`${MARKER} 0014 04 | 00`, subcode: 2, data: '0014' },
    { name: 'UPDATE of 21 octets (minimum 23)', bytes: hex`${MARKER} 0015 02 | 0000`, subcode: 2, data: '0015' },
    { name: 'OPEN of 28 octets (minimum 29)', bytes: hex`${MARKER} 001c 01 | 04 fe3a 005a 0a000052`, subcode: 2, data: '001c' },
    { name: 'ROUTE-REFRESH of 24 octets (exactly 23)', bytes: hex`${MARKER} 0018 05 | 0001 00 01 | 00`, subcode: 2, data: '0018' },
  ];
  for (const c of cases)
    it(`${c.name} → 1/${c.subcode}, data ${c.data || 'empty'}`, async () => {
      const { peer, address } = await live.established();
      peer.write(c.bytes);
      const n = await notified(peer);
      expect({ code: n.code, subcode: n.subcode, data: n.data.toString('hex') }).toEqual({ code: 1, subcode: c.subcode, data: c.data });
      await until(() => live.daemon.peer(address) === undefined, 2000, 'dynamic session removed');
    });

  it('a header split over many writes, then garbage: still judged on the whole header', async () => {
    const { peer } = await live.established();
    const bytes = hex`${MARKER} 0013 07`; // type 7: Bad Message Type
    for (const b of bytes) {
      peer.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    const n = await notified(peer);
    expect({ code: n.code, subcode: n.subcode, data: n.data.toString('hex') }).toEqual({ code: 1, subcode: 3, data: '07' });
  });

  it('a truncated header and the connection closed: the session goes, nothing else', async () => {
    const { peer, address } = await live.established();
    peer.write(hex`${MARKER} 00`); // 17 of 19 header octets
    peer.socket.end();
    await until(() => live.daemon.peer(address) === undefined, 3000, 'dynamic session removed');
    expect(peer.received.some((m) => m.type === 'notification')).toBe(false);
  });

  it('40 random garbled headers: the NOTIFICATION the RFC 4271 §6.1 rules give, in order marker, length, type', async () => {
    const r = prng(0x4ead_e5);
    const min: Record<number, [number, boolean]> = { 1: [29, false], 2: [23, false], 3: [21, false], 4: [19, true], 5: [23, true] };
    let done = 0;
    while (done < 40) {
      const head = Buffer.alloc(19, 0xff);
      if (r.int(4) === 0) head[r.int(16)] = r.int(255); // a marker octet not 0xff
      const length = r.pick([0, 1, 18, 19, 20, 21, 22, 23, 24, 28, 29, 4096, 4097, 65535, 19 + r.int(100)]);
      const type = r.pick([0, 1, 2, 3, 4, 5, 6, 7, 128, 255]);
      head.writeUInt16BE(length, 16);
      head[18] = type;
      // The RFC 4271 §6.1 order of checks.
      let expected: { subcode: number; data: string };
      if (head.subarray(0, 16).some((b) => b !== 0xff)) expected = { subcode: 1, data: '' };
      else if (length < 19 || length > 4096) expected = { subcode: 2, data: head.subarray(16, 18).toString('hex') };
      else if (!(type in min)) expected = { subcode: 3, data: type.toString(16).padStart(2, '0') };
      else if (length < min[type]![0] || (min[type]![1] && length !== min[type]![0])) expected = { subcode: 2, data: head.subarray(16, 18).toString('hex') };
      else continue; // a valid header: not this test's business
      const body = length >= 19 && length <= 4096 ? Buffer.alloc(length - 19) : Buffer.alloc(0);
      const { peer } = await live.established();
      peer.write(Buffer.concat([head, body]));
      const n = await notified(peer);
      expect({ code: n.code, subcode: n.subcode, data: n.data.toString('hex') }, `case ${done}: ${head.toString('hex')}`).toEqual({ code: 1, ...expected });
      expect(live.witnessHealthy(), `case ${done}`).toBeUndefined();
      peer.destroy();
      done++;
    }
  });
});

describe('garbage instead of an OPEN (OpenSent)', () => {
  it('a connection closed in OpenSent (a port probe) leaves no dynamic session behind', async () => {
    // Regression: OpenSent + TcpConnectionFails goes back to Active (RFC 4271 §8.2.2) with no
    // session-down, and a dynamic session then stayed in Active for good, one per probing address.
    const { peer, address } = await live.dial();
    expect(live.daemon.peer(address)?.state).toBe('OpenSent');
    peer.destroy();
    await until(() => live.daemon.peer(address) === undefined, 2000, 'dynamic session removed');
    expect(live.daemon.sessions().some((s) => s.address === address)).toBe(false);
  });

  it('and one closed in OpenConfirm', async () => {
    const { peer, address } = await live.dial();
    peer.write(hex`${MARKER} 0025 01 | 04 fe3a 005a 0a000052 | 08 | 02 06 | 41 04 0000fe3a`);
    await peer.waitFor('keepalive');
    expect(live.daemon.peer(address)?.state).toBe('OpenConfirm');
    peer.destroy();
    await until(() => live.daemon.peer(address) === undefined, 2000, 'dynamic session removed');
  });

  it('30 random byte strings right after connecting: the connection is closed, with a code 1, 2 or 5 NOTIFICATION if any', async () => {
    const r = prng(0x9a7b_a9e0);
    let notified1 = 0;
    for (let i = 0; i < 30; i++) {
      const bytes = r.bytes(19 + r.int(200));
      // Half of them framed: a valid marker and length, random type and body.
      if (r.int(2)) {
        bytes.fill(0xff, 0, 16);
        bytes.writeUInt16BE(bytes.length, 16);
        bytes[18] = r.pick([1, 2, 3, 4, 5, r.int(256)]);
      }
      const { peer, address } = await live.dial();
      peer.write(bytes);
      await until(() => peer.closed, 3000, `case ${i} closed: ${bytes.subarray(0, 24).toString('hex')}`);
      const n = peer.received.find((m) => m.type === 'notification');
      if (n) expect([1, 2, 5], `case ${i}: ${bytes.subarray(0, 24).toString('hex')} → ${n.code}/${n.subcode}`).toContain(n.code);
      if (n?.code === 1) notified1++;
      expect(live.daemon.peer(address)?.state ?? 'removed', `case ${i}`).not.toBe('Established');
    }
    expect(notified1).toBeGreaterThan(10);
  });
});

// OPEN fields: version 04, My AS fe3a (65082), hold time 005a (90), BGP ID 0a000052 (10.0.0.82).
describe('bad OPENs: OPEN Message Error (RFC 4271 §6.2, RFC 5492, RFC 6793)', () => {
  const cases: { name: string; bytes: Buffer; subcode: number; data?: string }[] = [
    { name: 'version 5', bytes: hex`${MARKER} 001d 01 | 05 fe3a 005a 0a000052 00`, subcode: 1, data: '0004' },
    { name: 'version 3', bytes: hex`${MARKER} 001d 01 | 03 fe3a 005a 0a000052 00`, subcode: 1, data: '0004' },
    { name: 'hold time 1', bytes: hex`${MARKER} 001d 01 | 04 fe3a 0001 0a000052 00`, subcode: 6 },
    { name: 'hold time 2', bytes: hex`${MARKER} 001d 01 | 04 fe3a 0002 0a000052 00`, subcode: 6 },
    { name: 'BGP Identifier 0', bytes: hex`${MARKER} 001d 01 | 04 fe3a 005a 00000000 00`, subcode: 3 },
    { name: 'peer AS 65099, range expects 65082', bytes: hex`${MARKER} 001d 01 | 04 fe4b 005a 0a000052 00`, subcode: 2 },
    { name: 'peer AS 0', bytes: hex`${MARKER} 001d 01 | 04 0000 005a 0a000052 00`, subcode: 2 },
    {
      name: '4-octet AS capability 65099 beside AS_TRANS',
      bytes: hex`${MARKER} 0025 01 | 04 5ba0 005a 0a000052 | 08 | 02 06 | 41 04 0000fe4b # capability 65: ASN 65099`,
      subcode: 2,
    },
    { name: 'unknown optional parameter type 99', bytes: hex`${MARKER} 0021 01 | 04 fe3a 005a 0a000052 | 04 | 63 02 abcd`, subcode: 4 },
    { name: 'capability length overruns its parameter', bytes: hex`${MARKER} 0021 01 | 04 fe3a 005a 0a000052 | 04 | 02 02 | 41 04 # claims 4, has 0`, subcode: 0 },
    { name: 'parameters length beyond the message', bytes: hex`${MARKER} 001f 01 | 04 fe3a 005a 0a000052 | 09 | 02 00`, subcode: 0 },
    { name: '4-octet AS capability of 2 octets', bytes: hex`${MARKER} 0023 01 | 04 fe3a 005a 0a000052 | 06 | 02 04 | 41 02 fe3a`, subcode: 0 },
  ];
  for (const c of cases)
    it(`${c.name} → 2/${c.subcode}`, async () => {
      const { peer, address } = await live.dial();
      peer.write(c.bytes);
      const n = await notified(peer);
      expect({ code: n.code, subcode: n.subcode }).toEqual({ code: 2, subcode: c.subcode });
      if (c.data !== undefined) expect(n.data.toString('hex')).toBe(c.data);
      expect(live.daemon.peer(address)?.state ?? 'removed').not.toBe('Established');
    });

  it('an unknown but well-formed capability is ignored (RFC 5492 §4): the session comes up', async () => {
    const { peer, address } = await live.dial();
    peer.write(hex`${MARKER} 0033 01 | 04 fe3a 005a 0a000052 | 16 # 22 octets of parameters
      02 14 | 01 04 00010001      # multiprotocol IPv4 unicast
              41 04 0000fe3a      # 4-octet AS 65082
              c8 06 deadbeef0102  # capability 200, 6 octets of whatever`);
    peer.sendKeepalive();
    await until(() => live.daemon.peer(address)?.state === 'Established', 3000, 'Established');
    peer.destroy();
  });

  it('30 OPENs with random capability bytes: Established or an OPEN Message Error, never a hang', async () => {
    const r = prng(0x0be1_ca95);
    const outcomes = { established: 0, refused: 0 };
    for (let i = 0; i < 30; i++) {
      // Half raw bytes, half well-framed capabilities (code, exact length, random value).
      const caps = r.int(2)
        ? r.bytes(1 + r.int(40))
        : Buffer.concat(
            Array.from({ length: 1 + r.int(3) }, () => {
              const value = r.bytes(r.int(8));
              return Buffer.concat([Buffer.from([r.pick([1, 2, 6, 64, 65, 69, 70, 73, 128 + r.int(127)]), value.length]), value]);
            }),
          );
      const param = Buffer.concat([Buffer.from([2, caps.length]), caps]);
      const body = Buffer.concat([hex`04 fe3a 005a 0a000052`, Buffer.from([param.length]), param]);
      const { peer, address } = await live.dial();
      peer.write(message(1, body));
      peer.sendKeepalive();
      await until(() => live.daemon.peer(address)?.state === 'Established' || peer.received.some((m) => m.type === 'notification'), 3000, `case ${i} decided`);
      const n = peer.received.find((m) => m.type === 'notification');
      if (n) expect(n.code, `case ${i}: ${caps.toString('hex')}`).toBe(2);
      outcomes[n ? 'refused' : 'established']++;
      peer.destroy();
    }
    // Both outcomes occur: the fuzzer reaches past the capability parser.
    expect(outcomes.established).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

describe('ROUTE-REFRESH with enhanced route refresh negotiated (RFC 7313)', () => {
  const CAPS = [
    { kind: 'multiprotocol' as const, code: 1 as const, afi: 1, safi: 1 },
    { kind: 'route-refresh' as const, code: 2 as const },
    { kind: 'enhanced-route-refresh' as const, code: 70 as const },
    { kind: 'four-octet-as' as const, code: 65 as const, asn: 65082 },
  ];

  it('a BoRR of 24 octets → 7/1 Invalid Message Length, data = the whole message (§5)', async () => {
    // Regression: the negotiated CodecContext never carried enhancedRouteRefresh, so this got 1/2.
    const { peer } = await live.established(CAPS);
    const bad = hex`${MARKER} 0018 05 | 0001 01 01 | 00 # AFI 1, subtype 1 (BoRR), SAFI 1, one octet too many`;
    peer.write(bad);
    const n = await notified(peer);
    expect({ code: n.code, subcode: n.subcode, data: n.data.toString('hex') }).toEqual({ code: 7, subcode: 1, data: bad.toString('hex') });
  });

  it('with an unknown message subtype 9: ignored, the session stays (§5)', async () => {
    const { peer, address } = await live.established(CAPS);
    peer.write(hex`${MARKER} 0017 05 | 0001 09 01 # AFI 1, subtype 9, SAFI 1`);
    peer.write(hex`${MARKER} 0017 05 | 0001 00 01 # a normal request after it`);
    await until(() => peer.received.some((m) => m.type === 'update'), 3000, 'the re-advertisement (at least End-of-RIB)');
    expect(peer.received.some((m) => m.type === 'notification')).toBe(false);
    expect(live.daemon.peer(address)?.state).toBe('Established');
    peer.destroy();
  });
});

describe('a second connection from an Established peer (RFC 4271 §6.8)', () => {
  for (const id of ['01000000', 'fe000000'])
    it(`with BGP Identifier ${id}: the Established session and its route stay, the new connection is refused`, async () => {
      const { peer, address } = await live.established();
      peer.write(hex`${MARKER} 002f 02 | 0000 0014 | 40 01 01 00 | 40 02 06 02 01 0000fe3a | 40 03 04 ${address.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')} | 18 0a6e05 # 10.110.5.0/24`);
      await until(() => live.daemon.rib.locRib.best(k('10.110.5.0/24'))?.peer.address === address, 2000, 'route in');
      const second = await RawPeer.connect('127.0.0.81', live.daemon.listenPort!, address);
      second.write(hex`${MARKER} 0025 01 | 04 fe3a 005a ${id} | 08 | 02 06 | 41 04 0000fe3a`);
      second.sendKeepalive();
      await until(() => second.closed, 3000, 'second connection closed');
      const n = second.received.find((m) => m.type === 'notification');
      expect(n && { code: n.code, subcode: n.subcode }).toEqual({ code: 6, subcode: 7 }); // Cease / Connection Collision Resolution
      expect(peer.closed).toBe(false);
      expect(peer.received.some((m) => m.type === 'notification')).toBe(false);
      expect(live.daemon.peer(address)?.state).toBe('Established');
      expect(live.daemon.rib.locRib.best(k('10.110.5.0/24'))?.peer.address).toBe(address);
      peer.destroy();
    });
});

describe('messages out of order: FSM Error with the RFC 6608 subcode', () => {
  it('KEEPALIVE before OPEN (OpenSent) → 5/1', async () => {
    const { peer } = await live.dial();
    peer.sendKeepalive();
    expect(await notified(peer)).toMatchObject({ code: 5, subcode: 1 });
  });

  it('ROUTE-REFRESH before OPEN (OpenSent) → 5/1', async () => {
    const { peer } = await live.dial();
    peer.write(hex`${MARKER} 0017 05 | 0001 00 01`);
    expect(await notified(peer)).toMatchObject({ code: 5, subcode: 1 });
  });

  it('UPDATE in OpenConfirm → 5/2', async () => {
    const { peer, address } = await live.dial();
    peer.write(hex`${MARKER} 0025 01 | 04 fe3a 005a 0a000052 | 08 | 02 06 | 41 04 0000fe3a`);
    await peer.waitFor('keepalive'); // the daemon accepted the OPEN: OpenConfirm
    expect(live.daemon.peer(address)?.state).toBe('OpenConfirm');
    peer.write(hex`${MARKER} 0017 02 | 0000 0000 # an empty UPDATE`);
    expect(await notified(peer)).toMatchObject({ code: 5, subcode: 2 });
  });

  it('a second OPEN when Established → 5/3', async () => {
    const { peer } = await live.established();
    peer.write(encodeMessage({ type: 'open', version: 4, myAs: 65082, holdTime: 90, bgpId: 0x0a000052, capabilities: [] }, FUZZ_CTX));
    expect(await notified(peer)).toMatchObject({ code: 5, subcode: 3 });
  });
});
