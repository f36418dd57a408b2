// GoBGP (3.x) as an interop peer: `gobgpd -f CONF.toml` inside a namespace
// with its gRPC API on 127.0.0.1:50051 of that namespace (namespaces isolate
// the port), driven with `gobgp` run in the same namespace. Originated
// prefixes go in with `gobgp global rib add`, re-added after a restart.
// GoBGP does not keep a received NOTIFICATION in its neighbor JSON; it logs
// it ("received notification" with Communicated-Reason, then "Peer Down"), so
// lastNotificationReceived() reads the daemon's plain-text log.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runIn } from './exec.js';
import { PeerProcess, familiesOf, isV6, type BgpState, type PeerNeighbor, type PeerRouter, type ReceivedNotification, type ReceivedRoute } from './peer.js';
import type { Family } from '../../../src/lib/prefix.js';

interface GobgpAttr {
  type: number;
  value?: unknown;
  nexthop?: string;
  as_paths?: { asns?: number[] }[];
}

interface GobgpPath {
  best?: boolean;
  'neighbor-ip'?: string;
  attrs?: GobgpAttr[];
}

const API = ['-u', '127.0.0.1', '-p', '50051'];

/** GoBGP's session_state enum (api.PeerState.SessionState). */
const GOBGP_STATES: Record<string, BgpState> = {
  '1': 'Idle',
  '2': 'Connect',
  '3': 'Active',
  '4': 'OpenSent',
  '5': 'OpenConfirm',
  '6': 'Established',
  IDLE: 'Idle',
  CONNECT: 'Connect',
  ACTIVE: 'Active',
  OPENSENT: 'OpenSent',
  OPENCONFIRM: 'OpenConfirm',
  ESTABLISHED: 'Established',
};

interface GobgpPeerJson {
  conf?: { neighbor_address?: string };
  state?: { neighbor_address?: string; session_state?: number | string };
}

export class GobgpPeer extends PeerProcess implements PeerRouter {
  readonly kind = 'gobgp' as const;

  protected command(): { cmd: string; args: string[] } {
    return {
      cmd: 'gobgpd',
      args: ['-f', join(this.dir, 'gobgpd.toml'), '-p', '-l', 'info', '--pprof-disable', '--api-hosts', '127.0.0.1:50051'],
    };
  }

