// Adj-RIB-Out (src/rib/adj-rib-out.ts): coalescing of pending changes,
// duplicate suppression, withdraw only what was advertised, grouping by
// interned attribute set, pull-based batches, resend, clear and End-of-RIB
// (RFC 4724 §2). Every batch is decoded with the codec to see what the peer
// would receive.
import { describe, expect, it } from 'vitest';
import { decodeUpdate } from '../../src/bgp/wire/update.js';
import { endOfRibFamily } from '../../src/bgp/wire/eor.js';
import { DEFAULT_CODEC_CONTEXT, type CodecContext, type Family, type PathAttributes, type PrefixKey } from '../../src/bgp/wire/types.js';
import { prefixToString, v4Key, v4KeyParse, v6KeyParse } from '../../src/lib/prefix.js';
import { AttrStore } from '../../src/rib/attr-store.js';
import { AdjRibOut } from '../../src/rib/adj-rib-out.js';

const CTX: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
const ADDPATH: CodecContext = {
  ...CTX,
  addPathSend: { 'ipv4-unicast': true, 'ipv6-unicast': false },
  addPathReceive: { 'ipv4-unicast': true, 'ipv6-unicast': false },
};

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

/** What the peer sees: per message, announced prefixes with next hop, withdrawn prefixes, End-of-RIB. */
interface Seen {
  announced: string[];
  withdrawn: string[];
  eor?: Family;
  nextHop?: string;
  pathIds?: readonly number[];
}

function seen(messages: Buffer[], ctx: CodecContext = CTX): Seen[] {
  return messages.map((m) => {
    const r = decodeUpdate(m.subarray(19), { ...ctx, addPathReceive: ctx.addPathSend });
    if (!r.ok) throw new Error(r.error.reason);
    const u = r.value.update;
    const eor = endOfRibFamily(u);
    const a = u.attributes;
    const announced = [...u.nlri.prefixes, ...(a.mpReach?.nlri.prefixes ?? [])].map(prefixToString);
    const withdrawn = [...u.withdrawn.prefixes, ...(a.mpUnreach?.nlri.prefixes ?? [])].map(prefixToString);
    const out: Seen = { announced, withdrawn };
    if (eor) out.eor = eor;
    const nh = a.nextHop ?? a.mpReach?.nextHop;
    if (nh) out.nextHop = nh;
    const ids = u.nlri.prefixes.length > 0 ? u.nlri.pathIds : u.withdrawn.pathIds;
    if (ids) out.pathIds = ids;
    return out;
  });
}

function fresh(ctx: CodecContext = CTX, families?: Family[]) {
  const store = new AttrStore();
  return { store, out: new AdjRibOut(store, ctx, families) };
}

function advertise(out: AdjRibOut, prefix: PrefixKey, attrs: PathAttributes): void {
  out.announce(prefix, attrs);
  out.takeBatch(100);
}

describe('coalescing', () => {
  it('announce A1, A2 then withdraw of an advertised prefix sends only the withdraw', () => {
    const { out } = fresh();
    advertise(out, P1, A1);
    out.announce(P1, A2);
    out.announce(P1, A1 === A2 ? A1 : { ...A2, localPref: 200 });
    out.withdraw(P1);
    expect(out.pendingCount()).toBe(1);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
    expect(out.advertisedCount()).toBe(0);
  });

  it('announce then withdraw of a prefix never advertised sends nothing', () => {
    const { out, store } = fresh();
    out.announce(P1, A1);
    out.announce(P1, A2);
    out.withdraw(P1);
    expect(out.hasPending()).toBe(false);
    expect(out.takeBatch(10)).toEqual([]);
    expect(store.size()).toBe(0); // every reference released
  });

  it('keeps only the latest pending attributes', () => {
    const { out } = fresh();
    out.announce(P1, A1);
    out.announce(P1, A2);
    expect(out.stats().groups).toBe(1);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2' }]);
  });

  it('a prefix queued, moved to another group and queued again in the first goes out once', () => {
    const { out, store } = fresh();
    out.announce(P1, A1);
    out.announce(P2, A1);
    out.announce(P1, A2);
    out.announce(P1, A1); // P1 sits twice in A1's queue now; only the last state counts
    expect(out.pendingCount()).toBe(2);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: ['10.244.1.0/26', '10.244.2.0/26'], withdrawn: [], nextHop: '192.0.2.1' }]);
    expect(out.hasPending()).toBe(false);
    expect(out.stats().groups).toBe(0);
    expect(store.size()).toBe(1); // A2's reference went with its cancelled announcement
  });

  it('a withdraw cancelled and queued again goes out once', () => {
    const { out } = fresh();
    advertise(out, P1, A1);
    out.withdraw(P1);
    out.announce(P1, A2);
    out.withdraw(P1);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
    expect(out.advertisedCount()).toBe(0);
    expect(out.hasPending()).toBe(false);
  });

  it('withdraw then re-announce of an advertised prefix sends the new announcement only', () => {
    const { out } = fresh();
    advertise(out, P1, A1);
    out.withdraw(P1);
    out.announce(P1, A2);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2' }]);
  });

  it('withdraw then re-announce of the advertised attributes sends nothing', () => {
    const { out } = fresh();
    advertise(out, P1, A1);
    out.withdraw(P1);
    out.announce(P1, A1);
    expect(out.hasPending()).toBe(false);
    expect(out.takeBatch(10)).toEqual([]);
    expect(out.advertisedAttrs(P1)?.attrs.nextHop).toBe('192.0.2.1');
  });
});

