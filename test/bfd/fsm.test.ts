// The pure BFD state machine (RFC 5880 §6.2, §6.8): the reception table of
// §6.8.6, detection time arithmetic (§6.8.4), jitter bounds (§6.8.7), Poll /
// Final on timer changes (§6.5, §6.8.3), AdminDown (§6.8.16), and two sessions
// driven against each other through the codec on a fake clock.
import { describe, expect, it } from 'vitest';
import {
  ADMIN_DOWN_MAX_US,
  IDLE_TX_US,
  TIMER_EVENT,
  adminDownWindowUs,
  detectionTimeUs,
  initialSession,
  jitteredMs,
  step,
  txInterval,
  type BfdAction,
  type BfdEvent,
  type BfdSession,
  type BfdTimers,
} from '../../src/bfd/fsm.js';
import { decodeControl, encodeControl, type BfdControlPacket, type BfdState } from '../../src/bfd/packet.js';
import { FakeClock, type TimerHandle } from '../../src/lib/clock.js';

const T300: BfdTimers = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 };
const ctx = { random: () => 0.5 };

function packet(over: Partial<BfdControlPacket> = {}): BfdControlPacket {
  return {
    version: 1,
    diagCode: 0,
    diagnostic: 'none',
    state: 'Down',
    poll: false,
    final: false,
    cpi: false,
    auth: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 99,
    yourDiscriminator: 0,
    desiredMinTxUs: 300_000,
    requiredMinRxUs: 300_000,
    requiredMinEchoRxUs: 0,
    ...over,
  };
}

function run(s: BfdSession, events: BfdEvent[]): { s: BfdSession; actions: BfdAction[] } {
  const actions: BfdAction[] = [];
  for (const e of events) {
    const r = step(s, e, ctx);
    s = r.session;
    actions.push(...r.actions);
  }
  return { s, actions };
}

function inState(state: BfdState): BfdSession {
  return { ...initialSession(1, T300), state, remoteDiscr: state === 'Down' ? 0 : 99 };
}

describe('initial state (§6.8.1)', () => {
  it('starts Down with the idle transmit rate and RemoteMinRx 1', () => {
    const s = initialSession(42, T300);
    expect(s).toMatchObject({ state: 'Down', remoteState: 'Down', localDiscr: 42, remoteDiscr: 0, localDiag: 'none', remoteMinRxUs: 1 });
    expect(s.desiredMinTxUs).toBe(IDLE_TX_US);
    expect(s.requiredMinRxUs).toBe(300_000);
  });
  it('refuses a zero discriminator', () => {
    expect(() => initialSession(0, T300)).toThrow(/nonzero/);
  });
  it('start arms the transmit timer at the idle rate, jittered', () => {
    const r = step(initialSession(1, T300), { type: 'start' }, { random: () => 0 });
    expect(r.actions).toEqual([{ type: 'arm', timer: 'tx', ms: 750 }]);
  });
});

describe('reception (§6.8.6 state table)', () => {
  const table: [BfdState, BfdState, BfdState, string][] = [
    ['Down', 'Down', 'Init', 'none'],
    ['Down', 'Init', 'Up', 'none'],
    ['Down', 'Up', 'Down', 'none'],
    ['Down', 'AdminDown', 'Down', 'none'],
    ['Init', 'Down', 'Init', 'none'],
    ['Init', 'Init', 'Up', 'none'],
    ['Init', 'Up', 'Up', 'none'],
    ['Init', 'AdminDown', 'Down', 'neighbor-signaled-down'],
    ['Up', 'Down', 'Down', 'neighbor-signaled-down'],
    ['Up', 'Init', 'Up', 'none'],
    ['Up', 'Up', 'Up', 'none'],
    ['Up', 'AdminDown', 'Down', 'neighbor-signaled-down'],
    ['AdminDown', 'Down', 'AdminDown', 'none'],
    ['AdminDown', 'Up', 'AdminDown', 'none'],
  ];
  for (const [local, remote, next, diag] of table) {
    it(`${local} + received ${remote} → ${next}`, () => {
      const before = inState(local);
      const { s, actions } = run(before, [{ type: 'packet', packet: packet({ state: remote, yourDiscriminator: remote === 'Down' || remote === 'AdminDown' ? 0 : 1 }) }]);
      expect(s.state).toBe(next);
      expect(s.remoteDiscr).toBe(99);
      expect(s.remoteState).toBe(remote);
      const changes = actions.filter((a) => a.type === 'state-change');
      if (next === local) expect(changes).toEqual([]);
      else expect(changes).toEqual([{ type: 'state-change', from: local, to: next, diagnostic: diag }]);
      // A packet that is not discarded restarts the Detection Time; AdminDown discards it.
      const detect = actions.filter((a) => a.type === 'arm' && a.timer === 'detect');
      expect(detect.length).toBe(local === 'AdminDown' ? 0 : 1);
    });
  }

  it('answers a Poll with a Final at once, without the P bit', () => {
    const { actions } = run(inState('Up'), [{ type: 'packet', packet: packet({ state: 'Up', poll: true, yourDiscriminator: 1 }) }]);
    const sends = actions.filter((a) => a.type === 'send');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ fields: { final: true, poll: false, state: 'Up', yourDiscriminator: 99 } });
  });

  it('stops periodic transmission when the peer asks for RequiredMinRx 0 (§6.8.7)', () => {
    const { s, actions } = run(inState('Up'), [{ type: 'packet', packet: packet({ state: 'Up', requiredMinRxUs: 0, yourDiscriminator: 1 }) }]);
    expect(txInterval(s)).toBe(0);
    expect(actions).toContainEqual({ type: 'disarm', timer: 'tx' });
    const r = step(s, { type: 'tx-timer' }, ctx);
    expect(r.actions.filter((a) => a.type === 'send')).toEqual([]);
  });

  it('keeps the peer C bit for RFC 5882 §4.3.2', () => {
    const { s } = run(inState('Up'), [{ type: 'packet', packet: packet({ state: 'Up', cpi: true, yourDiscriminator: 1 }) }]);
    expect(s.remoteCpi).toBe(true);
  });
});

