// Operations over loopback, end to end through the HTTP API: two bgp-ts
// daemons in one iBGP session (A is the device under test, started from a
// config file; B is its peer). A reload through POST /api/v1/config/reload
// that changes an export rule, a description and adds a neighbor keeps the
// session (same PeerSession, one Established transition, no NOTIFICATION)
// while B loses the filtered prefix (soft-out, RFC 4271 §9.2); a broken file
// and a routerId change answer 422 naming the path and change nothing;
// log.level applies live; an api.listen change moves the API; /readyz turns
// 503 naming a peer past its grace; /metrics carries the per-peer series;
// removing the neighbor sends Cease / Peer De-configured (RFC 4486 §4; no
// text: RFC 9003 §2 gives one to subcodes 2 and 4 only), counted by
// code/subcode at B.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { prefixParse } from '../../src/lib/prefix.js';
import { recordingLogger, until } from '../helpers/session.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const events = (lines: Record<string, unknown>[], event: string) => lines.filter((l) => l.event === event);

/** The value of one Prometheus sample whose labels include `labels`; undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function start(path: string, peerGraceMs?: number) {
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const log = recordingLogger('info');
  const d = await startDaemon(loaded.config, { logger: log.logger, configPath: path, ...(peerGraceMs !== undefined ? { peerGraceMs } : {}) });
  cleanup.push(() => d.stop());
  return { d, lines: log.lines, logger: log.logger };
}

const get = async (d: Daemon, path: string) => {
  const r = await fetch(`${d.apiUrl}${path}`);
  return { status: r.status, text: await r.text() };
};
const post = async (d: Daemon, path: string) => {
  const r = await fetch(`${d.apiUrl}${path}`, { method: 'POST' });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

const A = (extra: { neighbors?: string; exportRules?: string; routerId?: string; level?: string; api?: string } = {}) => `
routerId: ${extra.routerId ?? '10.0.0.51'}
asn: 65050
listen: { addresses: ["127.0.0.51"], port: 0 }
fib: { enabled: false }
api: { listen: "${extra.api ?? '127.0.0.51:0'}" }
log: { level: ${extra.level ?? 'info'} }
originate:
  - { prefix: 10.51.1.0/24 }
  - { prefix: 10.51.2.0/24 }
neighbors:
  - address: 127.0.0.52
    asn: 65050
    passive: true
    holdTime: 3
${extra.exportRules ?? ''}${extra.neighbors ?? ''}`;

describe('operations: reload, readiness and metrics over loopback', () => {
  it('reload keeps the session and applies policy softly; bad reloads change nothing; removal sends Peer De-configured', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bgp-ts-ops-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'a.yaml');
    await writeFile(file, A());
    const a = await start(file, 1500);
    const bFile = join(dir, 'b.yaml');
    await writeFile(
      bFile,
      `
routerId: 10.0.0.52
asn: 65050
listen: { enabled: false }
fib: { enabled: false }
api: { listen: "127.0.0.52:0" }
originate: [ { prefix: 10.52.1.0/24 }, { prefix: 10.52.2.0/24 }, { prefix: 10.52.3.0/24 } ]
neighbors:
  - { address: 127.0.0.51, port: ${a.d.listenPort}, localAddress: 127.0.0.52, asn: 65050, holdTime: 3 }
`,
    );
    const b = await start(bFile);
    const k = (t: string) => prefixParse(t)!;
    await until(() => a.d.peer('127.0.0.52')?.state === 'Established', 5000, 'Established');
    await until(() => b.d.rib.locRib.best(k('10.51.2.0/24')) !== undefined && a.d.rib.peerStats('127.0.0.52')?.byFamily['ipv4-unicast'].received === 3, 5000, 'routes both ways');
    const session = a.d.peer('127.0.0.52')!;
    const since = session.establishedSince;

    // Ready: the only configured peer is Established, the dry-run FIB counts as reconciled.
    expect(await get(a.d, '/readyz')).toMatchObject({ status: 200 });
    expect((await get(a.d, '/healthz')).status).toBe(200);

    // /metrics: the per-peer series with the values the session has.
    await until(() => (session.messages.received.keepalive ?? 0) >= 2, 5000, 'keepalives');
    const m = (await get(a.d, '/metrics')).text;
    const peer = { peer: '127.0.0.52', peer_asn: '65050' };
    expect(sample(m, 'bgp_peer_state', peer)).toBe(6);
    expect(sample(m, 'bgp_prefixes_received', { ...peer, family: 'ipv4-unicast' })).toBe(3);
    expect(sample(m, 'bgp_prefixes_accepted', { ...peer, family: 'ipv4-unicast' })).toBe(3);
    expect(sample(m, 'bgp_prefixes_advertised', { ...peer, family: 'ipv4-unicast' })).toBe(2);
    expect(sample(m, 'bgp_messages_received_total', { ...peer, type: 'open' })).toBe(1);
    expect(sample(m, 'bgp_messages_sent_total', { ...peer, type: 'open' })).toBe(1);
    expect(sample(m, 'bgp_messages_received_total', { ...peer, type: 'keepalive' })).toBeGreaterThanOrEqual(2);
    expect(sample(m, 'bgp_messages_sent_total', { ...peer, type: 'keepalive' })).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'bgp_messages_received_total', { ...peer, type: 'update' })).toBeGreaterThanOrEqual(2); // routes + End-of-RIB
    expect(sample(m, 'bgp_messages_sent_total', { ...peer, type: 'update' })).toBeGreaterThanOrEqual(2);
    expect(sample(m, 'bgp_peer_established_transitions_total', peer)).toBe(1);
    expect(sample(m, 'rib_routes', { family: 'ipv4-unicast' })).toBe(5);
    expect(sample(m, 'nodejs_eventloop_delay_max_seconds')).toBeGreaterThanOrEqual(0);
    const apiPeer = JSON.parse((await get(a.d, '/api/v1/peers/127.0.0.52')).text) as Record<string, unknown>;
    expect(apiPeer).toMatchObject({
      state: 'Established',
      holdTime: { configured: 3, negotiated: 3 },
      capabilities: { families: ['ipv4-unicast', 'ipv6-unicast'], fourOctetAs: true, routeRefresh: true },
      messages: { received: { open: 1 }, sent: { open: 1 } },
    });

    // Export rule (filters 10.51.2.0/24), a description and a second neighbor: the session stays.
    const next = A({
      exportRules: `    description: node-b
    export:
      - { match: { prefix: 10.51.2.0/24 }, action: reject }
      - { action: accept }
`,
      neighbors: `  - { address: 127.0.0.53, asn: 65050, passive: true }\n`,
    });
    await writeFile(file, next);
    const r = await post(a.d, '/api/v1/config/reload');
    expect(r.status).toBe(200);
    expect(r.body.changes).toEqual(expect.arrayContaining(['neighbor 127.0.0.52: session kept, soft-out (export, description)', 'neighbor 127.0.0.53: added']));
    await until(() => b.d.rib.locRib.best(k('10.51.2.0/24')) === undefined, 5000, 'B withdraws the filtered prefix');
    expect(b.d.rib.locRib.best(k('10.51.1.0/24'))).toBeDefined();
    expect(a.d.peer('127.0.0.52')).toBe(session);
    expect(session.state).toBe('Established');
    expect(session.establishedSince).toBe(since);
    expect(events(b.lines, 'notification-received')).toHaveLength(0);
    expect(events(a.lines, 'config-reloaded')[0]).toMatchObject({ source: 'api' });
    await new Promise((res) => setTimeout(res, 300)); // metrics cache one peers() read for 250 ms
    expect(sample((await get(a.d, '/metrics')).text, 'bgp_peer_established_transitions_total', { ...peer, description: 'node-b' })).toBe(1);

    // An import rule: B's 10.52.3.0/24 leaves A's Loc-RIB, still held in the Adj-RIB-In (soft-in, no refresh needed).
    const withImport = next.replace('    export:\n', '    import:\n      - { match: { prefix: 10.52.3.0/24 }, action: reject }\n      - { action: accept }\n    export:\n');
    await writeFile(file, withImport);
    expect((await post(a.d, '/api/v1/config/reload')).body.changes).toEqual(['neighbor 127.0.0.52: session kept, soft-in (import)']);
    await until(() => a.d.rib.locRib.best(k('10.52.3.0/24')) === undefined, 5000, 'import rule applied');
    expect(a.d.rib.peerStats('127.0.0.52')?.byFamily['ipv4-unicast']).toMatchObject({ received: 3, accepted: 2 });
    const refreshes = session.messages.sent['route-refresh'];
    await writeFile(file, next);
    await post(a.d, '/api/v1/config/reload');
    await until(() => a.d.rib.locRib.best(k('10.52.3.0/24')) !== undefined, 5000, 'import rule removed: the kept path is back');
    expect(session.messages.sent['route-refresh']).toBe(refreshes);
    expect(session.establishedSince).toBe(since);

    // The new neighbor never comes up: past its grace /readyz answers 503 naming it.
    await until(() => a.d.sessions().length === 2, 2000, 'second neighbor');
    await new Promise((res) => setTimeout(res, 1600));
    const ready = await get(a.d, '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ ready: false, reasons: [expect.stringMatching(/^peer 127\.0\.0\.53 is (Active|Idle|Connect)/)] });

    // A broken file: 422 naming the path, the running config unchanged.
    await writeFile(file, next.replace('holdTime: 3', 'holdTime: 2'));
    const bad = await post(a.d, '/api/v1/config/reload');
    expect(bad.status).toBe(422);
    expect((bad.body.errors as string[]).join('\n')).toMatch(/neighbors\[0\]\.holdTime/);
    expect(events(a.lines, 'config-reload-rejected')).toHaveLength(1);
    // A router ID change cannot be applied live: 422 naming routerId.
    await writeFile(file, A({ routerId: '10.0.0.59' }));
    const id = await post(a.d, '/api/v1/config/reload');
    expect(id.status).toBe(422);
    expect((id.body.errors as string[])[0]).toMatch(/^routerId: router ID 10\.0\.0\.51 -> 10\.0\.0\.59 cannot change while running/);
    const running = JSON.parse((await get(a.d, '/api/v1/config')).text) as { routerId: string; neighbors: { description?: string }[] };
    expect(running.routerId).toBe('10.0.0.51');
    expect(running.neighbors[0]?.description).toBe('node-b');
    expect(session.state).toBe('Established');

    // log.level applies at once; an api.listen change moves the API.
    const oldUrl = a.d.apiUrl!;
    await writeFile(file, next.replace('level: info', 'level: warn').replace('127.0.0.51:0', '127.0.0.54:0'));
    const moved = await post(a.d, '/api/v1/config/reload');
    expect(moved.body.changes).toEqual(expect.arrayContaining(['log.level: info -> warn', 'api: restarted on 127.0.0.54:0']));
    expect(a.logger.level).toBe('warn');
    await until(() => a.d.apiUrl?.startsWith('http://127.0.0.54:') === true, 3000, 'API moved');
    await expect(fetch(`${oldUrl}/healthz`)).rejects.toThrow();
    expect((await get(a.d, '/healthz')).status).toBe(200);

    // Removing the neighbor: Cease / Peer De-configured; B counts it by code/subcode.
    await writeFile(file, next.replace('level: info', 'level: warn').replace('127.0.0.51:0', '127.0.0.54:0').replace(/neighbors:[\s\S]*$/, 'neighbors: []\n'));
    expect((await post(a.d, '/api/v1/config/reload')).status).toBe(200);
    await until(() => events(b.lines, 'notification-received').length > 0, 3000, 'NOTIFICATION at B');
    expect(events(b.lines, 'notification-received')[0]).toMatchObject({ code: 6, subcode: 3, name: 'Cease / Peer De-configured' });
    const bm = (await get(b.d, '/metrics')).text;
    expect(sample(bm, 'bgp_notifications_received_total', { peer: '127.0.0.51', code: '6', subcode: '3' })).toBe(1);
    expect(sample(bm, 'bgp_messages_received_total', { peer: '127.0.0.51', type: 'notification' })).toBe(1);
    expect(a.d.sessions()).toEqual([]);
  });
});
