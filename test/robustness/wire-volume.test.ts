// Wire robustness against a live daemon, part 5: volume in the shapes a peer
// can legally send. (1) With extended messages negotiated (RFC 8654), a peer
// sends UPDATEs of up to 65,535 octets holding ~16,000 prefixes each; the
// witness, without extended messages, must get every route split into
// messages of at most 4096 octets, and stay Established. (2) A peer that stops
// reading its socket while 50,000 routes are exported: the daemon keeps
// serving the witness (a slow peer never blocks the others, DESIGN.md Output)
// and, once the slow peer reads again, it gets every route too. (3) 200
// connections that stall inside a header (slowloris) hold up nobody and
// leave no sessions behind once closed; neither does connection churn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capability } from '../../src/bgp/wire/types.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { FUZZ_CAPS, Live, k } from './live.js';
import { baseUpdate, updateMessage, type RawUpdate } from './update-builder.js';

let live: Live;
beforeAll(async () => {
  live = await Live.start({ address: '127.0.0.121', range: '127.5.0.0/16' });
});
afterAll(async () => live?.stop());

const EXTENDED: readonly Capability[] = [...FUZZ_CAPS, { kind: 'extended-message', code: 6 }];

/** Polls `cond` while checking the witness on every round. */
async function whileWitnessHealthy(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    expect(live.witnessHealthy(), what).toBeUndefined();
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(live.witnessHealthy(), what).toBeUndefined();
}

/** /24s from 10.(base + i>>16 ...): 10.x.y.0/24 for i in [from, from + count). */
const v24 = (i: number) => `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`;

describe('volume a peer may legally send', () => {
  it('extended messages: five 65 kB UPDATEs of ~16,000 prefixes each reach a 4096-octet witness, split', async () => {
    const { peer, address } = await live.established(EXTENDED);
    const PER = 16_300;
    const msgs: Buffer[] = [];
    for (let m = 0; m < 5; m++) {
      const u: RawUpdate = baseUpdate(address, []);
      u.attrs = u.attrs.filter((a) => a.code <= 3);
      const nlri = Buffer.alloc(PER * 4);
      for (let j = 0; j < PER; j++) {
        const i = 0x300000 + m * PER + j; // 58.x.y.0/24 onwards: clear of the other tests' prefixes
        nlri[j * 4] = 24;
        nlri[j * 4 + 1] = 10 + (i >> 16);
        nlri[j * 4 + 2] = (i >> 8) & 255;
        nlri[j * 4 + 3] = i & 255;
      }
      u.nlri = nlri;
      msgs.push(updateMessage(u));
    }
    expect(msgs.every((b) => b.length > 65_000 && b.length <= 65_535)).toBe(true);
    peer.write(Buffer.concat(msgs));
    const last = v24(0x300000 + 5 * PER - 1);
    await whileWitnessHealthy(() => live.daemon.rib.peerState(address)!.adjIn.size('ipv4-unicast') === 5 * PER, 15_000, 'every prefix in the Adj-RIB-In');
    await whileWitnessHealthy(() => live.witnessHas(last) && live.witnessHas(v24(0x300000)), 15_000, 'the first and last prefixes at the witness');
    expect(live.daemon.rib.locRib.best(k(last))?.peer.address).toBe(address);
    expect(live.daemon.peer(address)?.state).toBe('Established');
    peer.destroy();
    await whileWitnessHealthy(() => !live.witnessHas(last), 15_000, 'withdrawn at the witness when the peer left');
  }, 40_000);

  it('a peer that stops reading does not hold up the witness, and gets every route once it reads again', async () => {
    const slow = await live.established();
    slow.peer.socket.pause(); // reads nothing from now on: the daemon's writes back up
    const { peer, address } = await live.established();
    const COUNT = 50_000;
    const prefix = (i: number) => `10.60.${i >> 8}.${i & 255}/32`;
    const out: Buffer[] = [];
    for (let i = 0; i < COUNT; i++) {
      // A community of its own per route (transitive, so re-advertised): 50,000 attribute
      // sets, one UPDATE each on the way out (~3 MB per peer).
      const u = baseUpdate(address, [prefix(i)]);
      u.attrs = u.attrs.filter((a) => a.code <= 3 || a.code === 8);
      u.attrs.find((a) => a.code === 8)!.value.writeUInt32BE(0xfe3a0000 + i);
      out.push(updateMessage(u));
    }
    peer.write(Buffer.concat(out));
    await whileWitnessHealthy(() => live.witnessHas(prefix(COUNT - 1)) && live.witnessHas(prefix(0)), 20_000, 'the routes at the witness while one peer reads nothing');
    expect(live.daemon.peer(slow.address)?.state).toBe('Established');
    const seenBefore = slow.peer.received.length;
    slow.peer.socket.resume();
    const slowHas = (p: string) => {
      const key = k(p);
      let present = false;
      for (const m of slow.peer.received)
        if (m.type === 'update') {
          if (m.update.withdrawn.prefixes.includes(key)) present = false;
          if (m.update.nlri.prefixes.includes(key)) present = true;
        }
      return present;
    };
    await whileWitnessHealthy(() => slowHas(prefix(COUNT - 1)) && slowHas(prefix(0)), 20_000, 'the slow peer catches up');
    expect(slow.peer.received.length).toBeGreaterThan(seenBefore);
    expect(slow.peer.received.some((m) => m.type === 'notification')).toBe(false);
    peer.destroy();
    slow.peer.destroy();
  }, 60_000);

  it('200 connections that stall inside a header: others are still served, and the stalled sessions go when they close', async () => {
    const stalled = await Promise.all(Array.from({ length: 200 }, () => live.dial()));
    for (const { peer } of stalled) peer.write(Buffer.alloc(10, 0xff)); // 10 of 19 header octets, then nothing
    const fresh = await live.established();
    fresh.peer.write(updateMessage(baseUpdate(fresh.address, ['10.70.0.0/24'])));
    await whileWitnessHealthy(() => live.witnessHas('10.70.0.0/24'), 5000, 'a new peer served beside 200 stalled ones');
    expect(stalled.every(({ address }) => live.daemon.peer(address)?.state === 'OpenSent')).toBe(true);
    for (const { peer } of stalled) peer.destroy();
    await whileWitnessHealthy(() => stalled.every(({ address }) => live.daemon.peer(address) === undefined), 5000, 'stalled sessions removed');
    fresh.peer.destroy();
  });

  it('connection churn: 300 connect-and-close cycles (same and fresh addresses) leave only the witness session', async () => {
    const same = live.nextAddress();
    for (let i = 0; i < 300; i++) {
      const address = i % 2 === 0 ? same : live.nextAddress();
      const peer = await RawPeer.connect('127.0.0.121', live.daemon.listenPort!, address);
      if (i % 3 === 0) await peer.waitFor('open'); // some after the daemon's OPEN, some at once
      peer.destroy();
    }
    await whileWitnessHealthy(() => live.daemon.sessions().every((x) => x.address === live.witnessAddress), 5000, 'back to the witness alone');
  });
});
