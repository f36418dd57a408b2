// NOTIFICATION and KEEPALIVE (RFC 4271 §4.4, §4.5; RFC 8203; RFC 9003).
import { describe, expect, it } from 'vitest';
import { encodeKeepalive, KEEPALIVE } from '../../../src/bgp/wire/keepalive.js';
import {
  decodeNotification,
  encodeNotification,
  formatNotification,
  maxPrefixCeaseData,
} from '../../../src/bgp/wire/notification.js';
import { wireError } from '../../../src/bgp/wire/errors.js';
import { hex } from '../../helpers/hex.js';
import { KEEPALIVE_HEX, NOTIFICATION_SHUTDOWN } from './golden.js';

const body = (m: Buffer) => m.subarray(19);

describe('KEEPALIVE', () => {
  it('is the 19-octet header alone, one shared buffer', () => {
    expect(encodeKeepalive()).toEqual(KEEPALIVE_HEX);
    expect(encodeKeepalive()).toBe(KEEPALIVE);
  });
});

describe('NOTIFICATION', () => {
  it('decodes a Cease / Administrative Shutdown with its shutdown communication', () => {
    const r = decodeNotification(body(NOTIFICATION_SHUTDOWN));
    expect(r).toEqual({
      ok: true,
      value: { type: 'notification', code: 6, subcode: 2, data: hex`0b 6d61696e74656e616e6365`, shutdownMessage: 'maintenance' },
    });
  });

  it('encodes the shutdown communication from shutdownMessage', () => {
    expect(encodeNotification({ code: 6, subcode: 2, shutdownMessage: 'maintenance' })).toEqual(NOTIFICATION_SHUTDOWN);
  });

  it('formats for logs', () => {
    const r = decodeNotification(body(NOTIFICATION_SHUTDOWN));
    expect(r.ok && formatNotification(r.value)).toBe('Cease / Administrative Shutdown: "maintenance"');
    expect(formatNotification({ code: 4, subcode: 0 })).toBe('Hold Timer Expired');
    expect(formatNotification({ code: 2, subcode: 1, data: hex`0004` })).toBe(
      'OPEN Message Error / Unsupported Version Number (data 0004)',
    );
  });

  it('reads the shutdown communication of Administrative Reset too (RFC 9003 §2)', () => {
    const r = decodeNotification(hex`06 04 02 6869   # Cease / Administrative Reset, "hi"`);
    expect(r.ok && r.value.shutdownMessage).toBe('hi');
  });

  it('ignores a shutdown communication on other subcodes', () => {
    const r = decodeNotification(hex`06 03 02 6869   # Cease / Peer De-configured`);
    expect(r.ok && r.value).toEqual({ type: 'notification', code: 6, subcode: 3, data: hex`02 6869` });
  });

  it('keeps invalid UTF-8 as raw data, no shutdownMessage', () => {
    const r = decodeNotification(hex`06 02 02 c328   # "\xc3\x28" is not UTF-8`);
    expect(r).toEqual({ ok: true, value: { type: 'notification', code: 6, subcode: 2, data: hex`02 c328` } });
  });

  it('keeps a length running past the data as raw data, no shutdownMessage', () => {
    const r = decodeNotification(hex`06 02 05 6869   # claims 5 octets, has 2`);
    expect(r).toEqual({ ok: true, value: { type: 'notification', code: 6, subcode: 2, data: hex`05 6869` } });
  });

  it('has no shutdownMessage for empty data or length 0', () => {
    expect(decodeNotification(hex`06 02`)).toEqual({ ok: true, value: { type: 'notification', code: 6, subcode: 2, data: hex`` } });
    expect(decodeNotification(hex`06 02 00`)).toEqual({ ok: true, value: { type: 'notification', code: 6, subcode: 2, data: hex`00` } });
  });

  it('accepts a 255-octet communication (RFC 9003 raised the limit from 128)', () => {
    const text = 'x'.repeat(255);
    const m = encodeNotification({ code: 6, subcode: 2, shutdownMessage: text });
    expect(m.length).toBe(19 + 2 + 1 + 255);
    expect(m[21]).toBe(255);
    const r = decodeNotification(body(m));
    expect(r.ok && r.value.shutdownMessage).toBe(text);
  });

  it('cuts an over-long communication at 255 octets without splitting a character', () => {
    const text = 'a' + 'é'.repeat(200); // 1 + 400 octets; 'é' is c3 a9
    const m = encodeNotification({ code: 6, subcode: 2, shutdownMessage: text });
    expect(m[21]).toBe(255); // 1 + 127 * 2 = 255 exactly
    const r = decodeNotification(body(m));
    expect(r.ok && r.value.shutdownMessage).toBe('a' + 'é'.repeat(127));
    const m2 = encodeNotification({ code: 6, subcode: 2, shutdownMessage: 'é'.repeat(200) });
    expect(m2[21]).toBe(254); // 255 would split the 128th 'é'
  });

  it('encodes from a WireError as is', () => {
    const e = wireError(1, 2, 'bad length', hex`0012`);
    expect(encodeNotification(e)).toEqual(hex`ffffffff ffffffff ffffffff ffffffff 0017 03   01 02   0012`);
  });

  it('cuts data so the message never exceeds the maximum length', () => {
    const m = encodeNotification({ code: 3, subcode: 1, data: Buffer.alloc(5000, 7) });
    expect(m.length).toBe(4096);
    expect(m.readUInt16BE(16)).toBe(4096);
    expect(encodeNotification({ code: 3, subcode: 1, data: Buffer.alloc(5000) }, 65535).length).toBe(19 + 2 + 5000);
  });

  it('round-trips every code and subcode with data', () => {
    for (let code = 1; code <= 7; code++) {
      for (let sub = 0; sub <= 11; sub++) {
        if (code === 6 && (sub === 2 || sub === 4)) continue;
        const data = Buffer.from([code, sub, 0xaa]);
        const r = decodeNotification(body(encodeNotification({ code, subcode: sub, data })));
        expect(r).toEqual({ ok: true, value: { type: 'notification', code, subcode: sub, data } });
      }
    }
  });
});

describe('Cease / Maximum Number of Prefixes Reached data (RFC 4486 §4)', () => {
  it('is AFI (2), SAFI (1), limit (4)', () => {
    expect(maxPrefixCeaseData(2, 1, 100_000).toString('hex')).toBe('0002' + '01' + '000186a0');
    expect(maxPrefixCeaseData(1, 1, 0xffffffff).toString('hex')).toBe('0001' + '01' + 'ffffffff');
  });
});
