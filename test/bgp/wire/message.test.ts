// Dispatch of whole messages, ROUTE-REFRESH (RFC 2918, RFC 7313) and round trips.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../src/bgp/wire/message.js';
import { decodeRouteRefresh, encodeRouteRefresh, isKnownRouteRefreshSubtype } from '../../../src/bgp/wire/route-refresh.js';
import type { BgpMessage } from '../../../src/bgp/wire/types.js';
import { DEFAULT_CODEC_CONTEXT } from '../../../src/bgp/wire/types.js';
import { Framer } from '../../../src/bgp/wire/framer.js';
import { KEEPALIVE } from '../../../src/bgp/wire/keepalive.js';
import { hex } from '../../helpers/hex.js';
import { KEEPALIVE_HEX, MARKER, NOTIFICATION_SHUTDOWN, REAL_OPEN, ROUTE_REFRESH_V6, UPDATE_V4 } from './golden.js';

const ctx = DEFAULT_CODEC_CONTEXT;

describe('ROUTE-REFRESH', () => {
  it('decodes and encodes a plain request', () => {
    expect(decodeRouteRefresh(ROUTE_REFRESH_V6.subarray(19))).toEqual({
      ok: true,
      value: { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 },
    });
    expect(encodeRouteRefresh({ afi: 2, safi: 1 })).toEqual(ROUTE_REFRESH_V6);
  });

  it('carries the RFC 7313 BoRR and EoRR subtypes', () => {
    const borr = hex`${MARKER} 0017 05   0001 01 01   # ipv4 unicast, BoRR`;
    const eorr = hex`${MARKER} 0017 05   0001 02 01   # ipv4 unicast, EoRR`;
    expect(encodeRouteRefresh({ afi: 1, safi: 1, subtype: 1 })).toEqual(borr);
    expect(encodeRouteRefresh({ afi: 1, safi: 1, subtype: 2 })).toEqual(eorr);
    expect(decodeMessage(eorr, ctx)).toEqual({ ok: true, value: { type: 'route-refresh', afi: 1, safi: 1, subtype: 2 } });
  });

  it('passes an unknown subtype up for the receiver to ignore (RFC 7313 §5)', () => {
    const r = decodeMessage(hex`${MARKER} 0017 05 0001 07 01`, ctx);
    expect(r).toEqual({ ok: true, value: { type: 'route-refresh', afi: 1, safi: 1, subtype: 7 } });
    expect(isKnownRouteRefreshSubtype(7)).toBe(false);
    expect([0, 1, 2].every(isKnownRouteRefreshSubtype)).toBe(true);
  });

  it('wrong length with enhanced route refresh: ROUTE-REFRESH Message Error with the whole message', () => {
    const m = hex`${MARKER} 0018 05 0001 01 01 00   # 24 octets`;
    expect(decodeMessage(m, ctx)).toMatchObject({ ok: false, error: { code: 1, subcode: 2, data: hex`0018` } });
    expect(decodeMessage(m, { ...ctx, enhancedRouteRefresh: true })).toMatchObject({
      ok: false,
      error: { code: 7, subcode: 1, data: m },
    });
  });
});

describe('decodeMessage', () => {
  it('dispatches each golden message by type', () => {
    expect(decodeMessage(KEEPALIVE_HEX, ctx)).toEqual({ ok: true, value: { type: 'keepalive' } });
    expect(decodeMessage(REAL_OPEN, ctx)).toMatchObject({ ok: true, value: { type: 'open', myAs: 23456, holdTime: 90 } });
    expect(decodeMessage(NOTIFICATION_SHUTDOWN, ctx)).toMatchObject({
      ok: true,
      value: { type: 'notification', code: 6, subcode: 2, shutdownMessage: 'maintenance' },
    });
    expect(decodeMessage(ROUTE_REFRESH_V6, ctx)).toMatchObject({ ok: true, value: { type: 'route-refresh', afi: 2 } });
    const u = decodeMessage(UPDATE_V4, ctx);
    expect(u.ok && u.value.type).toBe('update');
  });

  it('returns header errors before looking at the body', () => {
    expect(decodeMessage(hex`${MARKER} 0013 07`, ctx)).toMatchObject({ ok: false, error: { code: 1, subcode: 3, data: hex`07` } });
    expect(decodeMessage(hex`${MARKER} 001c 01 04 fde8 005a 0a000001   # OPEN of 28`, ctx)).toMatchObject({
      ok: false,
      error: { code: 1, subcode: 2, data: hex`001c` },
    });
  });

  it('passes OPEN errors through', () => {
    const m = hex`${MARKER} 001d 01   03 fde8 005a 0a000001 00   # version 3`;
    expect(decodeMessage(m, ctx)).toMatchObject({ ok: false, error: { code: 2, subcode: 1, data: hex`0004` } });
  });

  it('never throws, whatever the bytes', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const len = 19 + (rand() % 60);
      const m = Buffer.from(Array.from({ length: len }, rand));
      m.fill(0xff, 0, 16);
      m.writeUInt16BE(len, 16);
      m[18] = 1 + (rand() % 5);
      const r = decodeMessage(m, ctx);
      if (!r.ok) expect(r.error.code).toBeGreaterThan(0);
    }
  });
});

describe('encodeMessage', () => {
  it('round-trips every message type through bytes, the framer and the decoder', () => {
    const messages: BgpMessage[] = [
      { type: 'keepalive' },
      { type: 'open', version: 4, myAs: 64512, holdTime: 90, bgpId: 0x0a000001, capabilities: [{ kind: 'route-refresh', code: 2 }] },
      { type: 'notification', code: 6, subcode: 4, data: hex`03 616263`, shutdownMessage: 'abc' },
      { type: 'notification', code: 3, subcode: 11, data: hex`4002` },
      { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 },
    ];
    const bytes = messages.map((m) => encodeMessage(m, ctx));
    expect(bytes[0]).toBe(KEEPALIVE);
    const framed = new Framer().push(Buffer.concat(bytes));
    expect(framed.messages).toHaveLength(messages.length);
    expect(framed.messages.map((b) => decodeMessage(b, ctx))).toEqual(messages.map((value) => ({ ok: true, value })));
  });

  it('encodes an UPDATE through the UPDATE codec', () => {
    const u = decodeMessage(UPDATE_V4, ctx);
    expect(u.ok).toBe(true);
    if (u.ok && u.value.type === 'update') expect(encodeMessage(u.value.update, ctx)).toEqual(UPDATE_V4);
  });

  it('sizes NOTIFICATION data to the negotiated maximum', () => {
    const n: BgpMessage = { type: 'notification', code: 3, subcode: 1, data: Buffer.alloc(6000) };
    expect(encodeMessage(n, ctx).length).toBe(4096);
    expect(encodeMessage(n, { ...ctx, extendedMessage: true }).length).toBe(19 + 2 + 6000);
  });
});
