// Interop: BGP session security against BIRD 2 and FRR bgpd in network namespaces.
//  - TCP MD5 signatures (RFC 2385, BIRD `password`): the same key on both ends
//    reaches Established; a different key never does, for several
//    connect-retry periods, and the kernel counts the bad digests. Keys change
//    on SIGHUP reload; a listen range carries a prefix key (TCP_MD5SIG_EXT).
//  - GTSM (RFC 5082, BIRD `ttl security on`, FRR `ttl-security hops`): with
//    ttlSecurity 1 on both ends a
//    directly connected session comes up; with the peer two hops away (a
//    router namespace with forwarding on in between) ttlSecurity 1 never comes
//    up and the kernel counts the TTL drops, while ttlSecurity 2 does.
// The launchers are the harness's, with the security lines added to each
// neighbor by small subclasses here (BIRD `password`, `ttl security on`,
// `multihop`; FRR `neighbor X password`, `neighbor X ttl-security hops N`). Skipped with a printed reason when
// prerequisites are missing; under CI=true that fails instead.

import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BgpTsDaemon, eventIs, type DaemonConfig } from './harness/bgp-ts.js';
import { BirdPeer } from './harness/bird.js';
import { FrrPeer } from './harness/frr.js';
import { run, runIn, pollUntil, sleep } from './harness/exec.js';
import { Topology, sweepStaleNamespaces } from './harness/netns.js';
import type { PeerRouter, PeerSpec } from './harness/peer.js';
import { interopGate } from './harness/prerequisites.js';
import { registerDirectory, registerNamespace, unregisterDirectory, unregisterNamespace } from './harness/processes.js';

const AS_DUT = 64512;
const AS_PEER = 64513;
/** bgp-ts and BIRD both retry every 2 s (BIRD: the harness's `connect retry time 2`). */
const RETRY_S = 2;
/** "Never comes up": watched for this long, more than three connect-retry periods of either side. */
const NEVER_MS = 4 * RETRY_S * 1000;

/** What the peer router is told about the session's security. */
interface PeerSecurity {
  readonly password?: string;
  /** GTSM on, for a peer this many hops away. */
  readonly ttlSecurity?: number;
  /** eBGP multihop (BIRD; FRR's ttl-security implies it). */
  readonly multihop?: number;
}

type SecurePeer = PeerRouter & { config(): Promise<string> };

/** BIRD with the security lines in every `protocol bgp` block. */
class SecureBird extends BirdPeer {
  constructor(
    spec: PeerSpec,
    ns: string,
    dir: string,
    private readonly sec: PeerSecurity,
  ) {
    mkdirSync(dir, { recursive: true });
    super(spec, ns, dir);
  }

  protected override async writeConfig(): Promise<void> {
    await super.writeConfig();
    const { password, ttlSecurity, multihop } = this.sec;
    const extra = [
      ...(password !== undefined ? [`password "${password}";`] : []),
      ...(multihop !== undefined ? [`multihop ${multihop};`] : []),
      ...(ttlSecurity !== undefined ? ['ttl security on;'] : []),
    ];
    const path = join(this.dir, 'bird.conf');
    const conf = await readFile(path, 'utf8');
    await writeFile(path, conf.replace(/^( {2}neighbor .*\n)/gm, `$1${extra.map((l) => `  ${l}\n`).join('')}`));
  }

  config(): Promise<string> {
    return readFile(join(this.dir, 'bird.conf'), 'utf8');
  }
}

/** FRR bgpd with `neighbor X password` / `neighbor X ttl-security hops N` after each neighbor's update-source. */
class SecureFrr extends FrrPeer {
  constructor(
    spec: PeerSpec,
    ns: string,
    dir: string,
    private readonly sec: PeerSecurity,
  ) {
    mkdirSync(dir, { recursive: true });
    super(spec, ns, dir);
  }

  protected override async writeConfig(): Promise<void> {
    await super.writeConfig();
    const { password, ttlSecurity } = this.sec;
    const path = join(this.dir, 'bgpd.conf');
    const conf = await readFile(path, 'utf8');
    const lines = (address: string): string =>
      [
        ...(password !== undefined ? [` neighbor ${address} password ${password}`] : []),
        ...(ttlSecurity !== undefined ? [` neighbor ${address} ttl-security hops ${ttlSecurity}`] : []),
      ]
        .map((l) => `${l}\n`)
        .join('');
    await writeFile(path, conf.replace(/^( neighbor (\S+) update-source .*\n)/gm, (line, _l, address: string) => line + lines(address)));
  }

