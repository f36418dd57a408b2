// The cluster model: Calico resources (as stored in etcd v3) -> the overlay
// config and the record of what was supplied. One block per resource kind,
// then Calico's mesh and reflector rules, then malformed resources.
import { describe, expect, it } from 'vitest';
import { resourcesFromEntries } from '../../src/cluster/etcd-keys.js';
import { desiredFromResources, meshPassive } from '../../src/cluster/model.js';
import { affinity, affinityKey, bgpConfiguration, bgpFilter, bgpPeer, ipPool, node, type Entry } from './calico-fixtures.js';

const desired = (entries: Entry[], name = 'node-a') => desiredFromResources(resourcesFromEntries(entries, name), name);
const neighbor = (entries: Entry[], address: string, name = 'node-a') => desired(entries, name).overlay.neighbors.find((n) => n.address === address);

const A = node('node-a', '10.0.0.5/24', { labels: { rack: 'r1' } });
const B = node('node-b', '10.0.0.10/24', { labels: { rack: 'r2' } });
const C = node('node-c', '10.0.0.7/24', { labels: { rack: 'r1' } });

describe('model: this node', () => {
  it('takes router ID, AS and the local subnet from spec.bgp', () => {
    const d = desired([A]);
    expect(d.overlay).toMatchObject({ routerId: '10.0.0.5', asn: 64512 });
    expect(d.overlay.clusterId).toBeUndefined();
    expect(d.supplied.node).toEqual({ name: 'node-a', found: true, ipv4: '10.0.0.5', subnet: '10.0.0.0/24', asn: 64512 });
    // The prefix is crossSubnet's local subnet (fib.nodeSubnets), as Calico's speaker decides it; IPv6 too.
    expect(d.overlay.nodeSubnets).toEqual(['10.0.0.0/24']);
    expect(desired([node('node-a', '10.0.0.5/24', { ipv6: 'fd00:1::5/64' })]).overlay.nodeSubnets).toEqual(['10.0.0.0/24', 'fd00:1::/64']);
    expect(desired([B]).overlay.nodeSubnets).toBeUndefined(); // this node not in the datastore: the kernel's subnets stay
  });
  it('AS: node asNumber, else BGPConfiguration default, else 64512 (node.<name> does not set it)', () => {
    expect(desired([node('node-a', '10.0.0.5/24', { asNumber: 65001 }), bgpConfiguration('default', { asNumber: 65002 })]).overlay.asn).toBe(65001);
    expect(desired([A, bgpConfiguration('default', { asNumber: 65002 }), bgpConfiguration('node.node-a', { asNumber: 65003 })]).overlay.asn).toBe(65002);
    expect(desired([node('node-a', '10.0.0.5/24', { asNumber: '1.10' as unknown as number })]).overlay.asn).toBe(65546);
  });
  it('routeReflectorClusterID makes this node a reflector', () => {
    expect(desired([node('node-a', '10.0.0.5/24', { clusterId: '224.0.0.1' })]).overlay.clusterId).toBe('224.0.0.1');
  });
  it('a node missing from the datastore supplies no identity and no mesh', () => {
    const d = desired([B], 'node-a');
    expect(d.overlay.routerId).toBeUndefined();
    expect(d.overlay.asn).toBeUndefined();
    expect(d.overlay.neighbors).toEqual([]);
    expect(d.supplied.node.found).toBe(false);
    expect(d.supplied.mesh.reason).toContain('not in the datastore');
  });
  it('listen: bindMode NodeIP binds the node addresses; listenPort from node.<name> over default', () => {
    expect(desired([A]).overlay.listen).toBeUndefined();
    expect(desired([A, bgpConfiguration('default', { bindMode: 'NodeIP', listenPort: 1790 })]).overlay.listen).toEqual({ addresses: ['10.0.0.5'], port: 1790 });
    expect(desired([A, bgpConfiguration('default', { listenPort: 1790 }), bgpConfiguration('node.node-a', { listenPort: 1791 })]).overlay.listen).toEqual({ port: 1791 });
    expect(desired([A, bgpConfiguration('node.node-b', { listenPort: 1791 })]).overlay.listen).toBeUndefined();
  });
});

