// The fan-out benchmark's client generator: one process holding C iBGP
// sessions to the reflector under test, run inside the clients' network
// namespace (`ip netns exec NS node fanout-clients.js PARAMS`), never in the
// DUT's process. Each client binds its own address of the plan
// (bench/lib/fanout-tally.ts) and speaks just enough BGP-4 (RFC 4271): OPEN
// with the multiprotocol IPv4-unicast (RFC 4760) and four-octet AS (RFC 6793)
// capabilities, KEEPALIVE after the peer's OPEN (§8.2.2 OpenSent ->
// OpenConfirm), Established on the peer's KEEPALIVE, then KEEPALIVEs at a
// third of the hold time or faster (§4.4). Sessions are opened a window at a
// time (BIRD listens with a backlog of 8). What arrives is counted by a
// ClientTally without a full decode.
//
// Commands arrive on stdin, one JSON object a line; answers go to stdout,
// one JSON object a line, with wall-clock times (performance.timeOrigin +
// now(), comparable across processes on one host):
//   {"cmd":"connect"}   -> {"event":"established", firstConnect, lastEstablished, retries}
//   {"cmd":"announce"}  -> each client sends its K blocks in one UPDATE -> {"event":"done", lastSent, doneAt}
//   {"cmd":"withdraw"}  -> each client withdraws them in one UPDATE     -> {"event":"done", ...} once all hold none
//   {"cmd":"stats"}     -> per-client counter deltas since the previous stats, summarised
//   {"cmd":"quit"}
// Every answer carries the generator's own CPU seconds and longest event-loop
// delay since the previous command, to show it is not the bottleneck.
// Progress lines ({"event":"progress"}) come every 2 s while a phase waits.

import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { encodeMessage } from '../../src/bgp/wire/message.js';
import { DEFAULT_CODEC_CONTEXT, type CodecContext } from '../../src/bgp/wire/types.js';
import { v4Key } from '../../src/lib/prefix.js';
import { packUpdates, packWithdrawUpdates } from '../../src/rib/update-packer.js';
import {
  COUNTER_NAMES,
  ClientTally,
  SAW_KEEPALIVE,
  SAW_NOTIFICATION,
  SAW_OPEN,
  blockAddress,
  clientAddress,
  copyCounters,
  countersSince,
  dotted,
  expectedHeld,
  spread,
  type FanoutPlan,
  type Spread,
  type TallyCounters,
} from './fanout-tally.js';

export interface GeneratorParams extends FanoutPlan {
  /** The reflector's address and port. */
  readonly dut: string;
  readonly port: number;
  readonly asn: number;
  /** Hold time we offer, s (RFC 4271 §4.2). */
  readonly holdTime: number;
  /** Sessions in the making (connecting, OpenSent, OpenConfirm) at once. */
  readonly window: number;
}

type Phase = 'idle' | 'connect' | 'announce' | 'withdraw';
type State = 'idle' | 'connecting' | 'opensent' | 'openconfirm' | 'established' | 'lost';

export interface PhaseSummary {
  readonly event: 'stats';
  /** Per-client counter deltas since the previous stats: total, min, median, max over clients. */
  readonly counters: Record<keyof TallyCounters, Spread>;
  /** Clients not holding exactly the expected set right now. */
  readonly notComplete: number;
  /** Clients still holding anything. */
  readonly notEmpty: number;
  /** Clients that ever saw a wrong prefix or attribute. */
  readonly wrongClients: number;
  /** Sessions closed or sent a NOTIFICATION after Established, so far. */
  readonly lost: number;
}

const wall = (): number => performance.timeOrigin + performance.now();
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const CTX: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };

class Client {
  state: State = 'idle';
  socket: Socket | undefined;
  lastWrite = 0;
  establishedAt = 0;
  doneAt = 0;
  readonly tally: ClientTally;
  mark: TallyCounters;

  constructor(
    readonly index: number,
    plan: FanoutPlan,
  ) {
    this.tally = new ClientTally(plan, index);
    this.mark = copyCounters(this.tally.counters);
  }

