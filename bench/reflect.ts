// End-to-end reflection benchmark over loopback (RFC 4456 route reflection).
// bgp-ts runs as its own child process (`node <cli.js> daemon --config <tmp>`,
// log level warn, FIB off, HTTP API on a loopback port), so its peak RSS
// (/proc/<pid>/status VmHWM) and event-loop delay are its own. In this process
// a feeder (a minimal raw BGP speaker on our codec blasting pre-encoded
// UPDATEs) announces N IPv4 /26 prefixes in 8 attribute sets as an iBGP
// route-reflector client, and a receiver client counts the reflected NLRI by
// walking the UPDATE fields (RFC 4271 §4.3), without a full decode. Then the
// feeder withdraws everything. Reported per N: time to full convergence
// (receiver holds all N / has seen all N withdrawn), prefixes/s, the daemon's
// peak RSS and RSS bytes per route (VmHWM minus the RSS before the feed, / N),
// its CPU seconds, and its longest event-loop delay per phase (from the API's
// /metrics, nodejs_eventloop_delay_max_seconds, whose window resets on each
// scrape); plus the ceiling: the same bytes feeder → receiver, no bgp-ts.
// BIRD 2 runs in the same harness in the same run (`bird -f` in this
// namespace, strict-bound to the same loopback address on its own port, both
// clients `rr client`, next hops resolved through a static 127/8 in a
// separate IGP table, no kernel protocol), with the same feeder bytes and the
// same receiver; each run measures bgp-ts then BIRD, BENCH_RUNS runs
// (default 3), and the report gives medians, ranges and the bgp-ts/BIRD
// ratio. Two clocks per phase: from the feeder's first write, and from its
// last write (the kernel took the last byte) to the receiver's last prefix.
//
// The daemon runs from the same build as this file (build/bench/src/cli.js,
// i.e. the code of dist/cli.js) with the shipped Node flags (those of the
// Debian wrapper, bench/lib/node-flags.ts); BGP_TS_CLI overrides the CLI,
// BGP_TS_NODE_FLAGS replaces the flags (e.g. "--max-semi-space-size=4
// --cpu-prof --cpu-prof-dir=/tmp/prof" or "--trace-gc" with
// BENCH_DAEMON_STDOUT=1 to see the daemon's output; empty for none).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeMessage } from '../src/bgp/wire/message.js';
import { AS_SEQUENCE, DEFAULT_CODEC_CONTEXT, type CodecContext, type PathAttributes } from '../src/bgp/wire/types.js';
import { v4Key, v4Parse } from '../src/lib/prefix.js';
import { packUpdates, packWithdrawUpdates } from '../src/rib/update-packer.js';
import { startBirdDaemon } from './lib/bird.js';
import { procCpuSeconds } from './lib/proc-stats.js';
import { daemonNodeFlags } from './lib/node-flags.js';

const AS = 64512;
const RR = '127.0.0.71';
const FEEDER = '127.0.0.72';
const RECEIVER = '127.0.0.73';
const CTX: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
const CLI = process.env.BGP_TS_CLI ?? fileURLToPath(new URL('../src/cli.js', import.meta.url));

export type ReflectDut = 'bgp-ts' | 'bird';

export interface PhaseResult {
  /** The feeder's first write -> the receiver holds all N (or has seen all N withdrawn). */
  readonly seconds: number;
  /** The feeder's last write returned -> the receiver complete. */
  readonly afterLastSentSeconds: number;
  readonly perSecond: number;
  /** The daemon's longest event-loop delay during the phase, ms. */
  readonly maxEventLoopDelayMs: number;
  /** The daemon's CPU time (user + system) during the phase, s. */
  readonly cpuSeconds: number;
}

export interface ReflectResult {
  readonly dut: ReflectDut;
  readonly n: number;
  readonly announce: PhaseResult;
  readonly withdraw: PhaseResult;
  /** The daemon's RSS with both sessions up, before the feed, MB. */
  readonly baselineRssMb: number;
  /** The daemon's peak RSS (VmHWM), MB. */
  readonly peakRssMb: number;
  /** (VmHWM after the announcements − baseline RSS) / N. */
  readonly rssBytesPerRoute: number;
}

/** N /26 prefixes from 64.0.0.0 in 8 attribute sets, as whole UPDATE messages. */
function feed(n: number): { announce: Buffer[]; withdraw: Buffer[] } {
  const announce: Buffer[] = [];
  const withdraw: Buffer[] = [];
  const per = Math.ceil(n / 8);
  for (let g = 0; g < 8; g++) {
    const keys: number[] = [];
    for (let i = g * per; i < Math.min(n, (g + 1) * per); i++) keys.push(v4Key((0x40000000 + i * 64) >>> 0, 26));
    const attrs: PathAttributes = { origin: 0, asPath: [{ type: AS_SEQUENCE, asns: [65000 + g] }], nextHop: FEEDER, localPref: 100, med: g };
    announce.push(...packUpdates(attrs, 'ipv4-unicast', keys, CTX));
    withdraw.push(...packWithdrawUpdates('ipv4-unicast', keys, CTX));
  }
  return { announce, withdraw };
}

