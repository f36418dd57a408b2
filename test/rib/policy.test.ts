// Policy evaluation: first match wins, global then per-peer chaining, each
// set-action's attributes (input set untouched), no-op returning the very same
// AttrSet, the set-action cache and reference counts, RFC 8212 default-deny.
import { describe, expect, it } from 'vitest';
import { AS_SEQUENCE, AS_SET, type PathAttributes } from '../../src/bgp/wire/types.js';
import type { PolicyRule } from '../../src/config/schema.js';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import { AttrStore, type AttrSet } from '../../src/rib/attr-store.js';
import { applySets, compileSet, prependAsPath } from '../../src/rib/policy/actions.js';
import { compileGlobalPolicies, compilePeerPolicies, compilePolicy, compileRules, evaluate, type Policy, type PolicyVerdict } from '../../src/rib/policy/policy.js';
import { localPeer, type PeerInfo } from '../../src/rib/route.js';
import { LOCAL_AS, ROUTER_ID, attrs, peer, seq } from './fixtures.js';

const ebgp = peer('192.0.2.2'); // AS 65001
const ibgp = peer('192.0.2.3', { asn: LOCAL_AS });
const local = localPeer(ROUTER_ID, LOCAL_AS);
const BLOCK = prefixParse('10.244.1.0/26') as number;
const C = (a: number, b: number) => (a * 65536 + b) >>> 0;

function run(policy: Policy, over: Partial<PathAttributes> = {}, from: PeerInfo = ebgp, prefix: PrefixKey = BLOCK, store = new AttrStore()) {
  const input = store.intern(attrs(over));
  const verdict = evaluate(policy, { prefix, attrs: input, peer: from }, store);
  return { input, verdict, store };
}

function accepted(v: PolicyVerdict): AttrSet {
  if (!v.accept) throw new Error(`rejected by ${v.reason} ${v.list}[${v.rule}]`);
  return v.attrs;
}

const importPolicy = (rules: PolicyRule[] | undefined, global?: PolicyRule[], ebgpRequiresPolicy = false) =>
  compilePolicy(rules, { direction: 'import', ...(global ? { global } : {}), ebgpRequiresPolicy });
const exportPolicy = (rules: PolicyRule[] | undefined) => compilePolicy(rules, { direction: 'export' });

describe('first match wins', () => {
  const rules: PolicyRule[] = [
    { match: { prefix: '10.244.1.0/24' }, action: 'reject' },
    { match: { prefix: '10.244.0.0/16' }, action: 'accept', set: { localPref: 200 } },
    { action: 'reject' },
  ];

  it('the earliest matching rule decides, later ones are not consulted', () => {
    const p = importPolicy(rules);
    expect(run(p, {}, ebgp, prefixParse('10.244.1.0/26')!).verdict).toEqual({ accept: false, reason: 'rule', rule: 0, list: 'peer' });
    const v = run(p, {}, ebgp, prefixParse('10.244.2.0/26')!).verdict;
    expect(v.accept && v.rule).toBe(1);
    expect(accepted(v).attrs.localPref).toBe(200);
    expect(run(p, {}, ebgp, prefixParse('10.245.0.0/26')!).verdict).toEqual({ accept: false, reason: 'rule', rule: 2, list: 'peer' });
  });

  it('reordering the same rules changes the verdict', () => {
    const p = importPolicy([rules[1]!, rules[0]!, rules[2]!]);
    const v = run(p, {}, ebgp, prefixParse('10.244.1.0/26')!).verdict;
    expect(v.accept && v.rule).toBe(0);
  });

  it('no rule matched: accepted unchanged (Calico default)', () => {
    const p = importPolicy([{ match: { prefix: '192.168.0.0/16' }, action: 'reject' }]);
    const { input, verdict } = run(p);
    expect(verdict).toEqual({ accept: true, attrs: input, medSet: false });
  });
});

