// End-to-end reflection benchmark over loopback: a feeder (a minimal raw BGP
// speaker built on our codec that blasts pre-encoded UPDATEs) announces N IPv4
// /26 prefixes with 8 attribute sets as an iBGP route-reflector client; bgp-ts
// (startDaemon, in this process) reflects them (RFC 4456) to a receiver client
// that counts NLRI by walking the UPDATE fields, without a full decode. Then
// the feeder withdraws everything. Reported per N: time to full convergence,
// prefixes/s, peak RSS, heap bytes per route (RIB side), max event-loop delay
// and the daemon's longest RIB slice; plus the ceiling: the same bytes from
// feeder to receiver with no bgp-ts between them. Feeder and receiver run in
// this process too, so RSS and event-loop delay include their share.

import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { encodeMessage } from '../src/bgp/wire/message.js';
import { AS_SEQUENCE, DEFAULT_CODEC_CONTEXT, type CodecContext, type PathAttributes } from '../src/bgp/wire/types.js';
import { parseConfig } from '../src/config/load.js';
import { startDaemon } from '../src/daemon.js';
import { v4Key, v4Parse } from '../src/lib/prefix.js';
import { packUpdates, packWithdrawUpdates } from '../src/rib/update-packer.js';

const AS = 64512;
const RR = '127.0.0.71';
const FEEDER = '127.0.0.72';
const RECEIVER = '127.0.0.73';
const CTX: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };

export interface ReflectResult {
  readonly n: number;
  readonly announceSeconds: number;
  readonly announcePerSecond: number;
  readonly withdrawSeconds: number;
  readonly withdrawPerSecond: number;
  readonly peakRssMb: number;
  readonly heapBytesPerRoute: number;
  readonly maxEventLoopDelayMs: number;
  readonly maxRibSliceMs: number;
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
  if (onData) s.on('data', onData);
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

export async function reflectOnce(n: number): Promise<ReflectResult> {
  const { announce, withdraw } = feed(n);
  const cfg = parseConfig(`
routerId: 10.0.0.71
asn: ${AS}
listen: { addresses: ["${RR}"], port: 0 }
api: { listen: none }
fib: { enabled: false }
log: { level: silent }
neighbors:
  - { address: ${FEEDER}, asn: ${AS}, passive: true, routeReflectorClient: true }
  - { address: ${RECEIVER}, asn: ${AS}, passive: true, routeReflectorClient: true }
`);
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const daemon = await startDaemon(cfg.config, { logger: pino({ level: 'silent' }) });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let peakRss = 0;
  const rss = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    const counter = new NlriCounter();
    await speaker(RECEIVER, daemon.listenPort!, '10.0.0.73', (c) => counter.push(c));
    const feeder = await speaker(FEEDER, daemon.listenPort!, '10.0.0.72');
    const up = () => daemon.sessions().every((s) => s.state === 'Established');
    while (!up()) await new Promise((r) => setTimeout(r, 5));
    delay.enable();
    const t0 = performance.now();
    await writeAll(feeder, announce);
    await counter.until(() => counter.announced >= n);
    const announceSeconds = (performance.now() - t0) / 1000;
    gc?.();
    const heapBytesPerRoute = (process.memoryUsage().heapUsed - heap0) / n;
    const t1 = performance.now();
    await writeAll(feeder, withdraw);
    await counter.until(() => counter.withdrawn >= n);
    const withdrawSeconds = (performance.now() - t1) / 1000;
    delay.disable();
    const maxRibSliceMs = daemon.driver.stats().maxSliceMs;
    feeder.destroy();
    return {
      n,
      announceSeconds,
      announcePerSecond: Math.round(n / announceSeconds),
      withdrawSeconds,
      withdrawPerSecond: Math.round(n / withdrawSeconds),
      peakRssMb: Math.round(peakRss / 1e6),
      heapBytesPerRoute: Math.round(heapBytesPerRoute),
      maxEventLoopDelayMs: Math.round(delay.max / 1e5) / 10,
      maxRibSliceMs: Math.round(maxRibSliceMs * 10) / 10,
      ceilingSeconds: await ceiling(announce, n),
    };
  } finally {
    clearInterval(rss);
    await daemon.stop();
  }
}

export async function runReflectBench(sizes: readonly number[] = [10_000, 100_000, 1_000_000]): Promise<ReflectResult[]> {
  const out: ReflectResult[] = [];
  for (const n of sizes) {
    const r = await reflectOnce(n);
    out.push(r);
    console.log(
      `reflect N=${n}: announce ${r.announceSeconds.toFixed(2)} s (${r.announcePerSecond}/s), withdraw ${r.withdrawSeconds.toFixed(2)} s (${r.withdrawPerSecond}/s), ` +
        `peak RSS ${r.peakRssMb} MB, heap ${r.heapBytesPerRoute} B/route, max event-loop delay ${r.maxEventLoopDelayMs} ms, max RIB slice ${r.maxRibSliceMs} ms, ` +
        `ceiling (no bgp-ts) ${r.ceilingSeconds.toFixed(3)} s`,
    );
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  await runReflectBench(sizes.length > 0 ? sizes : undefined);
}
