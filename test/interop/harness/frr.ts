// FRR bgpd (8.4) as an interop peer, by default run without zebra (`-Z`): one
// bgpd per namespace with its own config file (`-f`), vty socket directory and
// pid file, queried with `vtysh --vty_socket DIR -d bgpd`. With `{ zebra: true }`
// a zebra runs beside it in the same namespace (its own zserv socket, `-z`, in
// a directory of its own that the frr user may write: zebra drops root for it),
// so bgpd learns interfaces and tracks next hops (NHT) as a deployed FRR does,
// and installs what it selects in its namespace's kernel. Originated prefixes
// are `network` statements (with `no bgp network import-check`, since there
// is no zebra RIB to check against); outbound route-maps set the next hop per
// family because without zebra bgpd knows no interface addresses.
// FRR 8.4 needs `no bgp ebgp-requires-policy` (RFC 8212) for eBGP to pass routes.
// Without zebra (the default, which most tests rely on), bgpd takes every next hop as reachable: routes learned from
// bgp-ts (iBGP next hops of other nodes included) are valid and can be best,
// which the RIB interop tests assert. Route reflection (`route-reflector-client`,
// `bgp cluster-id`) and graceful restart (`neighbor X graceful-restart`) are
// per-neighbor options of the spec.

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil, run } from './exec.js';
import { registerDirectory, spawnIn, unregisterDirectory, type ManagedProcess } from './processes.js';
import {
  PeerProcess,
  familiesOf,
  isV6,
  type BgpState,
  type PeerNeighbor,
  type PeerSpec,
  type PeerRouter,
  type ReceivedNotification,
  type ReceivedRoute,
} from './peer.js';
import type { Family } from '../../../src/lib/prefix.js';

/** The parts of FRR's per-prefix path JSON the tests read. */
interface FrrPath {
  peer?: { peerId?: string };
  nexthops?: { ip?: string; scope?: string }[];
  aspath?: { string?: string };
  originatorId?: string;
  clusterList?: { list?: string[] };
  bestpath?: { overall?: boolean };
  stale?: boolean;
  addpathRxId?: number;
}

export const FRR_BGPD = '/usr/lib/frr/bgpd';
export const FRR_ZEBRA = '/usr/lib/frr/zebra';

export interface FrrOptions {
  /** Run zebra beside bgpd (next-hop tracking, interfaces, kernel routes) instead of `bgpd -Z`. */
  readonly zebra?: boolean;
}

