// Precedence between the config file and the datastore overlay (merge.ts),
// checked through the ordinary loader: the merged config must validate.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { resourcesFromEntries } from '../../src/cluster/etcd-keys.js';
import { mergeOverlay } from '../../src/cluster/merge.js';
import { desiredFromResources } from '../../src/cluster/model.js';
import { affinity, bgpConfiguration, ipPool, node } from './calico-fixtures.js';

const overlay = desiredFromResources(
  resourcesFromEntries(
    [
      node('node-a', '10.0.0.5/24', { asNumber: 65005 }),
      node('node-b', '10.0.0.10/24'),
      node('node-c', '10.0.0.7/24'),
      ipPool('p', { cidr: '10.244.0.0/16', ipipMode: 'Always' }),
      affinity('node-a', '10.244.1.0/26'),
      bgpConfiguration('default', { bindMode: 'NodeIP', listenPort: 1790, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }),
    ],
    'node-a',
  ),
  'node-a',
).overlay;

const load = (raw: Record<string, unknown>) => {
  const r = parseConfig(JSON.stringify(raw));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

describe('merge: fib.nodeSubnets', () => {
  it('the Node\'s prefix fills fib.nodeSubnets beside the file\'s other fib keys; a file that sets it wins', () => {
    const base = { datastore: { type: 'etcdv3', endpoints: ['http://127.0.0.1:2379'], nodeName: 'node-a' } };
    const c = load(mergeOverlay({ ...base, fib: { enabled: false, defaultMode: 'ipip' } }, overlay));
    expect(c.fib).toMatchObject({ enabled: false, defaultMode: 'ipip', nodeSubnets: ['10.0.0.0/24'] });
    expect(load(mergeOverlay({ ...base, fib: { nodeSubnets: ['10.0.0.0/16'] } }, overlay)).fib.nodeSubnets).toEqual(['10.0.0.0/16']);
  });
});

describe('merge: the file is the base, the datastore fills in', () => {
  it('a file with only datastore and api keys becomes a whole, valid config', () => {
    const c = load(mergeOverlay({ datastore: { type: 'etcdv3', endpoints: ['http://127.0.0.1:2379'], nodeName: 'node-a' }, api: { listen: '127.0.0.1:9179' } }, overlay));
    expect(c.routerId).toBe('10.0.0.5');
    expect(c.asn).toBe(65005);
    expect(c.listen).toMatchObject({ addresses: ['10.0.0.5'], port: 1790 });
    expect(c.neighbors.map((n) => [n.address, n.asn, n.passive, n.holdTime])).toEqual([
      ['10.0.0.10', 64512, false, 90],
      ['10.0.0.7', 64512, true, 90],
    ]);
    expect(c.originate.map((o) => o.prefix)).toEqual(['10.244.1.0/26', '10.96.0.0/12']);
    expect(c.ipPools).toEqual([{ cidr: '10.244.0.0/16', mode: 'ipip', program: true, disableExport: false }]);
    expect(c.serviceCidrs).toEqual(['10.96.0.0/12']);
    expect(c.datastore).toEqual({ type: 'etcdv3', endpoints: ['http://127.0.0.1:2379'], nodeName: 'node-a' });
  });
  it('keys the file sets win: routerId, asn, listen sub-keys, a neighbor by address, a pool by cidr, an originate by prefix', () => {
    const c = load(
      mergeOverlay(
        {
          routerId: '192.0.2.1',
          asn: 65999,
          listen: { port: 179 },
          neighbors: [{ address: '10.0.0.10', asn: 65010, description: 'pinned' }],
          ipPools: [{ cidr: '10.244.0.0/16', mode: 'direct' }],
          originate: [{ prefix: '10.244.1.0/26', communities: ['1:1'] }],
          serviceCidrs: ['10.100.0.0/16'],
        },
        overlay,
      ),
    );
    expect(c.routerId).toBe('192.0.2.1');
    expect(c.asn).toBe(65999);
    expect(c.listen).toMatchObject({ addresses: ['10.0.0.5'], port: 179 });
    expect(c.neighbors.map((n) => [n.address, n.asn, n.description])).toEqual([
      ['10.0.0.10', 65010, 'pinned'],
      ['10.0.0.7', 64512, 'Mesh_10.0.0.7'],
    ]);
    expect(c.ipPools).toEqual([{ cidr: '10.244.0.0/16', mode: 'direct', program: true, disableExport: false }]);
    expect(c.originate).toEqual([{ prefix: '10.244.1.0/26', communities: ['1:1'] }, { prefix: '10.96.0.0/12' }]);
    expect(c.serviceCidrs).toEqual(['10.100.0.0/16', '10.96.0.0/12']);
  });
  it('an empty overlay changes nothing in the file', () => {
    const file = { routerId: '192.0.2.1', asn: 65001, neighbors: [{ address: '192.0.2.2', asn: 65002 }] };
    const empty = { neighbors: [], originate: [], ipPools: [], serviceCidrs: [] };
    expect(load(mergeOverlay(file, empty))).toEqual(load(file));
  });
  it('the datastore key is validated with the key named', () => {
    const r = parseConfig('routerId: 192.0.2.1\nasn: 1\ndatastore: { type: etcd, endpoints: ["127.0.0.1:2379"] }\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).toEqual(expect.arrayContaining([expect.stringMatching(/^datastore\./)]));
  });
});
