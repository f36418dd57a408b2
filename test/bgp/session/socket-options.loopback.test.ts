// TCP MD5 (RFC 2385) and GTSM (RFC 5082) on real loopback sockets: the
// listener's keys per neighbor and per range (TCP_MD5SIG_EXT), the connector's
// native path (options before the SYN), reload of keys, the TTL values read
// back by fd, what the kernel silently drops, and failing closed when the
// addon is missing. Loopback does not decrement the TTL: a plain socket sends
// 64, a GTSM one 255. Needs no root.
import { afterEach, describe, expect, it } from 'vitest';
import { connect as netConnect, type Socket } from 'node:net';
import { BgpListener, type AcceptedConnection } from '../../../src/bgp/session/listener.js';
import { connectPeer, type ConnectResult } from '../../../src/bgp/session/connector.js';
import {
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_MINHOPCOUNT,
  IPV6_UNICAST_HOPS,
  IP_MINTTL,
  IP_TTL,
  handleFd,
  type ListenerSecurity,
  type TransportSecurity,
} from '../../../src/bgp/session/socket-options.js';
import { systemClock } from '../../../src/lib/clock.js';
import { loadNative, nativeAvailable, type NativeAddon } from '../../../src/lib/native.js';
import { PeerSession } from '../../../src/bgp/session/peer-session.js';
import { fsmConfig, recordingLogger, until } from '../../helpers/session.js';

const available = process.platform === 'linux' && nativeAvailable();
/** How long a connect that the kernel silently drops is given before we call it failed. */
const DROP_MS = 1200;

const noAddon = (): NativeAddon => {
  throw new Error('addon not built (test)');
};

describe('socket security prerequisites', () => {
  it.runIf(process.env['CI'] === 'true')('has the addon under CI', () => expect(available).toBe(true));
});

