// BIRD 2 as an interop peer: `bird -f -c CONF -s SOCK -P PIDFILE` inside a
// namespace, one `protocol bgp` per neighbor, originated prefixes as static
// blackhole routes in an included file that `birdc configure` reloads.
// BIRD shows a received NOTIFICATION as "Last error: Received: ..." plus a
// "Message:" line carrying the RFC 8203 shutdown communication.

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

/** BIRD protocol names allow letters, digits and underscores. */
export const birdProtocolName = (address: string): string => `n_${address.replace(/[.:]/g, '_')}`;

export class BirdPeer extends PeerProcess implements PeerRouter {
  readonly kind = 'bird' as const;
  private get sock(): string {
    return join(this.dir, 'bird.ctl');
  }

  protected command(): { cmd: string; args: string[] } {
    return { cmd: 'bird', args: ['-f', '-c', join(this.dir, 'bird.conf'), '-s', this.sock, '-P', join(this.dir, 'bird.pid')] };
  }

  private staticConf(): string {
    const lines = (family: 'ipv4' | 'ipv6'): string =>
      [...this.routes]
        .filter((p) => isV6(p) === (family === 'ipv6'))
        .map((p) => `  route ${p} blackhole;`)
        .join('\n');
    return `protocol static sv4 {\n  ipv4;\n${lines('ipv4')}\n}\nprotocol static sv6 {\n  ipv6;\n${lines('ipv6')}\n}\n`;
  }

  private protocol(n: PeerNeighbor): string {
    const fams = familiesOf(n);
    const { nextHop } = this.spec;
    // next hop self + an explicit address per family: BIRD needs the address
    // when the channel's family differs from the session's (MP-BGP, RFC 4760).
    // iBGP sessions stay multihop (BIRD's default), not `direct`: a direct
    // session adds a link-local IPv6 next hop that FRR 8.4 rejects on an IPv4
    // session ("MP_REACH_NLRI, parse error"). Their next hops then resolve
    // recursively, with no IGP here, so BIRD shows such routes as unreachable
    // (still in the table, still best when alone).
    const addPaths = n.addPaths ? ` add paths ${n.addPaths};` : ''; // RFC 7911
    const channel = (fam: 'ipv4' | 'ipv6', nh: string): string =>
      `  ${fam} { import all; export all; next hop self; next hop address ${nh};${addPaths} };`;
    const gr = n.gracefulRestart;
    return [
      `protocol bgp ${birdProtocolName(n.address)} {`,
      `  local ${n.localAddress} as ${this.spec.asn};`,
      `  neighbor ${n.address} as ${n.asn};`,
      `  hold time ${n.holdTime ?? 9};`,
      `  connect delay time 1; connect retry time 2; error wait time 1, 3;`,
      // RFC 4456 §7 / RFC 4724 §3
      n.routeReflectorClient ? `  rr client;${this.spec.clusterId ? ` rr cluster id ${this.spec.clusterId};` : ''}` : '',
      gr ? `  graceful restart on; graceful restart time ${gr.restartTime};` : '',
      n.bfd ? '  bfd on;' : '', // RFC 5882: the session follows the BFD session to the neighbor
      fams.includes('ipv4-unicast') ? channel('ipv4', nextHop.ipv4) : '',
      fams.includes('ipv6-unicast') ? channel('ipv6', nextHop.ipv6) : '',
      `}`,
    ].join('\n');
  }

  /** BIRD's BFD protocol (RFC 5880/5881) with the first BFD neighbor's timers, when any neighbor asks for BFD. */
  private bfdProtocol(): string[] {
    const b = this.spec.neighbors.find((n) => n.bfd)?.bfd;
    if (!b) return [];
    return [`protocol bfd { interface "*" { min rx interval ${b.intervalMs} ms; min tx interval ${b.intervalMs} ms; multiplier ${b.multiplier}; }; }`];
  }

  /** `birdc show bfd sessions`: one row per session (IP address, interface, state, since, interval, timeout). */
  async bfdSessions(): Promise<{ address: string; state: string; intervalMs: number; timeoutMs: number }[]> {
    const out = await this.birdc('show', 'bfd', 'sessions');
    const rows: { address: string; state: string; intervalMs: number; timeoutMs: number }[] = [];
    for (const line of out.split('\n')) {
      const m = /^([0-9a-fA-F:.]+)\s+\S+\s+(\w+)\s+\S+(?:\s+\S+)?\s+([\d.]+)\s+([\d.]+)\s*$/.exec(line.trim());
      if (m) rows.push({ address: m[1]!, state: m[2]!, intervalMs: Math.round(Number(m[3]) * 1000), timeoutMs: Math.round(Number(m[4]) * 1000) });
    }
    return rows;
  }

