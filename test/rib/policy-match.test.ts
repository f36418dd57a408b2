// Policy match conditions, one kind at a time, each positive and negative:
// prefix operators with ge/le edges (IPv4 numbers, IPv6 hex keys), family,
// peer type, communities (standard and large), AS path contains/prefix, next hop.
import { describe, expect, it } from 'vitest';
import { AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET, type PathAttributes } from '../../src/bgp/wire/types.js';
import type { PolicyRule } from '../../src/config/schema.js';
import { prefixParse } from '../../src/lib/prefix.js';
import { AttrStore } from '../../src/rib/attr-store.js';
import { PolicyConfigError, compileMatch, matches } from '../../src/rib/policy/match.js';
import { localPeer } from '../../src/rib/route.js';
import { LOCAL_AS, ROUTER_ID, attrs, peer, seq } from './fixtures.js';

type Match = NonNullable<PolicyRule['match']>;

const store = new AttrStore();
const ebgp = peer('192.0.2.2'); // AS 65001
const ibgp = peer('192.0.2.3', { asn: LOCAL_AS });
const local = localPeer(ROUTER_ID, LOCAL_AS);

function key(text: string) {
  const k = prefixParse(text);
  if (k === undefined) throw new Error(`bad prefix ${text}`);
  return k;
}

/** Does `match` select the route `prefix` with attributes `over` from `from`? */
function hit(match: Match, prefix: string, over: Partial<PathAttributes> = {}, from = ebgp): boolean {
  return matches(compileMatch(match, 'm'), key(prefix), store.intern(attrs(over)), from);
}

describe('prefix operators (IPv4)', () => {
  const pool = '10.244.0.0/16';

  it('equal is the exact prefix only', () => {
    expect(hit({ prefix: pool, matchOperator: 'equal' }, '10.244.0.0/16')).toBe(true);
    expect(hit({ prefix: pool, matchOperator: 'equal' }, '10.244.0.0/17')).toBe(false);
    expect(hit({ prefix: pool, matchOperator: 'equal' }, '10.245.0.0/16')).toBe(false);
    expect(hit({ prefix: pool, matchOperator: 'equal' }, '10.0.0.0/8')).toBe(false);
  });

  it('notEqual is every other IPv4 prefix', () => {
    expect(hit({ prefix: pool, matchOperator: 'notEqual' }, '10.244.0.0/16')).toBe(false);
    expect(hit({ prefix: pool, matchOperator: 'notEqual' }, '10.244.0.0/17')).toBe(true);
    expect(hit({ prefix: pool, matchOperator: 'notEqual' }, '192.168.0.0/16')).toBe(true);
  });

  it('in without ge/le: the prefix and every more-specific, nothing shorter or outside', () => {
    const m = { prefix: pool, matchOperator: 'in' } as const;
    expect(hit(m, '10.244.0.0/16')).toBe(true);
    expect(hit(m, '10.244.255.255/32')).toBe(true);
    expect(hit(m, '10.244.17.64/26')).toBe(true);
    expect(hit(m, '10.0.0.0/8')).toBe(false); // shorter, though it contains the pool
    expect(hit(m, '10.245.0.0/26')).toBe(false);
    expect(hit(m, '10.243.255.192/26')).toBe(false);
  });

  it('matchOperator defaults to in', () => {
    expect(hit({ prefix: pool }, '10.244.1.0/26')).toBe(true);
    expect(hit({ prefix: pool }, '10.0.0.0/8')).toBe(false);
  });

  it('in honours le: /26 in 10.244.0.0/16 le 26 matches, /27 does not', () => {
    const m = { prefix: pool, matchOperator: 'in', le: 26 } as const;
    expect(hit(m, '10.244.1.0/26')).toBe(true);
    expect(hit(m, '10.244.1.0/27')).toBe(false);
    expect(hit(m, '10.244.0.0/16')).toBe(true);
  });

  it('in honours ge at its edge', () => {
    const m = { prefix: pool, matchOperator: 'in', ge: 24 } as const;
    expect(hit(m, '10.244.2.0/23')).toBe(false);
    expect(hit(m, '10.244.3.0/24')).toBe(true);
    expect(hit(m, '10.244.3.4/32')).toBe(true);
  });

  it('in with ge = le selects one length', () => {
    const m = { prefix: pool, ge: 26, le: 26 } as const;
    expect(hit(m, '10.244.1.0/25')).toBe(false);
    expect(hit(m, '10.244.1.0/26')).toBe(true);
    expect(hit(m, '10.244.1.0/27')).toBe(false);
  });

  it('notIn negates in, ge/le included', () => {
    const m = { prefix: pool, matchOperator: 'notIn', le: 26 } as const;
    expect(hit(m, '10.244.1.0/26')).toBe(false);
    expect(hit(m, '10.244.1.0/27')).toBe(true); // inside the CIDR but longer than le
    expect(hit(m, '172.16.0.0/12')).toBe(true);
  });

  it('0.0.0.0/0 in covers every IPv4 prefix, high addresses included', () => {
    expect(hit({ prefix: '0.0.0.0/0' }, '255.255.255.255/32')).toBe(true);
    expect(hit({ prefix: '0.0.0.0/0', le: 0 }, '0.0.0.0/0')).toBe(true);
    expect(hit({ prefix: '0.0.0.0/0', le: 0 }, '128.0.0.0/1')).toBe(false);
  });

  it('addresses above 2^31 compare as unsigned', () => {
    expect(hit({ prefix: '192.168.0.0/16' }, '192.168.10.0/24')).toBe(true);
    expect(hit({ prefix: '192.168.0.0/16' }, '64.168.10.0/24')).toBe(false);
    expect(hit({ prefix: '255.255.255.0/24', ge: 32 }, '255.255.255.7/32')).toBe(true);
  });

  it('an IPv4 rule never matches an IPv6 route, even negated', () => {
    for (const op of ['equal', 'in', 'notEqual', 'notIn'] as const)
      expect(hit({ prefix: pool, matchOperator: op }, 'fd00::/64')).toBe(false);
  });
});