describe('set-actions', () => {
  it('localPref and med: new interned set, input untouched, one reference for the caller', () => {
    const { input, verdict, store } = run(importPolicy([{ action: 'accept', set: { localPref: 300, med: 7 } }]), { med: 1 });
    const out = accepted(verdict);
    expect(out).not.toBe(input);
    expect(out.attrs.localPref).toBe(300);
    expect(out.attrs.med).toBe(7);
    expect(input.attrs.localPref).toBeUndefined();
    expect(input.attrs.med).toBe(1);
    expect(store.has(out)).toBe(true);
    expect(out.refs).toBe(1);
    expect(input.refs).toBe(1);
    expect(verdict.accept && verdict.medSet).toBe(true);
  });

  it('addCommunities: standard to COMMUNITIES, large to LARGE_COMMUNITY, appended, no duplicates', () => {
    const p = importPolicy([{ action: 'accept', set: { addCommunities: ['64512:100', '65000:1', '64512:1:2', '64512:100'] } }]);
    const { input, verdict } = run(p, { communities: [C(65000, 1), C(1, 1)], largeCommunities: [{ global: 9, local1: 9, local2: 9 }] });
    const out = accepted(verdict).attrs;
    expect(out.communities).toEqual([C(65000, 1), C(1, 1), C(64512, 100)]);
    expect(out.largeCommunities).toEqual([{ global: 9, local1: 9, local2: 9 }, { global: 64512, local1: 1, local2: 2 }]);
    expect(input.attrs.communities).toEqual([C(65000, 1), C(1, 1)]);
    expect(input.attrs.largeCommunities).toHaveLength(1);
  });

  it('addCommunities on a route without any creates the attributes', () => {
    const p = importPolicy([{ action: 'accept', set: { addCommunities: ['64512:100', '1:2:3'] } }]);
    const out = accepted(run(p).verdict).attrs;
    expect(out.communities).toEqual([C(64512, 100)]);
    expect(out.largeCommunities).toEqual([{ global: 1, local1: 2, local2: 3 }]);
  });

  it('import prepend repeats the eBGP peer AS; iBGP the neighbour AS; nothing on an empty path', () => {
    const p = importPolicy([{ action: 'accept', set: { prepend: 2 } }]);
    expect(accepted(run(p, { asPath: seq(65001, 65100) }, ebgp).verdict).attrs.asPath).toEqual(seq(65001, 65001, 65001, 65100));
    expect(accepted(run(p, { asPath: seq(65200, 65100) }, ibgp).verdict).attrs.asPath).toEqual(seq(65200, 65200, 65200, 65100));
    const { input, verdict } = run(p, { asPath: [] }, ibgp);
    expect(accepted(verdict)).toBe(input);
  });

  it('export prepend repeats our ASN on the session, toward eBGP only', () => {
    const p = exportPolicy([{ action: 'accept', set: { prepend: 3 } }]);
    const other = peer('192.0.2.9', { asn: 65009 });
    expect(accepted(run(p, { asPath: seq(65001) }, other).verdict).attrs.asPath).toEqual(seq(LOCAL_AS, LOCAL_AS, LOCAL_AS, 65001));
    const { input, verdict } = run(p, { asPath: seq(65001) }, ibgp);
    expect(accepted(verdict)).toBe(input);
  });

  it('prepend leaves the input path alone; IPv6 attributes (MP_REACH next hop) carry through', () => {
    const p = importPolicy([{ action: 'accept', set: { prepend: 1, med: 3 } }]);
    const mpReach = { family: 'ipv6-unicast' as const, nextHop: '2001:db8::2', linkLocalNextHop: 'fe80::2', nlri: { family: 'ipv6-unicast' as const, prefixes: [] } };
    const { input, verdict } = run(p, { nextHop: undefined, asPath: seq(65001), mpReach }, ebgp, prefixParse('fd00:10:244:1::/122')!);
    const out = accepted(verdict);
    expect(out.attrs.asPath).toEqual(seq(65001, 65001));
    expect(input.attrs.asPath).toEqual(seq(65001));
    expect(out.nextHopV6).toBe('2001:db8::2');
    expect(out.linkLocalNextHop).toBe('fe80::2');
    expect(out.attrs.med).toBe(3);
    expect(out.asPathLength).toBe(2);
  });

  it('prepend before an AS_SET opens a new sequence; a full sequence spills into a new one', () => {
    expect(prependAsPath([{ type: AS_SET, asns: [1, 2] }], 7, 2)).toEqual([{ type: AS_SEQUENCE, asns: [7, 7] }, { type: AS_SET, asns: [1, 2] }]);
    const full = [{ type: AS_SEQUENCE, asns: new Array<number>(254).fill(5) }] as const;
    const out = prependAsPath(full, 7, 3);
    expect(out.map((s) => s.asns.length)).toEqual([2, 255]);
    expect(out[1]!.asns[0]).toBe(7);
    expect(out[0]!.asns).toEqual([7, 7]);
    expect(full[0]!.asns).toHaveLength(254);
  });

  it('actions that change nothing return the very same AttrSet and take no reference', () => {
    const p = importPolicy([{ action: 'accept', set: { localPref: 100, addCommunities: ['64512:100'] } }]);
    const { input, verdict } = run(p, { localPref: 100, communities: [C(64512, 100)] }, ibgp);
    expect(accepted(verdict)).toBe(input);
    expect(input.refs).toBe(1);
  });

  it('applySets reports no change as undefined', () => {
    const s = compileSet({ med: 5 }, 's')!;
    expect(applySets([s], { med: 5 }, undefined)).toBeUndefined();
    expect(applySets([s], { med: 4 }, undefined)).toEqual({ med: 5 });
    expect(compileSet({}, 's')).toBeUndefined();
  });
});

