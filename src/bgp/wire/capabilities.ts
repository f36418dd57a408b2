// Capabilities Advertisement (RFC 5492): the TLVs inside OPEN optional
// parameter type 2. Known capabilities decode to typed objects (types.ts
// Capability); anything else is kept as { kind: 'unknown', code, value } and
// re-encoded byte for byte.
//
// Malformed TLVs: RFC 5492 names no subcode for a capability whose length runs
// past its parameter or whose value has an impossible size, and RFC 4271 §4.5
// says to use subcode 0 (Unspecific) when no specific one applies. We send
// OPEN Message Error / 0, as FRR bgpd and OpenBGPD do, with no data. (Subcode 7
// Unsupported Capability means "I refuse a capability I understood", which
// would mislead the peer's operator.)

import type { Decoded } from './errors.js';
import { ERR_OPEN, fail, ok, wireError } from './errors.js';
import { ByteReader } from './reader.js';
import type { AddPathMode, AfiSafi, Capability } from './types.js';

export const CAP_MULTIPROTOCOL = 1;
export const CAP_ROUTE_REFRESH = 2;
export const CAP_EXTENDED_MESSAGE = 6;
export const CAP_GRACEFUL_RESTART = 64;
export const CAP_FOUR_OCTET_AS = 65;
export const CAP_ADD_PATH = 69;
export const CAP_ENHANCED_ROUTE_REFRESH = 70;
export const CAP_FQDN = 73;

/** RFC 7911 §4 Send/Receive field values. */
const ADD_PATH_MODES: Record<number, AddPathMode> = { 1: 'receive', 2: 'send', 3: 'both' };
const ADD_PATH_CODES: Record<AddPathMode, number> = { receive: 1, send: 2, both: 3 };

const malformed = (reason: string) => fail<never>(wireError(ERR_OPEN, 0, reason));

/** Decodes one capability's value; `code` is its capability code. */
function decodeCapability(code: number, value: Buffer): Decoded<Capability> {
  const r = new ByteReader(value);
  switch (code) {
    case CAP_MULTIPROTOCOL: {
      // RFC 4760 §8: AFI (2), reserved (1), SAFI (1).
      if (value.length !== 4) return malformed(`multiprotocol capability of ${value.length} octets`);
      return ok({ kind: 'multiprotocol', code, afi: value.readUInt16BE(0), safi: value[3]! });
    }
    case CAP_ROUTE_REFRESH:
      // RFC 2918 §2: length 0. Extra octets are ignored rather than fatal.
      return ok({ kind: 'route-refresh', code });
    case CAP_EXTENDED_MESSAGE:
      return ok({ kind: 'extended-message', code }); // RFC 8654 §3: length 0
    case CAP_ENHANCED_ROUTE_REFRESH:
      return ok({ kind: 'enhanced-route-refresh', code }); // RFC 7313 §3: length 0
    case CAP_FOUR_OCTET_AS: {
      // RFC 6793 §3: the 4-octet ASN, length 4.
      if (value.length !== 4) return malformed(`4-octet AS capability of ${value.length} octets`);
      return ok({ kind: 'four-octet-as', code, asn: value.readUInt32BE(0) });
    }
    case CAP_GRACEFUL_RESTART: {
      // RFC 4724 §3: flags (4 bits) + restart time (12 bits), then per AFI/SAFI
      // AFI (2), SAFI (1), flags (1) whose top bit is Forwarding State.
      if (value.length < 2 || (value.length - 2) % 4 !== 0) {
        return malformed(`graceful restart capability of ${value.length} octets`);
      }
      const word = r.u16()!;
      const families: (AfiSafi & { forwardingState: boolean })[] = [];
      while (r.remaining() >= 4) {
        const afi = r.u16()!;
        const safi = r.u8()!;
        const flags = r.u8()!;
        families.push({ afi, safi, forwardingState: (flags & 0x80) !== 0 });
      }
      return ok({
        kind: 'graceful-restart',
        code,
        restarting: (word & 0x8000) !== 0, // RFC 4724 §3 R bit
        notification: (word & 0x4000) !== 0, // RFC 8538 §2 N bit
        restartTime: word & 0x0fff,
        families,
      });
    }
    case CAP_ADD_PATH: {
      // RFC 7911 §4: per entry AFI (2), SAFI (1), Send/Receive (1).
      if (value.length === 0 || value.length % 4 !== 0) return malformed(`ADD-PATH capability of ${value.length} octets`);
      const families: (AfiSafi & { mode: AddPathMode })[] = [];
      while (r.remaining() >= 4) {
        const afi = r.u16()!;
        const safi = r.u8()!;
        const mode = ADD_PATH_MODES[r.u8()!];
        if (mode === undefined) return malformed(`ADD-PATH Send/Receive value ${value[r.pos - 1]}`);
        families.push({ afi, safi, mode });
      }
      return ok({ kind: 'add-path', code, families });
    }
    case CAP_FQDN: {
      // draft-walton-bgp-hostname-capability §3: len + hostname + len + domain.
      const hostLen = r.u8();
      const host = hostLen === undefined ? undefined : r.bytes(hostLen);
      const domLen = r.u8();
      const dom = domLen === undefined ? undefined : r.bytes(domLen);
      // Informational only: a malformed one is kept opaque rather than failing the session.
      if (host === undefined || dom === undefined) return ok({ kind: 'unknown', code, value: Buffer.from(value) });
      return ok({ kind: 'fqdn', code, hostname: host.toString('utf8'), domain: dom.toString('utf8') });
    }
    default:
      return ok({ kind: 'unknown', code, value: Buffer.from(value) });
  }
}

