// Two bgp-ts PeerSessions over loopback: Established, KEEPALIVEs, RFC 8203
// shutdown text, hold timer expiry (injected clock), collision, UPDATE delivery.
import { afterEach, describe, expect, it } from 'vitest';
import type { BgpListener } from '../../../src/bgp/session/listener.js';
import type { PeerSession } from '../../../src/bgp/session/peer-session.js';
import type { SessionDown } from '../../../src/bgp/session/peer-session.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { v4KeyParse } from '../../../src/lib/prefix.js';
import { fsmConfig, listenFor, recordingLogger, session, until } from './helpers.js';

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
    const a = session({ address: '127.0.0.1', port: lst.port, localAddress: '127.0.0.3', asn: 65002, fsm: fsmConfig('10.0.0.1', 65001, 65002) }, clock);
    b = session({ address: '127.0.0.3', port: 179, asn: 65001, fsm: fsmConfig('10.0.0.2', 65002, 65001, { passive: true }) }, clock);
    track(lst, a, b);
    b.start();
    a.start();
    await until(() => a.state === 'Established' && b.state === 'Established', 3000, 'Established');
    // B goes silent: its timers stop (the shared fake clock fires only A's from now on).
    b.removeAllListeners();
    const bDowns: SessionDown[] = [];
    b.on('down', (d) => bDowns.push(d));
    const aDowns: SessionDown[] = [];
    a.on('down', (d) => aDowns.push(d));
    // Keep B from answering: pause its socket by making it receive nothing (stop B's keepalive timer).
    (b as unknown as { primary: { timers: Map<string, { cancel(): void }> } }).primary.timers.get('Keepalive')!.cancel();
    (b as unknown as { primary: { timers: Map<string, { cancel(): void }> } }).primary.timers.get('Hold')!.cancel();
    clock.advance(90_000);
    expect(aDowns).toEqual([expect.objectContaining({ reason: 'hold-timer-expired', wasEstablished: true })]);
    await until(() => bDowns.length === 1, 2000, 'B sees the NOTIFICATION');
    expect(bDowns[0]!.notification?.message).toMatchObject({ code: 4, subcode: 0 });
  });
});
