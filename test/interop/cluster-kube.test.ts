// Interop (issue 14): a bgp-ts node configured from the Kubernetes API alone
// (its YAML: datastore type kubernetes with a kubeconfig, the API, the
// harness's FIB switch) and a real BIRD 2 peer that requires TCP MD5
// (RFC 2385). The API is the fake server (test/cluster/kube-api-server.ts:
// no Kubernetes API server can be installed here) serving a Node with
// Calico's annotations, BGPConfiguration, IPPool, BlockAffinity, a BGPPeer
// whose password is a secretKeyRef, and the Secret. It runs in this process
// on a unix socket; a forwarder inside bgp-ts's namespace listens on
// 127.0.0.1:6443, so the daemon reaches it as any API server, with a bearer
// token from its kubeconfig. Proves: the session comes up with the key from
// the Secret, watched by name (the socket carries an MD5 key) and the block
// is announced; the
// API server gone for 30 s withdraws nothing; the Secret's key rotated to a
// value BIRD does not have takes the session down and keeps it down (the
// kernel drops the digests it cannot verify); the Secret deleted leaves no
// neighbor and /api/v1/cluster says why; restored, the session returns.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs } from './harness/bgp-ts.js';
import { BirdPeer } from './harness/bird.js';
import { pollUntil, runIn, sleep } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerSpec } from './harness/peer.js';
import { interopGate } from './harness/prerequisites.js';
import { spawnIn, type ManagedProcess } from './harness/processes.js';
import { KubeApiServer } from '../cluster/kube-api-server.js';
import { affinity, CRD, crd, kubeNode, NODES, secret, secretsPath } from '../cluster/kube-fixtures.js';

const A = '10.0.0.1';
const BIRD = '10.0.0.2';
const AS_NODE = 64512;
const AS_BIRD = 64513;
const BLOCK = '10.244.1.0/26';
const KEY = 'from-the-secret-1';

/** BIRD with `password` in its protocol block. */
class Md5Bird extends BirdPeer {
  constructor(
    spec: PeerSpec,
    ns: string,
    dir: string,
    private readonly password: string,
  ) {
    mkdirSync(dir, { recursive: true });
    super(spec, ns, dir);
  }
  protected override async writeConfig(): Promise<void> {
    await super.writeConfig();
    const path = join(this.dir, 'bird.conf');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^( {2}neighbor .*\n)/gm, `$1  password "${this.password}";\n`));
  }
  config(): string {
    return readFileSync(join(this.dir, 'bird.conf'), 'utf8');
  }
}

/** A kernel TCP counter (nstat, absolute) inside a namespace; 0 when absent. */
async function counter(ns: string, name: string): Promise<number> {
  const { stdout } = await runIn(ns, 'nstat', ['-asz', name], { allowFailure: true });
  const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(stdout);
  return m ? Number(m[1]) : 0;
}

/** TCP 127.0.0.1:PORT inside the namespace -> the unix socket (plain JavaScript: runs without a TypeScript loader). */
const FORWARDER = `
const net = require('node:net');
const [sock, host, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(sock);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  c.on('close', () => u.destroy()); u.on('close', () => c.destroy());
}).listen(Number(port), host, () => console.log('forwarding'));
`;

const skip = interopGate(['bird']);

