// OPEN (RFC 4271 §4.2): version, My AS, Hold Time, BGP Identifier, optional
// parameters. Capabilities (parameter type 2, RFC 5492) may be spread over
// several parameters or packed into one. RFC 9072 extended optional
// parameters length is read whenever the peer uses it and written only when
// the parameters do not fit in 255 octets.
//
// The decoder does the checks that need nothing but the message (RFC 4271
// §6.2): version, hold time, identifier, parameter types. Whether My AS is the
// configured peer AS is decided by the session's negotiation, not here.

import { decodeCapabilities, encodeCapability } from './capabilities.js';
import type { Decoded } from './errors.js';
import {
  ERR_OPEN,
  OPEN_BAD_BGP_ID,
  OPEN_UNACCEPTABLE_HOLD_TIME,
  OPEN_UNSUPPORTED_OPTIONAL_PARAM,
  OPEN_UNSUPPORTED_VERSION,
  fail,
  ok,
  wireError,
} from './errors.js';
import { writeHeader } from './header.js';
import { ByteReader } from './reader.js';
import type { Capability, OpenMessage } from './types.js';
import { AS_TRANS, HEADER_LENGTH, MSG_OPEN } from './types.js';

export const BGP_VERSION = 4;
/** RFC 5492 §4: optional parameter type 2 carries capabilities. */
export const PARAM_CAPABILITIES = 2;
/** RFC 9072 §2: Non-Ext OP Type 255 marks the extended encoding. */
export const PARAM_EXTENDED_LENGTH = 255;

/** Fixed OPEN body before the parameters: version 1, AS 2, hold 2, id 4, opt len 1. */
const FIXED_BODY = 10;

/** RFC 6793 §4.1: the 2-octet My AS field for an ASN (AS_TRANS when it needs 4 octets). */
export function myAsField(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

/** The speaker's ASN: the 4-octet AS capability's when present (RFC 6793 §4.1), else My AS. */
export function openAsn(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.kind === 'four-octet-as') return c.asn;
  return open.myAs;
}

const openError = (subcode: number, reason: string, data?: Buffer) => fail<OpenMessage>(wireError(ERR_OPEN, subcode, reason, data));

