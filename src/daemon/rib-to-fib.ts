// The RIB's best-path changes (rib FibChange: the RFC 4271 §9.1.2 result with
// its ECMP set, or one of our own originated prefixes) in the FIB's input
// shape (fib BestPathChange: next hops by address, or a local blackhole).
// The only conversion between the two layers; nothing else names either twice.

import type { BestPathChange, NextHopInput } from '../fib/types.js';
import type { FibChange } from '../rib/index.js';

const LOCAL_BLACKHOLE = { blackhole: true } as const;
const LOCAL_NO_BLACKHOLE = { blackhole: false } as const;
const NO_NEXT_HOPS: readonly NextHopInput[] = [];
/** One next-hop list per interned attribute set (STYLE.md §6) and family: a million routes from one node share it. */
const singleHop: Record<'v4' | 'v6', WeakMap<object, readonly NextHopInput[]>> = { v4: new WeakMap(), v6: new WeakMap() };

/** RFC 4291 §2.5.6 fe80::/10: reached only out of the session's interface, which goes with it. */
function hopOf(address: string, p: FibChange['paths'][number]): NextHopInput {
  const linkLocal = /^fe[89ab]/i.test(address);
  return linkLocal && p.peer.interface !== undefined ? { address, interface: p.peer.interface } : { address };
}

/** Next hop per path of the multipath set, by the prefix's family; no paths: withdrawn. */
export function toBestPathChange(c: FibChange): BestPathChange {
  if (c.local) return { prefix: c.prefix, local: c.blackhole ? LOCAL_BLACKHOLE : LOCAL_NO_BLACKHOLE };
  const v4 = typeof c.prefix === 'number';
  if (c.paths.length === 0) return { prefix: c.prefix, nextHops: NO_NEXT_HOPS };
  if (c.paths.length === 1) {
    // The common case: the list is shared by every route with this attribute set (never mutated).
    const attrs = c.paths[0]!.attrs;
    const cache = singleHop[v4 ? 'v4' : 'v6'];
    let hops = cache.get(attrs);
    if (!hops) {
      const address = v4 ? attrs.nextHopV4 : attrs.nextHopV6;
      const hop = address === undefined ? undefined : hopOf(address, c.paths[0]!);
      hops = hop === undefined ? NO_NEXT_HOPS : [hop];
      // A link-local hop carries its session's interface: not shared with another session's routes.
      if (hop?.interface === undefined) cache.set(attrs, hops);
    }
    return { prefix: c.prefix, nextHops: hops };
  }
  const nextHops: NextHopInput[] = [];
  for (const p of c.paths) {
    const address = v4 ? p.attrs.nextHopV4 : p.attrs.nextHopV6;
    if (address !== undefined && !nextHops.some((n) => n.address === address)) nextHops.push(hopOf(address, p));
  }
  return { prefix: c.prefix, nextHops };
}
