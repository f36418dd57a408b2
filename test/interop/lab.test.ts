// The docker-compose lab (docker-compose.yml, docs/lab.md) proven in network
// namespaces, since Docker cannot run here: one namespace per compose service
// that speaks BGP (tor, node-a, node-b), joined by the harness's bridge, each
// given its compose address (172.30.0.x: private to these namespaces). The
// ToR runs FRR bgpd on the lab's own deploy/lab/frr.conf, unchanged (bgpd -Z,
// no zebra); each node runs bgp-ts on its mounted deploy/lab/node-*.yaml with
// two adaptations: the token file path (the container path mapped to the repo
// file the compose file mounts there) and debug logging (update-received lines).
// Proved: every eBGP session (RFC 4271) Established on both ends, the docs'
// commands (`bgp-ts peers`, GET /metrics without a token, a write refused
// without one), the ToR learning each node's pod block and each node learning
// the other's via the ToR, with its own AS once in the path (allowAsIn: 1).

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BgpTsDaemon, CLI_PATH, REPO_ROOT, eventIs, type DaemonConfig, type LogEvent } from './harness/bgp-ts.js';
import { pollUntil, run, runIn } from './harness/exec.js';
import { FRR_BGPD } from './harness/frr.js';
import { Topology } from './harness/netns.js';
import { interopGate } from './harness/prerequisites.js';
import { registerCleanup, spawnIn, type ManagedProcess } from './harness/processes.js';

interface Service {
  readonly command?: string[];
  readonly volumes?: string[];
  readonly networks?: Record<string, { ipv4_address?: string }>;
}
const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

/** The repo file a compose service mounts at `containerPath`. */
function hostPathOf(service: string, containerPath: string): string {
  for (const v of compose.services[service]?.volumes ?? []) {
    const [host, target] = v.split(':') as [string, string];
    if (containerPath === target) return resolve(REPO_ROOT, host);
    if (containerPath.startsWith(target + '/')) return join(resolve(REPO_ROOT, host), posix.relative(target, containerPath));
  }
  throw new Error(`${service} does not mount ${containerPath}`);
}

const addressOf = (service: string): string => {
  const a = compose.services[service]?.networks?.['lab']?.ipv4_address;
  if (!a) throw new Error(`${service} has no lab address`);
  return a;
};

const NODES = ['node-a', 'node-b'] as const;
type Node = (typeof NODES)[number];
const TOR = addressOf('tor');

/** A node's lab config as the container sees it, adapted to run on this host. */
function nodeConfig(node: Node): DaemonConfig & { originate: Array<{ prefix: string }>; asn: number } {
  const cmd = compose.services[node]!.command!;
  const file = hostPathOf(node, cmd[cmd.indexOf('--config') + 1]!);
  const lab = parse(readFileSync(file, 'utf8')) as DaemonConfig & { api: { tokenFile: string }; originate: Array<{ prefix: string }> };
  return { ...lab, api: { ...lab.api, tokenFile: hostPathOf(node, lab.api.tokenFile) }, log: { level: 'debug' } };
}

const announced = (e: LogEvent): string[] => (Array.isArray(e['announced']) ? (e['announced'] as string[]) : []);

const skip = interopGate(['frr']);

