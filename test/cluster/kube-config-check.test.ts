// `bgp-ts config check FILE --datastore` with datastore.type kubernetes,
// against the fake API server through a kubeconfig: one list of every kind,
// the merged config printed (the Secret's password masked), a malformed
// resource a warning naming it; a bad kubeconfig, or one naming a server that
// is not there, fails with datastore named, never a stack trace.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main, type CliIo } from '../../src/cli.js';
import { KubeApiServer } from './kube-api-server.js';
import { affinity, CRD, crd, kubeNode, NODES, secret, secretsPath } from './kube-fixtures.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    onSignal: () => {},
    offSignal: () => {},
    createLogger: () => pino({ level: 'silent' }),
    startDaemon: async () => {
      throw new Error('not started here');
    },
  };
  return { cli, out, err };
}

describe('bgp-ts config check --datastore, kubernetes', () => {
  let api: KubeApiServer;
  let dir: string;
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const kubeconfig = (server: string, token: string) =>
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {token: "${token}"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bgpts-kube-check-'));
    api = new KubeApiServer(1000);
    await api.start();
    api.put(NODES, kubeNode('node-a', '10.0.0.5'));
    api.put(NODES, kubeNode('node-b', '10.0.0.10'));
    api.put(`${CRD}/bgpconfigurations`, crd('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: true, asNumber: 64512 }));
    api.put(`${CRD}/ippools`, crd('IPPool', 'p', { cidr: '10.244.0.0/16', ipipMode: 'Always' }));
    api.put(`${CRD}/blockaffinities`, affinity('node-a', '10.244.1.0/26'));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-passwords', key: 'tor' } } }));
    api.put(`${CRD}/bgppeers`, crd('BGPPeer', 'bad', { peerIP: 'nope', asNumber: 1 }));
    api.put(secretsPath(), secret('bgp-passwords', { tor: 'sekret-from-k8s' }));
  });
  afterAll(async () => {
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the merged config from the API and exits 0; the password is masked, the bad peer a warning', async () => {
    const kc = file('kubeconfig', kubeconfig(api.url, api.token));
    const f = file('a.yaml', `datastore: { type: kubernetes, kubeconfig: ${kc}, nodeName: node-a }\n`);
    const { cli, out, err } = io();
    expect(await main(['config', 'check', f, '--datastore'], cli)).toBe(0);
    const text = out.join('');
    expect(err.join('')).toBe('');
    expect(text).toContain(`${f}: warning: datastore bgppeers/bad: spec.peerIP`);
    expect(text).toContain(`${f}: ok`);
    expect(text).not.toContain('sekret-from-k8s');
    const yaml = parse(text.split('\n').filter((l) => !l.startsWith(f) && !l.startsWith('#')).join('\n')) as Record<string, unknown>;
    expect(yaml).toMatchObject({ routerId: '10.0.0.5', asn: 64512, originate: [{ prefix: '10.244.1.0/26' }], ipPools: [{ cidr: '10.244.0.0/16', mode: 'ipip' }] });
    expect((yaml['neighbors'] as { address: string }[]).map((n) => n.address).sort()).toEqual(['10.0.0.1', '10.0.0.10']);
  });

  it('a bad kubeconfig, a wrong token and a server that is not there fail naming datastore', async () => {
    const broken = file('broken.yaml', `datastore: { type: kubernetes, kubeconfig: ${file('kc-broken', 'current-context: nope\n')}, nodeName: node-a }\n`);
    const r1 = io();
    expect(await main(['config', 'check', broken, '--datastore'], r1.cli)).toBe(1);
    expect(r1.err.join('')).toMatch(/datastore\.kubeconfig: .*kc-broken: contexts: no entry named "nope"/);
    const missing = file('missing.yaml', `datastore: { type: kubernetes, kubeconfig: ${join(dir, 'no-such-kubeconfig')}, nodeName: node-a }\n`);
    const r2 = io();
    expect(await main(['config', 'check', missing, '--datastore'], r2.cli)).toBe(1);
    expect(r2.err.join('')).toMatch(/datastore\.kubeconfig: .*no-such-kubeconfig: ENOENT/);
    const denied = file('denied.yaml', `datastore: { type: kubernetes, kubeconfig: ${file('kc-denied', kubeconfig(api.url, 'wrong-token'))}, nodeName: node-a }\n`);
    const r3 = io();
    expect(await main(['config', 'check', denied, '--datastore'], r3.cli)).toBe(1);
    expect(r3.err.join('')).toMatch(/datastore: .*401 Unauthorized/);
    const down = file('down.yaml', `datastore: { type: kubernetes, kubeconfig: ${file('kc-down', kubeconfig('http://127.0.0.1:1', 't'))}, nodeName: node-a }\n`);
    const r4 = io();
    expect(await main(['config', 'check', down, '--datastore'], r4.cli)).toBe(1);
    expect(r4.err.join('')).toMatch(/datastore: .*(ECONNREFUSED|not listed)/);
  }, 60_000);
});
