// The manifests as kubectl reads them (issue 14: "validated offline,
// kubectl create --dry-run=client --validate=false -f", Debian's
// kubernetes-client). Even a client dry-run maps each kind to its resource
// through the server's discovery documents, so kubectl is pointed at a
// discovery-only server on 127.0.0.1 that knows the built-in kinds the
// manifests may use (core v1, apps/v1, rbac v1) and nothing else: no cluster,
// and an unknown or misspelt kind fails as it would against a real one.
// Skips naming the package outside CI; fails under CI=true without kubectl.

import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');

function kubectlGate(): string | undefined {
  const found = (process.env['PATH'] ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, 'kubectl'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (found) return undefined;
  const reason = 'kubectl not found (apt-get install kubernetes-client)';
  if (process.env['CI'] === 'true') throw new Error(`kubectl prerequisite missing under CI: ${reason}`);
  console.warn(`[kubectl test skipped] ${reason}`);
  return reason;
}

type R = [name: string, kind: string, namespaced: boolean];
const GROUPS: Record<string, R[]> = {
  v1: [
    ['configmaps', 'ConfigMap', true],
    ['namespaces', 'Namespace', false],
    ['secrets', 'Secret', true],
    ['serviceaccounts', 'ServiceAccount', true],
  ],
  'apps/v1': [
    ['daemonsets', 'DaemonSet', true],
    ['deployments', 'Deployment', true],
  ],
  'rbac.authorization.k8s.io/v1': [
    ['clusterrolebindings', 'ClusterRoleBinding', false],
    ['clusterroles', 'ClusterRole', false],
    ['rolebindings', 'RoleBinding', true],
    ['roles', 'Role', true],
  ],
};

/** /api, /apis and one APIResourceList per group version: what discovery asks for. */
function discovery(path: string): unknown {
  const resources = (gv: string) => ({
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: GROUPS[gv]!.map(([name, kind, namespaced]) => ({ name, singularName: kind.toLowerCase(), namespaced, kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
  });
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
  if (path === '/api/v1') return resources('v1');
  if (path === '/apis') {
    const groups = Object.keys(GROUPS)
      .filter((gv) => gv.includes('/'))
      .map((gv) => ({ name: gv.split('/')[0], versions: [{ groupVersion: gv, version: 'v1' }], preferredVersion: { groupVersion: gv, version: 'v1' } }));
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
  const gv = path.replace(/^\/apis\//, '');
  return GROUPS[gv] && gv !== 'v1' ? resources(gv) : undefined;
}

const skip = kubectlGate();

describe.skipIf(skip !== undefined)('kubectl create --dry-run=client --validate=false', () => {
  let server: Server;
  let dir: string;
  const asked: string[] = [];

  const kubectl = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), 'create', '--dry-run=client', '--validate=false', '-o', 'name', ...args], { cwd: REPO, env: { ...process.env, HOME: dir, KUBECONFIG: '' }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bgp-ts-kubectl-'));
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      asked.push(`${req.method} ${path}`);
      const body = discovery(path);
      res.writeHead(body === undefined ? 404 : 200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    writeFileSync(
      join(dir, 'kubeconfig'),
      `apiVersion: v1\nkind: Config\nclusters: [{name: discovery, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: nobody, user: {}}]\ncontexts: [{name: offline, context: {cluster: discovery, user: nobody}}]\ncurrent-context: offline\n`,
    );
  });
  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads every manifest under deploy/kubernetes/ and names each object, asking the server for discovery only', async () => {
    const r = await kubectl('-R', '-f', 'deploy/kubernetes/');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(
      [
        'clusterrole.rbac.authorization.k8s.io/bgp-ts',
        'clusterrolebinding.rbac.authorization.k8s.io/bgp-ts',
        'configmap/bgp-ts-config',
        'configmap/bgp-ts-reflector-config',
        'daemonset.apps/bgp-ts',
        'daemonset.apps/bgp-ts-reflector',
        'role.rbac.authorization.k8s.io/bgp-ts-secrets',
        'rolebinding.rbac.authorization.k8s.io/bgp-ts-secrets',
        'serviceaccount/bgp-ts',
      ].sort(),
    );
    // a dry run: nothing was created, nothing but GETs of discovery (and the version)
    expect(asked.filter((a) => !/^GET \/(api|apis|version)(\/|$)/.test(a))).toEqual([]);
  });

  it('fails on a kind the API does not have and on YAML that does not parse (the check can fail)', async () => {
    writeFileSync(join(dir, 'bad-kind.yaml'), 'apiVersion: apps/v1\nkind: DaemonSett\nmetadata: { name: x, namespace: kube-system }\n');
    writeFileSync(join(dir, 'bad-yaml.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: [\n');
    for (const f of ['bad-kind.yaml', 'bad-yaml.yaml']) {
      const r = await kubectl('-f', join(dir, f));
      expect(r.code, f).not.toBe(0);
      expect(r.stderr, f).toMatch(/DaemonSett|error parsing|yaml/i);
    }
  });
});