/**
 * Decodes the capabilities in one type-2 optional parameter's value; there may
 * be several (RFC 5492 §4: one parameter may carry many capabilities).
 */
export function decodeCapabilities(value: Buffer): Decoded<Capability[]> {
  const out: Capability[] = [];
  const r = new ByteReader(value);
  while (r.remaining() > 0) {
    const code = r.u8()!;
    const len = r.u8();
    if (len === undefined) return malformed(`capability ${code} has no length octet`);
    const v = r.bytes(len);
    if (v === undefined) return malformed(`capability ${code} length ${len} runs past its parameter`);
    const cap = decodeCapability(code, v);
    if (!cap.ok) return cap;
    out.push(cap.value);
  }
  return ok(out);
}

function capabilityValue(c: Capability): Buffer {
  switch (c.kind) {
    case 'multiprotocol': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(c.afi, 0);
      b[3] = c.safi;
      return b;
    }
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return Buffer.alloc(0);
    case 'four-octet-as': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(c.asn >>> 0, 0);
      return b;
    }
    case 'graceful-restart': {
      const b = Buffer.alloc(2 + 4 * c.families.length);
      b.writeUInt16BE((c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | (c.restartTime & 0x0fff), 0);
      c.families.forEach((f, i) => {
        b.writeUInt16BE(f.afi, 2 + 4 * i);
        b[4 + 4 * i] = f.safi;
        b[5 + 4 * i] = f.forwardingState ? 0x80 : 0;
      });
      return b;
    }
    case 'add-path': {
      const b = Buffer.alloc(4 * c.families.length);
      c.families.forEach((f, i) => {
        b.writeUInt16BE(f.afi, 4 * i);
        b[2 + 4 * i] = f.safi;
        b[3 + 4 * i] = ADD_PATH_CODES[f.mode];
      });
      return b;
    }
    case 'fqdn': {
      const host = Buffer.from(c.hostname, 'utf8').subarray(0, 255);
      const dom = Buffer.from(c.domain, 'utf8').subarray(0, 255);
      return Buffer.concat([Buffer.from([host.length]), host, Buffer.from([dom.length]), dom]);
    }
    case 'unknown':
      return c.value;
  }
}

/** One capability as a TLV: code (1), length (1), value. Throws on a value over 255 octets (a caller bug). */
export function encodeCapability(c: Capability): Buffer {
  const value = capabilityValue(c);
  if (value.length > 255) throw new RangeError(`capability ${c.code} value of ${value.length} octets exceeds 255`);
  const out = Buffer.allocUnsafe(2 + value.length);
  out[0] = c.code;
  out[1] = value.length;
  value.copy(out, 2);
  return out;
}

const AFI_NAMES: Record<number, string> = { 1: 'ipv4', 2: 'ipv6' };
const SAFI_NAMES: Record<number, string> = { 1: 'unicast', 2: 'multicast' };

/** "ipv4-unicast" style name of an AFI/SAFI, numeric when unknown. */
export function afiSafiName(afi: number, safi: number): string {
  return `${AFI_NAMES[afi] ?? `afi${afi}`}-${SAFI_NAMES[safi] ?? `safi${safi}`}`;
}

/** Short human-readable form of a capability, for logs and the API. */
export function capabilityName(c: Capability): string {
  switch (c.kind) {
    case 'multiprotocol':
      return `multiprotocol(${afiSafiName(c.afi, c.safi)})`;
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return c.kind;
    case 'four-octet-as':
      return `four-octet-as(${c.asn})`;
    case 'graceful-restart': {
      const flags = `${c.restarting ? 'R' : ''}${c.notification ? 'N' : ''}`;
      const fams = c.families.map((f) => `${afiSafiName(f.afi, f.safi)}${f.forwardingState ? '+F' : ''}`).join(',');
      return `graceful-restart(${flags ? flags + ' ' : ''}time ${c.restartTime}${fams ? ' ' + fams : ''})`;
    }
    case 'add-path':
      return `add-path(${c.families.map((f) => `${afiSafiName(f.afi, f.safi)} ${f.mode}`).join(',')})`;
    case 'fqdn':
      return `fqdn(${c.hostname}${c.domain ? '.' + c.domain : ''})`;
    case 'unknown':
      return `capability-${c.code}(${c.value.toString('hex')})`;
  }
}
