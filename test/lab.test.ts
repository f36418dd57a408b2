// The docker-compose lab (docker-compose.yml, deploy/lab/, docs/lab.md) cannot
// run here (no Docker engine), so this checks what can be checked without one:
// the compose file's structure, that every file it mounts exists, that the
// bgp-ts configs it mounts load without errors or warnings (their token file
// read through the same mounts), that Prometheus scrapes every node's API
// port, that Grafana loads the shipped dashboard from the Prometheus it is
// given, and that both ends of every BGP session (RFC 4271 §4.2 "My Autonomous
// System" against the peer's configured remote AS) agree: bgp-ts node configs
// against the FRR ToR's `router bgp` / `neighbor X remote-as Y` lines.
// `docker-compose config -q` (Compose v1) or `docker compose config -q`
// validates the file against the Compose schema when either is installed.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatConfigErrors, loadConfigFile } from '../src/config/load.js';
import { parseListen } from '../src/config/checks.js';
import type { BgpConfig } from '../src/config/schema.js';
import { prefixLength, prefixParse, v4Contains } from '../src/lib/prefix.js';

const REPO = resolve(import.meta.dirname, '..');
const COMPOSE_FILE = join(REPO, 'docker-compose.yml');
const SUBNET = '172.30.0.0/24';

interface Service {
  readonly image?: string;
  readonly build?: unknown;
  readonly command?: string[] | string;
  readonly volumes?: string[];
  readonly ports?: string[];
  readonly cap_add?: string[];
  readonly networks?: Record<string, { ipv4_address?: string } | null>;
  readonly healthcheck?: { test?: string[] };
}
interface Compose {
  readonly services: Record<string, Service>;
  readonly networks: Record<string, { ipam?: { config?: Array<{ subnet?: string }> } }>;
}

/** `x-bgp-ts: &bgp-ts` plus `<<: *bgp-ts` needs YAML merge keys. */
const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as Compose;
const services = compose.services;

interface Mount {
  readonly host: string; // absolute
  readonly target: string;
}

/** Short-form bind mounts "./host:/container[:ro]". */
function mounts(svc: Service): Mount[] {
  return (svc.volumes ?? []).map((v) => {
    const [host, target] = v.split(':') as [string, string];
    return { host: resolve(REPO, host), target };
  });
}

/** The host path that a container path of `svc` comes from, via a file or directory mount. */
function hostPathOf(svc: Service, containerPath: string): string | undefined {
  for (const m of mounts(svc)) {
    if (containerPath === m.target) return m.host;
    if (containerPath.startsWith(m.target + '/')) return join(m.host, posix.relative(m.target, containerPath));
  }
  return undefined;
}

function addressOf(svc: Service): string | undefined {
  return svc.networks?.['lab']?.ipv4_address;
}

function serviceAt(address: string): string | undefined {
  return Object.entries(services).find(([, s]) => addressOf(s) === address)?.[0];
}

function commandOf(svc: Service): string[] {
  return typeof svc.command === 'string' ? svc.command.split(/\s+/) : (svc.command ?? []);
}

/** Services built from this repository's Dockerfile run bgp-ts. */
const nodeNames = Object.entries(services)
  .filter(([, s]) => s.build !== undefined && s.image?.startsWith('bgp-ts'))
  .map(([name]) => name);

/** The config file a node's `daemon --config FILE` names, on the host. */
function nodeConfigPath(name: string): string {
  const svc = services[name]!;
  const cmd = commandOf(svc);
  expect(cmd[0], `${name} runs the daemon`).toBe('daemon');
  const file = cmd[cmd.indexOf('--config') + 1];
  expect(file, `${name}: --config FILE`).toBeDefined();
  const host = hostPathOf(svc, file!);
  expect(host, `${name}: ${file} is mounted`).toBeDefined();
  return host!;
}

/** Loads a node's config the way the container would: its tokenFile is read through the mounts. */
async function loadNode(name: string): Promise<BgpConfig> {
  const svc = services[name]!;
  const result = await loadConfigFile(nodeConfigPath(name), {
    readSecret: (p) => {
      const host = hostPathOf(svc, p);
      if (!host) throw Object.assign(new Error(`${p} is not mounted into ${name}`), { code: 'ENOENT' });
      return readFileSync(host, 'utf8');
    },
  });
  if (!result.ok) throw new Error(`${name}: ${formatConfigErrors(result.errors).join('; ')}`);
  expect(formatConfigErrors(result.warnings), `${name}: config warnings`).toEqual([]);
  return result.config;
}

