// FIB end to end (root; fresh network namespaces per run, always removed).
//
// 1. In process, from the RIB's output: N best-path changes (/26 blocks, one
//    next hop on the namespace's LAN) handed to the FIB bridge in RIB-sized
//    batches, the kernel writer installing them over rtnetlink. Figures: time
//    until all N are in the kernel (ACKed), this process's CPU time, the
//    handed-over -> route-notified latency (median, p99, from a monitor
//    socket), a reconcile of N where 1% were changed behind our back, and
//    `ip -batch` adding the same N routes in a fresh namespace in the same run
//    (the kernel's practical ceiling for one request at a time).
// 2. BGP to kernel: bgp-ts (`node cli.js daemon`, fib.enabled) in one
//    namespace, a feeder (bench/lib/bgp-feeder.ts, our codec) in another,
//    joined by a veth pair. Figures: first UPDATE sent -> all N in the kernel
//    (seen by a monitor socket in the daemon's namespace), the daemon's CPU
//    time, and UPDATE-sent -> in-kernel latency (median, p99) for a trickle of
//    single-prefix UPDATEs sent one at a time.
// Run: `node build/bench/bench/fib-e2e.js [N]` after `tsc -p tsconfig.bench.json`.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { teardown } from './lib/teardown.js';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { FibService } from '../src/fib/fib-service.js';
import { createFibWriter } from '../src/fib/factory.js';
import { NetlinkMonitor } from '../src/fib/netlink/transport.js';
import { v4Key, v4KeyToString, type PrefixKey } from '../src/lib/prefix.js';
import { feederPrefix } from './lib/bgp-feeder.js';

export interface FibE2eFigure {
  readonly routes: number;
  readonly installMs: number;
  readonly routesPerSecond: number;
  readonly latencyMedianMs: number;
  readonly latencyP99Ms: number;
  readonly reconcileMs: number;
  readonly reconcileRewritten: number;
  /** This process's CPU time (user + system, kernel work in sendmsg included) during the install. */
  readonly installCpuMs: number;
  /** `ip -batch` adding the same N routes (fresh namespace, same run). */
  readonly ipBatchMs: number;
}

