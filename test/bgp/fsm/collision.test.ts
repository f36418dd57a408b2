// Connection collision detection (RFC 4271 §6.8, RFC 6286 §2.3, RFC 4724 §4.2).
import { describe, expect, it } from 'vitest';
import { admitInbound, collisionWinner, resolveCollision } from '../../../src/bgp/fsm/collision.js';
import { step } from '../../../src/bgp/fsm/fsm.js';
import { initialFsmState, SESSION_STATES, type FsmConfig, type FsmState, type SessionState } from '../../../src/bgp/fsm/types.js';
import type { OpenMessage } from '../../../src/bgp/wire/types.js';

const LOW = 0x0a000001; // 10.0.0.1
const HIGH = 0x0a000002; // 10.0.0.2

describe('collisionWinner', () => {
  it('keeps the connection initiated by the higher BGP identifier', () => {
    expect(collisionWinner(HIGH, LOW, 64512, 64512)).toBe('outbound'); // we are higher: ours survives
    expect(collisionWinner(LOW, HIGH, 64512, 64512)).toBe('inbound'); // they are higher: theirs survives
  });

  it('compares identifiers as unsigned numbers (255.0.0.1 > 1.0.0.1)', () => {
    expect(collisionWinner(0xff000001, 0x01000001, 1, 2)).toBe('outbound');
  });

  it('equal identifiers (eBGP): the larger AS initiator wins (RFC 6286 §2.3)', () => {
    expect(collisionWinner(LOW, LOW, 65001, 65002)).toBe('inbound');
    expect(collisionWinner(LOW, LOW, 4200000000, 65002)).toBe('outbound');
  });
});

describe('resolveCollision matrix', () => {
  const base = { localId: LOW, localAsn: 64512, peerId: HIGH, peerAsn: 64512 };
  const open: SessionState[] = ['OpenSent', 'OpenConfirm'];

  for (const inbound of SESSION_STATES)
    for (const outbound of SESSION_STATES)
      it(`inbound ${inbound} / outbound ${outbound}`, () => {
        const v = resolveCollision({ ...base, inbound, outbound });
        const bothLive = [inbound, outbound].every((s) => open.includes(s) || s === 'Established');
        if (!bothLive || (inbound === 'Established' && outbound === 'Established')) {
          expect(v).toBeUndefined();
          return;
        }
        expect(v).toBeDefined();
        expect(v!.notification).toMatchObject({ type: 'notification', code: 6, subcode: 7 });
        expect(v!.close).not.toBe(v!.keep);
        if (inbound === 'Established') expect(v!.keep).toBe('inbound');
        else if (outbound === 'Established') expect(v!.keep).toBe('outbound');
        else expect(v!.keep).toBe('inbound'); // the peer's ID is higher
      });

  it('with the higher local ID, our connection survives', () => {
    expect(resolveCollision({ ...base, localId: HIGH, peerId: LOW, inbound: 'OpenConfirm', outbound: 'OpenSent' })).toMatchObject({
      keep: 'outbound',
      close: 'inbound',
    });
  });

  it('when allowed, an Established connection can lose by identifier', () => {
    const v = resolveCollision({ ...base, inbound: 'OpenConfirm', outbound: 'Established' }, { allowWhenEstablished: true });
    expect(v).toMatchObject({ keep: 'inbound', close: 'outbound' });
  });
});

describe('admitInbound', () => {
  it('accepts with no existing connection, or one without TCP, or one in OPEN exchange', () => {
    expect(admitInbound(undefined)).toEqual({ type: 'accept' });
    for (const state of ['Connect', 'Active', 'OpenSent', 'OpenConfirm'] as const)
      expect(admitInbound({ direction: 'outbound', state })).toEqual({ type: 'accept' });
  });

  it('rejects while Idle with Cease / Connection Rejected', () => {
    const v = admitInbound({ direction: 'outbound', state: 'Idle' });
    expect(v).toMatchObject({ type: 'reject', notification: { code: 6, subcode: 5 } });
  });

  it('closes a newcomer colliding with Established (RFC 4271 §6.8) unless allowed', () => {
    expect(admitInbound({ direction: 'outbound', state: 'Established' })).toMatchObject({
      type: 'reject',
      notification: { code: 6, subcode: 7 },
    });
    expect(admitInbound({ direction: 'outbound', state: 'Established' }, { allowWhenEstablished: true })).toEqual({ type: 'accept' });
  });

  it('with graceful restart a new connection replaces the Established one (RFC 4724 §4.2)', () => {
    expect(admitInbound({ direction: 'inbound', state: 'Established', gracefulRestart: true })).toEqual({ type: 'replace-existing' });
  });
});

describe('two FSMs, one peer: the shell flow', () => {
  const cfg: FsmConfig = {
    local: { asn: 64512, routerId: LOW, holdTime: 90, families: ['ipv4-unicast'], extendedMessage: false },
    peerAsn: 64512,
    passive: false,
    connectRetryMs: 5000,
    connectRetryMaxMs: 120_000,
    idleHoldMs: 5000,
    idleHoldMaxMs: 120_000,
    allowAutomaticStart: true,
    random: () => 0.5,
  };
  const peerOpen: OpenMessage = { type: 'open', version: 4, myAs: 64512, holdTime: 90, bgpId: HIGH, capabilities: [] };

  it('the peer with the higher ID keeps its connection; ours is dumped with Cease 6/7', () => {
    // outbound: ManualStart, connected, OPEN sent
    let outbound: FsmState = step(initialFsmState(), { type: 'ManualStart' }, cfg).state;
    outbound = step(outbound, { type: 'TcpCRAcked' }, cfg).state;
    // inbound connection arrives meanwhile: admitted as a second FSM
    expect(admitInbound({ direction: 'outbound', state: outbound.state })).toEqual({ type: 'accept' });
    let inbound: FsmState = step(initialFsmState(), { type: 'ManualStart', passive: true }, cfg).state;
    inbound = step(inbound, { type: 'TcpConnectionConfirmed' }, cfg).state;
    expect([outbound.state, inbound.state]).toEqual(['OpenSent', 'OpenSent']);

    // OPEN arrives on the inbound connection: ask before feeding it
    const v = resolveCollision({
      localId: LOW,
      localAsn: 64512,
      peerId: peerOpen.bgpId,
      peerAsn: 64512,
      inbound: inbound.state,
      outbound: outbound.state,
    })!;
    expect(v.keep).toBe('inbound');
    const dumped = step(outbound, { type: 'OpenCollisionDump' }, cfg);
    expect(dumped.actions).toContainEqual({ type: 'send', message: v.notification });
    expect(dumped.state.state).toBe('Idle');
    const kept = step(inbound, { type: 'BGPOpen', open: peerOpen }, cfg);
    expect(kept.state.state).toBe('OpenConfirm');
  });
});
