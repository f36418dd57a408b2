// FIB install rate: add, replace and delete N IPv4 /26 routes (via a veth
// gateway) through our netlink transport, side by side with `ip -batch`
// doing the same, the kernel's own ceiling for one request at a time (DESIGN.md,
// Proof). Wall-clock rates and CPU time per route (user + system, which
// includes the kernel's work done in sendmsg), the latter steadier on a busy host. Each run uses a fresh network namespace, deleted afterwards. Needs
// root and the built addon; otherwise it prints why and returns no figures.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteOp } from '../src/fib/netlink/messages.js';
import { NetlinkRouteSocket } from '../src/fib/netlink/transport.js';
import { v4Key, v4KeyToString } from '../src/lib/prefix.js';
import { nativeAvailable } from '../src/lib/native.js';

const PROTO = 201;

export interface FibNetlinkFigure {
  readonly n: number;
  readonly phase: 'add' | 'replace' | 'delete';
  /** Routes per second through bgp-ts's netlink transport. */
  readonly netlinkPerSec: number;
  /** Routes per second with `ip -batch`. */
  readonly ipBatchPerSec: number;
  /** CPU time per route (user + system, the kernel's work in sendmsg included), µs: ours, ip -batch's. */
  readonly netlinkCpuUs: number;
  readonly ipBatchCpuUs: number;
  /** Failed operations (should be 0). */
  readonly failures: number;
}

function netns(): { name: string; path: string; ip: (...a: string[]) => string; destroy: () => void } {
  const name = `bgpts-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const ip = (...a: string[]): string => execFileSync('ip', ['-netns', name, ...a], { encoding: 'utf8', maxBuffer: 256 << 20 });
  try {
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1');
    ip('link', 'set', 'veth0', 'up');
    ip('link', 'set', 'veth1', 'up');
    ip('addr', 'add', '192.0.2.1/24', 'dev', 'veth0');
  } catch (e) {
    execFileSync('ip', ['netns', 'del', name]);
    throw e;
  }
  return { name, path: `/run/netns/${name}`, ip, destroy: () => execFileSync('ip', ['netns', 'del', name]) };
}

const prefixOf = (i: number): number => v4Key(((10 << 24) >>> 0) + i * 64, 26);

function countOurs(ip: (...a: string[]) => string): number {
  const out = ip('-4', 'route', 'show', 'proto', String(PROTO));
  return out === '' ? 0 : out.trimEnd().split('\n').length;
}

/** CPU ms of this process's waited-for children (/proc/self/stat cutime + cstime, 100 ticks/s). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

type Phase = FibNetlinkFigure['phase'];

async function viaNetlink(n: number, batch: number): Promise<Record<Phase, { perSec: number; failures: number; cpuUs: number }>> {
  const ns = netns();
  const sock = new NetlinkRouteSocket({ netns: ns.path, timeoutMs: 30_000 });
  const result = {} as Record<Phase, { perSec: number; failures: number; cpuUs: number }>;
  try {
    const phases: [FibNetlinkFigure['phase'], (i: number) => RouteOp][] = [
      ['add', (i) => ({ op: 'add', route: { dst: prefixOf(i), protocol: PROTO, gateway: '192.0.2.2' } })],
      ['replace', (i) => ({ op: 'replace', route: { dst: prefixOf(i), protocol: PROTO, gateway: '192.0.2.3' } })],
      ['delete', (i) => ({ op: 'delete', route: { dst: prefixOf(i), protocol: PROTO } })],
    ];
    for (const [phase, make] of phases) {
      let failures = 0;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      for (let start = 0; start < n; start += batch) {
        const ops: RouteOp[] = [];
        for (let i = start; i < Math.min(n, start + batch); i++) ops.push(make(i));
        for (const o of await sock.applyRoutes(ops)) if (!o.ok) failures++;
      }
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      result[phase] = { perSec: (n * 1000) / ms, failures, cpuUs: (cpu.user + cpu.system) / n };
      const expected = phase === 'delete' ? 0 : n;
      const seen = countOurs(ns.ip);
      if (seen !== expected) throw new Error(`after ${phase} of ${n}: kernel holds ${seen} routes, expected ${expected}`);
    }
  } finally {
    sock.close();
    ns.destroy();
  }
  return result;
}

function viaIpBatch(n: number): Record<Phase, { perSec: number; cpuUs: number }> {
  const ns = netns();
  const file = join(tmpdir(), `${ns.name}.batch`);
  const result = {} as Record<Phase, { perSec: number; cpuUs: number }>;
  try {
    const lines: [FibNetlinkFigure['phase'], (p: string) => string][] = [
      ['add', (p) => `route add ${p} via 192.0.2.2 proto ${PROTO}`],
      ['replace', (p) => `route replace ${p} via 192.0.2.3 proto ${PROTO}`],
      ['delete', (p) => `route del ${p} proto ${PROTO}`],
    ];
    for (const [phase, line] of lines) {
      const text: string[] = [];
      for (let i = 0; i < n; i++) text.push(line(v4KeyToString(prefixOf(i))));
      writeFileSync(file, text.join('\n') + '\n');
      const t0 = performance.now();
      const cpu0 = childrenCpuMs();
      ns.ip('-batch', file);
      result[phase] = { perSec: (n * 1000) / (performance.now() - t0), cpuUs: ((childrenCpuMs() - cpu0) * 1000) / n };
    }
  } finally {
    rmSync(file, { force: true });
    ns.destroy();
  }
  return result;
}

/** Why the benchmark cannot run here, or undefined. */
export function fibNetlinkBenchSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!nativeAvailable()) return 'native addon not built';
  return undefined;
}

/** Runs the benchmark for each N, prints one line per phase, returns the figures. */
export async function runFibNetlinkBench(sizes: readonly number[] = [10_000, 100_000], batch = 10_000): Promise<FibNetlinkFigure[]> {
  const skip = fibNetlinkBenchSkipReason();
  if (skip) {
    console.log(`fib-netlink: skipped (${skip})`);
    return [];
  }
  const figures: FibNetlinkFigure[] = [];
  for (const n of sizes) {
    const ours = await viaNetlink(n, batch);
    const ip = viaIpBatch(n);
    for (const phase of ['add', 'replace', 'delete'] as const) {
      const f: FibNetlinkFigure = {
        n,
        phase,
        netlinkPerSec: ours[phase].perSec,
        ipBatchPerSec: ip[phase].perSec,
        failures: ours[phase].failures,
        netlinkCpuUs: ours[phase].cpuUs,
        ipBatchCpuUs: ip[phase].cpuUs,
      };
      figures.push(f);
      console.log(
        `fib-netlink N=${n} ${phase.padEnd(7)} bgp-ts ${Math.round(f.netlinkPerSec).toLocaleString('en')} routes/s` +
          `  ip -batch ${Math.round(f.ipBatchPerSec).toLocaleString('en')} routes/s  (x${(f.netlinkPerSec / f.ipBatchPerSec).toFixed(2)}, failures ${f.failures});` +
          `  CPU/route ${f.netlinkCpuUs.toFixed(1)} µs vs ${f.ipBatchCpuUs.toFixed(1)} µs`,
      );
    }
  }
  return figures;
}

// `node build/bench/bench/fib-netlink.js` runs it alone.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  await runFibNetlinkBench(sizes.length > 0 ? sizes : undefined);
}
