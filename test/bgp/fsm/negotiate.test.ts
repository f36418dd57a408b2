// OPEN construction and negotiation (RFC 4271 §6.2, RFC 6793, RFC 6286,
// RFC 4760 §8, RFC 7911 §4, RFC 4724, RFC 8654, RFC 2918/7313).
import { describe, expect, it } from 'vitest';
import { buildOpen, fsmConfigFromConfig, localSettingsFromConfig, negotiate, peerFamilies } from '../../../src/bgp/fsm/negotiate.js';
import type { LocalSettings, NegotiatedSession } from '../../../src/bgp/fsm/types.js';
import { AS_TRANS, type AddPathMode, type Capability, type OpenMessage } from '../../../src/bgp/wire/types.js';
import type { Decoded } from '../../../src/bgp/wire/errors.js';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type BgpConfig } from '../../../src/config/schema.js';
import { hex } from '../../helpers/hex.js';

const LOCAL: LocalSettings = {
  asn: 64512,
  routerId: 0x0a000001, // 10.0.0.1
  holdTime: 90,
  families: ['ipv4-unicast', 'ipv6-unicast'],
  extendedMessage: true,
};

const mp = (afi: number): Capability => ({ kind: 'multiprotocol', code: 1, afi, safi: 1 });
const as4 = (asn: number): Capability => ({ kind: 'four-octet-as', code: 65, asn });

function open(over: Partial<OpenMessage> = {}): OpenMessage {
  return {
    type: 'open',
    version: 4,
    myAs: 64512,
    holdTime: 90,
    bgpId: 0x0a000002,
    capabilities: [mp(1), mp(2), { kind: 'route-refresh', code: 2 }, as4(64512)],
    ...over,
  };
}

function session(r: Decoded<NegotiatedSession>): NegotiatedSession {
  if (!r.ok) throw new Error(`expected success, got ${r.error.reason}`);
  return r.value;
}

function errorOf(r: Decoded<NegotiatedSession>): [number, number] {
  if (r.ok) throw new Error('expected an OPEN error');
  return [r.error.code, r.error.subcode];
}

describe('buildOpen', () => {
  it('carries MP per family, route refresh, enhanced RR, extended message, 4-octet AS', () => {
    const o = buildOpen(LOCAL);
    expect(o).toMatchObject({ type: 'open', version: 4, myAs: 64512, holdTime: 90, bgpId: 0x0a000001 });
    expect(o.capabilities.map((c) => c.kind)).toEqual([
      'multiprotocol',
      'multiprotocol',
      'route-refresh',
      'enhanced-route-refresh',
      'extended-message',
      'four-octet-as',
    ]);
    expect(o.capabilities.filter((c) => c.kind === 'multiprotocol')).toEqual([mp(1), mp(2)]);
    expect(o.capabilities).toContainEqual(as4(64512));
  });

  it('puts AS_TRANS in My AS for a 4-octet ASN (RFC 6793 §4.1)', () => {
    const o = buildOpen({ ...LOCAL, asn: 4200000001 });
    expect(o.myAs).toBe(AS_TRANS);
    expect(o.capabilities).toContainEqual(as4(4200000001));
    expect(buildOpen({ ...LOCAL, asn: 65535 }).myAs).toBe(65535);
  });

  it('advertises graceful restart with R bit and per-family F bits as told', () => {
    const o = buildOpen({
      ...LOCAL,
      gracefulRestart: { restartTime: 120, restarting: true, forwardingState: ['ipv4-unicast'] },
    });
    expect(o.capabilities).toContainEqual({
      kind: 'graceful-restart',
      code: 64,
      restarting: true,
      notification: false,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: false },
      ],
    });
  });

  it('advertises ADD-PATH only for configured families, hostname, and omits extended message when off', () => {
    const o = buildOpen({ ...LOCAL, extendedMessage: false, addPath: { 'ipv6-unicast': 'both' }, hostname: 'node-a' });
    expect(o.capabilities).toContainEqual({ kind: 'add-path', code: 69, families: [{ afi: 2, safi: 1, mode: 'both' }] });
    expect(o.capabilities).toContainEqual({ kind: 'fqdn', code: 73, hostname: 'node-a', domain: '' });
    expect(o.capabilities.some((c) => c.kind === 'extended-message')).toBe(false);
    expect(buildOpen(LOCAL).capabilities.some((c) => c.kind === 'add-path' || c.kind === 'fqdn')).toBe(false);
  });
});

