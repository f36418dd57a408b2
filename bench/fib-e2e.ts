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
//    joined by a veth pair; then BIRD 2 in the same topology with the same
//    feeder (its kernel protocol exporting into the namespace's main table),
//    then bgp-ts with the FIB off (the RSS reference). Figures: first UPDATE
//    sent -> all N in the kernel (seen by one monitor socket in the node's
//    namespace, routes of the DUT's protocol number: the same count for
//    both), the daemon's CPU time and RSS per route (/proc), and UPDATE-sent
//    -> in-kernel latency (median, p99) for a trickle of single-prefix
//    UPDATEs sent one at a time; BENCH_RUNS runs (default 3), medians,
//    ranges, the bgp-ts/BIRD ratio.
// Run: `node build/bench/bench/fib-e2e.js [N]` after `tsc -p tsconfig.bench.json`.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startBirdDaemon, type RunningBird } from './lib/bird.js';
import { procCpuSeconds, sampleProc } from './lib/proc-stats.js';
import { teardown } from './lib/teardown.js';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { FibService } from '../src/fib/fib-service.js';
import { createFibWriter } from '../src/fib/factory.js';
import { NetlinkMonitor } from '../src/fib/netlink/transport.js';
import { v4Key, v4KeyToString, type PrefixKey } from '../src/lib/prefix.js';
import { feederPrefix } from './lib/bgp-feeder.js';
import { daemonNodeFlags } from './lib/node-flags.js';

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

/** Who takes the feed: bgp-ts with its FIB, bgp-ts with `fib.enabled: false` (RSS reference), BIRD 2 with its kernel protocol. */
export type KernelDut = 'bgp-ts' | 'bgp-ts-nofib' | 'bird';
const KERNEL_PROTOCOL: Record<KernelDut, number> = { 'bgp-ts': 201, 'bgp-ts-nofib': 201, bird: 12 }; // BIRD's kernel routes: proto bird (12)

export interface BgpToKernelFigure {
  readonly dut: KernelDut;
  readonly routes: number;
  /** First UPDATE written by the feeder -> the last of the N routes notified by the kernel (NaN without a FIB). */
  readonly installMs: number;
  readonly routesPerSecond: number;
  /** The daemon's CPU time (user + system) from before the feed to all installed (to idle without a FIB). */
  readonly daemonCpuMs: number;
  /** The same until the daemon is idle again (work after the last route included). */
  readonly settledCpuMs: number;
  /** (VmHWM once idle after all N are in - VmRSS before the feed) / N. */
  readonly rssBytesPerRoute: number;
  readonly peakRssMb: number;
  readonly trickleSamples: number;
  readonly latencyMedianMs: number;
  readonly latencyP99Ms: number;
}

const wall = (): number => performance.timeOrigin + performance.now();
const CLI = process.env.BGP_TS_CLI ?? fileURLToPath(new URL('../src/cli.js', import.meta.url));
const FEEDER = fileURLToPath(new URL('./lib/bgp-feeder.js', import.meta.url));

const cpuMs = (pid: number): number => Math.round(procCpuSeconds(pid) * 1000);

/**
 * BIRD 2 as the node: the feeder's iBGP session direct (next hops on veth0, `gateway direct`),
 * and its kernel protocol exporting every best route into the main table, one path per prefix
 * as bgp-ts writes it (no `merge paths`: one feeder, one path), learning nothing back
 * (bgp-ts adopts only its own protocol's routes, so `learn off` is the equivalent).
 */
const birdNodeConfig = `router id 192.0.2.1;
log stderr { warning, error, fatal };
protocol device { scan time 60; }
protocol kernel {
  ipv4 { import none; export all; };
  merge paths off;
  learn off;
  scan time 60;
}
protocol bgp feeder {
  local 192.0.2.1 as 64512;
  neighbor 192.0.2.2 as 64512;
  passive yes;
  direct;
  hold time 90;
  ipv4 { import all; export none; gateway direct; };
}
`;

