// The Kubernetes backend and what the API server hands it (fake API server,
// kube-api-server.ts): malformed objects rejected one by one with a reason
// naming the field while the rest applies and nothing crashes; passwords from
// Secrets (BGPPeer password.secretKeyRef, BGPConfiguration nodeMeshPassword):
// present, absent, without the key, not granted (403), each with its status
// and log event and never a session with a wrong key; where this node's blocks
// come from (calico-ipam, node-pod-cidr, and the default when neither is set).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeBackend } from '../../src/cluster/kube-backend.js';
import { KUBE_PATHS } from '../../src/cluster/kube-objects.js';
import type { ClusterDesired } from '../../src/cluster/model.js';
import type { DatastoreConfig } from '../../src/config/schema.js';
import { pollUntil } from '../interop/harness/exec.js';
import { recordingLogger } from '../helpers/session.js';
import { KubeApiServer } from './kube-api-server.js';
import { affinity, CRD, crd, kubeNode, NODES, secret, secretsPath } from './kube-fixtures.js';

const until = <T>(probe: () => T | undefined | false, what = String(probe)) => pollUntil(() => probe() || undefined, { timeoutMs: 10_000, intervalMs: 20, what });

describe('Kubernetes backend: bad objects, Secrets, block sources', () => {
  let api: KubeApiServer;
  let b: KubeBackend | undefined;
  let log: ReturnType<typeof recordingLogger>;
  const published: ClusterDesired[] = [];
  const last = () => published[published.length - 1];
  const blocks = () => last()?.overlay.originate.map((o) => o.prefix).sort() ?? [];
  const neighbor = (address: string) => last()?.overlay.neighbors.find((n) => n.address === address);
  const rejected = () => Object.fromEntries(last()?.supplied.rejected.map((r) => [r.key, r.error]) ?? []);
  const events = (event: string) => log.lines.filter((l) => l['event'] === event);
  const make = (config: Partial<DatastoreConfig> = {}) => {
    b = new KubeBackend({
      config: { type: 'kubernetes', nodeName: 'node-a', ...config },
      connection: { server: api.url, token: api.token },
      onDesired: (d) => published.push(d),
      log: log.logger,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    b.start();
    return b;
  };
  const kindWatches = () => Object.values(KUBE_PATHS).reduce((n, p) => n + api.openWatches(p), 0);
  const synced = () => until(() => published.length > 0 && kindWatches() === 6, 'first publish and a watch per kind');

  beforeEach(async () => {
    published.length = 0;
    log = recordingLogger('info');
    api = new KubeApiServer(100);
    await api.start();
    api.put(NODES, kubeNode('node-a', '10.0.0.5', { podCIDRs: ['10.96.1.0/24'] }));
    api.put(NODES, kubeNode('node-b', '10.0.0.10', { podCIDRs: ['10.96.2.0/24'] }));
    api.put(`${CRD}/ippools`, crd('IPPool', 'default-ipv4-ippool', { cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', blockSize: 26 }));
    api.put(`${CRD}/bgpconfigurations`, crd('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: true, asNumber: 64512 }));
  });
  afterEach(async () => {
    await b?.stop();
    b = undefined;
    await api.stop();
  });

  it('malformed objects are rejected each with the field and why; every good one still applies; nothing crashes', async () => {
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.0/26'));
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.300/26')); // not an address
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.64/26', 'confirmed', 'perhaps'));
    api.put(`${CRD}/blockaffinities`, { ...crd('BlockAffinity', 'no-spec', undefined), spec: undefined });
    api.put(`${CRD}/ippools`, crd('IPPool', 'bad-cidr', { cidr: '10.300.0.0/16', ipipMode: 'Always' }));
    api.put(`${CRD}/ippools`, crd('IPPool', 'bad-mode', { cidr: '10.245.0.0/16', ipipMode: 'Sometimes' }));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'no-spec', undefined));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'asn-as-text', { peerIP: '10.0.0.1', asNumber: 'sixty-five-thousand' }));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'spec-a-list', [1, 2]));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'good-tor', { peerIP: '10.0.0.1', asNumber: 65000 }));
    api.put(`${CRD}/bgpfilters`, crd('BGPFilter', 'bad-rule', { exportV4: [{ action: 'Maybe', cidr: '10.0.0.0/8', matchOperator: 'In' }] }));
    api.put(NODES, kubeNode('node-c', '10.0.0.7', { annotations: { 'projectcalico.org/ASNumber': 'lots' } }));
    api.put(NODES, kubeNode('node-d', '10.0.0.8', { annotations: { 'projectcalico.org/IPv4Address': '10.0.0.999/24' } }));
    api.put(NODES, kubeNode('node-e', '10.0.0.9'));
    make();
    await synced();
    const r = rejected();
    for (const key of ['blockaffinities/node-a-10-244-1-300-26', 'blockaffinities/node-a-10-244-1-64-26', 'blockaffinities/no-spec', 'ippools/bad-cidr', 'ippools/bad-mode', 'bgppeers/no-spec', 'bgppeers/asn-as-text', 'bgppeers/spec-a-list', 'bgpfilters/bad-rule', 'nodes/node-c', 'nodes/node-d'])
      expect(r[key], `${key} rejected (got ${JSON.stringify(r)})`).toBeTruthy();
    expect(r['blockaffinities/node-a-10-244-1-300-26']).toMatch(/^spec\.cidr/);
    expect(r['blockaffinities/node-a-10-244-1-64-26']).toMatch(/^spec\.deleted/);
    expect(r['blockaffinities/no-spec']).toBe('spec: required');
    expect(r['ippools/bad-cidr']).toMatch(/cidr/);
    expect(r['ippools/bad-mode']).toMatch(/ipipMode/);
    expect(r['bgppeers/asn-as-text']).toMatch(/asNumber/);
    expect(r['nodes/node-c']).toMatch(/projectcalico\.org\/ASNumber/);
    expect(r['nodes/node-d']).toMatch(/projectcalico\.org\/IPv4Address/);
    // the good ones: the block, the pool, the ToR peer, node-b and node-e in the mesh
    expect(blocks()).toEqual(['10.244.1.0/26']);
    expect(last()!.overlay.ipPools.map((p) => p.cidr)).toEqual(['10.244.0.0/16']);
    expect(neighbor('10.0.0.1')).toMatchObject({ asn: 65000 });
    expect(last()!.overlay.neighbors.map((n) => n.address).sort()).toEqual(['10.0.0.1', '10.0.0.10', '10.0.0.9']);
    expect(b!.status().connected).toBe(true);
    // each rejection is logged once with its key
    const logged = events('datastore-resource-rejected').map((e) => e['key']);
    expect(logged).toContain('ippools/bad-cidr');
    expect(logged.filter((k) => k === 'ippools/bad-cidr')).toHaveLength(1);
  });

  it('a watch event with a malformed object is rejected alone; fixing it applies it; an object without a name is skipped', async () => {
    make();
    await synced();
    api.put(`${CRD}/ippools`, crd('IPPool', 'later', { cidr: 'not-a-cidr' }));
    api.put(`${CRD}/ippools`, { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: '' }, spec: { cidr: '10.246.0.0/16' } });
    await until(() => rejected()['ippools/later']);
    expect(last()!.overlay.ipPools.map((p) => p.cidr)).toEqual(['10.244.0.0/16']);
    api.put(`${CRD}/ippools`, crd('IPPool', 'later', { cidr: '10.247.0.0/16', ipipMode: 'Never' }));
    await until(() => last()!.overlay.ipPools.length === 2);
    expect(rejected()['ippools/later']).toBeUndefined();
    expect(b!.status().connected).toBe(true);
  });

  it('a watch that sends garbage, an event without an object, or an ERROR that is not 410: re-watched from the last version, nothing withdrawn, no re-list', async () => {
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.0/26'));
    make();
    await synced();
    const before = last();
    const lists = () => api.requests.filter((r) => r.path === `${CRD}/blockaffinities` && r.query['watch'] === undefined).length;
    const listed = lists();
    for (const line of ['<html>502 Bad Gateway</html>', '{"type":"ADDED","object":"not-an-object"}', JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, reason: 'InternalError', message: 'etcd leader changed' } })]) {
      const watches = api.requests.filter((r) => r.path === `${CRD}/blockaffinities` && r.query['watch'] === '1').length;
      api.sendRaw(`${CRD}/blockaffinities`, line);
      await until(() => api.requests.filter((r) => r.path === `${CRD}/blockaffinities` && r.query['watch'] === '1').length > watches && api.openWatches(`${CRD}/blockaffinities`) === 1, `re-watched after ${line}`);
      expect(last()).toBe(before);
    }
    expect(lists()).toBe(listed); // from the last resourceVersion, not a new list
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.64/26'));
    await until(() => blocks().includes('10.244.1.64/26'));
    expect(blocks()).toEqual(['10.244.1.0/26', '10.244.1.64/26']);
    await until(() => b!.status().connected);
  });

  it('BGPPeer password.secretKeyRef, the Secret watched by name: missing, without the key, right, rotated, deleted; every step said, no session with a wrong key', async () => {
    const ref = { secretKeyRef: { name: 'bgp-passwords', key: 'tor' } };
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65000, password: ref }));
    make();
    await synced();
    expect(neighbor('10.0.0.1')).toBeUndefined();
    expect(rejected()['bgppeers/tor']).toBe("spec.password: Secret 'bgp-passwords' not found (or not readable)");
    expect(events('datastore-secret-unreadable')[0]).toMatchObject({ secret: 'kube-system/bgp-passwords', error: 'kube-system/bgp-passwords: not found' });
    expect(events('datastore-resource-rejected').map((e) => e['key'])).toContain('bgppeers/tor');
    // the Secret appears without the key (watched: no change to the peer needed)
    api.put(secretsPath(), secret('bgp-passwords', { other: 'x' }));
    await until(() => rejected()['bgppeers/tor']?.includes('no key'));
    expect(rejected()['bgppeers/tor']).toBe("spec.password: Secret 'bgp-passwords' has no key 'tor'");
    expect(neighbor('10.0.0.1')).toBeUndefined();
    api.put(secretsPath(), secret('bgp-passwords', { tor: 'right-key' }));
    await until(() => neighbor('10.0.0.1'));
    expect(neighbor('10.0.0.1')!.password).toBe('right-key');
    expect(rejected()['bgppeers/tor']).toBeUndefined();
    // rotated: applied at once
    api.put(secretsPath(), secret('bgp-passwords', { tor: 'rotated-key' }));
    await until(() => neighbor('10.0.0.1')?.password === 'rotated-key');
    // deleted: the peer goes, said so
    api.remove(secretsPath(), 'bgp-passwords');
    await until(() => neighbor('10.0.0.1') === undefined);
    expect(rejected()['bgppeers/tor']).toBe("spec.password: Secret 'bgp-passwords' not found (or not readable)");
    // only ever by name in the one namespace: what a Role's resourceNames allow
    const asked = api.requests.filter((r) => r.path.includes('/secrets'));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((r) => r.path !== '/api/v1/namespaces/kube-system/secrets' || r.query['fieldSelector'] !== 'metadata.name=bgp-passwords')).toEqual([]);
  });

  it('a watched Secret survives the server going away (its value kept) and a 410 on re-watch (re-listed); a rotation after both applies', async () => {
    const ref = { secretKeyRef: { name: 'bgp-passwords', key: 'tor' } };
    api.put(secretsPath(), secret('bgp-passwords', { tor: 'first-key' }));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65000, password: ref }));
    make();
    await synced();
    expect(neighbor('10.0.0.1')!.password).toBe('first-key');
    const before = last();
    await api.stop();
    await until(() => b!.status().connected === false);
    expect(b!.desired()).toBe(before);
    expect(neighbor('10.0.0.1')!.password).toBe('first-key');
    await api.start();
    await until(() => b!.status().connected && api.openWatches(secretsPath()) === 1, 'reconnected, the Secret watched again');
    expect(last()).toBe(before);
    const lists = () => api.requests.filter((r) => r.path === secretsPath() && r.query['watch'] === undefined).length;
    const listed = lists();
    api.cutWatches();
    api.put(secretsPath(), secret('bgp-passwords', { tor: 'second-key' }));
    api.compact(); // the Secret's re-watch gets 410: a new list brings the rotated key
    await until(() => neighbor('10.0.0.1')?.password === 'second-key');
    expect(lists()).toBeGreaterThan(listed);
  });

  it('a Secret not granted (403) rejects the peer with that reason; one in another namespace is not read', async () => {
    api.put('/api/v1/namespaces/default/secrets', secret('bgp-passwords', { tor: 'elsewhere' }, 'default'));
    api.fail('/api/v1/namespaces/kube-system/secrets', 403, 1000);
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-passwords', key: 'tor' } } }));
    make();
    await synced();
    expect(neighbor('10.0.0.1')).toBeUndefined();
    expect(rejected()['bgppeers/tor']).toMatch(/not found \(or not readable\)/);
    expect(events('datastore-secret-unreadable')[0]!['error']).toMatch(/403 Forbidden/);
  });

  it('datastore.secretsNamespace is where Secrets are read', async () => {
    api.put(secretsPath('calico-system'), secret('bgp-passwords', { tor: 'ns-key' }, 'calico-system'));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-passwords', key: 'tor' } } }));
    make({ secretsNamespace: 'calico-system' });
    await until(() => neighbor('10.0.0.1'));
    expect(neighbor('10.0.0.1')!.password).toBe('ns-key');
  });

  it('nodeMeshPassword: every mesh neighbor gets the Secret value; missing, the mesh stays without a password and says why', async () => {
    api.put(`${CRD}/bgpconfigurations`, crd('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: true, asNumber: 64512, nodeMeshPassword: { secretKeyRef: { name: 'mesh', key: 'password' } } }));
    api.put(NODES, kubeNode('node-c', '10.0.0.7'));
    make();
    await synced();
    expect(last()!.overlay.neighbors.map((n) => [n.address, n.password])).toEqual([
      ['10.0.0.10', undefined],
      ['10.0.0.7', undefined],
    ]);
    expect(rejected()['bgpconfigurations/default']).toBe("spec.nodeMeshPassword: Secret 'mesh' not found (or not readable); mesh sessions have no password");
    api.put(secretsPath(), secret('mesh', { password: 'mesh-key' }));
    await until(() => neighbor('10.0.0.7')?.password === 'mesh-key');
    expect(neighbor('10.0.0.10')!.password).toBe('mesh-key');
    expect(rejected()['bgpconfigurations/default']).toBeUndefined();
  });

  it('node-pod-cidr: the Node spec.podCIDRs are the blocks, BlockAffinities ignored', async () => {
    api.put(NODES, kubeNode('node-a', '10.0.0.5', { podCIDRs: ['10.96.1.0/24', 'fd00:96:1::/64'] }));
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.0/26'));
    make({ blocks: 'node-pod-cidr' });
    await synced();
    expect(blocks()).toEqual(['10.96.1.0/24', 'fd00:96:1::/64']);
    api.put(NODES, kubeNode('node-a', '10.0.0.5', { podCIDRs: ['10.96.9.0/24'] }));
    await until(() => blocks().includes('10.96.9.0/24'));
    expect(blocks()).toEqual(['10.96.9.0/24']);
  });

  it('calico-ipam: BlockAffinities, not podCIDRs; with neither set, the choice follows whether any BlockAffinity exists', async () => {
    api.put(`${CRD}/blockaffinities`, affinity('node-b', '10.244.2.0/26'));
    make({ blocks: 'calico-ipam' });
    await synced();
    expect(blocks()).toEqual([]); // node-b's block is not ours; our podCIDR is not used
    await b!.stop();
    published.length = 0;
    make(); // default: BlockAffinities exist (node-b's) -> calico-ipam
    await synced();
    expect(blocks()).toEqual([]);
    api.remove(`${CRD}/blockaffinities`, affinity('node-b', '10.244.2.0/26').metadata.name);
    await until(() => blocks().includes('10.96.1.0/24')); // none left -> node-pod-cidr
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.0/26'));
    await until(() => blocks().includes('10.244.1.0/26'));
    expect(blocks()).toEqual(['10.244.1.0/26']);
  });
});