export async function runFibE2eBench(n = 100_000, batch = 2048): Promise<FibE2eFigure> {
  const name = `bgpts-fibe2e-${process.pid}-${randomBytes(2).toString('hex')}`;
  const ip = (...a: string[]): string => execFileSync('ip', ['-netns', name, ...a], { encoding: 'utf8', maxBuffer: 256 << 20 });
  execFileSync('ip', ['netns', 'add', name]);
  try {
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1');
    ip('link', 'set', 'veth0', 'up');
    ip('link', 'set', 'veth1', 'up');
    ip('addr', 'add', '192.0.2.1/24', 'dev', 'veth0');
    const parsed = parseConfig('routerId: 192.0.2.1\nasn: 64512\nfib: { enabled: true, protocol: 201 }\n');
    if (!parsed.ok) throw new Error('config');
    const logger = pino({ level: 'silent' });
    const backend = await createFibWriter(parsed.config, { logger, netns: `/run/netns/${name}`, privileged: true });
    const bridge = new FibService({ config: parsed.config, logger, backend });
    await bridge.start({ keepStale: false });
    const sentAt = new Map<PrefixKey, number>();
    const latencies: number[] = [];
    const monitor = new NetlinkMonitor(
      {
        onEvent: (ev) => {
          if (ev.kind !== 'route' || ev.change !== 'new' || ev.route.protocol !== 201) return;
          const t = sentAt.get(ev.route.dst);
          if (t !== undefined) {
            latencies.push(performance.now() - t);
            sentAt.delete(ev.route.dst);
          }
        },
        onOverflow: () => undefined,
      },
      { netns: `/run/netns/${name}`, groups: [7], rcvbuf: 64 << 20, ref: false },
    );
    const prefix = (i: number): number => v4Key(0x0a000000 + i * 64, 26);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i += batch) {
      const changes = [];
      for (let j = i; j < Math.min(n, i + batch); j++) {
        const p = prefix(j);
        sentAt.set(p, performance.now());
        changes.push({ prefix: p, nextHops: [{ address: `192.0.2.${2 + (j % 200)}` }] });
      }
      bridge.bestPathChanges(changes);
      await new Promise((r) => setImmediate(r));
    }
    while (backend.kernel!.installedCount() < n) await new Promise((r) => setTimeout(r, 5));
    const installMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await new Promise((r) => setTimeout(r, 200)); // late notifications
    monitor.close();
    latencies.sort((a, b) => a - b);
    // 1% changed behind our back: the reconcile finds and rewrites them.
    const changed = Math.floor(n / 100);
    const lines: string[] = [];
    for (let i = 0; i < changed; i++) {
      const p = prefix(i * 100);
      const a = Math.floor(p / 64);
      lines.push(`route replace ${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/26 via 192.0.2.250 proto 201`);
    }
    execFileSync('ip', ['-netns', name, '-batch', '-'], { input: lines.join('\n') });
    const r0 = performance.now();
    const result = await backend.writer.sync(bridge.desiredRoutes(), { keepStale: false });
    await backend.kernel!.idle();
    const reconcileMs = performance.now() - r0;
    await bridge.stop({ keepRoutes: true });
    const ipBatchMs = ipBatchInstall(n, (i) => v4KeyToString(prefix(i)), (i) => `192.0.2.${2 + (i % 200)}`);
    const fig: FibE2eFigure = {
      routes: n,
      installMs: Math.round(installMs),
      routesPerSecond: Math.round(n / (installMs / 1000)),
      latencyMedianMs: Math.round((latencies[Math.floor(latencies.length / 2)] ?? NaN) * 10) / 10,
      latencyP99Ms: Math.round((latencies[Math.floor(latencies.length * 0.99)] ?? NaN) * 10) / 10,
      reconcileMs: Math.round(reconcileMs),
      reconcileRewritten: result.replaced,
      installCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      ipBatchMs: Math.round(ipBatchMs),
    };
    console.log(
      `fib-e2e N=${n}: all in kernel after ${fig.installMs} ms (${fig.routesPerSecond}/s, CPU ${fig.installCpuMs} ms; ip -batch ${fig.ipBatchMs} ms, ${Math.round(n / (fig.ipBatchMs / 1000))}/s); change->kernel latency median ${fig.latencyMedianMs} ms, p99 ${fig.latencyP99Ms} ms (${latencies.length} samples); reconcile with 1% differing ${fig.reconcileMs} ms, ${fig.reconcileRewritten} rewritten`,
    );
    return fig;
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
}

/** A namespace with lo up and veth0 192.0.2.1/24 (its peer veth1 in `peerNs` with 192.0.2.2/24, or in the same one). */
function makeNetns(name: string, peerNs?: string): (...a: string[]) => string {
  execFileSync('ip', ['netns', 'add', name]);
  const ip = (...a: string[]): string => execFileSync('ip', ['-netns', name, ...a], { encoding: 'utf8', maxBuffer: 256 << 20 });
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', ...(peerNs ? ['netns', peerNs] : []));
  ip('link', 'set', 'veth0', 'up');
  ip('addr', 'add', '192.0.2.1/24', 'dev', 'veth0');
  if (peerNs) {
    execFileSync('ip', ['-netns', peerNs, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-netns', peerNs, 'link', 'set', 'veth1', 'up']);
    execFileSync('ip', ['-netns', peerNs, 'addr', 'add', '192.0.2.2/24', 'dev', 'veth1']);
  } else ip('link', 'set', 'veth1', 'up');
  return ip;
}

/** `ip -batch` adding N routes in a fresh namespace; ms. */
function ipBatchInstall(n: number, dst: (i: number) => string, via: (i: number) => string): number {
  const name = `bgpts-fibe2e-ipb-${process.pid}-${randomBytes(2).toString('hex')}`;
  const file = join(tmpdir(), `${name}.batch`);
  try {
    makeNetns(name);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`route add ${dst(i)} via ${via(i)} proto 201`);
    writeFileSync(file, lines.join('\n') + '\n');
    const t0 = performance.now();
    execFileSync('ip', ['-netns', name, '-batch', file]);
    return performance.now() - t0;
  } finally {
    rmSync(file, { force: true });
    execFileSync('ip', ['netns', 'del', name]);
  }
}

export interface BgpToKernelFigure {
  readonly routes: number;
  /** First UPDATE written by the feeder -> the last of the N routes notified by the kernel. */
  readonly installMs: number;
  readonly routesPerSecond: number;
  /** The daemon's CPU time (user + system) from before the feed to all installed. */
  readonly daemonCpuMs: number;
  readonly trickleSamples: number;
  readonly latencyMedianMs: number;
  readonly latencyP99Ms: number;
}

const wall = (): number => performance.timeOrigin + performance.now();
const CLI = process.env.BGP_TS_CLI ?? fileURLToPath(new URL('../src/cli.js', import.meta.url));
const FEEDER = fileURLToPath(new URL('./lib/bgp-feeder.js', import.meta.url));

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // 100 ticks/s
}