describe('model: blocks', () => {
  it('confirmed affinities of this node are announced; pending, pendingDeletion, deleted and other nodes are not', () => {
    const d = desired([
      A,
      affinity('node-a', '10.244.1.0/26'),
      ['/calico/ipam/v2/host/node-a/ipv4/block/10.244.1.64-26', ''], // legacy empty value = confirmed
      affinity('node-a', '10.244.1.128/26', 'pending'),
      affinity('node-a', '10.244.1.192/26', 'pendingDeletion'),
      affinity('node-a', '10.244.2.0/26', 'confirmed', true),
      affinity('node-b', '10.244.3.0/26'),
      affinity('node-a', 'fd00:10:244::/122'),
    ]);
    expect(d.overlay.originate.map((o) => o.prefix).sort()).toEqual(['10.244.1.0/26', '10.244.1.64/26', 'fd00:10:244::/122']);
    expect(d.supplied.blocks.find((b) => b.cidr === '10.244.2.0/26')).toEqual({ cidr: '10.244.2.0/26', state: 'deleted', announced: false });
    expect(d.supplied.blocks.find((b) => b.cidr === '10.244.1.128/26')?.state).toBe('pending');
    expect(d.supplied.blocks).toHaveLength(6); // node-b's is not ours
  });
  it('deleted as the Kubernetes CRD string form counts too', () => {
    const d = desired([A, [affinityKey('node-a', '10.244.1.0/26'), '{"state":"confirmed","deleted":"true"}']]);
    expect(d.overlay.originate).toEqual([]);
  });
});

describe('model: IP pools', () => {
  it.each([
    [{ ipipMode: 'Always' }, { mode: 'ipip', program: true }],
    [{ ipipMode: 'CrossSubnet' }, { mode: 'crossSubnet', program: true }],
    [{ ipipMode: 'Never' }, { mode: 'direct', program: true }],
    [{}, { mode: 'direct', program: true }],
    [{ vxlanMode: 'Always' }, { mode: 'direct', program: false }],
    [{ vxlanMode: 'CrossSubnet', ipipMode: 'Never' }, { mode: 'direct', program: false }],
  ])('%j -> %j', (spec, want) => {
    const [pool] = desired([A, ipPool('p', { cidr: '10.244.0.0/16', ...spec })]).overlay.ipPools;
    expect(pool).toEqual({ cidr: '10.244.0.0/16', disableExport: false, ...want });
  });
  it('disableBGPExport -> disableExport; disabled pools still route their blocks', () => {
    const pools = desired([A, ipPool('p', { cidr: '10.244.0.0/16', disableBGPExport: true }), ipPool('q', { cidr: '10.245.0.0/16', disabled: true })]).overlay.ipPools;
    expect(pools).toEqual([
      { cidr: '10.244.0.0/16', mode: 'direct', program: true, disableExport: true },
      { cidr: '10.245.0.0/16', mode: 'direct', program: true, disableExport: false },
    ]);
  });
});

describe('model: BGPConfiguration service IPs and communities', () => {
  it('service IPs are announced and listed as service CIDRs (never programmed)', () => {
    const d = desired([
      A,
      bgpConfiguration('default', { serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], serviceExternalIPs: [{ cidr: '192.0.2.0/24' }], serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/24' }] }),
    ]);
    expect(d.overlay.serviceCidrs).toEqual(['10.96.0.0/12', '192.0.2.0/24', '198.51.100.0/24']);
    expect(d.overlay.originate.map((o) => o.prefix)).toEqual(['10.96.0.0/12', '192.0.2.0/24', '198.51.100.0/24']);
  });
  it('prefixAdvertisements add communities (by name or value) to announced prefixes they cover', () => {
    const d = desired([
      A,
      affinity('node-a', '10.244.1.0/26'),
      affinity('node-a', '10.250.0.0/26'),
      bgpConfiguration('default', {
        communities: [{ name: 'pods', value: '64512:100' }],
        prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['pods', '64512:200:300'] }],
      }),
    ]);
    expect(d.overlay.originate).toEqual([{ prefix: '10.244.1.0/26', communities: ['64512:100', '64512:200:300'] }, { prefix: '10.250.0.0/26' }]);
  });
});

