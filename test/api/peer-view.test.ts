// Session facts -> the API's peer fields: capabilities from a negotiated
// session, NOTIFICATION names, BGP Identifier text.
import { describe, expect, it } from 'vitest';
import type { NegotiatedSession } from '../../src/bgp/fsm/types.js';
import { capabilitiesOf, negotiatedView, notificationView } from '../../src/api/peer-view.js';

function negotiated(over: Partial<NegotiatedSession> = {}): NegotiatedSession {
  return {
    localAsn: 64512,
    localId: 0xc0000201,
    peerAsn: 64513,
    peerId: 0xc0000202, // 192.0.2.2
    ibgp: false,
    holdTime: 90,
    keepaliveTime: 30,
    families: ['ipv4-unicast', 'ipv6-unicast'],
    codec: {
      fourOctetAs: true,
      extendedMessage: false,
      addPathReceive: { 'ipv4-unicast': true, 'ipv6-unicast': false },
      addPathSend: { 'ipv4-unicast': true, 'ipv6-unicast': true },
    },
    routeRefresh: true,
    enhancedRouteRefresh: false,
    gracefulRestart: true,
    localOpen: {} as NegotiatedSession['localOpen'],
    peerOpen: {} as NegotiatedSession['peerOpen'],
    ...over,
  };
}

describe('peer view', () => {
  it('capabilities: families, flags, ADD-PATH direction per family (RFC 7911)', () => {
    expect(capabilitiesOf(negotiated())).toEqual({
      families: ['ipv4-unicast', 'ipv6-unicast'],
      fourOctetAs: true,
      routeRefresh: true,
      enhancedRouteRefresh: false,
      extendedMessage: false,
      gracefulRestart: true,
      addPath: { 'ipv4-unicast': 'both', 'ipv6-unicast': 'send' },
    });
    const none = capabilitiesOf(negotiated({ codec: { fourOctetAs: false, extendedMessage: true, addPathReceive: { 'ipv4-unicast': false, 'ipv6-unicast': false }, addPathSend: { 'ipv4-unicast': false, 'ipv6-unicast': false } } }));
    expect(none.addPath).toBeUndefined();
    expect(none.extendedMessage).toBe(true);
  });

  it('router ID as a dotted quad, negotiated hold and keepalive', () => {
    expect(negotiatedView(negotiated())).toMatchObject({ routerId: '192.0.2.2', keepaliveTime: 30, negotiatedHoldTime: 90 });
    expect(negotiatedView(negotiated({ peerId: 0xffffffff })).routerId).toBe('255.255.255.255');
  });

  it('NOTIFICATION named by code and subcode, with the RFC 9003 text and ISO time', () => {
    expect(notificationView('received', 6, 2, Date.UTC(2024, 4, 1, 10), 'maintenance')).toEqual({
      direction: 'received',
      code: 6,
      subcode: 2,
      name: expect.stringMatching(/^Cease.*Administrative Shutdown$/),
      message: 'maintenance',
      at: '2024-05-01T10:00:00.000Z',
    });
    expect(notificationView('sent', 4, 0, 0).name).toMatch(/^Hold Timer Expired/);
    expect(notificationView('sent', 4, 0, 0, '')).not.toHaveProperty('message');
  });
});