/** Counts announced and withdrawn IPv4 NLRI in a byte stream of BGP messages (RFC 4271 §4.3 layout). */
class NlriCounter {
  announced = 0;
  withdrawn = 0;
  private buf: Buffer = Buffer.alloc(0);
  onChange: () => void = () => {};

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let p = 0;
    while (this.buf.length - p >= 19) {
      const len = this.buf.readUInt16BE(p + 16);
      if (this.buf.length - p < len) break;
      if (this.buf[p + 18] === 2) {
        const wl = this.buf.readUInt16BE(p + 19);
        this.withdrawn += countPrefixes(this.buf, p + 21, p + 21 + wl);
        const al = this.buf.readUInt16BE(p + 21 + wl);
        this.announced += countPrefixes(this.buf, p + 23 + wl + al, p + len);
      }
      p += len;
    }
    this.buf = this.buf.subarray(p);
    this.onChange();
  }

  until(cond: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.onChange = () => cond() && resolve();
      this.onChange();
    });
  }
}

function countPrefixes(b: Buffer, from: number, to: number): number {
  let n = 0;
  for (let p = from; p < to; p += 1 + ((b[p]! + 7) >> 3)) n++;
  return n;
}

/** A raw BGP speaker: OPEN, KEEPALIVE, then whatever it is told to write; keepalives every 10 s. */
async function speaker(local: string, port: number, routerId: string, onData?: (c: Buffer) => void): Promise<Socket> {
  const s = connect({ host: RR, port, localAddress: local });
  await once(s, 'connect');
  s.setNoDelay(true);
  const open = encodeMessage(
    { type: 'open', version: 4, myAs: AS, holdTime: 90, bgpId: v4Parse(routerId)!, capabilities: [{ kind: 'multiprotocol', code: 1, afi: 1, safi: 1 }, { kind: 'four-octet-as', code: 65, asn: AS }] },
    DEFAULT_CODEC_CONTEXT,
  );
  const keepalive = encodeMessage({ type: 'keepalive' }, DEFAULT_CODEC_CONTEXT);
  s.write(open);
  s.write(keepalive);
  const timer = setInterval(() => s.write(keepalive), 10_000);
  s.on('close', () => clearInterval(timer));
  s.on('error', () => {});
  s.on('data', onData ?? (() => {}));
  return s;
}

async function writeAll(s: Socket, bufs: readonly Buffer[]): Promise<void> {
  for (const b of bufs) if (!s.write(b)) await once(s, 'drain');
}