describe('model: node-to-node mesh', () => {
  it('the passive rule compares addresses as strings: the smaller string waits', () => {
    expect(meshPassive('10.0.0.5', '10.0.0.10')).toBe(false); // "10.0.0.5" > "10.0.0.10": we dial
    expect(meshPassive('10.0.0.10', '10.0.0.5')).toBe(true);
    expect(meshPassive('192.0.2.11', '192.0.2.12')).toBe(true);
  });
  it('one iBGP neighbor per other node, Calico-style, passive by the string rule', () => {
    const entries = [A, B, C, bgpConfiguration('default', { nodeMeshMaxRestartTime: '90s' })];
    const d = desired(entries);
    expect(d.overlay.neighbors.map((n) => [n.address, n.passive])).toEqual([
      ['10.0.0.10', false],
      ['10.0.0.7', true],
    ]);
    expect(neighbor(entries, '10.0.0.10')).toEqual({
      address: '10.0.0.10',
      asn: 64512,
      description: 'Mesh_10.0.0.10',
      passive: false,
      localAddress: '10.0.0.5',
      families: ['ipv4-unicast'],
      addPath: 'both',
      gracefulRestart: { enabled: true, restartTime: 90 },
    });
    // node-b sees the other half of the same pair
    expect(neighbor(entries, '10.0.0.5', 'node-b')?.passive).toBe(true);
    expect(d.supplied.mesh).toMatchObject({ enabled: true, peers: [{ node: 'node-b', address: '10.0.0.10', passive: false }, { node: 'node-c', address: '10.0.0.7', passive: true }] });
  });
  it('IPv6 addresses mesh over ipv6-unicast; a node without an address of our family is skipped', () => {
    const entries = [node('node-a', '10.0.0.5/24', { ipv6: 'fd00::5/64' }), node('node-b', undefined, { ipv6: 'fd00::a/64' }), node('node-d', undefined)];
    const ns = desired(entries).overlay.neighbors;
    expect(ns.map((n) => [n.address, n.families, n.localAddress])).toEqual([['fd00::a', ['ipv6-unicast'], 'fd00::5']]);
  });
  it('nodeToNodeMeshEnabled: false turns the mesh off', () => {
    const d = desired([A, B, bgpConfiguration('default', { nodeToNodeMeshEnabled: false })]);
    expect(d.overlay.neighbors).toEqual([]);
    expect(d.supplied.mesh).toMatchObject({ enabled: false, reason: 'nodeToNodeMeshEnabled is false' });
  });
  it('a reflector leaves the mesh, and other nodes skip it in theirs', () => {
    const rr = node('node-a', '10.0.0.5/24', { clusterId: '224.0.0.1' });
    expect(desired([rr, B, C]).overlay.neighbors).toEqual([]);
    expect(desired([rr, B, C], 'node-b').overlay.neighbors.map((n) => n.address)).toEqual(['10.0.0.7']);
  });
});