describe('no-op and cached paths', () => {
  it('accept without set-actions hands back the input object', () => {
    const { input, verdict } = run(importPolicy([{ match: { prefix: '10.0.0.0/8' }, action: 'accept' }]));
    expect(accepted(verdict)).toBe(input);
    expect(input.refs).toBe(1);
  });

  it('no policy at all hands back the input object', () => {
    const { input, verdict } = run(importPolicy(undefined));
    expect(accepted(verdict)).toBe(input);
  });

  it('many routes with one input set share one output set; refs count each caller', () => {
    const store = new AttrStore();
    const p = importPolicy([{ action: 'accept', set: { localPref: 250 } }]);
    const input = store.intern(attrs());
    const outs = [0, 1, 2].map((i) => accepted(evaluate(p, { prefix: BLOCK + i * 64 * 64, attrs: input, peer: ebgp }, store)));
    expect(outs[1]).toBe(outs[0]);
    expect(outs[2]).toBe(outs[0]);
    expect(outs[0]!.refs).toBe(3);
    expect(store.size()).toBe(2);
  });

  it('a cached output released meanwhile is interned afresh, not resurrected', () => {
    const store = new AttrStore();
    const p = importPolicy([{ action: 'accept', set: { localPref: 250 } }]);
    const input = store.intern(attrs());
    const first = accepted(evaluate(p, { prefix: BLOCK, attrs: input, peer: ebgp }, store));
    store.release(first);
    expect(store.has(first)).toBe(false);
    const second = accepted(evaluate(p, { prefix: BLOCK, attrs: input, peer: ebgp }, store));
    expect(store.has(second)).toBe(true);
    expect(second.attrs.localPref).toBe(250);
    expect(second.refs).toBe(1);
  });

  it('the cache tells sessions apart by the ASN they prepend', () => {
    const store = new AttrStore();
    const p = exportPolicy([{ action: 'accept', set: { prepend: 1 } }]);
    const input = store.intern(attrs({ asPath: seq(65001) }));
    const a = peer('192.0.2.7', { asn: 65007 });
    const b = { ...peer('192.0.2.8', { asn: 65008 }), localAsn: 4200000000 };
    expect(accepted(evaluate(p, { prefix: BLOCK, attrs: input, peer: a }, store)).attrs.asPath).toEqual(seq(LOCAL_AS, 65001));
    expect(accepted(evaluate(p, { prefix: BLOCK, attrs: input, peer: b }, store)).attrs.asPath).toEqual(seq(4200000000, 65001));
  });
});

