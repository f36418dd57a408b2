// Route-reflector fan-out benchmark (RFC 4456; issue 9), root only. One
// reflector, C iBGP route-reflector clients from one listen range, each
// announcing K /26 blocks in ONE UPDATE with its own next hop; bgp-ts and then
// BIRD 2 as the reflector, same C, K and clients, alternating run by run.
//
// Two network namespaces of the interop harness joined by a veth: the DUT's
// (10.0.0.1, a route to the client range via the other end) and the clients'
// (10.0.0.2 plus C /32s from 10.1.0.0/16 on the same veth end, added with
// `ip -batch`). The clients are one child process of our own
// (bench/lib/fanout-clients.ts): it opens the sessions a window at a time,
// answers keepalives, counts what it receives without a full decode, checks
// every client ends with exactly the others' C·K − K blocks (right NEXT_HOP
// and ORIGINATOR_ID, none of its own) and reports its own CPU, so it can be
// shown not to be the bottleneck.
//
// Per run: time until all C sessions are Established; time from the last
// client's announcement to every client complete; time from the last
// withdrawal to every client empty; per phase the DUT's CPU seconds
// (/proc/PID/stat), write syscalls (/proc/PID/io), peak RSS (VmHWM), for
// bgp-ts its event-loop delay (max, p99, from /metrics); UPDATEs and bytes
// every client received (total, per client, and how many originators' K
// blocks arrived whole in one UPDATE); sessions lost; clients wrong or
// incomplete. Printed per C as median [min–max] over R runs with the ratio
// of the medians bgp-ts/BIRD.
//
// Environment: FANOUT_C=50,200 (list), FANOUT_K=4, BENCH_RUNS=3,
// FANOUT_DUTS=bgp-ts,bird, FANOUT_WINDOW=8 (sessions being opened at once),
// FANOUT_HOLD=240 (s), FANOUT_TIMEOUT=600 (s per phase), FANOUT_JSON=FILE
// (every run's figures as JSON), FANOUT_VERBOSE=1 (the generator's progress
// every 2 s on stderr). BGP_TS_CLI and BGP_TS_NODE_FLAGS as in
// bench/reflect.ts.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run, sleep } from '../test/interop/harness/exec.js';
import { Topology } from '../test/interop/harness/netns.js';
import { registerCleanup } from '../test/interop/harness/processes.js';
import type { GeneratorParams, PhaseSummary } from './lib/fanout-clients.js';
import { DUT_LABEL, startDut, type DutKind, type EventLoopDelay, type RunningDut } from './lib/fanout-duts.js';
import { table, type Row } from './lib/fanout-report.js';
import { CLIENT_RANGE, checkPlan, clientAddress, dotted, expectedHeld, type FanoutPlan } from './lib/fanout-tally.js';
import { sampleProc, type ProcSample } from './lib/proc-stats.js';

const GENERATOR = fileURLToPath(new URL('./lib/fanout-clients.js', import.meta.url));
const ASN = 64512;
const PHASES = ['establish', 'announce', 'withdraw'] as const;
type PhaseName = (typeof PHASES)[number];

export interface PhaseFigures {
  /** Establish: first connect -> last session Established; announce/withdraw: the last client's UPDATE sent -> every client done. */
  readonly seconds: number;
  readonly dutCpuSeconds: number;
  readonly dutWriteSyscalls: number;
  /** VmHWM at the end of the phase, MB. */
  readonly dutPeakRssMb: number;
  readonly eventLoop: EventLoopDelay | undefined;
  readonly generatorCpuSeconds: number;
  readonly generatorMaxDelayMs: number;
  /** What the clients received during the phase. */
  readonly received: PhaseSummary;
}

