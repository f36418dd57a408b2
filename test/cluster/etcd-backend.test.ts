// The etcd v3 backend against a real etcd (Debian etcd-server), keys written
// with etcdctl in Calico's JSON shapes: first list, live watch, malformed
// keys, etcd stopped and restarted (nothing withdrawn, unreachable reported,
// a key written while we were away arrives, one publish for the difference),
// a compacted watch (re-list, no publish when nothing changed), TLS client
// certificates and etcd user/password.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdBackend, etcdClientOptions } from '../../src/cluster/etcd-backend.js';
import type { ClusterDesired } from '../../src/cluster/model.js';
import type { DatastoreConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/lib/log.js';
import { pollUntil, sleep } from '../interop/harness/exec.js';
import { affinity, affinityKey, bgpConfiguration, ipPool, node } from './calico-fixtures.js';
import { EtcdServer, etcdGate, makeCertificates } from './etcd-server.js';

const skip = etcdGate();

/** A backend with a record of every publish. */
function backend(config: DatastoreConfig) {
  const published: { at: number; desired: ClusterDesired }[] = [];
  const b = new EtcdBackend({ config, onDesired: (desired) => published.push({ at: performance.now(), desired }), log: silentLogger(), backoff: { initialMs: 200, maxMs: 1000 }, listTimeoutMs: 2000 });
  return { b, published, last: () => published[published.length - 1]?.desired };
}
const blocksOf = (d: ClusterDesired | undefined) => d?.overlay.originate.map((o) => o.prefix).sort() ?? [];

describe.skipIf(skip !== undefined)('etcd v3 backend against a real etcd', () => {
  let etcd: EtcdServer;
  const started: EtcdBackend[] = [];
  const make = (config: Partial<DatastoreConfig> = {}) => {
    const r = backend({ type: 'etcdv3', endpoints: [etcd.endpoint], nodeName: 'node-a', ...config });
    started.push(r.b);
    r.b.start();
    return r;
  };

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    for (const [k, v] of [
      node('node-a', '10.0.0.5/24'),
      node('node-b', '10.0.0.10/24'),
      ipPool('default-ipv4-ippool', { cidr: '10.244.0.0/16', ipipMode: 'Always' }),
      bgpConfiguration('default', { nodeToNodeMeshEnabled: true, asNumber: 64512 }),
      affinity('node-a', '10.244.1.0/26'),
      affinity('node-b', '10.244.2.0/26'),
      ['/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26', '{"cidr":"10.244.1.0/26"}'],
    ] as const)
      await etcd.put(k, v);
  }, 30_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((b) => b.stop()));
  });

  afterAll(async () => {
    await etcd?.destroy();
  });

  it('lists at one revision and publishes the model: this node, its blocks only, pools, mesh', async () => {
    const { b, published } = make();
    await pollUntil(() => published.length > 0, { timeoutMs: 5000, what: 'first publish' });
    const d = published[0]!.desired;
    expect(d.overlay.routerId).toBe('10.0.0.5');
    expect(blocksOf(d)).toEqual(['10.244.1.0/26']);
    expect(d.overlay.ipPools).toEqual([{ cidr: '10.244.0.0/16', mode: 'ipip', program: true, disableExport: false }]);
    expect(d.overlay.neighbors.map((n) => [n.address, n.passive])).toEqual([['10.0.0.10', false]]);
    const s = b.status();
    expect(s).toMatchObject({ type: 'etcdv3', connected: true, nodeName: 'node-a', resyncs: 1, revision: await etcd.revision() });
    expect(s.unreachableSince).toBeUndefined();
  });

  it('watches: a new affinity is published (timed), a deleted one withdrawn, a malformed key rejected by name', async () => {
    const { published, last } = make();
    await pollUntil(() => published.length > 0, { timeoutMs: 5000, what: 'first publish' });
    const t0 = performance.now();
    await etcd.put(...affinity('node-a', '10.244.1.64/26'));
    await pollUntil(() => blocksOf(last()).includes('10.244.1.64/26'), { timeoutMs: 1000, intervalMs: 5, what: 'new block within 1 s' });
    console.log(`[figure] etcdctl put -> backend publish: ${(published[published.length - 1]!.at - t0).toFixed(1)} ms (includes the etcdctl process)`);
    await etcd.put(...affinity('node-a', '10.244.1.128/26', 'pending'));
    await sleep(300);
    expect(blocksOf(last())).toEqual(['10.244.1.0/26', '10.244.1.64/26']);
    await etcd.del(affinityKey('node-a', '10.244.1.64/26'));
    await pollUntil(() => !blocksOf(last()).includes('10.244.1.64/26'), { timeoutMs: 1000, intervalMs: 5, what: 'block withdrawn' });
    await etcd.put('/calico/resources/v3/projectcalico.org/ippools/broken', '{"spec":{"cidr":"10.300.0.0/16"}}');
    await pollUntil(() => last()!.supplied.rejected.length === 1, { timeoutMs: 1000, what: 'rejection' });
    expect(last()!.supplied.rejected[0]).toMatchObject({ key: '/calico/resources/v3/projectcalico.org/ippools/broken' });
    expect(last()!.overlay.ipPools).toHaveLength(1);
    await etcd.del('/calico/resources/v3/projectcalico.org/ippools/broken');
    await etcd.del(affinityKey('node-a', '10.244.1.128/26'));
  });

  it('etcd stopped: nothing withdrawn, unreachable reported; back: re-listed, one publish for what changed meanwhile', async () => {
    const { b, published, last } = make();
    await pollUntil(() => published.length > 0, { timeoutMs: 5000, what: 'first publish' });
    const before = JSON.stringify(last());
    const count = published.length;
    await etcd.pause();
    await pollUntil(() => !b.status().connected, { timeoutMs: 15_000, what: 'unreachable noticed' });
    const down = b.status();
    expect(down.unreachableSince).toBeInstanceOf(Date);
    expect(down.lastError).toBeTruthy();
    await sleep(1500); // several failed re-lists
    expect(published.length).toBe(count);
    expect(JSON.stringify(b.desired())).toBe(before);
    await etcd.resume();
    await etcd.put(...affinity('node-a', '10.244.7.0/26')); // written as etcd came back, before we re-listed or not
    await pollUntil(() => b.status().connected && blocksOf(last()).includes('10.244.7.0/26'), { timeoutMs: 10_000, what: 'reconnect and the new block' });
    expect(published.length).toBe(count + 1); // the difference only
    expect(b.status().resyncs).toBeGreaterThanOrEqual(2);
    expect(b.status().unreachableSince).toBeUndefined();
    await etcd.del(affinityKey('node-a', '10.244.7.0/26'));
  }, 60_000);

  it('a watch from a compacted revision is cancelled by etcd; the backend re-lists and publishes nothing new', async () => {
    // etcd compacts past our listed revision before the watch starts (the gap the hook holds open)
    let once = true;
    const r = { published: [] as { at: number; desired: ClusterDesired }[], last: () => r.published[r.published.length - 1]?.desired };
    const b = new EtcdBackend({
      config: { type: 'etcdv3', endpoints: [etcd.endpoint], nodeName: 'node-a' },
      onDesired: (desired) => r.published.push({ at: performance.now(), desired }),
      log: silentLogger(),
      afterList: async () => {
        if (!once) return;
        once = false;
        // two writes, so the compaction point lies beyond the watch's start (listed + 1)
        for (const n of [1, 2]) await etcd.put('/calico/resources/v3/projectcalico.org/felixconfigurations/default', `{"spec":{"n":${n}}}`);
        await etcd.compact(await etcd.revision());
      },
    });
    started.push(b);
    b.start();
    const { published, last } = r;
    await pollUntil(() => b.status().resyncs === 2 && b.status().connected, { timeoutMs: 10_000, what: 're-list after compaction' }).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(b.status())}`);
    });
    expect(b.status().lastResync).toBe('compacted');
    expect(published.length).toBe(1); // the first list's; the re-list found nothing new: no flap
    // and the watch works after the re-list
    await etcd.put(...affinity('node-a', '10.244.8.0/26'));
    await pollUntil(() => blocksOf(last()).includes('10.244.8.0/26'), { timeoutMs: 2000, what: 'watch after compaction' });
    await etcd.del(affinityKey('node-a', '10.244.8.0/26'));
  }, 60_000);
});

describe.skipIf(skip !== undefined)('etcd v3 backend: TLS client certificates and user/password', () => {
  let etcd: EtcdServer;
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bgpts-etcd-tls-'));
    certs = makeCertificates(dir);
    etcd = await EtcdServer.start({
      scheme: 'https',
      args: ['--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--client-cert-auth', '--trusted-ca-file', certs.ca],
      ctlFlags: [`--cacert=${certs.ca}`, `--cert=${certs.clientCert}`, `--key=${certs.clientKey}`],
    });
    await etcd.put(...node('node-a', '10.0.0.5/24'));
    await etcd.ctl(['user', 'add', 'root:rootpw']);
    await etcd.ctl(['user', 'add', 'calico:calicopw']);
    await etcd.ctl(['role', 'add', 'calico-read']);
    await etcd.ctl(['role', 'grant-permission', 'calico-read', '--prefix=true', 'read', '/calico/']);
    await etcd.ctl(['user', 'grant-role', 'calico', 'calico-read']);
    await etcd.ctl(['auth', 'enable']);
    etcd.ctlFlags = [...etcd.ctlFlags, '--user=root:rootpw'];
  }, 60_000);
  afterAll(async () => {
    await etcd?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists over TLS with a client certificate and an etcd user', async () => {
    const r = backend({ type: 'etcdv3', endpoints: [etcd.endpoint], nodeName: 'node-a', caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey, username: 'calico', password: 'calicopw' });
    r.b.start();
    try {
      await pollUntil(() => r.published.length > 0, { timeoutMs: 10_000, what: `TLS publish (${r.b.status().lastError})` });
      expect(r.last()!.overlay.routerId).toBe('10.0.0.5');
      await etcd.put(...affinity('node-a', '10.244.1.0/26'));
      await pollUntil(() => blocksOf(r.last()).includes('10.244.1.0/26'), { timeoutMs: 2000, what: 'TLS watch' });
    } finally {
      await r.b.stop();
    }
  });

  it('a wrong password is reported, never a crash, and nothing is published', async () => {
    const r = backend({ type: 'etcdv3', endpoints: [etcd.endpoint], nodeName: 'node-a', caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey, username: 'calico', password: 'wrong' });
    r.b.start();
    try {
      await pollUntil(() => r.b.status().lastError !== undefined, { timeoutMs: 10_000, what: 'auth error' });
      expect(r.b.status().connected).toBe(false);
      expect(r.published).toEqual([]);
    } finally {
      await r.b.stop();
    }
  });
});

describe('etcd client options from the datastore key', () => {
  it('names the key whose file cannot be read, and pairs that must go together', () => {
    expect(() => etcdClientOptions({ type: 'etcdv3', endpoints: ['https://127.0.0.1:2379'], caFile: '/nonexistent/ca.crt' })).toThrow('datastore.caFile: cannot read /nonexistent/ca.crt: ENOENT');
    expect(() => etcdClientOptions({ type: 'etcdv3', certFile: '/x' }, () => Buffer.from('x'))).toThrow('datastore.certFile and datastore.keyFile');
    expect(() => etcdClientOptions({ type: 'etcdv3', username: 'u' })).toThrow('datastore.username and datastore.password');
    expect(() => etcdClientOptions({ type: 'etcdv3', endpoints: ['http://127.0.0.1:2379'], caFile: '/x' }, () => Buffer.from('x'))).toThrow('need https://');
    expect(etcdClientOptions({ type: 'etcdv3', username: 'u', password: 'p' })).toMatchObject({ hosts: ['http://127.0.0.1:2379'], auth: { username: 'u', password: 'p' } });
  });
});
