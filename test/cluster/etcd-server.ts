// A real etcd for the datastore tests: Debian's etcd-server on a loopback
// address (or inside a test's namespace), free ports, its own temp data dir,
// stopped by PID (the harness's ManagedProcess) and removed afterwards even
// when a test fails (the harness registry cleans up on exit too). Keys are
// written with etcdctl, as an operator or calicoctl would. `etcdGate` skips
// with the package to install outside CI and fails under CI=true.

import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pollUntil, run } from '../interop/harness/exec.js';
import { ManagedProcess, registerDirectory, spawnIn, unregisterDirectory } from '../interop/harness/processes.js';

const onPath = (name: string) =>
  [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/sbin'].some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** Skip reason, or undefined when etcd, etcdctl and openssl (the TLS cases' certificates) are installed; throws under CI=true. */
export function etcdGate(): string | undefined {
  const reason = !onPath('etcd')
    ? 'etcd not found (apt-get install etcd-server)'
    : !onPath('etcdctl')
      ? 'etcdctl not found (apt-get install etcd-client)'
      : !onPath('openssl')
        ? 'openssl not found (apt-get install openssl)'
        : undefined;
  if (reason === undefined) return undefined;
  if (process.env['CI'] === 'true') throw new Error(`etcd prerequisite missing under CI: ${reason}`);
  console.warn(`[etcd tests skipped] ${reason}`);
  return reason;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface EtcdOptions {
  /** Address to listen on: 127.0.0.1 by default. */
  readonly host?: string;
  /** Run inside this network namespace. */
  readonly ns?: string;
  /** Extra etcd flags (TLS). */
  readonly args?: readonly string[];
  /** Client URL scheme. */
  readonly scheme?: 'http' | 'https';
  /** etcdctl flags for every call (TLS files). */
  readonly ctlFlags?: readonly string[];
}

export class EtcdServer {
  private proc: ManagedProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly host: string,
    readonly clientPort: number,
    private readonly peerPort: number,
    private readonly opts: EtcdOptions,
  ) {}

  static async start(opts: EtcdOptions = {}): Promise<EtcdServer> {
    const host = opts.host ?? '127.0.0.1';
    const dir = mkdtempSync(join(tmpdir(), 'bgpts-etcd-'));
    registerDirectory(dir);
    const s = new EtcdServer(dir, host, opts.ns ? 2379 : await freePort(host), opts.ns ? 2380 : await freePort(host), opts);
    s.ctlFlags = opts.ctlFlags ?? [];
    await s.resume();
    return s;
  }

  get endpoint(): string {
    return `${this.opts.scheme ?? 'http'}://${this.host}:${this.clientPort}`;
  }

  /** (Re)starts etcd on the same data dir and ports. */
  async resume(): Promise<void> {
    const client = this.endpoint;
    const peer = `http://${this.host}:${this.peerPort}`;
    const args = [
      '--name', 'bgpts-test', '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `bgpts-test=${peer}`, '--log-level', 'warn', ...(this.opts.args ?? []),
    ];
    this.proc = this.opts.ns ? spawnIn(this.opts.ns, 'etcd', 'etcd', args) : new ManagedProcess('etcd', 'etcd', args);
    await pollUntil(async () => (await this.ctl(['endpoint', 'health'], true)).includes('is healthy'), { timeoutMs: 15_000, what: `etcd healthy\n${this.proc.tail()}` });
  }

  /** Stops etcd by its PID (the data dir stays for resume()). */
  async pause(): Promise<void> {
    await this.proc?.stop(5_000);
  }

  async destroy(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
    unregisterDirectory(this.dir);
  }

  /** etcdctl with our endpoint; `tolerant` returns failures as text. */
  async ctl(args: readonly string[], tolerant = false, extra: readonly string[] = this.ctlFlags): Promise<string> {
    const cmd = this.opts.ns ? 'ip' : 'etcdctl';
    const full = [...(this.opts.ns ? ['netns', 'exec', this.opts.ns, 'etcdctl'] : []), `--endpoints=${this.endpoint}`, ...extra, ...args];
    const r = await run(cmd, full, { allowFailure: true });
    if (!tolerant && r.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr || r.stdout}`);
    return r.stdout + r.stderr;
  }

  /** Flags every ctl() call adds (TLS, user). */
  ctlFlags: readonly string[] = [];

  put(key: string, value: string): Promise<string> {
    return this.ctl(['put', key, '--', value]);
  }

  del(key: string): Promise<string> {
    return this.ctl(['del', key]);
  }

  async revision(): Promise<number> {
    const out = await this.ctl(['get', '/', '-w', 'json']);
    return Number((JSON.parse(out) as { header: { revision: number } }).header.revision);
  }

  compact(revision: number): Promise<string> {
    return this.ctl(['compact', String(revision)]);
  }
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in `dir`. */
export function makeCertificates(dir: string): { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=bgpts-test-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=bgpts-${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    execFileSync('sh', ['-c', `printf '${ext}\\n' > ${f(`${name}.ext`)}`]);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  }
  return { ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}