export interface FanoutRun {
  readonly dut: DutKind;
  readonly clients: number;
  readonly blocks: number;
  readonly run: number;
  /** undefined when every phase completed. */
  readonly error?: string;
  readonly phases: Partial<Record<PhaseName, PhaseFigures>>;
  /** Connection attempts repeated before Established (a full listen backlog). */
  readonly retries: number;
  /** The phase that failed, as far as it got: its seconds, the DUT's CPU and peak RSS until then. */
  readonly failedPhase?: { readonly name: PhaseName; readonly seconds: number; readonly dutCpuSeconds: number; readonly dutPeakRssMb: number };
  /** The host's 1-minute load average when the run started (the machine is shared). */
  readonly load: number;
}

interface Options {
  readonly clients: readonly number[];
  readonly blocks: number;
  readonly runs: number;
  readonly duts: readonly DutKind[];
  readonly window: number;
  readonly holdTime: number;
  readonly timeoutSeconds: number;
}

function intList(name: string, fallback: string): number[] {
  const text = process.env[name] ?? fallback;
  const v = text.split(',').map((x) => Number(x.trim().replace(/_/g, '')));
  if (v.some((x) => !Number.isInteger(x) || x <= 0)) throw new Error(`${name}=${text}: expected positive integers separated by commas`);
  return v;
}

function options(): Options {
  const duts = (process.env.FANOUT_DUTS ?? 'bgp-ts,bird').split(',').map((d) => d.trim());
  for (const d of duts) if (d !== 'bgp-ts' && d !== 'bird') throw new Error(`FANOUT_DUTS: unknown DUT ${d} (bgp-ts, bird)`);
  const [blocks] = intList('FANOUT_K', '4');
  const [runs] = intList('BENCH_RUNS', '3');
  const [window] = intList('FANOUT_WINDOW', '8');
  const [holdTime] = intList('FANOUT_HOLD', '240');
  const [timeoutSeconds] = intList('FANOUT_TIMEOUT', '600');
  const clients = intList('FANOUT_C', '50,200');
  for (const c of clients) checkPlan({ clients: c, blocks: blocks! });
  return { clients, blocks: blocks!, runs: runs!, duts: duts as DutKind[], window: window!, holdTime: holdTime!, timeoutSeconds: timeoutSeconds! };
}

/** The child generator in the clients' namespace, as a stream of JSON events. */
class Generator {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private readonly unregister: () => void;
  lastProgress = '';
  readonly exited: Promise<void>;

  constructor(ns: string, params: GeneratorParams) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, GENERATOR, JSON.stringify(params)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const pid = this.child.pid!;
    this.unregister = registerCleanup(() => process.kill(pid, 'SIGKILL')); // `ip netns exec` execs: the PID is the generator's
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    this.child.stdin!.on('error', () => undefined); // EPIPE when it already died: next() reports that
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  send(cmd: string): void {
    this.child.stdin!.write(`${JSON.stringify({ cmd })}\n`);
  }