interface FrrBgp {
  readonly asn: number;
  readonly routerId?: string;
  /** neighbor address -> remote AS */
  readonly neighbors: Map<string, number>;
  readonly activated: Set<string>;
}

/** The `router bgp` block of an FRR config: its AS, router ID and `neighbor X remote-as Y` lines. */
function parseFrrBgp(text: string): FrrBgp {
  const lines = text.split('\n').map((l) => l.trim());
  const router = lines.map((l) => /^router bgp (\d+)$/.exec(l)).filter((m) => m !== null);
  if (router.length !== 1) throw new Error(`expected one "router bgp N" line, found ${router.length}`);
  const neighbors = new Map<string, number>();
  const activated = new Set<string>();
  let routerId: string | undefined;
  for (const l of lines) {
    const remote = /^neighbor (\S+) remote-as (\S+)$/.exec(l);
    if (remote) {
      const asn = Number(remote[2]);
      if (!Number.isInteger(asn)) throw new Error(`"${l}": only numeric remote-as is checked (not internal/external)`);
      neighbors.set(remote[1]!, asn);
    }
    const act = /^neighbor (\S+) activate$/.exec(l);
    if (act) activated.add(act[1]!);
    const id = /^bgp router-id (\S+)$/.exec(l);
    if (id) routerId = id[1];
  }
  return { asn: Number(router[0]![1]), neighbors, activated, ...(routerId ? { routerId } : {}) };
}

function frrConfigOf(name: string): FrrBgp {
  const host = hostPathOf(services[name]!, '/etc/frr/frr.conf');
  expect(host, `${name} mounts /etc/frr/frr.conf`).toBeDefined();
  return parseFrrBgp(readFileSync(host!, 'utf8'));
}

const inSubnet = (address: string) => v4Contains(prefixParse(SUBNET) as number, prefixParse(`${address}/32`) as number);

describe('docker-compose.yml structure', () => {
  it('has the ToR, the bgp-ts nodes, Prometheus and Grafana, each at its own address in the lab subnet', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['tor', 'node-a', 'node-b', 'prometheus', 'grafana']));
    expect(nodeNames).toEqual(expect.arrayContaining(['node-a', 'node-b']));
    expect(services['tor']!.image).toMatch(/frr/);
    expect(compose.networks['lab']?.ipam?.config?.[0]?.subnet).toBe(SUBNET);
    const addresses = Object.entries(services).map(([name, s]) => {
      const a = addressOf(s);
      expect(a, `${name} has a fixed address on the lab network`).toBeDefined();
      expect(inSubnet(a!), `${name} ${a} inside ${SUBNET}`).toBe(true);
      return a;
    });
    expect(new Set(addresses).size).toBe(addresses.length);
  });

  it('mounts only paths that exist in the repository, read-only', () => {
    let count = 0;
    for (const [name, svc] of Object.entries(services)) {
      for (const v of svc.volumes ?? []) {
        const [host, , mode] = v.split(':');
        expect(host!.startsWith('./'), `${name}: ${v} is a repo-relative bind mount`).toBe(true);
        const path = resolve(REPO, host!);
        expect(relative(REPO, path).startsWith('..') || isAbsolute(relative(REPO, path)), `${name}: ${v} stays in the repo`).toBe(false);
        expect(existsSync(path), `${name}: ${host} exists`).toBe(true);
        expect(mode, `${name}: ${v} read-only`).toBe('ro');
        count++;
      }
    }
    expect(count).toBeGreaterThanOrEqual(10);
  });

  it('builds the nodes from the repository Dockerfile whose entry point is dist/cli.js', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS build$/m);
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/COPY --from=build \/app\/build\/Release\/\*\.node build\/Release\//);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/cli\.js"\]$/m);
    for (const name of nodeNames) expect(services[name]!.build, name).toBe('.');
  });
});

