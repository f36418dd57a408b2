// GET /api/v1/cluster, the datastore metrics and the `bgp-ts cluster` table,
// over a fake core (test/api/fake-deps.ts) with a datastore view.
import { describe, expect, it } from 'vitest';
import type { ApiCluster } from '../../src/api/cluster-schema.js';
import { buildApi } from '../../src/api/server.js';
import { formatCluster } from '../../src/cli/cluster-table.js';
import { resourcesFromEntries } from '../../src/cluster/etcd-keys.js';
import { desiredFromResources } from '../../src/cluster/model.js';
import { fakeDeps } from '../api/fake-deps.js';
import { affinity, bgpPeer, ipPool, node } from './calico-fixtures.js';

const supplied = desiredFromResources(
  resourcesFromEntries(
    [
      node('node-a', '10.0.0.5/24'),
      node('node-b', '10.0.0.10/24'),
      ipPool('p', { cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' }),
      affinity('node-a', '10.244.1.0/26'),
      affinity('node-a', '10.244.1.64/26', 'pending'),
      bgpPeer('tor', { node: 'node-z', peerIP: '10.0.0.254', asNumber: 65100 }),
      ['/calico/resources/v3/projectcalico.org/ippools/bad', '{'],
    ],
    'node-a',
  ),
  'node-a',
).supplied;

const view = (over: Partial<ApiCluster> = {}): ApiCluster => ({
  type: 'etcdv3',
  endpoints: ['http://10.0.0.4:2379'],
  nodeName: 'node-a',
  connected: false,
  unreachableSince: '2026-12-02T06:00:00.000Z',
  lastError: '14 UNAVAILABLE: No connection established',
  revision: 42,
  lastSync: '2026-12-02T05:59:00.000Z',
  resyncs: 3,
  lastResync: 'compacted',
  keys: 7,
  supplied: supplied as unknown as Record<string, unknown>,
  ...over,
});

describe('GET /api/v1/cluster and datastore metrics', () => {
  it('answers the view, and 404 without a datastore', async () => {
    const f = fakeDeps();
    const app = await buildApi({ ...f.deps, cluster: () => view() }, { metricsOptions: { defaultMetrics: false } });
    const r = await app.inject({ method: 'GET', url: '/api/v1/cluster' });
    expect(r.statusCode).toBe(200);
    const body = r.json() as ApiCluster;
    expect(body).toMatchObject({ type: 'etcdv3', connected: false, unreachableSince: '2026-12-02T06:00:00.000Z', revision: 42, resyncs: 3 });
    expect((body.supplied as { blocks: unknown[] }).blocks).toHaveLength(2);
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(m).toMatch(/^bgp_datastore_up 0$/m);
    expect(m).toMatch(/^bgp_datastore_resyncs_total 3$/m);
    expect(m).toMatch(/^bgp_datastore_resources_rejected 1$/m);
    await app.close();
    const plain = await buildApi(f.deps, { metricsOptions: { defaultMetrics: false } });
    const none = await plain.inject({ method: 'GET', url: '/api/v1/cluster' });
    expect(none.statusCode).toBe(404);
    expect(none.json()).toMatchObject({ error: 'not-found' });
    expect((await plain.inject({ method: 'GET', url: '/metrics' })).body).not.toContain('bgp_datastore_up');
    await plain.close();
  });
});

describe('bgp-ts cluster (table)', () => {
  it('says unreachable since when, and what was supplied and why', () => {
    const text = formatCluster(view());
    expect(text).toContain('UNREACHABLE since 2026-12-02T06:00:00.000Z: 14 UNAVAILABLE');
    expect(text).toContain('revision    42, last sync 2026-12-02T05:59:00.000Z (compacted), 3 list(s), 7 keys');
    expect(text).toMatch(/block\s+10\.244\.1\.0\/26\s+confirmed, announced/);
    expect(text).toMatch(/block\s+10\.244\.1\.64\/26\s+pending\n/);
    expect(text).toMatch(/pool\s+10\.244\.0\.0\/16\s+crossSubnet \(p\)/);
    expect(text).toMatch(/mesh peer 10\.0\.0\.10\s+node-b\n/);
    expect(text).toContain('bgppeer     tor: not for this node (spec.node is node-z)');
    expect(text).toContain('REJECTED    /calico/resources/v3/projectcalico.org/ippools/bad: the value is not JSON');
    expect(formatCluster(view({ connected: true, unreachableSince: undefined }))).toContain('state       connected');
  });
});