  /** The next event other than progress; rejects after `timeoutMs` (naming the last progress) or when the generator exits. */
  async next(timeoutMs: number): Promise<Record<string, unknown>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s; last progress ${this.lastProgress}`)), timeoutMs);
    });
    try {
      for (;;) {
        const r = await Promise.race([this.lines.next(), timeout]);
        if (r.done) throw new Error(`the client generator exited; last progress ${this.lastProgress}`);
        const e = JSON.parse(r.value) as Record<string, unknown>;
        if (e.event === 'progress') {
          this.lastProgress = r.value;
          if (process.env.FANOUT_VERBOSE) console.error(`  progress ${r.value}`);
        }
        else if (e.event === 'error') throw new Error(`client generator: ${String(e.message)}`);
        else return e;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.send('quit');
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(kill);
    }
    this.unregister();
  }
}

/** One DUT, one run: start it, the clients connect, announce, withdraw; figures per phase. */
async function fanoutOnce(kind: DutKind, topo: Topology, plan: FanoutPlan, opts: Options, runIndex: number): Promise<FanoutRun> {
  const dutNode = topo.node('dut');
  const load = Math.round(loadavg()[0]! * 100) / 100;
  const dir = mkdtempSync(join(topo.dir, `${kind}-`));
  let dut: RunningDut;
  try {
    dut = await startDut(kind, { ns: dutNode.ns, dir, address: dutNode.ipv4, gateway: topo.node('clients').ipv4, asn: ASN, holdTime: opts.holdTime });
  } catch (err) {
    console.error(`fanout ${DUT_LABEL[kind]} C=${plan.clients} run ${runIndex + 1}: did not start: ${(err as Error).message}`);
    return { dut: kind, clients: plan.clients, blocks: plan.blocks, run: runIndex, error: `did not start: ${(err as Error).message}`, phases: {}, retries: 0, load };
  }
  const gen = new Generator(topo.node('clients').ns, { ...plan, dut: dutNode.ipv4, port: dut.port, asn: ASN, holdTime: opts.holdTime, window: opts.window });
  const phases: Partial<Record<PhaseName, PhaseFigures>> = {};
  let retries = 0;
  let current: { name: PhaseName; before: ProcSample; t0: number } | undefined;
  const timeoutMs = opts.timeoutSeconds * 1000;
  try {
    await gen.next(60_000); // ready
    await dut.eventLoopDelay(); // opens bgp-ts's event-loop window
    for (const name of PHASES) {
      const before: ProcSample = sampleProc(dut.pid);
      current = { name, before, t0: performance.now() };
      gen.send(name === 'establish' ? 'connect' : name);
      const e = await gen.next(timeoutMs);
      const seconds = name === 'establish' ? (Number(e.lastEstablished) - Number(e.firstConnect)) / 1000 : (Number(e.doneAt) - Number(e.lastSent)) / 1000;
      if (name === 'establish') retries = Number(e.retries);
      await sleep(1000); // late duplicates and the DUT's tail of work belong to this phase
      const after = sampleProc(dut.pid);
      const eventLoop = await dut.eventLoopDelay();
      gen.send('stats');
      const received = (await gen.next(60_000)) as unknown as PhaseSummary & { genCpuSeconds: number; genMaxDelayMs: number };
      phases[name] = {
        seconds,
        dutCpuSeconds: Math.round((after.cpuSeconds - before.cpuSeconds) * 100) / 100,
        dutWriteSyscalls: after.writeSyscalls - before.writeSyscalls,
        dutPeakRssMb: Math.round(after.hwmBytes / 1e5) / 10,
        eventLoop,
        generatorCpuSeconds: Math.round((Number(e.genCpuSeconds) + received.genCpuSeconds) * 100) / 100,
        generatorMaxDelayMs: Math.round(Math.max(Number(e.genMaxDelayMs), received.genMaxDelayMs) * 10) / 10,
        received,
      };
    }
    return { dut: kind, clients: plan.clients, blocks: plan.blocks, run: runIndex, phases, retries, load };
  } catch (err) {
    const msg = (err as Error).message;
    let failedPhase: FanoutRun['failedPhase'];
    try {
      if (current) {
        const now = sampleProc(dut.pid);
        const seconds = Math.round((performance.now() - current.t0) / 100) / 10;
        failedPhase = { name: current.name, seconds, dutCpuSeconds: Math.round((now.cpuSeconds - current.before.cpuSeconds) * 100) / 100, dutPeakRssMb: Math.round(now.hwmBytes / 1e5) / 10 };
      }
    } catch {
      // the DUT is gone (crashed): nothing to sample
    }
    console.error(`fanout ${DUT_LABEL[kind]} C=${plan.clients} K=${plan.blocks} run ${runIndex + 1}: ${msg}\n${dut.tail()}`);
    return { dut: kind, clients: plan.clients, blocks: plan.blocks, run: runIndex, error: msg, phases, retries, load, ...(failedPhase ? { failedPhase } : {}) };
  } finally {
    await gen.stop();
    await dut.stop();
  }
}

/** Two namespaces, a veth, C client addresses on the clients' end, a route to them from the DUT's. */
async function buildTopology(clients: number): Promise<Topology> {
  const topo = await Topology.create(['dut', 'clients']);
  try {
    const lines: string[] = [];
    for (let i = 0; i < clients; i++) lines.push(`address add ${dotted(clientAddress(i))}/32 dev eth0`);
    await run('ip', ['-n', topo.node('clients').ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 120_000 });
    await run('ip', ['-n', topo.node('dut').ns, 'route', 'add', CLIENT_RANGE, 'via', topo.node('clients').ipv4]);
    return topo;
  } catch (e) {
    await topo.destroy();
    throw e;
  }
}

const machine = (): string => {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at start`;
};

