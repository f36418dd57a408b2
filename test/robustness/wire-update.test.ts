// Wire robustness against a live daemon, part 2: malformed UPDATEs (RFC 4271
// §6.3 as revised by RFC 7606). Each case dials a fresh fuzz peer, announces
// prefix P with a valid UPDATE (reaching the Loc-RIB and the witness), sends a
// broken UPDATE carrying P, then a valid sentinel UPDATE for S. The daemon
// must do what RFC 7606 asks: session reset (NOTIFICATION code 3 with the
// subcode and data; P leaves), treat-as-withdraw (P leaves the Adj-RIB-In and
// the witness is sent its withdrawal; the session stays and S arrives), or
// attribute discard (P stays, without the bad attribute). Named cases state
// the RFC's verdict; random mutations are judged by the codec's verdict
// (itself tested on RFC 7606 vectors in test/bgp/wire) and by invariants.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_CTX, Live, k, until } from './live.js';
import { prng } from './prng.js';
import { AGGREGATOR, AS_PATH, COMMUNITIES, MED, MP_REACH, NEXT_HOP, ORIGIN, baseUpdate, nlriBytes, updateMessage, type RawUpdate } from './update-builder.js';
import { RESET, UpdateFuzz, WITHDRAW, type Case, type Verdict } from './update-fuzz.js';

let live: Live;
let fuzz: UpdateFuzz;
beforeAll(async () => {
  live = await Live.start({ address: '127.0.0.91', range: '127.2.0.0/16' });
  fuzz = new UpdateFuzz(live, FUZZ_CTX);
});
afterAll(async () => live?.stop());
afterEach(() => expect(live.witnessHealthy()).toBeUndefined());

const withAttr = (u: RawUpdate, code: number, edit: (a: RawUpdate['attrs'][number]) => void): RawUpdate => {
  edit(u.attrs.find((a) => a.code === code)!);
  return u;
};
const without = (u: RawUpdate, code: number): RawUpdate => ({ ...u, attrs: u.attrs.filter((a) => a.code !== code) });

