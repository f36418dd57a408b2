// ipPools[].disableExport (Calico disableBGPExport) through export.ts and the
// RIB facade: prefixes inside such a pool, our own blocks and learned routes
// alike, go to no peer (Calico's BIRD filter matches by destination), while
// the FIB still gets them (the own block's blackhole stays); other pools and
// prefixes outside every pool are unaffected; a reload that changes the pools
// withdraws or announces accordingly.
import { describe, expect, it } from 'vitest';
import { ORIGIN_IGP } from '../../src/bgp/wire/types.js';
import { compileExportDisabledPools, exportRoute, poolExportDisabled, type ExportSettings } from '../../src/rib/export.js';
import { AttrStore } from '../../src/rib/attr-store.js';
import { makePeer } from '../../src/rib/route.js';
import { key, announce, announced, path, rib, sent, session, settle, withdrawnOf } from './rib-helpers.js';

const SETTINGS: ExportSettings = {
  routerId: 0xc0000201,
  isReflector: false,
  clientToClient: true,
  defaultLocalPref: 100,
  exportDisabledPools: compileExportDisabledPools(['10.244.0.0/16', 'fd00:244::/48']),
};

describe('poolExportDisabled', () => {
  it('matches the pool and everything inside it, per family', () => {
    expect(poolExportDisabled(key('10.244.0.0/16'), SETTINGS)).toBe(true);
    expect(poolExportDisabled(key('10.244.3.64/26'), SETTINGS)).toBe(true);
    expect(poolExportDisabled(key('10.244.3.7/32'), SETTINGS)).toBe(true);
    expect(poolExportDisabled(key('10.0.0.0/8'), SETTINGS)).toBe(false); // covers the pool, is not inside it
    expect(poolExportDisabled(key('10.245.0.0/26'), SETTINGS)).toBe(false);
    expect(poolExportDisabled(key('fd00:244:0:1::/64'), SETTINGS)).toBe(true);
    expect(poolExportDisabled(key('fd00:245::/64'), SETTINGS)).toBe(false);
    expect(poolExportDisabled(key('10.244.1.0/26'), { ...SETTINGS, exportDisabledPools: [] })).toBe(false);
  });

  it('exportRoute refuses with pool-export-disabled before any other rule', () => {
    const store = new AttrStore();
    const from = makePeer({ address: '10.0.0.2', asn: 64512, localAsn: 64512, bgpId: 0x0a000002 });
    const to = makePeer({ address: '203.0.113.1', asn: 65001, localAsn: 64512, bgpId: 0xcb007101 });
    const attrs = store.intern({ origin: ORIGIN_IGP, asPath: [], nextHop: '10.0.0.2', localPref: 100 });
    const target = { peer: to, nextHopMode: 'auto' as const, localAddressV4: '192.0.2.1' };
    expect(exportRoute(key('10.244.1.0/26'), { peer: from, attrs }, target, SETTINGS)).toEqual({ ok: false, reason: 'pool-export-disabled' });
    expect(exportRoute(key('10.245.1.0/26'), { peer: from, attrs }, target, SETTINGS)).toMatchObject({ ok: true });
  });
});

describe('Rib with a pool whose export is off', () => {
  const POOLS = { exportDisabledPools: ['10.244.0.0/16'] };

  it('does not announce our blocks inside it, but the FIB still blackholes them', () => {
    const r = rib(POOLS);
    r.peerUp(session('10.0.0.2'));
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.setConfigOrigins([{ prefix: '10.244.1.0/26' }, { prefix: '10.245.1.0/26' }]);
    settle(r);
    for (const p of ['10.0.0.2', '203.0.113.1']) expect(announced(sent(r, p))).toEqual(['10.245.1.0/26']);
    const fib = r.takeFibChanges().filter((c) => c.prefix === key('10.244.1.0/26'));
    expect(fib).toEqual([expect.objectContaining({ local: true, blackhole: true })]);
    expect(r.peerStats('10.0.0.2')!.byFamily['ipv4-unicast'].advertised).toBe(1);
  });

  it('does not re-advertise learned routes inside it; routes outside every pool still go', () => {
    const r = rib(POOLS);
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.peerUp(session('203.0.113.2', { asn: 65002 }));
    settle(r);
    sent(r, '203.0.113.2');
    r.update('203.0.113.1', announce(['10.244.9.0/26', '198.51.100.0/24'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1' }));
    settle(r);
    expect(announced(sent(r, '203.0.113.2'))).toEqual(['198.51.100.0/24']);
    // learned and best here all the same
    expect(r.locRib.best(key('10.244.9.0/26'))?.peer.address).toBe('203.0.113.1');
  });

  it('a reload turning export off withdraws the pool, turning it on announces it again', () => {
    const r = rib();
    r.peerUp(session('10.0.0.2'));
    r.setConfigOrigins([{ prefix: '10.244.1.0/26' }, { prefix: '10.245.1.0/26' }]);
    settle(r);
    expect(announced(sent(r, '10.0.0.2'))).toEqual(['10.244.1.0/26', '10.245.1.0/26']);
    r.setExportDisabledPools(['10.244.0.0/16']);
    settle(r);
    const off = sent(r, '10.0.0.2');
    expect(withdrawnOf(off)).toEqual(['10.244.1.0/26']);
    expect(announced(off)).toEqual([]);
    r.setExportDisabledPools([]);
    settle(r);
    expect(announced(sent(r, '10.0.0.2'))).toEqual(['10.244.1.0/26']);
  });
});
