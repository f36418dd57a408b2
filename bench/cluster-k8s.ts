// bench cluster-k8s: the Kubernetes backend's first list of 5,000 Nodes and 20,000 BlockAffinities from the fake API server
// (test/cluster/kube-api-server.ts, same process: its page encoding shares the loop): list time, heap it holds, worst timer lag.
import { cpus } from 'node:os';
import { KubeBackend } from '../src/cluster/kube-backend.js';
import { silentLogger } from '../src/lib/log.js';
import { KubeApiServer } from '../test/cluster/kube-api-server.js';
export async function runClusterK8sBench(): Promise<void> {
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  const api = new KubeApiServer(60_000); await api.start();
  const n = (name: string, ip: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name }, annotations: { 'projectcalico.org/IPv4Address': `${ip}/16` } }, spec: { podCIDRs: [] }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });
  for (let i = 0; i < 5000; i++) api.put('/api/v1/nodes', n(`node-${i}`, `10.${1 + (i >> 8)}.${i & 255}.1`));
  for (let i = 0; i < 20000; i++) api.put('/apis/crd.projectcalico.org/v1/blockaffinities', { apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity', metadata: { name: `a-${i}` }, spec: { node: `node-${i % 5000}`, cidr: `10.${100 + (i >> 10)}.${(i >> 2) & 255}.${(i & 3) * 64}/26`, state: 'confirmed', deleted: 'false' } });
  global.gc?.(); const h0 = process.memoryUsage().heapUsed;
  let worst = 0; let last = performance.now();
  const iv = setInterval(() => { const t = performance.now(); worst = Math.max(worst, t - last - 1); last = t; }, 1);
  const t0 = performance.now();
  let done!: () => void; const p = new Promise<void>((r) => (done = r));
  const b = new KubeBackend({ config: { type: 'kubernetes', nodeName: 'node-7' }, connection: { server: api.url, token: api.token }, onDesired: () => done(), log: silentLogger() });
  b.start(); await p; const ms = performance.now() - t0;
  clearInterval(iv); global.gc?.(); const h1 = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ nodes: 5000, affinities: 20000, listMs: Math.round(ms), heapMB: ((h1 - h0) / 1e6).toFixed(1), worstTimerLagMs: Math.round(worst), neighbors: b.desired()!.overlay.neighbors.length, blocks: b.desired()!.supplied.blocks.length }));
  await b.stop(); await api.stop();
}