describe('prefix operators (IPv6)', () => {
  const pool = 'fd00:10:244::/48';

  it('in, with a length boundary inside a hex digit', () => {
    expect(hit({ prefix: pool }, 'fd00:10:244:1::/64')).toBe(true);
    expect(hit({ prefix: pool }, 'fd00:10:245::/64')).toBe(false);
    expect(hit({ prefix: pool }, 'fd00:10::/32')).toBe(false);
    // /46 ends two bits into the 12th hex digit: 2001:db8:4::/46 covers :4:: to :7::
    expect(hit({ prefix: '2001:db8:4::/46' }, '2001:db8:7:ff00::/56')).toBe(true);
    expect(hit({ prefix: '2001:db8:4::/46' }, '2001:db8:8::/56')).toBe(false);
    expect(hit({ prefix: '2001:db8:4::/46' }, '2001:db8:3::/56')).toBe(false);
  });

  it('ge/le edges on /122 blocks', () => {
    const m = { prefix: pool, ge: 64, le: 122 } as const;
    expect(hit(m, 'fd00:10:244::/63')).toBe(false);
    expect(hit(m, 'fd00:10:244:1::/64')).toBe(true);
    expect(hit(m, 'fd00:10:244:1::40/122')).toBe(true);
    expect(hit(m, 'fd00:10:244:1::40/123')).toBe(false);
    expect(hit(m, 'fd00:10:244:1::40/128')).toBe(false);
  });

  it('equal, notEqual, notIn', () => {
    expect(hit({ prefix: pool, matchOperator: 'equal' }, 'fd00:10:244::/48')).toBe(true);
    expect(hit({ prefix: pool, matchOperator: 'equal' }, 'fd00:10:244::/49')).toBe(false);
    expect(hit({ prefix: pool, matchOperator: 'notEqual' }, 'fd00:10:244::/49')).toBe(true);
    expect(hit({ prefix: pool, matchOperator: 'notIn' }, 'fd00:10:244:1::/64')).toBe(false);
    expect(hit({ prefix: pool, matchOperator: 'notIn' }, '2001:db8::/64')).toBe(true);
    expect(hit({ prefix: pool, matchOperator: 'notIn' }, '10.0.0.0/8')).toBe(false); // other family
  });

  it('::/0 covers every IPv6 prefix', () => {
    expect(hit({ prefix: '::/0' }, 'ffff::/16')).toBe(true);
    expect(hit({ prefix: '::/0' }, '::/0')).toBe(true);
  });
});