describe('negotiate: validation', () => {
  it('accepts a matching iBGP peer', () => {
    const s = session(negotiate(LOCAL, 64512, open()));
    expect(s).toMatchObject({ peerAsn: 64512, peerId: 0x0a000002, localAsn: 64512, localId: 0x0a000001, ibgp: true });
  });

  it('rejects a wrong peer AS with OPEN Message Error / Bad Peer AS (2/2)', () => {
    expect(errorOf(negotiate(LOCAL, 64513, open()))).toEqual([2, 2]);
  });

  it('accepts any ASN of a list (dynamic ranges)', () => {
    expect(session(negotiate(LOCAL, [64999, 64512], open())).peerAsn).toBe(64512);
  });

  it('uses the 4-octet capability ASN with AS_TRANS in My AS (RFC 6793)', () => {
    const peer = open({ myAs: AS_TRANS, capabilities: [as4(4200000002)] });
    const s = session(negotiate(LOCAL, 4200000002, peer));
    expect(s.peerAsn).toBe(4200000002);
    expect(s.ibgp).toBe(false);
    expect(s.codec.fourOctetAs).toBe(true);
  });

  it('rejects a 4-octet ASN whose My AS is not AS_TRANS', () => {
    const peer = open({ myAs: 100, capabilities: [as4(4200000002)] });
    expect(errorOf(negotiate(LOCAL, 4200000002, peer))).toEqual([2, 2]);
  });

  it('a 2-octet-only peer (no capability) is judged by My AS; AS_TRANS alone is not its ASN', () => {
    const s = session(negotiate(LOCAL, 65001, open({ myAs: 65001, capabilities: [] })));
    expect(s.codec.fourOctetAs).toBe(false);
    expect(errorOf(negotiate(LOCAL, 4200000002, open({ myAs: AS_TRANS, capabilities: [] })))).toEqual([2, 2]);
  });

  it('rejects AS 0 (RFC 7607)', () => {
    expect(errorOf(negotiate(LOCAL, 0, open({ myAs: 0, capabilities: [] })))).toEqual([2, 2]);
  });

  it('rejects version 3 with data = highest supported version', () => {
    const r = negotiate(LOCAL, 64512, open({ version: 3 }));
    expect(errorOf(r)).toEqual([2, 1]);
    if (!r.ok) expect(r.error.data).toEqual(hex`0004 # version 4`);
  });

  it('rejects hold time 1 and 2 (Unacceptable Hold Time, 2/6) but accepts 0 and 3', () => {
    expect(errorOf(negotiate(LOCAL, 64512, open({ holdTime: 1 })))).toEqual([2, 6]);
    expect(errorOf(negotiate(LOCAL, 64512, open({ holdTime: 2 })))).toEqual([2, 6]);
    expect(session(negotiate(LOCAL, 64512, open({ holdTime: 0 }))).holdTime).toBe(0);
    expect(session(negotiate(LOCAL, 64512, open({ holdTime: 3 }))).holdTime).toBe(3);
  });

  it('iBGP peer with our router ID → Bad BGP Identifier (RFC 6286 §2.2); eBGP may share it', () => {
    expect(errorOf(negotiate(LOCAL, 64512, open({ bgpId: LOCAL.routerId })))).toEqual([2, 3]);
    const ebgp = open({ myAs: 65001, capabilities: [as4(65001)], bgpId: LOCAL.routerId });
    expect(session(negotiate(LOCAL, 65001, ebgp)).ibgp).toBe(false);
  });

  it('rejects BGP identifier 0', () => {
    expect(errorOf(negotiate(LOCAL, 64512, open({ bgpId: 0 })))).toEqual([2, 3]);
  });

  it('ignores unknown capabilities', () => {
    const peer = open({ capabilities: [...open().capabilities, { kind: 'unknown', code: 200, value: hex`01 02` }] });
    expect(session(negotiate(LOCAL, 64512, peer)).families).toEqual(['ipv4-unicast', 'ipv6-unicast']);
  });
});

