// Wire robustness against a live daemon, part 4: input that is valid but grows
// on the way out. A 4-octet-AS peer sends a route whose AS_PATH of 4-octet
// ASNs nearly fills a 4096-octet UPDATE; re-advertised to the witness, a
// 2-octet-AS session (RFC 6793 §4.2.2: AS_PATH with AS_TRANS plus AS4_PATH),
// it would need more than 4096 octets. The daemon must never send a message
// longer than the session's maximum (RFC 4271 §4.1); the witness frames
// everything it receives at 4096 octets and stays Established. Also odd but
// legal or peer-fatal messages: NOTIFICATIONs with malformed shutdown
// communications or unknown codes (the session closes, no NOTIFICATION back,
// RFC 4271 §6.4), ROUTE-REFRESH for a family never negotiated (ignored, RFC
// 2918 §4), End-of-RIB for a family the peer did not negotiate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Live, k, until } from './live.js';
import { hex } from '../helpers/hex.js';
import { AS_PATH, baseUpdate, updateMessage } from './update-builder.js';
import { message } from './live.js';

let live: Live;
beforeAll(async () => {
  live = await Live.start({ address: '127.0.0.111', range: '127.4.0.0/16' });
});
afterAll(async () => live?.stop());

/** AS_SEQUENCE segments of 4-octet ASNs 4200000000 + i, 250 per segment. */
function longPath(count: number): Buffer {
  const segs: Buffer[] = [];
  for (let i = 0; i < count; i += 250) {
    const n = Math.min(250, count - i);
    const seg = Buffer.alloc(2 + 4 * n);
    seg[0] = 2; // AS_SEQUENCE
    seg[1] = n;
    for (let j = 0; j < n; j++) seg.writeUInt32BE(i + j === 0 ? 65082 : 4_200_000_000 + i + j, 2 + 4 * j);
    segs.push(seg);
  }
  return Buffer.concat(segs);
}

describe('routes that outgrow the receiving session', () => {
  it('an AS_PATH of 900 4-octet ASNs: accepted, and withdrawn from a 2-octet-AS peer it no longer fits (never an oversized message)', async () => {
    const { peer, address } = await live.established();
    // First the route with a short path: the witness is sent it.
    peer.write(updateMessage(baseUpdate(address, ['10.110.0.0/24'])));
    await until(() => live.witnessHas('10.110.0.0/24'), 3000, 'the short-path route at the witness');
    const out = () => live.daemon.rib.peerState(live.witnessAddress)!.out!.adjRibOut.stats();
    const oversizedBefore = out().oversized;

    // Then the same prefix with the long path: 4-octet ASNs, Extended Length.
    const u = baseUpdate(address, ['10.110.0.0/24']);
    const asPath = u.attrs.find((a) => a.code === AS_PATH)!;
    asPath.flags = 0x50;
    asPath.value = longPath(900);
    const bytes = updateMessage(u);
    expect(bytes.length).toBeLessThanOrEqual(4096);
    expect(bytes.length).toBeGreaterThan(3600);
    peer.write(bytes);
    peer.write(updateMessage(baseUpdate(address, ['10.110.1.0/24']))); // a small route after it
    await until(() => (live.daemon.rib.locRib.best(k('10.110.0.0/24'))?.attrs.attrs.asPath?.[0]?.asns.length ?? 0) === 250, 3000, 'the long path best');
    await until(() => live.witnessHas('10.110.1.0/24'), 3000, 'the small route at the witness');
    // RFC 4271 §9.2: what cannot be sent is not advertised, and the old route is withdrawn.
    await until(() => !live.witnessHas('10.110.0.0/24'), 3000, 'the witness told the prefix is gone');
    expect(out().oversized).toBeGreaterThan(oversizedBefore);
    expect(live.witnessHealthy()).toBeUndefined();
    expect(live.daemon.peer(address)?.state).toBe('Established');
    peer.destroy();
  });
});

describe('odd messages from an Established peer', () => {
  const notifications: [string, Buffer][] = [
    ['Cease / Administrative Shutdown whose communication length overruns (RFC 8203 §2)', hex`06 02 | ff 6279 65 # claims 255 octets, has 3`],
    ['Cease / Administrative Shutdown with invalid UTF-8', hex`06 02 | 04 ff fe c0 80`],
    ['unknown error code 99 with 4000 octets of data', Buffer.concat([hex`63 07`, Buffer.alloc(4000, 0xab)])],
    ['no subcode at all (a 20-octet NOTIFICATION)', hex`06`],
  ];
  for (const [name, body] of notifications)
    it(`NOTIFICATION ${name}: the session closes quietly, the daemon carries on`, async () => {
      const { peer, address } = await live.established();
      peer.write(updateMessage(baseUpdate(address, ['10.111.0.0/24'])));
      await until(() => live.daemon.rib.locRib.best(k('10.111.0.0/24')) !== undefined, 2000, 'route in');
      peer.write(message(3, body));
      await until(() => live.daemon.peer(address) === undefined && live.daemon.rib.locRib.best(k('10.111.0.0/24')) === undefined, 3000, 'session and route gone');
      // No NOTIFICATION in answer to a NOTIFICATION (RFC 4271 §6.4); a header error for the short one is allowed.
      const answers = peer.received.filter((m) => m.type === 'notification');
      if (body.length >= 2) expect(answers).toEqual([]);
      else expect(answers.every((n) => n.code === 1)).toBe(true);
      expect(live.witnessHealthy()).toBeUndefined();
      peer.destroy();
    });

  it('ROUTE-REFRESH for AFI 99 and End-of-RIB for IPv6 without IPv6: ignored, the session stays', async () => {
    const { peer, address } = await live.established([
      { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
      { kind: 'route-refresh', code: 2 },
      { kind: 'four-octet-as', code: 65, asn: 65082 },
    ]);
    peer.write(hex`ffffffff ffffffff ffffffff ffffffff 0017 05 | 0063 00 01 # ROUTE-REFRESH AFI 99 SAFI 1`);
    peer.write(hex`ffffffff ffffffff ffffffff ffffffff 001d 02 | 0000 0006 | 80 0f 03 0002 01 # End-of-RIB IPv6 unicast`);
    peer.write(updateMessage(baseUpdate(address, ['10.111.1.0/24'])));
    await until(() => live.daemon.rib.locRib.best(k('10.111.1.0/24')) !== undefined, 2000, 'a later route taken');
    expect(peer.received.some((m) => m.type === 'notification')).toBe(false);
    expect(live.daemon.peer(address)?.state).toBe('Established');
    expect(live.witnessHealthy()).toBeUndefined();
    peer.destroy();
  });
});