  protected async writeConfig(): Promise<void> {
    const staticPath = join(this.dir, 'static.conf');
    await writeFile(staticPath, this.staticConf());
    const conf = [
      `router id ${this.spec.routerId};`,
      `log stderr all;`,
      `protocol device { scan time 1; }`,
      `include "${staticPath}";`,
      ...this.bfdProtocol(),
      ...this.spec.neighbors.map((n) => this.protocol(n)),
      '',
    ].join('\n');
    await writeFile(join(this.dir, 'bird.conf'), conf);
  }

  /** birdc talks over the unix socket, which works from outside the namespace. */
  private async birdc(...args: string[]): Promise<string> {
    const { stdout } = await run('birdc', ['-s', this.sock, ...args]);
    return stdout;
  }

  protected async probeReady(): Promise<boolean> {
    const out = await this.birdc('show', 'status');
    return out.includes('Daemon is up');
  }

  private async reconfigure(): Promise<void> {
    await this.writeConfig();
    const out = await this.birdc('configure');
    if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new Error(`birdc configure: ${out}`);
  }

  async announce(prefix: string): Promise<void> {
    this.routes.add(prefix);
    await this.reconfigure();
  }

  async withdraw(prefix: string): Promise<void> {
    this.routes.delete(prefix);
    await this.reconfigure();
  }

  /** `show protocols all <name>`: state, negotiated capabilities (ours and the neighbor's), last error. */
  async protocolInfo(address: string): Promise<string> {
    return this.birdc('show', 'protocols', 'all', birdProtocolName(address));
  }

  async neighborState(address: string): Promise<BgpState | 'Unknown'> {
    const m = /BGP state:\s+(\w+)/.exec(await this.protocolInfo(address));
    const s = m?.[1];
    return s === 'Idle' || s === 'Connect' || s === 'Active' || s === 'OpenSent' || s === 'OpenConfirm' || s === 'Established'
      ? s
      : 'Unknown';
  }

  async shutdownNeighbor(address: string, text: string): Promise<void> {
    // BIRD 2: `disable <name> "<message>"` sends Cease/Administrative Shutdown with it (RFC 8203).
    await this.birdc('disable', birdProtocolName(address), JSON.stringify(text));
  }

  async enableNeighbor(address: string): Promise<void> {
    await this.birdc('enable', birdProtocolName(address));
  }

  /**
   * `show route all table masterN`: a route line (prefix, or indented for a
   * further path of the same prefix) names its protocol in brackets, `*`
   * marks the best path; `BGP.*` lines follow with the attributes.
   */
  async receivedRoutes(family: Family): Promise<ReceivedRoute[]> {
    const out = await this.birdc('show', 'route', 'all', 'table', family === 'ipv4-unicast' ? 'master4' : 'master6');
    const byProtocol = new Map(this.spec.neighbors.map((n) => [birdProtocolName(n.address), n.address]));
    const routes: ReceivedRoute[] = [];
    let prefix = '';
    let cur: { -readonly [K in keyof ReceivedRoute]: ReceivedRoute[K] } | undefined;
    const flush = (): void => {
      if (cur && cur.from !== undefined) routes.push(cur);
      cur = undefined;
    };
    for (const line of out.split('\n')) {
      const head = /^(\S+)?\s+\w+\s+\[(\w+)\s[^\]]*\]\s*(\*)?/.exec(line);
      if (head && (head[1] === undefined || head[1].includes('/'))) {
        flush();
        if (head[1]) prefix = head[1];
        cur = { prefix, from: byProtocol.get(head[2]!), nextHop: '', asPath: [], best: head[3] === '*' };
        continue;
      }
      const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
      if (!attr || !cur) continue;
      const [, key, value] = attr as unknown as [string, string, string];
      const words = value.trim().split(/\s+/).filter(Boolean);
      if (key === 'next_hop') cur.nextHop = words[0] ?? '';
      else if (key === 'as_path') cur.asPath = words.filter((w) => /^\d+$/.test(w)).map(Number);
      else if (key === 'originator_id') cur.originatorId = words[0];
      else if (key === 'cluster_list') cur.clusterList = words;
    }
    flush();
    return routes;
  }

  async lastNotificationReceived(address: string): Promise<ReceivedNotification | undefined> {
    const info = await this.protocolInfo(address);
    const err = /Last error:\s+Received: (.+)/.exec(info);
    if (!err) return undefined;
    const msg = /^\s+Message:\s+(.*)$/m.exec(info);
    return { summary: err[1]!.trim(), ...(msg ? { text: msg[1]!.trim() } : {}) };
  }
}
