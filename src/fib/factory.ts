// Chooses the FIB writer (DESIGN.md, FIB): the kernel writer over rtnetlink
// when fib.enabled and the process may change routes (root or CAP_NET_ADMIN);
// the dry-run recorder only when asked (fib.dryRun: true) or when the process
// may not write routes, with one log line saying why; nothing at all with
// fib.enabled false. Privileged but without a loadable native addon (or a
// netlink socket) is an error at start (FibUnavailableError, naming the
// missing file and how to build it): a daemon that looks healthy while writing
// no routes is worse than one that refuses to start. Also owns the shared plumbing of the kernel
// mode: one request socket (writes, dumps), one monitor socket whose route
// notifications go to the writer (drift repair, ENOBUFS resync) and whose
// link/address notifications go to the host context (tunl0, local subnets),
// and the optional creation of the IPIP tunnel device (RFC 2003) as an
// RTM_NEWLINK with IFLA_INFO_KIND "ipip" (fib.manageTunnel).

import { readFileSync } from 'node:fs';
import type { BgpConfig } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { loadNative, nativeAddonPath } from '../lib/native.js';
import { DisabledWriter, DryRunRecorder } from './dryrun.js';
import { HostContext } from './host-context.js';
import { KernelFibWriter } from './kernel-sync.js';
import * as C from './netlink/constants.js';
import { decodeAck, NlWriter, splitMessages } from './netlink/messages.js';
import { errnoName, NetlinkMonitor, NetlinkRouteSocket, type NetlinkOutcome } from './netlink/transport.js';
import type { FibWriter } from './types.js';
import type { KernelAddress } from './netlink/interfaces.js';
import type { KernelRoute as NlKernelRoute } from './netlink/messages.js';
import type { RtnlEvent } from './netlink/events.js';
import type { ConnectedSubnets } from './next-hop-resolver.js';

/** kernel: netlink writer; dry-run: fib.dryRun, or not allowed to write (no privilege); disabled: fib.enabled false. */
export type FibMode = 'kernel' | 'dry-run' | 'disabled';

export interface FibBackend {
  readonly mode: FibMode;
  /** Why the kernel writer is not used (dry-run / disabled). */
  readonly reason?: string;
  readonly writer: FibWriter;
  /** Set in kernel mode. */
  readonly kernel?: KernelFibWriter;
  readonly host: HostContext;
  /** Reads the host's links and addresses (and starts the monitor in kernel mode). */
  start(): Promise<void>;
  /**
   * Kernel mode: what next-hop tracking reads (daemon/next-hop-tracking.ts):
   * a dump of every route and address, and the monitor's notifications.
   */
  readonly kernelFeed?: KernelFeed;
  /** fib.manageTunnel: creates the tunnel device up; the kernel's answer. */
  createTunnel(name: string, mtu?: number): Promise<NetlinkOutcome>;
  close(opts?: { drainMs?: number }): Promise<void>;
}

export interface KernelFeed {
  dumpRoutes(): Promise<NlKernelRoute[]>;
  dumpAddresses(): Promise<KernelAddress[]>;
  /** The host context's addresses, fed before the subscribers hear of a change: next-hop tracking resolves over them. */
  readonly subnets?: ConnectedSubnets;
  /** Every route and address notification of the monitor, after the FIB's own handling. */
  subscribe(fn: (ev: RtnlEvent) => void): void;
  /** The monitor overran its socket (ENOBUFS): notifications were lost, dump again. */
  onOverflow?(fn: () => void): void;
}

export interface FibFactoryOptions {
  readonly logger: Logger;
  /** Open the netlink sockets in this network namespace (a path such as /run/netns/NAME). */
  readonly netns?: string;
  readonly clock?: Clock;
  /** For tests: force the decision instead of probing privileges. */
  readonly privileged?: boolean;
}

const CAP_NET_ADMIN = 12;

/** Writes the dry-run writer keeps for inspection (older ones are only counted). */
export const DRY_RUN_RECORDS = 10_000;

/** Privileged, FIB enabled, not a dry run, but the kernel writer cannot be built: the daemon must not start. */
export class FibUnavailableError extends Error {
  override readonly name = 'FibUnavailableError';
}

/** Whether this process may change routes: root, or CAP_NET_ADMIN in the effective set. */
export function canWriteRoutes(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
  } catch {
    return false;
  }
}

