// Wire robustness against a live daemon, part 3: a message flood. One fuzz
// peer writes 50,000 small UPDATEs (one /32 each) in a single burst; the
// daemon must take every route while its witness peer, on a 3-second hold
// time, stays Established on its first session (the daemon's keepalives keep
// flowing and the witness's are read in time: DESIGN.md, event loop
// discipline). Then a burst of 20,000 UPDATEs with an invalid ORIGIN (RFC 7606
// §7.1, treat-as-withdraw) takes them all away again without a reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Live, k } from './live.js';
import { ORIGIN, baseUpdate, updateMessage } from './update-builder.js';

let live: Live;
beforeAll(async () => {
  live = await Live.start({ address: '127.0.0.101', range: '127.3.0.0/16' });
});
afterAll(async () => live?.stop());

const COUNT = 50_000;
const prefix = (i: number) => `10.50.${i >> 8}.${i & 255}/32`;

/** One small UPDATE per prefix: ORIGIN, AS_PATH, NEXT_HOP and a single /32. */
function burst(address: string, from: number, count: number, badOrigin = false): Buffer {
  const out: Buffer[] = [];
  for (let i = from; i < from + count; i++) {
    const u = baseUpdate(address, [prefix(i)]);
    u.attrs = u.attrs.filter((a) => a.code <= 3); // ORIGIN, AS_PATH, NEXT_HOP: 48 octets per message
    if (badOrigin) u.attrs[0] = { flags: 0x40, code: ORIGIN, value: Buffer.from([7]) };
    out.push(updateMessage(u));
  }
  return Buffer.concat(out);
}

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

describe('an UPDATE flood from one peer', () => {
  it(`${COUNT} UPDATEs in one burst: every route taken, the 3 s hold-time witness stays Established`, async () => {
    const { peer, address } = await live.established();
    const bytes = burst(address, 0, COUNT);
    expect(bytes.length).toBe(COUNT * 48);
    const keepalivesBefore = live.witness.received.filter((m) => m.type === 'keepalive').length;
    peer.write(bytes);
    const adjIn = () => live.daemon.rib.peerState(address)!.adjIn;
    await whileWitnessHealthy(() => adjIn().size('ipv4-unicast') === COUNT, 15_000, `${COUNT} routes in the Adj-RIB-In`);
    await whileWitnessHealthy(() => live.daemon.rib.locRib.best(k(prefix(COUNT - 1)))?.peer.address === address, 10_000, 'the last route best in the Loc-RIB');
    expect(live.daemon.peer(address)?.state).toBe('Established');
    expect(peer.received.some((m) => m.type === 'notification')).toBe(false);
    // The witness (eBGP) is sent every route.
    await whileWitnessHealthy(() => live.witnessHas(prefix(COUNT - 1)) && live.witnessHas(prefix(0)), 10_000, 'the routes at the witness');
    // The daemon's keepalives to the witness keep coming (every second on a 3 s hold time).
    await whileWitnessHealthy(() => live.witness.received.filter((m) => m.type === 'keepalive').length > keepalivesBefore, 2500, 'a keepalive to the witness');

    // 20,000 of them again with ORIGIN 7: each treated as withdraw, no reset.
    const half = 20_000;
    peer.write(burst(address, 0, half, true));
    await whileWitnessHealthy(() => adjIn().size('ipv4-unicast') === COUNT - half, 15_000, `${half} routes treated as withdrawn`);
    expect(adjIn().get(k(prefix(0)))).toBeUndefined();
    expect(adjIn().get(k(prefix(half - 1)))).toBeUndefined();
    expect(adjIn().get(k(prefix(half)))).toBeDefined();
    expect(live.daemon.peer(address)?.state).toBe('Established');
    expect(peer.received.some((m) => m.type === 'notification')).toBe(false);
    peer.destroy();
  }, 40_000);
});
