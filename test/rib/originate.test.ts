// Local origination: paths from the local pseudo-peer with ORIGIN IGP, empty
// AS_PATH, no next hop, communities attached; API announce/withdraw; config
// reconcile on reload; ownership between config and API; FIB hints; refcounts.
import { describe, expect, it } from 'vitest';
import { ORIGIN_IGP } from '../../src/bgp/wire/types.js';
import { prefixParse } from '../../src/lib/prefix.js';
import { AttrStore } from '../../src/rib/attr-store.js';
import { LocalOrigination, type AnnounceResult } from '../../src/rib/originate.js';
import { NO_EXPORT } from '../../src/rib/policy/communities.js';
import { localPeer } from '../../src/rib/route.js';
import { LOCAL_AS, ROUTER_ID } from './fixtures.js';

const C = (a: number, b: number) => (a * 65536 + b) >>> 0;

function setup(serviceCidrs: string[] = ['10.96.0.0/12', 'fd00:96::/108']) {
  const store = new AttrStore();
  const self = localPeer(ROUTER_ID, LOCAL_AS);
  return { store, self, orig: new LocalOrigination(store, self, { serviceCidrs }) };
}

function ok(r: AnnounceResult) {
  if (!r.ok) throw new Error(`${r.error}: ${r.message}`);
  return r;
}

describe('announce', () => {
  it('makes a local path: ORIGIN IGP, empty AS_PATH, no next hop, path ID 0', () => {
    const { orig, self } = setup();
    const { entry, change } = ok(orig.announce('10.244.1.0/26'));
    expect(change).toBe('added');
    expect(entry.prefix).toBe(prefixParse('10.244.1.0/26'));
    expect(entry.text).toBe('10.244.1.0/26');
    expect(entry.path.peer).toBe(self);
    expect(entry.path.peer.local).toBe(true);
    expect(entry.path.pathId).toBe(0);
    const a = entry.path.attrs;
    expect(a.attrs).toEqual({ origin: ORIGIN_IGP, asPath: [] });
    expect(a.nextHopV4).toBeUndefined();
    expect(a.nextHopV6).toBeUndefined();
    expect(a.asPathLength).toBe(0);
    expect(a.neighbourAs).toBeUndefined();
  });

  it('attaches standard and large communities, duplicates dropped, names resolved', () => {
    const { orig } = setup();
    const { entry } = ok(orig.announce('10.244.1.0/26', ['64512:100', '64512:1:2', 'NO_EXPORT', '64512:100']));
    expect(entry.path.attrs.attrs.communities).toEqual([C(64512, 100), NO_EXPORT]);
    expect(entry.path.attrs.attrs.largeCommunities).toEqual([{ global: 64512, local1: 1, local2: 2 }]);
    expect(entry.communities).toEqual(['64512:100', '65535:65281', '64512:1:2']);
  });

  it('paths with the same communities share one interned set', () => {
    const { orig, store } = setup();
    const a = ok(orig.announce('10.244.1.0/26', ['64512:100'])).entry;
    const b = ok(orig.announce('10.244.1.64/26', ['64512:100'])).entry;
    const c = ok(orig.announce('10.244.1.128/26')).entry;
    expect(b.path.attrs).toBe(a.path.attrs);
    expect(c.path.attrs).not.toBe(a.path.attrs);
    expect(a.path.attrs.refs).toBe(2);
    expect(store.size()).toBe(2);
  });

  it('re-announcing: same communities unchanged, new ones change the path and release the old set', () => {
    const { orig, store } = setup();
    const first = ok(orig.announce('fd00:10:244:1::/122', ['64512:1'])).entry;
    const same = ok(orig.announce('fd00:10:244:1::/122', ['64512:1']));
    expect(same.change).toBe('unchanged');
    expect(same.entry).toBe(first);
    const next = ok(orig.announce('fd00:10:244:1::/122', ['64512:2']));
    expect(next.change).toBe('changed');
    expect(next.previous).toBe(first);
    expect(next.entry.path).not.toBe(first.path);
    expect(next.entry.path.peer).toBe(first.path.peer);
    expect(store.has(first.path.attrs)).toBe(false);
    expect(store.has(next.entry.path.attrs)).toBe(true);
  });

  it('refuses bad prefixes (host bits too) and bad communities', () => {
    const { orig } = setup();
    expect(orig.announce('10.244.1.1/26')).toMatchObject({ ok: false, error: 'invalid-prefix' });
    expect(orig.announce('10.244.1.0/33')).toMatchObject({ ok: false, error: 'invalid-prefix' });
    expect(orig.announce('nonsense')).toMatchObject({ ok: false, error: 'invalid-prefix' });
    expect(orig.announce('10.244.1.0/26', ['64512:70000'])).toMatchObject({ ok: false, error: 'invalid-community' });
    expect(orig.size()).toBe(0);
  });
});

describe('FIB hints', () => {
  it('blackhole for blocks, not for /32 and /128', () => {
    const { orig } = setup();
    expect(ok(orig.announce('10.244.1.0/26')).entry.blackhole).toBe(true);
    expect(ok(orig.announce('10.244.9.9/32')).entry.blackhole).toBe(false);
    expect(ok(orig.announce('fd00:10:244:1::/122')).entry.blackhole).toBe(true);
    expect(ok(orig.announce('fd00:10:244:1::9/128')).entry.blackhole).toBe(false);
  });

  it('kind: service inside a service CIDR, else pod block; re-classified on reload', () => {
    const { orig } = setup();
    expect(ok(orig.announce('10.96.0.10/32')).entry.kind).toBe('service');
    expect(ok(orig.announce('10.96.0.0/12')).entry.kind).toBe('service');
    expect(ok(orig.announce('10.112.0.0/12')).entry.kind).toBe('pod-block'); // just past 10.96.0.0/12
    expect(ok(orig.announce('fd00:96::a/128')).entry.kind).toBe('service');
    expect(ok(orig.announce('fd00:97::/64')).entry.kind).toBe('pod-block');
    const changed = orig.setServiceCidrs(['10.112.0.0/12']);
    expect(changed.map((e) => [e.text, e.kind]).sort()).toEqual([
      ['10.112.0.0/12', 'service'],
      ['10.96.0.0/12', 'pod-block'],
      ['10.96.0.10/32', 'pod-block'],
      ['fd00:96::a/128', 'pod-block'],
    ]);
    expect(orig.get(prefixParse('10.112.0.0/12')!)?.kind).toBe('service');
  });
});