  config(): Promise<string> {
    return readFile(join(this.dir, 'bgpd.conf'), 'utf8');
  }
}

function securePeer(kind: 'bird' | 'frr', spec: PeerSpec, ns: string, dir: string, sec: PeerSecurity): SecurePeer {
  return kind === 'bird' ? new SecureBird(spec, ns, dir, sec) : new SecureFrr(spec, ns, dir, sec);
}

/** A kernel TCP counter (nstat, absolute) inside a namespace; 0 when absent. */
async function counter(ns: string, name: string): Promise<number> {
  const { stdout } = await runIn(ns, 'nstat', ['-asz', name], { allowFailure: true });
  const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(stdout);
  return m ? Number(m[1]) : 0;
}

/** Asserts neither end shows the session Established for `ms`. */
async function staysDown(dut: BgpTsDaemon, since: number, bird: PeerRouter, birdNeighbor: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    expect(await bird.neighborState(birdNeighbor)).not.toBe('Established');
    await sleep(500);
  }
  expect(dut.find(eventIs('session-established'), since)).toBeUndefined();
  expect(dut.running).toBe(true); // refused, never crashed
}

function describeDirect(kind: 'bird' | 'frr'): void {
  const skip = interopGate([kind]);
  describe.skipIf(skip !== undefined)(`bgp-ts with ${kind}, directly connected: TCP MD5 (RFC 2385) and GTSM (RFC 5082)`, () => {
    const DUT = '10.0.0.1';
    const PEER = '10.0.0.2';
    let topo: Topology;
    let dut: BgpTsDaemon | undefined;
    let peer: SecurePeer | undefined;
    let instance = 0;

    async function startPair(
      neighbor: Record<string, unknown>,
      sec: PeerSecurity,
      over: Partial<DaemonConfig> = {},
    ): Promise<{ dut: BgpTsDaemon; peer: SecurePeer }> {
      await dut?.stop();
      await peer?.stop();
      const spec: PeerSpec = {
        routerId: PEER,
        asn: AS_PEER,
        nextHop: { ipv4: PEER, ipv6: '2001:db8::2' },
        neighbors: [{ address: DUT, asn: AS_DUT, localAddress: PEER, families: ['ipv4-unicast'] }],
      };
      peer = securePeer(kind, spec, topo.node('peer').ns, join(topo.dir, `${kind}-${++instance}`), sec);
      await peer.start();
      const config: DaemonConfig = {
        routerId: DUT,
        asn: AS_DUT,
        listen: { addresses: [DUT], port: 179 },
        neighbors: [{ address: PEER, asn: AS_PEER, connectRetryTime: RETRY_S, families: ['ipv4-unicast'], ...neighbor }],
        ...over,
      };
      dut = new BgpTsDaemon(topo.node('dut').ns, topo.dir, config);
      await dut.start();
      return { dut, peer };
    }

    const peerUp = (p: PeerRouter) =>
      pollUntil(async () => (await p.neighborState(DUT)) === 'Established', { timeoutMs: 15_000, what: `${kind} Established\n${p.tail(20)}` });

    beforeAll(async () => {
      topo = await Topology.create(['dut', 'peer']);
    });

    afterAll(async () => {
      await dut?.stop();
      await peer?.stop();
      await topo?.destroy();
    });

    it('the same MD5 password on both ends reaches Established, and the socket carries the key', async () => {
      const { dut, peer } = await startPair({ password: 'k8s-node-secret' }, { password: 'k8s-node-secret' });
      expect(await peer.config()).toContain('k8s-node-secret');
      await dut.waitForEvent(eventIs('session-established', { peer: PEER }), 30_000);
      await peerUp(peer);
      // ss marks a TCP socket that has an MD5 key with "md5"
      const { stdout } = await runIn(topo.node('dut').ns, 'ss', ['-tnie', 'state', 'established']);
      expect(stdout).toMatch(/md5/);
      expect(dut.filter(eventIs('security-error'))).toEqual([]);
    });

    it('a wrong MD5 password never reaches Established; the kernel drops the bad digests', async () => {
      const md5Failures = async () =>
        Promise.all([counter(topo.node('dut').ns, 'TcpExtTCPMD5Failure'), counter(topo.node('peer').ns, 'TcpExtTCPMD5Failure')]);
      const before = await md5Failures();
      const { dut, peer } = await startPair({ password: 'right-key' }, { password: 'wrong-key' });
      await staysDown(dut, 0, peer, DUT, NEVER_MS);
      // both sides kept trying, and each kernel dropped the other's SYNs for their digest
      const after = await md5Failures();
      expect(after[0] - before[0]).toBeGreaterThanOrEqual(2); // the peer's SYNs at bgp-ts's listener
      expect(after[1] - before[1]).toBeGreaterThanOrEqual(2); // bgp-ts's SYNs (tcpConnect, signed) at the peer
    });

    it('a password on one end only never reaches Established', async () => {
      const { dut, peer } = await startPair({}, { password: 'only-the-peer' });
      await staysDown(dut, 0, peer, DUT, NEVER_MS / 2);
    });

    it('a new password applied by SIGHUP reload replaces the listener and connector keys and the session comes up', async () => {
      const { dut, peer } = await startPair({ password: 'before' }, { password: 'after' });
      await staysDown(dut, 0, peer, DUT, RETRY_S * 2000);
      const since = dut.mark();
      dut.config = { ...dut.config, neighbors: [{ ...dut.config.neighbors![0]!, password: 'after' }] };
      // the harness's own defaults (BgpTsDaemon.start) plus the new neighbor
      await writeFile(dut.configPath, stringify({ log: { level: 'debug' }, fib: { enabled: false }, api: { listen: 'none' }, ...dut.config }));
      process.kill(dut.pid!, 'SIGHUP');
      await dut.waitForEvent(eventIs('config-reloaded'), 10_000, since);
      await dut.waitForEvent(eventIs('session-established', { peer: PEER }), 30_000, since);
      expect(dut.filter(eventIs('security-error'), since)).toEqual([]);
    });

    it('a listen range with a password (TCP_MD5SIG_EXT prefix key) admits the peer as a dynamic neighbor; a wrong key does not', async () => {
      const range = { listenRanges: [{ prefix: '10.0.0.0/24', asn: AS_PEER, password: 'range-key' }], neighbors: [] };
      const good = await startPair({}, { password: 'range-key' }, range);
      await good.dut.waitForEvent(eventIs('session-established', { peer: PEER }), 30_000);
      expect(good.dut.find(eventIs('dynamic-peer', { peer: PEER }))).toBeDefined();
      const bad = await startPair({}, { password: 'not-the-range-key' }, range);
      await staysDown(bad.dut, 0, bad.peer, DUT, RETRY_S * 2000);
      expect(bad.dut.find(eventIs('dynamic-peer'))).toBeUndefined(); // not even accepted: the kernel dropped the SYNs
    });

    // Whether a GTSM peer shuts out a speaker without GTSM depends on when the
    // peer applies IP_MINTTL. FRR sets it on its outgoing socket before
    // connect(), so when FRR dials our TTL-64 SYN-ACK is always dropped: a
    // deterministic proof. BIRD 2 sets it on a socket only after accept() or
    // after starting connect(), so a first TTL-64 packet can slip through in
    // either direction (seen in about one run in three): a race in the peer
    // that proves nothing about our side. Against BIRD, GTSM is proven by the
    // two-hop cases below, where bgp-ts is the side that drops.
    if (kind === 'frr')
      it('a GTSM peer drops bgp-ts without GTSM (TTL 64): never Established', async () => {
        const before = await counter(topo.node('peer').ns, 'TcpExtTCPMinTTLDrop');
        const { dut, peer } = await startPair({ passive: true }, { ttlSecurity: 1 });
        await staysDown(dut, 0, peer, DUT, NEVER_MS / 2);
        expect((await counter(topo.node('peer').ns, 'TcpExtTCPMinTTLDrop')) - before).toBeGreaterThanOrEqual(1);
      });

    it('GTSM with ttlSecurity 1 on both ends reaches Established: bgp-ts sends with TTL 255', async () => {
      const { dut, peer } = await startPair({ ttlSecurity: 1 }, { ttlSecurity: 1 });
      await dut.waitForEvent(eventIs('session-established', { peer: PEER }), 30_000);
      await peerUp(peer);
      expect(dut.filter(eventIs('security-error'))).toEqual([]);
    });

    it('GTSM and MD5 together reach Established', async () => {
      const { dut, peer } = await startPair({ ttlSecurity: 1, password: 'both' }, { ttlSecurity: 1, password: 'both' });
      await dut.waitForEvent(eventIs('session-established', { peer: PEER }), 30_000);
      await peerUp(peer);
    });
  });
}

