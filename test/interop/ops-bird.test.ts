// Interop (operations issue, proofs a-c) against BIRD 2 over eBGP: bgp-ts in
// `dut` (10.0.0.1, AS 65001) originating two /26 blocks, BIRD in `bird`
// (10.0.0.2, AS 65002) announcing three. While the session runs:
// (b) /metrics carries the per-peer series with the session's real values
//     (state 6, prefixes received = what BIRD announced, OPEN/KEEPALIVE/UPDATE
//     counted both ways) and, after an administrative shutdown, the
//     NOTIFICATION counted by code/subcode;
// (c) the CLI against the live daemon: `peers`, `routes`, `explain`;
// (a) reloads: an export rule, a description and a second neighbor (SIGHUP)
//     keep the session (no session-down, BIRD's "since" unchanged, one
//     Established transition) while BIRD loses the filtered block (soft-out,
//     RFC 4271 §9.2); a broken file and a routerId change through
//     POST /api/v1/config/reload answer 422 naming the path and change
//     nothing; removing the neighbor gives BIRD Cease / Peer De-configured
//     (RFC 4486 §4).

import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BgpTsDaemon, CLI_PATH, eventIs } from './harness/bgp-ts.js';
import { BirdPeer, birdProtocolName } from './harness/bird.js';
import { pollUntil, run, runIn } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import { interopGate } from './harness/prerequisites.js';
import { waitForNoPath, waitForPath } from './harness/routes.js';

const DUT = { v4: '10.0.0.1', id: '192.0.2.1', asn: 65001 };
const BIRD = { v4: '10.0.0.2', v6: '2001:db8::2', id: '192.0.2.2', asn: 65002 };
const DUT_BLOCKS = ['10.244.1.0/26', '10.244.1.64/26'];
const BIRD_BLOCKS = ['10.245.0.0/26', '10.245.0.64/26', '10.245.0.128/26'];
const API = 'http://127.0.0.1:9179';

const skip = interopGate(['bird']);

