// The reflectors the fan-out benchmark measures, each started inside the DUT
// namespace as the only route reflector (RFC 4456) for one listen range of
// iBGP clients: bgp-ts (`node <built cli.js> daemon --config <tmp yaml>`, FIB
// off, log level warn, the API on the namespace's loopback for /metrics) and
// BIRD 2 (`bird -f` with a `neighbor range` template spawning one dynamic
// protocol per client, `rr client`, no kernel protocol, its own control
// socket). Both run under the interop harness's process registry, so nothing
// outlives the run, and with the open-file limit raised to the hard limit
// (2,500 sessions need 2,500 descriptors; Node raises its own, BIRD does not).
// BIRD resolves the clients' next hops (iBGP, `gateway recursive`) through a
// separate IGP table holding the one static route to the client range, so its
// master table carries BGP routes only.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollUntil, runIn } from '../../test/interop/harness/exec.js';
import { spawnIn, type ManagedProcess } from '../../test/interop/harness/processes.js';
import { startBirdDaemon, withFileLimit } from './bird.js';
import { CLIENT_RANGE } from './fanout-tally.js';
import { daemonNodeFlags } from './node-flags.js';

export type DutKind = 'bgp-ts' | 'bird';
export const DUT_LABEL: Record<DutKind, string> = { 'bgp-ts': 'bgp-ts', bird: 'BIRD 2' };

export interface DutSpec {
  readonly ns: string;
  /** A scratch directory of the run (configs, sockets). */
  readonly dir: string;
  /** The DUT's address on the link to the clients. */
  readonly address: string;
  /** The clients' namespace's address on that link: the route to the client range. */
  readonly gateway: string;
  readonly asn: number;
  readonly holdTime: number;
}

export interface EventLoopDelay {
  readonly maxMs: number;
  readonly p99Ms: number;
}

export interface RunningDut {
  readonly kind: DutKind;
  readonly pid: number;
  readonly port: number;
  /** bgp-ts: the event-loop delay since the previous call (its /metrics window resets on each scrape). */
  eventLoopDelay(): Promise<EventLoopDelay | undefined>;
  tail(): string;
  stop(): Promise<void>;
}

const CLI = process.env.BGP_TS_CLI ?? fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const API_PORT = 9179;

/** GET inside a namespace (the API listens on that namespace's loopback), with a short-lived node. */
async function httpGetIn(ns: string, url: string): Promise<string> {
  const script = 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) process.exit(2); process.stdout.write(await r.text()); }).catch(() => process.exit(1))';
  const { stdout } = await runIn(ns, process.execPath, ['-e', script, url], { timeoutMs: 60_000 });
  return stdout;
}

export async function startBgpTs(spec: DutSpec): Promise<RunningDut> {
  const config = join(spec.dir, 'bgp-ts.yaml');
  writeFileSync(
    config,
    `routerId: ${spec.address}
asn: ${spec.asn}
clusterId: ${spec.address}
listen: { addresses: ["${spec.address}"], port: 179 }
api: { listen: "127.0.0.1:${API_PORT}" }
fib: { enabled: false }
log: { level: warn }
listenRanges:
  - { prefix: ${CLIENT_RANGE}, asn: ${spec.asn}, routeReflectorClient: true, holdTime: ${spec.holdTime}, families: [ipv4-unicast] }
`,
  );
  const flags = daemonNodeFlags();
  const proc = spawnIn(spec.ns, 'bgp-ts', 'sh', withFileLimit([process.execPath, ...flags, CLI, 'daemon', '--config', config]));
  const api = `http://127.0.0.1:${API_PORT}`;
  try {
    await pollUntil(async () => proc.running && (await httpGetIn(spec.ns, `${api}/healthz`)) !== undefined, { timeoutMs: 30_000, intervalMs: 200, what: 'the bgp-ts API' });
  } catch (e) {
    await proc.stop(2000);
    throw new Error(`${(e as Error).message}\n${proc.tail()}`);
  }
  return {
    kind: 'bgp-ts',
    pid: proc.pid,
    port: 179,
    eventLoopDelay: async () => {
      const text = await httpGetIn(spec.ns, `${api}/metrics`);
      const read = (name: string): number => {
        const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
        return m ? Math.round(Number(m[1]) * 1e4) / 10 : NaN;
      };
      return { maxMs: read('nodejs_eventloop_delay_max_seconds'), p99Ms: read('nodejs_eventloop_delay_p99_seconds') };
    },
    tail: () => proc.tail(),
    stop: () => stopQuietly(proc),
  };
}

export async function startBird(spec: DutSpec): Promise<RunningDut> {
  const bird = await startBirdDaemon(
    spec.ns,
    spec.dir,
    `router id ${spec.address};
log stderr { warning, error, fatal };
ipv4 table igp4;
protocol device { scan time 60; }
protocol static client_range { ipv4 { table igp4; }; route ${CLIENT_RANGE} via ${spec.gateway}; }
protocol bgp reflector {
  local ${spec.address} as ${spec.asn};
  neighbor range ${CLIENT_RANGE} internal;
  dynamic name "c";
  dynamic name digits 5;
  hold time ${spec.holdTime};
  rr client;
  rr cluster id ${spec.address};
  ipv4 { import all; export all; igp table igp4; };
}
`,
  );
  return { kind: 'bird', pid: bird.pid, port: 179, eventLoopDelay: async () => undefined, tail: () => bird.proc.tail(), stop: () => stopQuietly(bird.proc) };
}

async function stopQuietly(proc: ManagedProcess): Promise<void> {
  await proc.stop(10_000);
}

export const startDut = (kind: DutKind, spec: DutSpec): Promise<RunningDut> => (kind === 'bgp-ts' ? startBgpTs(spec) : startBird(spec));
