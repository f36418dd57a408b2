// Network-namespace topologies for the interop tests. Each topology gets
// namespaces named `bgpts-<pid>-<rand>-<node>`, a temp directory, and one LAN:
// two nodes are joined by a veth pair, three or more by veths into a bridge
// that lives in its own namespace. Node i (1-based) owns 10.0.0.i/24 and
// 2001:db8::i/64 on `eth0` (IPv6 with `nodad`, DAD off, so the addresses work
// at once); `lo` is up everywhere. Namespaces isolate the addresses, so every
// topology can use the same plan. `destroy()` removes it all; the process
// registry does the same on exit or interrupt, and creating a topology sweeps
// namespaces left behind by dead test processes.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, runIn, pollUntil } from './exec.js';
import { registerDirectory, registerNamespace, unregisterDirectory, unregisterNamespace } from './processes.js';

export const IFNAME = 'eth0';

export interface NetNode {
  /** Logical name given by the test, e.g. "dut" or "peer". */
  readonly name: string;
  /** The namespace name. */
  readonly ns: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

const NS_PATTERN = /^bgpts-(\d+)-[0-9a-f]+-/;

/**
 * Deletes `bgpts-<pid>-*` namespaces (killing what still runs in them) and
 * temp directories whose creating process is gone.
 */
export async function sweepStaleNamespaces(): Promise<void> {
  const dead = (name: string): boolean => {
    const m = NS_PATTERN.exec(name);
    if (!m || Number(m[1]) === process.pid) return false;
    try {
      process.kill(Number(m[1]), 0);
      return false;
    } catch {
      return true;
    }
  };
  for (const entry of readdirSync(tmpdir())) if (dead(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  const { stdout } = await run('ip', ['netns', 'list'], { allowFailure: true });
  for (const line of stdout.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    if (!dead(ns)) continue;
    // a SIGKILLed test process could not run its cleanup: its daemons may still run there
    const pids = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
    for (const p of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone
      }
    }
    await run('ip', ['netns', 'del', ns], { allowFailure: true });
  }
}

export class Topology {
  private readonly byName = new Map<string, NetNode>();
  private readonly allNamespaces: string[] = [];
  private destroyed = false;

  private constructor(
    readonly id: string,
    /** Scratch directory for configs, sockets and pid files; removed by destroy(). */
    readonly dir: string,
  ) {}

  /** Builds the namespaces and the LAN and waits until every node reaches node 1 over IPv4 and IPv6. */
  static async create(nodeNames: readonly string[]): Promise<Topology> {
    if (nodeNames.length < 2) throw new Error('a topology needs at least two nodes');
    await sweepStaleNamespaces();
    const id = `bgpts-${process.pid}-${randomBytes(3).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), `${id}-`));
    registerDirectory(dir);
    const topo = new Topology(id, dir);
    try {
      await topo.build(nodeNames);
    } catch (e) {
      await topo.destroy();
      throw e;
    }
    return topo;
  }

  private async addNamespace(ns: string): Promise<void> {
    registerNamespace(ns);
    await run('ip', ['netns', 'add', ns]);
    this.allNamespaces.push(ns);
    // no DAD: addresses usable at once; keep IPv6 addresses across `link set down` (linkDown/linkUp)
    await runIn(ns, 'sysctl', [
      '-qw',
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.all.keep_addr_on_down=1',
      'net.ipv6.conf.default.keep_addr_on_down=1',
    ]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  private async build(nodeNames: readonly string[]): Promise<void> {
    const nodes = nodeNames.map((name, i) => ({ name, ns: `${this.id}-${name}`, ipv4: `10.0.0.${i + 1}`, ipv6: `2001:db8::${i + 1}` }));
    for (const n of nodes) {
      await this.addNamespace(n.ns);
      this.byName.set(n.name, n);
    }
    if (nodes.length === 2) {
      const [a, b] = nodes as [NetNode, NetNode];
      await run('ip', ['link', 'add', 'name', IFNAME, 'netns', a.ns, 'type', 'veth', 'peer', 'name', IFNAME, 'netns', b.ns]);
    } else {
      const br = `${this.id}-br`;
      await this.addNamespace(br);
      await run('ip', ['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
      await run('ip', ['-n', br, 'link', 'set', 'br0', 'up']);
      for (const [i, n] of nodes.entries()) {
        const port = `p${i + 1}`;
        await run('ip', ['link', 'add', 'name', IFNAME, 'netns', n.ns, 'type', 'veth', 'peer', 'name', port, 'netns', br]);
        await run('ip', ['-n', br, 'link', 'set', port, 'master', 'br0', 'up']);
      }
    }
    for (const n of nodes) {
      await run('ip', ['-n', n.ns, 'addr', 'add', `${n.ipv4}/24`, 'dev', IFNAME]);
      await run('ip', ['-n', n.ns, 'addr', 'add', `${n.ipv6}/64`, 'dev', IFNAME, 'nodad']);
      await run('ip', ['-n', n.ns, 'link', 'set', IFNAME, 'up']);
    }
    const first = nodes[0]!;
    for (const n of nodes.slice(1)) await this.waitReachable(n.name, first.ipv4, first.ipv6);
  }

  /** Waits until `from` can ping both addresses (neighbour discovery done, links up). */
  async waitReachable(from: string, ...addresses: string[]): Promise<void> {
    const ns = this.node(from).ns;
    for (const addr of addresses) {
      await pollUntil(async () => (await runIn(ns, 'ping', ['-c1', '-W1', addr], { allowFailure: true })).code === 0, {
        timeoutMs: 10_000,
        what: `${from} reaching ${addr}`,
      });
    }
  }

  node(name: string): NetNode {
    const n = this.byName.get(name);
    if (!n) throw new Error(`no node ${name} in topology ${this.id}`);
    return n;
  }

  get nodes(): readonly NetNode[] {
    return [...this.byName.values()];
  }

  /** Adds another address (CIDR notation) to a node's eth0. */
  async addAddress(node: string, cidr: string): Promise<void> {
    const extra = cidr.includes(':') ? ['nodad'] : [];
    await run('ip', ['-n', this.node(node).ns, 'addr', 'add', cidr, 'dev', IFNAME, ...extra]);
  }

  /** Cuts a node off the LAN: `ip link set eth0 down` inside its namespace. */
  async linkDown(node: string): Promise<void> {
    await run('ip', ['-n', this.node(node).ns, 'link', 'set', IFNAME, 'down']);
  }

  async linkUp(node: string): Promise<void> {
    await run('ip', ['-n', this.node(node).ns, 'link', 'set', IFNAME, 'up']);
  }

  /** Deletes the namespaces (their veths go with them) and the temp directory. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const ns of this.allNamespaces) {
      await run('ip', ['netns', 'del', ns], { allowFailure: true });
      unregisterNamespace(ns);
    }
    rmSync(this.dir, { recursive: true, force: true });
    unregisterDirectory(this.dir);
  }
}
