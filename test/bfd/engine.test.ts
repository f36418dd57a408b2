// The BFD engine (src/bfd/engine.ts) on a fake clock and a fake transport:
// two engines wired back to back come Up, report only state changes, drop and
// count malformed datagrams and low TTLs without touching the session, tell
// the peer AdminDown on remove and stop, and renegotiate timers without a flap.
import { describe, expect, it } from 'vitest';
import { BfdEngine, type BfdSocket, type BfdTransport } from '../../src/bfd/engine.js';
import { decodeControl, encodeControl, type BfdState } from '../../src/bfd/packet.js';
import type { BfdStateChange } from '../../src/bfd/types.js';
import { FakeClock } from '../../src/lib/clock.js';

interface Wire {
  clock: FakeClock;
  cut: boolean;
  /** Packets from these senders still to lose (one each per count). */
  lose: Map<string, number>;
  /** Every packet sent: when, by whom, its state. */
  log: { at: number; from: string; state: BfdState }[];
  /** Sender sockets closed, by owner. */
  closed: string[];
  deliver: Map<string, (data: Buffer, address: string, port: number, ttl: number) => void>;
}

/** A transport whose packets reach the engine receiving for `to` 1 ms later (unless the wire is cut). */
function fakeTransport(wire: Wire, self: string): BfdTransport & { sentPorts: number[] } {
  const sentPorts: number[] = [];
  return {
    sentPorts,
    openReceiver(_family, onDatagram): BfdSocket {
      wire.deliver.set(self, onDatagram);
      return { port: 3784, send: () => 0, close: () => wire.deliver.delete(self) };
    },
    openSender(_family, _local, port): BfdSocket {
      sentPorts.push(port);
      return {
        port,
        send(data, address, dport) {
          expect(dport).toBe(3784); // RFC 5881 §4
          const d = decodeControl(data);
          if (d.ok) wire.log.push({ at: wire.clock.now(), from: self, state: d.packet.state });
          const lose = wire.lose.get(self) ?? 0;
          if (lose > 0) wire.lose.set(self, lose - 1);
          else if (!wire.cut) wire.clock.after(1, () => wire.deliver.get(address)?.(Buffer.from(data), self, port, 255));
          return data.length;
        },
        close() {
          wire.closed.push(self);
        },
      };
    },
  };
}

function pair() {
  const wire: Wire = { clock: new FakeClock(), cut: false, deliver: new Map(), lose: new Map(), log: [], closed: [] };
  let seed = 3;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const changes: Record<string, BfdStateChange[]> = { a: [], b: [] };
  const ta = fakeTransport(wire, '10.0.0.1');
  const tb = fakeTransport(wire, '10.0.0.2');
  const a = new BfdEngine({ clock: wire.clock, random, transport: ta, onStateChange: (c) => changes['a']!.push(c), wallClock: () => wire.clock.now() });
  const b = new BfdEngine({ clock: wire.clock, random, transport: tb, onStateChange: (c) => changes['b']!.push(c), wallClock: () => wire.clock.now() });
  a.add({ peer: '10.0.0.2', minRx: 300, minTx: 300, multiplier: 3 });
  b.add({ peer: '10.0.0.1', minRx: 300, minTx: 300, multiplier: 3 });
  return { wire, a, b, ta, changes };
}

