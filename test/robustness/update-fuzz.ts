// The UPDATE fuzzing procedure shared by wire-update and wire-addpath: per
// case a fresh Established fuzz peer announces prefix P with a valid UPDATE,
// sends the broken one, then a valid sentinel S, and the daemon's handling is
// checked against a verdict: session reset (NOTIFICATION code and subcode, P
// gone from the Loc-RIB and the witness), treat-as-withdraw (P gone from the
// Adj-RIB-In and the witness, S taken) or keep (P still there, as checked).
import { expect } from 'vitest';
import { decodeMessage } from '../../src/bgp/wire/index.js';
import type { Capability, CodecContext } from '../../src/bgp/wire/types.js';
import type { RawPeer } from '../helpers/raw-peer.js';
import { FUZZ_CAPS, k, until, type Live } from './live.js';
import type { Prng } from './prng.js';
import { AS_PATH, MP_REACH, ORIGIN, baseUpdate, updateMessage, type RawUpdate } from './update-builder.js';

export type Verdict = { reset: { code: number; subcodes: readonly number[] } } | { withdraw: true } | { keep: (attrs: Record<string, unknown>) => void };
export const RESET = (...subcodes: number[]): Verdict => ({ reset: { code: 3, subcodes } });
export const WITHDRAW: Verdict = { withdraw: true };

export interface Case {
  peer: RawPeer;
  address: string;
  p: string;
  s: string;
  v6: boolean;
}

export class UpdateFuzz {
  private n = 0;
  constructor(
    readonly live: Live,
    readonly ctx: CodecContext,
    /** RFC 7911 Path Identifier on every NLRI, when ADD-PATH is negotiated. */
    readonly pathId?: number,
    readonly caps: readonly Capability[] = FUZZ_CAPS,
  ) {}

  base(c: Pick<Case, 'address' | 'v6'>, prefixes: readonly string[], v6prefix?: string): RawUpdate {
    return baseUpdate(c.address, prefixes, v6prefix ? { prefix: v6prefix } : undefined, this.pathId, !this.ctx.fourOctetAs);
  }

  /** A fresh Established fuzz peer whose prefix P is in the daemon's RIB (and the witness's view, for IPv4). */
  async setUp(v6: boolean): Promise<Case> {
    const i = this.n++;
    const { peer, address } = await this.live.established(this.caps);
    const p = v6 ? `fd00:100:0:${i.toString(16)}::/64` : `10.100.${i}.0/24`;
    const s = `10.101.${i}.0/24`;
    peer.write(updateMessage(this.base({ address, v6 }, v6 ? [] : [p], v6 ? p : undefined)));
    await until(() => this.adjIn(address)?.get(k(p), this.pathId ?? 0) !== undefined, 2000, `P ${p} in the Adj-RIB-In`);
    if (!v6) await until(() => this.live.witnessHas(p), 2000, `P ${p} at the witness`);
    return { peer, address, p, s, v6 };
  }

  adjIn(address: string) {
    return this.live.daemon.rib.peerState(address)?.adjIn;
  }

  /** Sends `bad` then the sentinel; resolves once the daemon reset the session or took the sentinel. */
  async sendBad(c: Case, bad: Buffer): Promise<'reset' | 'kept'> {
    c.peer.write(bad);
    c.peer.write(updateMessage(this.base(c, [c.s])));
    const noted = () => c.peer.received.some((m) => m.type === 'notification');
    await until(() => noted() || this.adjIn(c.address)?.get(k(c.s), this.pathId ?? 0) !== undefined, 3000, 'reset or sentinel');
    return noted() ? 'reset' : 'kept';
  }

  async expectVerdict(c: Case, bad: Buffer, v: Verdict, what: string): Promise<void> {
    const live = this.live;
    const outcome = await this.sendBad(c, bad);
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
    const path = this.adjIn(c.address)!.get(k(c.p), this.pathId ?? 0);
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

  /**
   * `count` seeded random mutations, each judged by the codec's verdict (itself
   * tested on RFC 7606 vectors in test/bgp/wire) and the RFC 7606 invariants.
   */
  async runRandom(r: Prng, count: number): Promise<{ reset: number; withdraw: number; kept: number }> {
    const seen = { reset: 0, withdraw: 0, kept: 0 };
    for (let i = 0; i < count; i++) {
      const v6 = r.int(3) === 0;
      const c = await this.setUp(v6);
      const u = this.base(c, v6 ? [] : [c.p], v6 ? c.p : undefined);
      const what = `case ${i} (${c.p}): ${mutate(u, r)}${r.int(4) === 0 ? '; ' + mutate(u, r) : ''}`;
      const bad = updateMessage(u);
      const oracle = decodeMessage(bad, this.ctx);
      if (!oracle.ok) {
        // RFC 7606: a session reset only where the NLRI cannot be found or trusted:
        // Malformed Attribute List, Unrecognized Well-known, Optional Attribute Error (MP_*), Invalid Network Field.
        expect([1, 2, 9, 10], `${what}: ${oracle.error.reason}`).toContain(oracle.error.subcode);
        await this.expectVerdict(c, bad, RESET(oracle.error.subcode), `${what}: ${oracle.error.reason}`);
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
        // P is withdrawn (treat-as-withdraw) or, when the mutation moved it out of the NLRI, left as it was.
        expect(await this.sendBad(c, bad), what).toBe('kept');
        const adjIn = this.adjIn(c.address)!;
        if (d.treatAsWithdraw) for (const p of announced) expect(adjIn.paths(p), `${what}: ${d.treatAsWithdraw.reason}`).toEqual([]);
        if (d.treatAsWithdraw && carriesP && !c.v6) await until(() => !this.live.witnessHas(c.p), 2000, `${what}: witness told P is gone`);
        if (d.treatAsWithdraw) seen.withdraw++;
        else seen.kept++;
        c.peer.destroy();
        continue;
      }
      await this.expectVerdict(c, bad, { keep: () => undefined }, `${what}: discarded ${d.discarded.map((e) => e.reason).join(', ')}`);
      seen.kept++;
    }
    return seen;
  }
}

/** One random mutation of a valid UPDATE; returns what it did. */
export function mutate(u: RawUpdate, r: Prng): string {
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
      return `attribute ${a?.code} removed`;
  }
}