describe('detection time (§6.8.4) and its expiry (§6.8.5)', () => {
  it('is the remote multiplier times max(our RequiredMinRx, their DesiredMinTx)', () => {
    const base = { ...inState('Up'), rxBaseUs: 300_000 };
    expect(detectionTimeUs({ ...base, remoteDetectMult: 3, remoteDesiredMinTxUs: 100_000 })).toBe(900_000);
    expect(detectionTimeUs({ ...base, remoteDetectMult: 5, remoteDesiredMinTxUs: 1_000_000 })).toBe(5_000_000);
    expect(detectionTimeUs({ ...base, remoteDetectMult: 2, remoteDesiredMinTxUs: 300_000 })).toBe(600_000);
  });

  it('arms the detect timer from the received packet', () => {
    const { actions } = run(inState('Up'), [{ type: 'packet', packet: packet({ state: 'Up', detectMult: 4, desiredMinTxUs: 500_000, yourDiscriminator: 1 }) }]);
    expect(actions).toContainEqual({ type: 'arm', timer: 'detect', ms: 2000 });
  });

  it('Up and Init go Down with diagnostic 1; the remote discriminator is forgotten', () => {
    for (const st of ['Up', 'Init'] as const) {
      const { s, actions } = run(inState(st), [{ type: 'detect-timer' }]);
      expect(s.state).toBe('Down');
      expect(s.localDiag).toBe('control-detection-time-expired');
      expect(s.remoteDiscr).toBe(0);
      expect(actions).toContainEqual({ type: 'state-change', from: st, to: 'Down', diagnostic: 'control-detection-time-expired' });
      expect(s.desiredMinTxUs).toBe(IDLE_TX_US); // §6.8.3: back to ≥ 1 s while not Up
    }
  });

  it('in Down only forgets the remote discriminator', () => {
    const { s, actions } = run({ ...inState('Down'), remoteDiscr: 5 }, [{ type: 'detect-timer' }]);
    expect(s.state).toBe('Down');
    expect(s.remoteDiscr).toBe(0);
    expect(actions.filter((a) => a.type === 'state-change')).toEqual([]);
  });
});

describe('jitter (§6.8.7)', () => {
  it('is 75–90 % of the interval (a 10–25 % reduction: within the RFC 0–25 %, and the multiplier-1 rule)', () => {
    const samples = [0, 0.1, 0.5, 0.9, 0.999999, 1, -1, 2];
    for (const r of samples) {
      const ms = jitteredMs(300_000, 3, () => r);
      expect(ms).toBeGreaterThanOrEqual(225);
      expect(ms).toBeLessThanOrEqual(270);
      const one = jitteredMs(300_000, 1, () => r);
      expect(one).toBeGreaterThanOrEqual(225);
      expect(one).toBeLessThanOrEqual(270);
    }
    expect(jitteredMs(300_000, 3, () => 0)).toBe(225);
    expect(jitteredMs(300_000, 1, () => 0.999999)).toBeCloseTo(270, 3);
  });

  it('every tx-timer re-arm stays within the bounds across a random sequence', () => {
    let x = 7;
    const random = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let s: BfdSession = { ...inState('Up'), txBaseUs: 300_000, desiredMinTxUs: 300_000, remoteMinRxUs: 100_000 };
    for (let i = 0; i < 1000; i++) {
      const r = step(s, { type: 'tx-timer' }, { random });
      s = r.session;
      const arm = r.actions.find((a) => a.type === 'arm');
      expect(arm && arm.type === 'arm' ? arm.ms : -1).toBeGreaterThanOrEqual(225);
      expect(arm && arm.type === 'arm' ? arm.ms : 1e9).toBeLessThanOrEqual(270);
    }
  });

  it('the interval is max(our DesiredMinTx, their RequiredMinRx)', () => {
    expect(txInterval({ ...inState('Up'), txBaseUs: 300_000, remoteMinRxUs: 500_000 })).toBe(500_000);
    expect(txInterval({ ...inState('Up'), txBaseUs: 300_000, remoteMinRxUs: 50_000 })).toBe(300_000);
  });
});