async function ceiling(bufs: readonly Buffer[], n: number): Promise<number> {
  const counter = new NlriCounter();
  const server = createServer((c) => c.on('data', (d: Buffer) => counter.push(d)));
  server.listen(0, RECEIVER);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const s = connect({ host: RECEIVER, port, localAddress: FEEDER });
  await once(s, 'connect');
  const t0 = performance.now();
  await writeAll(s, bufs);
  await counter.until(() => counter.announced >= n);
  const secs = (performance.now() - t0) / 1000;
  s.destroy();
  server.close();
  return secs;
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** One field (kB) of /proc/<pid>/status, in bytes. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Scrapes the daemon's /metrics: the longest event-loop delay since the previous scrape, ms. */
async function eventLoopDelayMs(api: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const m = /^nodejs_eventloop_delay_max_seconds (\S+)$/m.exec(text);
  return m ? Math.round(Number(m[1]) * 1e4) / 10 : NaN;
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // not yet (API not listening)
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface RunningDaemon {
  readonly pid: number;
  readonly bgpPort: number;
  readonly output: () => string;
  /** Both clients' sessions are Established. */
  established(): Promise<boolean>;
  /** The longest event-loop delay since the previous call, ms (NaN for BIRD). */
  eventLoopDelayMs(): Promise<number>;
  stop(): Promise<void>;
}

async function spawnDaemon(): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-ts-bench-'));
  const bgpPort = await freePort(RR);
  const apiPort = await freePort(RR);
  const config = join(dir, 'bgp-ts.yaml');
  writeFileSync(
    config,
    `routerId: 10.0.0.71
asn: ${AS}
listen: { addresses: ["${RR}"], port: ${bgpPort} }
api: { listen: "${RR}:${apiPort}" }
fib: { enabled: false }
log: { level: warn }
neighbors:
  - { address: ${FEEDER}, asn: ${AS}, passive: true, routeReflectorClient: true }
  - { address: ${RECEIVER}, asn: ${AS}, passive: true, routeReflectorClient: true }
`,
  );
  const flags = daemonNodeFlags();
  const child = spawn(process.execPath, [...flags, CLI, 'daemon', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  if (process.env.BENCH_DAEMON_STDOUT) child.stdout!.pipe(process.stderr);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit');
  const api = `http://${RR}:${apiPort}`;
  await waitFor('the daemon API', async () => (await fetch(`${api}/healthz`)).ok);
  return {
    pid: child.pid!,
    bgpPort,
    output: () => out,
    established: async () => {
      const { peers } = (await (await fetch(`${api}/api/v1/peers`)).json()) as { peers: { state: string }[] };
      return peers.length === 2 && peers.every((p) => p.state === 'Established');
    },
    eventLoopDelayMs: () => eventLoopDelayMs(api),
    stop: async () => {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000); // a daemon stuck in a loop ignores SIGTERM
      await exited;
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** BIRD 2 as the same reflector: both clients passive `rr client`s, strict-bound to RR on a port of its own. */
async function spawnBird(): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-ts-bench-bird-'));
  const bgpPort = await freePort(RR);
  const client = (name: string, address: string): string => `protocol bgp ${name} from rrc { neighbor ${address} as ${AS}; }`;
  let bird;
  try {
    bird = await startBirdDaemon(
      undefined,
      dir,
      `router id 10.0.0.71;
log stderr { warning, error, fatal };
ipv4 table igp4;
protocol device { scan time 60; }
protocol static loopback { ipv4 { table igp4; }; route 127.0.0.0/8 via "lo"; }
template bgp rrc {
  local ${RR} port ${bgpPort} as ${AS};
  strict bind yes;
  passive yes;
  hold time 90;
  rr client;
  rr cluster id 10.0.0.71;
  ipv4 { import all; export all; igp table igp4; };
}
${client('feeder', FEEDER)}
${client('receiver', RECEIVER)}
`,
    );
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const b = bird;
  return {
    pid: b.pid,
    bgpPort,
    output: () => b.proc.tail(),
    established: async () => (await b.birdc('show', 'protocols')).split('\n').filter((l) => /^(feeder|receiver)\s.*Established/.test(l)).length === 2,
    eventLoopDelayMs: async () => NaN,
    stop: async () => {
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function phase(n: number, t0: number, tLastSent: number, delayMs: number, cpu: number): PhaseResult {
  const now = performance.now();
  const seconds = (now - t0) / 1000;
  return { seconds, afterLastSentSeconds: (now - tLastSent) / 1000, perSecond: Math.round(n / seconds), maxEventLoopDelayMs: delayMs, cpuSeconds: Math.round(cpu * 100) / 100 };
}

export async function reflectOnce(dut: ReflectDut, n: number, bufs: { announce: Buffer[]; withdraw: Buffer[] } = feed(n)): Promise<ReflectResult> {
  const { announce, withdraw } = bufs;
  const d = dut === 'bgp-ts' ? await spawnDaemon() : await spawnBird();
  try {
    const counter = new NlriCounter();
    const receiver = await speaker(RECEIVER, d.bgpPort, '10.0.0.73', (c) => counter.push(c));
    const feeder = await speaker(FEEDER, d.bgpPort, '10.0.0.72');
    await waitFor('both sessions Established', () => d.established());
    await new Promise((r) => setTimeout(r, 300)); // let start-up garbage settle
    const baseline = procStatus(d.pid, 'VmRSS');
    await d.eventLoopDelayMs(); // opens the measurement window
    let cpu0 = procCpuSeconds(d.pid);
    const t0 = performance.now();
    await writeAll(feeder, announce);
    const t0Last = performance.now();
    await counter.until(() => counter.announced >= n);
    const announced = phase(n, t0, t0Last, NaN, procCpuSeconds(d.pid) - cpu0);
    const hwm = procStatus(d.pid, 'VmHWM');
    const announceDelay = await d.eventLoopDelayMs();
    cpu0 = procCpuSeconds(d.pid);
    const t1 = performance.now();
    await writeAll(feeder, withdraw);
    const t1Last = performance.now();
    await counter.until(() => counter.withdrawn >= n);
    const withdrawn = phase(n, t1, t1Last, NaN, procCpuSeconds(d.pid) - cpu0);
    const withdrawDelay = await d.eventLoopDelayMs();
    const peak = procStatus(d.pid, 'VmHWM');
    feeder.destroy();
    receiver.destroy();
    return {
      dut,
      n,
      announce: { ...announced, maxEventLoopDelayMs: announceDelay },
      withdraw: { ...withdrawn, maxEventLoopDelayMs: withdrawDelay },
      baselineRssMb: Math.round(baseline / 1e6),
      peakRssMb: Math.round(peak / 1e6),
      rssBytesPerRoute: Math.round((hwm - baseline) / n),
    };
  } catch (err) {
    console.error(d.output());
    throw err;
  } finally {
    await d.stop();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** "median (min–max)" of a figure over the runs. */
const spread = (xs: readonly number[], digits: number): string =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

/** Per N: BENCH_RUNS (default 3) runs, each bgp-ts then BIRD on the same feeder bytes; medians, ranges, ratios. */
export async function runReflectBench(sizes: readonly number[] = [10_000, 100_000, 1_000_000], runs = Number(process.env.BENCH_RUNS ?? 3)): Promise<ReflectResult[]> {
  const out: ReflectResult[] = [];
  const duts: ReflectDut[] = (process.env.REFLECT_DUTS ?? 'bgp-ts,bird').split(',') as ReflectDut[];
  for (const n of sizes) {
    const bufs = feed(n);
    const ceilings: number[] = [];
    const by: Record<ReflectDut, ReflectResult[]> = { 'bgp-ts': [], bird: [] };
    for (let run = 0; run < runs; run++) {
      for (const dut of duts) {
        const load = loadavg()[0]!.toFixed(2);
        const r = await reflectOnce(dut, n, bufs);
        out.push(r);
        by[dut].push(r);
        const p = (x: PhaseResult) =>
          `${x.seconds.toFixed(3)} s (after last sent ${x.afterLastSentSeconds.toFixed(3)} s, ${x.perSecond}/s, cpu ${x.cpuSeconds} s, max event-loop delay ${x.maxEventLoopDelayMs} ms)`;
        console.log(
          `reflect ${dut} N=${n} run ${run + 1}/${runs} (load ${load}): announce ${p(r.announce)}, withdraw ${p(r.withdraw)}, ` +
            `RSS ${r.baselineRssMb} MB before, peak ${r.peakRssMb} MB, ${r.rssBytesPerRoute} B/route`,
        );
      }
      ceilings.push(await ceiling(bufs.announce, n));
    }
    const line = (dut: ReflectDut): string => {
      const rs = by[dut];
      return (
        `  ${dut.padEnd(6)} announce ${spread(rs.map((r) => r.announce.seconds), 3)} s, after last sent ${spread(rs.map((r) => r.announce.afterLastSentSeconds), 3)} s, cpu ${spread(rs.map((r) => r.announce.cpuSeconds), 2)} s; ` +
        `withdraw ${spread(rs.map((r) => r.withdraw.seconds), 3)} s, after last sent ${spread(rs.map((r) => r.withdraw.afterLastSentSeconds), 3)} s, cpu ${spread(rs.map((r) => r.withdraw.cpuSeconds), 2)} s; ` +
        `peak RSS ${spread(rs.map((r) => r.peakRssMb), 0)} MB, ${spread(rs.map((r) => r.rssBytesPerRoute), 0)} B/route`
      );
    };
    console.log(`reflect N=${n}, ${runs} runs, median (min–max), load now ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ceiling (no reflector) ${spread(ceilings, 4)} s`);
    for (const dut of duts) console.log(line(dut));
    if (by['bgp-ts'].length > 0 && by.bird.length > 0) {
      // The ratio of the medians, and the range of the per-run ratios (same run, same load).
      const ratio = (f: (r: ReflectResult) => number): string => {
        // BIRD's CPU under one clock tick (10 ms) reads 0: no ratio then.
        if (median(by.bird.map(f)) === 0) return 'n/a (BIRD < 10 ms)';
        const per = by['bgp-ts'].map((r, i) => f(r) / f(by.bird[i]!)).filter(Number.isFinite);
        return `${(median(by['bgp-ts'].map(f)) / median(by.bird.map(f))).toFixed(2)}× (per run ${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)})`;
      };
      console.log(
        `  bgp-ts/BIRD: announce ${ratio((r) => r.announce.seconds)}, after last sent ${ratio((r) => r.announce.afterLastSentSeconds)}, cpu ${ratio((r) => r.announce.cpuSeconds)}; ` +
          `withdraw ${ratio((r) => r.withdraw.seconds)}, after last sent ${ratio((r) => r.withdraw.afterLastSentSeconds)}, cpu ${ratio((r) => r.withdraw.cpuSeconds)}`,
      );
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  await runReflectBench(sizes.length > 0 ? sizes : undefined);
}
