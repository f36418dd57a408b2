// Cluster datastore resync benchmark (issue 11's figure): 1,000 Calico nodes
// with 4 IPAM blocks each. (1) The pure path: decode every key and run the
// model for one node (999 mesh neighbors, its 4 blocks), N times. (2) With a
// real etcd (Debian etcd-server, skipped when absent): the same keys written
// to a throwaway etcd on loopback, then a fresh EtcdBackend's first list +
// model until its first publish, N times.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { EtcdBackend } from '../src/cluster/etcd-backend.js';
import { RESOURCES_PREFIX, resourcesFromEntries } from '../src/cluster/etcd-keys.js';
import { desiredFromResources } from '../src/cluster/model.js';
import { silentLogger } from '../src/lib/log.js';

const NODES = 1000;
const BLOCKS = 4;
const RUNS = 5;

function entries(): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < NODES; i++) {
    const name = `node-${String(i).padStart(4, '0')}`;
    const ip = `10.${Math.floor(i / 250)}.${i % 250}.${1 + (i % 200)}`;
    out.push([`${RESOURCES_PREFIX}nodes/${name}`, JSON.stringify({ kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name, labels: { 'kubernetes.io/hostname': name, rack: `r${i % 20}` } }, spec: { bgp: { ipv4Address: `${ip}/16` } } })]);
    for (let b = 0; b < BLOCKS; b++) {
      const block = i * BLOCKS + b;
      out.push([`/calico/ipam/v2/host/${name}/ipv4/block/10.${64 + (block >> 10)}.${(block >> 2) & 255}.${(block & 3) * 64}-26`, '{"state":"confirmed","deleted":false}']);
    }
  }
  out.push([`${RESOURCES_PREFIX}ippools/default-ipv4-ippool`, JSON.stringify({ kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '10.64.0.0/10', ipipMode: 'Always', blockSize: 26 } })]);
  out.push([`${RESOURCES_PREFIX}bgpconfigurations/default`, JSON.stringify({ kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: true, asNumber: 64512 } })]);
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runClusterResyncBench(): Promise<void> {
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  const all = entries();
  const own = all.filter(([k]) => k.startsWith(RESOURCES_PREFIX) || k.startsWith('/calico/ipam/v2/host/node-0000/'));
  const times: number[] = [];
  let neighbors = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const d = desiredFromResources(resourcesFromEntries(own, 'node-0000'), 'node-0000');
    times.push(performance.now() - t0);
    neighbors = d.overlay.neighbors.length;
  }
  console.log(`model: ${NODES} nodes x ${BLOCKS} blocks (${own.length} keys read by one node): median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms over N=${RUNS}; ${neighbors} mesh neighbors`);

  const dir = mkdtempSync(join(tmpdir(), 'bgpts-bench-etcd-'));
  const port = await freePort();
  const peer = await freePort();
  const etcd = spawn('etcd', ['--name', 'b', '--data-dir', join(dir, 'd'), '--listen-client-urls', `http://127.0.0.1:${port}`, '--advertise-client-urls', `http://127.0.0.1:${port}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `b=http://127.0.0.1:${peer}`, '--log-level', 'error'], { stdio: 'ignore' });
  const spawned = await new Promise<boolean>((res) => {
    etcd.once('error', () => res(false));
    etcd.once('spawn', () => res(true));
  });
  if (!spawned) {
    rmSync(dir, { recursive: true, force: true });
    return console.log('etcd list: skipped, etcd not found (apt-get install etcd-server)');
  }
  const client = new Etcd3({ hosts: `http://127.0.0.1:${port}` });
  try {
    for (let tries = 0; ; tries++) {
      try {
        await client.get('/x').string();
        break;
      } catch (e) {
        if (tries > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (let i = 0; i < all.length; i += 200) await Promise.all(all.slice(i, i + 200).map(([k, v]) => client.put(k).value(v).exec()));
    const listTimes: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      let resolve!: () => void;
      const first = new Promise<void>((res) => (resolve = res));
      const b = new EtcdBackend({ config: { type: 'etcdv3', endpoints: [`http://127.0.0.1:${port}`], nodeName: 'node-0000' }, log: silentLogger(), onDesired: () => resolve() });
      b.start();
      await first;
      listTimes.push(performance.now() - t0);
      await b.stop();
    }
    console.log(`etcd list + model (fresh client each, ${all.length} keys in etcd, ${own.length} listed): median ${median(listTimes).toFixed(1)} ms, max ${Math.max(...listTimes).toFixed(1)} ms over N=${RUNS}`);
  } finally {
    client.close();
    etcd.kill('SIGTERM');
    await new Promise((r) => etcd.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