describe.skipIf(!available)('TCP MD5 and GTSM over loopback', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function listen(security: ListenerSecurity, address = '127.0.0.1', over: { loadNative?: () => NativeAddon } = {}) {
    const accepted: AcceptedConnection[] = [];
    const log = recordingLogger();
    const l = new BgpListener({
      addresses: [address],
      port: 0,
      logger: log.logger,
      security,
      onConnection: (c) => {
        accepted.push(c);
        cleanup.push(() => c.socket.destroy());
      },
      ...over,
    });
    await l.start();
    cleanup.push(() => l.close());
    return { l, accepted, log };
  }

  function attempt(port: number, localAddress: string, security?: TransportSecurity, host = '127.0.0.1', extra: { loadNative?: () => NativeAddon } = {}) {
    return new Promise<ConnectResult>((resolve) => {
      connectPeer({ host, port, localAddress, timeoutMs: DROP_MS, ...(security ? { security } : {}), ...extra }, systemClock, (r) => {
        if (r.ok) cleanup.push(() => r.socket.destroy());
        resolve(r);
      });
    });
  }

  const ok = (r: ConnectResult): Socket => {
    if (!r.ok) throw new Error(`connect failed: ${r.reason}`);
    return r.socket;
  };

  it('connects with matching keys and exchanges data; a wrong key or no key never connects', async () => {
    const { l, accepted } = await listen({ neighbors: [{ address: '127.0.0.2', password: 's3cret' }], ranges: [] });
    const s = ok(await attempt(l.port, '127.0.0.2', { password: 's3cret' }));
    await until(() => accepted.length === 1, 2000, 'accept');
    expect(accepted[0]!.remote).toBe('127.0.0.2');
    expect(s.remoteAddress).toBe('127.0.0.1');
    expect(s.remotePort).toBe(l.port);
    const got: string[] = [];
    accepted[0]!.socket.on('data', (d) => got.push(d.toString()));
    s.write('OPEN?');
    await until(() => got.join('') === 'OPEN?', 2000, 'data over the signed connection');

    // The kernel drops SYNs with a wrong digest, and unsigned SYNs from a peer that has a key: no RST, just silence.
    const wrong = await attempt(l.port, '127.0.0.2', { password: 'other' });
    expect(wrong).toEqual({ ok: false, reason: `connect timeout after ${DROP_MS} ms` });
    const unsigned = await attempt(l.port, '127.0.0.2');
    expect(unsigned.ok).toBe(false);
    // A host the listener holds no key for may connect unsigned (the neighbors layer rejects it later).
    ok(await attempt(l.port, '127.0.0.9'));
    expect(accepted.map((a) => a.remote)).toEqual(['127.0.0.2', '127.0.0.9']);
  });

  it('signs a listen range with a TCP_MD5SIG_EXT prefix key; a neighbor key inside it wins', async () => {
    const { l, accepted } = await listen({
      neighbors: [{ address: '127.0.5.1', password: 'own' }],
      ranges: [{ address: '127.0.5.0', prefixLength: 24, password: 'range-key' }],
    });
    ok(await attempt(l.port, '127.0.5.7', { password: 'range-key' }));
    expect((await attempt(l.port, '127.0.5.8', { password: 'nope' })).ok).toBe(false);
    expect((await attempt(l.port, '127.0.5.1', { password: 'range-key' })).ok).toBe(false);
    ok(await attempt(l.port, '127.0.5.1', { password: 'own' }));
    await until(() => accepted.length === 2, 2000, 'accepts');
    expect(accepted.map((a) => a.remote).sort()).toEqual(['127.0.5.1', '127.0.5.7']);
  });

  it('updates keys on reload: changed key, removed key', async () => {
    const { l } = await listen({ neighbors: [{ address: '127.0.0.2', password: 'old' }], ranges: [] });
    ok(await attempt(l.port, '127.0.0.2', { password: 'old' }));
    l.setSecurity({ neighbors: [{ address: '127.0.0.2', password: 'new' }], ranges: [] });
    expect((await attempt(l.port, '127.0.0.2', { password: 'old' })).ok).toBe(false);
    ok(await attempt(l.port, '127.0.0.2', { password: 'new' }));
    l.setSecurity({ neighbors: [{ address: '127.0.0.2' }], ranges: [] }); // keylen 0 deletes the key
    ok(await attempt(l.port, '127.0.0.2'));
    expect((await attempt(l.port, '127.0.0.2', { password: 'new' })).ok).toBe(false); // a signed SYN to a keyless socket is dropped too
  });

  it('signs IPv6 connections on ::1 and sets the IPv6 GTSM options (hop limit, IPV6_MINHOPCOUNT)', async () => {
    const n = loadNative();
    const { l, accepted } = await listen({ neighbors: [{ address: '::1', password: 'six', ttlSecurity: 2 }], ranges: [] }, '::1');
    expect((await attempt(l.port, '::1', { password: 'bad', ttlSecurity: 2 }, '::1')).ok).toBe(false);
    const s = ok(await attempt(l.port, '::1', { password: 'six', ttlSecurity: 2 }, '::1'));
    await until(() => accepted.length === 1, 2000, 'accept');
    expect(accepted[0]!.remote).toBe('::1');
    for (const fd of [handleFd(s)!, handleFd(accepted[0]!.socket)!]) {
      expect(n.getsockoptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS)).toBe(255);
      expect(n.getsockoptInt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT)).toBe(254);
    }
  });

  it('GTSM: TTL 255 out, minimum TTL 255 on listener, accepted and connected sockets', async () => {
    const n = loadNative();
    const { l, accepted } = await listen({ neighbors: [{ address: '127.0.0.2', ttlSecurity: 1 }], ranges: [] });
    const s = ok(await attempt(l.port, '127.0.0.2', { ttlSecurity: 1 }));
    const fd = handleFd(s)!;
    expect(n.getsockoptInt(fd, IPPROTO_IP, IP_TTL)).toBe(255);
    expect(n.getsockoptInt(fd, IPPROTO_IP, IP_MINTTL)).toBe(255);
    await until(() => accepted.length === 1, 2000, 'accept');
    const afd = handleFd(accepted[0]!.socket)!;
    expect(n.getsockoptInt(afd, IPPROTO_IP, IP_TTL)).toBe(255);
    expect(n.getsockoptInt(afd, IPPROTO_IP, IP_MINTTL)).toBe(255);
    // every source uses GTSM, so the listener itself drops a SYN at TTL 64
    expect((await attempt(l.port, '127.0.0.2')).ok).toBe(false);
    expect(accepted.length).toBe(1);
  });

  it('GTSM with 254 hops accepts TTL >= 2; a 1-hop GTSM connect to a non-GTSM listener drops its SYN-ACK', async () => {
    const n = loadNative();
    const plain = await listen({ neighbors: [], ranges: [] });
    expect((await attempt(plain.l.port, '127.0.0.2', { ttlSecurity: 1 })).ok).toBe(false); // SYN-ACK has TTL 64 < 255
    expect(plain.accepted.length).toBe(0);
    const s = ok(await attempt(plain.l.port, '127.0.0.2', { ttlSecurity: 254 })); // 64 >= 2
    expect(n.getsockoptInt(handleFd(s)!, IPPROTO_IP, IP_MINTTL)).toBe(2);
  });

  it('GTSM with mixed peers: the listener accepts the SYN, the accepted socket drops the far peer data', async () => {
    const n = loadNative();
    const { l, accepted } = await listen({ neighbors: [{ address: '127.0.0.2', ttlSecurity: 1 }, { address: '127.0.0.3' }], ranges: [] });
    const lfd = handleFd((l as unknown as { servers: { server: object }[] }).servers[0]!.server)!;
    expect(n.getsockoptInt(lfd, IPPROTO_IP, IP_MINTTL)).toBe(0);
    expect(n.getsockoptInt(lfd, IPPROTO_IP, IP_TTL)).toBe(255);
    // 127.0.0.2 connects without GTSM (TTL 64): the handshake completes, its OPEN does not arrive.
    const far = ok(await attempt(l.port, '127.0.0.2'));
    await until(() => accepted.length === 1, 2000, 'accept');
    const got: Buffer[] = [];
    accepted[0]!.socket.on('data', (d) => got.push(d));
    expect(n.getsockoptInt(handleFd(accepted[0]!.socket)!, IPPROTO_IP, IP_MINTTL)).toBe(255);
    far.write('OPEN');
    await new Promise((r) => setTimeout(r, 700));
    expect(got).toEqual([]);
    // 127.0.0.3 has no GTSM: its accepted socket's minimum is off (not inherited) and data flows.
    const near = ok(await attempt(l.port, '127.0.0.3'));
    await until(() => accepted.length === 2, 2000, 'accept');
    expect(n.getsockoptInt(handleFd(accepted[1]!.socket)!, IPPROTO_IP, IP_MINTTL)).toBe(0);
    const got3: Buffer[] = [];
    accepted[1]!.socket.on('data', (d) => got3.push(d));
    near.write('OPEN');
    await until(() => got3.length > 0, 2000, 'data from the GTSM-free peer');
  });

  it('fails closed without the addon: no outgoing connect, inbound connections refused', async () => {
    const r = await attempt(1, '127.0.0.2', { password: 'x' }, '127.0.0.1', { loadNative: noAddon });
    expect(r).toMatchObject({ ok: false, security: true });
    expect(!r.ok && r.reason).toContain('addon not built (test)');
    const { l, accepted, log } = await listen({ neighbors: [{ address: '127.0.0.2', password: 'x' }, { address: '127.0.0.4', ttlSecurity: 1 }], ranges: [] }, '127.0.0.1', {
      loadNative: noAddon,
    });
    expect(log.lines.filter((e) => e.event === 'security-error').length).toBeGreaterThan(0);
    // without a key on the listener the unsigned SYNs are answered; the listener must refuse them itself
    const c2 = netConnect({ host: '127.0.0.1', port: l.port, localAddress: '127.0.0.2' });
    const c4 = netConnect({ host: '127.0.0.1', port: l.port, localAddress: '127.0.0.4' });
    cleanup.push(() => c2.destroy(), () => c4.destroy());
    const closed = (s: Socket) => new Promise<void>((res) => s.on('close', () => res()).on('error', () => undefined));
    await Promise.all([closed(c2), closed(c4)]);
    expect(accepted).toEqual([]);
    const refusals = log.lines.filter((e) => e.event === 'security-error' && typeof e.remote === 'string').map((e) => e.remote);
    expect(refusals.sort()).toEqual(['127.0.0.2', '127.0.0.4']);
  });

  it('reports a kernel refusal of an option as a security failure', async () => {
    const real = loadNative();
    const refusing = (): NativeAddon => ({ ...real, tcpConnect: () => ({ errno: -92, stage: 'md5' }), tcpConnectCancel: () => undefined });
    const r = await attempt(1, '127.0.0.2', { password: 'x' }, '127.0.0.1', { loadNative: refusing });
    expect(r).toEqual({ ok: false, reason: 'setting the TCP MD5 key: ENOPROTOOPT (-92)', security: true });
  });

  it('two PeerSessions with the same key reach Established; with different keys they stay down', async () => {
    const run = async (keyA: string, keyB: string) => {
      let b!: PeerSession;
      const log = recordingLogger();
      const l = new BgpListener({
        addresses: ['127.0.0.1'],
        port: 0,
        logger: log.logger,
        security: { neighbors: [{ address: '127.0.0.2', password: keyB }], ranges: [] },
        onConnection: (c) => (c.remote === '127.0.0.2' ? b.acceptConnection(c.socket) : c.socket.destroy()),
      });
      await l.start();
      const a = new PeerSession({
        address: '127.0.0.1',
        port: l.port,
        localAddress: '127.0.0.2',
        asn: 65002,
        security: { password: keyA },
        connectTimeoutMs: 500,
        clock: systemClock,
        logger: recordingLogger().logger,
        fsm: fsmConfig('10.0.0.1', 65001, 65002),
      });
      b = new PeerSession({
        address: '127.0.0.2',
        port: 179,
        asn: 65001,
        clock: systemClock,
        logger: recordingLogger().logger,
        fsm: fsmConfig('10.0.0.2', 65002, 65001, { passive: true }),
      });
      cleanup.push(() => l.close(), () => a.stop(), () => b.stop());
      b.start();
      a.start();
      return { a, b };
    };
    const good = await run('same', 'same');
    await until(() => good.a.state === 'Established' && good.b.state === 'Established', 3000, 'Established');
    const bad = await run('mine', 'theirs');
    await new Promise((r) => setTimeout(r, 1500)); // 3 connect attempts (500 ms timeout, 200 ms retry)
    expect(bad.a.state).not.toBe('Established');
    expect(bad.b.state).not.toBe('Established');
    expect(['OpenSent', 'OpenConfirm']).not.toContain(bad.b.state);
  });
});