describe('other conditions', () => {
  it('family', () => {
    expect(hit({ family: 'ipv4-unicast' }, '10.0.0.0/8')).toBe(true);
    expect(hit({ family: 'ipv4-unicast' }, 'fd00::/8')).toBe(false);
    expect(hit({ family: 'ipv6-unicast' }, 'fd00::/8')).toBe(true);
    expect(hit({ family: 'ipv6-unicast' }, '10.0.0.0/8')).toBe(false);
  });

  it('peerType: eBGP, iBGP, and the local pseudo-peer is neither', () => {
    expect(hit({ peerType: 'ebgp' }, '10.0.0.0/8', {}, ebgp)).toBe(true);
    expect(hit({ peerType: 'ebgp' }, '10.0.0.0/8', {}, ibgp)).toBe(false);
    expect(hit({ peerType: 'ibgp' }, '10.0.0.0/8', {}, ibgp)).toBe(true);
    expect(hit({ peerType: 'ibgp' }, '10.0.0.0/8', {}, ebgp)).toBe(false);
    expect(hit({ peerType: 'ebgp' }, '10.0.0.0/8', {}, local)).toBe(false);
    expect(hit({ peerType: 'ibgp' }, '10.0.0.0/8', {}, local)).toBe(false);
    expect(hit({}, '10.0.0.0/8', {}, local)).toBe(true);
  });

  it('communities: every listed one must be present', () => {
    const c = (a: number, b: number) => (a * 65536 + b) >>> 0;
    const m = { communities: ['64512:100', '65535:65281'] };
    expect(hit(m, '10.0.0.0/8', { communities: [c(64512, 100), 0xffffff01] })).toBe(true);
    expect(hit(m, '10.0.0.0/8', { communities: [0xffffff01, c(1, 1), c(64512, 100)] })).toBe(true);
    expect(hit(m, '10.0.0.0/8', { communities: [c(64512, 100)] })).toBe(false);
    expect(hit(m, '10.0.0.0/8', { communities: [c(64512, 101), 0xffffff01] })).toBe(false);
    expect(hit(m, '10.0.0.0/8')).toBe(false); // no COMMUNITIES at all
  });

  it('large communities: triples compared whole', () => {
    const m = { communities: ['64512:1:4294967295'] };
    expect(hit(m, '10.0.0.0/8', { largeCommunities: [{ global: 64512, local1: 1, local2: 4294967295 }] })).toBe(true);
    expect(hit(m, '10.0.0.0/8', { largeCommunities: [{ global: 64512, local1: 4294967295, local2: 1 }] })).toBe(false);
    expect(hit(m, '10.0.0.0/8', { largeCommunities: [{ global: 64512, local1: 1, local2: 4294967294 }] })).toBe(false);
    expect(hit(m, '10.0.0.0/8', { communities: [(64512 * 65536 + 1) >>> 0] })).toBe(false); // a standard one is not a large one
  });

  it('standard and large together: both kinds required', () => {
    const m = { communities: ['64512:7', '64512:0:7'] };
    const large = [{ global: 64512, local1: 0, local2: 7 }];
    expect(hit(m, '10.0.0.0/8', { communities: [64512 * 65536 + 7], largeCommunities: large })).toBe(true);
    expect(hit(m, '10.0.0.0/8', { largeCommunities: large })).toBe(false);
    expect(hit(m, '10.0.0.0/8', { communities: [64512 * 65536 + 7] })).toBe(false);
  });

  it('asPathContains looks in every segment, sets included', () => {
    expect(hit({ asPathContains: 65010 }, '10.0.0.0/8', { asPath: seq(65001, 65010, 65020) })).toBe(true);
    expect(hit({ asPathContains: 65010 }, '10.0.0.0/8', { asPath: [{ type: AS_SEQUENCE, asns: [65001] }, { type: AS_SET, asns: [65009, 65010] }] })).toBe(true);
    expect(hit({ asPathContains: 65010 }, '10.0.0.0/8', { asPath: seq(65001, 65011) })).toBe(false);
    expect(hit({ asPathContains: 65010 }, '10.0.0.0/8', { asPath: [] })).toBe(false);
  });

  it('asPathPrefix: leading sequence, across segments, skipping confederation segments', () => {
    expect(hit({ asPathPrefix: [65001, 65002] }, '10.0.0.0/8', { asPath: seq(65001, 65002, 65003) })).toBe(true);
    expect(hit({ asPathPrefix: [65001, 65002] }, '10.0.0.0/8', { asPath: seq(65001, 65002) })).toBe(true);
    expect(hit({ asPathPrefix: [65001, 65002] }, '10.0.0.0/8', { asPath: seq(65002, 65001) })).toBe(false);
    expect(hit({ asPathPrefix: [65001, 65002] }, '10.0.0.0/8', { asPath: seq(65001) })).toBe(false); // too short
    expect(hit({ asPathPrefix: [65001, 65002] }, '10.0.0.0/8', { asPath: seq(65000, 65001, 65002) })).toBe(false); // contains, not starts
    const split = [{ type: AS_SEQUENCE, asns: [65001] }, { type: AS_SEQUENCE, asns: [65002, 65003] }] as const;
    expect(hit({ asPathPrefix: [65001, 65002] }, '10.0.0.0/8', { asPath: split })).toBe(true);
    const confed = [{ type: AS_CONFED_SEQUENCE, asns: [64600] }, { type: AS_SEQUENCE, asns: [65001, 65002] }] as const;
    expect(hit({ asPathPrefix: [65001, 65002] }, '10.0.0.0/8', { asPath: confed })).toBe(true);
    const intoSet = [{ type: AS_SEQUENCE, asns: [65001] }, { type: AS_SET, asns: [65002] }] as const;
    expect(hit({ asPathPrefix: [65001, 65002] }, '10.0.0.0/8', { asPath: intoSet })).toBe(false);
  });

  it('nextHop within a prefix, IPv4 and IPv6; none on originated routes', () => {
    expect(hit({ nextHop: '192.0.2.0/24' }, '10.0.0.0/8', { nextHop: '192.0.2.254' })).toBe(true);
    expect(hit({ nextHop: '192.0.2.0/24' }, '10.0.0.0/8', { nextHop: '198.51.100.1' })).toBe(false);
    expect(hit({ nextHop: '192.0.2.0/24' }, '10.0.0.0/8', { nextHop: undefined })).toBe(false);
    const mp = (nh: string) => ({ nextHop: undefined, mpReach: { family: 'ipv6-unicast' as const, nextHop: nh, nlri: { family: 'ipv6-unicast' as const, prefixes: [] } } });
    expect(hit({ nextHop: '2001:db8:1::/48' }, 'fd00::/64', mp('2001:db8:1::7'))).toBe(true);
    expect(hit({ nextHop: '2001:db8:1::/48' }, 'fd00::/64', mp('2001:db8:2::7'))).toBe(false);
    expect(hit({ nextHop: '2001:db8:1::/48' }, 'fd00::/64', { nextHop: '192.0.2.1' })).toBe(false);
  });

  it('all conditions must hold together', () => {
    const m: Match = { prefix: '10.244.0.0/16', le: 26, peerType: 'ibgp', communities: ['64512:100'] };
    const withC = { communities: [64512 * 65536 + 100] };
    expect(hit(m, '10.244.1.0/26', withC, ibgp)).toBe(true);
    expect(hit(m, '10.244.1.0/26', withC, ebgp)).toBe(false);
    expect(hit(m, '10.244.1.0/26', {}, ibgp)).toBe(false);
    expect(hit(m, '10.244.1.0/27', withC, ibgp)).toBe(false);
  });

  it('no match block matches everything', () => {
    expect(matches(compileMatch(undefined, 'm'), key('fd00::/8'), store.intern(attrs()), ebgp)).toBe(true);
  });
});

describe('compile errors name the config path', () => {
  it('bad prefix, bounds, family clash, community text', () => {
    const err = (m: Match) => {
      try {
        compileMatch(m, 'import[3].match');
      } catch (e) {
        return e instanceof PolicyConfigError ? e.path : 'other';
      }
      return 'none';
    };
    expect(err({ prefix: '10.0.0.0/33' })).toBe('import[3].match.prefix');
    expect(err({ prefix: '10.244.0.0/16', le: 8 })).toBe('import[3].match.prefix');
    expect(err({ prefix: '10.244.0.0/16', ge: 30, le: 26 })).toBe('import[3].match.prefix');
    expect(err({ prefix: '10.244.0.0/16', family: 'ipv6-unicast' })).toBe('import[3].match.family');
    expect(err({ communities: ['64512:70000'] })).toBe('import[3].match.communities[0]');
    expect(err({ ge: 24 })).toBe('import[3].match.prefix');
    expect(err({ prefix: '10.244.0.0/16', le: 26 })).toBe('none');
  });
});
