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
//
// The daemon runs from the same build as this file (build/bench/src/cli.js,
// i.e. the code of dist/cli.js); BGP_TS_CLI overrides it, BGP_TS_NODE_FLAGS
// adds node flags (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or
// "--trace-gc" with BENCH_DAEMON_STDOUT=1 to see the daemon's output).

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeMessage } from '../src/bgp/wire/message.js';
import { AS_SEQUENCE, DEFAULT_CODEC_CONTEXT, type CodecContext, type PathAttributes } from '../src/bgp/wire/types.js';
import { v4Key, v4Parse } from '../src/lib/prefix.js';
import { packUpdates, packWithdrawUpdates } from '../src/rib/update-packer.js';

const AS = 64512;
const RR = '127.0.0.71';
const FEEDER = '127.0.0.72';
const RECEIVER = '127.0.0.73';
const CTX: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
const CLI = process.env.BGP_TS_CLI ?? fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface PhaseResult {
  readonly seconds: number;
  readonly perSecond: number;
  /** The daemon's longest event-loop delay during the phase, ms. */
  readonly maxEventLoopDelayMs: number;
  /** The daemon's CPU time (user + system) during the phase, s. */
  readonly cpuSeconds: number;
}

export interface ReflectResult {
  readonly n: number;
  readonly announce: PhaseResult;
  readonly withdraw: PhaseResult;
  /** The daemon's RSS with both sessions up, before the feed, MB. */
  readonly baselineRssMb: number;
  /** The daemon's peak RSS (VmHWM), MB. */
  readonly peakRssMb: number;
  /** (VmHWM after the announcements − baseline RSS) / N. */
  readonly rssBytesPerRoute: number;
  /** Feeder → receiver with nothing between: announce time for the same bytes. */
  readonly ceilingSeconds: number;
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

/** User + system CPU seconds of a process (/proc/<pid>/stat fields 14, 15; 100 ticks/s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
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
  readonly child: ChildProcess;
  readonly pid: number;
  readonly api: string;
  readonly bgpPort: number;
  readonly output: () => string;
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
  const flags = (process.env.BGP_TS_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
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
    child,
    pid: child.pid!,
    api,
    bgpPort,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000); // a daemon stuck in a loop ignores SIGTERM
      await exited;
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function phase(n: number, t0: number, delayMs: number, cpu: number): PhaseResult {
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, perSecond: Math.round(n / seconds), maxEventLoopDelayMs: delayMs, cpuSeconds: Math.round(cpu * 100) / 100 };
}

export async function reflectOnce(n: number): Promise<ReflectResult> {
  const { announce, withdraw } = feed(n);
  const d = await spawnDaemon();
  try {
    const counter = new NlriCounter();
    const receiver = await speaker(RECEIVER, d.bgpPort, '10.0.0.73', (c) => counter.push(c));
    const feeder = await speaker(FEEDER, d.bgpPort, '10.0.0.72');
    await waitFor('both sessions Established', async () => {
      const { peers } = (await (await fetch(`${d.api}/api/v1/peers`)).json()) as { peers: { state: string }[] };
      return peers.length === 2 && peers.every((p) => p.state === 'Established');
    });
    await new Promise((r) => setTimeout(r, 300)); // let start-up garbage settle
    const baseline = procStatus(d.pid, 'VmRSS');
    await eventLoopDelayMs(d.api); // opens the measurement window
    let cpu0 = cpuSeconds(d.pid);
    const t0 = performance.now();
    await writeAll(feeder, announce);
    await counter.until(() => counter.announced >= n);
    const announced = phase(n, t0, NaN, cpuSeconds(d.pid) - cpu0);
    const hwm = procStatus(d.pid, 'VmHWM');
    const announceDelay = await eventLoopDelayMs(d.api);
    cpu0 = cpuSeconds(d.pid);
    const t1 = performance.now();
    await writeAll(feeder, withdraw);
    await counter.until(() => counter.withdrawn >= n);
    const withdrawn = phase(n, t1, NaN, cpuSeconds(d.pid) - cpu0);
    const withdrawDelay = await eventLoopDelayMs(d.api);
    const peak = procStatus(d.pid, 'VmHWM');
    feeder.destroy();
    receiver.destroy();
    return {
      n,
      announce: { ...announced, maxEventLoopDelayMs: announceDelay },
      withdraw: { ...withdrawn, maxEventLoopDelayMs: withdrawDelay },
      baselineRssMb: Math.round(baseline / 1e6),
      peakRssMb: Math.round(peak / 1e6),
      rssBytesPerRoute: Math.round((hwm - baseline) / n),
      ceilingSeconds: await ceiling(announce, n),
    };
  } catch (err) {
    console.error(d.output());
    throw err;
  } finally {
    await d.stop();
  }
}

export async function runReflectBench(sizes: readonly number[] = [10_000, 100_000, 1_000_000]): Promise<ReflectResult[]> {
  const out: ReflectResult[] = [];
  for (const n of sizes) {
    const r = await reflectOnce(n);
    out.push(r);
    const p = (x: PhaseResult) => `${x.seconds.toFixed(2)} s (${x.perSecond}/s, cpu ${x.cpuSeconds} s, max event-loop delay ${x.maxEventLoopDelayMs} ms)`;
    console.log(
      `reflect N=${n}: announce ${p(r.announce)}, withdraw ${p(r.withdraw)}, ` +
        `daemon RSS ${r.baselineRssMb} MB before, peak ${r.peakRssMb} MB, ${r.rssBytesPerRoute} B/route; ceiling (no bgp-ts) ${r.ceilingSeconds.toFixed(3)} s`,
    );
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  await runReflectBench(sizes.length > 0 ? sizes : undefined);
}