describe('Poll / Final on timer changes (§6.5, §6.8.3)', () => {
  const up = (): BfdSession => ({ ...inState('Up'), desiredMinTxUs: 300_000, txBaseUs: 300_000, remoteMinRxUs: 300_000, remoteDetectMult: 3, remoteDesiredMinTxUs: 300_000 });

  it('a slower DesiredMinTx is advertised with P at once but used only after the Final', () => {
    const slower = { ...T300, desiredMinTxUs: 1_000_000 };
    let { s, actions } = run(up(), [{ type: 'configure', timers: slower }]);
    expect(s.polling).toBe(true);
    expect(s.desiredMinTxUs).toBe(1_000_000);
    expect(txInterval(s)).toBe(300_000);
    expect(actions.find((a) => a.type === 'send')).toMatchObject({ fields: { poll: true, desiredMinTxUs: 1_000_000 } });
    // periodic packets carry P until the Final
    const tick = step(s, { type: 'tx-timer' }, ctx);
    expect(tick.actions.find((a) => a.type === 'send')).toMatchObject({ fields: { poll: true } });
    ({ s, actions } = run(tick.session, [{ type: 'packet', packet: packet({ state: 'Up', final: true, yourDiscriminator: 1 }) }]));
    expect(s.polling).toBe(false);
    expect(txInterval(s)).toBe(1_000_000);
    expect(actions).toContainEqual({ type: 'poll-complete' });
    expect(s.state).toBe('Up'); // no reset
  });

  it('a smaller RequiredMinRx keeps the old value for the Detection Time until the Final', () => {
    const faster = { ...T300, requiredMinRxUs: 100_000 };
    let { s } = run({ ...up(), remoteDesiredMinTxUs: 100_000 }, [{ type: 'configure', timers: faster }]);
    expect(s.requiredMinRxUs).toBe(100_000);
    expect(detectionTimeUs(s)).toBe(900_000);
    ({ s } = run(s, [{ type: 'packet', packet: packet({ state: 'Up', final: true, desiredMinTxUs: 100_000, yourDiscriminator: 1 }) }]));
    expect(detectionTimeUs(s)).toBe(300_000);
  });

  it('a larger RequiredMinRx and a faster DesiredMinTx apply at once', () => {
    const { s } = run(up(), [{ type: 'configure', timers: { desiredMinTxUs: 100_000, requiredMinRxUs: 600_000, detectMult: 3 } }]);
    expect(s.polling).toBe(true);
    expect(s.txBaseUs).toBe(100_000);
    expect(s.rxBaseUs).toBe(600_000);
  });

  it('unchanged timers start no Poll', () => {
    const { s, actions } = run(up(), [{ type: 'configure', timers: T300 }]);
    expect(s.polling).toBe(false);
    expect(actions).toEqual([]);
  });

  it('while Down new timers apply without a Poll', () => {
    const { s, actions } = run(inState('Down'), [{ type: 'configure', timers: { ...T300, requiredMinRxUs: 50_000 } }]);
    expect(s.polling).toBe(false);
    expect(s.rxBaseUs).toBe(50_000);
    expect(actions.filter((a) => a.type === 'send')).toEqual([]);
  });
});

describe('AdminDown (§6.8.16)', () => {
  it('sends AdminDown with diagnostic 7 at once and stops detection; admin-up returns to Down', () => {
    let { s, actions } = run(inState('Up'), [{ type: 'admin-down' }]);
    expect(s.state).toBe('AdminDown');
    expect(actions).toContainEqual({ type: 'disarm', timer: 'detect' });
    expect(actions.find((a) => a.type === 'send')).toMatchObject({ fields: { state: 'AdminDown', diagnostic: 'administratively-down' } });
    ({ s, actions } = run(s, [{ type: 'admin-up' }]));
    expect(s.state).toBe('Down');
    expect(actions).toContainEqual({ type: 'state-change', from: 'AdminDown', to: 'Down', diagnostic: 'none' });
  });
});