/** uid and gid of the `frr` user zebra runs as (as root it wants the frrvty group, which root lacks). */
function frrUser(): { uid: number; gid: number } {
  const id = (flag: string): number => {
    try {
      return Number(execFileSync('id', [flag, 'frr'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch {
      throw new Error('FRR with zebra needs the frr user that the Debian package creates (apt-get install frr)');
    }
  };
  return { uid: id('-u'), gid: id('-g') };
}

const FRR_STATES: Record<string, BgpState> = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
};

export class FrrPeer extends PeerProcess implements PeerRouter {
  readonly kind = 'frr' as const;
  private lastPid: number | undefined;
  private zebraProc: ManagedProcess | undefined;
  private zebraDir: string | undefined;
  private lastZebraPid: number | undefined;

  constructor(spec: PeerSpec, ns: string, dir: string, private readonly frrOptions: FrrOptions = {}) {
    super(spec, ns, dir);
  }

  private get zserv(): string {
    return join(this.zebraDir!, 'zserv.api');
  }

  protected command(): { cmd: string; args: string[] } {
    const zebra = this.frrOptions.zebra ? ['-z', this.zserv] : ['-Z'];
    return {
      cmd: FRR_BGPD,
      args: [...zebra, '-S', '-f', join(this.dir, 'bgpd.conf'), '--vty_socket', this.dir, '-i', join(this.dir, 'bgpd.pid'), '-P', '0', '-p', '179'],
    };
  }

  /** zebra first (bgpd connects to its zserv socket), in a directory the frr user owns. */
  override async start(): Promise<void> {
    if (this.frrOptions.zebra) await this.startZebra();
    try {
      await super.start();
    } catch (e) {
      await this.stopZebra('kill');
      throw e;
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.stopZebra('stop');
  }

  override async kill(): Promise<void> {
    await super.kill();
    await this.stopZebra('kill');
  }

  private async startZebra(): Promise<void> {
    if (!existsSync(FRR_ZEBRA)) throw new Error(`${FRR_ZEBRA} not found (apt-get install frr)`);
    if (!this.zebraDir) {
      this.zebraDir = mkdtempSync(join(tmpdir(), 'bgpts-zebra-'));
      registerDirectory(this.zebraDir);
    }
    const { uid, gid } = frrUser();
    const dir = this.zebraDir;
    const conf = join(dir, 'zebra.conf');
    await writeFile(conf, 'hostname interop-zebra\nlog stdout informational\n');
    chownSync(dir, uid, gid);
    chownSync(conf, uid, gid);
    rmSync(this.zserv, { force: true });
    const proc = spawnIn(this.ns, 'zebra', FRR_ZEBRA, ['-u', 'frr', '-g', 'frr', '-f', conf, '--vty_socket', dir, '-i', join(dir, 'zebra.pid'), '-z', this.zserv, '-P', '0', '--log', 'stdout']);
    this.zebraProc = proc;
    this.lastZebraPid = proc.pid;
    await pollUntil(
      () => {
        if (!proc.running) throw new Error(`zebra exited early (code ${proc.exitCode}):\n${proc.tail()}`);
        return existsSync(this.zserv);
      },
      { timeoutMs: 15_000, what: 'zebra zserv socket' },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${proc.tail()}`);
    });
  }

  private async stopZebra(how: 'stop' | 'kill'): Promise<void> {
    const proc = this.zebraProc;
    this.zebraProc = undefined;
    if (proc) await (how === 'stop' ? proc.stop() : proc.kill());
    if (this.lastZebraPid !== undefined) rmSync(`/var/tmp/frr/zebra.${this.lastZebraPid}`, { recursive: true, force: true });
    if (this.zebraDir) {
      // The directory goes with the process (restart() makes a new one).
      rmSync(this.zebraDir, { recursive: true, force: true });
      unregisterDirectory(this.zebraDir);
      this.zebraDir = undefined;
    }
  }

  override tail(n = 40): string {
    const z = this.zebraProc?.tail(Math.ceil(n / 4));
    return z ? `${super.tail(n)}\n${z}` : super.tail(n);
  }

  /** zebra's view (`show ip route json` and the like), for tests that check what FRR resolved. */
  async zebraVtysh(...commands: string[]): Promise<string> {
    if (!this.zebraDir) throw new Error('this FRR runs without zebra');
    const { stdout } = await run('vtysh', ['--vty_socket', this.zebraDir, '-d', 'zebra', ...commands.flatMap((c) => ['-c', c])]);
    return stdout;
  }

  private neighborLines(n: PeerNeighbor): string[] {
    const hold = n.holdTime ?? 9;
    return [
      ` neighbor ${n.address} remote-as ${n.asn}`,
      ` neighbor ${n.address} update-source ${n.localAddress}`,
      ` neighbor ${n.address} timers ${Math.max(1, Math.floor(hold / 3))} ${hold}`,
      ` neighbor ${n.address} timers connect 2`,
      // RFC 4724: per-neighbor graceful restart (restart time is global in FRR, see writeConfig)
      ...(n.gracefulRestart ? [` neighbor ${n.address} graceful-restart`] : []),
    ];
  }

  private familyBlock(fam: 'ipv4' | 'ipv6'): string[] {
    const name = fam === 'ipv4' ? 'ipv4-unicast' : 'ipv6-unicast';
    const active = this.spec.neighbors.filter((n) => familiesOf(n).includes(name));
    const nets = [...this.routes].filter((p) => isV6(p) === (fam === 'ipv6'));
    return [
      ` address-family ${fam} unicast`,
      ...nets.map((p) => `  network ${p}`),
      ...active.flatMap((n) => [
        `  neighbor ${n.address} activate`,
        `  neighbor ${n.address} route-map NH-${fam} out`,
        ...(n.routeReflectorClient ? [`  neighbor ${n.address} route-reflector-client`] : []),
      ]),
      ` exit-address-family`,
    ];
  }

  protected async writeConfig(): Promise<void> {
    const { spec } = this;
    const conf = [
      'frr defaults traditional',
      'hostname interop-frr',
      'log stdout informational',
      '!',
      'route-map NH-ipv4 permit 10',
      ` set ip next-hop ${spec.nextHop.ipv4}`,
      'exit',
      'route-map NH-ipv6 permit 10',
      ` set ipv6 next-hop global ${spec.nextHop.ipv6}`,
      'exit',
      '!',
      `router bgp ${spec.asn}`,
      ` bgp router-id ${spec.routerId}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp network import-check',
      ' no bgp default ipv4-unicast',
      ...(spec.clusterId ? [` bgp cluster-id ${spec.clusterId}`] : []),
      ...spec.neighbors.filter((n) => n.gracefulRestart).slice(0, 1).flatMap((n) => [
        ` bgp graceful-restart restart-time ${n.gracefulRestart!.restartTime}`,
        // F bit: bgpd keeps no forwarding state without zebra, but tells the helper it did (RFC 4724 §3)
        ' bgp graceful-restart preserve-fw-state',
      ]),
      ...spec.neighbors.flatMap((n) => this.neighborLines(n)),
      ...this.familyBlock('ipv4'),
      ...this.familyBlock('ipv6'),
      'exit',
      '',
    ].join('\n');
    await writeFile(join(this.dir, 'bgpd.conf'), conf);
  }

  /** vtysh over the bgpd vty socket in our directory. */
  private async vtysh(...commands: string[]): Promise<string> {
    const args = ['--vty_socket', this.dir, '-d', 'bgpd', ...commands.flatMap((c) => ['-c', c])];
    const { stdout } = await run('vtysh', args);
    return stdout;
  }

  private configure(...lines: string[]): Promise<string> {
    return this.vtysh('configure terminal', `router bgp ${this.spec.asn}`, ...lines);
  }

  protected async probeReady(): Promise<boolean> {
    JSON.parse(await this.vtysh('show bgp summary json'));
    return true;
  }

  protected override async afterStart(): Promise<void> {
    this.lastPid = this.proc?.pid;
  }

  /** A killed bgpd leaves its crash-log directory behind. */
  protected override afterExit(): void {
    if (this.lastPid !== undefined) rmSync(`/var/tmp/frr/bgpd.${this.lastPid}`, { recursive: true, force: true });
  }

  async announce(prefix: string): Promise<void> {
    this.routes.add(prefix);
    await this.configure(`address-family ${isV6(prefix) ? 'ipv6' : 'ipv4'} unicast`, `network ${prefix}`);
  }

  async withdraw(prefix: string): Promise<void> {
    this.routes.delete(prefix);
    await this.configure(`address-family ${isV6(prefix) ? 'ipv6' : 'ipv4'} unicast`, `no network ${prefix}`);
  }

  /** `show bgp neighbors ADDRESS json`, the neighbor's object (state, negotiated capabilities, ...). */
  async neighborJson(address: string): Promise<Record<string, unknown> | undefined> {
    const all = JSON.parse(await this.vtysh(`show bgp neighbors ${address} json`)) as Record<string, Record<string, unknown>>;
    return all[address];
  }

  /** `clear bgp <afi> unicast ADDRESS soft in`: without soft-reconfiguration inbound FRR sends the neighbor a ROUTE-REFRESH (RFC 2918). */
  async softIn(address: string, family: Family = 'ipv4-unicast'): Promise<void> {
    await this.vtysh(`clear bgp ${family === 'ipv4-unicast' ? 'ipv4' : 'ipv6'} unicast ${address} soft in`);
  }

  async neighborState(address: string): Promise<BgpState | 'Unknown'> {
    const n = await this.neighborJson(address);
    return FRR_STATES[String(n?.['bgpState'])] ?? 'Unknown';
  }

  async shutdownNeighbor(address: string, text: string): Promise<void> {
    await this.configure(`neighbor ${address} shutdown message ${text}`);
  }

  async enableNeighbor(address: string): Promise<void> {
    await this.configure(`no neighbor ${address} shutdown`);
  }

  /**
   * `show bgp <afi> unicast json` lists the prefixes; ORIGINATOR_ID and
   * CLUSTER_LIST only appear in the per-prefix detail, read for each.
   */
  async receivedRoutes(family: Family): Promise<ReceivedRoute[]> {
    const afi = family === 'ipv4-unicast' ? 'ipv4' : 'ipv6';
    const table = JSON.parse(await this.vtysh(`show bgp ${afi} unicast json`)) as { routes?: Record<string, unknown> };
    const neighbors = new Set(this.spec.neighbors.map((n) => n.address));
    const routes: ReceivedRoute[] = [];
    for (const prefix of Object.keys(table.routes ?? {})) {
      const detail = JSON.parse(await this.vtysh(`show bgp ${afi} unicast ${prefix} json`)) as { paths?: FrrPath[] };
      for (const p of detail.paths ?? []) {
        const from = p.peer?.peerId;
        if (from === undefined || !neighbors.has(from)) continue;
        routes.push({
          prefix,
          from,
          nextHop: p.nexthops?.find((h) => h.scope !== 'link-local')?.ip ?? p.nexthops?.[0]?.ip ?? '',
          asPath: (p.aspath?.string ?? '').split(/\s+/).filter((w) => /^\d+$/.test(w)).map(Number),
          ...(p.originatorId ? { originatorId: p.originatorId } : {}),
          ...(p.clusterList?.list ? { clusterList: p.clusterList.list } : {}),
          best: p.bestpath?.overall === true,
          ...(p.stale ? { stale: true } : {}),
          ...(p.addpathRxId !== undefined ? { pathId: p.addpathRxId } : {}),
        });
      }
    }
    return routes;
  }

  /** FRR keeps lastNotificationReason and, for a shutdown communication, lastShutdownDescription. */
  async lastNotificationReceived(address: string): Promise<ReceivedNotification | undefined> {
    const n = await this.neighborJson(address);
    if (n?.['lastResetDueTo'] !== 'BGP Notification received') return undefined;
    const text = n['lastShutdownDescription'];
    return { summary: String(n['lastNotificationReason']), ...(typeof text === 'string' ? { text } : {}) };
  }
}
