// Reload plan: what the daemon refuses to change live (errors naming the
// path), one line per effect it applies, and settings deferred to the next
// session reset.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { planReload } from '../../src/config/reload-plan.js';
import type { BgpConfig } from '../../src/config/schema.js';

const BASE = `
routerId: 192.0.2.1
asn: 64512
neighbors:
  - { address: 192.0.2.2, asn: 64512, description: node-b }
  - { address: 192.0.2.3, asn: 64512 }
originate:
  - { prefix: 10.244.1.0/26 }
ipPools:
  - { cidr: 10.244.0.0/16, mode: ipip }
fib: { enabled: false, ecmp: 1 }
api: { listen: "127.0.0.1:9179" }
log: { level: info }
`;

function cfg(text: string): BgpConfig {
  const r = parseConfig(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}
const edit = (...pairs: [string, string][]) => {
  let t = BASE;
  for (const [from, to] of pairs) {
    if (!t.includes(from)) throw new Error(`BASE lacks ${from}`);
    t = t.replace(from, to);
  }
  return cfg(t);
};
const old = cfg(BASE);

describe('planReload', () => {
  it('the same config: no blockers, no changes', () => {
    expect(planReload(old, cfg(BASE))).toMatchObject({ blockers: [], changes: [], deferred: [] });
  });

  it('routerId, asn, ECMP and the FIB writer cannot change live: errors name the paths', () => {
    const p = planReload(old, edit(['routerId: 192.0.2.1', 'routerId: 192.0.2.9'], ['asn: 64512\n', 'asn: 64513\n'], ['ecmp: 1', 'ecmp: 4'], ['enabled: false', 'enabled: true']));
    expect(p.blockers.map((b) => b.path)).toEqual(['routerId', 'asn', 'fib.enabled', 'fib.ecmp']);
    expect(p.blockers[0]!.message).toBe('router ID 192.0.2.1 -> 192.0.2.9 cannot change while running; restart the daemon to apply it (the running config is unchanged)');
  });

  it('the first route reflector client changes the RIB role: blocked; a cluster ID change too', () => {
    expect(planReload(old, edit(['{ address: 192.0.2.3, asn: 64512 }', '{ address: 192.0.2.3, asn: 64512, routeReflectorClient: true }'])).blockers).toEqual([
      expect.objectContaining({ path: 'neighbors', message: expect.stringContaining('route reflector role (first routeReflectorClient)') }),
    ]);
    expect(planReload(old, edit(['asn: 64512\n', 'asn: 64512\nclusterId: 192.0.2.1\n'])).blockers.map((b) => b.path)).toEqual(['clusterId']);
  });

  it('policy and description changes keep the session: soft-in for import, soft-out for export', () => {
    const p = planReload(
      old,
      edit(
        ['description: node-b }', 'description: node-bb, export: [ { match: { prefix: 10.244.1.0/26 }, action: reject } ] }'],
        ['{ address: 192.0.2.3, asn: 64512 }', '{ address: 192.0.2.3, asn: 64512, import: [ { action: accept } ] }'],
      ),
    );
    expect(p.blockers).toEqual([]);
    expect(p.changes).toEqual([
      'neighbor 192.0.2.2: session kept, soft-out (export, description)',
      'neighbor 192.0.2.3: session kept, soft-in (import)',
    ]);
  });

  it('a description alone keeps the session without any refresh', () => {
    expect(planReload(old, edit(['description: node-b', 'description: x'])).changes).toEqual(['neighbor 192.0.2.2: session kept (description)']);
  });

  it('added, removed, reset and shut down neighbors', () => {
    const p = planReload(
      old,
      edit(
        ['  - { address: 192.0.2.2, asn: 64512, description: node-b }\n', '  - { address: 192.0.2.2, asn: 64512, description: node-b, holdTime: 30 }\n  - { address: 192.0.2.4, asn: 64512 }\n'],
        ['{ address: 192.0.2.3, asn: 64512 }', '{ address: 192.0.2.5, asn: 64512 }'],
      ),
    );
    expect(p.changes).toEqual([
      'neighbor 192.0.2.2: session reset (Cease / Other Configuration Change: holdTime)',
      'neighbor 192.0.2.4: added',
      'neighbor 192.0.2.5: added',
      'neighbor 192.0.2.3: removed (Cease / Peer De-configured)',
    ]);
    expect(planReload(old, edit(['{ address: 192.0.2.3, asn: 64512 }', '{ address: 192.0.2.3, asn: 64512, shutdown: true }'])).changes).toEqual([
      'neighbor 192.0.2.3: shut down (Cease / Administrative Shutdown)',
    ]);
  });

  it('settings the RIB reads at session up are deferred, and said so', () => {
    const p = planReload(old, edit(['{ address: 192.0.2.3, asn: 64512 }', '{ address: 192.0.2.3, asn: 64512, nextHopMode: self, maxPrefix: { limit: 10 } }']));
    expect(p.changes).toEqual(['neighbor 192.0.2.3: session kept, soft-out (nextHopMode, maxPrefix)']);
    expect(p.deferred).toEqual(['neighbor 192.0.2.3: nextHopMode, maxPrefix take effect at the next session reset']);
  });

  it('originate, ipPools, listen, api and log level', () => {
    const p = planReload(
      old,
      edit(
        ['  - { prefix: 10.244.1.0/26 }\n', '  - { prefix: 10.244.2.0/26 }\n'],
        ['mode: ipip', 'mode: direct'],
        ['asn: 64512\n', 'asn: 64512\nlisten: { addresses: ["127.0.0.1"], port: 1179 }\n'],
        ['127.0.0.1:9179', '127.0.0.1:9180'],
        ['level: info', 'level: debug'],
      ),
    );
    expect(p.blockers).toEqual([]);
    expect(p.changes).toEqual([
      'originate 10.244.2.0/26: announced',
      'originate 10.244.1.0/26: withdrawn',
      'ipPools: kernel route forms re-resolved',
      'listen: rebound to 127.0.0.1 port 1179',
      'api: restarted on 127.0.0.1:9180',
      'log.level: info -> debug',
    ]);
  });
});