/** The value of one Prometheus sample whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe.skipIf(skip !== undefined)('operations against BIRD 2: metrics, CLI and reload with a live session', () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let bird: BirdPeer;
  let birdSock: string;
  const ns = () => topo.node('dut').ns;

  /** HTTP inside the daemon's namespace: status and body, without failing on 4xx/5xx. */
  const http = async (method: 'GET' | 'POST', path: string, json?: unknown): Promise<{ status: number; body: string }> => {
    const body = json === undefined ? [] : ['-H', 'content-type: application/json', '--data', JSON.stringify(json)];
    const r = await runIn(ns(), 'curl', ['-sS', '--max-time', '5', '-X', method, ...body, '-w', '\n%{http_code}', `${API}${path}`]);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
  };
  const metrics = async () => (await http('GET', '/metrics')).body;
  const cli = (...args: string[]) => runIn(ns(), process.execPath, [CLI_PATH, ...args, '--api', API], { allowFailure: true });
  /** BIRD's "since" column for the protocol: it changes on every state change. */
  const birdSince = async () => {
    const { stdout } = await run('birdc', ['-s', birdSock, 'show', 'protocols', birdProtocolName(DUT.v4)]);
    const line = stdout.split('\n').find((l) => l.startsWith(birdProtocolName(DUT.v4)));
    return line?.trim().split(/\s+/).slice(3, 5).join(' ');
  };
  const peerLabels = { peer: BIRD.v4, peer_asn: String(BIRD.asn) };
  // Passive: BIRD dials. Both sides dialing at once ends in a collision (RFC 4271 §6.8), whose losing
  // connection's OPEN and Cease count too, and the counts below are of one connection.
  const neighbor = { address: BIRD.v4, asn: BIRD.asn, holdTime: 9, connectRetryTime: 1, passive: true };

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'bird']);
    const dir = join(topo.dir, 'bird-ops');
    mkdirSync(dir, { recursive: true });
    birdSock = join(dir, 'bird.ctl');
    bird = new BirdPeer(
      {
        routerId: BIRD.id,
        asn: BIRD.asn,
        nextHop: { ipv4: BIRD.v4, ipv6: BIRD.v6 },
        neighbors: [{ address: DUT.v4, asn: DUT.asn, localAddress: BIRD.v4, families: ['ipv4-unicast'], holdTime: 9 }],
        routes: BIRD_BLOCKS,
      },
      topo.node('bird').ns,
      dir,
    );
    dut = new BgpTsDaemon(topo.node('dut').ns, topo.dir, {
      routerId: DUT.id,
      asn: DUT.asn,
      listen: { addresses: [DUT.v4] },
      neighbors: [neighbor],
      originate: DUT_BLOCKS.map((prefix) => ({ prefix })),
      api: { listen: '127.0.0.1:9179' },
      log: { level: 'info' },
    });
    await bird.start();
    await dut.start();
  });

  afterAll(async () => {
    await dut?.stop();
    await bird?.stop();
    await topo?.destroy();
  });

  it('reaches Established and exchanges routes both ways', async () => {
    await dut.waitForEvent(eventIs('session-established', { peer: BIRD.v4 }), 30_000);
    for (const p of DUT_BLOCKS) await waitForPath(bird, p, { from: DUT.v4 });
    await pollUntil(async () => (await dut.routes(BIRD_BLOCKS[2]!)).length === 1, { timeoutMs: 20_000, what: 'bgp-ts learns BIRD blocks' });
    expect((await http('GET', '/readyz')).status).toBe(200);
  });

  it('(b) /metrics: state 6, prefixes received = what BIRD announced, messages counted both ways', async () => {
    // Let a KEEPALIVE or two pass (hold 9 s: every 3 s).
    const m = await pollUntil(async () => {
      const text = await metrics();
      return (sample(text, 'bgp_messages_received_total', { ...peerLabels, type: 'keepalive' }) ?? 0) >= 2 ? text : undefined;
    }, { timeoutMs: 15_000, what: 'KEEPALIVEs counted' });
    expect(sample(m, 'bgp_peer_state', peerLabels)).toBe(6);
    expect(sample(m, 'bgp_prefixes_received', { ...peerLabels, family: 'ipv4-unicast' })).toBe(BIRD_BLOCKS.length);
    expect(sample(m, 'bgp_prefixes_accepted', { ...peerLabels, family: 'ipv4-unicast' })).toBe(BIRD_BLOCKS.length);
    expect(sample(m, 'bgp_prefixes_advertised', { ...peerLabels, family: 'ipv4-unicast' })).toBe(DUT_BLOCKS.length);
    for (const dir of ['received', 'sent'] as const) {
      expect(sample(m, `bgp_messages_${dir}_total`, { ...peerLabels, type: 'open' })).toBe(1);
      expect(sample(m, `bgp_messages_${dir}_total`, { ...peerLabels, type: 'update' })).toBeGreaterThan(0);
      expect(sample(m, `bgp_messages_${dir}_total`, { ...peerLabels, type: 'keepalive' })).toBeGreaterThan(0);
    }
    expect(sample(m, 'bgp_peer_established_transitions_total', peerLabels)).toBe(1);
    expect(sample(m, 'bgp_peer_uptime_seconds', peerLabels)).toBeGreaterThanOrEqual(0);
    expect(sample(m, 'rib_routes', { family: 'ipv4-unicast' })).toBe(DUT_BLOCKS.length + BIRD_BLOCKS.length);
    expect(sample(m, 'nodejs_eventloop_delay_max_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('(c) the CLI against the live daemon: peers, routes, explain', async () => {
    const peers = await cli('peers');
    expect(peers.code).toBe(0);
    const row = peers.stdout.split('\n').find((l) => l.includes(BIRD.v4));
    expect(row).toMatch(/Established/);
    expect(row).toContain(String(BIRD.asn));
    const routes = await cli('routes');
    expect(routes.code).toBe(0);
    for (const p of [...DUT_BLOCKS, ...BIRD_BLOCKS]) expect(routes.stdout).toContain(p);
    const explain = await cli('explain', BIRD_BLOCKS[0]!);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain(BIRD_BLOCKS[0]);
    expect(explain.stdout).toContain(BIRD.v4);
    expect(explain.stdout).toMatch(/best/i);
    const missing = await cli('explain', '10.99.0.0/24');
    expect(missing.code).toBe(1);
  });

  it('(a) SIGHUP: export rule + description + a second neighbor keep the session; BIRD loses the filtered block', async () => {
    const birdBefore = await birdSince();
    const mark = dut.mark();
    dut.config = {
      ...dut.config,
      neighbors: [
        { ...neighbor, description: 'bird-tor', export: [{ match: { prefix: DUT_BLOCKS[1] }, action: 'reject' }, { action: 'accept' }] },
        { address: '10.0.0.9', asn: 65009, passive: true },
      ],
    };
    await dut.reload();
    await waitForNoPath(bird, DUT_BLOCKS[1]!, { from: DUT.v4 });
    expect((await waitForPath(bird, DUT_BLOCKS[0]!, { from: DUT.v4 })).best).toBe(true);
    expect(dut.find(eventIs('config-applied'), mark)?.['changes']).toEqual(
      expect.arrayContaining([`neighbor ${BIRD.v4}: session kept, soft-out (export, description)`, 'neighbor 10.0.0.9: added']),
    );
    expect(dut.find((e) => e.event === 'session-down' && e['peer'] === BIRD.v4, mark)).toBeUndefined();
    expect(await bird.neighborState(DUT.v4)).toBe('Established');
    expect(await birdSince()).toBe(birdBefore);
    const peer = JSON.parse((await http('GET', `/api/v1/peers/${BIRD.v4}`)).body) as Record<string, unknown>;
    expect(peer).toMatchObject({ state: 'Established', description: 'bird-tor', establishedTransitions: 1 });
    // The new neighbor is within its startup grace: still ready.
    expect(JSON.parse((await http('GET', '/readyz')).body)).toEqual({ ready: true, reasons: [] });
  });

  it('(a) POST /api/v1/config/reload with a broken file or a routerId change: 422 naming the path, nothing changes', async () => {
    const mark = dut.mark();
    const good = stringify({ log: { level: 'info' }, fib: { enabled: false }, ...dut.config });
    await writeFile(dut.configPath, good.replace('holdTime: 9', 'holdTime: 2'));
    const bad = await http('POST', '/api/v1/config/reload');
    expect(bad.status).toBe(422);
    expect(bad.body).toMatch(/neighbors\[0\]\.holdTime/);
    await writeFile(dut.configPath, good.replace(`routerId: ${DUT.id}`, 'routerId: 192.0.2.99'));
    const id = await http('POST', '/api/v1/config/reload');
    expect(id.status).toBe(422);
    expect(id.body).toMatch(/routerId: router ID 192\.0\.2\.1 -> 192\.0\.2\.99 cannot change while running/);
    expect(dut.filter(eventIs('config-reload-rejected'), mark)).toHaveLength(2);
    const running = JSON.parse((await http('GET', '/api/v1/config')).body) as { routerId: string; neighbors: { holdTime: number }[] };
    expect(running).toMatchObject({ routerId: DUT.id, neighbors: [{ holdTime: 9 }, expect.anything()] });
    expect(await bird.neighborState(DUT.v4)).toBe('Established');
    expect(dut.find((e) => e.event === 'session-down', mark)).toBeUndefined();
    await writeFile(dut.configPath, good);
  });

  it('(b) an administrative shutdown is counted by code/subcode; BIRD shows its text', async () => {
    const r = await http('POST', `/api/v1/peers/${BIRD.v4}/shutdown`, { message: 'maintenance window' });
    expect(r.status).toBe(200);
    await pollUntil(async () => (await bird.lastNotificationReceived(DUT.v4)) !== undefined, { timeoutMs: 10_000, what: 'BIRD got the NOTIFICATION' });
    // RFC 9003: the shutdown communication travels with Cease / Administrative Shutdown.
    expect(await bird.lastNotificationReceived(DUT.v4)).toMatchObject({ summary: expect.stringMatching(/Administrative shutdown/i), text: 'maintenance window' });
    const m = await metrics();
    expect(sample(m, 'bgp_notifications_sent_total', { ...peerLabels, code: '6', subcode: '2' })).toBe(1);
    expect(sample(m, 'bgp_messages_sent_total', { ...peerLabels, type: 'notification' })).toBe(1);
    expect(sample(m, 'bgp_peer_state', peerLabels)).not.toBe(6);
    expect((await http('POST', `/api/v1/peers/${BIRD.v4}/enable`)).status).toBe(200);
    await pollUntil(async () => sample(await metrics(), 'bgp_peer_established_transitions_total', peerLabels) === 2, { timeoutMs: 30_000, what: 'Established again' });
  });

  it('(a) removing the neighbor gives BIRD Cease / Peer De-configured', async () => {
    const mark = dut.mark();
    dut.config = { ...dut.config, neighbors: [{ address: '10.0.0.9', asn: 65009, passive: true }] };
    await dut.reload();
    await pollUntil(async () => /de-?configured/i.test((await bird.lastNotificationReceived(DUT.v4))?.summary ?? ''), { timeoutMs: 10_000, what: 'BIRD: Peer De-configured' });
    expect(dut.find(eventIs('notification-sent', { peer: BIRD.v4 }), mark)).toMatchObject({ code: 6, subcode: 3 });
    for (const p of BIRD_BLOCKS) expect(await dut.routes(p)).toEqual([]);
    // The removed peer's series drop out (the metrics reuse one peers() read for 250 ms).
    await pollUntil(async () => sample(await metrics(), 'bgp_peer_state', peerLabels) === undefined, { timeoutMs: 5_000, what: 'peer series gone' });
  });
});