describeDirect('bird');
describeDirect('frr');

const skipTwoHops = interopGate(['bird']);

describe.skipIf(skipTwoHops !== undefined)('bgp-ts with bird: GTSM (RFC 5082) against a peer two hops away', () => {
  describe('router namespace in between, forwarding on', () => {
    const DUT = '10.0.1.1';
    const PEER = '10.0.2.2';
    const id = `bgpts-${process.pid}-${randomBytes(3).toString('hex')}`;
    const ns = { dut: `${id}-dut`, rtr: `${id}-rtr`, peer: `${id}-peer` };
    const dir = join('/tmp', `${id}-gtsm`);
    let dut: BgpTsDaemon | undefined;
    let bird: SecureBird | undefined;

    beforeAll(async () => {
      await sweepStaleNamespaces();
      mkdirSync(dir, { recursive: true });
      registerDirectory(dir);
      for (const n of Object.values(ns)) {
        registerNamespace(n);
        await run('ip', ['netns', 'add', n]);
        await run('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
      }
      await run('ip', ['link', 'add', 'name', 'eth0', 'netns', ns.dut, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.rtr]);
      await run('ip', ['link', 'add', 'name', 'eth0', 'netns', ns.peer, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns.rtr]);
      const addr = async (n: string, dev: string, cidr: string) => {
        await run('ip', ['-n', n, 'addr', 'add', cidr, 'dev', dev]);
        await run('ip', ['-n', n, 'link', 'set', dev, 'up']);
      };
      await addr(ns.dut, 'eth0', `${DUT}/24`);
      await addr(ns.rtr, 'eth0', '10.0.1.254/24');
      await addr(ns.rtr, 'eth1', '10.0.2.254/24');
      await addr(ns.peer, 'eth0', `${PEER}/24`);
      await run('ip', ['-n', ns.dut, 'route', 'add', 'default', 'via', '10.0.1.254']);
      await run('ip', ['-n', ns.peer, 'route', 'add', 'default', 'via', '10.0.2.254']);
      await runIn(ns.rtr, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      await pollUntil(async () => (await runIn(ns.dut, 'ping', ['-c1', '-W1', PEER], { allowFailure: true })).code === 0, {
        timeoutMs: 10_000,
        what: 'dut reaching the peer through the router',
      });
      // the path really is two hops: the reply arrives with TTL 64 - 1
      const ping = await runIn(ns.dut, 'ping', ['-c1', '-W1', PEER]);
      expect(ping.stdout).toMatch(/ttl=63/);
    });

    afterAll(async () => {
      await dut?.stop();
      await bird?.stop();
      for (const n of Object.values(ns)) {
        await run('ip', ['netns', 'del', n], { allowFailure: true });
        unregisterNamespace(n);
      }
      await run('rm', ['-rf', dir], { allowFailure: true });
      unregisterDirectory(dir);
    });

    async function startPair(ttlSecurity: number, instance: string): Promise<{ dut: BgpTsDaemon; bird: SecureBird }> {
      await dut?.stop();
      await bird?.stop();
      const spec: PeerSpec = {
        routerId: PEER,
        asn: AS_PEER,
        nextHop: { ipv4: PEER, ipv6: '2001:db8::2' },
        neighbors: [{ address: DUT, asn: AS_DUT, localAddress: PEER, families: ['ipv4-unicast'] }],
      };
      // BIRD: eBGP two hops away needs multihop 2; with ttl security it sends 255 and expects >= 254
      bird = new SecureBird(spec, ns.peer, join(dir, `bird-${instance}`), { multihop: 2, ttlSecurity: 1 });
      await bird.start();
      const ddir = join(dir, `dut-${instance}`);
      mkdirSync(ddir, { recursive: true });
      dut = new BgpTsDaemon(ns.dut, ddir, {
        routerId: DUT,
        asn: AS_DUT,
        listen: { addresses: [DUT], port: 179 },
        neighbors: [{ address: PEER, asn: AS_PEER, connectRetryTime: RETRY_S, families: ['ipv4-unicast'], ttlSecurity }],
      });
      await dut.start();
      return { dut, bird };
    }

    it('ttlSecurity 1 never reaches Established: the kernel drops the peer packets arriving with TTL 254', async () => {
      const before = await counter(ns.dut, 'TcpExtTCPMinTTLDrop');
      const { dut, bird } = await startPair(1, 'one-hop');
      await staysDown(dut, 0, bird, DUT, NEVER_MS);
      expect((await counter(ns.dut, 'TcpExtTCPMinTTLDrop')) - before).toBeGreaterThanOrEqual(2);
    });

    it('ttlSecurity 2 on the same path reaches Established (the path, not the setup, blocked it)', async () => {
      const { dut, bird } = await startPair(2, 'two-hops');
      await dut.waitForEvent(eventIs('session-established', { peer: PEER }), 30_000);
      await pollUntil(async () => (await bird.neighborState(DUT)) === 'Established', { timeoutMs: 15_000, what: 'BIRD Established' });
    });
  });
});
