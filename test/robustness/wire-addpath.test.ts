// Wire robustness against a live daemon, part 6: the UPDATE fuzzer of
// wire-update on sessions that negotiated ADD-PATH receive for IPv4 and IPv6
// unicast (RFC 7911): every NLRI entry, plain and in MP_REACH_NLRI, carries a
// 4-octet Path Identifier, so the same mutations land on other offsets. Plus
// the cases particular to ADD-PATH: an NLRI cut inside its Path Identifier
// (RFC 7606 §5.3: session reset, Invalid Network Field), and two paths of one
// prefix where only the path of the broken UPDATE is treated as withdrawn.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CodecContext } from '../../src/bgp/wire/types.js';
import { FUZZ_CAPS, Live, k, until } from './live.js';
import { prng } from './prng.js';
import { ORIGIN, baseUpdate, updateMessage } from './update-builder.js';
import { RESET, UpdateFuzz } from './update-fuzz.js';

const PATH_ID = 7;
const ADD_PATH_CTX: CodecContext = {
  fourOctetAs: true,
  extendedMessage: false,
  addPathReceive: { 'ipv4-unicast': true, 'ipv6-unicast': true },
  addPathSend: { 'ipv4-unicast': false, 'ipv6-unicast': false },
};
const CAPS = [
  ...FUZZ_CAPS,
  // We send Path Identifiers (mode send); the daemon receives them.
  { kind: 'add-path' as const, code: 69 as const, families: [{ afi: 1, safi: 1, mode: 'send' as const }, { afi: 2, safi: 1, mode: 'send' as const }] },
];

let live: Live;
let fuzz: UpdateFuzz;
beforeAll(async () => {
  live = await Live.start({ address: '127.0.0.141', range: '127.6.0.0/16', rangeExtra: 'addPath: both' });
  fuzz = new UpdateFuzz(live, ADD_PATH_CTX, PATH_ID, CAPS);
});
afterAll(async () => live?.stop());
afterEach(() => expect(live.witnessHealthy()).toBeUndefined());

describe('UPDATE fuzzing with ADD-PATH (RFC 7911)', () => {
  it('the session negotiates ADD-PATH receive for both families', async () => {
    const c = await fuzz.setUp(false);
    expect(live.daemon.peer(c.address)?.session?.codec.addPathReceive).toEqual({ 'ipv4-unicast': true, 'ipv6-unicast': true });
    c.peer.destroy();
  });

  it('an NLRI cut inside its Path Identifier: session reset, Invalid Network Field', async () => {
    const c = await fuzz.setUp(false);
    const u = baseUpdate(c.address, [c.p], undefined, PATH_ID);
    u.nlri = Buffer.concat([u.nlri, Buffer.from('000000', 'hex')]); // 3 of a Path Identifier's 4 octets
    await fuzz.expectVerdict(c, updateMessage(u), RESET(10), 'truncated Path Identifier');
  });

  it('two paths of one prefix: only the path of the broken UPDATE is treated as withdrawn', async () => {
    const c = await fuzz.setUp(false); // path 7 of P
    c.peer.write(updateMessage(baseUpdate(c.address, [c.p], undefined, 8))); // path 8 of P
    await until(() => fuzz.adjIn(c.address)!.paths(k(c.p)).length === 2, 2000, 'two paths');
    const bad = baseUpdate(c.address, [c.p], undefined, 8);
    bad.attrs.find((a) => a.code === ORIGIN)!.value = Buffer.from([9]); // RFC 7606 §7.1
    expect(await fuzz.sendBad(c, updateMessage(bad))).toBe('kept');
    expect(fuzz.adjIn(c.address)!.paths(k(c.p)).map((p) => p.pathId)).toEqual([PATH_ID]);
    expect(live.daemon.rib.locRib.best(k(c.p))?.peer.address).toBe(c.address);
    c.peer.destroy();
  });

  it('80 mutated ADD-PATH UPDATEs: reset with the RFC 7606 subcodes, treat-as-withdraw, or kept', async () => {
    const seen = await fuzz.runRandom(prng(0x7911_0001), 80);
    expect(seen.reset).toBeGreaterThan(5);
    expect(seen.withdraw).toBeGreaterThan(5);
    expect(seen.kept).toBeGreaterThan(3);
  }, 40_000);
});
