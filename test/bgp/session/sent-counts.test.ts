// Sent counters by each message's own type octet (RFC 4271 §4.1): several
// messages in one buffer, a BoRR/EoRR among UPDATEs, and garbage that must
// neither loop nor count.
import { describe, expect, it } from 'vitest';
import { countMessages, zeroCounts } from '../../../src/bgp/session/sent-counts.js';

function msg(type: number, body = 0): Buffer {
  const b = Buffer.alloc(19 + body, 0xff);
  b.writeUInt16BE(19 + body, 16);
  b[18] = type;
  return b;
}

describe('countMessages', () => {
  it('counts UPDATEs and the RFC 7313 BoRR/EoRR between them by type', () => {
    const c = zeroCounts();
    // BoRR, two UPDATEs, EoRR (ROUTE-REFRESH is type 5, 4 octets of body).
    expect(countMessages(c, Buffer.concat([msg(5, 4), msg(2, 30), msg(2, 4), msg(5, 4)]))).toBe(4);
    expect(c).toEqual({ open: 0, update: 2, notification: 0, keepalive: 0, 'route-refresh': 2 });
  });

  it('one message, a KEEPALIVE', () => {
    const c = zeroCounts();
    countMessages(c, msg(4));
    expect(c.keepalive).toBe(1);
  });

  it('stops at a length below a header and at a truncated header; unknown types are not counted', () => {
    const c = zeroCounts();
    const bad = msg(2, 4);
    bad.writeUInt16BE(3, 16);
    expect(countMessages(c, Buffer.concat([msg(2), bad, msg(2)]))).toBe(1);
    expect(countMessages(c, msg(2).subarray(0, 18))).toBe(0);
    expect(countMessages(c, msg(9))).toBe(1);
    expect(c.update).toBe(1);
  });
});
