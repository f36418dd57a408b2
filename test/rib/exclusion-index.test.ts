// A member's advertised count subtracts the keys whose exclusion excludes it
// (split horizon by address, RFC 4456 §8 by ORIGINATOR_ID). ExclusionIndex
// answers that sum in O(1) per member; it must equal the walk over every
// exclusion with excludes() that it replaced, for members matching by
// address, by BGP Identifier, by both, and by neither.
import { describe, expect, it } from 'vitest';
import { ExclusionIndex, excludes, type Exclusion, type MemberId } from '../../src/rib/group-out.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('ExclusionIndex', () => {
  it('equals the walk of every exclusion with excludes(), for random exclusions and members', () => {
    const r = rng(9);
    const addrs = Array.from({ length: 12 }, (_, i) => `10.1.0.${i}`);
    const ids = [1, 2, 3, 0xc0000201, 0xffffffff];
    for (let round = 0; round < 50; round++) {
      const counts = new Map<Exclusion, number>();
      for (let i = 0; i < 20; i++) {
        const ex: Exclusion = { address: addrs[Math.floor(r() * addrs.length)]!, originatorId: r() < 0.4 ? undefined : ids[Math.floor(r() * ids.length)] };
        counts.set(ex, 1 + Math.floor(r() * 50));
      }
      const ix = new ExclusionIndex(counts);
      for (const address of addrs)
        for (const bgpId of ids) {
          const m: MemberId = { address, bgpId };
          let walk = 0;
          for (const [ex, n] of counts) if (excludes(ex, m)) walk += n;
          expect(ix.excluded(m), `${address} ${bgpId}`).toBe(walk);
        }
    }
  });
});
