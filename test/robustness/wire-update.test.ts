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
import { decodeMessage } from '../../src/bgp/wire/index.js';
import type { RawPeer } from '../bgp/session/raw-peer.js';
import { FUZZ_CTX, Live, k, until } from './live.js';
import { prng, type Prng } from './prng.js';
import { AGGREGATOR, AS_PATH, COMMUNITIES, MED, MP_REACH, NEXT_HOP, ORIGIN, baseUpdate, nlriBytes, updateMessage, type RawUpdate } from './update-builder.js';

let live: Live;
beforeAll(async () => {
  live = await Live.start({ address: '127.0.0.91', range: '127.2.0.0/16' });
});
afterAll(async () => live?.stop());
afterEach(() => expect(live.witnessHealthy()).toBeUndefined());

type Verdict = { reset: { code: number; subcodes: readonly number[] } } | { withdraw: true } | { keep: (attrs: Record<string, unknown>) => void };
let n = 0;

interface Case {
  peer: RawPeer;
  address: string;
  p: string;
  s: string;
  v6: boolean;
}

/** A fresh Established fuzz peer whose prefix P is in the daemon's RIB (and the witness's view, for IPv4). */
async function setUp(v6: boolean): Promise<Case> {
  const i = n++;
  const { peer, address } = await live.established();
  const p = v6 ? `fd00:100:0:${i.toString(16)}::/64` : `10.100.${i}.0/24`;
  const s = `10.101.${i}.0/24`;
  peer.write(updateMessage(baseUpdate(address, [p], v6 ? { prefix: p } : undefined)));
  await until(() => live.daemon.rib.peerState(address)?.adjIn.get(k(p)) !== undefined, 2000, `P ${p} in the Adj-RIB-In`);
  if (!v6) await until(() => live.witnessHas(p), 2000, `P ${p} at the witness`);
  return { peer, address, p, s, v6 };
}

/** Sends `bad` then the sentinel; resolves once the daemon reset the session or took the sentinel. */
async function sendBad(c: Case, bad: Buffer): Promise<'reset' | 'kept'> {
  c.peer.write(bad);
  c.peer.write(updateMessage(baseUpdate(c.address, [c.s])));
  const adjIn = () => live.daemon.rib.peerState(c.address)?.adjIn;
  await until(() => c.peer.received.some((m) => m.type === 'notification') || adjIn()?.get(k(c.s)) !== undefined, 3000, 'reset or sentinel');
  return c.peer.received.some((m) => m.type === 'notification') ? 'reset' : 'kept';
}

async function expectVerdict(c: Case, bad: Buffer, v: Verdict, what: string): Promise<void> {
  const outcome = await sendBad(c, bad);
  if ('reset' in v) {
    expect(outcome, what).toBe('reset');
    const note = c.peer.received.find((m) => m.type === 'notification')!;
    expect(note.code, what).toBe(v.reset.code);
    expect(v.reset.subcodes, `${what}: subcode ${note.subcode}`).toContain(note.subcode);
    await until(() => c.peer.closed && live.daemon.rib.locRib.best(k(c.p)) === undefined, 2000, `${what}: P gone with the session`);
    if (!c.v6) await until(() => !live.witnessHas(c.p), 2000, `${what}: witness told P is gone`);
    return;
  }
  expect(outcome, what).toBe('kept');
  const path = live.daemon.rib.peerState(c.address)!.adjIn.get(k(c.p));
  if ('withdraw' in v) {
    expect(path, `${what}: P treated as withdrawn`).toBeUndefined();
    expect(live.daemon.rib.locRib.best(k(c.p)), what).toBeUndefined();
    if (!c.v6) await until(() => !live.witnessHas(c.p), 2000, `${what}: witness told P is gone`);
  } else {
    expect(path, `${what}: P kept`).toBeDefined();
    v.keep(path!.attrs.attrs as unknown as Record<string, unknown>);
    if (!c.v6) expect(live.witnessHas(c.p), what).toBe(true);
  }
  c.peer.destroy();
}

const withAttr = (u: RawUpdate, code: number, edit: (a: RawUpdate['attrs'][number]) => void): RawUpdate => {
  edit(u.attrs.find((a) => a.code === code)!);
  return u;
};
const without = (u: RawUpdate, code: number): RawUpdate => ({ ...u, attrs: u.attrs.filter((a) => a.code !== code) });
const RESET = (...subcodes: number[]) => ({ reset: { code: 3, subcodes } });
const WITHDRAW = { withdraw: true } as const;

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
      const c = await setUp(t.v6 === true);
      await expectVerdict(c, updateMessage(t.build(c)), t.verdict, t.name);
    });
});