  private neighbor(n: PeerNeighbor): string {
    const hold = n.holdTime ?? 9;
    const gr = n.gracefulRestart;
    const fams = familiesOf(n).map(
      (f) =>
        `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "${f}"` +
        (gr ? `\n    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true` : ''),
    );
    const extra = [
      // RFC 4456 §7
      ...(n.routeReflectorClient
        ? ['  [neighbors.route-reflector.config]', '    route-reflector-client = true', `    route-reflector-cluster-id = "${this.spec.clusterId ?? this.spec.routerId}"`]
        : []),
      // RFC 4724 §3
      ...(gr ? ['  [neighbors.graceful-restart.config]', '    enabled = true', `    restart-time = ${gr.restartTime}`] : []),
    ];
    return [
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.asn}`,
      '  [neighbors.timers.config]',
      '    connect-retry = 2',
      `    hold-time = ${hold}`,
      `    keepalive-interval = ${Math.max(1, Math.floor(hold / 3))}`,
      // default 30 s of Idle after every reset; tests want the session back at once
      '    idle-hold-time-after-reset = 1',
      '  [neighbors.transport.config]',
      `    local-address = "${n.localAddress}"`,
      ...extra,
      ...fams,
    ].join('\n');
  }

  protected async writeConfig(): Promise<void> {
    const conf = [
      '[global.config]',
      `  as = ${this.spec.asn}`,
      `  router-id = "${this.spec.routerId}"`,
      '  port = 179',
      ...this.spec.neighbors.map((n) => this.neighbor(n)),
      '',
    ].join('\n');
    await writeFile(join(this.dir, 'gobgpd.toml'), conf);
  }

  private async gobgp(...args: string[]): Promise<string> {
    const { stdout } = await runIn(this.ns, 'gobgp', [...API, ...args]);
    return stdout;
  }

  protected async probeReady(): Promise<boolean> {
    await this.gobgp('global');
    return true;
  }

  protected override async afterStart(): Promise<void> {
    for (const p of this.routes) await this.addRoute(p);
  }

  private addRoute(prefix: string): Promise<string> {
    const v6 = isV6(prefix);
    return this.gobgp('global', 'rib', 'add', '-a', v6 ? 'ipv6' : 'ipv4', prefix, 'nexthop', v6 ? this.spec.nextHop.ipv6 : this.spec.nextHop.ipv4);
  }

  async announce(prefix: string): Promise<void> {
    this.routes.add(prefix);
    await this.addRoute(prefix);
  }

  async withdraw(prefix: string): Promise<void> {
    this.routes.delete(prefix);
    await this.gobgp('global', 'rib', 'del', '-a', isV6(prefix) ? 'ipv6' : 'ipv4', prefix);
  }

  async neighborState(address: string): Promise<BgpState | 'Unknown'> {
    const peers = JSON.parse(await this.gobgp('neighbor', '-j')) as GobgpPeerJson[];
    const p = peers.find((x) => (x.conf?.neighbor_address ?? x.state?.neighbor_address) === address);
    return GOBGP_STATES[String(p?.state?.session_state)] ?? 'Unknown';
  }

  /**
   * `shutdown --reason` is what carries the RFC 8203 communication in GoBGP
   * 3.10 (`disable --reason` sends the Cease without it); `disable` then keeps
   * the neighbor administratively down.
   */
  async shutdownNeighbor(address: string, text: string): Promise<void> {
    await this.gobgp('neighbor', address, 'shutdown', '--reason', text);
    await this.gobgp('neighbor', address, 'disable');
  }

  async enableNeighbor(address: string): Promise<void> {
    await this.gobgp('neighbor', address, 'enable');
  }

  /** `gobgp global rib -a <afi> -j`: paths per prefix with typed attributes (9 ORIGINATOR_ID, 10 CLUSTER_LIST, 14 MP_REACH). */
  async receivedRoutes(family: Family): Promise<ReceivedRoute[]> {
    const table = JSON.parse(await this.gobgp('global', 'rib', '-a', family === 'ipv4-unicast' ? 'ipv4' : 'ipv6', '-j')) as Record<string, GobgpPath[]>;
    const neighbors = new Set(this.spec.neighbors.map((n) => n.address));
    const routes: ReceivedRoute[] = [];
    for (const [prefix, paths] of Object.entries(table)) {
      for (const p of paths) {
        const from = p['neighbor-ip'];
        if (from === undefined || !neighbors.has(from)) continue;
        const attr = (type: number): GobgpAttr | undefined => p.attrs?.find((a) => a.type === type);
        const originator = attr(9)?.value;
        const clusters = attr(10)?.value;
        routes.push({
          prefix,
          from,
          nextHop: String(attr(3)?.nexthop ?? attr(14)?.nexthop ?? ''),
          asPath: (attr(2)?.as_paths ?? []).flatMap((s) => s.asns ?? []),
          ...(typeof originator === 'string' ? { originatorId: originator } : {}),
          ...(Array.isArray(clusters) ? { clusterList: clusters.map(String) } : {}),
          best: p.best === true,
        });
      }
    }
    return routes;
  }

  async lastNotificationReceived(address: string): Promise<ReceivedNotification | undefined> {
    // logfmt quotes values with colons: Key=10.0.0.1 but Key="2001:db8::1"
    const key = new RegExp(`\\bKey="?${address.replace(/\./g, '\\.')}"?(\\s|$)`);
    const lines = (this.proc?.lines ?? []).map((l) => l.text).filter((t) => key.test(t));
    let at = lines.length - 1;
    while (at >= 0 && !lines[at]!.includes('msg="received notification"')) at--;
    if (at < 0) return undefined;
    const received = lines[at]!;
    const code = /\bCode=(\d+)/.exec(received)?.[1];
    const subcode = /\bSubcode=(\d+)/.exec(received)?.[1];
    const text = /Communicated-Reason="((?:[^"\\]|\\.)*)"/.exec(received)?.[1];
    // the "Peer Down" line that follows names it: "notification-received code 6(cease) subcode 2(administrative shutdown)"
    const down = lines.slice(at).find((t) => t.includes('msg="Peer Down"'));
    const reason = down ? /Reason="([^"]*)"/.exec(down)?.[1] : undefined;
    return { summary: reason ?? `code ${code} subcode ${subcode}`, ...(text ? { text } : {}) };
  }
}
