// The pure RFC 4271 §8 FSM: transitions per state, timer actions and values,
// NOTIFICATIONs on error paths (RFC 4271 §6, RFC 6608), backoff and jitter,
// passive peers, and invariants over random event sequences.
import { describe, expect, it } from 'vitest';
import { connectRetryDelay, idleHoldDelay, jitter, step } from '../../../src/bgp/fsm/fsm.js';
import { buildOpen } from '../../../src/bgp/fsm/negotiate.js';
import {
  initialFsmState,
  OPEN_SENT_HOLD_MS,
  SESSION_STATES,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type SessionState,
} from '../../../src/bgp/fsm/types.js';
import { wireError } from '../../../src/bgp/wire/errors.js';
import type { NotificationMessage, OpenMessage, UpdateMessage } from '../../../src/bgp/wire/types.js';
import { hex } from '../../helpers/hex.js';

function cfgWith(over: Partial<FsmConfig> = {}): FsmConfig {
  return {
    local: {
      asn: 64512,
      routerId: 0x0a000001,
      holdTime: 90,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      extendedMessage: true,
    },
    peerAsn: 64512,
    passive: false,
    connectRetryMs: 5000,
    connectRetryMaxMs: 120_000,
    idleHoldMs: 5000,
    idleHoldMaxMs: 120_000,
    allowAutomaticStart: true,
    random: () => 1, // jitter factor 1.0 unless a test says otherwise
    ...over,
  };
}
const CFG = cfgWith();

