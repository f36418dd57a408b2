// A neighbor with `shutdown: true` in the config has no session, yet it is a
// configured peer an operator expects to see as administratively down (BIRD's
// `disabled`, FRR's `Idle (Admin)`): listed by GET /api/v1/peers and
// /api/v1/peers/:address as Idle with adminShutdown, its configured
// description, ASN and hold time, zero counters; counted by /api/v1/status;
// bgp_peer_admin_shutdown 1 and bgp_peer_state 1 (Idle) in /metrics, so the
// BgpPeerDown alert spares it. It looks the same as a peer shut down through
// POST /api/v1/peers/:address/shutdown. Enabling it through the API is refused
// (the config is what keeps it down); a reload with shutdown: false starts its
// session; a reload without it drops it from the list.
import { describe, expect, it } from 'vitest';
import { configOf, useDaemons } from '../helpers/daemon.js';

/** The value of one Prometheus sample whose labels include `labels`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Polls an async condition (the metrics keep one peers() read for 250 ms). */
async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const { start } = useDaemons();

const base = `
routerId: 10.0.0.61
asn: 65060
listen: { enabled: false }
api: { listen: "127.0.6.1:0" }
fib: { enabled: false }
`;
const up = '  - { address: 127.0.6.2, asn: 65062, passive: true, description: node-up }\n';
const shut = (shutdown: boolean) => `  - { address: 127.0.6.3, asn: 65063, passive: true, holdTime: 30, description: node-shut, shutdown: ${shutdown} }\n`;

type Peer = Record<string, unknown> & { address: string; state: string; adminShutdown: boolean };