/** True BGP to kernel: feeder namespace -> the node (bgp-ts daemon or BIRD) namespace -> kernel FIB. */
export async function runBgpToKernelBench(n = 100_000, trickle = 500, dut: KernelDut = 'bgp-ts'): Promise<BgpToKernelFigure> {
  const tag = `${process.pid}-${randomBytes(2).toString('hex')}`;
  const nodeNs = `bgpts-b2k-node-${tag}`;
  const feedNs = `bgpts-b2k-feed-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'bgpts-b2k-'));
  const children: ChildProcess[] = [];
  const proto = KERNEL_PROTOCOL[dut];
  const fib = dut !== 'bgp-ts-nofib';
  let bird: RunningBird | undefined;
  let monitor: NetlinkMonitor | undefined;
  let failureLog: (() => string) | undefined;
  execFileSync('ip', ['netns', 'add', feedNs]);
  try {
    makeNetns(nodeNs, feedNs);
    // When each prefix reached the kernel (route notifications in the node's namespace), counted the same way for every DUT.
    const arrived = new Map<PrefixKey, number>();
    const waiters = new Map<PrefixKey, (t: number) => void>();
    let overruns = 0;
    let bulkSeen = 0;
    monitor = new NetlinkMonitor(
      {
        onEvent: (ev) => {
          if (ev.kind !== 'route' || ev.change !== 'new' || ev.route.protocol !== proto) return;
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
    let pid: number;
    if (dut === 'bird') {
      bird = await startBirdDaemon(nodeNs, dir, birdNodeConfig);
      const b = bird;
      failureLog = () => b.proc.tail();
      pid = bird.pid;
    } else {
      const config = join(dir, 'bgp-ts.yaml');
      writeFileSync(
        config,
        `routerId: 192.0.2.1
asn: 64512
listen: { addresses: ["192.0.2.1"], port: 179 }
neighbors:
  - { address: 192.0.2.2, asn: 64512, passive: true }
fib: { enabled: ${fib}, protocol: 201 }
api: { listen: "127.0.0.1:9179" }
log: { level: warn }
`,
      );
      // The daemon's log (level warn) goes to a file, printed when the run fails.
      const logFile = join(dir, 'daemon.log');
      const flags = daemonNodeFlags();
      const daemon = spawn('sh', ['-c', `exec ip netns exec ${nodeNs} ${process.execPath} ${flags.join(' ')} ${CLI} daemon --config ${config} >${logFile} 2>&1`], { stdio: 'ignore' });
      failureLog = () => readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      children.push(daemon);
      pid = daemon.pid!;
    }
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
    const baseline = sampleProc(pid).rssBytes;
    const cpu0 = cpuMs(pid);
    tell({ cmd: 'bulk', first: 0, n });
    const { sent } = await next();
    let installMs = NaN;
    if (fib) {
      // All N in the kernel: counted from notifications; after a monitor overrun, by dump.
      const inKernel = (): number => Number(execFileSync('sh', ['-c', `ip -netns ${nodeNs} -4 route show proto ${proto} | wc -l`], { encoding: 'utf8' }));
      for (let polls = 0; bulkSeen < n; polls++) {
        if (overruns > 0 && inKernel() >= n) break;
        if (polls > 3000) throw new Error(`after 30 s: ${bulkSeen} of ${n} routes notified, ${inKernel()} in the kernel, ${overruns} monitor overruns`);
        await new Promise((r) => setTimeout(r, 10));
      }
      let last = 0;
      for (let i = 0; i < n; i++) last = Math.max(last, arrived.get(feederPrefix(i)) ?? 0);
      installMs = overruns > 0 ? wall() - sent! : last - sent!;
    }
    const daemonCpuMs = cpuMs(pid) - cpu0;
    // Then idle: the daemon's CPU stands still for 500 ms (work after the last route, e.g. a deferred resync, counts here).
    for (let prev = -1, still = 0; still < 5; ) {
      await new Promise((r) => setTimeout(r, 100));
      const c = cpuMs(pid);
      still = c === prev ? still + 1 : 0;
      prev = c;
    }
    const settledCpuMs = cpuMs(pid) - cpu0;
    if (!fib) {
      // No FIB, nothing to watch: the feed is in once the daemon is idle and its API counts N.
      const peers = JSON.parse(execFileSync('ip', ['netns', 'exec', nodeNs, process.execPath, '-e', 'fetch("http://127.0.0.1:9179/api/v1/peers").then(async (r) => process.stdout.write(await r.text()))'], { encoding: 'utf8' })) as { peers: { prefixes: { accepted: number } }[] };
      const accepted = peers.peers[0]?.prefixes.accepted ?? 0;
      if (accepted < n) throw new Error(`bgp-ts without a FIB went idle with ${accepted} of ${n} prefixes accepted`);
    }
    const after = sampleProc(pid);
    if (process.env.BENCH_DAEMON_METRICS && dut !== 'bird') {
      // Where the memory is (V8 heap spaces, external), from the daemon's own /metrics.
      const text = execFileSync('ip', ['netns', 'exec', nodeNs, process.execPath, '-e', 'fetch("http://127.0.0.1:9179/metrics").then(async (r) => process.stdout.write(await r.text()))'], { encoding: 'utf8' });
      console.log(text.split('\n').filter((l) => /^(nodejs_heap|nodejs_external|process_resident)/.test(l)).join('\n'));
    }
    // The trickle: one single-prefix UPDATE at a time, each awaited in the kernel.
    const latencies: number[] = [];
    for (let k = 0; fib && k < trickle; k++) {
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
      dut,
      routes: n,
      installMs: Math.round(installMs),
      routesPerSecond: Math.round(n / (installMs / 1000)),
      daemonCpuMs,
      settledCpuMs,
      rssBytesPerRoute: Math.round((after.hwmBytes - baseline) / n),
      peakRssMb: Math.round(after.hwmBytes / 1e6),
      trickleSamples: latencies.length,
      latencyMedianMs: q(0.5),
      latencyP99Ms: q(0.99),
    };
    console.log(
      `bgp-to-kernel ${dut} N=${n} (load ${loadavg()[0]!.toFixed(2)}): ` +
        (fib ? `first UPDATE sent -> all in kernel ${fig.installMs} ms (${fig.routesPerSecond}/s, ` : `feed taken (no FIB; `) +
        `daemon CPU ${fig.daemonCpuMs} ms, ${fig.settledCpuMs} ms until idle${overruns ? ', completion by dump after monitor overrun' : ''}); RSS ${fig.rssBytesPerRoute} B/route, peak ${fig.peakRssMb} MB` +
        (fib ? `; single-prefix UPDATE -> kernel median ${fig.latencyMedianMs} ms, p99 ${fig.latencyP99Ms} ms (${fig.trickleSamples} of ${trickle} samples)` : ''),
    );
    tell({ cmd: 'quit' });
    if (!process.env.BENCH_DAEMON_LOG) failureLog = undefined; // BENCH_DAEMON_LOG=1: print it anyway
    return fig;
  } finally {
    if (failureLog) console.log(`${dut} log:\n${failureLog()}`);
    monitor?.close();
    await bird?.stop();
    await teardown(children, [nodeNs, feedNs], dir);
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const spread = (xs: readonly number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

/** BGP -> kernel for N, BENCH_RUNS runs (default 3), each bgp-ts, BIRD, then bgp-ts without a FIB; medians, ranges, ratios. */
export async function runBgpToKernelComparison(n: number, runs = Number(process.env.BENCH_RUNS ?? 3)): Promise<BgpToKernelFigure[]> {
  const duts: KernelDut[] = (process.env.FIB_E2E_DUTS ?? 'bgp-ts,bird,bgp-ts-nofib').split(',') as KernelDut[];
  const by: Record<KernelDut, BgpToKernelFigure[]> = { 'bgp-ts': [], 'bgp-ts-nofib': [], bird: [] };
  for (let run = 0; run < runs; run++) for (const dut of duts) by[dut].push(await runBgpToKernelBench(n, 500, dut));
  console.log(`bgp-to-kernel N=${n}, ${runs} runs, median (min–max), load now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const dut of duts) {
    const fs = by[dut];
    console.log(
      `  ${dut.padEnd(12)} ${dut === 'bgp-ts-nofib' ? '' : `all in kernel ${spread(fs.map((f) => f.installMs))} ms, trickle median ${spread(fs.map((f) => f.latencyMedianMs), 2)} ms, `}` +
        `CPU ${spread(fs.map((f) => f.daemonCpuMs))} ms (until idle ${spread(fs.map((f) => f.settledCpuMs))} ms), RSS ${spread(fs.map((f) => f.rssBytesPerRoute))} B/route, peak ${spread(fs.map((f) => f.peakRssMb))} MB`,
    );
  }
  const med = (d: KernelDut, f: (x: BgpToKernelFigure) => number): number => median(by[d].map(f));
  if (by['bgp-ts'].length > 0 && by.bird.length > 0) {
    const per = by['bgp-ts'].map((f, i) => f.installMs / by.bird[i]!.installMs);
    console.log(
      `  bgp-ts/BIRD: all in kernel ${(med('bgp-ts', (f) => f.installMs) / med('bird', (f) => f.installMs)).toFixed(2)}× (per run ${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}; target ≤ 0.7), ` +
        `CPU ${(med('bgp-ts', (f) => f.daemonCpuMs) / med('bird', (f) => f.daemonCpuMs)).toFixed(2)}× (until idle ${(med('bgp-ts', (f) => f.settledCpuMs) / med('bird', (f) => f.settledCpuMs)).toFixed(2)}×)`,
    );
  }
  if (by['bgp-ts'].length > 0 && by['bgp-ts-nofib'].length > 0) {
    console.log(`  bgp-ts RSS/route FIB on / off: ${(med('bgp-ts', (f) => f.rssBytesPerRoute) / med('bgp-ts-nofib', (f) => f.rssBytesPerRoute)).toFixed(2)}× (target ≤ 2)`);
  }
  return [...by['bgp-ts'], ...by.bird, ...by['bgp-ts-nofib']];
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
    await runBgpToKernelComparison(n);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  await runFibE2eBenches(sizes.length > 0 ? sizes : undefined);
}