describe('bgp-ts node configs mounted by the lab', () => {
  it('load without errors or warnings, token read through the mounted token file', async () => {
    for (const name of nodeNames) {
      const config = await loadNode(name);
      expect(config.api.token, `${name}: token from ${config.api.tokenFile}`).toMatch(/^\S{16,}$/);
    }
  });

  it('use the container address as router ID, listen beyond loopback, and disable the FIB without NET_ADMIN', async () => {
    for (const name of nodeNames) {
      const svc = services[name]!;
      const config = await loadNode(name);
      expect(config.routerId, name).toBe(addressOf(svc));
      const listen = parseListen(config.api.listen);
      expect(listen, `${name} api.listen`).toEqual({ host: '0.0.0.0', port: expect.any(Number) });
      if (!(svc.cap_add ?? []).includes('NET_ADMIN')) expect(!config.fib.enabled || config.fib.dryRun, `${name}: fib without NET_ADMIN must be off or a dry run`).toBe(true);
      // the published port and the health check reach the API port
      const port = (listen as { port: number }).port;
      expect(svc.ports?.some((p) => p.endsWith(`:${port}`)), `${name} publishes ${port}`).toBe(true);
      expect(svc.healthcheck?.test?.join(' '), `${name} health check`).toContain(`127.0.0.1:${port}/healthz`);
    }
  });

  it('originate one distinct pod block per node, inside the IP pool', async () => {
    const blocks = new Set<string>();
    for (const name of nodeNames) {
      const config = await loadNode(name);
      expect(config.originate.length, name).toBeGreaterThan(0);
      for (const o of config.originate) {
        const key = prefixParse(o.prefix) as number;
        expect(config.ipPools.some((p) => v4Contains(prefixParse(p.cidr) as number, key)), `${name} ${o.prefix} in a pool`).toBe(true);
        expect(prefixLength(key)).toBe(26);
        expect(blocks.has(o.prefix), `${o.prefix} originated twice`).toBe(false);
        blocks.add(o.prefix);
      }
    }
  });
});

describe('BGP sessions of the lab', () => {
  it('every node neighbor is another service, and both ends agree on the ASNs', async () => {
    const frr = frrConfigOf('tor');
    const torAddress = addressOf(services['tor']!)!;
    expect(frr.routerId).toBe(torAddress);
    let sessions = 0;
    for (const name of nodeNames) {
      const config = await loadNode(name);
      const self = addressOf(services[name]!)!;
      expect(config.neighbors.length, name).toBeGreaterThan(0);
      for (const n of config.neighbors) {
        const peer = serviceAt(n.address);
        expect(peer, `${name}: neighbor ${n.address} is a lab service`).toBeDefined();
        expect(peer).not.toBe(name);
        if (peer === 'tor') {
          expect(n.asn, `${name}: ToR AS`).toBe(frr.asn);
          expect(frr.neighbors.get(self), `tor: neighbor ${self} remote-as`).toBe(config.asn);
          expect(frr.activated.has(self), `tor: ${self} activated for IPv4`).toBe(true);
          expect(n.families).toEqual(['ipv4-unicast']);
          // same AS on every node: the ToR's copy of another node's block carries our AS (allowas-in)
          if (nodeNames.length > 1) expect(n.allowAsIn, `${name}: allowAsIn on the ToR session`).toBeGreaterThanOrEqual(1);
        } else {
          expect(nodeNames).toContain(peer);
          const other = await loadNode(peer!);
          expect(n.asn).toBe(other.asn);
          expect(other.neighbors.find((o) => o.address === self)?.asn, `${peer} peers back with ${name}`).toBe(config.asn);
        }
        sessions++;
      }
    }
    // and the ToR has no session nobody answers
    for (const [address, asn] of frr.neighbors) {
      const peer = serviceAt(address);
      expect(peer && nodeNames.includes(peer), `tor: neighbor ${address} is a bgp-ts node`).toBe(true);
      const config = await loadNode(peer!);
      expect(config.asn).toBe(asn);
      expect(config.neighbors.some((n) => n.address === torAddress)).toBe(true);
    }
    expect(sessions).toBeGreaterThanOrEqual(2);
  });

  it('reads remote-as lines and refuses symbolic ones', () => {
    const conf = 'router bgp 65000\n bgp router-id 192.0.2.1\n neighbor 192.0.2.2 remote-as 64512\n address-family ipv4 unicast\n  neighbor 192.0.2.2 activate\n';
    const parsed = parseFrrBgp(conf);
    expect(parsed.asn).toBe(65000);
    expect([...parsed.neighbors]).toEqual([['192.0.2.2', 64512]]);
    expect([...parsed.activated]).toEqual(['192.0.2.2']);
    expect(() => parseFrrBgp('router bgp 65000\n neighbor 192.0.2.2 remote-as external\n')).toThrow(/numeric/);
    expect(() => parseFrrBgp('neighbor 192.0.2.2 remote-as 1\n')).toThrow(/router bgp/);
  });
});

