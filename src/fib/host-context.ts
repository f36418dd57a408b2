// What the route forms need to know about this host (modes.ts): its links by
// name with ifindex and up/down state (is tunl0 there and up? is the
// interface of an IPv6 link-local next hop there?) and the subnets of its own
// addresses (crossSubnet: a next hop on a local subnet is reached directly,
// else over IPIP, RFC 2003). Read once by netlink dumps (RTM_GETLINK,
// RTM_GETADDR; RFC 3549 §3.1.1-§3.1.2), then kept current from the monitor's
// link and address notifications; every change that alters the form context
// is reported so the desired table is re-resolved. Without netlink (dry run)
// the links come from /sys/class/net and the addresses from
// os.networkInterfaces(). The addresses also feed `subnets`, the
// ConnectedSubnets next-hop tracking resolves over (next-hop-resolver.ts):
// crossSubnet's "is the node on my subnet" is that object's answer.

import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { prefixParse, v4KeyParse, type PrefixKey } from '../lib/prefix.js';
import type { LinkState } from './modes.js';
import type { KernelAddress, KernelLink } from './netlink/interfaces.js';
import type { RtnlEvent } from './netlink/events.js';
import { ConnectedSubnets } from './next-hop-resolver.js';

/** The host half of compileFormContext's input. */
export interface HostInput {
  readonly links: ReadonlyMap<string, LinkState>;
  readonly localSubnets: readonly PrefixKey[];
  readonly tunnelName: string;
  /** Is this address on a subnet of ours? (the next-hop resolver's answer; crossSubnet asks it) */
  readonly onLocalSubnet?: (address: string) => boolean;
}

/** What HostContext needs of the netlink request socket. */
export interface HostSocket {
  dumpLinks(): Promise<KernelLink[]>;
  dumpAddresses(family?: number): Promise<KernelAddress[]>;
}

/** rtm_scope / ifa_scope RT_SCOPE_HOST (254): 127.0.0.1/8, ::1 - never a neighbour's subnet. */
const SCOPE_HOST = 254;

export class HostContext {
  private readonly byIndex = new Map<number, { name: string; up: boolean }>();
  private readonly addresses = new Map<string, KernelAddress>();
  private cached: HostInput | undefined;
  private listeners: ((input: HostInput) => void)[] = [];
  /** Our addresses and subnets, shared with next-hop tracking (kept before listeners hear of a change). */
  readonly subnets = new ConnectedSubnets();

  constructor(readonly tunnelName = 'tunl0') {}

  /** Reads links and addresses by dump (replacing what was known). */
  async load(socket: HostSocket): Promise<HostInput> {
    const [links, addrs] = await Promise.all([socket.dumpLinks(), socket.dumpAddresses(0)]);
    const before = this.byIndex.size > 0 ? this.fingerprint() : undefined;
    this.byIndex.clear();
    this.addresses.clear();
    this.subnets.clear();
    for (const l of links) this.byIndex.set(l.index, { name: l.name, up: l.up });
    for (const a of addrs) {
      this.addresses.set(addrKey(a), a);
      this.subnets.address('new', a);
    }
    this.cached = undefined;
    const input = this.input();
    // A reload (after a monitor overrun) tells listeners what changed meanwhile.
    if (before !== undefined && before !== this.fingerprint()) for (const l of this.listeners) l(input);
    return input;
  }

  /** Fills the context from /sys/class/net and os.networkInterfaces() (no netlink, no root). */
  loadFromSystem(): HostInput {
    this.byIndex.clear();
    this.addresses.clear();
    this.subnets.clear();
    let names: string[] = [];
    try {
      names = readdirSync('/sys/class/net');
    } catch {
      names = Object.keys(networkInterfaces());
    }
    for (const [i, name] of names.entries()) {
      const read = (f: string): string | undefined => {
        try {
          return readFileSync(`/sys/class/net/${name}/${f}`, 'utf8').trim();
        } catch {
          return undefined;
        }
      };
      const index = Number(read('ifindex') ?? 1000 + i);
      const flags = Number.parseInt(read('flags') ?? '0x1', 16);
      this.byIndex.set(index, { name, up: (flags & 1) !== 0 });
    }
    for (const [name, list] of Object.entries(networkInterfaces())) {
      const index = [...this.byIndex].find(([, l]) => l.name === name)?.[0] ?? 0;
      for (const a of list ?? []) {
        if (a.internal || !a.cidr) continue;
        const subnet = a.family === 'IPv4' ? v4KeyParse(a.cidr, true) : prefixParse(a.cidr);
        if (subnet === undefined) continue;
        const prefixLength = Number(a.cidr.split('/')[1]);
        const ka: KernelAddress = { family: a.family === 'IPv4' ? 'ipv4-unicast' : 'ipv6-unicast', index, address: a.address, prefixLength, subnet, scope: 0 };
        this.addresses.set(addrKey(ka), ka);
        this.subnets.address('new', ka);
      }
    }
    this.cached = undefined;
    return this.input();
  }