describe('model: BGPPeer', () => {
  const tor = (spec: Record<string, unknown>) => bgpPeer('tor', { peerIP: '10.0.0.254', asNumber: 65100, ...spec });
  it('global peer with every option mapped', () => {
    const n = neighbor(
      [A, tor({ keepOriginalNextHop: true, maxRestartTime: '3m', keepaliveTime: '10s', ttlSecurity: 1, numAllowedLocalASNumbers: 2, localASNumber: 65010 })],
      '10.0.0.254',
    );
    expect(n).toEqual({
      address: '10.0.0.254',
      asn: 65100,
      description: 'Global_10.0.0.254',
      passive: false,
      localAddress: '10.0.0.5',
      localAsn: 65010,
      families: ['ipv4-unicast'],
      nextHopMode: 'keep',
      keepaliveTime: 10,
      ttlSecurity: 1,
      allowAsIn: 2,
      addPath: 'both',
      gracefulRestart: { enabled: true, restartTime: 180 }, // maxRestartTime (not the 120 s default)
    });
  });
  it('nextHopMode wins over keepOriginalNextHop; sourceAddress None leaves the source to the kernel; a port rides with peerIP', () => {
    const n = neighbor([A, tor({ peerIP: '10.0.0.254:1790', nextHopMode: 'Self', keepOriginalNextHop: true, sourceAddress: 'None' })], '10.0.0.254');
    expect(n).toMatchObject({ port: 1790, nextHopMode: 'self' });
    expect(n?.localAddress).toBeUndefined();
    expect(neighbor([A, tor({ peerIP: '[fd00::fe]:1790' })], 'fd00::fe')).toMatchObject({ port: 1790, families: ['ipv6-unicast'] });
  });
  it('scope: spec.node, spec.nodeSelector, or global', () => {
    const d = desired([A, bgpPeer('n-a', { node: 'node-a', peerIP: '10.0.1.1', asNumber: 65001 }), bgpPeer('n-b', { node: 'node-b', peerIP: '10.0.1.2', asNumber: 65001 }),
      bgpPeer('r1', { nodeSelector: "rack == 'r1'", peerIP: '10.0.1.3', asNumber: 65001 }), bgpPeer('r2', { nodeSelector: "rack == 'r2'", peerIP: '10.0.1.4', asNumber: 65001 })]);
    expect(d.overlay.neighbors.map((n) => [n.address, n.description])).toEqual([
      ['10.0.1.1', 'Node_10.0.1.1'],
      ['10.0.1.3', 'Node_10.0.1.3'],
    ]);
    expect(d.supplied.bgpPeers).toEqual([
      { name: 'n-a', matched: true, why: 'spec.node is node-a', addresses: ['10.0.1.1'] },
      { name: 'n-b', matched: false, why: 'spec.node is node-b', addresses: [] },
      { name: 'r1', matched: true, why: 'spec.nodeSelector selects this node', addresses: ['10.0.1.3'] },
      { name: 'r2', matched: false, why: 'spec.nodeSelector does not select this node', addresses: [] },
    ]);
  });
  it('peerSelector peers with every other node it selects, with that node AS and the passive rule', () => {
    const entries = [A, node('node-b', '10.0.0.10/24', { labels: { rr: 'yes' }, asNumber: 65020 }), node('node-c', '10.0.0.7/24', { labels: { rr: 'yes' } }),
      bgpPeer('to-rr', { peerSelector: 'has(rr)' }), bgpConfiguration('default', { nodeToNodeMeshEnabled: false })];
    expect(desired(entries).overlay.neighbors.map((n) => [n.address, n.asn, n.passive])).toEqual([
      ['10.0.0.10', 65020, false],
      ['10.0.0.7', 64512, true],
    ]);
  });
  it('a peerSelector peering is rendered from both ends: the selected reflector peers with the nodes in scope, as clients', () => {
    const entries = [A, node('node-b', '10.0.0.10/24', { labels: { rr: 'true' }, clusterId: '224.0.0.1' }), C,
      bgpPeer('to-rr', { nodeSelector: 'all()', peerSelector: "rr == 'true'" }), bgpConfiguration('default', { nodeToNodeMeshEnabled: false })];
    expect(desired(entries).overlay.neighbors.map((n) => n.address)).toEqual(['10.0.0.10']);
    const rr = desired(entries, 'node-b');
    expect(rr.overlay.neighbors.map((n) => [n.address, n.routeReflectorClient ?? false]).sort()).toEqual([
      ['10.0.0.5', true],
      ['10.0.0.7', true],
    ]);
    // scope still applies: a node outside the nodeSelector is not peered from the reflector end
    const scoped = [...entries.slice(0, 3), bgpPeer('to-rr', { nodeSelector: "rack == 'r1'", peerSelector: "rr == 'true'" })];
    expect(desired(scoped, 'node-b').overlay.neighbors.map((n) => n.address).sort()).toEqual(['10.0.0.5', '10.0.0.7']);
    const r2 = [...entries.slice(0, 3), bgpPeer('to-rr', { node: 'node-a', peerSelector: "rr == 'true'" })];
    expect(desired(r2, 'node-b').overlay.neighbors.map((n) => n.address)).toEqual(['10.0.0.5']);
    expect(desired(r2, 'node-b').supplied.bgpPeers[0]?.why).toContain('spec.peerSelector selects this node');
  });
  it('on a reflector, iBGP peers are clients unless they share its cluster ID', () => {
    const entries = [node('node-a', '10.0.0.5/24', { clusterId: '224.0.0.1' }), B, node('node-c', '10.0.0.7/24', { clusterId: '224.0.0.1' }),
      bgpPeer('all', { peerSelector: 'all()' }), bgpPeer('ext', { peerIP: '10.0.0.254', asNumber: 65100 })];
    const ns = desired(entries).overlay.neighbors;
    expect(ns.map((n) => [n.address, n.routeReflectorClient ?? false])).toEqual([
      ['10.0.0.10', true],
      ['10.0.0.7', false],
      ['10.0.0.254', false], // eBGP
    ]);
    expect(desired(entries).overlay.clusterId).toBe('224.0.0.1');
  });
  it('a BGPPeer to a mesh address replaces the mesh entry; one to ourselves is skipped', () => {
    const ns = desired([A, B, bgpPeer('b', { peerIP: '10.0.0.10', asNumber: 64512, keepaliveTime: '5s' }), bgpPeer('self', { peerIP: '10.0.0.5', asNumber: 64512 })]).overlay.neighbors;
    expect(ns).toHaveLength(1);
    expect(ns[0]).toMatchObject({ address: '10.0.0.10', description: 'Global_10.0.0.10', keepaliveTime: 5, passive: false });
  });
  it('filters become import/export rules of the family, in order', () => {
    const n = neighbor(
      [A, tor({ filters: ['f1'] }), bgpFilter('f1', {
        exportV4: [{ cidr: '10.244.0.0/16', matchOperator: 'In', prefixLength: { min: 26, max: 32 }, action: 'Accept' }, { action: 'Reject' }],
        importV4: [{ cidr: '0.0.0.0/0', matchOperator: 'Equal', action: 'Reject' }],
        importV6: [{ cidr: 'fd00::/8', matchOperator: 'NotIn', action: 'Reject' }],
      })],
      '10.0.0.254',
    );
    expect(n?.export).toEqual([
      { match: { family: 'ipv4-unicast', prefix: '10.244.0.0/16', matchOperator: 'in', ge: 26, le: 32 }, action: 'accept' },
      { match: { family: 'ipv4-unicast' }, action: 'reject' },
    ]);
    expect(n?.import).toEqual([{ match: { family: 'ipv4-unicast', prefix: '0.0.0.0/0', matchOperator: 'equal' }, action: 'reject' }]);
  });
  it('a missing filter rejects the peer (never a session without its filter)', () => {
    const d = desired([A, tor({ filters: ['nope'] })]);
    expect(d.overlay.neighbors).toEqual([]);
    expect(d.supplied.rejected).toEqual([{ key: 'bgppeers/tor', error: "spec.filters: BGPFilter 'nope' does not exist (or was rejected)" }]);
  });
});