const PEER_OPEN: OpenMessage = {
  type: 'open',
  version: 4,
  myAs: 64512,
  holdTime: 90,
  bgpId: 0x0a000002,
  capabilities: [
    { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
    { kind: 'four-octet-as', code: 65, asn: 64512 },
  ],
};
const UPDATE: UpdateMessage = {
  type: 'update',
  withdrawn: { family: 'ipv4-unicast', prefixes: [] },
  attributes: {},
  nlri: { family: 'ipv4-unicast', prefixes: [] },
};
const notif = (code: number, subcode: number): NotificationMessage => ({ type: 'notification', code, subcode, data: Buffer.alloc(0) });

/** Feeds events in order; returns the final state and every action. */
function run(events: FsmEvent[], cfg = CFG, from = initialFsmState()): { state: FsmState; actions: FsmAction[] } {
  let state = from;
  const actions: FsmAction[] = [];
  for (const e of events) {
    const r = step(state, e, cfg);
    state = r.state;
    actions.push(...r.actions);
  }
  return { state, actions };
}

const PATHS: Record<SessionState, FsmEvent[]> = {
  Idle: [],
  Connect: [{ type: 'ManualStart' }],
  Active: [{ type: 'ManualStart' }, { type: 'TcpConnectionFails' }],
  OpenSent: [{ type: 'ManualStart' }, { type: 'TcpCRAcked' }],
  OpenConfirm: [{ type: 'ManualStart' }, { type: 'TcpCRAcked' }, { type: 'BGPOpen', open: PEER_OPEN }],
  Established: [{ type: 'ManualStart' }, { type: 'TcpCRAcked' }, { type: 'BGPOpen', open: PEER_OPEN }, { type: 'KeepAliveMsg' }],
};

function reach(name: SessionState, cfg = CFG): FsmState {
  const s = run(PATHS[name], cfg).state;
  expect(s.state).toBe(name);
  return s;
}

const sent = (actions: FsmAction[]) => actions.flatMap((a) => (a.type === 'send' ? [a.message] : []));
const started = (actions: FsmAction[]) => actions.flatMap((a) => (a.type === 'start-timer' ? [[a.timer, a.ms] as const] : []));
const sentNotification = (actions: FsmAction[]) =>
  sent(actions).flatMap((m) => (m.type === 'notification' ? [[m.code, m.subcode]] : []));

describe('Idle', () => {
  it('ManualStart connects and arms ConnectRetry', () => {
    const r = step(initialFsmState(), { type: 'ManualStart' }, CFG);
    expect(r.state).toMatchObject({ state: 'Connect', started: true, passive: false });
    expect(r.actions).toEqual([
      { type: 'stop-timer', timer: 'IdleHold' },
      { type: 'start-timer', timer: 'ConnectRetry', ms: 5000 },
      { type: 'connect' },
    ]);
  });

  it('passive ManualStart goes to Active and neither connects nor arms ConnectRetry', () => {
    for (const [event, cfg] of [
      [{ type: 'ManualStart', passive: true }, CFG],
      [{ type: 'AutomaticStart' }, cfgWith({ passive: true })],
    ] as const) {
      const r = step(initialFsmState(), event, cfg);
      expect(r.state).toMatchObject({ state: 'Active', passive: true });
      expect(r.actions.some((a) => a.type === 'connect' || (a.type === 'start-timer' && a.timer === 'ConnectRetry'))).toBe(false);
    }
  });

  it('refuses TCP connections and ignores messages and timers', () => {
    const idle = initialFsmState();
    expect(step(idle, { type: 'TcpConnectionConfirmed' }, CFG).actions).toEqual([{ type: 'close' }]);
    for (const e of [
      { type: 'KeepAliveMsg' },
      { type: 'BGPOpen', open: PEER_OPEN },
      { type: 'HoldTimerExpires' },
      { type: 'IdleHoldTimerExpires' }, // not started: no automatic restart
      { type: 'NotifMsg', notification: notif(6, 2) },
    ] as FsmEvent[]) {
      expect(step(idle, e, CFG)).toEqual({ state: idle, actions: [] });
    }
  });
});

describe('Connect and Active', () => {
  it('outgoing connection up → OpenSent: OPEN from config, 4-minute hold (RFC 4271 §8.2.2)', () => {
    const r = step(reach('Connect'), { type: 'TcpCRAcked' }, CFG);
    expect(r.state).toMatchObject({ state: 'OpenSent', direction: 'outbound', connectAttempts: 0 });
    expect(r.actions).toEqual([
      { type: 'stop-timer', timer: 'ConnectRetry' },
      { type: 'send', message: buildOpen(CFG.local) },
      { type: 'start-timer', timer: 'Hold', ms: OPEN_SENT_HOLD_MS },
    ]);
    expect(OPEN_SENT_HOLD_MS).toBe(240_000);
  });

  it('inbound connection in Active → OpenSent, marked inbound', () => {
    const r = step(reach('Active'), { type: 'TcpConnectionConfirmed' }, CFG);
    expect(r.state).toMatchObject({ state: 'OpenSent', direction: 'inbound' });
    expect(sent(r.actions)).toEqual([buildOpen(CFG.local)]);
  });

  it('connect failure → Active with a longer ConnectRetry; expiry → Connect and connect again', () => {
    const a = step(reach('Connect'), { type: 'TcpConnectionFails' }, CFG);
    expect(a.state.state).toBe('Active');
    expect(started(a.actions)).toEqual([['ConnectRetry', 10_000]]);
    const c = step(a.state, { type: 'ConnectRetryTimerExpires' }, CFG);
    expect(c.state.state).toBe('Connect');
    expect(c.actions).toEqual([{ type: 'start-timer', timer: 'ConnectRetry', ms: 10_000 }, { type: 'connect' }]);
  });

  it('ConnectRetry expiry in Connect abandons the attempt and retries with backoff', () => {
    const r = step(reach('Connect'), { type: 'ConnectRetryTimerExpires' }, CFG);
    expect(r.state.state).toBe('Connect');
    expect(r.actions).toEqual([{ type: 'close' }, { type: 'start-timer', timer: 'ConnectRetry', ms: 10_000 }, { type: 'connect' }]);
  });

  it('ManualStop drops to Idle without a NOTIFICATION and without restarting', () => {
    const r = step(reach('Connect'), { type: 'ManualStop' }, CFG);
    expect(r.state).toMatchObject({ state: 'Idle', started: false, connectRetryCounter: 0 });
    expect(sent(r.actions)).toEqual([]);
    expect(r.actions).toContainEqual({ type: 'session-down', reason: 'admin-stop', wasEstablished: false });
    expect(started(r.actions)).toEqual([]);
  });

  it('a message without a connection is an FSM error → Idle and automatic restart', () => {
    const r = step(reach('Active'), { type: 'KeepAliveMsg' }, CFG);
    expect(r.state).toMatchObject({ state: 'Idle', connectRetryCounter: 1 });
    expect(sent(r.actions)).toEqual([]);
    expect(started(r.actions)).toEqual([['IdleHold', 5000]]);
  });
});

describe('OpenSent', () => {
  it('a valid OPEN → OpenConfirm: KEEPALIVE, keepalive = hold/3, hold = min', () => {
    const r = step(reach('OpenSent'), { type: 'BGPOpen', open: { ...PEER_OPEN, holdTime: 30 } }, CFG);
    expect(r.state.state).toBe('OpenConfirm');
    expect(r.state.session).toMatchObject({ holdTime: 30, keepaliveTime: 10, peerAsn: 64512 });
    expect(r.actions).toEqual([
      { type: 'send', message: { type: 'keepalive' } },
      { type: 'start-timer', timer: 'Keepalive', ms: 10_000 },
      { type: 'start-timer', timer: 'Hold', ms: 30_000 },
    ]);
  });

  it('hold time 0 → no keepalive or hold timer (RFC 4271 §4.2)', () => {
    const r = step(reach('OpenSent'), { type: 'BGPOpen', open: { ...PEER_OPEN, holdTime: 0 } }, CFG);
    expect(r.state.state).toBe('OpenConfirm');
    expect(started(r.actions)).toEqual([]);
    expect(r.actions).toContainEqual({ type: 'stop-timer', timer: 'Hold' });
    const e = step(r.state, { type: 'KeepAliveMsg' }, CFG);
    expect(e.state.state).toBe('Established');
    expect(started(e.actions)).toEqual([]);
    expect(step(e.state, { type: 'KeepaliveTimerExpires' }, CFG).actions).toEqual([]);
  });

  it('a bad OPEN → OPEN Message Error, Idle, IdleHold restart', () => {
    const r = step(reach('OpenSent'), { type: 'BGPOpen', open: { ...PEER_OPEN, myAs: 65000, capabilities: [] } }, CFG);
    expect(r.state).toMatchObject({ state: 'Idle', connectRetryCounter: 1 });
    expect(sentNotification(r.actions)).toEqual([[2, 2]]);
    expect(r.actions.map((a) => a.type)).toEqual([
      'send',
      'close',
      'stop-timer',
      'stop-timer',
      'stop-timer',
      'stop-timer',
      'session-down',
      'start-timer',
    ]);
    expect(r.state.lastDown?.reason).toBe('open-error');
  });

  it('TCP failure → Active with ConnectRetry (passive: without)', () => {
    const r = step(reach('OpenSent'), { type: 'TcpConnectionFails' }, CFG);
    expect(r.state.state).toBe('Active');
    expect(r.state.direction).toBeUndefined();
    expect(started(r.actions)).toEqual([['ConnectRetry', 10_000]]);
    const passive = run([{ type: 'ManualStart', passive: true }, { type: 'TcpConnectionConfirmed' }, { type: 'TcpConnectionFails' }]);
    expect(passive.state.state).toBe('Active');
    expect(passive.actions.some((a) => a.type === 'connect' || (a.type === 'start-timer' && a.timer === 'ConnectRetry'))).toBe(false);
  });

  it('a version-error NOTIFICATION does not count (event 24); another one does', () => {
    const v = step(reach('OpenSent'), { type: 'NotifMsg', notification: notif(2, 1) }, CFG);
    expect(v.state).toMatchObject({ state: 'Idle', connectRetryCounter: 0 });
    expect(sent(v.actions)).toEqual([]);
    const o = step(reach('OpenSent'), { type: 'NotifMsg', notification: notif(6, 2) }, CFG);
    expect(o.state).toMatchObject({ state: 'Idle', connectRetryCounter: 1 });
    expect(o.actions).toContainEqual({
      type: 'session-down',
      reason: 'notification-received',
      wasEstablished: false,
      notification: { direction: 'received', message: notif(6, 2) },
    });
  });
});

// RFC 6608: unexpected messages per state; RFC 4271 §6.5 hold timer; RFC 4271 §6.1-6.3 wire errors.
describe('error NOTIFICATIONs', () => {
  const hdr = wireError(1, 2, 'bad length', hex`0013 # the bad length`);
  const upd = wireError(3, 11, 'malformed AS_PATH');
  const cases: [SessionState, FsmEvent, [number, number]][] = [
    ['OpenSent', { type: 'KeepAliveMsg' }, [5, 1]],
    ['OpenSent', { type: 'UpdateMsg', update: UPDATE }, [5, 1]],
    ['OpenSent', { type: 'RouteRefreshMsg', refresh: { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 } }, [5, 1]],
    ['OpenConfirm', { type: 'BGPOpen', open: PEER_OPEN }, [5, 2]],
    ['OpenConfirm', { type: 'UpdateMsg', update: UPDATE }, [5, 2]],
    ['Established', { type: 'BGPOpen', open: PEER_OPEN }, [5, 3]],
    ['OpenSent', { type: 'HoldTimerExpires' }, [4, 0]],
    ['OpenConfirm', { type: 'HoldTimerExpires' }, [4, 0]],
    ['Established', { type: 'HoldTimerExpires' }, [4, 0]],
    ['OpenSent', { type: 'BGPHeaderErr', error: hdr }, [1, 2]],
    ['Established', { type: 'BGPHeaderErr', error: hdr }, [1, 2]],
    ['OpenSent', { type: 'BGPOpenMsgErr', error: wireError(2, 4, 'bad param') }, [2, 4]],
    ['Established', { type: 'UpdateMsgErr', error: upd }, [3, 11]],
    ['OpenConfirm', { type: 'OpenCollisionDump' }, [6, 7]],
    ['Established', { type: 'ManualStop' }, [6, 2]],
    ['OpenSent', { type: 'AutomaticStop', subcode: 1, reason: 'max-prefix' }, [6, 1]],
  ];
  it.each(cases)('%s + %o → NOTIFICATION %j', (from, event, codes) => {
    const before = reach(from);
    const r = step(before, event, CFG);
    expect(r.state.state).toBe('Idle');
    expect(sentNotification(r.actions)).toEqual([codes]);
    // the NOTIFICATION goes out before the connection closes
    expect(r.actions.findIndex((a) => a.type === 'send')).toBeLessThan(r.actions.findIndex((a) => a.type === 'close'));
    const down = r.actions.find((a) => a.type === 'session-down');
    expect(down).toMatchObject({ wasEstablished: from === 'Established', notification: { direction: 'sent' } });
  });

  it('carries the wire error data in the NOTIFICATION', () => {
    const r = step(reach('OpenSent'), { type: 'BGPHeaderErr', error: hdr }, CFG);
    expect(sent(r.actions)[0]).toEqual({ type: 'notification', code: 1, subcode: 2, data: hex`0013` });
  });

  it('a received NOTIFICATION is never answered', () => {
    for (const from of ['OpenSent', 'OpenConfirm', 'Established'] as const) {
      const r = step(reach(from), { type: 'NotifMsg', notification: notif(6, 4) }, CFG);
      expect(r.state.state).toBe('Idle');
      expect(sent(r.actions)).toEqual([]);
      expect(r.actions).toContainEqual({ type: 'close' });
    }
  });
});

describe('OpenConfirm and Established', () => {
  it('KEEPALIVE in OpenConfirm → Established with the negotiated session', () => {
    const oc = reach('OpenConfirm');
    const r = step(oc, { type: 'KeepAliveMsg' }, CFG);
    expect(r.state.state).toBe('Established');
    expect(r.actions).toEqual([
      { type: 'start-timer', timer: 'Hold', ms: 90_000 },
      { type: 'established', session: oc.session },
    ]);
    expect(oc.session?.families).toEqual(['ipv4-unicast']);
    expect(oc.session?.codec.fourOctetAs).toBe(true);
  });

  it('Keepalive timer sends KEEPALIVE and re-arms in OpenConfirm and Established', () => {
    for (const from of ['OpenConfirm', 'Established'] as const) {
      const r = step(reach(from), { type: 'KeepaliveTimerExpires' }, CFG);
      expect(r.state.state).toBe(from);
      expect(r.actions).toEqual([
        { type: 'send', message: { type: 'keepalive' } },
        { type: 'start-timer', timer: 'Keepalive', ms: 30_000 },
      ]);
    }
  });

  it('KEEPALIVE and UPDATE restart the hold timer; UPDATE is delivered', () => {
    const est = reach('Established');
    expect(step(est, { type: 'KeepAliveMsg' }, CFG).actions).toEqual([{ type: 'start-timer', timer: 'Hold', ms: 90_000 }]);
    expect(step(est, { type: 'UpdateMsg', update: UPDATE }, CFG).actions).toEqual([
      { type: 'start-timer', timer: 'Hold', ms: 90_000 },
      { type: 'deliver', message: UPDATE },
    ]);
  });

  it('ROUTE-REFRESH is delivered only for a negotiated family (RFC 2918 §4)', () => {
    const est = reach('Established');
    const v4 = { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 } as const;
    expect(step(est, { type: 'RouteRefreshMsg', refresh: v4 }, CFG).actions).toContainEqual({ type: 'deliver', message: v4 });
    const v6 = { ...v4, afi: 2 };
    expect(step(est, { type: 'RouteRefreshMsg', refresh: v6 }, CFG).actions.some((a) => a.type === 'deliver')).toBe(false);
  });

  it('an UPDATE error short of session-reset keeps the session (RFC 7606)', () => {
    const r = step(reach('Established'), { type: 'UpdateMsgErr', error: wireError(3, 6, 'origin', Buffer.alloc(0), 'treat-as-withdraw') }, CFG);
    expect(r.state.state).toBe('Established');
    expect(sent(r.actions)).toEqual([]);
  });

  it('TCP loss in Established reports a connection-closed down with wasEstablished', () => {
    const r = step(reach('Established'), { type: 'TcpConnectionFails' }, CFG);
    expect(r.state.state).toBe('Idle');
    expect(r.actions).toContainEqual({ type: 'session-down', reason: 'connection-closed', wasEstablished: true });
  });

  it('ManualStop sends Cease / Administrative Shutdown with an RFC 8203 message and stays down', () => {
    const r = step(reach('Established'), { type: 'ManualStop', message: 'maint' }, CFG);
    const n = sent(r.actions)[0] as NotificationMessage;
    expect([n.code, n.subcode, n.shutdownMessage]).toEqual([6, 2, 'maint']);
    expect(n.data).toEqual(hex`
      05              # length
      6d 61 69 6e 74  # "maint"`);
    expect(r.state).toMatchObject({ state: 'Idle', started: false });
    expect(started(r.actions)).toEqual([]);
    expect(step(r.state, { type: 'IdleHoldTimerExpires' }, CFG).state.state).toBe('Idle');
  });

  it('silent ManualStop (graceful restart, RFC 4724 §4) closes without any NOTIFICATION and stays down', () => {
    const r = step(reach('Established'), { type: 'ManualStop', silent: true, reason: 'graceful-restart' }, CFG);
    expect(sent(r.actions)).toEqual([]);
    expect(r.actions).toContainEqual({ type: 'close' });
    expect(r.actions).toContainEqual({ type: 'session-down', reason: 'graceful-restart', wasEstablished: true });
    expect(r.state).toMatchObject({ state: 'Idle', started: false, lastDown: { reason: 'graceful-restart' } });
    expect(started(r.actions)).toEqual([]);
  });

  it('collision loser closes with Cease 6/7 and does not restart itself', () => {
    const r = step(reach('OpenConfirm'), { type: 'OpenCollisionDump' }, CFG);
    expect(r.state.lastDown?.reason).toBe('collision');
    expect(started(r.actions)).toEqual([]);
  });
});

describe('backoff and jitter (RFC 4271 §10, §8.1.1)', () => {
  it('jitter stays within [0.75, 1] of the base', () => {
    expect(jitter(1000, () => 0)).toBe(750);
    expect(jitter(1000, () => 0.999999)).toBe(1000);
    let seed = 7;
    const lcg = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 1000; i++) {
      const v = jitter(8000, lcg);
      expect(v).toBeGreaterThanOrEqual(6000);
      expect(v).toBeLessThanOrEqual(8000);
    }
  });

  it('ConnectRetry doubles per failed attempt up to the cap, and is jittered', () => {
    const exact = [0, 1, 2, 3, 4, 5, 6].map((n) => connectRetryDelay(n, CFG));
    expect(exact).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 120_000, 120_000]);
    const low = cfgWith({ random: () => 0 });
    expect([0, 1, 5].map((n) => connectRetryDelay(n, low))).toEqual([3750, 7500, 90_000]);
  });

  it('a run of connect failures produces growing ConnectRetry timers', () => {
    const events: FsmEvent[] = [{ type: 'ManualStart' }];
    for (let i = 0; i < 4; i++) events.push({ type: 'TcpConnectionFails' }, { type: 'ConnectRetryTimerExpires' });
    const delays = started(run(events).actions)
      .filter(([t]) => t === 'ConnectRetry')
      .map(([, ms]) => ms);
    expect(delays).toEqual([5000, 10_000, 10_000, 20_000, 20_000, 40_000, 40_000, 80_000, 80_000]);
    // a successful connection resets the backoff
    const after = run([...events, { type: 'TcpCRAcked' }, { type: 'TcpConnectionFails' }]);
    expect(started(after.actions).at(-1)).toEqual(['ConnectRetry', 10_000]);
  });

  it('IdleHold grows with sessions that never become stable, and resets after a stable one', () => {
    const flap: FsmEvent[] = [
      { type: 'TcpCRAcked' },
      { type: 'BGPOpen', open: PEER_OPEN },
      { type: 'KeepAliveMsg' }, // Established
      { type: 'HoldTimerExpires' },
      { type: 'IdleHoldTimerExpires' },
    ];
    const events: FsmEvent[] = [{ type: 'ManualStart' }, ...flap, ...flap, ...flap];
    const idle = (evs: FsmEvent[]) =>
      started(run(evs).actions)
        .filter(([t]) => t === 'IdleHold')
        .map(([, ms]) => ms);
    expect(idle(events)).toEqual([5000, 10_000, 20_000]);
    expect(idleHoldDelay(10, CFG)).toBe(120_000);
    // one KEEPALIVE in Established proves the session stable: the next drop starts over
    const stable: FsmEvent[] = [...events, { type: 'TcpCRAcked' }, { type: 'BGPOpen', open: PEER_OPEN }, { type: 'KeepAliveMsg' }, { type: 'KeepAliveMsg' }, { type: 'HoldTimerExpires' }];
    expect(idle(stable).at(-1)).toBe(5000);
  });

  it('no automatic restart when not allowed', () => {
    const r = run([...PATHS.OpenSent, { type: 'HoldTimerExpires' }], cfgWith({ allowAutomaticStart: false }));
    expect(started(r.actions).some(([t]) => t === 'IdleHold')).toBe(false);
  });

  it('IdleHold expiry restarts like AutomaticStart, keeping passivity', () => {
    const down = run([{ type: 'ManualStart', passive: true }, { type: 'TcpConnectionConfirmed' }, { type: 'HoldTimerExpires' }]);
    const r = step(down.state, { type: 'IdleHoldTimerExpires' }, CFG);
    expect(r.state.state).toBe('Active');
  });
});

