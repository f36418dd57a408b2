// Interop, BFD (RFC 5880 asynchronous mode, RFC 5881 single hop) against FRR:
// bgp-ts in one namespace, FRR bgpd plus FRR bfdd in the other. bgpd runs
// without zebra here, which is how bgpd would learn BFD state, so bfdd runs
// on its own with static single-hop peers (`bfd / peer X local-address Y`):
// the FRR side shows the BFD session, bgp-ts couples it to its own BGP
// session (RFC 5882). Covered: Up on both sides (`show bfd peers json`) with
// the configured intervals, 30 s without a flap, new timers by Poll/Final on
// a reload (no flap), a peer without BFD (IPv6 neighbor: bfdd has no peer for
// it) keeps BGP Established with BFD Down, a fuzzer in the peer namespace
// (TTL 64, bad version/length, zero discriminators) dropped and counted with
// the session untouched, bfdd killed: BFD Down (detection time expired) and
// the BGP session closed with Cease / BFD Down (RFC 9384), then re-established
// without BFD; bfdd shutting its peer (AdminDown) takes BFD Down but leaves
// BGP Established (RFC 5882 §3.2); AdminDown reaches bfdd when bgp-ts stops.

import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, REPO_ROOT, eventIs } from './harness/bgp-ts.js';
import { pollUntil, run, runIn, sleep } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { FrrPeer } from './harness/frr.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';
import { registerDirectory, spawnIn, unregisterDirectory, type ManagedProcess } from './harness/processes.js';

const BFDD = '/usr/lib/frr/bfdd';
const reason = interopGate(['frr']) ?? bfddGate();

/** bfdd ships in Debian's frr package; like interopGate: a skip reason locally, a failure under CI. */
function bfddGate(): string | undefined {
  if (existsSync(BFDD)) return undefined;
  const why = `${BFDD} not found (apt-get install frr)`;
  if (process.env['CI'] === 'true') throw new Error(`interop prerequisite missing under CI: ${why}`);
  console.warn(`[interop skipped] ${why}`);
  return why;
}

interface FrrBfdPeer {
  peer: string;
  status: string;
  id: number;
  'remote-id': number;
  diagnostic: string;
  'remote-diagnostic': string;
  'receive-interval': number;
  'transmit-interval': number;
  'remote-receive-interval': number;
  'remote-transmit-interval': number;
  'detect-multiplier': number;
  'remote-detect-multiplier': number;
  uptime?: number;
}

interface BfdView {
  peer: string;
  state: string;
  diagnostic: string;
  lastDownDiagnostic: string;
  txIntervalMs: number;
  rxIntervalMs: number;
  detectionTimeMs: number;
  flaps: number;
  remoteMinRxMs: number;
}
interface BfdList {
  sessions: BfdView[];
  received: number;
  dropped: Record<string, number>;
}