function report(plan: FanoutPlan, runs: readonly FanoutRun[], runOrder: readonly DutKind[], opts: Options): string[] {
  const duts = (['bgp-ts', 'bird'] as const).filter((d) => runOrder.includes(d)); // columns bgp-ts, BIRD: the ratio is bgp-ts/BIRD
  const per = duts.map((d) => runs.filter((r) => r.dut === d));
  const val = (f: (r: FanoutRun) => number | undefined): number[][] => per.map((rs) => rs.map((r) => f(r) ?? NaN));
  const ph = (r: FanoutRun, p: PhaseName): PhaseFigures | undefined => r.phases[p];
  const rows: Row[] = [];
  const add = (label: string, f: (r: FanoutRun) => number | undefined, digits = 2, noRatio = false): void => void rows.push({ label, values: val(f), digits, noRatio });
  add('all C sessions Established (s)', (r) => ph(r, 'establish')?.seconds, 3);
  add('last announcement -> all complete (s)', (r) => ph(r, 'announce')?.seconds, 3);
  add('last withdrawal -> all empty (s)', (r) => ph(r, 'withdraw')?.seconds, 3);
  for (const p of PHASES) add(`DUT CPU, ${p} (s)`, (r) => ph(r, p)?.dutCpuSeconds);
  add('DUT peak RSS after announce (MB)', (r) => ph(r, 'announce')?.dutPeakRssMb, 1);
  add('DUT peak RSS, whole run (MB)', (r) => ph(r, 'withdraw')?.dutPeakRssMb, 1);
  for (const p of PHASES) add(`DUT write syscalls, ${p}`, (r) => ph(r, p)?.dutWriteSyscalls, 0);
  const rx = (r: FanoutRun, p: PhaseName) => ph(r, p)?.received.counters;
  add('UPDATEs received, announce (all clients)', (r) => rx(r, 'announce')?.announceUpdates.total, 0);
  add(`  per client, median (ideal C-1 = ${plan.clients - 1})`, (r) => rx(r, 'announce')?.announceUpdates.median, 1);
  add('  per client, max', (r) => rx(r, 'announce')?.announceUpdates.max, 0);
  add('  originators whole in one UPDATE (%)', (r) => {
    const c = rx(r, 'announce');
    return c ? (100 * c.wholeOriginators.total) / (plan.clients * (plan.clients - 1)) : undefined;
  }, 1);
  add('bytes received, announce (all clients, MB)', (r) => (rx(r, 'announce')?.bytes.total ?? NaN) / 1e6, 2);
  add('UPDATEs received, withdraw (all clients)', (r) => rx(r, 'withdraw')?.withdrawUpdates.total, 0);
  add('bytes received, withdraw (all clients, MB)', (r) => (rx(r, 'withdraw')?.bytes.total ?? NaN) / 1e6, 2);
  if (duts.includes('bgp-ts')) {
    for (const p of PHASES) {
      add(`event-loop delay max, ${p} (ms)`, (r) => ph(r, p)?.eventLoop?.maxMs, 1, true);
      add(`event-loop delay p99, ${p} (ms)`, (r) => ph(r, p)?.eventLoop?.p99Ms, 1, true);
    }
  }
  add('sessions lost', (r) => ph(r, 'withdraw')?.received.lost ?? ph(r, 'announce')?.received.lost, 0, true);
  add('clients wrong or incomplete after announce', (r) => {
    const s = ph(r, 'announce')?.received;
    return s ? Math.max(s.notComplete, s.wrongClients) : undefined;
  }, 0, true);
  add('clients not empty after withdraw', (r) => ph(r, 'withdraw')?.received.notEmpty, 0, true);
  add('runs failed (timeout or error)', (r) => (r.error ? 1 : 0), 0, true);
  add('connection retries (listen backlog)', (r) => r.retries, 0, true);
  add('host load average (1 min) at run start', (r) => r.load, 2, true);
  for (const p of ['announce', 'withdraw'] as const) {
    add(`generator CPU, ${p} (s)`, (r) => ph(r, p)?.generatorCpuSeconds, 2, true);
    add(`generator max event-loop delay, ${p} (ms)`, (r) => ph(r, p)?.generatorMaxDelayMs, 1, true);
  }
  const n = plan.clients * plan.blocks;
  const head = `fanout C=${plan.clients} K=${plan.blocks}: N = C·K = ${n} /26 blocks, ${expectedHeld(plan)} to each client; R=${opts.runs} runs per DUT, median [min–max]; window ${opts.window}, hold ${opts.holdTime} s`;
  const out = [head, ...table(['figure', ...duts.map((d) => DUT_LABEL[d])], rows, duts.length === 2)];
  for (const r of runs) {
    if (!r.error) continue;
    const f = r.failedPhase;
    const upTo = f ? ` (${f.name} phase after ${f.seconds} s: DUT CPU ${f.dutCpuSeconds} s, peak RSS ${f.dutPeakRssMb} MB)` : '';
    out.push(`  ${DUT_LABEL[r.dut]} run ${r.run + 1} failed: ${r.error.split('\n')[0]}${upTo}`);
  }
  return out;
}