describe('withdraw and list', () => {
  it('withdraw releases the set and forgets the prefix', () => {
    const { orig, store } = setup();
    const { entry } = ok(orig.announce('10.244.1.0/26'));
    const w = orig.withdraw('10.244.1.0/26');
    expect(w).toEqual({ ok: true, entry });
    expect(store.has(entry.path.attrs)).toBe(false);
    expect(orig.list()).toEqual([]);
    expect(orig.withdraw('10.244.1.0/26')).toMatchObject({ ok: false, error: 'not-announced' });
    expect(orig.withdraw('10.244.1.0/99')).toMatchObject({ ok: false, error: 'invalid-prefix' });
  });

  it('list: IPv4 in numeric order, then IPv6', () => {
    const { orig } = setup();
    for (const p of ['fd00::/64', '192.168.0.0/24', '10.244.1.64/26', '10.244.1.0/26', '10.244.1.0/24']) ok(orig.announce(p));
    expect(orig.list().map((e) => e.text)).toEqual(['10.244.1.0/24', '10.244.1.0/26', '10.244.1.64/26', '192.168.0.0/24', 'fd00::/64']);
  });

  it('clear withdraws everything', () => {
    const { orig, store } = setup();
    ok(orig.announce('10.244.1.0/26'));
    ok(orig.announce('fd00::/64', ['1:1']));
    expect(orig.clear()).toHaveLength(2);
    expect(store.size()).toBe(0);
  });
});

describe('reconcileConfig', () => {
  it('first load announces every entry; the same config again changes nothing', () => {
    const { orig } = setup();
    const cfg = [{ prefix: '10.244.1.0/26', communities: ['64512:100'] }, { prefix: 'fd00:10:244:1::/122' }];
    const first = orig.reconcileConfig(cfg);
    expect(first.announce.map((e) => e.text)).toEqual(['10.244.1.0/26', 'fd00:10:244:1::/122']);
    expect(first.withdraw).toEqual([]);
    expect(first.announce.every((e) => e.source === 'config')).toBe(true);
    expect(orig.reconcileConfig(cfg)).toEqual({ announce: [], withdraw: [], errors: [] });
  });

  it('reload: adds, changes communities, removes; API announcements survive', () => {
    const { orig, store } = setup();
    orig.reconcileConfig([{ prefix: '10.244.1.0/26', communities: ['64512:100'] }, { prefix: '10.244.2.0/26' }]);
    ok(orig.announce('10.96.0.10/32'));
    const changes = orig.reconcileConfig([{ prefix: '10.244.1.0/26', communities: ['64512:200'] }, { prefix: '10.244.3.0/26' }]);
    expect(changes.announce.map((e) => [e.text, e.communities])).toEqual([
      ['10.244.1.0/26', ['64512:200']],
      ['10.244.3.0/26', []],
    ]);
    expect(changes.withdraw.map((e) => e.text)).toEqual(['10.244.2.0/26']);
    expect(orig.list().map((e) => [e.text, e.source])).toEqual([
      ['10.96.0.10/32', 'api'],
      ['10.244.1.0/26', 'config'],
      ['10.244.3.0/26', 'config'],
    ]);
    // Sets held: {64512:200} and {} (shared by 10.244.3.0/26 and 10.96.0.10/32).
    expect(store.size()).toBe(2);
  });

  it('the API cannot change or withdraw config entries', () => {
    const { orig } = setup();
    orig.reconcileConfig([{ prefix: '10.244.1.0/26' }]);
    expect(orig.announce('10.244.1.0/26', ['1:1'])).toMatchObject({ ok: false, error: 'configured' });
    expect(orig.withdraw('10.244.1.0/26')).toMatchObject({ ok: false, error: 'configured' });
    expect(orig.get(prefixParse('10.244.1.0/26')!)?.communities).toEqual([]);
  });

  it('config takes over an API announcement; dropping it from config then withdraws it', () => {
    const { orig } = setup();
    const api = ok(orig.announce('10.244.5.0/26')).entry;
    const same = orig.reconcileConfig([{ prefix: '10.244.5.0/26' }]);
    expect(same.announce).toEqual([]); // same attributes: the path stays
    expect(orig.get(api.prefix)?.source).toBe('config');
    expect(orig.get(api.prefix)?.path).toBe(api.path);
    expect(orig.reconcileConfig([]).withdraw.map((e) => e.text)).toEqual(['10.244.5.0/26']);
  });

  it('unparsable entries are reported by index, duplicates count once', () => {
    const { orig } = setup();
    const r = orig.reconcileConfig([{ prefix: '10.244.1.1/26' }, { prefix: '10.244.1.0/26' }, { prefix: '10.244.1.0/26', communities: ['9:9'] }]);
    expect(r.errors).toMatchObject([{ index: 0, error: 'invalid-prefix' }]);
    expect(r.announce.map((e) => [e.text, e.communities])).toEqual([['10.244.1.0/26', []]]);
  });
});
