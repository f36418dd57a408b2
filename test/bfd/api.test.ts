// Operating BFD: GET /api/v1/bfd (schema-serialised, sorted, empty without
// BFD), the peer object's `bfd: {state}`, the bfd_* metrics, and the
// `bgp-ts bfd` table.
import { describe, expect, it } from 'vitest';
import type { ApiBfdList, ApiBfdSession } from '../../src/api/bfd-schemas.js';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { formatBfd } from '../../src/cli/bfd-table.js';
import { fakeDeps, peer } from '../api/fake-deps.js';

function session(over: Partial<ApiBfdSession> = {}): ApiBfdSession {
  return {
    peer: '192.0.2.2', state: 'Up', remoteState: 'Up', diagnostic: 'none', lastDownDiagnostic: 'control-detection-time-expired',
    localDiscriminator: 7, remoteDiscriminator: 9, multiplier: 3, remoteMultiplier: 3, desiredMinTxMs: 300, requiredMinRxMs: 300,
    remoteMinRxMs: 300, remoteMinTxMs: 300, txIntervalMs: 300, rxIntervalMs: 300, detectionTimeMs: 900, remoteCpi: false, polling: false,
    uptimeSeconds: 75, lastChangeSeconds: 75, flaps: 2, downsByDiagnostic: { 'control-detection-time-expired': 2, 'neighbor-signaled-down': 1 },
    packetsIn: 10, packetsOut: 11, sendErrors: 0, maxTxGapMs: 268.5, sourcePort: 49999,
    ...over,
  };
}
const LIST: ApiBfdList = {
  sessions: [session({ peer: '192.0.2.9', state: 'Down', flaps: 0, downsByDiagnostic: {}, detectionTimeMs: 0, remoteMultiplier: 0 }), session()],
  received: 40,
  dropped: { ttl: 3, 'bad-version': 1, short: undefined },
};

describe('GET /api/v1/bfd', () => {
  it('lists every session sorted by peer with intervals and detection time', async () => {
    const { deps } = fakeDeps();
    const app = await buildApi({ ...deps, bfd: () => LIST });
    const r = await app.inject({ method: 'GET', url: '/api/v1/bfd' });
    expect(r.statusCode).toBe(200);
    const body = r.json() as ApiBfdList;
    expect(body.sessions.map((s) => s.peer)).toEqual(['192.0.2.2', '192.0.2.9']);
    expect(body.sessions[0]).toMatchObject({ state: 'Up', txIntervalMs: 300, rxIntervalMs: 300, detectionTimeMs: 900, diagnostic: 'none' });
    expect(body.dropped).toEqual({ ttl: 3, 'bad-version': 1 });
    await app.close();
  });

  it('is an empty list when no peer runs BFD', async () => {
    const app = await buildApi(fakeDeps().deps);
    expect((await app.inject({ method: 'GET', url: '/api/v1/bfd' })).json()).toEqual({ sessions: [], received: 0, dropped: {} });
    await app.close();
  });

  it('the peer object carries bfd.state when BFD runs for it, and only then', async () => {
    const { deps } = fakeDeps({ peers: [peer({ bfd: { state: 'Up' } }), peer({ address: '192.0.2.3' })] });
    const app = await buildApi(deps);
    const { peers } = (await app.inject({ method: 'GET', url: '/api/v1/peers' })).json() as { peers: { address: string; bfd?: unknown }[] };
    expect(peers.find((p) => p.address !== '192.0.2.3')!.bfd).toEqual({ state: 'Up' });
    expect(peers.find((p) => p.address === '192.0.2.3')!.bfd).toBeUndefined();
    await app.close();
  });
});

describe('bfd_* metrics', () => {
  it('exports state, detection time, flaps, downs by diagnostic and drops by reason', async () => {
    const { deps } = fakeDeps();
    const m = createMetrics({ ...deps, bfd: () => LIST }, { defaultMetrics: false });
    const text = await m.registry.metrics();
    m.close();
    expect(text).toContain('bfd_session_state{peer="192.0.2.2"} 3');
    expect(text).toContain('bfd_session_state{peer="192.0.2.9"} 1');
    expect(text).toContain('bfd_session_detection_time_seconds{peer="192.0.2.2"} 0.9');
    expect(text).toContain('bfd_session_flaps_total{peer="192.0.2.2"} 2');
    expect(text).toContain('bfd_session_down_total{peer="192.0.2.2",diagnostic="control-detection-time-expired"} 2');
    expect(text).toContain('bfd_packets_dropped_total{reason="ttl"} 3');
  });
});

describe('bgp-ts bfd', () => {
  it('prints one row per session and the drops', () => {
    const out = formatBfd(LIST);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^PEER\s+STATE\s+DIAGNOSTIC\s+UPTIME\s+TX\s+RX\s+MULT\s+DETECT\s+FLAPS$/);
    expect(lines.find((l) => l.startsWith('192.0.2.2'))).toMatch(/Up\s+none\s+1m15s\s+300ms\s+300ms\s+3\/3\s+900ms\s+2/);
    expect(lines.find((l) => l.startsWith('192.0.2.9'))).toMatch(/Down\s+control-detection-time-expired\s+-/);
    expect(lines.at(-1)).toBe('dropped: ttl 3, bad-version 1');
    const silent = formatBfd({ sessions: [session({ peer: '192.0.2.7', state: 'Down', downReason: 'no-packets-from-peer', flaps: 0 })], received: 0, dropped: {} });
    expect(silent).toMatch(/192\.0\.2\.7\s+Down\s+no-packets-from-peer\s+-/);
    expect(formatBfd({ sessions: [], received: 0, dropped: {} })).toMatch(/no BFD sessions/);
  });
});