  write(b: Buffer): void {
    this.lastWrite = performance.now();
    this.socket?.write(b);
  }
}

export async function runGenerator(params: GeneratorParams): Promise<void> {
  const plan: FanoutPlan = { clients: params.clients, blocks: params.blocks };
  const clients = Array.from({ length: params.clients }, (_, i) => new Client(i, plan));
  const keepalive = encodeMessage({ type: 'keepalive' }, DEFAULT_CODEC_CONTEXT);
  const keepaliveMs = Math.max(1, Math.floor(params.holdTime / 3)) * 1000; // §4.4: a third of the hold time
  const announcements: Buffer[] = [];
  const withdrawals: Buffer[] = [];
  for (let i = 0; i < params.clients; i++) {
    const keys = Array.from({ length: params.blocks }, (_, k) => v4Key(blockAddress(plan, i, k), 26));
    const a = packUpdates({ origin: 0, asPath: [], nextHop: dotted(clientAddress(i)), localPref: 100 }, 'ipv4-unicast', keys, CTX);
    const w = packWithdrawUpdates('ipv4-unicast', keys, CTX);
    if (a.length !== 1 || w.length !== 1) throw new Error(`K=${params.blocks} blocks do not fit one UPDATE`);
    announcements.push(a[0]!);
    withdrawals.push(w[0]!);
  }

  const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let cpuMark = process.cpuUsage();
  /** The generator's own CPU and event-loop delay since the previous answer. */
  const self = (): { genCpuSeconds: number; genMaxDelayMs: number } => {
    const c = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    const r = { genCpuSeconds: (c.user + c.system) / 1e6, genMaxDelayMs: delay.count === 0 ? 0 : delay.max / 1e6 };
    delay.reset();
    return r;
  };

  let phase: Phase = 'idle';
  let lost = 0;
  let retries = 0;
  let established = 0;
  let firstConnect = 0;
  let inFlight = 0;
  let next = 0;
  let lastSent = 0;
  let done = 0;
  let onPhaseDone: (() => void) | undefined;

  const isDone = (c: Client): boolean => (phase === 'announce' ? c.tally.complete : phase === 'withdraw' ? c.tally.held === 0 : false);
  const check = (c: Client): void => {
    if (c.doneAt !== 0 || !isDone(c)) return;
    c.doneAt = wall();
    if (++done === clients.length) onPhaseDone?.();
  };

  const open = (c: Client): void => {
    c.state = 'connecting';
    inFlight++;
    // One read buffer for every socket (onread: no Buffer allocated per chunk, the tally copies
    // only an incomplete trailing message), which cuts the generator's CPU per small UPDATE.
    const s = connect({
      host: params.dut,
      port: params.port,
      localAddress: dotted(clientAddress(c.index)),
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number) => {
          received(READ_BUFFER.subarray(0, n));
          return true;
        },
      },
    });
    c.socket = s;
    s.on('connect', () => {
      c.state = 'opensent';
      // RFC 4271 §4.2 OPEN; our BGP Identifier is our address (the reflector's ORIGINATOR_ID, RFC 4456 §8).
      c.write(
        encodeMessage(
          {
            type: 'open',
            version: 4,
            myAs: params.asn > 0xffff ? 23456 : params.asn,
            holdTime: params.holdTime,
            bgpId: clientAddress(c.index),
            capabilities: [
              { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
              { kind: 'four-octet-as', code: 65, asn: params.asn },
            ],
          },
          DEFAULT_CODEC_CONTEXT,
        ),
      );
    });
    const received = (d: Buffer): void => {
      const saw = c.tally.push(d);
      if (saw !== 0) {
        if (saw & SAW_NOTIFICATION) return void s.destroy(); // §6: a NOTIFICATION closes the session
        if (saw & SAW_OPEN && c.state === 'opensent') {
          c.state = 'openconfirm';
          c.write(keepalive); // §8.2.2 OpenSent: OPEN received -> send KEEPALIVE
        }
        if (saw & SAW_KEEPALIVE && c.state === 'openconfirm') {
          c.state = 'established';
          c.establishedAt = wall();
          inFlight--;
          established++;
          pump();
        }
      }
      if (phase === 'announce' || phase === 'withdraw') check(c);
    };
    s.on('error', () => undefined);
    s.on('close', () => {
      if (c.state === 'established') {
        c.state = 'lost';
        lost++;
        return;
      }
      if (c.state === 'lost' || phase !== 'connect') return;
      // refused or reset before Established (a full listen backlog): try again shortly
      retries++;
      c.state = 'idle';
      setTimeout(() => {
        inFlight--; // the slot stays taken until the retry takes it over
        open(c);
      }, 500);
    });
  };

  const pump = (): void => {
    while (inFlight < params.window && next < clients.length) open(clients[next++]!);
    if (established === clients.length && phase === 'connect') onPhaseDone?.();
  };

  // §4.4: KEEPALIVEs at a third of the hold time; one timer sweeps every session.
  const ka = setInterval(() => {
    const now = performance.now();
    for (const c of clients) if (c.state === 'established' && now - c.lastWrite >= keepaliveMs) c.write(keepalive);
  }, 1000);

  const waitPhase = (): Promise<void> =>
    new Promise((resolve) => {
      const progress = setInterval(() => {
        let held = 0;
        for (const c of clients) held += c.tally.held;
        out({ event: 'progress', phase, established, done, lost, held, expectedTotal: expectedHeld(plan) * clients.length });
      }, 2000);
      onPhaseDone = () => {
        onPhaseDone = undefined;
        clearInterval(progress);
        resolve();
      };
      if (phase === 'connect') pump();
      else if (done === clients.length) onPhaseDone();
    });

  out({ event: 'ready', ...self() });
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = (JSON.parse(line) as { cmd: string }).cmd;
    if (cmd === 'quit') break;
    if (cmd === 'connect') {
      phase = 'connect';
      firstConnect = wall();
      await waitPhase();
      const lastEstablished = Math.max(...clients.map((c) => c.establishedAt));
      phase = 'idle';
      out({ event: 'established', firstConnect, lastEstablished, retries, ...self() });
    } else if (cmd === 'announce' || cmd === 'withdraw') {
      const msgs = cmd === 'announce' ? announcements : withdrawals;
      done = 0;
      for (const c of clients) c.doneAt = 0;
      phase = cmd;
      for (const c of clients) if (c.state === 'established') c.write(msgs[c.index]!);
      lastSent = wall();
      for (const c of clients) check(c); // a client may already be done (nothing to withdraw)
      await waitPhase();
      const doneAt = Math.max(...clients.map((c) => c.doneAt));
      phase = 'idle';
      out({ event: 'done', phase: cmd, lastSent, doneAt, ...self() });
    } else if (cmd === 'stats') {
      const deltas = clients.map((c) => {
        const d = countersSince(c.tally.counters, c.mark);
        c.mark = copyCounters(c.tally.counters);
        return d;
      });
      const counters = Object.fromEntries(COUNTER_NAMES.map((n) => [n, spread(deltas.map((d) => d[n]))])) as Record<keyof TallyCounters, Spread>;
      const summary: PhaseSummary = {
        event: 'stats',
        counters,
        notComplete: clients.filter((c) => !c.tally.complete).length,
        notEmpty: clients.filter((c) => c.tally.held !== 0).length,
        wrongClients: clients.filter((c) => c.tally.wrong !== 0).length,
        lost,
      };
      out({ ...summary, ...self() });
    } else out({ event: 'error', message: `unknown command ${cmd}` });
  }
  clearInterval(ka);
  for (const c of clients) c.socket?.destroy();
  process.exit(0);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  // The parent gone (stdin closed) ends us too: see the readline loop above.
  await runGenerator(JSON.parse(process.argv[2] ?? '{}') as GeneratorParams);
}
