// GroupOut (src/rib/group-out.ts), the Adj-RIB-Out of one update group:
// coalescing of pending changes, duplicate suppression, withdraw only what the
// stream carried, one UPDATE per bucket, pull-based batches, End-of-RIB
// (RFC 4724 §2), and what only a group has: a bucket's exclusion (its source,
// RFC 4456 §8's ORIGINATOR_ID) on every message, withdrawals partitioned by
// it, and the targeted withdraw for a member that became a route's source.
// Every batch is decoded with the codec to see what a member would receive.
import { describe, expect, it } from 'vitest';
import { decodeUpdate } from '../../src/bgp/wire/update.js';
import { endOfRibFamily } from '../../src/bgp/wire/eor.js';
import { DEFAULT_CODEC_CONTEXT, type CodecContext, type Family, type PathAttributes, type PrefixKey } from '../../src/bgp/wire/types.js';
import { prefixToString, v4Key, v4KeyParse, v6KeyParse } from '../../src/lib/prefix.js';
import { AttrStore, type AttrSet } from '../../src/rib/attr-store.js';
import { GroupOut, receives, type Bucket, type Exclusion, type MemberId, type StreamItem } from '../../src/rib/group-out.js';
import { outKey } from '../../src/rib/update-packer.js';

const CTX: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
const ADDPATH: CodecContext = {
  ...CTX,
  addPathSend: { 'ipv4-unicast': true, 'ipv6-unicast': false },
  addPathReceive: { 'ipv4-unicast': true, 'ipv6-unicast': false },
};
const BOTH: Family[] = ['ipv4-unicast', 'ipv6-unicast'];

const A1: PathAttributes = { origin: 0, asPath: [], nextHop: '192.0.2.1', localPref: 100 };
const A2: PathAttributes = { origin: 0, asPath: [], nextHop: '192.0.2.2', localPref: 100 };
const V6: PathAttributes = {
  origin: 0,
  asPath: [],
  localPref: 100,
  mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::1', nlri: { family: 'ipv6-unicast', prefixes: [] } },
};

const P1 = v4KeyParse('10.244.1.0/26')!;
const P2 = v4KeyParse('10.244.2.0/26')!;
const P6 = v6KeyParse('2001:db8:1::/48')!;

/** Members, as the group sees them: address and BGP identifier. */
const M1: MemberId = { address: '10.0.0.11', bgpId: 0x0a00000b };
const M2: MemberId = { address: '10.0.0.12', bgpId: 0x0a00000c };
const M3: MemberId = { address: '10.0.0.13', bgpId: 0x0a00000d };
const FROM_M1: Exclusion = { address: M1.address, originatorId: undefined };
const FROM_M2: Exclusion = { address: M2.address, originatorId: undefined };

/** What a member sees: per message, announced prefixes with next hop, withdrawn prefixes, End-of-RIB. */
interface Seen {
  announced: string[];
  withdrawn: string[];
  eor?: Family;
  nextHop?: string;
  pathIds?: readonly number[];
}

function decode(m: Buffer, ctx: CodecContext = CTX) {
  const r = decodeUpdate(m.subarray(19), { ...ctx, addPathReceive: ctx.addPathSend });
  if (!r.ok) throw new Error(r.error.reason);
  return r.value.update;
}

function seen(items: readonly StreamItem[], ctx: CodecContext = CTX): Seen[] {
  return items.map(({ msg }) => {
    const u = decode(msg, ctx);
    const eor = endOfRibFamily(u);
    const a = u.attributes;
    const out: Seen = {
      announced: [...u.nlri.prefixes, ...(a.mpReach?.nlri.prefixes ?? [])].map(prefixToString),
      withdrawn: [...u.withdrawn.prefixes, ...(a.mpUnreach?.nlri.prefixes ?? [])].map(prefixToString),
    };
    if (eor) out.eor = eor;
    const nh = a.nextHop ?? a.mpReach?.nextHop;
    if (nh) out.nextHop = nh;
    const ids = u.nlri.prefixes.length > 0 ? u.nlri.pathIds : u.withdrawn.pathIds;
    if (ids) out.pathIds = ids;
    return out;
  });
}

