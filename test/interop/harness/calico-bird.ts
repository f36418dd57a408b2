// BIRD 2 configured the way Calico's confd templates configure it (our own
// config text, modelled on bird.cfg / bird_ipam.cfg): one iBGP protocol per
// mesh peer named Mesh_<ip>, `add paths on`, `graceful restart on`, connect
// delay 2, connect retry 5, error wait 5,30, `direct` with `gateway
// recursive` through `protocol direct`, `import all`, a kernel protocol
// exporting BGP routes, and an export filter that lets only the IP pool out
// (the node's own block, held by a static blackhole route). Toward a peer
// whose IP compares greater as a string the node is passive (`passive on`,
// exactly where Calico's template writes it): the smaller string waits, the
// greater one dials ("10.0.0.5" > "10.0.0.10", so 10.0.0.10 waits for .5).
// The harness BirdPeer writes its own, plainer config; this one is for the
// Calico-parity and graceful-restart tests.

import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pollUntil, run } from './exec.js';
import { spawnIn, type ManagedProcess } from './processes.js';

export interface CalicoBirdOptions {
  /** This node's address: router ID and source address. */
  readonly routerId: string;
  readonly asn: number;
  /** The IP pool the export filter lets out. */
  readonly pool: string;
  /** This node's IPAM block, held by a blackhole route and announced. */
  readonly block: string;
  /** Mesh peers (one Mesh_<ip> protocol each). */
  readonly peers: readonly string[];
  readonly restartTime: number;
  /** `graceful restart on` in the kernel protocol too (kernel routes kept across a BIRD restart). */
  readonly kernelGracefulRestart?: boolean;
}

/** A route as `birdc show route all` prints it. */
export interface BirdRoute {
  readonly prefix: string;
  readonly protocol: string;
  readonly best: boolean;
  nextHop: string;
}

/** Calico's string rule (its template: `if gt $onode_ip $node_ip` -> `passive on`): passive toward a peer greater as a string. */
export const passiveToward = (self: string, peer: string): boolean => peer > self;

/** The BIRD protocol name Calico gives a mesh peer. */
export const meshName = (peer: string): string => `Mesh_${peer.replace(/\./g, '_')}`;

export class CalicoBird {
  private proc: ManagedProcess | undefined;
  constructor(
    private readonly ns: string,
    private readonly dir: string,
    private readonly opts: CalicoBirdOptions,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private get sock(): string {
    return join(this.dir, 'bird.ctl');
  }

  config(): string {
    const { routerId: self, asn, pool, block, restartTime } = this.opts;
    const mesh = this.opts.peers.map((ip) =>
      [
        `protocol bgp ${meshName(ip)} from bgp_template {`,
        `  neighbor ${ip} as ${asn};`,
        `  source address ${self};`,
        passiveToward(self, ip) ? `  passive on; # ${ip} > ${self} as strings: the peer connects` : `  # ${ip} < ${self} as strings: we connect`,
        `}`,
      ].join('\n'),
    );
    const kernelGr = this.opts.kernelGracefulRestart ? ' graceful restart on;' : '';
    return [
      `router id ${self};`,
      `log stderr all;`,
      `protocol device { scan time 2; }`,
      // next hops resolve recursively through the connected LAN
      `protocol direct { ipv4; interface -"cali*", "*"; }`,
      // routes learned by BGP go to the kernel, like Calico's kernel protocol
      `protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; merge paths on;${kernelGr} }`,
      // the node's own IPAM block: a blackhole route, announced
      `protocol static { ipv4; route ${block} blackhole; }`,
      // only prefixes inside an enabled IP pool leave the node
      `filter calico_export_to_bgp_peers {`,
      `  if ( net ~ ${pool} ) then accept;`,
      `  reject;`,
      `}`,
      `template bgp bgp_template {`,
      `  local as ${asn};`,
      `  direct;`,
      `  ipv4 { gateway recursive; import all; export filter calico_export_to_bgp_peers; add paths on; };`,
      `  graceful restart on;`,
      `  graceful restart time ${restartTime};`,
      `  connect delay time 2;`,
      `  connect retry time 5;`,
      `  error wait time 5,30;`,
      `}`,
      ...mesh,
      '',
    ].join('\n');
  }

  /** Starts BIRD; `recovery` is `bird -R` (graceful restart recovery, as Calico starts it). */
  async start(recovery = false): Promise<void> {
    const conf = join(this.dir, 'bird.conf');
    await writeFile(conf, this.config());
    const args = ['-f', '-c', conf, '-s', this.sock, '-P', join(this.dir, 'bird.pid'), ...(recovery ? ['-R'] : [])];
    this.proc = spawnIn(this.ns, 'calico-bird', 'bird', args);
    await pollUntil(async () => (await this.birdc('show', 'status')).includes('Daemon is up'), { timeoutMs: 10_000, what: 'BIRD up' });
  }

  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  async stop(): Promise<void> {
    await this.proc?.stop(5_000);
  }

  async birdc(...args: string[]): Promise<string> {
    const { stdout } = await run('birdc', ['-s', this.sock, ...args], { allowFailure: true });
    return stdout;
  }

  protocol(peer: string): Promise<string> {
    return this.birdc('show', 'protocols', 'all', meshName(peer));
  }

  async state(peer: string): Promise<string> {
    return /BGP state:\s+(\w+)/.exec(await this.protocol(peer))?.[1] ?? 'Unknown';
  }

  /** `show route all for PREFIX` as printed, when it holds `prefix` learned from `peer`'s mesh protocol. */
  async routeText(prefix: string, peer: string): Promise<string | undefined> {
    const out = await this.birdc('show', 'route', 'all', 'table', 'master4', 'for', prefix);
    if (!out.includes(prefix) || !out.includes(`[${meshName(peer)}`)) return undefined;
    return out;
  }

  /** The routes for exactly `prefix`, parsed. */
  async routes(prefix: string): Promise<BirdRoute[]> {
    const out = await this.birdc('show', 'route', 'all', 'table', 'master4', 'for', prefix);
    const routes: BirdRoute[] = [];
    let current = '';
    for (const line of out.split('\n')) {
      const head = /^(\S+)?\s+(?:unicast|blackhole|unreachable)\s+\[(\w+)\s[^\]]*\]\s*(\*)?/.exec(line);
      if (head) {
        if (head[1]?.includes('/')) current = head[1];
        routes.push({ prefix: current, protocol: head[2]!, best: head[3] === '*', nextHop: '' });
        continue;
      }
      const nh = /^\s+BGP\.next_hop:\s*(\S+)/.exec(line);
      if (nh && routes.length > 0) routes[routes.length - 1]!.nextHop = nh[1]!;
    }
    return routes.filter((r) => r.prefix === prefix);
  }

  tail(): string {
    return this.proc?.tail(30) ?? '';
  }
}