describe('duplicates and withdraws', () => {
  it('suppresses an announcement equal to what the peer holds', () => {
    const { out, store } = fresh();
    advertise(out, P1, A1);
    out.announce(P1, { ...A1 }); // equal content, different object: interned to the same set
    expect(out.hasPending()).toBe(false);
    expect(store.size()).toBe(1);
    expect(out.advertisedAttrs(P1)!.refs).toBe(1);
  });

  it('sends a withdraw only for prefixes actually advertised', () => {
    const { out } = fresh();
    advertise(out, P1, A1);
    out.withdraw(P1);
    out.withdraw(P2);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
    out.withdraw(P1);
    expect(out.takeBatch(10)).toEqual([]);
  });

  it('sends a changed announcement as an implicit withdraw (no separate withdraw)', () => {
    const { out, store } = fresh();
    advertise(out, P1, A1);
    out.announce(P1, A2);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2' }]);
    expect(store.size()).toBe(1); // A1 released once replaced
  });
});

describe('grouping and batches', () => {
  it('groups prefixes by interned attributes: one UPDATE per group, withdrawals first', () => {
    const { out } = fresh();
    advertise(out, v4KeyParse('10.9.0.0/16')!, A1);
    for (let i = 0; i < 50; i++) out.announce(v4Key((10 << 24) + 1024 * i, 26), i % 2 ? { ...A1 } : { ...A2 });
    out.withdraw(v4KeyParse('10.9.0.0/16')!);
    expect(out.stats()).toMatchObject({ pending: 51, groups: 2 });
    const got = seen(out.takeBatch(10));
    expect(got.map((g) => [g.withdrawn.length, g.announced.length, g.nextHop])).toEqual([
      [1, 0, undefined],
      [0, 25, '192.0.2.2'], // first group created (i = 0)
      [0, 25, '192.0.2.1'],
    ]);
  });

  it('honours maxMessages: the peer pulls the table a few UPDATEs at a time', () => {
    const { out } = fresh();
    const prefixes = Array.from({ length: 5000 }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    for (const p of prefixes) out.announce(p, A1);
    const all: string[] = [];
    let batches = 0;
    while (out.hasPending()) {
      const batch = out.takeBatch(2);
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(2);
      for (const m of batch) expect(m.length).toBeLessThanOrEqual(4096);
      all.push(...seen(batch).flatMap((s) => s.announced));
      batches++;
    }
    // (4096 - 23 - 25 octets of ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF) / 5 per /26.
    const per = Math.floor((4096 - 23 - 25) / 5);
    expect(batches).toBe(Math.ceil(Math.ceil(5000 / per) / 2));
    expect(all).toEqual(prefixes.map(prefixToString));
    expect(out.advertisedCount()).toBe(5000);
  });

  it('a change arriving between batches is coalesced into what is still pending', () => {
    const { out } = fresh();
    const prefixes = Array.from({ length: 3000 }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    for (const p of prefixes) out.announce(p, A1);
    const first = seen(out.takeBatch(1));
    const sent = new Set(first[0]!.announced);
    const last = prefixes[2999]!;
    out.announce(last, A2); // still pending with A1: moves to the A2 group
    out.withdraw(prefixes[0]!); // already sent: becomes a withdraw
    const rest = seen(out.takeBatch(100));
    expect(rest[0]).toEqual({ announced: [], withdrawn: [prefixToString(prefixes[0]!)] });
    const a1 = rest.filter((s) => s.nextHop === '192.0.2.1').flatMap((s) => s.announced);
    const a2 = rest.filter((s) => s.nextHop === '192.0.2.2').flatMap((s) => s.announced);
    expect(a2).toEqual([prefixToString(last)]);
    expect(sent.size + a1.length + a2.length).toBe(3000);
    for (const p of a1) expect(sent.has(p)).toBe(false);
  });

  it('IPv6 goes in MP_REACH / MP_UNREACH, IPv4 in the classic fields', () => {
    const { out } = fresh();
    out.announce(P6, V6);
    out.announce(P1, A1);
    expect(seen(out.takeBatch(10))).toEqual([
      { announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.1' },
      { announced: ['2001:db8:1::/48'], withdrawn: [], nextHop: '2001:db8::1' },
    ]);
    out.withdraw(P6);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: [], withdrawn: ['2001:db8:1::/48'] }]);
  });

  it('tracks ADD-PATH paths of one prefix separately', () => {
    const { out } = fresh(ADDPATH);
    out.announce(P1, A1, 1);
    out.announce(P1, A2, 2);
    expect(seen(out.takeBatch(10), ADDPATH)).toEqual([
      { announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.1', pathIds: [1] },
      { announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.2', pathIds: [2] },
    ]);
    out.withdraw(P1, 1);
    out.withdraw(P1, 3); // never advertised
    expect(seen(out.takeBatch(10), ADDPATH)).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'], pathIds: [1] }]);
    expect(out.advertisedAttrs(P1, 2)?.attrs.nextHop).toBe('192.0.2.2');
  });

  it('withdraws instead of announcing when the attributes cannot fit one UPDATE', () => {
    const { out } = fresh();
    advertise(out, P1, A1);
    out.announce(P1, { ...A1, communities: new Array<number>(1020).fill(7) });
    expect(seen(out.takeBatch(10))).toEqual([]);
    expect(out.stats().oversized).toBe(1);
    expect(seen(out.takeBatch(10))).toEqual([{ announced: [], withdrawn: ['10.244.1.0/26'] }]);
  });
});

describe('resend, clear and End-of-RIB', () => {
  it('markAllForResend queues every advertised prefix again, newer changes win', () => {
    const { out } = fresh();
    out.announce(P1, A1);
    out.announce(P2, A1);
    out.takeBatch(10);
    out.announce(P2, A2);
    out.markAllForResend();
    out.announce(P1, A1); // a re-export with the same attributes must not cancel the resend
    const got = seen(out.takeBatch(10));
    expect(got).toEqual([
      { announced: ['10.244.2.0/26'], withdrawn: [], nextHop: '192.0.2.2' },
      { announced: ['10.244.1.0/26'], withdrawn: [], nextHop: '192.0.2.1' },
    ]);
    expect(out.hasPending()).toBe(false);
  });

  it('clear releases every attribute reference and forgets the peer state', () => {
    const { out, store } = fresh();
    out.announce(P1, A1);
    out.takeBatch(10);
    out.announce(P2, A2);
    out.announce(P1, A2);
    out.clear();
    expect(store.size()).toBe(0);
    expect(out.stats()).toEqual({ advertised: 0, pending: 0, groups: 0, oversized: 0 });
    out.withdraw(P1);
    expect(out.takeBatch(10)).toEqual([]);
  });

  it('sends End-of-RIB per family after the initial table, once', () => {
    const { out } = fresh(CTX, ['ipv4-unicast', 'ipv6-unicast']);
    out.announce(P1, A1);
    expect(seen(out.takeBatch(10)).map((s) => s.eor)).toEqual([undefined]); // initial table not complete yet
    out.announce(P2, A1);
    out.initialTableQueued();
    expect(out.needsEndOfRib('ipv4-unicast')).toBe(true);
    expect(seen(out.takeBatch(10))).toEqual([
      { announced: ['10.244.2.0/26'], withdrawn: [], nextHop: '192.0.2.1' },
      { announced: [], withdrawn: [], eor: 'ipv4-unicast' },
      { announced: [], withdrawn: [], eor: 'ipv6-unicast' },
    ]);
    expect(out.needsEndOfRib('ipv4-unicast')).toBe(false);
    expect(out.needsEndOfRib('ipv6-unicast')).toBe(false);
    out.initialTableQueued();
    expect(out.hasPending()).toBe(false);
    out.clear();
    expect(out.needsEndOfRib('ipv4-unicast')).toBe(true);
  });

  it('End-of-RIB waits behind a family whose table is still being pulled', () => {
    const { out } = fresh(CTX, ['ipv4-unicast']);
    for (let i = 0; i < 2000; i++) out.announce(v4Key((10 << 24) + 64 * i, 26), A1);
    out.initialTableQueued('ipv4-unicast');
    const eors: number[] = [];
    let n = 0;
    while (out.hasPending()) for (const s of seen(out.takeBatch(1))) (s.eor ? eors.push(n++) : n++);
    expect(eors).toEqual([n - 1]);
    expect(out.needsEndOfRib('ipv6-unicast')).toBe(false); // not negotiated
  });
});

describe('paced pulls against a model of the peer', () => {
  it('a key held back at a batch boundary can still be changed or cancelled', () => {
    const { out } = fresh();
    const prefixes = Array.from({ length: 2000 }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    for (const p of prefixes) out.announce(p, A1);
    const first = seen(out.takeBatch(1))[0]!.announced.length;
    out.announce(prefixes[first]!, A2); // the next in line moves to another group
    out.withdraw(prefixes[first + 1]!); // never sent: simply dropped
    const rest = seen(out.takeBatch(100));
    const all = rest.flatMap((s) => s.announced);
    expect(all.filter((p) => p === prefixToString(prefixes[first]!))).toHaveLength(1);
    expect(all).not.toContain(prefixToString(prefixes[first + 1]!));
    expect(first + all.length).toBe(1999);
    expect(rest.find((s) => s.announced.includes(prefixToString(prefixes[first]!)))!.nextHop).toBe('192.0.2.2');
  });

  it('random changes and random batch sizes leave the peer with exactly the desired table', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      // mulberry32: good low bits, unlike a plain LCG modulo a small n.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let resends = 0;
    let resendable = new Set<string>(); // held when a resend was asked for: may come again once
    // The third variant is so large that only a few prefixes fit one UPDATE, so batches end mid-group.
    const variants: PathAttributes[] = [A1, A2, { ...A1, localPref: 300, communities: new Array<number>(1000).fill(9) }, V6];
    const v4s = Array.from({ length: 300 }, (_, i) => v4Key((10 << 24) + 64 * i, 26));
    const v6s = Array.from({ length: 100 }, (_, i) => v6KeyParse(`2001:db8:${i.toString(16)}::/48`)!);
    const { out, store } = fresh();
    const desired = new Map<string, string>(); // prefix → next hop + local pref
    const peerView = new Map<string, string>();
    const describe = (a: PathAttributes) => `${a.nextHop ?? a.mpReach?.nextHop}/${a.localPref}`;
    for (let step = 0; step < 20000; step++) {
      const r = rand(10);
      if (r < 5) {
        const v6 = rand(4) === 0;
        const p = v6 ? v6s[rand(v6s.length)]! : v4s[rand(v4s.length)]!;
        const attrs = v6 ? V6 : variants[rand(3)]!;
        out.announce(p, { ...attrs });
        desired.set(prefixToString(p), describe(attrs));
      } else if (r < 8) {
        const p = rand(4) === 0 ? v6s[rand(v6s.length)]! : v4s[rand(v4s.length)]!;
        out.withdraw(p);
        desired.delete(prefixToString(p));
      } else if (r < 9) {
        for (const m of out.takeBatch(1 + rand(3))) {
          const d = decodeUpdate(m.subarray(19), CTX);
          if (!d.ok) throw new Error(d.error.reason);
          const u = d.value.update;
          const a = u.attributes;
          for (const p of [...u.withdrawn.prefixes, ...(a.mpUnreach?.nlri.prefixes ?? [])]) {
            expect(peerView.has(prefixToString(p))).toBe(true); // never a withdraw of something not held
            peerView.delete(prefixToString(p));
          }
          for (const p of [...u.nlri.prefixes, ...(a.mpReach?.nlri.prefixes ?? [])]) {
            const text = prefixToString(p);
            if (!resendable.delete(text)) expect(peerView.get(text)).not.toBe(describe(a)); // never a duplicate
            peerView.set(text, describe(a));
          }
        }
      } else if (rand(20) === 0) {
        out.markAllForResend();
        resendable = new Set(peerView.keys());
        resends++;
      }
    }
    while (out.hasPending()) {
      for (const m of out.takeBatch(2)) {
        const d = decodeUpdate(m.subarray(19), CTX);
        if (!d.ok) throw new Error(d.error.reason);
        const u = d.value.update;
        for (const p of [...u.withdrawn.prefixes, ...(u.attributes.mpUnreach?.nlri.prefixes ?? [])]) peerView.delete(prefixToString(p));
        for (const p of [...u.nlri.prefixes, ...(u.attributes.mpReach?.nlri.prefixes ?? [])]) peerView.set(prefixToString(p), describe(u.attributes));
      }
    }
    expect(resends).toBeGreaterThan(5);
    expect(new Map([...peerView].sort())).toEqual(new Map([...desired].sort()));
    expect(out.advertisedCount()).toBe(desired.size);
    // References: one per advertised prefix, no leaks.
    let refs = 0;
    const sets = new Set<unknown>();
    for (const k of out.advertisedKeys()) {
      const set = out.advertisedAttrs(k)!;
      if (!sets.has(set)) {
        sets.add(set);
        refs += set.refs;
      }
    }
    expect(refs).toBe(desired.size);
    expect(store.size()).toBe(sets.size);
  });
});
