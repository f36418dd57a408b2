// The per-peer families written by peer-metrics.ts must be the text
// prom-client's own labelled Gauge/Counter wrote for the same peers (the
// format Prometheus, the dashboard and the alerts read): compared family by
// family, with label values that need escaping, notifications, more peers
// than one slice renders, and a description that changes between scrapes.
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Registry } from 'prom-client';
import { createMetrics, PEER_STATE_VALUE } from '../../src/api/metrics.js';
import { MESSAGE_TYPES } from '../../src/api/schemas.js';
import type { ApiPeer } from '../../src/api/deps.js';
import { loopTurns } from '../../src/lib/loop-turns.js';
import { fakeDeps, peer } from './fake-deps.js';

const FAMILIES = ['ipv4-unicast', 'ipv6-unicast'] as const;

/** The per-peer families as metrics.ts built them with prom-client before peer-metrics.ts. */
function promClientReference(peers: readonly ApiPeer[]): Registry {
  const registry = new Registry();
  const registers = [registry];
  const L = ['peer', 'peer_asn', 'description'] as const;
  const labels = (p: ApiPeer) => ({ peer: p.address, peer_asn: String(p.asn), description: p.description ?? '' });
  const gauge = (name: string, help: string, v: (p: ApiPeer) => number) => {
    const g = new Gauge({ name, help, labelNames: L, registers });
    for (const p of peers) g.set(labels(p), v(p));
  };
  gauge('bgp_peer_state', 'RFC 4271 session state: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established', (p) => PEER_STATE_VALUE[p.state]);
  gauge('bgp_peer_admin_shutdown', '1 while the peer is administratively shut down (bgp-ts shutdown, or neighbors[].shutdown), else 0', (p) => (p.adminShutdown ? 1 : 0));
  gauge('bgp_peer_uptime_seconds', 'Seconds the session has been Established (0 when down)', (p) => p.uptimeSeconds);
  const t = new Counter({ name: 'bgp_peer_established_transitions_total', help: 'Times the session reached Established', labelNames: L, registers });
  for (const p of peers) t.inc(labels(p), p.establishedTransitions);
  for (const dir of ['received', 'sent'] as const) {
    const m = new Counter({ name: `bgp_messages_${dir}_total`, help: `BGP messages ${dir}, by type`, labelNames: [...L, 'type'], registers });
    for (const p of peers) for (const type of MESSAGE_TYPES) m.inc({ ...labels(p), type }, p.messages[dir][type]);
    const n = new Counter({ name: `bgp_notifications_${dir}_total`, help: `NOTIFICATION messages ${dir}, by RFC 4271 §4.5 error code and subcode`, labelNames: [...L, 'code', 'subcode'], registers });
    for (const p of peers) for (const x of p.notifications[dir]) n.inc({ ...labels(p), code: String(x.code), subcode: String(x.subcode) }, x.count);
  }
  for (const kind of ['received', 'accepted', 'advertised'] as const) {
    const g = new Gauge({ name: `bgp_prefixes_${kind}`, help: `Prefixes ${kind} ${kind === 'advertised' ? 'to' : 'from'} the peer, by family`, labelNames: [...L, 'family'], registers });
    for (const p of peers) for (const family of FAMILIES) g.set({ ...labels(p), family }, p.prefixesByFamily[family][kind]);
  }
  return registry;
}

function manyPeers(n: number): ApiPeer[] {
  return Array.from({ length: n }, (_, i) =>
    peer({
      address: `10.1.${i >> 8}.${i & 255}`,
      asn: 64512 + (i % 3),
      description: i % 7 === 0 ? undefined : i % 5 === 0 ? `rack "b"\\row\n${i}` : `node-${i}`,
      state: i % 4 === 0 ? 'Active' : 'Established',
      uptimeSeconds: i * 3,
      establishedTransitions: i % 9,
      notifications: { sent: i % 2 ? [{ code: 6, subcode: 2, count: i }] : [], received: i % 3 ? [] : [{ code: 4, subcode: 0, count: 1 }, { code: 6, subcode: 4, count: 2 }] },
    }),
  );
}

const PER_PEER = [
  'bgp_peer_state',
  'bgp_peer_admin_shutdown',
  'bgp_peer_uptime_seconds',
  'bgp_peer_established_transitions_total',
  'bgp_messages_received_total',
  'bgp_messages_sent_total',
  'bgp_notifications_received_total',
  'bgp_notifications_sent_total',
  'bgp_prefixes_received',
  'bgp_prefixes_accepted',
  'bgp_prefixes_advertised',
];

describe('per-peer families (peer-metrics.ts)', () => {
  it('write the same text as prom-client for the same peers, 300 of them (several loop-turn slices)', async () => {
    const peers = manyPeers(300);
    const m = createMetrics(fakeDeps({ peers }).deps, { defaultMetrics: false });
    const ref = promClientReference(peers);
    try {
      const turnsBefore = loopTurns.stats().tasks;
      for (const name of PER_PEER) expect(await m.registry.getSingleMetricAsString(name), name).toBe(await ref.getSingleMetricAsString(name));
      expect(loopTurns.stats().tasks).toBeGreaterThan(turnsBefore); // rendered as loop-turn tasks, not in one go
      const text = await m.registry.metrics();
      for (const name of PER_PEER) expect(text).toContain(`${await ref.getSingleMetricAsString(name)}\n`);
      // The JSON form carries the same samples with labels as objects.
      const json = (await m.registry.getMetricsAsJSON()).find((x) => x.name === 'bgp_messages_sent_total')!;
      const refJson = (await ref.getMetricsAsJSON()).find((x) => x.name === 'bgp_messages_sent_total')!;
      expect(json.type).toBe(refJson.type);
      expect(json.values).toEqual(refJson.values);
    } finally {
      m.close();
    }
  });

  it('a description that changes shows in the next scrape (label text is not kept stale)', async () => {
    const peers = [peer({ description: 'before' })];
    const f = fakeDeps({ peers });
    const m = createMetrics(f.deps, { defaultMetrics: false });
    try {
      expect(await m.registry.getSingleMetricAsString('bgp_peer_state')).toContain('description="before"');
      peers[0] = peer({ description: 'after' });
      await new Promise((r) => setTimeout(r, 300)); // past the 250 ms peers cache
      const t = await m.registry.getSingleMetricAsString('bgp_peer_state');
      expect(t).toContain('description="after"');
      expect(t).not.toContain('description="before"');
    } finally {
      m.close();
    }
  });
});