/** One random mutation of a valid UPDATE; returns what it did. */
function mutate(u: RawUpdate, r: Prng, c: Case): string {
  const a = u.attrs.length > 0 ? r.pick(u.attrs) : undefined;
  switch (r.int(12)) {
    case 0: {
      if (!a) return 'none';
      const i = r.int(a.value.length + 1);
      if (i < a.value.length) a.value[i] = r.int(256);
      else a.flags = r.int(256) & ~0x10;
      return `byte ${i} of attribute ${a.code}`;
    }
    case 1:
      u.withdrawnLengthOverride = r.pick([1, 2, 5, 255, 65535]);
      return `withdrawn length ${u.withdrawnLengthOverride}`;
    case 2:
      u.attrLengthOverride = Math.max(0, u.attrs.reduce((s, x) => s + 3 + x.value.length, 0) + r.pick([-7, -3, -1, 1, 2, 40]));
      return `attribute list length ${u.attrLengthOverride}`;
    case 3:
      if (!a) return 'none';
      a.lengthOverride = Math.max(0, a.value.length + r.pick([-3, -1, 1, 2, 100]));
      return `attribute ${a.code} length ${a.lengthOverride} (has ${a.value.length})`;
    case 4:
      if (!a) return 'none';
      u.attrs.splice(r.int(u.attrs.length + 1), 0, { ...a, value: Buffer.from(a.value) });
      return `attribute ${a.code} twice`;
    case 5:
      if (!a) return 'none';
      a.flags ^= r.pick([0x80, 0x40, 0x20, 0xe0]);
      return `attribute ${a.code} flags 0x${a.flags.toString(16)}`;
    case 6:
      u.attrs.find((x) => x.code === ORIGIN)!.value = r.int(3) ? Buffer.from([3 + r.int(253)]) : Buffer.alloc(r.pick([0, 2]));
      return 'ORIGIN value or length';
    case 7: {
      const asp = u.attrs.find((x) => x.code === AS_PATH)!;
      asp.value = r.pick([Buffer.from([r.pick([0, 5, 6, 255]), 1, 0, 0, 0xfe, 0x3a]), Buffer.from([2, r.pick([0, 2, 255]), 0, 0, 0xfe, 0x3a]), Buffer.from([2]), r.bytes(r.int(10))]);
      return `AS_PATH ${asp.value.toString('hex')}`;
    }
    case 8: {
      const mp = u.attrs.find((x) => x.code === MP_REACH);
      if (!mp) return 'none';
      if (r.int(2)) mp.value.writeUInt16BE(r.pick([0, 1, 3, 25, 9999, 65535]), 0);
      else mp.value[3] = r.pick([0, 4, 5, 15, 17, 31, 33, 255]);
      return `MP_REACH AFI ${mp.value.readUInt16BE(0)} next hop length ${mp.value[3]}`;
    }
    case 9:
      u.nlri = Buffer.concat([u.nlri, Buffer.from([33 + r.int(223)]), r.bytes(r.int(6))]);
      return 'NLRI length > 32';
    case 10:
      u.attrs.splice(r.int(u.attrs.length + 1), 0, { flags: r.pick([0x40, 0x80, 0xc0, 0xe0, 0x00]), code: r.int(256), value: r.bytes(r.int(12)) });
      return 'a random attribute';
    default:
      u.attrs = u.attrs.filter((x) => x !== a);
      return `attribute ${a?.code} removed (${c.v6 ? 'IPv6' : 'IPv4'})`;
  }
}

describe('random mutations of a valid UPDATE: the verdict the codec states, carried out by the daemon', () => {
  it('120 mutated UPDATEs: session reset with the RFC 7606 subcodes, treat-as-withdraw, or kept; never a crash or a stuck session', async () => {
    const r = prng(0x7606_0001);
    const seen = { reset: 0, withdraw: 0, kept: 0 };
    for (let i = 0; i < 120; i++) {
      const v6 = r.int(3) === 0;
      const c = await setUp(v6);
      const u = baseUpdate(c.address, [c.p], v6 ? { prefix: c.p } : undefined);
      const what = `case ${i} (${c.p}): ${mutate(u, r, c)}${r.int(4) === 0 ? '; ' + mutate(u, r, c) : ''}`;
      const bad = updateMessage(u);
      const oracle = decodeMessage(bad, FUZZ_CTX);
      if (!oracle.ok) {
        // RFC 7606: a session reset only where the NLRI cannot be found or trusted:
        // Malformed Attribute List, Unrecognized Well-known, Optional Attribute Error (MP_*), Invalid Network Field.
        expect([1, 2, 9, 10], `${what}: ${oracle.error.reason}`).toContain(oracle.error.subcode);
        await expectVerdict(c, bad, RESET(oracle.error.subcode), `${what}: ${oracle.error.reason}`);
        const note = c.peer.received.find((m) => m.type === 'notification')!;
        expect(note.data.toString('hex'), what).toBe(oracle.error.data.toString('hex'));
        seen.reset++;
        continue;
      }
      if (oracle.value.type !== 'update') throw new Error(`${what}: decoded as ${oracle.value.type}`);
      const d = oracle.value;
      const announced = [...d.update.nlri.prefixes, ...(d.update.attributes.mpReach?.nlri.prefixes ?? [])];
      const carriesP = announced.includes(k(c.p));
      if (d.treatAsWithdraw || !carriesP) {
        // P is withdrawn (treat-as-withdraw) or, when the mutation moved it out of the NLRI, simply left as it was.
        const outcome = await sendBad(c, bad);
        expect(outcome, what).toBe('kept');
        const adjIn = live.daemon.rib.peerState(c.address)!.adjIn;
        if (d.treatAsWithdraw) for (const p of announced) expect(adjIn.get(p), `${what}: ${d.treatAsWithdraw.reason}`).toBeUndefined();
        if (d.treatAsWithdraw && carriesP && !c.v6) await until(() => !live.witnessHas(c.p), 2000, `${what}: witness told P is gone`);
        if (d.treatAsWithdraw) seen.withdraw++;
        else seen.kept++;
        c.peer.destroy();
        continue;
      }
      await expectVerdict(c, bad, { keep: () => undefined }, `${what}: discarded ${d.discarded.map((e) => e.reason).join(', ')}`);
      seen.kept++;
    }
    // The fuzzer reaches every outcome.
    expect(seen.reset).toBeGreaterThan(10);
    expect(seen.withdraw).toBeGreaterThan(10);
    expect(seen.kept).toBeGreaterThan(5);
  }, 40_000);
});