describe('BFD engine', () => {
  it('two engines come Up, negotiate 300 ms x 3 and report only state changes', () => {
    const { wire, a, ta, changes } = pair();
    wire.clock.advance(5_000);
    const s = a.snapshot().sessions[0]!;
    expect(s).toMatchObject({ peer: '10.0.0.2', state: 'Up', remoteState: 'Up', txIntervalMs: 300, rxIntervalMs: 300, detectionTimeMs: 900, multiplier: 3 });
    // Down → Up (the peer was Init when we heard it first) or Down → Init → Up
    expect(changes['a']!.at(-1)!.to).toBe('Up');
    expect(changes['a']!.every((c) => c.to === 'Init' || c.to === 'Up')).toBe(true);
    const atUp = changes['a']!.length;
    expect(ta.sentPorts.every((p) => p >= 49152 && p <= 65535)).toBe(true);
    wire.clock.advance(30_000);
    expect(changes['a']!.length).toBe(atUp);
    expect(a.snapshot().sessions[0]!.maxTxGapMs).toBeLessThanOrEqual(300);
  });

  it('goes Down with control-detection-time-expired when the wire is cut', () => {
    const { wire, a, changes } = pair();
    wire.clock.advance(5_000);
    wire.cut = true;
    wire.clock.advance(1_000);
    expect(changes['a']!.at(-1)).toMatchObject({ from: 'Up', to: 'Down', diagnostic: 'control-detection-time-expired', remoteState: 'Down' });
    expect(a.snapshot().sessions[0]!).toMatchObject({ flaps: 1, downReason: 'control-detection-time-expired' });
  });

  it('drops and counts malformed datagrams and TTL below 255; the session stays Up', () => {
    const { wire, a, changes } = pair();
    wire.clock.advance(5_000);
    const atUp = changes['a']!.length;
    const rx = wire.deliver.get('10.0.0.1')!;
    const good = { diagnostic: 'none', state: 'Down', detectMult: 3, myDiscriminator: 77, yourDiscriminator: 0, desiredMinTxUs: 1e6, requiredMinRxUs: 1e6 } as const;
    const bad = [Buffer.alloc(3), Buffer.from(encodeControl(good)).fill(0, 0, 1), Buffer.alloc(24, 0xff)];
    for (const b of bad) rx(b, '10.0.0.2', 49999, 255);
    rx(encodeControl(good), '10.0.0.2', 49999, 64); // TTL 64: not single hop
    rx(encodeControl(good), '10.0.0.9', 49999, 255); // nobody we peer with
    rx(encodeControl({ ...good, yourDiscriminator: 12345 }), '10.0.0.2', 49999, 255);
    wire.clock.advance(2_000);
    const snap = a.snapshot();
    expect(snap.dropped).toMatchObject({ short: 1, 'bad-version': 2, ttl: 1, 'no-session': 1, 'unknown-discriminator': 1 });
    expect(Object.values(snap.dropped).reduce((x, y) => x + (y ?? 0), 0)).toBe(6);
    expect(snap.sessions[0]!.state).toBe('Up');
    expect(changes['a']!.length).toBe(atUp);
  });

  it('a peer that never answers (BFD missing or off there) is Down with the reason no-packets-from-peer; Up has none', () => {
    const { wire, a } = pair();
    a.add({ peer: '10.0.0.3', minRx: 300, minTx: 300, multiplier: 3 }); // nobody receives for 10.0.0.3
    wire.clock.advance(10_000);
    const byPeer = new Map(a.snapshot().sessions.map((s) => [s.peer, s]));
    expect(byPeer.get('10.0.0.3')).toMatchObject({ state: 'Down', packetsIn: 0, downReason: 'no-packets-from-peer', flaps: 0 });
    expect(byPeer.get('10.0.0.2')!.state).toBe('Up');
    expect(byPeer.get('10.0.0.2')!.downReason).toBeUndefined();
  });

  it('remove tells the peer AdminDown: it goes Down with neighbor-signaled-down, and stays Down', () => {
    const { wire, a, b, changes } = pair();
    wire.clock.advance(5_000);
    a.remove('10.0.0.2');
    wire.clock.advance(50);
    expect(b.snapshot().sessions[0]!.downReason).toBe('peer-admin-down');
    wire.clock.advance(10_000);
    // remoteState AdminDown tells the coupling this was no path failure (RFC 5882 §3.2)
    expect(changes['b']!.at(-1)).toMatchObject({ from: 'Up', to: 'Down', diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown' });
    expect(changes['b']!.filter((c) => c.to === 'Down')).toHaveLength(1);
    expect(a.snapshot().sessions).toEqual([]);
    expect(b.snapshot().sessions[0]!.downReason).toBe('neighbor-signaled-down'); // its AdminDowns ended: the last Down diagnostic
  });

  it('remove keeps sending AdminDown for a Detection Time (RFC 5880 §6.8.16): one lost packet is no failure at the peer, then the session is freed', () => {
    const { wire, a, changes } = pair();
    wire.clock.advance(5_000);
    const t0 = wire.clock.now();
    wire.lose.set('10.0.0.1', 1); // the first AdminDown is lost
    a.remove('10.0.0.2');
    wire.clock.advance(10_000);
    // b heard a later AdminDown: Down by neighbor-signaled-down, no detection-time expiry (RFC 5882 §3.2: BGP stays)
    expect(changes['b']!.filter((c) => c.to === 'Down')).toEqual([expect.objectContaining({ from: 'Up', diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown' })]);
    const admin = wire.log.filter((x) => x.from === '10.0.0.1' && x.at >= t0);
    expect(admin.every((x) => x.state === 'AdminDown')).toBe(true);
    // at the 300 ms interval in use (jittered), for one Detection Time (3 x 300 ms), then no more
    expect(admin.length).toBeGreaterThanOrEqual(3);
    const gaps = admin.slice(1).map((x, i) => x.at - admin[i]!.at);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(300);
    expect(admin.at(-1)!.at - t0).toBeGreaterThanOrEqual(900 - 300);
    expect(admin.at(-1)!.at - t0).toBeLessThanOrEqual(900);
    expect(wire.closed).toContain('10.0.0.1'); // freed: its socket closed
    expect(a.snapshot().sessions).toEqual([]);
  });

  it('a session added again inside its AdminDown window comes back (Down, then Up) on the same source port', () => {
    const { wire, a, ta, changes } = pair();
    wire.clock.advance(5_000);
    const discr = a.snapshot().sessions[0]!.localDiscriminator;
    a.remove('10.0.0.2');
    wire.clock.advance(200);
    a.add({ peer: '10.0.0.2', minRx: 300, minTx: 300, multiplier: 3 });
    wire.clock.advance(10_000);
    expect(a.snapshot().sessions).toEqual([expect.objectContaining({ peer: '10.0.0.2', state: 'Up', localDiscriminator: discr })]);
    const seq = changes['a']!.map((c) => `${c.from}>${c.to}`);
    const back = seq.slice(seq.lastIndexOf('Up>AdminDown'));
    expect(back.slice(0, 2)).toEqual(['Up>AdminDown', 'AdminDown>Down']); // a new start: Down, then the handshake
    expect(back.at(-1)).toMatch(/>Up$/);
    expect(ta.sentPorts).toHaveLength(1);
    expect(wire.closed).not.toContain('10.0.0.1');
    // b saw AdminDown, no failure
    expect(changes['b']!.some((c) => c.diagnostic === 'control-detection-time-expired')).toBe(false);
    wire.clock.advance(30_000);
    expect(a.snapshot().sessions[0]!.state).toBe('Up'); // the old window's timer did not end the revived session
  });

  it('a peer shut down (adminDown) sends AdminDown for the window, then falls silent but stays; enabling it brings it Up', () => {
    const { wire, a, changes } = pair();
    wire.clock.advance(5_000);
    const t0 = wire.clock.now();
    wire.lose.set('10.0.0.1', 1);
    a.adminDown('10.0.0.2', true);
    wire.clock.advance(10_000);
    const sent = wire.log.filter((x) => x.from === '10.0.0.1' && x.at >= t0);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent.at(-1)!.at - t0).toBeLessThanOrEqual(900); // ceased after the window
    expect(changes['b']!.filter((c) => c.to === 'Down')).toEqual([expect.objectContaining({ diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown' })]);
    expect(a.snapshot().sessions[0]!).toMatchObject({ state: 'AdminDown', downReason: 'administratively-down' });
    a.adminDown('10.0.0.2', false);
    wire.clock.advance(10_000);
    expect(a.snapshot().sessions[0]!.state).toBe('Up');
  });

  it('stop sends AdminDown to every session in parallel for min(Detection Time, the 1 s budget), then closes everything', async () => {
    const { wire, a, changes } = pair();
    a.add({ peer: '10.0.0.3', minRx: 1000, minTx: 1000, multiplier: 10 }); // nobody there: a 10 s window, cut to the budget
    wire.clock.advance(5_000);
    const t0 = wire.clock.now();
    wire.lose.set('10.0.0.1', 2); // the first AdminDowns (to 10.0.0.2 and 10.0.0.3) are lost
    let done = false;
    void a.stop().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false); // still telling the peers
    wire.clock.advance(1_000);
    await Promise.resolve();
    expect(done).toBe(true);
    const sent = wire.log.filter((x) => x.from === '10.0.0.1' && x.at >= t0);
    expect(sent.every((x) => x.state === 'AdminDown')).toBe(true);
    expect(sent.length).toBeGreaterThanOrEqual(4);
    expect(wire.deliver.has('10.0.0.1')).toBe(false); // the receiver closed
    wire.clock.advance(10_000);
    expect(wire.log.filter((x) => x.from === '10.0.0.1').length).toBe(wire.log.filter((x) => x.from === '10.0.0.1' && x.at <= t0 + 1_000).length);
    expect(changes['b']!.filter((c) => c.to === 'Down')).toEqual([expect.objectContaining({ diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown' })]);
  });

  it('stop with a peer shut down long ago (silent) and one Up: the Up one still gets its AdminDowns; a second stop waits for the same end', async () => {
    const { wire, a, changes } = pair();
    a.remove('10.0.0.2', false);
    a.add({ peer: '10.0.0.3', minRx: 300, minTx: 300, multiplier: 3 }); // first in the table: freed first by stop
    a.add({ peer: '10.0.0.2', minRx: 300, minTx: 300, multiplier: 3 });
    wire.clock.advance(5_000);
    expect(a.snapshot().sessions.find((x) => x.peer === '10.0.0.2')!.state).toBe('Up');
    a.adminDown('10.0.0.3', true);
    wire.clock.advance(10_000); // 10.0.0.3 silent now
    const t0 = wire.clock.now();
    wire.lose.set('10.0.0.1', 1);
    const ends: number[] = [];
    void a.stop().then(() => ends.push(1));
    void a.stop().then(() => ends.push(2));
    await Promise.resolve();
    expect(wire.deliver.has('10.0.0.1')).toBe(true); // not closed early by the silent session's free
    wire.clock.advance(1_000);
    await Promise.resolve();
    expect(ends.sort()).toEqual([1, 2]);
    expect(wire.log.filter((x) => x.from === '10.0.0.1' && x.at >= t0).length).toBeGreaterThanOrEqual(3);
    expect(changes['b']!.filter((c) => c.to === 'Down')).toEqual([expect.objectContaining({ diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown' })]);
    const empty = pair().a;
    empty.remove('10.0.0.2', false);
    await empty.stop(); // nothing to tell: resolves without the clock moving
  });

  it('new timers take effect by Poll/Final without a flap', () => {
    const { wire, a, b, changes } = pair();
    wire.clock.advance(5_000);
    const atUp = [changes['a']!.length, changes['b']!.length];
    a.update('10.0.0.2', { minRx: 100, minTx: 100, multiplier: 5 });
    wire.clock.advance(3_000);
    expect([changes['a']!.length, changes['b']!.length]).toEqual(atUp);
    expect(a.snapshot().sessions[0]).toMatchObject({ requiredMinRxMs: 100, desiredMinTxMs: 100, polling: false, multiplier: 5 });
    // b now sends every 100 ms (a's RequiredMinRx) and detects a at 5 x max(300, 100)
    expect(b.snapshot().sessions[0]).toMatchObject({ txIntervalMs: 300, detectionTimeMs: 1500 });
    expect(a.snapshot().sessions[0]).toMatchObject({ txIntervalMs: 300, detectionTimeMs: 900 });
  });

  it('refuses a peer that is not an address, with a clear error', () => {
    const { a } = pair();
    expect(() => a.add({ peer: 'node-b', minRx: 300, minTx: 300, multiplier: 3 })).toThrow(/not an IP address/);
  });
});