describe('malformed UPDATEs with the RFC 7606 verdict stated', () => {
  const named: { name: string; v6?: boolean; build: (c: Case) => RawUpdate; verdict: Verdict }[] = [
    { name: 'ORIGIN value 3 (§7.1)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), ORIGIN, (a) => (a.value = Buffer.from([3]))), verdict: WITHDRAW },
    { name: 'ORIGIN of 2 octets (§7.1)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), ORIGIN, (a) => (a.value = Buffer.from([0, 0]))), verdict: WITHDRAW },
    { name: 'ORIGIN with the Optional bit (§3 c)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), ORIGIN, (a) => (a.flags = 0xc0)), verdict: WITHDRAW },
    { name: 'AS_PATH segment type 5 (§7.2)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), AS_PATH, (a) => (a.value = Buffer.from('0501' + '0000fe3a', 'hex'))), verdict: WITHDRAW },
    { name: 'AS_PATH segment count overruns (§7.2)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), AS_PATH, (a) => (a.value = Buffer.from('0202' + '0000fe3a', 'hex'))), verdict: WITHDRAW },
    { name: 'NEXT_HOP of 5 octets (§7.3)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), NEXT_HOP, (a) => (a.value = Buffer.concat([a.value, Buffer.from([0])]))), verdict: WITHDRAW },
    { name: 'MED of 3 octets (§7.4)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), MED, (a) => (a.value = Buffer.from('000064', 'hex'))), verdict: WITHDRAW },
    { name: 'COMMUNITIES of 5 octets (§7.8)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), COMMUNITIES, (a) => (a.value = Buffer.from('fe3a000100', 'hex'))), verdict: WITHDRAW },
    { name: 'AS_PATH missing (§3 d)', build: (c) => without(baseUpdate(c.address, [c.p]), AS_PATH), verdict: WITHDRAW },
    { name: 'NEXT_HOP missing with IPv4 NLRI (§3 d)', build: (c) => without(baseUpdate(c.address, [c.p]), NEXT_HOP), verdict: WITHDRAW },
    {
      name: 'a second ORIGIN (§3 g: the first is kept)',
      build: (c) => {
        const u = baseUpdate(c.address, [c.p]);
        u.attrs.push({ flags: 0x40, code: ORIGIN, value: Buffer.from([2]) });
        return u;
      },
      verdict: { keep: (a) => expect(a.origin).toBe(0) },
    },
    { name: 'AGGREGATOR of 7 octets (§7.7: discarded)', build: (c) => withAttr(baseUpdate(c.address, [c.p]), AGGREGATOR, (a) => (a.value = a.value.subarray(0, 7))), verdict: { keep: (a) => expect(a.aggregator).toBeUndefined() } },
    {
      name: 'ATOMIC_AGGREGATE of 1 octet (§7.6: discarded)',
      build: (c) => {
        const u = baseUpdate(c.address, [c.p]);
        u.attrs.push({ flags: 0x40, code: 6, value: Buffer.from([1]) });
        return u;
      },
      verdict: { keep: (a) => expect(a.atomicAggregate).toBeFalsy() },
    },
    { name: 'NLRI length 33 (§5.3: Invalid Network Field)', build: (c) => ({ ...baseUpdate(c.address, [c.p]), nlri: Buffer.concat([nlriBytes(c.p), Buffer.from('21' + '0a640000' + '00', 'hex')]) }), verdict: RESET(10) },
    { name: 'withdrawn route length 33 (§5.3)', build: (c) => ({ ...baseUpdate(c.address, []), withdrawn: Buffer.from('21' + '0a640000' + '00', 'hex') }), verdict: RESET(10) },
    { name: 'Total Path Attribute Length overruns the message (RFC 4271 §6.3)', build: (c) => ({ ...baseUpdate(c.address, [c.p]), attrLengthOverride: 200 }), verdict: RESET(1) },
    { name: 'Withdrawn Routes Length overruns the message', build: (c) => ({ ...baseUpdate(c.address, [c.p]), withdrawnLengthOverride: 300 }), verdict: RESET(1) },
    { name: 'unrecognized well-known attribute 99 (RFC 4271 §6.3)', build: (c) => ({ ...baseUpdate(c.address, [c.p]), attrs: [...baseUpdate(c.address, [c.p]).attrs, { flags: 0x40, code: 99, value: Buffer.from('00', 'hex') }] }), verdict: RESET(2) },
    {
      name: 'MP_REACH_NLRI twice (§3 g)',
      v6: true,
      build: (c) => {
        const u = baseUpdate(c.address, [], { prefix: c.p });
        u.attrs.push({ ...u.attrs[0]! });
        return u;
      },
      verdict: RESET(1),
    },
    { name: 'MP_REACH_NLRI next hop length 5 (§7.11)', v6: true, build: (c) => withAttr(baseUpdate(c.address, [], { prefix: c.p }), MP_REACH, (a) => (a.value[3] = 5)), verdict: RESET(1, 9) },
    { name: 'MP_REACH_NLRI IPv6 prefix length 129 (§5.3)', v6: true, build: (c) => withAttr(baseUpdate(c.address, [], { prefix: c.p }), MP_REACH, (a) => (a.value[21] = 129)), verdict: RESET(1, 9, 10) },
    {
      name: 'MP_REACH_NLRI for AFI 9999 (RFC 4760 §7: not carried, dropped) beside valid IPv4 NLRI',
      build: (c) => {
        const u = baseUpdate(c.address, [c.p]);
        u.attrs.unshift({ flags: 0x80, code: MP_REACH, value: Buffer.from('270f' + '01' + '04' + '0a000052' + '00' + '180a6400', 'hex') });
        return u;
      },
      verdict: { keep: (a) => expect(a.mpReach).toBeUndefined() },
    },
  ];
  for (const t of named)
    it(t.name, async () => {
      const c = await fuzz.setUp(t.v6 === true);
      await fuzz.expectVerdict(c, updateMessage(t.build(c)), t.verdict, t.name);
    });
});

describe('random mutations of a valid UPDATE: the verdict the codec states, carried out by the daemon', () => {
  it('120 mutated UPDATEs: session reset with the RFC 7606 subcodes, treat-as-withdraw, or kept; never a crash or a stuck session', async () => {
    const seen = await fuzz.runRandom(prng(0x7606_0001), 120);
    // The fuzzer reaches every outcome.
    expect(seen.reset).toBeGreaterThan(10);
    expect(seen.withdraw).toBeGreaterThan(10);
    expect(seen.kept).toBeGreaterThan(5);
  }, 40_000);
});

describe("a broken UPDATE takes only its own sender's path", () => {
  for (const kind of ['treat-as-withdraw', 'session reset'] as const)
    it(`${kind} from one peer leaves another peer's path for the same prefix best, and the witness keeps the prefix`, async () => {
      const a = await fuzz.setUp(false);
      const b = await live.established();
      b.peer.write(updateMessage(baseUpdate(b.address, [a.p])));
      await until(() => live.daemon.rib.peerState(b.address)?.adjIn.get(k(a.p)) !== undefined, 2000, 'the second path');
      const from = live.witness.received.length;
      const bad = baseUpdate(a.address, [a.p]);
      if (kind === 'treat-as-withdraw') bad.attrs.find((x) => x.code === ORIGIN)!.value = Buffer.from([5]); // RFC 7606 §7.1
      else bad.nlri = Buffer.concat([bad.nlri, Buffer.from('28', 'hex')]); // NLRI length 40: §5.3, reset
      expect(await fuzz.sendBad(a, updateMessage(bad))).toBe(kind === 'treat-as-withdraw' ? 'kept' : 'reset');
      await until(() => live.daemon.rib.locRib.best(k(a.p))?.peer.address === b.address, 2000, 'the other path best');
      // The witness is never told the prefix is gone: at most its path changes.
      await new Promise((r) => setTimeout(r, 100));
      const withdrawn = live.witness.received.slice(from).some((m) => m.type === 'update' && m.update.withdrawn.prefixes.includes(k(a.p)));
      expect(withdrawn).toBe(false);
      expect(live.witnessHas(a.p)).toBe(true);
      a.peer.destroy();
      b.peer.destroy();
    });
});