describe.skipIf(skip !== undefined)('the docker-compose lab in network namespaces: FRR ToR and two bgp-ts nodes', () => {
  let topo: Topology;
  let tor: ManagedProcess | undefined;
  let torDir: string;
  let unregisterCrashDir: (() => void) | undefined;
  const daemons = new Map<Node, BgpTsDaemon>();
  const configs = new Map<Node, ReturnType<typeof nodeConfig>>();

  const vtysh = async (command: string): Promise<string> =>
    (await run('vtysh', ['--vty_socket', torDir, '-d', 'bgpd', '-c', command])).stdout;

  beforeAll(async () => {
    topo = await Topology.create(['tor', ...NODES]);
    // the compose addresses, on top of the harness's 10.0.0.x plan
    for (const name of ['tor', ...NODES]) await topo.addAddress(name, `${addressOf(name)}/24`);
    for (const node of NODES) await topo.waitReachable(node, TOR);

    // FRR on the lab's own frr.conf, verbatim
    torDir = join(topo.dir, 'tor');
    mkdirSync(torDir);
    const conf = join(torDir, 'frr.conf');
    await copyFile(hostPathOf('tor', '/etc/frr/frr.conf'), conf);
    const proc = spawnIn(topo.node('tor').ns, 'frr-tor', FRR_BGPD, [
      '-Z', '-S', '-f', conf, '--vty_socket', torDir, '-i', join(torDir, 'bgpd.pid'), '-P', '0', '-p', '179',
    ]);
    tor = proc;
    // a bgpd killed by the cleanup leaves its crash-log directory behind
    const crashDir = `/var/tmp/frr/bgpd.${proc.pid}`;
    unregisterCrashDir = registerCleanup(() => rmSync(crashDir, { recursive: true, force: true }));
    await pollUntil(
      async () => {
        if (!proc.running) throw new Error(`bgpd exited (code ${proc.exitCode}):\n${proc.tail()}`);
        return JSON.parse(await vtysh('show bgp summary json')) !== undefined;
      },
      { timeoutMs: 15_000, what: 'FRR bgpd vty' },
    );

    for (const node of NODES) {
      const config = nodeConfig(node);
      configs.set(node, config);
      const dir = join(topo.dir, node);
      mkdirSync(dir);
      const d = new BgpTsDaemon(topo.node(node).ns, dir, config);
      daemons.set(node, d);
      await d.start();
    }
  });

  afterAll(async () => {
    for (const d of daemons.values()) await d.stop();
    await tor?.stop();
    if (tor) rmSync(`/var/tmp/frr/bgpd.${tor.pid}`, { recursive: true, force: true });
    unregisterCrashDir?.();
    await topo?.destroy();
  });

  it('establishes every ToR session: bgp-ts logs session-established, FRR shows them Established', async () => {
    for (const node of NODES) {
      const e = await daemons.get(node)!.waitForEvent(eventIs('session-established', { peer: TOR, asn: 65000 }), 30_000);
      expect(e['families']).toEqual(['ipv4-unicast']);
      expect(e['remoteId']).toBe(TOR);
    }
    const peers = await pollUntil(
      async () => {
        const s = JSON.parse(await vtysh('show bgp summary json')) as {
          ipv4Unicast?: { as: number; peers: Record<string, { state: string; remoteAs: number }> };
        };
        const p = s.ipv4Unicast?.peers ?? {};
        return NODES.every((n) => p[addressOf(n)]?.state === 'Established') ? s.ipv4Unicast! : undefined;
      },
      { timeoutMs: 30_000, what: `FRR showing both nodes Established\n${tor?.tail(20)}` },
    );
    expect(peers.as).toBe(65000);
    for (const node of NODES) expect(peers.peers[addressOf(node)]!.remoteAs).toBe(configs.get(node)!.asn);
  });

  it('answers the commands docs/lab.md shows: `bgp-ts peers`, /metrics without a token, writes only with it', async () => {
    for (const node of NODES) {
      const ns = topo.node(node).ns;
      const { stdout } = await runIn(ns, process.execPath, [CLI_PATH, 'peers', '--json']);
      const { peers } = JSON.parse(stdout) as { peers: Array<{ address: string; asn: number; state: string }> };
      expect(peers.map((p) => [p.address, p.asn, p.state])).toEqual([[TOR, 65000, 'Established']]);
      // Prometheus scrapes <node>:9179/metrics with no token (deploy/lab/prometheus.yml)
      const fetchScript = (path: string, method: string) =>
        `fetch('http://${addressOf(node)}:9179${path}',{method:'${method}'}).then(async r=>console.log(r.status+'\\n'+await r.text()))`;
      const metrics = (await runIn(ns, process.execPath, ['-e', fetchScript('/metrics', 'GET')])).stdout;
      expect(metrics.split('\n')[0]).toBe('200');
      expect(metrics).toMatch(new RegExp(`^bgp_peer_state\\{[^}]*peer="${TOR.replace(/\./g, '\\.')}"[^}]*\\} 6$`, 'm'));
      const reset = (await runIn(ns, process.execPath, ['-e', fetchScript(`/api/v1/peers/${TOR}/reset`, 'POST')])).stdout;
      expect(reset.split('\n')[0]).toBe('401');
    }
  });

  it("gives the ToR each node's pod block and each node the other's, via the ToR", async () => {
    const blocks = new Map(NODES.map((n) => [n, configs.get(n)!.originate.map((o) => o.prefix)]));
    // the ToR's table: each block from its node, AS path 64512 (RFC 4271 §5.1.2)
    const table = await pollUntil(
      async () => {
        const t = JSON.parse(await vtysh('show bgp ipv4 unicast json')) as {
          routes: Record<string, Array<{ path: string; nexthops: Array<{ ip: string }> }>>;
        };
        return NODES.every((n) => blocks.get(n)!.every((p) => t.routes?.[p])) ? t.routes : undefined;
      },
      { timeoutMs: 30_000, what: `FRR learning ${[...blocks.values()].flat().join(', ')}\n${tor?.tail(20)}` },
    );
    for (const node of NODES) {
      for (const prefix of blocks.get(node)!) {
        expect(table[prefix]!.map((p) => [p.path, p.nexthops[0]?.ip])).toEqual([['64512', addressOf(node)]]);
      }
    }
    // each node hears the other's block from the ToR, next hop the ToR (eBGP), path 65000 64512
    for (const node of NODES) {
      for (const other of NODES.filter((n) => n !== node)) {
        for (const prefix of blocks.get(other)!) {
          const e = await daemons
            .get(node)!
            .waitForEvent((ev) => ev.event === 'update-received' && ev['peer'] === TOR && announced(ev).includes(prefix), 30_000);
          expect(e['asPath']).toEqual([65000, 64512]);
          expect(e['nextHop']).toBe(TOR);
        }
      }
    }
  });

  it('announces and withdraws an extra block with the token from the mounted file, as docs/lab.md shows', async () => {
    const ns = topo.node('node-a').ns;
    const extra = '10.244.1.64/26';
    const token = readFileSync(hostPathOf('node-a', '/etc/bgp-ts/token'), 'utf8').trim();
    const torHas = async (prefix: string): Promise<Array<{ path: string }> | undefined> =>
      (JSON.parse(await vtysh('show bgp ipv4 unicast json')) as { routes: Record<string, Array<{ path: string }>> }).routes?.[prefix];
    // without the token the write is refused and nothing reaches the ToR
    const refused = await runIn(ns, process.execPath, [CLI_PATH, 'announce', extra], { allowFailure: true });
    expect(refused.code).toBe(1);
    await runIn(ns, process.execPath, [CLI_PATH, 'announce', extra, '--token', token]);
    const paths = await pollUntil(() => torHas(extra), { timeoutMs: 15_000, what: `the ToR learning ${extra}` });
    expect(paths.map((p) => p.path)).toEqual(['64512']);
    await runIn(ns, process.execPath, [CLI_PATH, 'withdraw', extra, '--token', token]);
    await pollUntil(async () => (await torHas(extra)) === undefined, { timeoutMs: 15_000, what: `the ToR dropping ${extra}` });
  });

  it("accepts the other node's block despite its own AS in the path (allowAsIn: 1) and keeps its own block local", async () => {
    const routesOf = async (node: Node, prefix: string) => {
      const { stdout } = await runIn(topo.node(node).ns, process.execPath, [CLI_PATH, 'routes', prefix, '--json']);
      return (JSON.parse(stdout) as { routes: Array<{ peer: string; best: boolean; asPath: string; nextHop: string }> }).routes;
    };
    for (const node of NODES) {
      for (const other of NODES) {
        for (const { prefix } of configs.get(other)!.originate) {
          const routes = await pollUntil(async () => {
            const r = await routesOf(node, prefix);
            return r.some((x) => x.best) ? r : undefined;
          }, { timeoutMs: 15_000, what: `${node} holding a best path for ${prefix}` });
          const best = routes.find((r) => r.best)!;
          if (other === node) {
            expect(best.peer, `${node}: own block ${prefix}`).toBe('local');
          } else {
            expect([best.peer, best.asPath, best.nextHop], `${node}: ${prefix} from ${other}`).toEqual([TOR, '65000 64512', TOR]);
          }
        }
      }
    }
  });
});
