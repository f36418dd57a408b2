// The Kubernetes datastore backend against the fake API server
// (kube-api-server.ts), with objects in `kubectl get -o json`'s shape: the
// first list, a BlockAffinity added and deleted, a Node joining the mesh,
// a watch cut mid-stream, 410 on re-watch (a re-list, no publish when nothing
// changed), the server down (nothing withdrawn, unreachable reported), a
// Secret-backed password read by name.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeBackend } from '../../src/cluster/kube-backend.js';
import type { ClusterDesired } from '../../src/cluster/model.js';
import { silentLogger } from '../../src/lib/log.js';
import { pollUntil } from '../interop/harness/exec.js';
import { KubeApiServer } from './kube-api-server.js';

const NODES = '/api/v1/nodes';
const until = (probe: () => unknown) => pollUntil(() => probe() || undefined, { timeoutMs: 10_000, intervalMs: 20, what: String(probe) });
const CRD = '/apis/crd.projectcalico.org/v1';
const kubeNode = (name: string, ip: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'kubernetes.io/hostname': name, ...labels }, annotations: { 'projectcalico.org/IPv4Address': `${ip}/24`, 'node.alpha.kubernetes.io/ttl': '0' } },
  spec: { podCIDR: '10.96.0.0/24', podCIDRs: ['10.96.0.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }], conditions: [{ type: 'Ready', status: 'True' }] },
});
const crd = (kind: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'crd.projectcalico.org/v1', kind, metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' }, spec });
const affinity = (node: string, cidr: string, state = 'confirmed', deleted = 'false') => crd('BlockAffinity', `${node}-${cidr.replace(/[./]/g, '-')}`, { node, cidr, state, deleted });

describe('Kubernetes backend against the fake API server', () => {
  let api: KubeApiServer;
  let b: KubeBackend | undefined;
  const published: ClusterDesired[] = [];
  const last = () => published[published.length - 1];
  const blocks = () => last()?.overlay.originate.map((o) => o.prefix).sort() ?? [];
  const mesh = () => last()?.overlay.neighbors.map((n) => n.address).sort() ?? [];
  const make = () => {
    b = new KubeBackend({
      config: { type: 'kubernetes', nodeName: 'node-a' },
      connection: { server: api.url, token: api.token },
      onDesired: (d) => published.push(d),
      log: silentLogger(),
      backoff: { initialMs: 50, maxMs: 200 },
    });
    b.start();
    return b;
  };

  beforeEach(async () => {
    published.length = 0;
    api = new KubeApiServer(100);
    await api.start();
    api.put(NODES, kubeNode('node-a', '10.0.0.5'));
    api.put(NODES, kubeNode('node-b', '10.0.0.10'));
    api.put(`${CRD}/ippools`, crd('IPPool', 'default-ipv4-ippool', { cidr: '10.244.0.0/16', ipipMode: 'Always', vxlanMode: 'Never', blockSize: 26, natOutgoing: true, nodeSelector: 'all()' }));
    api.put(`${CRD}/bgpconfigurations`, crd('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: true, asNumber: 64512, logSeverityScreen: 'Info' }));
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.0/26'));
    api.put(`${CRD}/blockaffinities`, affinity('node-b', '10.244.2.0/26'));
  });
  afterEach(async () => {
    await b?.stop();
    b = undefined;
    await api.stop();
  });

  it('lists every kind with a bearer token and supplies this node, its blocks and the mesh', async () => {
    make();
    await until(() => published.length > 0);
    expect(blocks()).toEqual(['10.244.1.0/26']);
    expect(mesh()).toEqual(['10.0.0.10']);
    expect(last()!.overlay.routerId).toBe('10.0.0.5');
    expect(b!.status()).toMatchObject({ type: 'kubernetes', connected: true, resyncs: 1 });
    expect(api.requests.every((r) => r.authorized)).toBe(true);
    await until(() => api.openWatches() === 6);
    expect(api.requests.filter((r) => r.query['watch'] === '1').every((r) => r.query['allowWatchBookmarks'] === 'true' && r.query['resourceVersion'] !== undefined)).toBe(true);
  });

  it('a BlockAffinity added then deleted, a Node joining and leaving the mesh', async () => {
    make();
    await until(() => api.openWatches() === 6);
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.3.0/26'));
    await until(() => blocks().length === 2);
    api.remove(`${CRD}/blockaffinities`, affinity('node-a', '10.244.3.0/26').metadata.name);
    await until(() => blocks().length === 1);
    api.put(NODES, kubeNode('node-c', '10.0.0.7'));
    await until(() => mesh().length === 2);
    api.remove(NODES, 'node-c');
    await until(() => mesh().length === 1);
  });

  it('a BGPPeer whose nodeSelector matches, then not after a label change', async () => {
    api.put(NODES, kubeNode('node-a', '10.0.0.5', { rack: 'r1' }));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'rack-tor', { nodeSelector: "rack == 'r1'", peerIP: '10.0.0.1', asNumber: 65000 }));
    make();
    await until(() => last()?.overlay.neighbors.some((x) => x.address === '10.0.0.1'));
    api.put(NODES, kubeNode('node-a', '10.0.0.5', { rack: 'r2' }));
    await until(() => last()!.overlay.neighbors.every((x) => x.address !== '10.0.0.1'));
    expect(last()!.supplied.bgpPeers.find((p) => p.name === 'rack-tor')).toMatchObject({ matched: false });
    expect(mesh()).toEqual(['10.0.0.10']);
  });

  it('a heartbeat-only Node change publishes nothing; a watch cut mid-stream is re-watched', async () => {
    make();
    await until(() => api.openWatches() === 6);
    const n = published.length;
    const beat = kubeNode('node-b', '10.0.0.10');
    beat.status.conditions[0]!.status = 'False';
    api.put(NODES, beat);
    api.cutWatches();
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.4.0/26'));
    await until(() => blocks().includes('10.244.4.0/26'));
    expect(published.length).toBe(n + 1);
  });

  it('410 on re-watch: a re-list, and a publish only for what changed', async () => {
    make();
    await until(() => api.openWatches() === 6);
    const n = published.length;
    api.cutWatches();
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.5.0/26'));
    api.compact();
    await until(() => blocks().includes('10.244.5.0/26'));
    expect(published.length).toBe(n + 1);
    expect(b!.status().lastResync).toMatch(/410/);
  });

  it('server down: nothing withdrawn, unreachable reported, state back on return', async () => {
    make();
    await until(() => api.openWatches() === 6);
    const before = last();
    await api.stop();
    await until(() => b!.status().connected === false);
    expect(b!.status().unreachableSince).toBeInstanceOf(Date);
    expect(last()).toBe(before);
    expect(b!.desired()?.overlay.originate).toEqual(before!.overlay.originate);
    await api.start();
    await until(() => b!.status().connected);
    expect(last()).toBe(before);
  });

  it('a non-410 watch error (500) is retried with backoff', async () => {
    api.fail(`${CRD}/bgppeers`, 500, 3);
    make();
    await until(() => published.length > 0 && api.openWatches() === 6);
    expect(b!.status().connected).toBe(true);
  });

  it('a kind that keeps failing (not 410) is retried by its own loop with doubling backoff, capped, reset once it works', async () => {
    const delays: number[] = [];
    api.fail(`${CRD}/bgppeers`, 500, 5); // the first list and four retries
    b = new KubeBackend({
      config: { type: 'kubernetes', nodeName: 'node-a' },
      connection: { server: api.url, token: api.token },
      onDesired: (d) => published.push(d),
      log: silentLogger(),
      backoff: { initialMs: 100, maxMs: 400 },
      delay: (ms) => {
        delays.push(ms);
        return new Promise((r) => setTimeout(r, 5));
      },
    });
    b.start();
    await until(() => published.length > 0 && api.openWatches() === 6);
    const near = (got: readonly number[], want: readonly number[]) => {
      expect(got.length, JSON.stringify(got)).toBe(want.length);
      got.forEach((g, i) => expect(g / want[i]!, `${g} vs ${want[i]}`).toBeGreaterThanOrEqual(0.8 - 1e-9));
      got.forEach((g, i) => expect(g / want[i]!, `${g} vs ${want[i]}`).toBeLessThanOrEqual(1.2 + 1e-9));
    };
    near(delays, [100, 200, 400, 400, 400]); // +-20% jitter
    expect(b.status().connected).toBe(true);
    // every watch cut, and the bgppeers watch refused twice more: each kind retries from the
    // initial delay again (it had recovered), bgppeers doubling while it keeps failing
    delays.length = 0;
    api.fail(`${CRD}/bgppeers`, 503, 2);
    api.cutWatches();
    await until(() => delays.length >= 8 && api.openWatches() === 6);
    near([...delays].sort((x, y) => x - y), [100, 100, 100, 100, 100, 100, 200, 400]);
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.6.0/26'));
    await until(() => blocks().includes('10.244.6.0/26'));
  });

  it('a BGPPeer password from a Secret read by name; a missing Secret rejects that peer alone', async () => {
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } }));
    make();
    await until(() => published.length > 0);
    expect(last()!.supplied.rejected.map((r) => r.key)).toContain('bgppeers/tor');
    expect(mesh()).toEqual(['10.0.0.10']);
    api.put('/api/v1/namespaces/kube-system/secrets', { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'bgp-secrets', namespace: 'kube-system' }, data: { tor: Buffer.from('s3cret').toString('base64') } });
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65000, keepaliveTime: '20s', password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } }));
    await until(() => last()!.overlay.neighbors.some((x) => x.address === '10.0.0.1'));
    expect(last()!.overlay.neighbors.find((x) => x.address === '10.0.0.1')!.password).toBe('s3cret');
    // one Secret, by name: never the namespace's list
    expect(api.requests.filter((r) => r.path.includes('/secrets') && r.query['fieldSelector'] !== 'metadata.name=bgp-secrets')).toEqual([]);
  });
});