describe('global then per-peer chaining', () => {
  const global: PolicyRule[] = [
    { match: { prefix: '10.96.0.0/12' }, action: 'reject' },
    { match: { prefix: '10.244.0.0/16' }, action: 'accept', set: { localPref: 150, addCommunities: ['64512:1'] } },
  ];

  it('a global reject rejects, whatever the peer list says', () => {
    const p = importPolicy([{ action: 'accept' }], global);
    expect(run(p, {}, ebgp, prefixParse('10.96.0.10/32')!).verdict).toEqual({ accept: false, reason: 'rule', rule: 0, list: 'global' });
  });

  it('a peer reject after a global accept rejects', () => {
    const p = importPolicy([{ match: { prefix: '10.244.1.0/24' }, action: 'reject' }], global);
    expect(run(p).verdict).toEqual({ accept: false, reason: 'rule', rule: 0, list: 'peer' });
  });

  it('both accept: global actions first, the peer overrides LOCAL_PREF, communities accumulate', () => {
    const p = importPolicy([{ action: 'accept', set: { localPref: 90, addCommunities: ['64512:2'] } }], global);
    const v = run(p).verdict;
    const out = accepted(v).attrs;
    expect(out.localPref).toBe(90);
    expect(out.communities).toEqual([C(64512, 1), C(64512, 2)]);
    expect(v.accept && [v.list, v.rule]).toEqual(['peer', 0]);
  });

  it('global accept, no peer rule matched: the global actions stand', () => {
    const p = importPolicy([{ match: { prefix: '192.168.0.0/16' }, action: 'reject' }], global);
    const v = run(p).verdict;
    expect(accepted(v).attrs.localPref).toBe(150);
    expect(v.accept && [v.list, v.rule]).toEqual(['global', 1]);
  });

  it('compiled global rules are shared by every peer policy', () => {
    const globals = compileGlobalPolicies({ import: global, export: undefined, ebgpRequiresPolicy: false });
    const a = compilePeerPolicies(globals, {});
    const b = compilePeerPolicies(globals, { import: [{ action: 'reject' }] });
    expect(a.import.global).toBe(b.import.global);
    expect(a.import.global).toBe(globals.import);
    expect(accepted(run(a.import).verdict).attrs.localPref).toBe(150);
    expect(run(b.import).verdict.accept).toBe(false);
  });
});

describe('RFC 8212 default-deny', () => {
  it('eBGP without any rule: rejected both ways; iBGP and local routes are not affected', () => {
    const globals = compileGlobalPolicies({ import: undefined, export: undefined, ebgpRequiresPolicy: true });
    const { import: imp, export: exp } = compilePeerPolicies(globals, {});
    expect(run(imp, {}, ebgp).verdict).toEqual({ accept: false, reason: 'ebgp-without-policy' });
    expect(run(exp, {}, ebgp).verdict).toEqual({ accept: false, reason: 'ebgp-without-policy' });
    expect(run(imp, {}, ibgp).verdict.accept).toBe(true);
    expect(run(exp, {}, ibgp).verdict.accept).toBe(true);
    expect(run(imp, {}, local).verdict.accept).toBe(true);
  });

  it('explicit rules (the peer own or global ones) lift the default-deny for that direction', () => {
    const own = compilePeerPolicies(compileGlobalPolicies({ ebgpRequiresPolicy: true }), { import: [{ match: { prefix: '192.168.0.0/16' }, action: 'reject' }] });
    expect(run(own.import, {}, ebgp).verdict.accept).toBe(true); // policy present, nothing matched
    expect(run(own.export, {}, ebgp).verdict.accept).toBe(false); // still no export policy
    const viaGlobal = compilePeerPolicies(compileGlobalPolicies({ ebgpRequiresPolicy: true, export: [{ action: 'accept' }] }), {});
    expect(run(viaGlobal.export, {}, ebgp).verdict.accept).toBe(true);
  });

  it('off by default', () => {
    expect(run(importPolicy(undefined), {}, ebgp).verdict.accept).toBe(true);
  });
});

describe('compileRules', () => {
  it('a reject rule keeps no set-actions; indices follow the config', () => {
    const list = compileRules([{ action: 'reject', set: { localPref: 1 } }, { action: 'accept', set: { med: 1 } }], 'import');
    expect(list.rules.map((r) => [r.index, r.accept, r.set === undefined])).toEqual([
      [0, false, true],
      [1, true, false],
    ]);
  });

  it('a policy is a frozen value', () => {
    expect(Object.isFrozen(importPolicy([{ action: 'accept' }]))).toBe(true);
  });
});