describe('invariants over random event sequences', () => {
  const ALL: FsmEvent[] = [
    { type: 'ManualStart' },
    { type: 'ManualStop' },
    { type: 'AutomaticStart' },
    { type: 'AutomaticStop', subcode: 1, reason: 'max-prefix' },
    { type: 'ConnectRetryTimerExpires' },
    { type: 'HoldTimerExpires' },
    { type: 'KeepaliveTimerExpires' },
    { type: 'IdleHoldTimerExpires' },
    { type: 'TcpConnectionConfirmed' },
    { type: 'TcpCRAcked' },
    { type: 'TcpConnectionFails' },
    { type: 'BGPOpen', open: PEER_OPEN },
    { type: 'BGPOpen', open: { ...PEER_OPEN, myAs: 1, capabilities: [] } },
    { type: 'BGPHeaderErr', error: wireError(1, 1, 'marker') },
    { type: 'OpenCollisionDump' },
    { type: 'NotifMsg', notification: notif(6, 2) },
    { type: 'KeepAliveMsg' },
    { type: 'UpdateMsg', update: UPDATE },
    { type: 'UpdateMsgErr', error: wireError(3, 1, 'x') },
  ];
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

  it('holds for 20,000 random steps (active and passive)', () => {
    for (const passive of [false, true]) {
      const cfg = cfgWith({ passive, random: rnd });
      let s = initialFsmState();
      let connects = 0;
      for (let i = 0; i < 10_000; i++) {
        const e = ALL[Math.floor(rnd() * ALL.length)]!;
        const r = step(s, e, cfg);
        const downs = r.actions.filter((a) => a.type === 'session-down');
        // session-down exactly when falling back to Idle from elsewhere
        expect(downs.length).toBe(s.state !== 'Idle' && r.state.state === 'Idle' ? 1 : 0);
        // established exactly when entering Established
        expect(r.actions.filter((a) => a.type === 'established').length).toBe(
          s.state !== 'Established' && r.state.state === 'Established' ? 1 : 0,
        );
        // messages only go out on a connection
        const connected = ['OpenSent', 'OpenConfirm', 'Established'].includes(s.state);
        const connecting = r.state.state === 'OpenSent' && (s.state === 'Connect' || s.state === 'Active');
        if (sent(r.actions).length > 0) expect(connected || connecting).toBe(true);
        if (r.state.state === 'Idle') expect(sent(r.actions).every((m) => m.type === 'notification')).toBe(true);
        // session data exists exactly from OpenConfirm on
        expect(r.state.session !== undefined).toBe(r.state.state === 'OpenConfirm' || r.state.state === 'Established');
        for (const [, ms] of started(r.actions)) expect(ms).toBeGreaterThan(0);
        connects += r.actions.filter((a) => a.type === 'connect').length;
        s = r.state;
      }
      if (passive) expect(connects).toBe(0);
      else expect(connects).toBeGreaterThan(0);
    }
  });
});