/** A GroupOut with the caller's side of the contract: one interned reference per announce, one Bucket per (set, exclusion). */
class Group {
  readonly store = new AttrStore();
  readonly out: GroupOut;
  private readonly buckets = new Map<AttrSet, Map<Exclusion | undefined, Bucket>>();

  constructor(ctx: CodecContext = CTX, families: readonly Family[] = BOTH) {
    this.out = new GroupOut(this.store, ctx, families);
  }

  announce(prefix: PrefixKey, attrs: PathAttributes, opts: { pathId?: number; from?: Exclusion } = {}): void {
    const set = this.store.intern(attrs);
    let byEx = this.buckets.get(set);
    if (!byEx) this.buckets.set(set, (byEx = new Map()));
    let b = byEx.get(opts.from);
    if (!b) byEx.set(opts.from, (b = { set, ex: opts.from }));
    this.out.announce(prefix, b, opts.pathId ?? 0);
  }

  withdraw(prefix: PrefixKey, pathId = 0): void {
    this.out.withdraw(prefix, pathId);
  }

  take(maxMessages: number): StreamItem[] {
    const items: StreamItem[] = [];
    this.out.takeBatch(maxMessages, items);
    return items;
  }

  advertise(prefix: PrefixKey, attrs: PathAttributes, opts: { pathId?: number; from?: Exclusion } = {}): void {
    this.announce(prefix, attrs, opts);
    this.take(100);
  }

  advertisedSet(prefix: PrefixKey, pathId = 0): AttrSet | undefined {
    return this.out.advertised.get(outKey(prefix, pathId))?.set;
  }
}