describe('negotiate: timers', () => {
  it.each([
    // local, peer, configured keepalive, → hold, keepalive
    [90, 90, undefined, 90, 30],
    [90, 30, undefined, 30, 10],
    [30, 180, undefined, 30, 10],
    [90, 0, undefined, 0, 0],
    [0, 90, undefined, 0, 0],
    [90, 3, undefined, 3, 1],
    [90, 10, undefined, 10, 3], // floor(10/3)
    [90, 90, 10, 90, 10], // configured keepalive below hold/3
    [90, 30, 20, 30, 10], // configured keepalive capped at hold/3
  ])('local %i peer %i keepalive %s → hold %i keepalive %i', (mine, theirs, ka, hold, keepalive) => {
    const local = { ...LOCAL, holdTime: mine, ...(ka !== undefined ? { keepaliveTime: ka } : {}) };
    const s = session(negotiate(local, 64512, open({ holdTime: theirs })));
    expect([s.holdTime, s.keepaliveTime]).toEqual([hold, keepalive]);
  });
});

describe('negotiate: capabilities', () => {
  it('families are the intersection of both sides', () => {
    const v4only = { ...LOCAL, families: ['ipv4-unicast' as const] };
    expect(session(negotiate(v4only, 64512, open())).families).toEqual(['ipv4-unicast']);
    const peerV6 = open({ capabilities: [mp(2), as4(64512)] });
    expect(session(negotiate(LOCAL, 64512, peerV6)).families).toEqual(['ipv6-unicast']);
    expect(session(negotiate(v4only, 64512, peerV6)).families).toEqual([]);
  });

  it('a peer without MP capabilities gets IPv4 unicast only (RFC 4760 §8)', () => {
    const peer = open({ capabilities: [as4(64512)] });
    expect(peerFamilies(peer)).toEqual(['ipv4-unicast']);
    expect(session(negotiate(LOCAL, 64512, peer)).families).toEqual(['ipv4-unicast']);
  });

  it('route refresh, enhanced RR and extended message need both sides', () => {
    const bare = session(negotiate(LOCAL, 64512, open({ capabilities: [mp(1), as4(64512)] })));
    expect(bare).toMatchObject({ routeRefresh: false, enhancedRouteRefresh: false });
    expect(bare.codec.extendedMessage).toBe(false);
    const rich = open({
      capabilities: [
        mp(1),
        as4(64512),
        { kind: 'route-refresh', code: 2 },
        { kind: 'enhanced-route-refresh', code: 70 },
        { kind: 'extended-message', code: 6 },
      ],
    });
    const s = session(negotiate(LOCAL, 64512, rich));
    expect(s).toMatchObject({ routeRefresh: true, enhancedRouteRefresh: true });
    expect(s.codec.extendedMessage).toBe(true);
    expect(session(negotiate({ ...LOCAL, extendedMessage: false }, 64512, rich)).codec.extendedMessage).toBe(false);
  });

  it("accepts Cisco's old route refresh code 128", () => {
    const peer = open({ capabilities: [mp(1), as4(64512), { kind: 'unknown', code: 128, value: Buffer.alloc(0) }] });
    expect(session(negotiate(LOCAL, 64512, peer)).routeRefresh).toBe(true);
  });

  // RFC 7911 §4: receive when we receive and they send; send when we send and they receive.
  const modes: (AddPathMode | undefined)[] = [undefined, 'receive', 'send', 'both'];
  const sends = (m?: AddPathMode) => m === 'send' || m === 'both';
  const receives = (m?: AddPathMode) => m === 'receive' || m === 'both';
  for (const ours of modes)
    for (const theirs of modes)
      it(`ADD-PATH ours=${ours ?? 'none'} theirs=${theirs ?? 'none'}`, () => {
        const local = { ...LOCAL, ...(ours ? { addPath: { 'ipv4-unicast': ours } } : {}) };
        const caps: Capability[] = [mp(1), mp(2), as4(64512)];
        if (theirs) caps.push({ kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, mode: theirs }, { afi: 2, safi: 1, mode: theirs }] });
        const s = session(negotiate(local, 64512, open({ capabilities: caps })));
        expect(s.codec.addPathReceive['ipv4-unicast']).toBe(receives(ours) && sends(theirs));
        expect(s.codec.addPathSend['ipv4-unicast']).toBe(sends(ours) && receives(theirs));
        // we configured nothing for IPv6
        expect(s.codec.addPathReceive['ipv6-unicast']).toBe(false);
        expect(s.codec.addPathSend['ipv6-unicast']).toBe(false);
      });

  it('ADD-PATH is off for a family that was not negotiated', () => {
    const local = { ...LOCAL, addPath: { 'ipv6-unicast': 'both' as const } };
    const caps: Capability[] = [mp(1), as4(64512), { kind: 'add-path', code: 69, families: [{ afi: 2, safi: 1, mode: 'both' }] }];
    const s = session(negotiate(local, 64512, open({ capabilities: caps })));
    expect(s.codec.addPathReceive['ipv6-unicast']).toBe(false);
  });

  it('graceful restart: peer info limited to negotiated families; negotiated only if both sides', () => {
    const gr: Capability = {
      kind: 'graceful-restart',
      code: 64,
      restarting: true,
      notification: false,
      restartTime: 300,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: false },
      ],
    };
    const peer = open({ capabilities: [mp(1), as4(64512), gr] });
    const withGr = { ...LOCAL, gracefulRestart: { restartTime: 120, restarting: false, forwardingState: [] } };
    const s = session(negotiate(withGr, 64512, peer));
    expect(s.gracefulRestart).toBe(true);
    expect(s.peerGracefulRestart).toEqual({
      restartTime: 300,
      restarting: true,
      notification: false,
      families: [{ family: 'ipv4-unicast', forwardingState: true }],
    });
    expect(session(negotiate(LOCAL, 64512, peer)).gracefulRestart).toBe(false);
    expect(session(negotiate(withGr, 64512, open())).gracefulRestart).toBe(false);
  });

  it('records the peer hostname and both OPENs', () => {
    const peer = open({ capabilities: [mp(1), as4(64512), { kind: 'fqdn', code: 73, hostname: 'node-b', domain: 'cluster.local' }] });
    const s = session(negotiate(LOCAL, 64512, peer));
    expect(s.peerHostname).toEqual({ hostname: 'node-b', domain: 'cluster.local' });
    expect(s.peerOpen).toBe(peer);
    expect(s.localOpen).toEqual(buildOpen(LOCAL));
  });
});