describe('transition table (RFC 4271 §8.2.2)', () => {
  const EVENTS: Record<string, FsmEvent> = {
    MStart: { type: 'ManualStart' },
    MStop: { type: 'ManualStop' },
    AStart: { type: 'AutomaticStart' },
    CRT: { type: 'ConnectRetryTimerExpires' },
    HT: { type: 'HoldTimerExpires' },
    KT: { type: 'KeepaliveTimerExpires' },
    IHT: { type: 'IdleHoldTimerExpires' },
    TcpIn: { type: 'TcpConnectionConfirmed' },
    TcpOut: { type: 'TcpCRAcked' },
    TcpFail: { type: 'TcpConnectionFails' },
    Open: { type: 'BGPOpen', open: PEER_OPEN },
    KA: { type: 'KeepAliveMsg' },
    Upd: { type: 'UpdateMsg', update: UPDATE },
    Notif: { type: 'NotifMsg', notification: notif(6, 2) },
    Dump: { type: 'OpenCollisionDump' },
  };
  const I = 'Idle', C = 'Connect', A = 'Active', S = 'OpenSent', O = 'OpenConfirm', E = 'Established';
  // prettier-ignore
  const TABLE: Record<SessionState, Record<string, SessionState>> = {
    //           MStart    MStop    AStart    CRT      HT       KT       IHT      TcpIn    TcpOut   TcpFail  Open     KA       Upd      Notif    Dump
    Idle:        { MStart: C, MStop: I, AStart: C, CRT: I, HT: I, KT: I, IHT: I, TcpIn: I, TcpOut: I, TcpFail: I, Open: I, KA: I, Upd: I, Notif: I, Dump: I },
    Connect:     { MStart: C, MStop: I, AStart: C, CRT: C, HT: C, KT: C, IHT: C, TcpIn: S, TcpOut: S, TcpFail: A, Open: I, KA: I, Upd: I, Notif: I, Dump: I },
    Active:      { MStart: A, MStop: I, AStart: A, CRT: C, HT: A, KT: A, IHT: A, TcpIn: S, TcpOut: S, TcpFail: A, Open: I, KA: I, Upd: I, Notif: I, Dump: I },
    OpenSent:    { MStart: S, MStop: I, AStart: S, CRT: S, HT: I, KT: S, IHT: S, TcpIn: S, TcpOut: S, TcpFail: A, Open: O, KA: I, Upd: I, Notif: I, Dump: I },
    OpenConfirm: { MStart: O, MStop: I, AStart: O, CRT: O, HT: I, KT: O, IHT: O, TcpIn: O, TcpOut: O, TcpFail: I, Open: I, KA: E, Upd: I, Notif: I, Dump: I },
    Established: { MStart: E, MStop: I, AStart: E, CRT: E, HT: I, KT: E, IHT: E, TcpIn: E, TcpOut: E, TcpFail: I, Open: I, KA: E, Upd: E, Notif: I, Dump: I },
  };
  for (const from of SESSION_STATES)
    for (const [name, event] of Object.entries(EVENTS))
      it(`${from} --${name}--> ${TABLE[from][name]}`, () => {
        expect(step(reach(from), event, CFG).state.state).toBe(TABLE[from][name]);
      });
});
