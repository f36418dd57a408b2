// BFD under load (DESIGN.md, BFD: "its timers must hold while the RIB ingests
// a million routes"). bgp-ts runs as a child process in one namespace with 50
// BFD sessions at 300 ms x 3 toward a second bgp-ts BFD engine per address
// 10.0.1.1-50 in another namespace (bench/lib/bfd-responder.ts: FRR 8.4's
// bfdd answered only one of 50 static peers sharing one peer address), and one
// BGP neighbor, the benchmark feeder (bench/lib/bgp-feeder.ts), which sends
// 1M /26 prefixes while the sessions run. Reported: false Downs (Up -> Down
// transitions seen by bgp-ts, and by the responder; goal 0), the
// worst gap between two periodic packets bgp-ts sent while Up (goal: under the
// negotiated 300 ms interval), the time the daemon took to hold all routes,
// and the same with the BFD engine on the main event loop
// (BGPTS_BFD_INLINE=1), the comparison that chose the worker thread.
// Needs root; the daemon runs from the bench build (build/bench/src/cli.js).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { teardown } from './lib/teardown.js';

const CLI = process.env.BGP_TS_CLI ?? fileURLToPath(new URL('../src/cli.js', import.meta.url));
const FEEDER = fileURLToPath(new URL('./lib/bgp-feeder.js', import.meta.url));
const RESPONDER = fileURLToPath(new URL('./lib/bfd-responder.js', import.meta.url));
const SESSIONS = 50;

export interface BfdLoadFigure {
  readonly mode: 'worker' | 'inline';
  readonly sessions: number;
  readonly routes: number;
  readonly ingestMs: number;
  readonly falseDownsOurs: number;
  readonly falseDownsPeer: number;
  readonly worstTxGapMs: number;
  readonly sessionsUpAfter: number;
}