describe('coalescing', () => {
  it('announce A1, A2 then withdraw of a carried prefix sends only the withdraw', () => {
    const g = new Group();
    g.advertise(P1, A1);
    g.announce(P1, A2);
    g.announce(P1, { ...A2, localPref: 200 });
    g.withdraw(P1);
    expect(g.out.pendingCount()).toBe(1);
    expect(seen(g.take(10))).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
    expect(g.out.advertised.size()).toBe(0);
  });

  it('announce then withdraw of a prefix never carried sends nothing and keeps no reference', () => {
    const g = new Group();
    g.announce(P1, A1);
    g.announce(P1, A2);
    g.withdraw(P1);
    expect(g.out.hasPending()).toBe(false);
    expect(g.take(10)).toEqual([]);
    expect(g.store.size()).toBe(0);
  });

  it('keeps only the latest pending attributes', () => {
    const g = new Group();
    g.announce(P1, A1);
    g.announce(P1, A2);
    expect(g.out.stats().groups).toBe(1);
    expect(seen(g.take(10))).toEqual([{ announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2' }]);
  });

  it('a prefix queued, moved to another bucket and queued again in the first goes out once', () => {
    const g = new Group();
    g.announce(P1, A1);
    g.announce(P2, A1);
    g.announce(P1, A2);
    g.announce(P1, A1); // P1 sits twice in A1's queue now; only the last state counts
    expect(g.out.pendingCount()).toBe(2);
    expect(seen(g.take(10))).toEqual([{ announced: ['10.244.1.0/26', '10.244.2.0/26'], withdrawn: [], nextHop: '192.0.2.1' }]);
    expect(g.out.hasPending()).toBe(false);
    expect(g.out.stats().groups).toBe(0);
    expect(g.store.size()).toBe(1); // A2's reference went with its cancelled announcement
  });

  it('a withdraw cancelled and queued again goes out once', () => {
    const g = new Group();
    g.advertise(P1, A1);
    g.withdraw(P1);
    g.announce(P1, A2);
    g.withdraw(P1);
    expect(seen(g.take(10))).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
    expect(g.out.advertised.size()).toBe(0);
    expect(g.out.hasPending()).toBe(false);
  });

  it('withdraw then re-announce of a carried prefix sends the new announcement only', () => {
    const g = new Group();
    g.advertise(P1, A1);
    g.withdraw(P1);
    g.announce(P1, A2);
    expect(seen(g.take(10))).toEqual([{ announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2' }]);
  });

  it('withdraw then re-announce of the carried attributes sends nothing', () => {
    const g = new Group();
    g.advertise(P1, A1);
    g.withdraw(P1);
    g.announce(P1, A1);
    expect(g.out.hasPending()).toBe(false);
    expect(g.take(10)).toEqual([]);
    expect(g.advertisedSet(P1)?.attrs.nextHop).toBe('192.0.2.1');
  });
});

describe('duplicates and withdraws', () => {
  it('suppresses an announcement equal to what the stream carried', () => {
    const g = new Group();
    g.advertise(P1, A1);
    g.announce(P1, { ...A1 }); // equal content, different object: interned to the same set
    expect(g.out.hasPending()).toBe(false);
    expect(g.store.size()).toBe(1);
    expect(g.advertisedSet(P1)!.refs).toBe(1);
  });

  it('sends a withdraw only for prefixes the stream carried', () => {
    const g = new Group();
    g.advertise(P1, A1);
    g.withdraw(P1);
    g.withdraw(P2);
    expect(seen(g.take(10))).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
    g.withdraw(P1);
    expect(g.take(10)).toEqual([]);
  });

  it('sends a changed announcement as an implicit withdraw and releases the old set', () => {
    const g = new Group();
    g.advertise(P1, A1);
    g.announce(P1, A2);
    expect(seen(g.take(10))).toEqual([{ announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2' }]);
    expect(g.store.size()).toBe(1);
  });
});

describe('buckets and batches', () => {
  it('one UPDATE per bucket, withdrawals first', () => {
    const g = new Group();
    g.advertise(v4KeyParse('10.9.0.0/16')!, A1);
    for (let i = 0; i < 50; i++) g.announce(v4Key((10 << 24) + 1024 * i, 26), i % 2 ? { ...A1 } : { ...A2 });
    g.withdraw(v4KeyParse('10.9.0.0/16')!);
    expect(g.out.stats()).toMatchObject({ pending: 51, groups: 2 });
    expect(seen(g.take(10)).map((s) => [s.withdrawn.length, s.announced.length, s.nextHop])).toEqual([
      [1, 0, undefined],
      [0, 25, '192.0.2.2'], // first bucket created (i = 0)
      [0, 25, '192.0.2.1'],
    ]);
  });

  it('honours maxMessages: the table is pulled a few UPDATEs at a time, full 4096-octet messages', () => {
    const g = new Group();
    const prefixes = Array.from({ length: 5000 }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    for (const p of prefixes) g.announce(p, A1);
    const all: string[] = [];
    let batches = 0;
    while (g.out.hasPending()) {
      const batch = g.take(2);
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(2);
      for (const it of batch) expect(it.msg.length).toBeLessThanOrEqual(4096);
      all.push(...seen(batch).flatMap((s) => s.announced));
      batches++;
    }
    // (4096 - 23 - 25 octets of ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF) / 5 per /26.
    const per = Math.floor((4096 - 23 - 25) / 5);
    expect(batches).toBe(Math.ceil(Math.ceil(5000 / per) / 2));
    expect(all).toEqual(prefixes.map(prefixToString));
    expect(g.out.advertised.size()).toBe(5000);
  });

  it('a large table pulled 64 UPDATEs at a time goes out in full messages, announcements and withdrawals', () => {
    const g = new Group();
    const n = 100_000;
    const prefixes = Array.from({ length: n }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    for (const p of prefixes) g.announce(p, A1);
    const sizes: number[] = [];
    while (g.out.hasPending()) for (const it of g.take(64)) sizes.push(it.msg.length);
    const per = Math.floor((4096 - 23 - 25) / 5); // /26s per announcement
    expect(sizes).toHaveLength(Math.ceil(n / per));
    expect(sizes.slice(0, -1).every((len) => len > 4096 - 5)).toBe(true); // none cut short but the last
    for (const p of prefixes) g.withdraw(p);
    const withdrawn: number[] = [];
    while (g.out.hasPending()) for (const it of g.take(64)) withdrawn.push(it.msg.length);
    expect(withdrawn).toHaveLength(Math.ceil(n / Math.floor((4096 - 23) / 5))); // /26s per withdrawal message
    expect(withdrawn.slice(0, -1).every((len) => len > 4096 - 5)).toBe(true);
    expect(g.out.advertised.size()).toBe(0);
  });

  it('a change arriving between batches is coalesced into what is still pending', () => {
    const g = new Group();
    const prefixes = Array.from({ length: 3000 }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    for (const p of prefixes) g.announce(p, A1);
    const sent = new Set(seen(g.take(1))[0]!.announced);
    const last = prefixes[2999]!;
    g.announce(last, A2); // still pending with A1: moves to the A2 bucket
    g.withdraw(prefixes[0]!); // already carried: becomes a withdraw
    const rest = seen(g.take(100));
    expect(rest[0]).toEqual({ announced: [], withdrawn: [prefixToString(prefixes[0]!)] });
    const a1 = rest.filter((s) => s.nextHop === '192.0.2.1').flatMap((s) => s.announced);
    const a2 = rest.filter((s) => s.nextHop === '192.0.2.2').flatMap((s) => s.announced);
    expect(a2).toEqual([prefixToString(last)]);
    expect(sent.size + a1.length + a2.length).toBe(3000);
    for (const p of a1) expect(sent.has(p)).toBe(false);
  });

  it('a key held back at a batch boundary can still be changed or cancelled', () => {
    const g = new Group();
    const prefixes = Array.from({ length: 2000 }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    for (const p of prefixes) g.announce(p, A1);
    const first = seen(g.take(1))[0]!.announced.length;
    g.announce(prefixes[first]!, A2); // the next in line moves to another bucket
    g.withdraw(prefixes[first + 1]!); // never carried: simply dropped
    const rest = seen(g.take(100));
    const all = rest.flatMap((s) => s.announced);
    expect(all.filter((p) => p === prefixToString(prefixes[first]!))).toHaveLength(1);
    expect(all).not.toContain(prefixToString(prefixes[first + 1]!));
    expect(first + all.length).toBe(1999);
    expect(rest.find((s) => s.announced.includes(prefixToString(prefixes[first]!)))!.nextHop).toBe('192.0.2.2');
  });

  it('IPv6 goes in MP_REACH / MP_UNREACH, IPv4 in the classic fields', () => {
    const g = new Group();
    g.announce(P6, V6);
    g.announce(P1, A1);
    expect(seen(g.take(10))).toEqual([
      { announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.1' },
      { announced: ['2001:db8:1::/48'], withdrawn: [], nextHop: '2001:db8::1' },
    ]);
    g.withdraw(P6);
    expect(seen(g.take(10))).toEqual([{ announced: [], withdrawn: ['2001:db8:1::/48'] }]);
  });

  it('tracks ADD-PATH paths of one prefix separately', () => {
    const g = new Group(ADDPATH);
    g.announce(P1, A1, { pathId: 1 });
    g.announce(P1, A2, { pathId: 2 });
    expect(seen(g.take(10), ADDPATH)).toEqual([
      { announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.1', pathIds: [1] },
      { announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2', pathIds: [2] },
    ]);
    g.withdraw(P1, 1);
    g.withdraw(P1, 3); // never carried
    expect(seen(g.take(10), ADDPATH)).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'], pathIds: [1] }]);
    expect(g.advertisedSet(P1, 2)?.attrs.nextHop).toBe('192.0.2.2');
  });

  it('withdraws instead of announcing when the attributes cannot fit one UPDATE (RFC 4271 §9.2)', () => {
    const g = new Group();
    g.advertise(P1, A1);
    g.announce(P1, { ...A1, communities: new Array<number>(1020).fill(7) });
    expect(seen(g.take(10))).toEqual([]);
    expect(g.out.stats().oversized).toBe(1);
    expect(seen(g.take(10))).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
  });
});

describe('exclusions: one source per UPDATE', () => {
  it("a bucket's UPDATEs carry its source as `skip`: the source does not get its own route back", () => {
    const g = new Group();
    g.announce(P1, A1, { from: FROM_M1 });
    g.announce(P2, A1); // same attributes, no source in the group (say, a local route): its own bucket
    const items = g.take(10);
    expect(items).toHaveLength(2);
    const own = items.find((it) => it.skip === FROM_M1)!;
    expect(seen([own])[0]!.announced).toEqual(['10.244.1.0/26']);
    expect(receives(own, M1)).toBe(false);
    expect(receives(own, M2)).toBe(true);
    expect(items.filter((it) => receives(it, M1)).flatMap((it) => seen([it])[0]!.announced)).toEqual(['10.244.2.0/26']);
    expect(g.store.size()).toBe(1); // one interned set for both buckets
  });

  it("an ORIGINATOR_ID exclusion keeps a route from the router it names (RFC 4456 §8)", () => {
    const g = new Group();
    const viaReflector: Exclusion = { address: '10.0.0.99', originatorId: M3.bgpId };
    g.announce(P1, A1, { from: viaReflector });
    const [it] = g.take(10);
    expect(receives(it!, M3)).toBe(false);
    expect(receives(it!, M1)).toBe(true);
  });

  it("advertisedFor counts what a member holds: the stream's keys minus its own", () => {
    const g = new Group();
    g.advertise(P1, A1, { from: FROM_M1 });
    g.advertise(P2, A2, { from: FROM_M2 });
    g.advertise(P6, V6);
    expect(g.out.advertisedFor('ipv4-unicast', M1)).toBe(1);
    expect(g.out.advertisedFor('ipv4-unicast', M2)).toBe(1);
    expect(g.out.advertisedFor('ipv4-unicast', M3)).toBe(2);
    expect(g.out.advertisedFor('ipv6-unicast', M1)).toBe(1);
    g.advertise(P1, A2, { from: FROM_M2 }); // M1's route replaced by M2's: M1 now holds it, M2 does not
    expect(g.out.advertisedFor('ipv4-unicast', M1)).toBe(2);
    expect(g.out.advertisedFor('ipv4-unicast', M2)).toBe(0);
  });

  it("one source's withdrawals skip that source; several sources' share one UPDATE for all", () => {
    const g = new Group();
    g.advertise(P1, A1, { from: FROM_M1 });
    g.advertise(P2, A2, { from: FROM_M2 });
    g.withdraw(P1);
    const one = g.take(10);
    expect(seen(one)).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
    expect(one[0]!.skip).toBe(FROM_M1); // M1 was never sent its own route: it gets no withdraw of it
    g.advertise(P1, A1, { from: FROM_M1 });
    g.withdraw(P1);
    g.withdraw(P2);
    const both = g.take(10);
    expect(seen(both)).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26', '10.244.2.0/26'] }]);
    expect(both[0]!.skip).toBeUndefined();
  });

  it('a route moving from source M1 to member M2 sends M2 a targeted withdraw of the old one', () => {
    const g = new Group();
    g.advertise(P1, A1, { from: FROM_M1 }); // M2 and M3 hold M1's route
    g.announce(P1, A2, { from: FROM_M2 }); // now M2's own route: M2 skips the announcement...
    const items = g.take(10);
    const forM2 = items.filter((it) => receives(it, M2));
    expect(seen(forM2)).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]); // ...and must lose M1's
    expect(forM2[0]!.only).toEqual({ ex: FROM_M2, unless: FROM_M1 });
    expect(seen(items.filter((it) => receives(it, M1)))).toEqual([{ announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2' }]);
    expect(seen(items.filter((it) => receives(it, M3)))).toEqual([{ announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2' }]);
  });
});

describe('clear and End-of-RIB', () => {
  it('clear releases every attribute reference and forgets the stream state', () => {
    const g = new Group();
    g.announce(P1, A1);
    g.take(10);
    g.announce(P2, A2);
    g.announce(P1, A2);
    g.out.clear();
    expect(g.store.size()).toBe(0);
    expect(g.out.stats()).toEqual({ advertised: 0, pending: 0, groups: 0, oversized: 0 });
    g.withdraw(P1);
    expect(g.take(10)).toEqual([]);
  });

  it('sends End-of-RIB per family after the initial table, once', () => {
    const g = new Group(CTX, BOTH);
    g.announce(P1, A1);
    expect(seen(g.take(10)).map((s) => s.eor)).toEqual([undefined]); // initial table not complete yet
    expect(g.out.initialDone()).toBe(false);
    g.announce(P2, A1);
    g.out.initialTableQueued();
    const items = g.take(10);
    expect(seen(items)).toEqual([
      { announced: ['10.244.2.0/26'], withdrawn: [], nextHop: '192.0.2.1' },
      { announced: [], withdrawn: [], eor: 'ipv4-unicast' },
      { announced: [], withdrawn: [], eor: 'ipv6-unicast' },
    ]);
    expect(items.map((it) => it.eor)).toEqual([undefined, 'ipv4-unicast', 'ipv6-unicast']);
    expect(g.out.initialDone()).toBe(true);
    g.out.initialTableQueued();
    expect(g.out.hasPending()).toBe(false);
  });

  it('End-of-RIB waits behind a family whose table is still being pulled, and only negotiated families get one', () => {
    const g = new Group(CTX, ['ipv4-unicast']);
    for (let i = 0; i < 2000; i++) g.announce(v4Key((10 << 24) + 64 * i, 26), A1);
    g.out.initialTableQueued();
    const eors: (Family | undefined)[] = [];
    while (g.out.hasPending()) for (const s of seen(g.take(1))) eors.push(s.eor);
    expect(eors.filter((e) => e !== undefined)).toEqual(['ipv4-unicast']);
    expect(eors[eors.length - 1]).toBe('ipv4-unicast');
  });
});

describe('paced pulls against a model of the members', () => {
  it('random changes from random sources and random batch sizes leave every member with exactly its table', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      // mulberry32: good low bits, unlike a plain LCG modulo a small n.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const members = [M1, M2, M3];
    const sources: (Exclusion | undefined)[] = [FROM_M1, FROM_M2, undefined];
    // The third variant is so large that only a few prefixes fit one UPDATE, so batches end mid-bucket.
    const variants: PathAttributes[] = [A1, A2, { ...A1, localPref: 300, communities: new Array<number>(1000).fill(9) }];
    const v4s = Array.from({ length: 300 }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    const v6s = Array.from({ length: 100 }, (_, i) => v6KeyParse(`2001:db8:${i.toString(16)}::/48`)!);
    const g = new Group();
    const describeAttrs = (a: PathAttributes) => `${a.nextHop ?? a.mpReach?.nextHop}/${a.localPref}`;
    const desired = new Map<string, { text: string; from: Exclusion | undefined }>();
    const views = members.map(() => new Map<string, string>());
    const lastSource = new Map<string, Exclusion | undefined>(); // per prefix: the source of its last announcement
    const deliver = (items: StreamItem[]): void => {
      for (const it of items) {
        const u = decode(it.msg);
        const a = u.attributes;
        const announced = [...u.nlri.prefixes, ...(a.mpReach?.nlri.prefixes ?? [])].map(prefixToString);
        members.forEach((m, i) => {
          if (!receives(it, m)) return;
          const view = views[i]!;
          for (const p of [...u.withdrawn.prefixes, ...(a.mpUnreach?.nlri.prefixes ?? [])]) view.delete(prefixToString(p));
          for (const text of announced) {
            // never a duplicate, unless the route changed source (in a reflector its attributes would differ)
            if (lastSource.get(text) === it.skip) expect(view.get(text)).not.toBe(describeAttrs(a));
            view.set(text, describeAttrs(a));
          }
        });
        for (const text of announced) lastSource.set(text, it.skip);
      }
    };
    for (let step = 0; step < 20000; step++) {
      const r = rand(10);
      if (r < 5) {
        const v6 = rand(4) === 0;
        const p = v6 ? v6s[rand(v6s.length)]! : v4s[rand(v4s.length)]!;
        const attrs = v6 ? V6 : variants[rand(3)]!;
        const from = sources[rand(3)];
        g.announce(p, { ...attrs }, from ? { from } : {});
        desired.set(prefixToString(p), { text: describeAttrs(attrs), from });
      } else if (r < 8) {
        const p = rand(4) === 0 ? v6s[rand(v6s.length)]! : v4s[rand(v4s.length)]!;
        g.withdraw(p);
        desired.delete(prefixToString(p));
      } else {
        deliver(g.take(1 + rand(3)));
      }
    }
    while (g.out.hasPending()) deliver(g.take(2));
    members.forEach((m, i) => {
      const want = new Map([...desired].filter(([, d]) => d.from?.address !== m.address).map(([p, d]) => [p, d.text] as const));
      expect(new Map([...views[i]!].sort())).toEqual(new Map([...want].sort()));
      expect(g.out.advertisedFor('ipv4-unicast', m) + g.out.advertisedFor('ipv6-unicast', m)).toBe(want.size);
    });
    expect(g.out.advertised.size()).toBe(desired.size);
    // References: one per carried key, no leaks.
    const sets = new Set<AttrSet>();
    for (const b of g.out.advertised.values()) sets.add(b.set);
    expect([...sets].reduce((n, s) => n + s.refs, 0)).toBe(desired.size);
    expect(g.store.size()).toBe(sets.size);
  });
});
