// The bfd_* per-session families written by bfd-metrics.ts in loop-turn
// slices must be the text prom-client's labelled Gauge/Counter wrote for the
// same sessions (what Prometheus and the dashboard read): compared family by
// family for more sessions than one slice renders, label values that need
// escaping, and the JSON form.
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ApiBfdList, ApiBfdSession } from '../../src/api/bfd-schemas.js';
import { createMetrics } from '../../src/api/metrics.js';
import { loopTurns } from '../../src/lib/loop-turns.js';
import { fakeDeps } from './fake-deps.js';

const STATE_VALUE: Record<string, number> = { AdminDown: 0, Down: 1, Init: 2, Up: 3 };
const STATES = ['Up', 'Down', 'Init', 'AdminDown'] as const;

function session(i: number): ApiBfdSession {
  const downs: Record<string, number> = {};
  if (i % 3 === 0) downs['control-detection-time-expired'] = i % 5;
  if (i % 4 === 1) downs['neighbor-signaled-down'] = 1;
  return {
    peer: i === 7 ? 'odd "peer"\\x' : `10.1.${i >> 8}.${i & 255}`, state: STATES[i % 4]!, remoteState: 'Up', diagnostic: 'none', lastDownDiagnostic: 'none',
    localDiscriminator: i + 1, remoteDiscriminator: i + 2, multiplier: 3, remoteMultiplier: 3, desiredMinTxMs: 300, requiredMinRxMs: 300,
    remoteMinRxMs: 300, remoteMinTxMs: 300, txIntervalMs: 300, rxIntervalMs: 300, detectionTimeMs: (i % 10) * 150, remoteCpi: false, polling: false,
    uptimeSeconds: i, lastChangeSeconds: i, flaps: i % 6, downsByDiagnostic: downs, packetsIn: 1, packetsOut: 1, sendErrors: 0, maxTxGapMs: 1, sourcePort: 49152,
  };
}

/** The families as bfd-metrics.ts built them with prom-client before the slices. */
function reference(list: ApiBfdList): Registry {
  const registry = new Registry();
  const registers = [registry];
  const state = new Gauge({ name: 'bfd_session_state', help: 'RFC 5880 session state: 0 AdminDown, 1 Down, 2 Init, 3 Up', labelNames: ['peer'], registers });
  const det = new Gauge({ name: 'bfd_session_detection_time_seconds', help: 'Negotiated detection time (RFC 5880 §6.8.4); 0 before the peer was heard', labelNames: ['peer'], registers });
  const flaps = new Counter({ name: 'bfd_session_flaps_total', help: 'Up -> Down transitions', labelNames: ['peer'], registers });
  const downs = new Counter({ name: 'bfd_session_down_total', help: 'Changes to Down, by RFC 5880 diagnostic', labelNames: ['peer', 'diagnostic'], registers });
  for (const s of list.sessions) {
    state.set({ peer: s.peer }, STATE_VALUE[s.state] ?? 1);
    det.set({ peer: s.peer }, s.detectionTimeMs / 1000);
    flaps.inc({ peer: s.peer }, s.flaps);
    for (const [diagnostic, n] of Object.entries(s.downsByDiagnostic)) downs.inc({ peer: s.peer, diagnostic }, n);
  }
  return registry;
}

const FAMILIES = ['bfd_session_state', 'bfd_session_detection_time_seconds', 'bfd_session_flaps_total', 'bfd_session_down_total'];

describe('bfd_* per-session families (bfd-metrics.ts)', () => {
  it('write the same text and JSON as prom-client for 300 sessions, in loop-turn slices', async () => {
    const list: ApiBfdList = { sessions: Array.from({ length: 300 }, (_, i) => session(i)), received: 1, dropped: { ttl: 2 } };
    const m = createMetrics({ ...fakeDeps().deps, bfd: () => list }, { defaultMetrics: false });
    const ref = reference(list);
    try {
      const before = loopTurns.stats().tasks;
      for (const name of FAMILIES) expect(await m.registry.getSingleMetricAsString(name), name).toBe(await ref.getSingleMetricAsString(name));
      expect(loopTurns.stats().tasks).toBeGreaterThan(before);
      const text = await m.registry.metrics();
      for (const name of FAMILIES) expect(text).toContain(`${await ref.getSingleMetricAsString(name)}\n`);
      expect(text).toContain('bfd_packets_dropped_total{reason="ttl"} 2');
      for (const name of FAMILIES) {
        const got = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name)!;
        const want = (await ref.getMetricsAsJSON()).find((x) => x.name === name)!;
        expect(got.type, name).toBe(want.type);
        expect(got.values, name).toEqual(want.values);
      }
    } finally {
      m.close();
    }
  });

  it('no BFD: the families are written empty, as prom-client wrote them', async () => {
    const m = createMetrics(fakeDeps().deps, { defaultMetrics: false });
    const ref = reference({ sessions: [], received: 0, dropped: {} });
    try {
      for (const name of FAMILIES) expect(await m.registry.getSingleMetricAsString(name), name).toBe(await ref.getSingleMetricAsString(name));
    } finally {
      m.close();
    }
  });
});