describe('model: malformed resources are skipped with their key, the rest applies', () => {
  const R = '/calico/resources/v3/projectcalico.org';
  it.each([
    ['bad JSON', [`${R}/ippools/broken`, '{"spec":'], `${R}/ippools/broken`, 'the value is not JSON'],
    ['bad CIDR', ipPool('broken', { cidr: '10.244.0.0/33' }), `${R}/ippools/broken`, "spec.cidr: not an IP prefix, got '10.244.0.0/33'"],
    ['host bits', ipPool('broken', { cidr: '10.244.1.1/16' }), `${R}/ippools/broken`, 'spec.cidr: host bits set in \'10.244.1.1/16\' (did you mean 10.244.0.0/16?)'],
    ['unknown ipipMode', ipPool('broken', { cidr: '10.246.0.0/16', ipipMode: 'Sometimes' }), `${R}/ippools/broken`, "spec.ipipMode: must be Always, CrossSubnet or Never, got 'Sometimes'"],
    ['bad selector', bgpPeer('broken', { nodeSelector: "rack = 'r1'", peerIP: '10.0.1.1', asNumber: 1 }), `${R}/bgppeers/broken`, 'spec.nodeSelector: selector'],
    ['peerIP and peerSelector', bgpPeer('broken', { peerSelector: 'all()', peerIP: '10.0.1.1', asNumber: 1 }), `${R}/bgppeers/broken`, 'spec.peerIP and spec.peerSelector: set exactly one'],
    ['peerIP without AS', bgpPeer('broken', { peerIP: '10.0.1.1' }), `${R}/bgppeers/broken`, 'spec.asNumber: required with spec.peerIP'],
    ['bad peerIP', bgpPeer('broken', { peerIP: '10.0.1', asNumber: 1 }), `${R}/bgppeers/broken`, "spec.peerIP: must be an IP address with an optional :port, got '10.0.1'"],
    ['secret password', bgpPeer('broken', { peerIP: '10.0.1.1', asNumber: 1, password: { secretKeyRef: { name: 's', key: 'k' } } }), `${R}/bgppeers/broken`, 'spec.password'],
    ['bad duration', bgpPeer('broken', { peerIP: '10.0.1.1', asNumber: 1, maxRestartTime: 'soon' }), `${R}/bgppeers/broken`, 'spec.maxRestartTime: must be a duration'],
    ['bad node address', node('broken', 'ten/24'), `${R}/nodes/broken`, "spec.bgp.ipv4Address: not an address with a prefix length, got 'ten/24'"],
    ['bad cluster ID', node('broken', '10.0.0.9/24', { clusterId: 'x' }), `${R}/nodes/broken`, 'spec.bgp.routeReflectorClusterID: must be an IPv4 address'],
    ['bad AS', node('broken', '10.0.0.9/24', { asNumber: 0 }), `${R}/nodes/broken`, 'spec.bgp.asNumber: must be an integer 1..4294967295, got 0'],
    ['bad mesh flag', bgpConfiguration('broken', { nodeToNodeMeshEnabled: 'yes' }), `${R}/bgpconfigurations/broken`, "spec.nodeToNodeMeshEnabled: must be true or false, got 'yes'"],
    ['bad service CIDR', bgpConfiguration('broken', { serviceClusterIPs: [{ cidr: 'x' }] }), `${R}/bgpconfigurations/broken`, "spec.serviceClusterIPs[0].cidr: not an IP prefix, got 'x'"],
    ['unknown community name', bgpConfiguration('broken', { prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['nope'] }] }), `${R}/bgpconfigurations/broken`, 'spec.prefixAdvertisements[0].communities[0]'],
    ['bad filter action', bgpFilter('broken', { exportV4: [{ cidr: '10.0.0.0/8', action: 'Maybe' }] }), `${R}/bgpfilters/broken`, "spec.exportV4[0].action: must be Accept or Reject, got 'Maybe'"],
    ['v6 prefix in a v4 rule', bgpFilter('broken', { importV4: [{ cidr: 'fd00::/8', action: 'Reject' }] }), `${R}/bgpfilters/broken`, "spec.importV4[0].cidr: 'fd00::/8' is not an IPv4 prefix"],
    ['name mismatch', [`${R}/ippools/broken`, JSON.stringify({ kind: 'IPPool', metadata: { name: 'other' }, spec: { cidr: '10.0.0.0/8' } })], `${R}/ippools/broken`, "metadata.name: 'other' does not match"],
    ['wrong kind', [`${R}/ippools/broken`, JSON.stringify({ kind: 'BGPPeer', spec: {} })], `${R}/ippools/broken`, 'kind: must be IPPool'],
    ['bad affinity state', [affinityKey('node-a', '10.244.9.0/26'), '{"state":"maybe"}'], affinityKey('node-a', '10.244.9.0/26'), "state: must be confirmed, pending or pendingDeletion, got 'maybe'"],
    ['bad affinity JSON', [affinityKey('node-a', '10.244.9.0/26'), '{'], affinityKey('node-a', '10.244.9.0/26'), 'the value is not JSON'],
    ['bad block in key', ['/calico/ipam/v2/host/node-a/ipv4/block/10.244.9.1-26', ''], '/calico/ipam/v2/host/node-a/ipv4/block/10.244.9.1-26', 'the block in the key: host bits set'],
  ] as [string, Entry, string, string][])('%s', (_what, bad, key, error) => {
    const good: Entry[] = [A, B, ipPool('good', { cidr: '10.244.0.0/16', ipipMode: 'Always' }), affinity('node-a', '10.244.1.0/26'), bgpPeer('tor', { peerIP: '10.0.0.254', asNumber: 65100 })];
    const d = desired([...good, bad]);
    expect(d.supplied.rejected).toHaveLength(1);
    expect(d.supplied.rejected[0]!.key).toBe(key);
    expect(d.supplied.rejected[0]!.error).toContain(error);
    // everything else still applies
    expect(d.overlay.neighbors.map((n) => n.address).sort()).toEqual(['10.0.0.10', '10.0.0.254']);
    expect(d.overlay.ipPools).toEqual([{ cidr: '10.244.0.0/16', mode: 'ipip', program: true, disableExport: false }]);
    expect(d.overlay.originate.map((o) => o.prefix)).toContain('10.244.1.0/26');
  });
  it('unknown kinds and fields we do not use are ignored, not rejected', () => {
    const d = desired([A, ['/calico/resources/v3/projectcalico.org/felixconfigurations/default', '{"spec":{}}'], ipPool('p', { cidr: '10.244.0.0/16', allowedUses: ['Workload'] })]);
    expect(d.supplied.rejected).toEqual([]);
    expect(d.overlay.ipPools).toHaveLength(1);
  });
});