/** Decodes an OPEN body (after the header; at least 10 octets, which decodeHeader guarantees). */
export function decodeOpen(body: Buffer): Decoded<OpenMessage> {
  if (body.length < FIXED_BODY) return openError(0, `OPEN body of ${body.length} octets`);
  const version = body[0]!;
  const myAs = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  const bgpId = body.readUInt32BE(5);
  // RFC 4271 §6.2: data = the version we support, as 2 octets.
  if (version !== BGP_VERSION) return openError(OPEN_UNSUPPORTED_VERSION, `version ${version}`, Buffer.from([0, BGP_VERSION]));
  // RFC 4271 §6.2: hold time 1 or 2 seconds MUST be rejected.
  if (holdTime === 1 || holdTime === 2) return openError(OPEN_UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime}`);
  // RFC 6286 §2.2: the identifier is any non-zero 32-bit value.
  if (bgpId === 0) return openError(OPEN_BAD_BGP_ID, 'BGP Identifier 0');

  const params = readParams(body);
  if (!params.ok) return params;
  const capabilities: Capability[] = [];
  for (const p of params.value) {
    // RFC 4271 §6.2: an unrecognised optional parameter is fatal.
    if (p.type !== PARAM_CAPABILITIES) return openError(OPEN_UNSUPPORTED_OPTIONAL_PARAM, `optional parameter type ${p.type}`);
    const caps = decodeCapabilities(p.value);
    if (!caps.ok) return caps;
    capabilities.push(...caps.value);
  }
  return ok({ type: 'open', version, myAs, holdTime, bgpId, capabilities });
}

/** Splits the optional parameters, in the RFC 4271 or the RFC 9072 encoding. */
function readParams(body: Buffer): Decoded<{ type: number; value: Buffer }[]> {
  const bad = (reason: string) => fail<never>(wireError(ERR_OPEN, 0, reason));
  let optLen = body[9]!;
  let start = FIXED_BODY;
  let extended = false;
  // RFC 9072 §2: Non-Ext OP Len 255 followed by Non-Ext OP Type 255 means a
  // 2-octet Extended Opt. Parm. Length follows, and each parameter has a
  // 2-octet length.
  if (optLen === 255 && body.length > FIXED_BODY && body[FIXED_BODY] === PARAM_EXTENDED_LENGTH) {
    if (body.length < FIXED_BODY + 3) return bad('extended optional parameters length missing');
    optLen = body.readUInt16BE(FIXED_BODY + 1);
    start = FIXED_BODY + 3;
    extended = true;
  }
  // RFC 4271 §4.2: the parameters fill the rest of the message exactly.
  if (start + optLen !== body.length) {
    return bad(`optional parameters length ${optLen} does not match the ${body.length - start} octets present`);
  }
  const r = new ByteReader(body, start);
  const out: { type: number; value: Buffer }[] = [];
  while (r.remaining() > 0) {
    const type = r.u8()!;
    const len = extended ? r.u16() : r.u8();
    if (len === undefined) return bad(`optional parameter ${type} has no length`);
    const value = r.bytes(len);
    if (value === undefined) return bad(`optional parameter ${type} length ${len} runs past the message`);
    out.push({ type, value });
  }
  return ok(out);
}

export interface OpenInput {
  readonly version?: number;
  readonly myAs: number;
  readonly holdTime: number;
  readonly bgpId: number;
  readonly capabilities: readonly Capability[];
  readonly otherParams?: readonly { readonly type: number; readonly value: Buffer }[];
}

/**
 * Encodes a whole OPEN. All capabilities go into as few type-2 parameters of
 * up to 255 octets as hold them (RFC 5492 §4); when the parameters would exceed
 * 255 octets in all, the RFC 9072 extended encoding is used instead.
 */
export function encodeOpen(open: OpenInput): Buffer {
  const tlvs = open.capabilities.map(encodeCapability);
  const params: { type: number; value: Buffer }[] = [];
  let group: Buffer[] = [];
  let groupLen = 0;
  for (const t of tlvs) {
    if (groupLen + t.length > 255 && group.length > 0) {
      params.push({ type: PARAM_CAPABILITIES, value: Buffer.concat(group) });
      group = [];
      groupLen = 0;
    }
    group.push(t);
    groupLen += t.length;
  }
  if (group.length > 0) params.push({ type: PARAM_CAPABILITIES, value: Buffer.concat(group) });
  for (const p of open.otherParams ?? []) params.push({ type: p.type, value: p.value });

  const plain = params.reduce((n, p) => n + 2 + p.value.length, 0);
  const extended = plain > 255 || params.some((p) => p.value.length > 255);
  let paramsBuf: Buffer;
  if (!extended) {
    paramsBuf = Buffer.allocUnsafe(1 + plain);
    paramsBuf[0] = plain;
    let p = 1;
    for (const prm of params) {
      paramsBuf[p] = prm.type;
      paramsBuf[p + 1] = prm.value.length;
      prm.value.copy(paramsBuf, p + 2);
      p += 2 + prm.value.length;
    }
  } else {
    // RFC 9072 §2: one capabilities parameter is enough with 2-octet lengths.
    const caps = Buffer.concat(tlvs);
    const ext = [{ type: PARAM_CAPABILITIES, value: caps }, ...(open.otherParams ?? [])].filter(
      (p) => p.type !== PARAM_CAPABILITIES || p.value.length > 0,
    );
    const total = ext.reduce((n, p) => n + 3 + p.value.length, 0);
    paramsBuf = Buffer.allocUnsafe(4 + total);
    paramsBuf[0] = 255; // Non-Ext OP Len
    paramsBuf[1] = PARAM_EXTENDED_LENGTH; // Non-Ext OP Type
    paramsBuf.writeUInt16BE(total, 2);
    let p = 4;
    for (const prm of ext) {
      paramsBuf[p] = prm.type;
      paramsBuf.writeUInt16BE(prm.value.length, p + 1);
      prm.value.copy(paramsBuf, p + 3);
      p += 3 + prm.value.length;
    }
  }
  const total = HEADER_LENGTH + FIXED_BODY - 1 + paramsBuf.length;
  const buf = Buffer.allocUnsafe(total);
  writeHeader(buf, MSG_OPEN, total);
  buf[19] = open.version ?? BGP_VERSION;
  buf.writeUInt16BE(open.myAs, 20);
  buf.writeUInt16BE(open.holdTime, 22);
  buf.writeUInt32BE(open.bgpId >>> 0, 24);
  paramsBuf.copy(buf, 28);
  return buf;
}
