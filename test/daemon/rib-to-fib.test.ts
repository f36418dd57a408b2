// RIB best-path changes in the FIB's input shape (src/daemon/rib-to-fib.ts).
import { describe, expect, it } from 'vitest';
import { toBestPathChange } from '../../src/daemon/rib-to-fib.js';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import type { FibChange } from '../../src/rib/index.js';

const P = (t: string): PrefixKey => prefixParse(t)!;

describe('toBestPathChange', () => {
  it('shares one next-hop list among routes with the same attribute set, per family', () => {
    const attrs = { nextHopV4: '10.0.1.2', nextHopV6: 'fd00::2' };
    const path = { attrs } as unknown as FibChange['paths'][number];
    const a = toBestPathChange({ prefix: P('10.244.1.0/26'), paths: [path], local: false });
    const b = toBestPathChange({ prefix: P('10.244.2.0/26'), paths: [path], local: false });
    const v6 = toBestPathChange({ prefix: P('fd00:10::/64'), paths: [path], local: false });
    expect(a.nextHops).toEqual([{ address: '10.0.1.2' }]);
    expect(b.nextHops).toBe(a.nextHops);
    expect(v6.nextHops).toEqual([{ address: 'fd00::2' }]);
    expect(toBestPathChange({ prefix: P('10.244.1.0/26'), paths: [], local: false })).toEqual({ prefix: P('10.244.1.0/26'), nextHops: [] });
    const other = { attrs: { nextHopV4: '10.0.1.3' } } as unknown as FibChange['paths'][number];
    expect(toBestPathChange({ prefix: P('10.9.0.0/24'), paths: [path, other, path], local: false }).nextHops).toEqual([{ address: '10.0.1.2' }, { address: '10.0.1.3' }]);
  });
});

