// FRR bgpd (8.4) as an interop peer, run without zebra (`-Z`): one bgpd per
// namespace with its own config file (`-f`), vty socket directory and pid
// file, queried with `vtysh --vty_socket DIR -d bgpd`. Originated prefixes
// are `network` statements (with `no bgp network import-check`, since there
// is no zebra RIB to check against); outbound route-maps set the next hop per
// family because without zebra bgpd knows no interface addresses.
// FRR 8.4 needs `no bgp ebgp-requires-policy` (RFC 8212) for eBGP to pass routes.
// Without zebra, bgpd takes every next hop as reachable: routes learned from
// bgp-ts (iBGP next hops of other nodes included) are valid and can be best,
// which the RIB interop tests assert. Route reflection (`route-reflector-client`,
// `bgp cluster-id`) and graceful restart (`neighbor X graceful-restart`) are
// per-neighbor options of the spec.

import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';
import {
  PeerProcess,
  familiesOf,
  isV6,
  type BgpState,
  type PeerNeighbor,
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

  protected command(): { cmd: string; args: string[] } {
    return {
      cmd: FRR_BGPD,
      args: ['-Z', '-S', '-f', join(this.dir, 'bgpd.conf'), '--vty_socket', this.dir, '-i', join(this.dir, 'bgpd.pid'), '-P', '0', '-p', '179'],
    };
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