describe.skipIf(reason !== undefined)(`BFD against FRR bfdd${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let frr: FrrPeer;
  let bfdd: ManagedProcess | undefined;
  let bfddDir: string;
  let DUT: { v4: string; v6: string };
  let PEER: { v4: string; v6: string };

  const startBfdd = async (): Promise<void> => {
    const conf = ['bfd', ` peer ${DUT.v4} local-address ${PEER.v4}`, '  receive-interval 300', '  transmit-interval 300', '  detect-multiplier 3', ' exit', 'exit', ''];
    writeFileSync(join(bfddDir, 'bfdd.conf'), conf.join('\n'));
    bfdd = spawnIn(topo.node('frr').ns, 'bfdd', BFDD, ['-f', join(bfddDir, 'bfdd.conf'), '--vty_socket', bfddDir, '-i', join(bfddDir, 'bfdd.pid')]);
    await pollUntil(async () => (await frrPeers()).length > 0, { timeoutMs: 10_000, what: 'bfdd answering' });
  };
  /** A killed bfdd leaves its crash-log directory behind (as bgpd does, harness/frr.ts). */
  const stopBfdd = async (kill = false): Promise<void> => {
    const pid = bfdd?.pid;
    if (kill) await bfdd?.kill();
    else await bfdd?.stop(5_000);
    bfdd = undefined;
    if (pid !== undefined) rmSync(`/var/tmp/frr/bfdd.${pid}`, { recursive: true, force: true });
  };
  const frrPeers = async (): Promise<FrrBfdPeer[]> => {
    const r = await run('vtysh', ['--vty_socket', bfddDir, '-d', 'bfdd', '-c', 'show bfd peers json'], { allowFailure: true });
    try {
      return JSON.parse(r.stdout) as FrrBfdPeer[];
    } catch {
      return [];
    }
  };
  const frrPeer = async (): Promise<FrrBfdPeer | undefined> => (await frrPeers()).find((p) => p.peer === DUT.v4);
  const ours = async (peer: string): Promise<BfdView | undefined> => (await dut.apiGet<BfdList>('/api/v1/bfd')).sessions.find((s) => s.peer === peer);
  const bfdChanges = (since = 0) => dut.filter(eventIs('bfd-state-changed'), since);

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'frr']);
    const [a, b] = topo.nodes;
    DUT = { v4: a!.ipv4, v6: a!.ipv6 };
    PEER = { v4: b!.ipv4, v6: b!.ipv6 };
    // Its own directory outside the topology's (mode 0700, root's): bfdd runs as the frr user.
    bfddDir = mkdtempSync(join(tmpdir(), 'bgpts-bfdd-'));
    registerDirectory(bfddDir);
    const { uid, gid } = await frrIds();
    chownSync(bfddDir, uid, gid); // bfdd drops to the frr user and writes its pid and vty socket here
    frr = createPeer('frr', topo, 'frr', {
      routerId: PEER.v4,
      asn: 65010,
      nextHop: { ipv4: PEER.v4, ipv6: PEER.v6 },
      neighbors: [
        { address: DUT.v4, asn: 64512, localAddress: PEER.v4, families: ['ipv4-unicast'] },
        { address: DUT.v6, asn: 64512, localAddress: PEER.v6, families: ['ipv6-unicast'] },
      ],
      routes: ['10.77.0.0/24'],
    }) as FrrPeer;
    await frr.start();
    await startBfdd();
    dut = new BgpTsDaemon(a!.ns, join(topo.dir, 'dut'), {
      routerId: DUT.v4,
      asn: 64512,
      api: { listen: '127.0.0.1:9179' },
      bfd: { minRx: 300, minTx: 300, multiplier: 3 },
      neighbors: [
        { address: PEER.v4, asn: 65010, localAddress: DUT.v4, families: ['ipv4-unicast'], holdTime: 30, bfd: { enabled: true } },
        { address: PEER.v6, asn: 65010, localAddress: DUT.v6, families: ['ipv6-unicast'], holdTime: 30, bfd: { enabled: true } },
      ],
    });
    mkdirSync(join(topo.dir, 'dut'), { recursive: true });
    await dut.start();
  });

  afterAll(async () => {
    await dut?.stop();
    await stopBfdd();
    if (bfddDir) {
      rmSync(bfddDir, { recursive: true, force: true });
      unregisterDirectory(bfddDir);
    }
    await frr?.stop();
    await topo?.destroy();
  });

  it('comes Up on both sides with 300 ms x 3 as configured; BGP Established, the peer object shows bfd.state', async () => {
    await dut.waitForEvent(eventIs('session-established', { peer: PEER.v4 }), 30_000);
    await dut.waitForEvent(eventIs('bfd-state-changed', { peer: PEER.v4, to: 'Up' }), 20_000);
    const theirs = await pollUntil(async () => ((await frrPeer())?.status === 'up' ? frrPeer() : undefined), { timeoutMs: 10_000, what: 'FRR: BFD up' });
    expect(theirs).toMatchObject({ 'remote-receive-interval': 300, 'remote-transmit-interval': 300, 'remote-detect-multiplier': 3 });
    const mine = await pollUntil(async () => {
      const v = await ours(PEER.v4);
      return v?.state === 'Up' && v.txIntervalMs === 300 ? v : undefined;
    }, { timeoutMs: 10_000, what: 'bgp-ts: BFD Up at 300 ms' });
    expect(mine).toMatchObject({ txIntervalMs: 300, rxIntervalMs: 300, detectionTimeMs: 900 });
    const peer = await dut.apiGet<{ state: string; bfd?: { state: string } }>(`/api/v1/peers/${PEER.v4}`);
    expect(peer).toMatchObject({ state: 'Established', bfd: { state: 'Up' } });
  });

  it('stays Up for 30 s: no state change on either side', async () => {
    const since = dut.mark();
    const before = await frrPeer();
    await sleep(30_000);
    const after = await frrPeer();
    expect(bfdChanges(since)).toEqual([]);
    expect(after).toMatchObject({ status: 'up', id: before!.id, 'remote-id': before!['remote-id'] });
    expect((await ours(PEER.v4))!.flaps).toBe(0);
  });

  it('a peer without BFD (no bfdd peer for the IPv6 neighbor): BGP Established, BFD Down with a reason, no flap', async () => {
    await dut.waitForEvent(eventIs('session-established', { peer: PEER.v6 }), 30_000);
    const v = await ours(PEER.v6);
    expect(v).toMatchObject({ state: 'Down', flaps: 0, packetsIn: 0, downReason: 'no-packets-from-peer' });
    expect(dut.filter(eventIs('session-down', { peer: PEER.v6 }))).toEqual([]);
    const peer = await dut.apiGet<{ state: string; bfd?: { state: string } }>(`/api/v1/peers/${encodeURIComponent(PEER.v6)}`);
    expect(peer).toMatchObject({ state: 'Established', bfd: { state: 'Down' } });
  });

  it('new timers on reload go through Poll/Final: FRR sees 200 ms, nobody flaps', async () => {
    const since = dut.mark();
    const neighbors = (dut.config.neighbors ?? []).map((n) => (n.address === PEER.v4 ? { ...n, bfd: { enabled: true, minRx: 200, minTx: 200 } } : n));
    dut.config = { ...dut.config, neighbors };
    await dut.reload();
    await pollUntil(async () => (await frrPeer())?.['remote-receive-interval'] === 200, { timeoutMs: 10_000, what: 'FRR sees RequiredMinRx 200' });
    await sleep(2_000);
    expect((await frrPeer())).toMatchObject({ status: 'up', 'remote-transmit-interval': 200 });
    expect(bfdChanges(since)).toEqual([]);
    expect(dut.filter(eventIs('session-down'), since)).toEqual([]);
  });

  it('malformed BFD packets and TTL 64 from the peer namespace are dropped and counted; the session stays Up', async () => {
    const before = await dut.apiGet<BfdList>('/api/v1/bfd');
    const since = dut.mark();
    const script = `
      const { createRequire } = await import('node:module');
      const n = createRequire(import.meta.url)(${JSON.stringify(join(REPO_ROOT, 'build', 'Release', 'bgpts_native.node'))});
      const good = Buffer.from('204003180000000700000000000f4240000f424000000000', 'hex');
      const s255 = n.udpOpen({ family: 4, address: '${PEER.v4}', port: 0, ttl: 255 });
      const s64 = n.udpOpen({ family: 4, address: '${PEER.v4}', port: 0, ttl: 64 });
      const bad = [Buffer.alloc(5), Buffer.from(good).fill(0x40, 0, 1), Buffer.from(good).fill(0x10, 3, 4), Buffer.from(good).fill(0, 4, 8), Buffer.from(good).fill(0, 2, 3)];
      for (let i = 0; i < 10; i++) { n.udpSend(s64, good, '${DUT.v4}', 3784); for (const b of bad) n.udpSend(s255, b, '${DUT.v4}', 3784); }
    `;
    await runIn(topo.node('frr').ns, 'node', ['--input-type=module', '-e', script]);
    const after = await pollUntil(async () => {
      const l = await dut.apiGet<BfdList>('/api/v1/bfd');
      const total = (x: BfdList) => Object.values(x.dropped).reduce((a, b) => a + b, 0);
      return total(l) - total(before) >= 60 ? l : undefined;
    }, { timeoutMs: 10_000, what: '60 drops counted' });
    const delta = (k: string) => (after.dropped[k] ?? 0) - (before.dropped[k] ?? 0);
    expect(delta('ttl')).toBe(10);
    expect(delta('short')).toBe(10);
    expect(delta('bad-version')).toBe(10);
    expect(delta('bad-length')).toBe(10);
    expect(delta('zero-my-discriminator')).toBe(10);
    expect(delta('zero-multiplier')).toBe(10);
    expect(after.sessions.find((s) => s.peer === PEER.v4)!.state).toBe('Up');
    expect(bfdChanges(since)).toEqual([]);
  });

  it("bfdd gone: BFD Down (detection time), BGP closed with Cease / BFD Down, re-established while BFD stays Down", async () => {
    const since = dut.mark();
    await stopBfdd(true);
    const down = await dut.waitForEvent(eventIs('bfd-state-changed', { peer: PEER.v4, from: 'Up', to: 'Down' }), 5_000, since);
    expect(down['diagnostic']).toBe('control-detection-time-expired');
    const closed = await dut.waitForEvent(eventIs('session-down', { peer: PEER.v4 }), 5_000, since);
    expect(closed['reason']).toBe('bfd-down');
    // RFC 9384: the NOTIFICATION we sent is Cease (6) / BFD Down (10)
    const peer = await dut.apiGet<{ notifications: { sent: { code: number; subcode: number; count: number }[] } }>(`/api/v1/peers/${PEER.v4}`);
    expect(peer.notifications.sent).toContainEqual({ code: 6, subcode: 10, count: 1 });
    await dut.waitForEvent(eventIs('session-established', { peer: PEER.v4 }), 30_000, since);
    const settled = dut.mark();
    await sleep(5_000);
    expect(dut.filter(eventIs('session-down', { peer: PEER.v4 }), settled)).toEqual([]);
    expect(await ours(PEER.v4)).toMatchObject({ state: 'Down', lastDownDiagnostic: 'control-detection-time-expired', flaps: 1 });
  });

  it('bfdd back: Up again; FRR shutting its BFD peer (AdminDown) leaves BGP alone (RFC 5882 §3.2)', async () => {
    await startBfdd();
    await pollUntil(async () => (await frrPeer())?.status === 'up', { timeoutMs: 15_000, what: 'FRR: BFD up again' });
    await pollUntil(async () => (await ours(PEER.v4))?.state === 'Up', { timeoutMs: 10_000, what: 'bgp-ts: BFD up again' });
    const since = dut.mark();
    const peerConf = (...last: string[]) =>
      run('vtysh', ['--vty_socket', bfddDir, '-d', 'bfdd', '-c', 'configure terminal', '-c', 'bfd', '-c', `peer ${DUT.v4} local-address ${PEER.v4}`, ...last.flatMap((c) => ['-c', c])]);
    await peerConf('shutdown');
    const down = await dut.waitForEvent(eventIs('bfd-state-changed', { peer: PEER.v4, from: 'Up', to: 'Down' }), 5_000, since);
    expect(down).toMatchObject({ diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown', action: 'none' });
    await sleep(2_000);
    expect(dut.filter(eventIs('session-down', { peer: PEER.v4 }), since)).toEqual([]);
    expect((await dut.apiGet<{ state: string }>(`/api/v1/peers/${PEER.v4}`)).state).toBe('Established');
    await peerConf('no shutdown');
    await pollUntil(async () => (await ours(PEER.v4))?.state === 'Up', { timeoutMs: 10_000, what: 'bgp-ts: BFD up after no shutdown' });
    expect(dut.filter(eventIs('session-down', { peer: PEER.v4 }), since)).toEqual([]);
  });

  it('bgp-ts shutting its peer: FRR sees AdminDown (no detection expiry), also after our AdminDowns cease (RFC 5880 §6.8.16); enable brings it Up', async () => {
    await pollUntil(async () => (await frrPeer())?.status === 'up', { timeoutMs: 15_000, what: 'FRR: BFD up' });
    await runIn(topo.node('dut').ns, 'curl', ['-sS', '--fail-with-body', '--max-time', '5', '-X', 'POST', 'http://127.0.0.1:9179/api/v1/peers/' + PEER.v4 + '/shutdown']);
    const p = await pollUntil(async () => {
      const x = await frrPeer();
      return x && x.status !== 'up' ? x : undefined;
    }, { timeoutMs: 5_000, what: 'FRR: BFD down after our shutdown' });
    expect(p['remote-diagnostic']).toMatch(/administratively down/);
    expect(p.diagnostic).toMatch(/neighbor signaled session down/);
    await sleep(3_000); // well past our window of one Detection Time: we have gone silent
    expect((await frrPeer())!.diagnostic).toMatch(/neighbor signaled session down/);
    expect(await ours(PEER.v4)).toMatchObject({ state: 'AdminDown' });
    await runIn(topo.node('dut').ns, 'curl', ['-sS', '--fail-with-body', '--max-time', '5', '-X', 'POST', 'http://127.0.0.1:9179/api/v1/peers/' + PEER.v4 + '/enable']);
    await pollUntil(async () => (await frrPeer())?.status === 'up', { timeoutMs: 15_000, what: 'FRR: BFD up after enable' });
    await pollUntil(async () => (await ours(PEER.v4))?.state === 'Up', { timeoutMs: 10_000, what: 'bgp-ts: BFD up after enable' });
  });

  it('bgp-ts stopping sends AdminDown (FRR: neighbor signaled down, no detection expiry)', async () => {
    await pollUntil(async () => (await frrPeer())?.status === 'up', { timeoutMs: 15_000, what: 'FRR: BFD up' });
    await dut.stop();
    const p = await pollUntil(async () => {
      const x = await frrPeer();
      return x && x.status !== 'up' ? x : undefined;
    }, { timeoutMs: 5_000, what: 'FRR: BFD down after our stop' });
    expect(p['remote-diagnostic']).toMatch(/administratively down/);
    expect(p.diagnostic).toMatch(/neighbor signaled session down/);
  });
});

async function frrIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', 'frr'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'frr'])).stdout.trim());
  return { uid, gid };
}
