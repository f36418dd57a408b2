// Two bgp-ts PeerSessions over loopback: Established, KEEPALIVEs, RFC 8203
// shutdown text, hold timer expiry (injected clock), collision, UPDATE delivery.
import { afterEach, describe, expect, it } from 'vitest';
import type { BgpListener } from '../../../src/bgp/session/listener.js';
import type { PeerSession } from '../../../src/bgp/session/peer-session.js';
import type { SessionDown } from '../../../src/bgp/session/peer-session.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { v4KeyParse } from '../../../src/lib/prefix.js';
import { fsmConfig, listenFor, recordingLogger, session, until } from '../../helpers/session.js';
import { RawPeer } from '../../helpers/raw-peer.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function track(...xs: (PeerSession | BgpListener)[]): void {
  for (const x of xs) cleanup.push(() => ('dispose' in x ? x.dispose() : x.close()));
}

describe('PeerSession', () => {
  it('reaches Established with a passive peer, keeps it up with KEEPALIVEs, and delivers an UPDATE', async () => {
    // B listens on 127.0.0.1 (passive); A connects from 127.0.0.2.
    let b!: PeerSession;
    const lst = await listenFor('127.0.0.1', (r) => (r === '127.0.0.2' ? b : undefined));
    const logA = recordingLogger();
    const a = session({
      address: '127.0.0.1',
      port: lst.port,
      localAddress: '127.0.0.2',
      asn: 65002,
      logger: logA.logger,
      fsm: fsmConfig('10.0.0.1', 65001, 65002, { local: { ...fsmConfig('10.0.0.1', 65001, 0).local, holdTime: 3 } }),
    });
    b = session({ address: '127.0.0.2', port: 179, asn: 65001, fsm: fsmConfig('10.0.0.2', 65002, 65001, { passive: true }) });
    track(lst, a, b);
    const statesA: string[] = [];
    a.on('state', (_f, t) => statesA.push(t));
    b.start();
    a.start();
    await until(() => a.state === 'Established' && b.state === 'Established', 3000, 'Established');
    expect(statesA).toEqual(['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
    expect(a.session?.holdTime).toBe(3); // min(3, 90)
    expect(a.session?.keepaliveTime).toBe(1);
    expect(b.session?.peerAsn).toBe(65001);
    const est = logA.lines.find((l) => l.event === 'session-established')!;
    expect(est).toMatchObject({ peer: '127.0.0.1', asn: 65002, holdTime: 3, remoteId: '10.0.0.2' });
    expect(est.families).toEqual(['ipv4-unicast', 'ipv6-unicast']);
    expect(logA.lines.filter((l) => l.event === 'peer-state').map((l) => l.to)).toEqual(statesA);

    // An UPDATE from A arrives decoded on B.
    const got: unknown[] = [];
    b.on('update', (u) => got.push(u.update.nlri.prefixes));
    const p = v4KeyParse('10.244.1.0/26')!;
    expect(
      a.sendUpdate({
        type: 'update',
        withdrawn: { family: 'ipv4-unicast', prefixes: [] },
        attributes: {},
        nlri: { family: 'ipv4-unicast', prefixes: [p] },
      }),
    ).toBe(true);
    await until(() => got.length === 1, 2000, 'UPDATE');
    expect(got[0]).toEqual([p]);

    // 3.5 s > the 3 s hold time: only KEEPALIVEs keep both sides up.
    await new Promise((r) => setTimeout(r, 3500));
    expect(a.state).toBe('Established');
    expect(b.state).toBe('Established');
  });

  it('ManualStop sends Cease / Administrative Shutdown with RFC 8203 text the peer decodes', async () => {
    let b!: PeerSession;
    const lst = await listenFor('::1', () => b);
    const a = session({ address: '::1', port: lst.port, asn: 65002, fsm: fsmConfig('10.0.0.1', 65001, 65002) });
    const logB = recordingLogger();
    b = session({ address: '::1', port: 179, asn: 65001, logger: logB.logger, fsm: fsmConfig('10.0.0.2', 65002, 65001, { passive: true }) });
    track(lst, a, b);
    b.start();
    a.start();
    await until(() => a.state === 'Established' && b.state === 'Established', 3000, 'Established over ::1');
    const downs: SessionDown[] = [];
    b.on('down', (d) => downs.push(d));
    await a.stop({ text: 'maintenance window' });
    expect(a.state).toBe('Idle');
    await until(() => downs.length === 1, 2000, 'down on B');
    expect(downs[0]).toMatchObject({ reason: 'notification-received', wasEstablished: true });
    expect(downs[0]!.notification?.message).toMatchObject({ code: 6, subcode: 2, shutdownMessage: 'maintenance window' });
    const line = logB.lines.find((l) => l.event === 'notification-received');
    expect(line).toMatchObject({ peer: '::1', asn: 65001, code: 6, subcode: 2, name: 'Cease / Administrative Shutdown', text: 'maintenance window' });
    expect(logB.lines.find((l) => l.event === 'session-down')).toMatchObject({ reason: 'notification-received' });
  });

  it('sends Hold Timer Expired when the peer falls silent (injected clock)', async () => {
    const clock = new FakeClock();
    let b!: PeerSession;
    const lst = await listenFor('127.0.0.1', () => b);
    b = session({ address: '127.0.0.3', port: 179, asn: 65001, fsm: fsmConfig('10.0.0.2', 65002, 65001, { passive: true }) }, clock);
    track(lst, b);
    const downs: SessionDown[] = [];
    b.on('down', (d) => downs.push(d));
    b.start();
    const raw = await RawPeer.connect('127.0.0.1', lst.port, '127.0.0.3');
    cleanup.push(() => raw.destroy());
    await raw.waitFor('open');
    raw.sendOpen(65001, '10.0.0.3', 9);
    raw.sendKeepalive();
    await until(() => b.state === 'Established', 2000, 'Established');
    expect(b.session?.holdTime).toBe(9);
    // The peer says nothing more. 8.9 s: still up (KEEPALIVEs from B go out every 3 s).
    clock.advance(8_900);
    expect(b.state).toBe('Established');
    await until(() => raw.received.filter((m) => m.type === 'keepalive').length >= 3, 2000, 'B keepalives');
    clock.advance(200);
    expect(downs).toEqual([expect.objectContaining({ reason: 'hold-timer-expired', wasEstablished: true })]);
    // RFC 4271 §6.5: NOTIFICATION Hold Timer Expired on the wire.
    expect(await raw.waitFor('notification')).toMatchObject({ code: 4, subcode: 0 });
    await until(() => raw.closed, 2000, 'closed');
  });

  it('collision: both sides connect at once, exactly one connection survives (RFC 4271 §6.8)', async () => {
    let a!: PeerSession;
    let b!: PeerSession;
    const la = await listenFor('127.0.0.51', (r) => (r === '127.0.0.52' ? a : undefined));
    const lb = await listenFor('127.0.0.52', (r) => (r === '127.0.0.51' ? b : undefined));
    a = session({ address: '127.0.0.52', port: lb.port, localAddress: '127.0.0.51', asn: 65002, fsm: fsmConfig('10.0.0.1', 65001, 65002) });
    b = session({ address: '127.0.0.51', port: la.port, localAddress: '127.0.0.52', asn: 65001, fsm: fsmConfig('10.0.0.2', 65002, 65001) });
    track(la, lb, a, b);
    const sent: number[] = [];
    for (const s of [a, b]) s.on('notification-sent', (n) => sent.push(n.subcode));
    a.start();
    b.start();
    await until(() => a.state === 'Established' && b.state === 'Established', 3000, 'Established');
    await until(() => a.connectionCount === 1 && b.connectionCount === 1, 2000, 'one connection each');
    // 10.0.0.2 > 10.0.0.1: the connection B opened survives.
    expect(a.transport()?.direction).toBe('inbound');
    expect(b.transport()?.direction).toBe('outbound');
    expect(a.transport()?.localPort).toBe(b.transport()?.remotePort);
    // Cease / Connection Collision Resolution on the dropped connection (by one or both sides).
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.every((sc) => sc === 7)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect([a.state, b.state]).toEqual(['Established', 'Established']);
  });

  it('a peer that stops reading does not stall another peer: its UPDATEs queue, keepalives elsewhere flow', async () => {
    let slow!: PeerSession;
    let fast!: PeerSession;
    const lst = await listenFor('127.0.0.61', (r) => (r === '127.0.0.62' ? slow : r === '127.0.0.63' ? fast : undefined));
    slow = session({ address: '127.0.0.62', port: 179, asn: 65062, fsm: fsmConfig('10.0.0.61', 65061, 65062, { passive: true }) });
    const short = { local: { ...fsmConfig('10.0.0.61', 65061, 0).local, holdTime: 3 } };
    fast = session({ address: '127.0.0.63', port: 179, asn: 65063, fsm: fsmConfig('10.0.0.61', 65061, 65063, { passive: true, ...short }) });
    const other = session({ address: '127.0.0.61', port: lst.port, localAddress: '127.0.0.63', asn: 65061, fsm: fsmConfig('10.0.0.63', 65063, 65061) });
    track(lst, slow, fast, other);
    slow.start();
    fast.start();
    other.start();
    const raw = await RawPeer.connect('127.0.0.61', lst.port, '127.0.0.62');
    cleanup.push(() => raw.destroy());
    await raw.waitFor('open');
    raw.sendOpen(65062, '10.0.0.62', 0); // hold time 0: no keepalives either way
    raw.sendKeepalive();
    await until(() => slow.state === 'Established' && fast.state === 'Established', 3000, 'Established');
    raw.socket.pause(); // stops reading: TCP windows fill up
    // 4096-octet UPDATEs: marker, length 0x1000, type 2, then zero padding standing in for a body.
    const upd = Buffer.alloc(4096);
    upd.fill(0xff, 0, 16);
    upd.writeUInt16BE(4096, 16);
    upd[18] = 2;
    const t0 = performance.now();
    let accepted = 0;
    for (let i = 0; i < 8000; i++) if (slow.sendRaw(upd)) accepted++; // 32 MB
    const pushMs = performance.now() - t0;
    expect(pushMs).toBeLessThan(500); // queuing never waits on the socket
    expect(accepted).toBeLessThan(8000);
    const q = slow.queueStats()!;
    expect(q.blocked).toBe(true);
    expect(q.queuedBytes).toBeGreaterThan(16 * 1024 * 1024);
    // 3.5 s > 3 s hold time on the other session: only its KEEPALIVEs keep it up.
    await new Promise((r) => setTimeout(r, 3500));
    expect(fast.state).toBe('Established');
    expect(other.state).toBe('Established');
    expect(slow.state).toBe('Established');
  });

  it('paces a flood of inbound messages across many macrotasks', async () => {
    let b!: PeerSession;
    const lst = await listenFor('127.0.0.71', () => b);
    b = session({ address: '127.0.0.72', port: 179, asn: 65072, fsm: fsmConfig('10.0.0.71', 65071, 65072, { passive: true }) });
    track(lst, b);
    b.start();
    const raw = await RawPeer.connect('127.0.0.71', lst.port, '127.0.0.72');
    cleanup.push(() => raw.destroy());
    await raw.waitFor('open');
    raw.sendOpen(65072, '10.0.0.72');
    raw.sendKeepalive();
    await until(() => b.state === 'Established', 2000, 'Established');
    // 5000 End-of-RIB UPDATEs (marker, length 23, type 2, withdrawn 0, attributes 0) in one write.
    const eor = Buffer.from('ff'.repeat(16) + '0017' + '02' + '0000' + '0000', 'hex');
    let ticks = 0;
    let ticking = true;
    const tick = () => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const perTick = new Map<number, number>();
    let got = 0;
    b.on('update', () => {
      got++;
      perTick.set(ticks, (perTick.get(ticks) ?? 0) + 1);
    });
    raw.write(Buffer.concat(new Array(5000).fill(eor)));
    await until(() => got === 5000, 5000, 'all UPDATEs');
    ticking = false;
    expect(Math.max(...perTick.values())).toBeLessThanOrEqual(64 * 2);
    expect(perTick.size).toBeGreaterThanOrEqual(5000 / 128);
  });
});
