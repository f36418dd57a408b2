// FIB end to end from best paths to the kernel (root; a fresh network
// namespace per run): N best-path changes (/26 blocks, one next hop on the
// namespace's LAN) handed to the FIB bridge in RIB-sized batches, the kernel
// writer installing them over rtnetlink. Figures: time until all N are in the
// kernel (ACKed), change-handed-over -> route-notified latency (median, p99,
// from a monitor socket in the namespace), and a reconcile of N where 1% were
// changed behind our back. The BGP leg (UPDATE parsing, decision) is measured
// by bench/rib.ts; this starts at the RIB's output.
// Run: `node dist/bench/fib-e2e.js` after the build, or import runFibE2eBench().

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { FibBridge } from '../src/fib-bridge.js';
import { createFibWriter } from '../src/fib/factory.js';
import { NetlinkMonitor } from '../src/fib/netlink/transport.js';
import { v4Key, type PrefixKey } from '../src/lib/prefix.js';

export interface FibE2eFigure {
  readonly routes: number;
  readonly installMs: number;
  readonly routesPerSecond: number;
  readonly latencyMedianMs: number;
  readonly latencyP99Ms: number;
  readonly reconcileMs: number;
  readonly reconcileRewritten: number;
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
    const bridge = new FibBridge({ config: parsed.config, logger, backend });
    await bridge.start();
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
      { netns: `/run/netns/${name}`, groups: [7], ref: false },
    );
    const prefix = (i: number): number => v4Key(0x0a000000 + i * 64, 26);
    const t0 = performance.now();
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
    const fig: FibE2eFigure = {
      routes: n,
      installMs: Math.round(installMs),
      routesPerSecond: Math.round(n / (installMs / 1000)),
      latencyMedianMs: Math.round((latencies[Math.floor(latencies.length / 2)] ?? NaN) * 10) / 10,
      latencyP99Ms: Math.round((latencies[Math.floor(latencies.length * 0.99)] ?? NaN) * 10) / 10,
      reconcileMs: Math.round(reconcileMs),
      reconcileRewritten: result.replaced,
    };
    console.log(
      `fib-e2e N=${n}: all in kernel after ${fig.installMs} ms (${fig.routesPerSecond}/s); change->kernel latency median ${fig.latencyMedianMs} ms, p99 ${fig.latencyP99Ms} ms (${latencies.length} samples); reconcile with 1% differing ${fig.reconcileMs} ms, ${fig.reconcileRewritten} rewritten`,
    );
    return fig;
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runFibE2eBench(Number(process.argv[2] ?? 100_000));