/** True BGP to kernel: feeder namespace -> bgp-ts daemon namespace -> kernel FIB. */
export async function runBgpToKernelBench(n = 100_000, trickle = 500): Promise<BgpToKernelFigure> {
  const tag = `${process.pid}-${randomBytes(2).toString('hex')}`;
  const nodeNs = `bgpts-b2k-node-${tag}`;
  const feedNs = `bgpts-b2k-feed-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'bgpts-b2k-'));
  const children: ChildProcess[] = [];
  let monitor: NetlinkMonitor | undefined;
  let failureLog: string | undefined;
  execFileSync('ip', ['netns', 'add', feedNs]);
  try {
    makeNetns(nodeNs, feedNs);
    const config = join(dir, 'bgp-ts.yaml');
    writeFileSync(
      config,
      `routerId: 192.0.2.1
asn: 64512
listen: { addresses: ["192.0.2.1"], port: 179 }
neighbors:
  - { address: 192.0.2.2, asn: 64512, passive: true }
fib: { enabled: true, protocol: 201 }
api: { listen: "127.0.0.1:9179" }
log: { level: warn }
`,
    );
    // When each prefix reached the kernel (route notifications in the daemon's namespace).
    const arrived = new Map<PrefixKey, number>();
    const waiters = new Map<PrefixKey, (t: number) => void>();
    let overruns = 0;
    let bulkSeen = 0;
    monitor = new NetlinkMonitor(
      {
        onEvent: (ev) => {
          if (ev.kind !== 'route' || ev.change !== 'new' || ev.route.protocol !== 201) return;
          const t = wall();
          if (!arrived.has(ev.route.dst)) {
            arrived.set(ev.route.dst, t);
            if (typeof ev.route.dst === 'number' && (ev.route.dst / 64 - 0x0a000000) / 64 < n) bulkSeen++;
          }
          waiters.get(ev.route.dst)?.(t);
        },
        onOverflow: () => void overruns++,
      },
      { netns: `/run/netns/${nodeNs}`, groups: [7], rcvbuf: 64 << 20, ref: false },
    );
    // The daemon's log (level warn) goes to a file, printed when the run fails.
    const logFile = join(dir, 'daemon.log');
    const daemon = spawn('sh', ['-c', `exec ip netns exec ${nodeNs} ${process.execPath} ${CLI} daemon --config ${config} >${logFile} 2>&1`], { stdio: 'ignore' });
    failureLog = logFile;
    children.push(daemon);
    const feeder = spawn('ip', ['netns', 'exec', feedNs, process.execPath, FEEDER, '192.0.2.2', '192.0.2.1', '179', '64512', '192.0.2.2'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(feeder);
    const lines = createInterface({ input: feeder.stdout! })[Symbol.asyncIterator]();
    const next = async (): Promise<Record<string, number>> => {
      const r = await lines.next();
      if (r.done) throw new Error('the feeder exited');
      return JSON.parse(r.value) as Record<string, number>;
    };
    const tell = (o: object): void => void feeder.stdin!.write(`${JSON.stringify(o)}\n`);
    await next(); // {up}: the session is established
    await new Promise((r) => setTimeout(r, 300)); // the daemon's FIB start-up reconcile settles
    const cpu0 = cpuMs(daemon.pid!);
    tell({ cmd: 'bulk', first: 0, n });
    const { sent } = await next();
    // All N in the kernel: counted from notifications; after a monitor overrun, by dump.
    const inKernel = (): number => Number(execFileSync('sh', ['-c', `ip -netns ${nodeNs} -4 route show proto 201 | wc -l`], { encoding: 'utf8' }));
    for (let polls = 0; bulkSeen < n; polls++) {
      if (overruns > 0 && inKernel() >= n) break;
      if (polls > 3000) throw new Error(`after 30 s: ${bulkSeen} of ${n} routes notified, ${inKernel()} in the kernel, ${overruns} monitor overruns`);
      await new Promise((r) => setTimeout(r, 10));
    }
    let last = 0;
    for (let i = 0; i < n; i++) last = Math.max(last, arrived.get(feederPrefix(i)) ?? 0);
    const installMs = overruns > 0 ? wall() - sent! : last - sent!;
    const daemonCpuMs = cpuMs(daemon.pid!) - cpu0;
    // The trickle: one single-prefix UPDATE at a time, each awaited in the kernel.
    const latencies: number[] = [];
    for (let k = 0; k < trickle; k++) {
      const p = feederPrefix(n + k);
      const inKernel = new Promise<number>((resolve) => {
        waiters.set(p, resolve);
        setTimeout(() => resolve(NaN), 2000);
      });
      tell({ cmd: 'one', i: n + k });
      const { sent: t } = await next();
      const at = await inKernel;
      waiters.delete(p);
      if (!Number.isNaN(at)) latencies.push(at - t!);
      await new Promise((r) => setTimeout(r, 2));
    }
    latencies.sort((a, b) => a - b);
    const q = (f: number): number => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * f))] ?? NaN) * 100) / 100;
    const fig: BgpToKernelFigure = {
      routes: n,
      installMs: Math.round(installMs),
      routesPerSecond: Math.round(n / (installMs / 1000)),
      daemonCpuMs,
      trickleSamples: latencies.length,
      latencyMedianMs: q(0.5),
      latencyP99Ms: q(0.99),
    };
    console.log(
      `bgp-to-kernel N=${n}: first UPDATE sent -> all in kernel ${fig.installMs} ms (${fig.routesPerSecond}/s, daemon CPU ${fig.daemonCpuMs} ms${overruns ? ', completion by dump after monitor overrun' : ''}); ` +
        `single-prefix UPDATE -> kernel median ${fig.latencyMedianMs} ms, p99 ${fig.latencyP99Ms} ms (${fig.trickleSamples} of ${trickle} samples)`,
    );
    tell({ cmd: 'quit' });
    failureLog = undefined;
    return fig;
  } finally {
    if (failureLog) console.log(`daemon log:\n${readFileSync(failureLog, 'utf8').split('\n').slice(-40).join('\n')}`);
    monitor?.close();
    await teardown(children, [nodeNs, feedNs], dir);
  }
}

/** Why the benchmark cannot run here, or undefined. */
export function fibE2eSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  return undefined;
}

/** Both parts for N (default 10k and 100k). */
export async function runFibE2eBenches(sizes: readonly number[] = [10_000, 100_000]): Promise<void> {
  const skip = fibE2eSkipReason();
  if (skip) return void console.log(`fib-e2e: skipped (${skip})`);
  for (const n of sizes) {
    await runFibE2eBench(n);
    await runBgpToKernelBench(n);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  await runFibE2eBenches(sizes.length > 0 ? sizes : undefined);
}
