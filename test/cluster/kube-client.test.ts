// Where the Kubernetes datastore's connection comes from (kube-client.ts): a
// kubeconfig's current context (token, tokenFile, client certificate and key,
// CA as data or files relative to the kubeconfig, insecure-skip-tls-verify)
// or the in-cluster service account; every bad kubeconfig an Error naming
// datastore.kubeconfig, the file and the field. Then the connection used for
// real: TLS to an https server with a CA made here (openssl), the client
// certificate checked by the server, the token file re-read per request.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inClusterConnection, KubeApiError, KubeClient, kubeconfigConnection } from '../../src/cluster/kube-client.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
let dir: string;
const file = (name: string, text: string | Buffer) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const kubeconfig = (doc: Record<string, unknown>, name = 'kubeconfig') => file(name, JSON.stringify(doc)); // JSON is YAML
const base = (user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://10.0.0.1:6443' }) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'other', cluster: { server: 'https://192.0.2.9:6443' } },
    { name: 'prod', cluster },
  ],
  users: [
    { name: 'other', user: { token: 'not-this-one' } },
    { name: 'bgp-ts', user },
  ],
  contexts: [
    { name: 'first', context: { cluster: 'other', user: 'other' } },
    { name: 'bgp', context: { cluster: 'prod', user: 'bgp-ts' } },
  ],
  'current-context': 'bgp',
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bgp-ts-kubeconfig-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kubeconfigConnection', () => {
  it('takes the current context, not the first: its cluster server and its user token', () => {
    const c = kubeconfigConnection(kubeconfig(base({ token: 'abc.def' })));
    expect(c).toEqual({ server: 'https://10.0.0.1:6443', token: 'abc.def' });
  });

  it('a YAML kubeconfig as kubectl writes it, trailing slash dropped', () => {
    const p = file('yaml-kubeconfig', 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://k8s.example:443/\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t0k3n\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n');
    expect(kubeconfigConnection(p)).toEqual({ server: 'https://k8s.example:443', insecureSkipTlsVerify: true, token: 't0k3n' });
  });

  it('client certificate, key and CA as base64 data', () => {
    const c = kubeconfigConnection(kubeconfig(base({ 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') }, { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64('CA') })));
    expect(c.cert?.toString()).toBe('CERT');
    expect(c.key?.toString()).toBe('KEY');
    expect(c.ca?.toString()).toBe('CA');
    expect(c.token).toBeUndefined();
    expect(c.insecureSkipTlsVerify).toBeUndefined();
  });

  it('certificate, key, CA and token files, relative ones against the kubeconfig directory', () => {
    file('ca.pem', 'CA-FILE');
    file('cert.pem', 'CERT-FILE');
    const key = file('key.pem', 'KEY-FILE');
    const c = kubeconfigConnection(kubeconfig(base({ 'client-certificate': 'cert.pem', 'client-key': key, tokenFile: 'token' }, { server: 'https://10.0.0.1:6443', 'certificate-authority': 'ca.pem' })));
    expect(c.ca?.toString()).toBe('CA-FILE');
    expect(c.cert?.toString()).toBe('CERT-FILE');
    expect(c.key?.toString()).toBe('KEY-FILE');
    expect(c.tokenFile).toBe(join(dir, 'token'));
  });

  it('data wins over a file of the same thing (kubectl does the same)', () => {
    const c = kubeconfigConnection(kubeconfig(base({}, { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64('DATA'), 'certificate-authority': 'missing.pem' })));
    expect(c.ca?.toString()).toBe('DATA');
  });

  const bad: [string, () => string, RegExp][] = [
    ['a file that is not there', () => join(dir, 'absent'), /ENOENT/],
    ['YAML that does not parse', () => file('broken', 'clusters: [\n'), /datastore\.kubeconfig: .*broken: /],
    ['a list, not a mapping', () => file('list', '- a\n- b\n'), /not a kubeconfig/],
    ['a current-context no context has', () => kubeconfig({ ...base({}), 'current-context': 'gone' }), /contexts: no entry named "gone"/],
    ['no current-context', () => kubeconfig({ ...base({}), 'current-context': undefined }), /current-context: not set/],
    ['a context naming a missing cluster', () => kubeconfig({ ...base({}), contexts: [{ name: 'bgp', context: { cluster: 'nope', user: 'bgp-ts' } }] }), /clusters: no entry named "nope"/],
    ['a context naming a missing user', () => kubeconfig({ ...base({}), contexts: [{ name: 'bgp', context: { cluster: 'prod', user: 'nobody' } }] }), /users: no entry named "nobody"/],
    ['a server that is not a URL', () => kubeconfig(base({}, { server: '10.0.0.1:6443' })), /server must be an http\(s\) URL, got "10\.0\.0\.1:6443"/],
    ['no server', () => kubeconfig(base({}, {})), /server must be an http\(s\) URL, got undefined/],
    ['an exec credential plugin', () => kubeconfig(base({ exec: { command: 'aws' } })), /exec and auth-provider credentials are not supported/],
    ['an auth-provider', () => kubeconfig(base({ 'auth-provider': { name: 'oidc' } })), /not supported/],
    ['an unreadable CA file', () => kubeconfig(base({}, { server: 'https://10.0.0.1:6443', 'certificate-authority': 'no-such-ca.pem' })), /cannot read .*no-such-ca\.pem: ENOENT/],
    ['an unreadable client key', () => kubeconfig(base({ 'client-key': '/nonexistent/key.pem' })), /cannot read \/nonexistent\/key\.pem: ENOENT/],
  ];
  for (const [what, path, message] of bad)
    it(`rejects ${what} with an error naming datastore.kubeconfig`, () => {
      const p = path();
      expect(() => kubeconfigConnection(p)).toThrow(/^datastore\.kubeconfig: /);
      expect(() => kubeconfigConnection(p)).toThrow(message);
    });
});

describe('inClusterConnection', () => {
  it('KUBERNETES_SERVICE_HOST/PORT, the service account CA and its token file (re-read per request)', () => {
    const sa = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(join(sa, 'ca.crt'), 'SA-CA');
    expect(inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, sa)).toEqual({ server: 'https://10.96.0.1:443', ca: Buffer.from('SA-CA'), tokenFile: join(sa, 'token') });
    expect(inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1' }, sa).server).toBe('https://[fd00::1]:443');
  });

  it('outside a pod, or without the service account, says to set datastore.kubeconfig', () => {
    expect(() => inClusterConnection({}, dir)).toThrow(/KUBERNETES_SERVICE_HOST is not in the environment .*set datastore\.kubeconfig/);
    expect(() => inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, join(dir, 'no-sa'))).toThrow(/ca\.crt is unreadable: ENOENT/);
  });
});

describe('KubeClient over TLS with a kubeconfig', () => {
  let server: Server;
  let port: number;
  const seen: { auth?: string; cn?: string }[] = [];
  let pki: string;

  beforeAll(async () => {
    pki = mkdtempSync(join(dir, 'pki-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
    writeFileSync(join(pki, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=system:node:node-a');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1');
    const r = (n: string) => readFileSync(join(pki, n));
    server = createServer({ key: r('server.key'), cert: r('server.crt'), ca: r('ca.crt'), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      seen.push({ ...(req.headers.authorization && { auth: req.headers.authorization }), ...(peer?.subject?.CN && { cn: String(peer.subject.CN) }) });
      res.writeHead(req.url?.startsWith('/api/v1/nodes/') ? 404 : 200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(req.url?.startsWith('/api/v1/nodes/') ? { kind: 'Status', status: 'Failure', code: 404, reason: 'NotFound', message: 'nodes "x" not found' } : { kind: 'NodeList', metadata: { resourceVersion: '7' }, items: [] }));
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it('verifies the server against the kubeconfig CA, presents the client certificate, sends the token file (re-read each time)', async () => {
    const tokenFile = join(pki, 'token');
    writeFileSync(tokenFile, 'first\n');
    const p = kubeconfig(base({ 'client-certificate': join(pki, 'client.crt'), 'client-key': join(pki, 'client.key'), tokenFile }, { server: `https://127.0.0.1:${port}`, 'certificate-authority': join(pki, 'ca.crt') }), 'tls-kubeconfig');
    const client = new KubeClient(kubeconfigConnection(p));
    expect(await client.get('/api/v1/nodes')).toMatchObject({ kind: 'NodeList' });
    writeFileSync(tokenFile, 'rotated\n');
    await expect(client.get('/api/v1/nodes/x')).rejects.toMatchObject({ code: 404, reason: 'NotFound' });
    await expect(client.get('/api/v1/nodes/x')).rejects.toBeInstanceOf(KubeApiError);
    expect(seen.slice(0, 2)).toEqual([
      { auth: 'Bearer first', cn: 'system:node:node-a' },
      { auth: 'Bearer rotated', cn: 'system:node:node-a' },
    ]);
  });

  it('refuses a server its CA did not sign, unless insecure-skip-tls-verify', async () => {
    const other = kubeconfig(base({ token: 't' }, { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': b64(readFileSync(join(pki, 'client.crt'))) }), 'wrong-ca');
    await expect(new KubeClient(kubeconfigConnection(other)).get('/api/v1/nodes')).rejects.toThrow(/certificate|self[- ]signed|verify/i);
    const skip = kubeconfig(base({ token: 't' }, { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true }), 'skip-verify');
    expect(await new KubeClient(kubeconfigConnection(skip)).get('/api/v1/nodes')).toMatchObject({ kind: 'NodeList' });
  });

  it('a token file that cannot be read fails the request with its path', async () => {
    const p = kubeconfig(base({ tokenFile: join(pki, 'gone') }, { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true }), 'gone-token');
    await expect(new KubeClient(kubeconfigConnection(p)).get('/api/v1/nodes')).rejects.toThrow(/cannot read the token file .*gone: ENOENT/);
  });
});
