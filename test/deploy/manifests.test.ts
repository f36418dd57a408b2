// deploy/kubernetes/ (issue 14, "Running bgp-ts in the cluster") read as
// data: what the DaemonSets may do on a node (host network, NET_ADMIN and
// NET_BIND_SERVICE only, not root), what the RBAC lets the service account
// read (get/list/watch on exactly what the Kubernetes backend lists, Secrets
// only by name in the secrets namespace, nothing else), and that the config
// in each ConfigMap passes bgp-ts's own config check, with the node name
// left to the downward API. The Dockerfile's kubernetes target is what gives
// a non-root process those two capabilities.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { datastoreNodeName } from '../../src/cluster/backend.js';
import { KUBE_PATHS } from '../../src/cluster/kube-objects.js';
import type { BgpConfig } from '../../src/config/schema.js';
import { checkDatastoreFile } from '../../src/daemon/cluster-sync.js';

const REPO = join(import.meta.dirname, '../..');
const DIR = join(REPO, 'deploy/kubernetes');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(n) ? [p] : [];
  });
}

const objects: (Obj & { file: string })[] = yamlFiles(DIR).flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    expect(d.errors, file).toEqual([]);
    return { ...(d.toJS() as Obj), file: relative(REPO, file) };
  }),
);
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const daemonSets = ofKind('DaemonSet');
const podSpecs = [...daemonSets, ...ofKind('Deployment')].map((o) => ({ name: o.metadata.name as string, spec: o.spec.template.spec as Obj, template: o.spec.template as Obj }));
const configMap = (name: string) => ofKind('ConfigMap').find((c) => c.metadata.name === name);
/** The file the container's `--config` names, from the ConfigMap mounted there, through `bgp-ts config check`'s own path. */
const checked = new Map<string, BgpConfig>();
async function configOf(pod: { name: string; spec: Obj }): Promise<BgpConfig> {
  const c = pod.spec.containers[0];
  const file: string = c.args[c.args.indexOf('--config') + 1];
  const mount = c.volumeMounts.find((m: Obj) => file.startsWith(m.mountPath + '/'));
  const volume = pod.spec.volumes.find((v: Obj) => v.name === mount.name);
  const text: string = configMap(volume.configMap.name)!.data[file.slice(mount.mountPath.length + 1)];
  if (checked.has(text)) return checked.get(text)!;
  const dir = mkdtempSync(join(tmpdir(), 'bgp-ts-deploy-'));
  try {
    writeFileSync(join(dir, 'bgp-ts.yaml'), text);
    const r = await checkDatastoreFile(join(dir, 'bgp-ts.yaml'));
    if (r === undefined || !r.ok) throw new Error(`${pod.name}: ${JSON.stringify(r)}`);
    // warned, and meant: routerId and asn from the Node, BIRD's protocol number (bgp-ts
    // replaces Calico's BIRD), a read-only API from the network; nothing else
    expect(r.warnings.map((w) => w.path).sort(), JSON.stringify(r.warnings)).toEqual(['api.listen', 'fib.protocol', 'routerId, asn']);
    checked.set(text, r.config);
    return r.config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('deploy/kubernetes manifests', () => {
  it('hold a node DaemonSet, a route-reflector one, their ConfigMaps, a ServiceAccount and the RBAC', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ClusterRole/bgp-ts',
        'ClusterRoleBinding/bgp-ts',
        'ConfigMap/bgp-ts-config',
        'ConfigMap/bgp-ts-reflector-config',
        'DaemonSet/bgp-ts',
        'DaemonSet/bgp-ts-reflector',
        'Role/bgp-ts-secrets',
        'RoleBinding/bgp-ts-secrets',
        'ServiceAccount/bgp-ts',
      ].sort(),
    );
  });

  for (const pod of podSpecs)
    describe(pod.name, () => {
      const c = pod.spec.containers[0];
      it('one container in the host network with NET_ADMIN and NET_BIND_SERVICE only, not root, not privileged', () => {
        expect(pod.spec.containers).toHaveLength(1);
        expect(pod.spec.initContainers ?? []).toEqual([]);
        expect(pod.spec.hostNetwork).toBe(true);
        expect(pod.spec.hostPID ?? false).toBe(false);
        expect(pod.spec.hostIPC ?? false).toBe(false);
        expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
        expect([...c.securityContext.capabilities.add].sort()).toEqual(['NET_ADMIN', 'NET_BIND_SERVICE']);
        expect(c.securityContext.privileged ?? false).toBe(false);
        const runAsUser = c.securityContext.runAsUser ?? pod.spec.securityContext?.runAsUser;
        expect(c.securityContext.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot).toBe(true);
        expect(runAsUser).toBeGreaterThan(0);
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        // no host paths: the netlink socket and port 179 need no files of the host
        expect(pod.spec.volumes.filter((v: Obj) => v.hostPath !== undefined)).toEqual([]);
      });

      it('runs as the ServiceAccount the RBAC binds', () => {
        const sa = ofKind('ServiceAccount').find((s) => s.metadata.name === pod.spec.serviceAccountName);
        expect(sa).toBeDefined();
        for (const b of [...ofKind('ClusterRoleBinding'), ...ofKind('RoleBinding')])
          expect(b.subjects).toContainEqual({ kind: 'ServiceAccount', name: sa!.metadata.name, namespace: sa!.metadata.namespace });
      });

      it('its config passes the config check: datastore kubernetes in-cluster, node name from the downward API', async () => {
        const config = await configOf(pod);
        expect(config.datastore).toMatchObject({ type: 'kubernetes' });
        expect(config.datastore!.kubeconfig).toBeUndefined(); // the service account
        expect(config.datastore!.nodeName).toBeUndefined(); // so NODENAME names the node
        const env = c.env.find((e: Obj) => e.name === 'NODENAME');
        expect(env.valueFrom).toEqual({ fieldRef: { fieldPath: 'spec.nodeName' } });
        expect(datastoreNodeName(config.datastore!, { NODENAME: 'worker-7' })).toBe('worker-7');
        expect(config.fib.enabled).toBe(true);
      });

      it('readiness on /readyz and the metrics port, both where the API listens (beyond loopback: kubelet and Prometheus reach the node address)', async () => {
        const config = await configOf(pod);
        const [host, port] = config.api.listen.split(/:(?=\d+$)/);
        expect(host).toBe('0.0.0.0');
        const metrics = c.ports.find((p: Obj) => p.name === 'metrics');
        expect(String(metrics.containerPort)).toBe(port);
        expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
        expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
        expect(pod.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': port, 'prometheus.io/path': '/metrics' });
        expect(c.ports.find((p: Obj) => p.name === 'bgp').containerPort).toBe(config.listen.port);
      });
    });

  it('the reflectors run only on route-reflector=true nodes, the node DaemonSet never there', () => {
    const node = daemonSets.find((d) => d.metadata.name === 'bgp-ts')!.spec.template.spec;
    const rr = daemonSets.find((d) => d.metadata.name === 'bgp-ts-reflector')!.spec.template.spec;
    expect(rr.nodeSelector).toMatchObject({ 'route-reflector': 'true' });
    const terms = node.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    for (const t of terms) expect(t.matchExpressions).toContainEqual({ key: 'route-reflector', operator: 'NotIn', values: ['true'] });
  });

  it('the ClusterRole: get/list/watch only, on exactly what the Kubernetes backend lists; no Secrets, no wildcard', () => {
    const [role, ...more] = ofKind('ClusterRole');
    expect(more).toEqual([]);
    const granted = new Set<string>();
    for (const rule of role!.rules) {
      expect([...rule.verbs].sort()).toEqual(['get', 'list', 'watch']);
      expect(rule.resourceNames).toBeUndefined();
      expect(rule.nonResourceURLs).toBeUndefined();
      for (const g of rule.apiGroups) for (const r of rule.resources) granted.add(`${g}/${r}`);
    }
    expect(JSON.stringify(role)).not.toContain('*');
    // KUBE_PATHS: /api/v1/nodes, /apis/<group>/v1/<plural>
    const read = Object.values(KUBE_PATHS).map((p) => {
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/([a-z]+)$/.exec(p)!;
      return `${m[1] ?? ''}/${m[2]}`;
    });
    expect([...granted].sort()).toEqual(read.sort());
  });

  it('the Role: list and watch on Secrets by name only (what the backend asks: fieldSelector metadata.name), in the namespace the configs read Secrets from', async () => {
    const roles = ofKind('Role');
    expect(roles).toHaveLength(1);
    const role = roles[0]!;
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: expect.any(Array), verbs: ['list', 'watch'] }]);
    expect(role.rules[0].resourceNames.length).toBeGreaterThan(0);
    expect(JSON.stringify(role)).not.toContain('*');
    for (const pod of podSpecs) expect((await configOf(pod)).datastore!.secretsNamespace ?? 'kube-system').toBe(role.metadata.namespace);
    const binding = ofKind('RoleBinding')[0]!;
    expect(binding.metadata.namespace).toBe(role.metadata.namespace);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(ofKind('ClusterRoleBinding')[0]!.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ofKind('ClusterRole')[0]!.metadata.name });
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const stages = [...text.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((m) => ({ from: m[1], name: m[2] }));

  it('a Debian 12 node 20 build stage that builds the native addon, and a runtime with production node_modules as a non-root user', () => {
    expect(stages[0]).toEqual({ from: 'node:20-bookworm-slim', name: 'build' });
    expect(text).toMatch(/npm ci/);
    expect(text).toMatch(/test -f build\/Release\/bgpts_native\.node/);
    expect(text).toMatch(/npm prune --omit=dev/);
    expect(text).toMatch(/^USER node$/m);
    expect(text).not.toMatch(/^USER root\s*\n(?![\s\S]*^USER node)/m);
  });

  it('the kubernetes target gives node exactly the two capabilities the DaemonSets add; the default (last) stage has none', () => {
    const caps = [...text.matchAll(/setcap (\S+)/g)].map((m) => m[1]);
    expect(caps).toEqual(['cap_net_admin,cap_net_bind_service+ep']);
    expect(stages.map((s) => s.name)).toContain('kubernetes');
    expect(stages[stages.length - 1]!.name).not.toBe('kubernetes');
    for (const d of daemonSets) expect(d.spec.template.spec.containers[0].image).toMatch(/:kubernetes$/);
    expect(text).toMatch(/chmod a-s/); // no setuid binaries to escalate through
  });
});