export async function createFibWriter(config: BgpConfig, opts: FibFactoryOptions): Promise<FibBackend> {
  const { logger } = opts;
  const fib = config.fib;
  const dryRun = (mode: FibMode, reason: string): FibBackend => {
    logger.warn({ event: 'fib-dry-run', mode, reason }, `FIB in ${mode} mode: ${reason}; kernel routes are not written`);
    const host = new HostContext();
    // Disabled: no writer, no host to read. Dry run: the last DRY_RUN_RECORDS writes, no simulated kernel.
    const writer = mode === 'disabled' ? new DisabledWriter() : new DryRunRecorder({ maxRecords: DRY_RUN_RECORDS, ...(opts.clock ? { now: () => opts.clock!.now() } : {}) });
    return {
      mode,
      reason,
      writer,
      host,
      start: async () => void (mode === 'disabled' ? undefined : host.loadFromSystem()),
      createTunnel: async () => ({ ok: false, errno: 1, code: 'EPERM', message: `FIB in ${mode} mode` }),
      close: async () => undefined,
    };
  };
  if (!fib.enabled) return dryRun('disabled', 'fib.enabled is false');
  if (fib.dryRun) return dryRun('dry-run', 'fib.dryRun is true');
  if (!(opts.privileged ?? canWriteRoutes())) return dryRun('dry-run', 'not root and no CAP_NET_ADMIN');
  try {
    loadNative();
  } catch (e) {
    const file = nativeAddonPath() ?? 'build/Release/bgpts_native.node';
    throw new FibUnavailableError(
      `fib.enabled is true and this process may write routes, but the native addon ${file} cannot be loaded ` +
        `(${(e as Error).message.split('\n')[0]}). Build it with "npm rebuild" (node-gyp: build-essential, python3) in the ` +
        'bgp-ts package directory, or set fib.dryRun: true to run without writing kernel routes',
    );
  }
  let socket: NetlinkRouteSocket;
  try {
    socket = new NetlinkRouteSocket({ ...(opts.netns ? { netns: opts.netns } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
  } catch (e) {
    throw new FibUnavailableError(`fib.enabled is true but the rtnetlink socket cannot be opened: ${(e as Error).message}; set fib.dryRun: true to run without writing kernel routes`);
  }
  const host = new HostContext();
  const kernel = new KernelFibWriter({
    socket,
    table: fib.table,
    protocol: fib.protocol,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ifName: (i) => host.ifName(i),
  });
  let monitor: NetlinkMonitor | undefined;
  const feeds: ((ev: RtnlEvent) => void)[] = [];
  const overflowFeeds: (() => void)[] = [];
  return {
    mode: 'kernel',
    writer: kernel,
    kernel,
    host,
    kernelFeed: {
      dumpRoutes: () => socket.dumpRoutes(0),
      dumpAddresses: () => socket.dumpAddresses(0),
      subnets: host.subnets,
      subscribe: (fn) => void feeds.push(fn),
      onOverflow: (fn) => void overflowFeeds.push(fn),
    },
    async start() {
      // Monitor first, then dump: a change between the two is seen at least once.
      monitor = new NetlinkMonitor(
        {
          onEvent: (ev) => {
            if (ev.kind === 'route') kernel.routeEvent(ev.change, ev.route);
            else host.handle(ev);
            for (const f of feeds) f(ev);
          },
          onOverflow: () => {
            kernel.overflow();
            // Next-hop tracking re-reads after the host context has (they share its addresses).
            void host
              .load(socket)
              .catch((e: Error) => logger.warn({ event: 'fib-host-reload-failed', err: e.message }, 'cannot re-read links and addresses'))
              .finally(() => {
                for (const f of overflowFeeds) f();
              });
          },
          onError: (reason) => logger.warn({ event: 'fib-monitor-error', reason }, 'netlink monitor error'),
        },
        { ...(opts.netns ? { netns: opts.netns } : {}), ref: false },
      );
      await host.load(socket);
    },
    createTunnel: (name, mtu) => createTunnelDevice(name, mtu, opts.netns),
    async close(closeOpts = {}) {
      monitor?.close();
      await kernel.close(closeOpts);
    },
  };
}

/**
 * RTM_NEWLINK (NLM_F_CREATE|NLM_F_EXCL) for an IPIP device named `name`, up,
 * with IFLA_LINKINFO { IFLA_INFO_KIND "ipip" }. Needs the kernel's ipip
 * module; without it the kernel answers EOPNOTSUPP, which is returned as is.
 */
export function createTunnelDevice(name: string, mtu: number | undefined, netns: string | undefined): Promise<NetlinkOutcome> {
  return new Promise((resolve) => {
    const native = loadNative();
    const seq = 1;
    let settled = false;
    const handle = native.open({ rcvbuf: 1 << 16, ...(netns ? { netns } : {}) }, (data) => {
      if (!data || settled) return;
      const split = splitMessages(data);
      if (!split.ok) return;
      for (const msg of split.value) {
        if (msg.type !== C.NLMSG_ERROR) continue;
        const ack = decodeAck(msg);
        if (!ack.ok || ack.value.seq !== seq) continue;
        settled = true;
        clearTimeout(timer);
        native.close(handle);
        const e = ack.value.errno;
        resolve(e === 0 ? { ok: true } : { ok: false, errno: e, code: errnoName(e), ...(ack.value.message ? { message: ack.value.message } : {}) });
      }
    });
    const w = new NlWriter(256);
    const at = w.begin(C.RTM_NEWLINK, C.NLM_F_REQUEST | C.NLM_F_ACK | C.NLM_F_CREATE | C.NLM_F_EXCL, seq);
    // struct ifinfomsg: family, pad, type, index, flags, change
    w.u8(0);
    w.u8(0);
    w.u16(0);
    w.u32(0);
    w.u32(C.IFF_UP);
    w.u32(C.IFF_UP);
    w.attrBytes(C.IFLA_IFNAME, Buffer.from(`${name}\0`));
    if (mtu !== undefined) w.attrU32(C.IFLA_MTU, mtu);
    const li = w.attrBegin(C.IFLA_LINKINFO);
    w.attrBytes(C.IFLA_INFO_KIND, Buffer.from('ipip'));
    w.attrEnd(li);
    w.end(at);
    native.ref(handle, true);
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      native.close(handle);
      resolve({ ok: false, errno: 110, code: 'ETIMEDOUT', message: 'no answer to RTM_NEWLINK' });
    }, 5000);
    timer.unref();
    const sent = native.send(handle, w.take());
    if (sent < 0) {
      settled = true;
      native.close(handle);
      resolve({ ok: false, errno: -sent, code: errnoName(-sent), message: 'send failed' });
    }
  });
}
