// Builders for RIB tests: peers, attribute sets and routes with defaults that
// tie at every decision step, so a test changes exactly the field it is about.
import { AS_SEQUENCE, type PathAttributes } from '../../src/bgp/wire/types.js';
import { v4KeyParse, v4Parse } from '../../src/lib/prefix.js';
import { AttrStore } from '../../src/rib/attr-store.js';
import type { DecisionContext } from '../../src/rib/decision/context.js';
import { Path, makePeer, type PeerInfo } from '../../src/rib/route.js';

export const LOCAL_AS = 64512;
export const ROUTER_ID = v4Parse('192.0.2.1')!;
export const P = v4KeyParse('10.244.1.0/26')!;

export const store = new AttrStore();

export function ip(text: string): number {
  return v4Parse(text)!;
}

/** An eBGP peer in `asn` (default 65001) or, with asn = LOCAL_AS, an iBGP peer. */
export function peer(address: string, opts: { asn?: number; bgpId?: string; rrClient?: boolean; allowOwnAs?: number } = {}): PeerInfo {
  return makePeer({
    address,
    asn: opts.asn ?? 65001,
    localAsn: LOCAL_AS,
    bgpId: ip(opts.bgpId ?? address),
    rrClient: opts.rrClient ?? false,
    allowOwnAs: opts.allowOwnAs ?? 0,
  });
}

export function seq(...asns: number[]) {
  return [{ type: AS_SEQUENCE, asns }] as PathAttributes['asPath'];
}

/** Attributes that tie everywhere unless overridden. */
export function attrs(over: Partial<PathAttributes> = {}): PathAttributes {
  return { origin: 0, asPath: seq(65001), nextHop: '192.0.2.254', ...over };
}

/** A path from `p` (the fixtures' store keeps every set alive). */
export function route(p: PeerInfo, over: Partial<PathAttributes> = {}, pathId = 0): Path {
  return new Path(p, store.intern(attrs(over)), pathId);
}

export function ctx(over: Partial<DecisionContext> = {}): DecisionContext {
  return { routerId: ROUTER_ID, alwaysCompareMed: false, maxPaths: 1, defaultLocalPref: 100, ...over };
}

/** Every ordering of `items`. */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  items.forEach((item, i) => {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) out.push([item, ...rest]);
  });
  return out;
}
