// Prometheus metrics (prom-client), one Registry per daemon (STYLE.md §12).
// Every series is pulled from ApiDeps when Prometheus scrapes (collect()
// callbacks), so the daemon keeps plain counters and a million route changes
// cost nothing here. Counters pulled this way are reset and re-filled from the
// daemon's cumulative figures on each scrape; peers that went away drop out.
// The per-peer families (20 series a peer) are written by peer-metrics.ts,
// in loop-turn slices, not by prom-client's labelled children.
//
// bgp_peer_state is one gauge per peer whose value is the RFC 4271 §8.2.2
// state number: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm,
// 6 Established (the numbering of the BGP4-MIB, RFC 4273 bgpPeerState).
// nodejs_eventloop_delay_{max,p99}_seconds cover the time since the previous
// scrape (the delay histogram is reset after each read); the DESIGN.md budget
// is 20 ms per synchronous slice. bgp_loop_turn_max_seconds is the longest
// turn of queued work (input decoding, RIB, FIB and reconcile slices together,
// lib/loop-turns.ts) since the previous scrape.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { registerClusterMetrics } from './cluster-metrics.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { loopTurns } from '../lib/loop-turns.js';
import type { ApiDeps, ApiPeer } from './deps.js';
import { registerBfdMetrics } from './bfd-metrics.js';
import { MESSAGE_TYPES } from './schemas.js';
import { BgpRegistry, PeerFamily, PeerLabelCache, type ExtraLabels, type PeerFamilySpec, type PeerSnapshot } from './peer-metrics.js';

/** RFC 4271 §8.2.2 states numbered as in RFC 4273 bgpPeerState. */
export const PEER_STATE_VALUE: Readonly<Record<ApiPeer['state'], number>> = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

/** Every metric name this module defines (the Grafana dashboard test checks its queries against it). */
export const METRIC_NAMES = [
  'bgp_peer_state',
  'bgp_peer_admin_shutdown',
  'bgp_peer_established_transitions_total',
  'bgp_peer_uptime_seconds',
  'bgp_messages_received_total',
  'bgp_messages_sent_total',
  'bgp_notifications_sent_total',
  'bgp_notifications_received_total',
  'bgp_prefixes_received',
  'bgp_prefixes_accepted',
  'bgp_prefixes_advertised',
  'rib_routes',
  'rib_paths',
  'rib_best_path_changes_total',
  'rib_attribute_sets',
  'fib_routes_installed',
  'fib_operations_total',
  'fib_failures_total',
  'fib_drift_repairs_total',
  'fib_reconcile_duration_seconds',
  'fib_queue_depth',
  'nodejs_eventloop_delay_max_seconds',
  'nodejs_eventloop_delay_p99_seconds',
  'bgp_loop_turn_max_seconds',
  'bfd_session_state',
  'bfd_session_detection_time_seconds',
  'bfd_session_flaps_total',
  'bfd_session_down_total',
  'bfd_packets_dropped_total',
] as const;

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (process_*, nodejs_*); default true. */
  readonly defaultMetrics?: boolean;
}

export interface BgpMetrics {
  readonly registry: Registry;
  /** Stops the event-loop delay monitor. */
  close(): void;
}

const FAMILIES = ['ipv4-unicast', 'ipv6-unicast'] as const;
/** Frozen extra-label objects: their text is rendered once (peer-metrics.ts). */
const TYPE_LABELS = Object.fromEntries(MESSAGE_TYPES.map((type): [string, ExtraLabels] => [type, Object.freeze({ type })])) as Record<(typeof MESSAGE_TYPES)[number], ExtraLabels>;
const FAMILY_LABELS = Object.fromEntries(FAMILIES.map((family): [string, ExtraLabels] => [family, Object.freeze({ family })])) as Record<(typeof FAMILIES)[number], ExtraLabels>;

/** The per-peer families: each sample a peer gives, labelled peer, peer_asn, description and the extras. */
function peerFamilySpecs(): PeerFamilySpec[] {
  const one = (name: string, help: string, type: 'gauge' | 'counter', value: (p: ApiPeer) => number): PeerFamilySpec => ({
    name,
    help,
    type,
    samples: (p, out) => void out.push({ value: value(p) }),
  });
  const specs: PeerFamilySpec[] = [
    one('bgp_peer_state', 'RFC 4271 session state: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established', 'gauge', (p) => PEER_STATE_VALUE[p.state]),
    // Alerts leave a peer shut down on purpose alone (deploy/bgp-ts.rules.yml BgpPeerDown).
    one('bgp_peer_admin_shutdown', '1 while the peer is administratively shut down (bgp-ts shutdown, or neighbors[].shutdown), else 0', 'gauge', (p) => (p.adminShutdown ? 1 : 0)),
    one('bgp_peer_uptime_seconds', 'Seconds the session has been Established (0 when down)', 'gauge', (p) => p.uptimeSeconds),
    one('bgp_peer_established_transitions_total', 'Times the session reached Established', 'counter', (p) => p.establishedTransitions),
  ];
  for (const dir of ['received', 'sent'] as const) {
    specs.push({
      name: `bgp_messages_${dir}_total`,
      help: `BGP messages ${dir}, by type`,
      type: 'counter',
      samples: (p, out) => {
        for (const type of MESSAGE_TYPES) out.push({ extra: TYPE_LABELS[type], value: p.messages[dir][type] });
      },
    });
    specs.push({
      name: `bgp_notifications_${dir}_total`,
      help: `NOTIFICATION messages ${dir}, by RFC 4271 §4.5 error code and subcode`,
      type: 'counter',
      samples: (p, out) => {
        for (const n of p.notifications[dir]) out.push({ extra: { code: String(n.code), subcode: String(n.subcode) }, value: n.count });
      },
    });
  }
  for (const kind of ['received', 'accepted', 'advertised'] as const) {
    specs.push({
      name: `bgp_prefixes_${kind}`,
      help: `Prefixes ${kind} ${kind === 'advertised' ? 'to' : 'from'} the peer, by family`,
      type: 'gauge',
      samples: (p, out) => {
        for (const family of FAMILIES) out.push({ extra: FAMILY_LABELS[family], value: p.prefixesByFamily[family][kind] });
      },
    });
  }
  return specs;
}

