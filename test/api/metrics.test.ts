// /metrics: every series named in the operations issue, pulled from the core
// at scrape time with per-peer labels; one Registry per daemon; and the API
// over a real socket on 127.0.0.1 (startApi).
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createMetrics, METRIC_NAMES } from '../../src/api/metrics.js';
import { buildApi, startApi, type RunningApi } from '../../src/api/server.js';
import { fakeDeps, peer } from './fake-deps.js';

let app: FastifyInstance | undefined;
let running: RunningApi | undefined;
afterEach(async () => {
  await app?.close();
  await running?.close();
  app = running = undefined;
});

/** The value of one sample line, e.g. sample(text, 'bgp_peer_state{peer="192.0.2.2",...}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const B = 'peer="192.0.2.2",peer_asn="64512",description="node-b"';
const C = 'peer="2001:db8::3",peer_asn="65001",description=""';

describe('GET /metrics', () => {
  it('serves the Prometheus text format with every defined metric', async () => {
    app = await buildApi(fakeDeps().deps);
    const r = await app.inject('/metrics');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of METRIC_NAMES) expect(r.body, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    // prom-client's process metrics are there too.
    expect(r.body).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('per-peer series carry peer, peer_asn, description and the numeric RFC 4271 state', async () => {
    app = await buildApi(fakeDeps().deps, { metricsOptions: { defaultMetrics: false } });
    const t = (await app.inject('/metrics')).body;
    expect(sample(t, `bgp_peer_state{${B}}`)).toBe(6);
    expect(sample(t, `bgp_peer_state{${C}}`)).toBe(3);
    expect(sample(t, `bgp_peer_admin_shutdown{${B}}`)).toBe(0);
    expect(sample(t, `bgp_peer_uptime_seconds{${B}}`)).toBe(3725);
    expect(sample(t, `bgp_peer_established_transitions_total{${B}}`)).toBe(2);
    expect(sample(t, `bgp_messages_received_total{${B},type="update"}`)).toBe(40);
    expect(sample(t, `bgp_messages_sent_total{${B},type="keepalive"}`)).toBe(101);
    expect(sample(t, `bgp_messages_sent_total{${B},type="route-refresh"}`)).toBe(0);
    expect(sample(t, `bgp_notifications_sent_total{${B},code="6",subcode="2"}`)).toBe(1);
    expect(sample(t, `bgp_prefixes_received{${B},family="ipv4-unicast"}`)).toBe(12);
    expect(sample(t, `bgp_prefixes_accepted{${B},family="ipv4-unicast"}`)).toBe(10);
    expect(sample(t, `bgp_prefixes_advertised{${B},family="ipv6-unicast"}`)).toBe(0);
  });

  it('RIB and FIB series; counters follow the core and the histogram takes each reconcile once', async () => {
    const f = fakeDeps();
    app = await buildApi(f.deps, { metricsOptions: { defaultMetrics: false } });
    const t = (await app.inject('/metrics')).body;
    expect(sample(t, 'rib_routes{family="ipv4-unicast"}')).toBe(10);
    expect(sample(t, 'rib_paths{family="ipv6-unicast"}')).toBe(2);
    expect(sample(t, 'rib_best_path_changes_total')).toBe(17);
    expect(sample(t, 'rib_attribute_sets')).toBe(4);
    expect(sample(t, 'fib_routes_installed')).toBe(42);
    expect(sample(t, 'fib_queue_depth')).toBe(5);
    expect(sample(t, 'fib_operations_total{op="add",result="ok"}')).toBe(40);
    expect(sample(t, 'fib_operations_total{op="delete",result="error"}')).toBe(1);
    expect(sample(t, 'fib_failures_total')).toBe(1);
    expect(sample(t, 'fib_drift_repairs_total')).toBe(3);
    expect(sample(t, 'fib_reconcile_duration_seconds_count')).toBe(2);
    expect(sample(t, 'fib_reconcile_duration_seconds_bucket{le="0.005"}')).toBe(1);
    expect(sample(t, 'fib_reconcile_duration_seconds_sum')).toBeCloseTo(0.302);

    // The core's counters move; the next scrape shows the new totals, not a sum of scrapes.
    const stats = f.deps.ribStats();
    f.deps.ribStats = () => ({ ...stats, bestPathChanges: 20 });
    const t2 = (await app.inject('/metrics')).body;
    expect(sample(t2, 'rib_best_path_changes_total')).toBe(20);
    expect(sample(t2, 'fib_reconcile_duration_seconds_count')).toBe(2);
  });

  it('a peer that went away drops out of the next scrape (after the 250 ms peers cache)', async () => {
    const peers = [peer(), peer({ address: '192.0.2.7', description: 'gone-soon' })];
    const f = fakeDeps({ peers });
    const m = createMetrics(f.deps, { defaultMetrics: false });
    try {
      expect(await m.registry.getSingleMetricAsString('bgp_peer_state')).toContain('peer="192.0.2.7"');
      peers.pop();
      await new Promise((r) => setTimeout(r, 300));
      const after = await m.registry.getSingleMetricAsString('bgp_peer_state');
      expect(after).not.toContain('peer="192.0.2.7"');
      expect(after).toContain('peer="192.0.2.2"');
    } finally {
      m.close();
    }
  });

  it('event-loop delay gauges see a blocked loop', async () => {
    const m = createMetrics(fakeDeps().deps, { defaultMetrics: false });
    try {
      await new Promise((r) => setTimeout(r, 30));
      const until = Date.now() + 60;
      while (Date.now() < until) {
        /* block the loop for 60 ms */
      }
      await new Promise((r) => setTimeout(r, 30));
      const text = await m.registry.metrics();
      expect(sample(text, 'nodejs_eventloop_delay_max_seconds')).toBeGreaterThan(0.04);
      expect(sample(text, 'nodejs_eventloop_delay_p99_seconds')).toBeGreaterThan(0);
    } finally {
      m.close();
    }
  });

  it('each daemon has its own registry', async () => {
    const a = createMetrics(fakeDeps().deps, { defaultMetrics: false });
    const b = createMetrics(fakeDeps({ peers: [] }).deps, { defaultMetrics: false });
    try {
      expect(a.registry).not.toBe(b.registry);
      expect(await a.registry.getSingleMetricAsString('bgp_peer_state')).toContain('192.0.2.2');
      expect(await b.registry.getSingleMetricAsString('bgp_peer_state')).not.toContain('192.0.2.2');
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('startApi over a real socket', () => {
  it('binds 127.0.0.1 on an ephemeral port, answers fetch(), and closes', async () => {
    const f = fakeDeps();
    running = await startApi(f.deps, { listen: '127.0.0.1:0' }, { metricsOptions: { defaultMetrics: false } });
    expect(running!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const status = await fetch(`${running!.url}/api/v1/status`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ routerId: '192.0.2.1' });
    const reset = await fetch(`${running!.url}/api/v1/peers/192.0.2.2/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ soft: 'in' }),
    });
    expect(reset.status).toBe(200);
    expect(f.calls.reset).toEqual([['192.0.2.2', 'in']]);
    const url = running!.url;
    await running!.close();
    running = undefined;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('"none" starts nothing', async () => {
    expect(await startApi(fakeDeps().deps, { listen: 'none' })).toBeUndefined();
  });
});