describe.skipIf(skip !== undefined)('cluster datastore: bgp-ts from the Kubernetes API, a BIRD peer with a TCP MD5 key from a Secret', () => {
  let topo: Topology;
  let api: KubeApiServer;
  let forwarder: ManagedProcess;
  let a: BgpTsDaemon;
  let bird: Md5Bird;
  const ref = { secretKeyRef: { name: 'bgp-passwords', key: 'bird' } };
  const peer = () => crd('BGPPeer', 'bird-tor', { peerIP: BIRD, asNumber: AS_BIRD, password: ref });

  const cluster = () => a.apiGet<{ connected: boolean; unreachableSince?: string; supplied?: { rejected?: { key: string; error: string }[] } }>('/api/v1/cluster');
  const ready = async () => JSON.parse((await runIn(a.ns, 'curl', ['-sS', '--max-time', '5', 'http://127.0.0.1:9179/readyz'])).stdout) as { ready: boolean; reasons: string[] };
  const birdUp = () => pollUntil(async () => (await bird.neighborState(A)) === 'Established', { timeoutMs: 30_000, what: `BIRD Established\n${bird.tail(20)}` });
  const staysDown = async (ms: number, since: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      expect(await bird.neighborState(A)).not.toBe('Established');
      await sleep(500);
    }
    expect(a.find(eventIs('session-established', { peer: BIRD }), since)).toBeUndefined();
    expect(a.running).toBe(true);
  };
  const md5Failures = () => counter(topo.node('bird').ns, 'TcpExtTCPMD5Failure');

  beforeAll(async () => {
    topo = await Topology.create(['a', 'bird']);
    api = new KubeApiServer(1000, join(topo.dir, 'kube-api.sock'));
    await api.start();
    api.put(NODES, kubeNode('node-a', A));
    api.put(`${CRD}/bgpconfigurations`, crd('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: false, asNumber: AS_NODE }));
    api.put(`${CRD}/ippools`, crd('IPPool', 'default-ipv4-ippool', { cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', blockSize: 26 }));
    api.put(`${CRD}/blockaffinities`, affinity('node-a', BLOCK));
    api.put(`${CRD}/bgppeers`, peer());
    api.put(secretsPath(), secret('bgp-passwords', { bird: KEY }));
    forwarder = spawnIn(topo.node('a').ns, 'kube-forwarder', process.execPath, ['-e', FORWARDER, join(topo.dir, 'kube-api.sock'), '127.0.0.1', '6443']);
    await pollUntil(() => forwarder.lines.some((l) => l.text === 'forwarding') || undefined, { timeoutMs: 10_000, what: `forwarder listening\n${forwarder.tail()}` });
    const kubeconfig = join(topo.dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "http://127.0.0.1:6443"}}]\nusers: [{name: node-a, user: {token: "${api.token}"}}]\ncontexts: [{name: node-a, context: {cluster: fake, user: node-a}}]\ncurrent-context: node-a\n`,
    );
    bird = new Md5Bird(
      { routerId: BIRD, asn: AS_BIRD, nextHop: { ipv4: BIRD, ipv6: '2001:db8::2' }, neighbors: [{ address: A, asn: AS_NODE, localAddress: BIRD, families: ['ipv4-unicast'] }] },
      topo.node('bird').ns,
      join(topo.dir, 'bird'),
      KEY,
    );
    await bird.start();
    mkdirSync(join(topo.dir, 'a'));
    a = new BgpTsDaemon(topo.node('a').ns, join(topo.dir, 'a'), {
      datastore: { type: 'kubernetes', kubeconfig, nodeName: 'node-a' },
      api: { listen: '127.0.0.1:9179' },
      fib: { enabled: false },
    } as never);
    await a.start();
  }, 90_000);

  afterAll(async () => {
    await a?.stop();
    await bird?.stop();
    await forwarder?.stop();
    await api?.stop();
    await topo?.destroy();
  });

  it('the session comes up with the key from the Secret, the socket carries it, the block is announced', async () => {
    expect(bird.config()).toContain(`password "${KEY}"`);
    await a.waitForEvent(eventIs('session-established', { peer: BIRD }), 30_000);
    await birdUp();
    const { stdout } = await runIn(a.ns, 'ss', ['-tnie', 'state', 'established', `dst ${BIRD}`]);
    expect(stdout).toMatch(/md5/);
    await pollUntil(async () => (await bird.receivedRoutes('ipv4-unicast')).some((r) => r.prefix === BLOCK) || undefined, { timeoutMs: 20_000, what: `BIRD holding ${BLOCK}` });
    const c = await cluster();
    expect(c.connected).toBe(true);
    expect(c.supplied?.rejected ?? []).toEqual([]);
    // the token went with every request, and the Secret was read by name
    expect(api.requests.length).toBeGreaterThan(0);
    expect(api.requests.every((r) => r.authorized)).toBe(true);
    const secrets = api.requests.filter((r) => r.path.includes('/secrets'));
    expect(secrets.length).toBeGreaterThan(0);
    expect(secrets.filter((r) => r.path !== '/api/v1/namespaces/kube-system/secrets' || r.query['fieldSelector'] !== 'metadata.name=bgp-passwords')).toEqual([]);
  });

  it('the API server gone for 30 s: nothing withdrawn, the session kept, readiness says why; back, it is connected again', async () => {
    const since = a.mark();
    await api.stop();
    await pollUntil(async () => (await ready()).reasons.some((r) => r.startsWith('datastore unreachable since')) || undefined, { timeoutMs: 30_000, what: 'readiness reports the datastore' });
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      expect(await bird.neighborState(A)).toBe('Established');
      expect((await bird.receivedRoutes('ipv4-unicast')).some((r) => r.prefix === BLOCK)).toBe(true);
      await sleep(2000);
    }
    expect(a.find(eventIs('session-down', { peer: BIRD }), since)).toBeUndefined();
    await api.start();
    await pollUntil(async () => (await cluster()).connected || undefined, { timeoutMs: 60_000, what: 'datastore connected again' });
    expect(a.find(eventIs('session-down', { peer: BIRD }), since)).toBeUndefined();
  }, 150_000);

  it("the Secret's key rotated to one BIRD lacks: the session goes and stays down, the kernel drops the digests", async () => {
    const since = a.mark();
    const failures = await md5Failures();
    api.put(secretsPath(), secret('bgp-passwords', { bird: 'rotated-elsewhere-2' }));
    // the Secret is watched by name: the new key is applied at once
    await a.waitForEvent(eventIs('session-down', { peer: BIRD }), 30_000, since);
    const after = a.mark();
    await staysDown(8000, after);
    expect(await md5Failures()).toBeGreaterThan(failures);
  }, 150_000);

  it('the Secret deleted: no neighbor, /api/v1/cluster says why; restored with the right key, the session returns', async () => {
    api.remove(secretsPath(), 'bgp-passwords');
    await pollUntil(async () => (await cluster()).supplied?.rejected?.find((r) => r.key === 'bgppeers/bird-tor'), { timeoutMs: 20_000, what: 'the peer rejected' });
    expect((await cluster()).supplied!.rejected!.find((r) => r.key === 'bgppeers/bird-tor')!.error).toBe("spec.password: Secret 'bgp-passwords' not found (or not readable)");
    await pollUntil(async () => (await a.apiGet<{ peers: { address: string }[] }>('/api/v1/peers')).peers.every((p) => p.address !== BIRD) || undefined, { timeoutMs: 20_000, what: 'neighbor removed' });
    const since = a.mark();
    await staysDown(6000, since);
    api.put(secretsPath(), secret('bgp-passwords', { bird: KEY }));
    await a.waitForEvent(eventIs('session-established', { peer: BIRD }), 60_000, since);
    await birdUp();
    expect((await cluster()).supplied?.rejected ?? []).toEqual([]);
  }, 150_000);
});