describe('config mapping', () => {
  const config = Value.Default(ConfigSchema, {
    routerId: '192.0.2.1',
    asn: 64512,
    neighbors: [
      { address: '192.0.2.2', asn: 4200000000, holdTime: 30, addPath: 'send', gracefulRestart: { enabled: true, restartTime: 90 }, families: ['ipv4-unicast'] },
    ],
    listenRanges: [{ prefix: '192.0.2.0/24', asn: 64512 }],
  }) as BgpConfig;
  const neighbor = config.neighbors[0]!;

  it('builds LocalSettings from a neighbor', () => {
    const local = localSettingsFromConfig(config, neighbor, { hostname: 'node-a', restarting: true, forwardingState: ['ipv4-unicast'] });
    expect(local).toMatchObject({
      asn: 64512,
      routerId: 0xc0000201,
      holdTime: 30,
      families: ['ipv4-unicast'],
      addPath: { 'ipv4-unicast': 'send' },
      hostname: 'node-a',
      gracefulRestart: { restartTime: 90, restarting: true, forwardingState: ['ipv4-unicast'] },
      extendedMessage: true,
    });
  });

  it('listen ranges are passive; neighbors use their connect retry time', () => {
    const range = config.listenRanges[0]!;
    expect(fsmConfigFromConfig(config, range, Math.random).passive).toBe(true);
    const f = fsmConfigFromConfig(config, neighbor, Math.random);
    expect(f).toMatchObject({ passive: false, peerAsn: 4200000000, connectRetryMs: 5000 });
  });
});