describe('AdminDown window (§6.8.16: sent for at least a Detection Time, then ceased)', () => {
  /** Drives one session alone on a fake clock, recording what it sends and reports. */
  function alone(s: BfdSession) {
    const clock = new FakeClock();
    const timers = new Map<string, TimerHandle>();
    const sent: { at: number; state: BfdState; desiredMinTxUs: number }[] = [];
    const other: BfdAction['type'][] = [];
    const st = { s };
    const feed = (e: BfdEvent): void => {
      const r = step(st.s, e, ctx);
      st.s = r.session;
      for (const a of r.actions) {
        if (a.type === 'arm') {
          timers.get(a.timer)?.cancel();
          timers.set(a.timer, clock.after(a.ms, () => feed({ type: TIMER_EVENT[a.timer] })));
        } else if (a.type === 'disarm') timers.get(a.timer)?.cancel();
        else if (a.type === 'send') sent.push({ at: clock.now(), state: a.fields.state, desiredMinTxUs: a.fields.desiredMinTxUs });
        else other.push(a.type);
      }
    };
    return { clock, sent, other, st, feed };
  }
  // Up at 300 ms x 3 with a peer at 300 ms x 3: both Detection Times are 900 ms
  const upHeard = (): BfdSession => ({ ...inState('Up'), txBaseUs: 300_000, desiredMinTxUs: 300_000, txIntervalUs: 300_000, remoteMinRxUs: 300_000, remoteDesiredMinTxUs: 300_000, remoteDetectMult: 3 });

  it('keeps sending AdminDown at the interval in use for one Detection Time, then stops and says silent', () => {
    const w = alone(upHeard());
    expect(adminDownWindowUs(w.st.s)).toBe(900_000);
    w.feed({ type: 'admin-down' });
    w.clock.advance(60_000);
    expect(w.sent.every((x) => x.state === 'AdminDown')).toBe(true);
    expect(w.sent.every((x) => x.desiredMinTxUs >= IDLE_TX_US)).toBe(true); // §6.8.3: advertised ≥ 1 s while not Up
    expect(w.sent.length).toBeGreaterThanOrEqual(4); // at once, then every 225–270 ms
    expect(w.sent.at(-1)!.at).toBeLessThanOrEqual(900);
    expect(w.sent.at(-1)!.at).toBeGreaterThanOrEqual(900 - 300);
    expect(w.other).toEqual(['state-change', 'silent']);
    expect(w.st.s).toMatchObject({ state: 'AdminDown', silent: true });
  });

  it('a peer never heard: the slow rate (1 s) x our multiplier; capped; bounded by maxMs; none when the peer wants no packets', () => {
    expect(adminDownWindowUs(inState('Down'))).toBe(3 * IDLE_TX_US);
    expect(adminDownWindowUs({ ...inState('Down'), detectMult: 255 })).toBe(ADMIN_DOWN_MAX_US);
    const w = alone(upHeard());
    w.feed({ type: 'admin-down', maxMs: 400 });
    w.clock.advance(10_000);
    expect(w.sent.at(-1)!.at).toBeLessThanOrEqual(400);
    expect(w.other).toContain('silent');
    const none = alone({ ...upHeard(), remoteMinRxUs: 0 });
    none.feed({ type: 'admin-down' });
    expect(none.sent).toHaveLength(1); // the one AdminDown, then silent at once
    expect(none.other).toContain('silent');
  });

  it('admin-up inside the window or after it: Down, transmitting again at the idle rate, no late silent', () => {
    for (const after of [200, 5_000]) {
      const w = alone(upHeard());
      w.feed({ type: 'admin-down' });
      w.clock.advance(after);
      w.feed({ type: 'admin-up' });
      const n = w.sent.length;
      const silentBefore = w.other.filter((x) => x === 'silent').length;
      w.clock.advance(10_000);
      expect(w.st.s).toMatchObject({ state: 'Down', silent: false });
      expect(w.sent.slice(n).every((x) => x.state === 'Down')).toBe(true);
      expect(w.sent.length - n).toBeGreaterThanOrEqual(10); // ~ every 750–900 ms
      expect(w.other.filter((x) => x === 'silent').length).toBe(silentBefore);
    }
  });
});