  /** Subscribes to changes of the form context's host input. */
  onChange(fn: (input: HostInput) => void): void {
    this.listeners.push(fn);
  }

  /**
   * A monitor notification. Returns true when the host input changed (a
   * link's name or up state, or a local subnet); listeners are told then.
   */
  handle(ev: RtnlEvent): boolean {
    const before = this.fingerprint();
    if (ev.kind === 'link') {
      if (ev.change === 'del') this.byIndex.delete(ev.link.index);
      else this.byIndex.set(ev.link.index, { name: ev.link.name, up: ev.link.up });
    } else if (ev.kind === 'addr') {
      if (ev.change === 'del') this.addresses.delete(addrKey(ev.address));
      else this.addresses.set(addrKey(ev.address), ev.address);
      this.subnets.address(ev.change, ev.address);
    } else return false;
    this.cached = undefined;
    if (this.fingerprint() === before) return false;
    const input = this.input();
    for (const l of this.listeners) l(input);
    return true;
  }

  input(): HostInput {
    if (this.cached) return this.cached;
    const links = new Map<string, LinkState>();
    for (const [ifindex, l] of this.byIndex) links.set(l.name, { ifindex, up: l.up });
    const subnets = new Set<PrefixKey>();
    for (const a of this.addresses.values()) if (a.scope !== SCOPE_HOST) subnets.add(a.subnet);
    this.cached = { links, localSubnets: [...subnets], tunnelName: this.tunnelName, onLocalSubnet: this.onLocalSubnet };
    return this.cached;
  }

  private readonly onLocalSubnet = (address: string): boolean => this.subnets.connectedSubnet(address) !== undefined;

  /**
   * The interface a one-hop session runs over: the one holding `local` (our
   * end of the socket) on a subnet that also holds `peer`; undefined for a
   * multihop session. A link-local next hop from that peer is reached there.
   */
  interfaceFor(local: string, peer: string): string | undefined {
    // An IPv6 link-local socket address may carry its zone ("fe80::1%eth1"): that is the interface.
    const zone = /%(.+)$/.exec(local)?.[1] ?? /%(.+)$/.exec(peer)?.[1];
    if (zone !== undefined && [...this.byIndex.values()].some((l) => l.name === zone)) return zone;
    local = local.replace(/%.*$/, '');
    peer = peer.replace(/%.*$/, '');
    for (const a of this.addresses.values()) {
      const one = new ConnectedSubnets();
      one.address('new', a);
      if (one.isOwn(local) && one.connectedSubnet(peer) !== undefined) return this.byIndex.get(a.index)?.name;
    }
    return undefined;
  }

  ifName(ifindex: number): string | undefined {
    return this.byIndex.get(ifindex)?.name;
  }

  /** The tunnel device's state: absent, down, or up. */
  tunnelState(): 'missing' | 'down' | 'up' {
    const l = this.input().links.get(this.tunnelName);
    return !l ? 'missing' : l.up ? 'up' : 'down';
  }

  private fingerprint(): string {
    const links = [...this.byIndex].map(([i, l]) => `${i}:${l.name}:${l.up ? 1 : 0}`).sort();
    const subnets = [...this.addresses.values()].filter((a) => a.scope !== SCOPE_HOST).map((a) => String(a.subnet)).sort();
    return `${links.join(',')}|${[...new Set(subnets)].join(',')}`;
  }
}

function addrKey(a: KernelAddress): string {
  return `${a.index}/${a.address}/${a.prefixLength}`;
}