describe('monitoring', () => {
  it('Prometheus scrapes every node at its API port and loads the shipped alert rules', async () => {
    const prom = services['prometheus']!;
    const configFile = commandOf(prom).find((a) => a.startsWith('--config.file='))?.split('=')[1] ?? '/etc/prometheus/prometheus.yml';
    const host = hostPathOf(prom, configFile);
    expect(host).toBeDefined();
    const config = parse(readFileSync(host!, 'utf8')) as {
      scrape_configs: Array<{ metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
      rule_files?: string[];
    };
    const targets = config.scrape_configs.flatMap((j) => {
      expect(j.metrics_path ?? '/metrics').toBe('/metrics');
      return j.static_configs.flatMap((s) => s.targets);
    });
    const expected: string[] = [];
    for (const name of nodeNames) {
      const listen = parseListen((await loadNode(name)).api.listen) as { port: number };
      expected.push(`${name}:${listen.port}`);
    }
    expect(targets.sort()).toEqual(expected.sort());
    for (const rules of config.rule_files ?? []) {
      const rulesHost = hostPathOf(prom, rules);
      expect(rulesHost, `${rules} mounted`).toBe(join(REPO, 'deploy', 'bgp-ts.rules.yml'));
    }
    expect(config.rule_files?.length).toBe(1);
  });

  it('Grafana gets the Prometheus data source and the dashboard deploy/grafana/bgp-ts.json', () => {
    const grafana = services['grafana']!;
    const dsDir = hostPathOf(grafana, '/etc/grafana/provisioning/datasources');
    const dashDir = hostPathOf(grafana, '/etc/grafana/provisioning/dashboards');
    expect(dsDir && statSync(dsDir).isDirectory()).toBe(true);
    expect(dashDir && statSync(dashDir).isDirectory()).toBe(true);

    const ds = parse(readFileSync(join(dsDir!, 'prometheus.yml'), 'utf8')) as { datasources: Array<{ type: string; url: string; isDefault?: boolean }> };
    expect(ds.datasources).toHaveLength(1);
    const url = new URL(ds.datasources[0]!.url);
    expect(ds.datasources[0]!.type).toBe('prometheus');
    expect(url.hostname).toBe('prometheus');
    expect(services[url.hostname]).toBeDefined();
    expect(services['prometheus']!.ports?.some((p) => p.endsWith(`:${url.port}`))).toBe(true);

    const providers = parse(readFileSync(join(dashDir!, 'bgp-ts.yml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
    expect(providers.providers).toHaveLength(1);
    const dir = providers.providers[0]!.options.path;
    const dashboards = (grafana.volumes ?? []).map((v) => v.split(':')).filter(([, target]) => target!.startsWith(dir + '/'));
    expect(dashboards.map(([host]) => resolve(REPO, host!))).toEqual([join(REPO, 'deploy', 'grafana', 'bgp-ts.json')]);
    const dashboard = JSON.parse(readFileSync(join(REPO, 'deploy', 'grafana', 'bgp-ts.json'), 'utf8')) as {
      uid: string;
      templating: { list: Array<{ type: string; query: unknown }> };
    };
    expect(dashboard.uid).toBe('bgp-ts');
    // the dashboard's data source variable selects data sources of the type provisioned
    expect(dashboard.templating.list.find((v) => v.type === 'datasource')?.query).toBe(ds.datasources[0]!.type);
  });
});

/** Compose v1 (`docker-compose`) or the v2 plugin (`docker compose`), whichever answers. */
function composeTool(): string[] | undefined {
  for (const cmd of [['docker-compose'], ['docker', 'compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { stdio: 'ignore' });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

describe('compose validation', () => {
  it('`docker-compose config -q` accepts the lab and rejects a broken copy', (ctx) => {
    const tool = composeTool();
    if (!tool) {
      const reason = 'neither docker-compose (Debian package docker-compose) nor the docker compose plugin is installed';
      if (process.env['CI'] === 'true') throw new Error(`under CI: ${reason}`);
      ctx.skip(reason);
    }
    const [cmd, ...pre] = tool!;
    execFileSync(cmd!, [...pre, '-f', COMPOSE_FILE, 'config', '-q'], { cwd: REPO, stdio: 'pipe' });
    // the validator really validates: an unknown service key is refused
    const dir = mkdtempSync(join(tmpdir(), 'bgpts-lab-'));
    try {
      const broken = join(dir, 'docker-compose.yml');
      writeFileSync(broken, readFileSync(COMPOSE_FILE, 'utf8').replace('  tor:\n', '  tor:\n    networkz: 1\n'));
      const r = spawnSync(cmd!, [...pre, '-f', broken, '--project-directory', REPO, 'config', '-q'], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/networkz/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
