// config/examples/calico-etcd.yaml is a valid file once the datastore supplies
// the node (routerId, asn): merged with an overlay it loads cleanly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resourcesFromEntries } from '../../src/cluster/etcd-keys.js';
import { mergeOverlay } from '../../src/cluster/merge.js';
import { desiredFromResources } from '../../src/cluster/model.js';
import { parseConfig } from '../../src/config/load.js';
import { affinity, ipPool, node } from './calico-fixtures.js';

describe('config/examples/calico-etcd.yaml', () => {
  it('merged with the datastore, it is a whole config', () => {
    const raw = parse(readFileSync(join(import.meta.dirname, '..', '..', 'config/examples/calico-etcd.yaml'), 'utf8')) as Record<string, unknown>;
    const { overlay } = desiredFromResources(resourcesFromEntries([node('node-a', '10.0.0.1/24'), ipPool('p', { cidr: '10.244.0.0/16', ipipMode: 'Always' }), affinity('node-a', '10.244.1.0/26')], 'node-a'), 'node-a');
    const r = parseConfig(JSON.stringify(mergeOverlay(raw, overlay)), undefined, { readSecret: () => 'x'.repeat(32) });
    expect(r.ok ? [] : r.errors).toEqual([]);
    if (!r.ok) return;
    expect(r.config.datastore).toMatchObject({ type: 'etcdv3', nodeName: 'node-a', caFile: '/etc/calico/certs/ca.pem' });
    expect(r.config.routerId).toBe('10.0.0.1');
    expect(r.config.fib.protocol).toBe(12);
  });
});