interface BfdList {
  sessions: { peer: string; state: string; flaps: number; maxTxGapMs: number; txIntervalMs: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runBfdLoadBench(mode: 'worker' | 'inline', routes = 1_000_000): Promise<BfdLoadFigure> {
  const tag = `${process.pid}-${randomBytes(2).toString('hex')}`;
  const dutNs = `bgpts-bfdb-dut-${tag}`;
  const peerNs = `bgpts-bfdb-peer-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'bgpts-bfdb-'));
  const children: ChildProcess[] = [];
  const inNs = (ns: string, ...a: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...a], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let logFile: string | undefined;
  try {
    for (const ns of [dutNs, peerNs]) execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['link', 'add', 'eth0', 'netns', dutNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs]);
    for (const ns of [dutNs, peerNs]) {
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    }
    inNs(dutNs, 'ip', 'addr', 'add', '10.0.0.1/16', 'dev', 'eth0');
    inNs(peerNs, 'ip', 'addr', 'add', '10.0.0.2/16', 'dev', 'eth0');
    for (let i = 1; i <= SESSIONS; i++) inNs(peerNs, 'ip', 'addr', 'add', `10.0.1.${i}/16`, 'dev', 'eth0');

    // The far side: a second bgp-ts BFD engine per address (bench/lib/bfd-responder.ts), in its own process.
    const peers = Array.from({ length: SESSIONS }, (_, k) => `10.0.1.${k + 1}`);
    const responder = spawn('ip', ['netns', 'exec', peerNs, process.execPath, RESPONDER, '10.0.0.1', '300', '3', ...peers], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(responder);
    const rlines = createInterface({ input: responder.stdout! })[Symbol.asyncIterator]();
    const responderDowns = async (): Promise<number> => {
      responder.stdin!.write('report\n');
      for (;;) {
        const r = await rlines.next();
        if (r.done) throw new Error('the responder exited');
        const o = JSON.parse(r.value) as { downs?: number };
        if (o.downs !== undefined) return o.downs;
      }
    };

    // bgp-ts: the feeder's neighbor plus 50 passive neighbors that only run BFD (RFC 5882: BGP need not be up).
    const config = join(dir, 'bgp-ts.yaml');
    writeFileSync(
      config,
      [
        'routerId: 10.0.0.1',
        'asn: 64512',
        'listen: { addresses: ["10.0.0.1"], port: 179 }',
        'bfd: { minRx: 300, minTx: 300, multiplier: 3 }',
        'fib: { enabled: false }',
        'api: { listen: "127.0.0.1:9179" }',
        'log: { level: warn }',
        'neighbors:',
        '  - { address: 10.0.0.2, asn: 64512, passive: true }',
        ...peers.map((p) => `  - { address: ${p}, asn: 65010, passive: true, localAddress: 10.0.0.1, bfd: {} }`),
        '',
      ].join('\n'),
    );
    logFile = join(dir, 'daemon.log');
    const env = `${mode === 'inline' ? 'BGPTS_BFD_INLINE=1 ' : ''}`;
    const daemon = spawn('sh', ['-c', `exec ip netns exec ${dutNs} env ${env}${process.execPath} ${CLI} daemon --config ${config} >${logFile} 2>&1`], { stdio: 'ignore' });
    children.push(daemon);
    const api = (path: string): string => inNs(dutNs, 'curl', '-s', '--max-time', '10', `http://127.0.0.1:9179${path}`);
    const bfdList = (): BfdList => JSON.parse(api('/api/v1/bfd')) as BfdList;
    // All 50 Up (and their Poll to 300 ms done).
    let states = '';
    for (let t = 0; ; t++) {
      await sleep(500);
      try {
        const l = bfdList();
        states = JSON.stringify(l.sessions.map((s) => `${s.peer}:${s.state}:${s.txIntervalMs}`));
        if (l.sessions.length === SESSIONS && l.sessions.every((s) => s.state === 'Up' && s.txIntervalMs === 300)) break;
      } catch {
        // the API is not up yet
      }
      if (t > 120) throw new Error(`BFD sessions did not all come Up within 60 s: ${states.slice(0, 500)}`);
    }
    await sleep(2_000);
    const before = bfdList();
    const flaps0 = before.sessions.reduce((a, s) => a + s.flaps, 0);
    const peer0 = await responderDowns();

    const feeder = spawn('ip', ['netns', 'exec', peerNs, process.execPath, FEEDER, '10.0.0.2', '10.0.0.1', '179', '64512', '10.0.0.2'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(feeder);
    const lines = createInterface({ input: feeder.stdout! })[Symbol.asyncIterator]();
    const next = async (): Promise<Record<string, number>> => {
      const r = await lines.next();
      if (r.done) throw new Error('the feeder exited');
      return JSON.parse(r.value) as Record<string, number>;
    };
    await next(); // session up
    const t0 = performance.now();
    feeder.stdin!.write(`${JSON.stringify({ cmd: 'bulk', first: 0, n: routes })}\n`);
    await next();
    // Held by the daemon: the peer's received count in the API.
    for (let t = 0; ; t++) {
      await sleep(250);
      let received = 0;
      try {
        received = (JSON.parse(api('/api/v1/peers/10.0.0.2')) as { prefixes: { received: number } }).prefixes.received;
      } catch {
        // the API is busy: try again
      }
      if (received >= routes) break;
      if (t > 2400) throw new Error(`after 600 s the daemon holds ${received} of ${routes} routes`);
    }
    const ingestMs = performance.now() - t0;
    await sleep(3_000);
    const after = bfdList();
    const fig: BfdLoadFigure = {
      mode,
      sessions: SESSIONS,
      routes,
      ingestMs: Math.round(ingestMs),
      falseDownsOurs: after.sessions.reduce((a, s) => a + s.flaps, 0) - flaps0,
      falseDownsPeer: (await responderDowns()) - peer0,
      worstTxGapMs: Math.round(Math.max(...after.sessions.map((s) => s.maxTxGapMs)) * 10) / 10,
      sessionsUpAfter: after.sessions.filter((s) => s.state === 'Up').length,
    };
    console.log(
      `bfd-load mode=${mode} sessions=${SESSIONS} @300ms x3, N=${routes} routes ingested in ${fig.ingestMs} ms: ` +
        `false Downs seen by bgp-ts ${fig.falseDownsOurs}, by the peer ${fig.falseDownsPeer}; worst gap between our periodic packets ${fig.worstTxGapMs} ms; ${fig.sessionsUpAfter}/${SESSIONS} Up after`,
    );
    feeder.stdin!.write(`${JSON.stringify({ cmd: 'quit' })}\n`);
    responder.stdin!.write('quit\n');
    logFile = undefined;
    return fig;
  } finally {
    if (logFile && existsSync(logFile)) console.log(`daemon log:\n${readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n')}`);
    await teardown(children, [dutNs, peerNs], dir);
  }
}

/** Why the benchmark cannot run here, or undefined. */
export function bfdBenchSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  return undefined;
}

/** Worker thread (the daemon's choice) first, then the engine on the main loop for comparison. BFD_BENCH_ROUTES overrides N. */
export async function runBfdBenches(): Promise<void> {
  const skip = bfdBenchSkipReason();
  if (skip) return void console.log(`bfd: skipped (${skip})`);
  const n = Number(process.env['BFD_BENCH_ROUTES'] ?? 1_000_000);
  await runBfdLoadBench('worker', n);
  await runBfdLoadBench('inline', n);
}