export async function runFanoutBench(): Promise<FanoutRun[]> {
  const opts = options();
  let duts = opts.duts;
  if (duts.includes('bird') && !(await run('sh', ['-c', 'command -v bird && command -v birdc'], { allowFailure: true })).stdout.includes('birdc')) {
    console.log('fanout: the BIRD 2 side is skipped: bird/birdc not found (apt-get install bird2)');
    duts = duts.filter((d) => d !== 'bird');
  }
  if (duts.includes('bgp-ts') && !existsSync(fileURLToPath(new URL('../src/cli.js', import.meta.url))) && !process.env.BGP_TS_CLI) throw new Error('fanout: the built bgp-ts CLI is missing (npm run bench compiles it)');
  console.log(`fanout machine: ${machine()}; BIRD ${(await run('bird', ['--version'], { allowFailure: true })).stderr.trim().replace(/^BIRD version /, '')}`);
  console.log('fanout: the machine is shared and noisy; compare DUTs within one run, not across runs');
  const all: FanoutRun[] = [];
  for (const clients of opts.clients) {
    const plan: FanoutPlan = { clients, blocks: opts.blocks };
    const topo = await buildTopology(clients);
    const runs: FanoutRun[] = [];
    try {
      for (let r = 0; r < opts.runs; r++) {
        for (const kind of duts) {
          const res = await fanoutOnce(kind, topo, plan, opts, r);
          runs.push(res);
          const a = res.phases.announce;
          console.log(
            `  ${DUT_LABEL[kind]} C=${clients} run ${r + 1}: established ${res.phases.establish?.seconds.toFixed(3) ?? '–'} s, converged ${a?.seconds.toFixed(3) ?? '–'} s, withdrawn ${res.phases.withdraw?.seconds.toFixed(3) ?? '–'} s, CPU ${a?.dutCpuSeconds ?? '–'} s, peak RSS ${res.phases.withdraw?.dutPeakRssMb ?? a?.dutPeakRssMb ?? '–'} MB, load ${res.load}${res.error ? ' FAILED' : ''}`,
          );
        }
      }
    } finally {
      await topo.destroy();
    }
    all.push(...runs);
    for (const line of report(plan, runs, duts, opts)) console.log(line);
  }
  if (process.env.FANOUT_JSON) writeFileSync(process.env.FANOUT_JSON, JSON.stringify({ machine: machine(), runs: all }, null, 2));
  return all;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runFanoutBench();