describe('a neighbor shut down in the config', () => {
  it('is listed as Idle and admin shut down in the API and the metrics, like one shut down through the API; a reload brings it up or removes it', async () => {
    const { d } = await start(base + 'neighbors:\n' + up + shut(true), { api: true });
    const get = async (path: string) => {
      const r = await fetch(d.apiUrl + path);
      return { status: r.status, text: await r.text() };
    };
    const json = async (path: string) => JSON.parse((await get(path)).text) as Record<string, unknown>;
    const post = async (path: string) => {
      const r = await fetch(d.apiUrl + path, { method: 'POST' });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const peers = async () => (await json('/api/v1/peers')).peers as Peer[];
    const metric = async (name: string, peer: string) => sample((await get('/metrics')).text, name, { peer });

    // Listed, with its configured facts and nothing counted.
    expect((await peers()).map((p) => p.address).sort()).toEqual(['127.0.6.2', '127.0.6.3']);
    const listed = (await peers()).find((p) => p.address === '127.0.6.3');
    const expected = {
      address: '127.0.6.3',
      asn: 65063,
      description: 'node-shut',
      state: 'Idle',
      uptimeSeconds: 0,
      dynamic: false,
      adminShutdown: true,
      holdTime: { configured: 30 },
      localAsn: 65060,
      establishedTransitions: 0,
      prefixes: { received: 0, accepted: 0, advertised: 0 },
      prefixesByFamily: { 'ipv4-unicast': { received: 0, accepted: 0, advertised: 0 }, 'ipv6-unicast': { received: 0, accepted: 0, advertised: 0 } },
      messages: {
        received: { open: 0, update: 0, notification: 0, keepalive: 0, 'route-refresh': 0 },
        sent: { open: 0, update: 0, notification: 0, keepalive: 0, 'route-refresh': 0 },
      },
      notifications: { sent: [], received: [] },
    };
    expect(listed).toMatchObject(expected);
    const detail = await get('/api/v1/peers/127.0.6.3');
    expect(detail.status).toBe(200);
    expect(JSON.parse(detail.text)).toEqual(listed);
    // By its description too, as `bgp-ts peers` shows it.
    expect(await json('/api/v1/peers/node-shut')).toEqual(listed);
    expect((await json('/api/v1/status')).peers).toMatchObject({ configured: 2, dynamic: 0, established: 0, adminShutdown: 1 });
    // Still no session: it never dials, and readiness does not wait for it.
    expect(d.peer('127.0.6.3')).toBeUndefined();
    expect(JSON.parse((await get('/readyz')).text).reasons).not.toEqual(expect.arrayContaining([expect.stringContaining('127.0.6.3')]));

    const metrics = (await get('/metrics')).text;
    const labels = { peer: '127.0.6.3', peer_asn: '65063', description: 'node-shut' };
    expect(sample(metrics, 'bgp_peer_admin_shutdown', labels)).toBe(1);
    expect(sample(metrics, 'bgp_peer_state', labels)).toBe(1);
    expect(sample(metrics, 'bgp_peer_uptime_seconds', labels)).toBe(0);
    expect(sample(metrics, 'bgp_messages_received_total', { ...labels, type: 'update' })).toBe(0);
    expect(sample(metrics, 'bgp_peer_admin_shutdown', { peer: '127.0.6.2' })).toBe(0);

    // Shutting it down again is no error; enabling it is refused: the config keeps it down.
    const again = await post('/api/v1/peers/127.0.6.3/shutdown');
    expect(again.status).toBe(200);
    expect(again.body.detail).toMatch(/already shut down in the config/);
    const enable = await post('/api/v1/peers/node-shut/enable');
    expect(enable.status).toBe(409);
    expect(enable.body.message).toMatch(/neighbors\[\]\.shutdown: true/);
    expect((await post('/api/v1/peers/127.0.6.3/reset')).status).toBe(409);
    expect(d.peer('127.0.6.3')).toBeUndefined();

    // The other peer shut down through the API looks the same: Idle, adminShutdown, 1 in the metrics.
    expect((await post('/api/v1/peers/127.0.6.2/shutdown')).status).toBe(200);
    expect(await json('/api/v1/peers/127.0.6.2')).toMatchObject({ state: 'Idle', adminShutdown: true, description: 'node-up' });
    expect((await json('/api/v1/status')).peers).toMatchObject({ configured: 2, adminShutdown: 2 });
    await until(async () => (await metric('bgp_peer_admin_shutdown', '127.0.6.2')) === 1, 3000, 'API shutdown in the metrics');
    expect(await metric('bgp_peer_state', '127.0.6.2')).toBe(1);

    // shutdown: false: its session starts, no longer in the admin-shutdown form.
    const r = await d.reload(configOf(base + 'neighbors:\n' + up + shut(false), { api: true }));
    expect(r).toMatchObject({ ok: true });
    expect(d.peer('127.0.6.3')).toBeDefined();
    const enabled = (await json('/api/v1/peers/127.0.6.3')) as Peer;
    expect(enabled).toMatchObject({ address: '127.0.6.3', description: 'node-shut', adminShutdown: false });
    expect(['Idle', 'Connect', 'Active']).toContain(enabled.state);
    expect((await peers()).filter((p) => p.address === '127.0.6.3')).toHaveLength(1);
    await until(async () => (await metric('bgp_peer_admin_shutdown', '127.0.6.3')) === 0, 3000, 'enabled in the metrics');

    // Shut down in the config again, then removed: gone from the list, the detail and the metrics.
    await d.reload(configOf(base + 'neighbors:\n' + up + shut(true), { api: true }));
    expect(d.peer('127.0.6.3')).toBeUndefined();
    expect(await json('/api/v1/peers/127.0.6.3')).toMatchObject({ state: 'Idle', adminShutdown: true });
    await d.reload(configOf(base + 'neighbors:\n' + up, { api: true }));
    expect((await peers()).map((p) => p.address)).toEqual(['127.0.6.2']);
    expect((await get('/api/v1/peers/127.0.6.3')).status).toBe(404);
    await until(async () => (await metric('bgp_peer_state', '127.0.6.3')) === undefined, 3000, 'removed from the metrics');
  });
});

describe('a neighbor shut down through the API', () => {
  it('stays down across a reload that resets its session, until enabled; removed and added again it starts fresh', async () => {
    const peerLine = (hold: number) => `  - { address: 127.0.6.12, asn: 65062, passive: true, holdTime: ${hold}, description: node-api }\n`;
    const { d } = await start(base + 'neighbors:\n' + peerLine(90), { api: true });
    const json = async (path: string) => (await (await fetch(d.apiUrl + path)).json()) as Peer;
    const post = async (path: string) => (await fetch(d.apiUrl + path, { method: 'POST' })).status;
    expect(await post('/api/v1/peers/127.0.6.12/shutdown')).toBe(200);
    const first = d.peer('127.0.6.12');
    expect(await json('/api/v1/peers/127.0.6.12')).toMatchObject({ state: 'Idle', adminShutdown: true });

    // holdTime is carried in the OPEN: the reload resets the session (a new one is made) but does not start it.
    expect(await d.reload(configOf(base + 'neighbors:\n' + peerLine(30), { api: true }))).toMatchObject({ ok: true });
    const second = d.peer('127.0.6.12');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(await json('/api/v1/peers/127.0.6.12')).toMatchObject({ state: 'Idle', adminShutdown: true, holdTime: { configured: 30 } });
    expect(second!.state).toBe('Idle');

    // Enabled: it starts (passive: Active, waiting for the peer) and is no longer admin shut down.
    expect(await post('/api/v1/peers/node-api/enable')).toBe(200);
    const enabled = await json('/api/v1/peers/127.0.6.12');
    expect(enabled.adminShutdown).toBe(false);
    expect(['Connect', 'Active']).toContain(enabled.state);

    // Shut down again, removed from the config, then added back: a fresh start, not held down.
    expect(await post('/api/v1/peers/127.0.6.12/shutdown')).toBe(200);
    await d.reload(configOf(base + 'neighbors: []\n', { api: true }));
    expect(d.peer('127.0.6.12')).toBeUndefined();
    await d.reload(configOf(base + 'neighbors:\n' + peerLine(30), { api: true }));
    const fresh = await json('/api/v1/peers/127.0.6.12');
    expect(fresh.adminShutdown).toBe(false);
    expect(['Connect', 'Active']).toContain(fresh.state);
  });
});
