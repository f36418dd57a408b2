// Reload diff: each kind of change gets the least disruptive correct verdict.
import { describe, expect, it } from 'vitest';
import { diffConfig, deepEqual, type NeighborChange } from '../../src/config/diff.js';
import { parseConfig } from '../../src/config/load.js';
import type { BgpConfig } from '../../src/config/schema.js';

const BASE = `
routerId: 192.0.2.1
asn: 64512
neighbors:
  - { address: 192.0.2.2, asn: 64512, description: node-b }
  - { address: "2001:db8::2", asn: 65001 }
listenRanges:
  - { prefix: 198.51.100.0/24, asn: 64512, routeReflectorClient: true }
originate:
  - { prefix: 10.244.1.0/26 }
  - { prefix: 10.244.2.0/26, communities: ["64512:100"] }
ipPools:
  - { cidr: 10.244.0.0/16, mode: ipip }
serviceCidrs: [10.96.0.0/12]
`;

function cfg(text: string): BgpConfig {
  const r = parseConfig(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** BASE with a text substitution applied. */
const edit = (from: string, to: string) => {
  if (!BASE.includes(from)) throw new Error(`BASE lacks ${from}`);
  return cfg(BASE.replace(from, to));
};

const old = cfg(BASE);
const node = (changes: readonly NeighborChange[], key: string) => changes.find((c) => c.key === key)!;

describe('diffConfig', () => {
  it('identical configs: empty diff, every neighbor unchanged', () => {
    const d = diffConfig(old, cfg(BASE));
    expect(d.empty).toBe(true);
    expect(d.restartRequired).toEqual([]);
    expect(d.neighbors.map((n) => [n.key, n.kind])).toEqual([['192.0.2.2', 'unchanged'], ['2001:db8::2', 'unchanged']]);
    expect(d.originate).toEqual({ added: [], removed: [], changed: [] });
  });

  it('neighbors added and removed', () => {
    const d = diffConfig(old, edit('  - { address: "2001:db8::2", asn: 65001 }', '  - { address: 192.0.2.3, asn: 64512 }'));
    expect(d.neighbors.map((n) => [n.key, n.kind])).toEqual([
      ['192.0.2.2', 'unchanged'], ['192.0.2.3', 'added'], ['2001:db8::2', 'removed'],
    ]);
    expect(d.empty).toBe(false);
  });

  it('IPv6 addresses are compared canonically', () => {
    const d = diffConfig(old, edit('"2001:db8::2"', '"2001:DB8:0:0::2"'));
    expect(node(d.neighbors, '2001:db8::2').kind).not.toBe('added');
    expect(d.neighbors).toHaveLength(2);
  });

  it.each([
    ['asn', 'asn: 64512, description', 'asn: 64513, description'],
    ['port', 'description: node-b', 'description: node-b, port: 1179'],
    ['localAddress', 'description: node-b', 'description: node-b, localAddress: 192.0.2.1'],
    ['holdTime', 'description: node-b', 'description: node-b, holdTime: 30'],
    ['families', 'description: node-b', 'description: node-b, families: [ipv4-unicast]'],
    ['password', 'description: node-b', 'description: node-b, password: s3cret'],
    ['ttlSecurity', 'description: node-b', 'description: node-b, ttlSecurity: 1'],
    ['addPath', 'description: node-b', 'description: node-b, addPath: both'],
    ['gracefulRestart', 'description: node-b', 'description: node-b, gracefulRestart: { restartTime: 60 }'],
    ['passive', 'description: node-b', 'description: node-b, passive: true'],
    ['localAsn', 'description: node-b', 'description: node-b, localAsn: 64999'],
    ['routeReflectorClient', 'description: node-b', 'description: node-b, routeReflectorClient: true'],
    ['shutdown', 'description: node-b', 'description: node-b, shutdown: true'],
  ])('a %s change resets the session', (reason, from, to) => {
    const c = node(diffConfig(old, edit(from, to)).neighbors, '192.0.2.2');
    expect(c.kind).toBe('reset');
    if (c.kind === 'reset') expect(c.reasons).toEqual([reason]);
    // The other neighbor is untouched.
  });

  it('import change -> soft-in only; export change -> soft-out only', () => {
    const imp = node(diffConfig(old, edit('description: node-b', 'description: node-b, import: [{ action: reject }]')).neighbors, '192.0.2.2');
    expect(imp).toMatchObject({ kind: 'soft', softIn: true, softOut: false, reasons: ['import'] });
    const exp = node(diffConfig(old, edit('description: node-b', 'description: node-b, export: [{ action: reject }]')).neighbors, '192.0.2.2');
    expect(exp).toMatchObject({ kind: 'soft', softIn: false, softOut: true, reasons: ['export'] });
    const nh = node(diffConfig(old, edit('description: node-b', 'description: node-b, nextHopMode: self')).neighbors, '192.0.2.2');
    expect(nh).toMatchObject({ kind: 'soft', softIn: false, softOut: true, reasons: ['nextHopMode'] });
  });

  it('description-only change: soft with no refresh at all', () => {
    const c = node(diffConfig(old, edit('description: node-b', 'description: node-b-renamed')).neighbors, '192.0.2.2');
    expect(c).toMatchObject({ kind: 'soft', softIn: false, softOut: false, reasons: ['description'] });
  });

  it('a reset wins over a simultaneous policy change', () => {
    const c = node(diffConfig(old, edit('description: node-b', 'holdTime: 30, import: [{ action: reject }]')).neighbors, '192.0.2.2');
    expect(c).toMatchObject({ kind: 'reset', reasons: ['holdTime'] });
  });

  it('routerId, asn and listen changes require a restart', () => {
    expect(diffConfig(old, edit('routerId: 192.0.2.1', 'routerId: 192.0.2.9')).restartRequired).toEqual(['routerId']);
    expect(diffConfig(old, { ...old, asn: 64513 }).restartRequired).toEqual(['asn']);
    expect(diffConfig(old, cfg(BASE + 'listen: { port: 1179 }\n')).restartRequired).toEqual(['listen']);
  });

  it('global import/export fold into every neighbor as soft-in/soft-out', () => {
    const d = diffConfig(old, cfg(BASE + 'import: [{ action: accept }]\n'));
    expect(d.neighbors.every((n) => n.kind === 'soft' && n.softIn && !n.softOut)).toBe(true);
    expect(d.listenRanges[0]).toMatchObject({ kind: 'soft', softIn: true, softOut: false, reasons: ['global import'] });
    const e = diffConfig(old, cfg(BASE + 'clientToClientReflection: false\n'));
    expect(e.neighbors.every((n) => n.kind === 'soft' && !n.softIn && n.softOut)).toBe(true);
  });

  it('hostname change resets every session (it is in the OPEN)', () => {
    const d = diffConfig(old, cfg(BASE + 'hostname: node-a\n'));
    expect(d.neighbors.map((n) => n.kind)).toEqual(['reset', 'reset']);
    expect(d.restartRequired).toEqual([]);
  });

  it('alwaysCompareMed only asks for a new decision', () => {
    const d = diffConfig(old, cfg(BASE + 'alwaysCompareMed: true\n'));
    expect(d.redecide).toBe(true);
    expect(d.neighbors.map((n) => n.kind)).toEqual(['unchanged', 'unchanged']);
  });

  it('listen ranges: changed settings classified like neighbors', () => {
    const d = diffConfig(old, edit('routeReflectorClient: true }', 'routeReflectorClient: true, holdTime: 9 }'));
    expect(d.listenRanges[0]).toMatchObject({ kind: 'reset', key: '198.51.100.0/24', reasons: ['holdTime'] });
  });

  it('originate: added, removed and changed communities', () => {
    const d = diffConfig(
      old,
      edit('  - { prefix: 10.244.1.0/26 }\n  - { prefix: 10.244.2.0/26, communities: ["64512:100"] }',
        '  - { prefix: 10.244.2.0/26, communities: ["64512:200"] }\n  - { prefix: 10.244.3.0/26 }'),
    );
    expect(d.originate.added.map((o) => o.prefix)).toEqual(['10.244.3.0/26']);
    expect(d.originate.removed.map((o) => o.prefix)).toEqual(['10.244.1.0/26']);
    expect(d.originate.changed).toEqual([{ prefix: '10.244.2.0/26', communities: ['64512:200'] }]);
  });

  it('ipPools, serviceCidrs, fib, api and log changes', () => {
    const d = diffConfig(old, edit('mode: ipip', 'mode: crossSubnet'));
    expect(d.ipPools.changed.map((p) => p.mode)).toEqual(['crossSubnet']);
    const s = diffConfig(old, edit('serviceCidrs: [10.96.0.0/12]', 'serviceCidrs: [10.100.0.0/16]'));
    expect(s.serviceCidrs).toEqual({ added: ['10.100.0.0/16'], removed: ['10.96.0.0/12'] });
    const f = diffConfig(old, cfg(BASE + 'fib: { ecmp: 4 }\nlog: { level: debug }\n'));
    expect([f.fibChanged, f.apiChanged, f.logLevelChanged]).toEqual([true, false, true]);
    expect(f.neighbors.map((n) => n.kind)).toEqual(['unchanged', 'unchanged']);
  });
});

describe('deepEqual', () => {
  it('ignores key order and absent-vs-undefined, but not values or array order', () => {
    expect(deepEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(deepEqual({ a: 1 }, { a: '1' })).toBe(false);
    expect(deepEqual([], {})).toBe(false);
  });
});