/** Two sessions wired through the codec on a fake clock; `cut` drops every packet. */
class Pair {
  readonly clock = new FakeClock();
  cut = false;
  readonly ends: { s: BfdSession; timers: Map<string, TimerHandle>; changes: string[]; sent: { at: number; poll: boolean; final: boolean }[] }[];
  constructor(a: BfdTimers, b: BfdTimers) {
    this.ends = [
      { s: initialSession(11, a), timers: new Map(), changes: [], sent: [] },
      { s: initialSession(22, b), timers: new Map(), changes: [], sent: [] },
    ];
    for (const i of [0, 1]) this.feed(i, { type: 'start' });
  }
  private rnd = 1;
  private random = (): number => ((this.rnd = (this.rnd * 48271) % 2147483647) / 2147483647);

  feed(i: number, e: BfdEvent): void {
    const end = this.ends[i]!;
    const r = step(end.s, e, { random: this.random });
    end.s = r.session;
    for (const a of r.actions) {
      if (a.type === 'arm') {
        end.timers.get(a.timer)?.cancel();
        end.timers.set(a.timer, this.clock.after(a.ms, () => this.feed(i, { type: TIMER_EVENT[a.timer] })));
      } else if (a.type === 'disarm') end.timers.get(a.timer)?.cancel();
      else if (a.type === 'state-change') end.changes.push(`${a.from}>${a.to}:${a.diagnostic}`);
      else if (a.type === 'send') {
        end.sent.push({ at: this.clock.now(), poll: !!a.fields.poll, final: !!a.fields.final });
        const bytes = encodeControl(a.fields);
        if (this.cut) continue;
        const d = decodeControl(bytes);
        if (!d.ok) throw new Error(d.reason);
        this.clock.after(1, () => this.feed(1 - i, { type: 'packet', packet: d.packet }));
      }
    }
  }
}

describe('two sessions against each other', () => {
  it('come Up by the three-way handshake and stay Up for a minute', () => {
    const p = new Pair(T300, T300);
    p.clock.advance(5_000);
    expect(p.ends.map((e) => e.s.state)).toEqual(['Up', 'Up']);
    const changesAtUp = p.ends.map((e) => e.changes.length);
    p.clock.advance(60_000);
    expect(p.ends.map((e) => e.changes.length)).toEqual(changesAtUp);
    // once Up and the Poll done, each side sends at 225–270 ms
    const gaps = p.ends[0]!.sent.filter((x) => !x.final && x.at > 10_000).map((x, i, all) => (i ? x.at - all[i - 1]!.at : 250));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(270);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(225);
    expect(p.ends[0]!.s.polling).toBe(false);
  });

  it('a cut path goes Down with diagnostic 1 within the detection time', () => {
    const p = new Pair(T300, T300);
    p.clock.advance(5_000);
    p.cut = true;
    const at = p.clock.now();
    p.clock.advance(901);
    expect(p.ends.map((e) => e.s.state)).toEqual(['Down', 'Down']);
    expect(p.ends[0]!.changes.at(-1)).toBe('Up>Down:control-detection-time-expired');
    expect(p.clock.now() - at).toBeLessThanOrEqual(901);
    p.cut = false;
    p.clock.advance(5_000);
    expect(p.ends.map((e) => e.s.state)).toEqual(['Up', 'Up']);
  });

  it('renegotiates timers by Poll/Final without leaving Up', () => {
    const p = new Pair(T300, T300);
    p.clock.advance(5_000);
    const before = p.ends.map((e) => e.changes.length);
    p.feed(0, { type: 'configure', timers: { desiredMinTxUs: 100_000, requiredMinRxUs: 100_000, detectMult: 5 } });
    p.clock.advance(3_000);
    expect(p.ends.map((e) => e.changes.length)).toEqual(before);
    expect(p.ends[0]!.s.polling).toBe(false);
    expect(p.ends[1]!.s.remoteDetectMult).toBe(5);
    expect(detectionTimeUs(p.ends[1]!.s)).toBe(5 * 300_000);
    expect(detectionTimeUs(p.ends[0]!.s)).toBe(3 * 300_000);
  });

  it('AdminDown on one side brings the other Down with diagnostic 3 and no flapping after', () => {
    const p = new Pair(T300, T300);
    p.clock.advance(5_000);
    p.feed(0, { type: 'admin-down' });
    p.clock.advance(10_000);
    expect(p.ends[0]!.s.state).toBe('AdminDown');
    expect(p.ends[1]!.s.state).toBe('Down');
    expect(p.ends[1]!.changes.at(-1)).toBe('Up>Down:neighbor-signaled-down');
    expect(p.ends[1]!.changes.filter((c) => c.startsWith('Down>'))).toHaveLength(1);
  });
});