export function createMetrics(deps: ApiDeps, opts: MetricsOptions = {}): BgpMetrics {
  const registry = new BgpRegistry();
  const registers = [registry];
  registerClusterMetrics(deps, registers);

  // One peers() call serves every per-peer family of a scrape (cached 250 ms),
  // with each peer's label text kept between scrapes (peer-metrics.ts).
  const labels = new PeerLabelCache();
  let cached: { at: number; snapshot: Promise<PeerSnapshot> } | undefined;
  const snapshot = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 250) cached = { at: now, snapshot: Promise.resolve(deps.peers()).then((peers) => labels.snapshot(peers)) };
    return cached.snapshot;
  };
  for (const spec of peerFamilySpecs()) registry.registerPeerFamily(new PeerFamily(spec, snapshot));

  // RIB
  for (const [name, pick, help] of [
    ['rib_routes', 'routes', 'Loc-RIB prefixes with a best path, by family'],
    ['rib_paths', 'paths', 'Candidate paths held (all Adj-RIB-In), by family'],
  ] as const) {
    new Gauge({
      name,
      help,
      labelNames: ['family'],
      registers,
      collect() {
        const stats = deps.ribStats()[pick];
        for (const family of FAMILIES) this.set({ family }, stats[family]);
      },
    });
  }
  new Counter({
    name: 'rib_best_path_changes_total',
    help: 'Best-path changes in the Loc-RIB',
    registers,
    collect() {
      this.reset();
      this.inc(deps.ribStats().bestPathChanges);
    },
  });
  new Gauge({ name: 'rib_attribute_sets', help: 'Interned path attribute sets alive', registers, collect() { this.set(deps.ribStats().attributeSets); } });

  // FIB
  new Gauge({ name: 'fib_routes_installed', help: 'Routes bgp-ts has installed in the kernel', registers, collect() { this.set(deps.fibStats().installed); } });
  new Gauge({ name: 'fib_queue_depth', help: 'Kernel route operations waiting to be sent', registers, collect() { this.set(deps.fibStats().queueDepth); } });
  new Counter({
    name: 'fib_operations_total',
    help: 'Kernel route operations, by op (add, replace, delete) and result (ok, error)',
    labelNames: ['op', 'result'],
    registers,
    collect() {
      this.reset();
      for (const o of deps.fibStats().operations) this.inc({ op: o.op, result: o.result }, o.count);
    },
  });
  for (const [name, pick, help] of [
    ['fib_failures_total', 'failures', 'Kernel route operations that failed (retried with backoff)'],
    ['fib_drift_repairs_total', 'driftRepairs', 'Kernel routes repaired after a change made outside bgp-ts'],
  ] as const) {
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(deps.fibStats()[pick]); } });
  }
  new Histogram({
    name: 'fib_reconcile_duration_seconds',
    help: 'Duration of a full desired-versus-kernel reconcile pass',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
    registers,
    collect() {
      for (const d of deps.fibStats().drainReconcileDurations()) this.observe(d);
    },
  });

  registerBfdMetrics(registry, deps);

  // Process
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // Both gauges read the same window; whichever is collected second resets it.
  let pendingReads = 0;
  const readDelay = (pick: (h: IntervalHistogram) => number) => {
    const value = delay.count === 0 ? 0 : pick(delay) / 1e9;
    if (++pendingReads === 2) {
      pendingReads = 0;
      delay.reset();
    }
    return value;
  };
  new Gauge({ name: 'nodejs_eventloop_delay_max_seconds', help: 'Longest event-loop delay since the previous scrape', registers, collect() { this.set(readDelay((h) => h.max)); } });
  new Gauge({ name: 'nodejs_eventloop_delay_p99_seconds', help: '99th percentile event-loop delay since the previous scrape', registers, collect() { this.set(readDelay((h) => h.percentile(99))); } });

  new Gauge({
    name: 'bgp_loop_turn_max_seconds',
    help: 'Longest turn of queued work (input, RIB, FIB slices together) since the previous scrape',
    registers,
    collect() {
      this.set(loopTurns.takeMaxTurnMs() / 1000);
    },
  });

  return { registry, close: () => delay.disable() };
}
