// The BFD Control packet codec (RFC 5880 §4.1) and the packet-level receive
// checks of RFC 5880 §6.8.6. Pure: Buffer slices in, readonly plain objects out
// and back. `decodeControl` never throws: every malformed datagram comes back
// as a typed `BfdDropReason` the shell counts (and the API and metrics show).
// The check that needs the sessions (selection by Your Discriminator) lives
// in demux.ts. Authentication (RFC 5880 §6.7) is not
// implemented: a packet with the A bit set is dropped (§6.8.6: "If the A bit
// is set and no authentication is in use ... the packet MUST be discarded").

/** RFC 5880 §4.1 "Sta": the session state values on the wire. */
export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';
export const BFD_STATES: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];

/** RFC 5880 §4.1 "Diag": diagnostic codes 0–8, named; shared by logs, the API and metrics. */
export type BfdDiagnostic =
  | 'none' // 0 No Diagnostic
  | 'control-detection-time-expired' // 1
  | 'echo-function-failed' // 2
  | 'neighbor-signaled-down' // 3 Neighbor Signaled Session Down
  | 'forwarding-plane-reset' // 4
  | 'path-down' // 5
  | 'concatenated-path-down' // 6
  | 'administratively-down' // 7
  | 'reverse-concatenated-path-down' // 8
  | 'unknown'; // 9–31: reserved (RFC 5880 §4.1), kept so a peer's odd value is shown, not dropped

export const BFD_DIAGNOSTICS: readonly BfdDiagnostic[] = [
  'none',
  'control-detection-time-expired',
  'echo-function-failed',
  'neighbor-signaled-down',
  'forwarding-plane-reset',
  'path-down',
  'concatenated-path-down',
  'administratively-down',
  'reverse-concatenated-path-down',
  'unknown',
];

/** RFC 5880 §4.1: the mandatory section is 24 octets. */
export const BFD_HEADER_LENGTH = 24;
/** RFC 5880 §4.1 "Vers": this document defines version 1. */
export const BFD_VERSION = 1;

/** A decoded BFD Control packet. Intervals are microseconds, as on the wire. */
export interface BfdControlPacket {
  readonly version: number;
  readonly diagnostic: BfdDiagnostic;
  /** The raw Diag value (0–31), so reserved codes stay visible. */
  readonly diagCode: number;
  readonly state: BfdState;
  /** P: Poll (RFC 5880 §6.5). */
  readonly poll: boolean;
  /** F: Final, the answer to a Poll. */
  readonly final: boolean;
  /** C: Control Plane Independent (RFC 5880 §4.1; RFC 5882 §4.3). */
  readonly cpi: boolean;
  /** A: Authentication Present. */
  readonly auth: boolean;
  /** D: Demand mode. */
  readonly demand: boolean;
  /** M: Multipoint, must be zero (RFC 5880 §4.1). */
  readonly multipoint: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly requiredMinEchoRxUs: number;
}

/** What a dropped packet was dropped for; string union shared by logs, the API and metrics. */
export type BfdDropReason =
  | 'short' // fewer than 24 octets in the datagram
  | 'bad-version' // §6.8.6: version is not 1
  | 'bad-length' // §6.8.6: Length below the minimum or beyond the datagram
  | 'zero-multiplier' // §6.8.6: Detect Mult is zero
  | 'multipoint' // §6.8.6: M bit set
  | 'zero-my-discriminator' // §6.8.6: My Discriminator is zero
  | 'poll-and-final' // §6.8.7: P and F both set (a packet no conforming sender builds)
  | 'auth-unsupported' // §6.8.6: A bit set, no authentication in use
  | 'ttl' // RFC 5881 §5: received TTL / hop limit below 255
  | 'unknown-discriminator' // §6.8.6: Your Discriminator selects no session
  | 'no-session' // §6.8.6 / RFC 5881 §3: Your Discriminator zero and no session for the source address
  | 'zero-your-discriminator' // §6.8.6: Your Discriminator zero while the packet's State is Init or Up
  | 'wrong-source'; // RFC 5881 §3: a discriminator match from an address that is not the session's peer

export const BFD_DROP_REASONS: readonly BfdDropReason[] = [
  'short',
  'bad-version',
  'bad-length',
  'zero-multiplier',
  'multipoint',
  'zero-my-discriminator',
  'poll-and-final',
  'auth-unsupported',
  'ttl',
  'unknown-discriminator',
  'no-session',
  'zero-your-discriminator',
  'wrong-source',
];

export type DecodeResult =
  | { readonly ok: true; readonly packet: BfdControlPacket }
  | { readonly ok: false; readonly reason: BfdDropReason; readonly detail: string };

const STATE_BY_CODE: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];

export function diagnosticName(code: number): BfdDiagnostic {
  return code >= 0 && code <= 8 ? BFD_DIAGNOSTICS[code]! : 'unknown';
}

export function diagnosticCode(d: BfdDiagnostic): number {
  const i = BFD_DIAGNOSTICS.indexOf(d);
  return i >= 0 && i <= 8 ? i : 0;
}

function fail(reason: BfdDropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Decodes one UDP payload and applies the session-independent checks of
 * RFC 5880 §6.8.6, in the RFC's order. Never throws.
 */
export function decodeControl(buf: Uint8Array): DecodeResult {
  if (buf.length < BFD_HEADER_LENGTH) return fail('short', `${buf.length} octets, a Control packet has at least 24`);
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const version = b0 >>> 5;
  // RFC 5880 §6.8.6: "If the version number is not correct (1), the packet MUST be discarded."
  if (version !== BFD_VERSION) return fail('bad-version', `version ${version}`);
  const auth = (b1 & 0x04) !== 0;
  const length = buf[3]!;
  // §6.8.6: Length less than 24 (A clear) or 26 (A set) is discarded ...
  const minimum = auth ? BFD_HEADER_LENGTH + 2 : BFD_HEADER_LENGTH;
  if (length < minimum) return fail('bad-length', `Length ${length} below ${minimum}`);
  // ... and so is a Length greater than the payload of the encapsulating protocol.
  if (length > buf.length) return fail('bad-length', `Length ${length} beyond the ${buf.length}-octet datagram`);
  const detectMult = buf[2]!;
  // §6.8.6: "If the Detect Mult field is zero, the packet MUST be discarded."
  if (detectMult === 0) return fail('zero-multiplier', 'Detect Mult is zero');
  const multipoint = (b1 & 0x01) !== 0;
  // §6.8.6: "If the Multipoint (M) bit is nonzero, the packet MUST be discarded."
  if (multipoint) return fail('multipoint', 'M bit set');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const myDiscriminator = view.getUint32(4);
  // §6.8.6: "If the My Discriminator field is zero, the packet MUST be discarded."
  if (myDiscriminator === 0) return fail('zero-my-discriminator', 'My Discriminator is zero');
  const state = STATE_BY_CODE[b1 >>> 6]!;
  const yourDiscriminator = view.getUint32(8);
  // §6.8.6: "If the Your Discriminator field is zero and the State field is not
  // Down or AdminDown, the packet MUST be discarded." (The lookup by a nonzero
  // Your Discriminator needs the sessions: demux.ts.)
  if (yourDiscriminator === 0 && (state === 'Init' || state === 'Up'))
    return fail('zero-your-discriminator', `Your Discriminator is zero in a packet with State ${state}`);
  const poll = (b1 & 0x20) !== 0;
  const final = (b1 & 0x10) !== 0;
  // §6.8.7: "A BFD Control packet MUST NOT have both the Poll (P) and Final (F) bits set."
  if (poll && final) return fail('poll-and-final', 'P and F both set');
  // §6.8.6: A bit set and no authentication in use (we implement none): discard.
  if (auth) return fail('auth-unsupported', 'A bit set; authentication is not implemented');
  const diagCode = b0 & 0x1f;
  return {
    ok: true,
    packet: {
      version,
      diagCode,
      diagnostic: diagnosticName(diagCode),
      state,
      poll,
      final,
      cpi: (b1 & 0x08) !== 0,
      auth,
      demand: (b1 & 0x02) !== 0,
      multipoint,
      detectMult,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxUs: view.getUint32(12),
      requiredMinRxUs: view.getUint32(16),
      requiredMinEchoRxUs: view.getUint32(20),
    },
  };
}

/** The fields a sender chooses; the rest (version 1, no auth, M clear, Length 24) are fixed. */
export interface BfdControlFields {
  readonly diagnostic: BfdDiagnostic;
  /** A raw Diag value (0–31) instead of `diagnostic`; only for replaying a decoded packet. */
  readonly diagCode?: number;
  readonly state: BfdState;
  readonly poll?: boolean;
  readonly final?: boolean;
  readonly cpi?: boolean;
  readonly demand?: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly requiredMinEchoRxUs?: number;
}

function u32(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} ${v} is not a 32-bit unsigned integer`);
  return v;
}

/**
 * Encodes a Control packet without authentication (RFC 5880 §4.1). Throws a
 * RangeError only on values our own code must never produce (a programming
 * error, not peer input): multiplier outside 1–255, P with F, fields beyond 32 bits.
 */
export function encodeControl(f: BfdControlFields): Buffer {
  if (!Number.isInteger(f.detectMult) || f.detectMult < 1 || f.detectMult > 255)
    throw new RangeError(`Detect Mult ${f.detectMult} outside 1–255`);
  if (f.poll && f.final) throw new RangeError('P and F both set'); // RFC 5880 §6.8.7
  const out = Buffer.alloc(BFD_HEADER_LENGTH);
  out[0] = (BFD_VERSION << 5) | ((f.diagCode ?? diagnosticCode(f.diagnostic)) & 0x1f);
  out[1] =
    (STATE_BY_CODE.indexOf(f.state) << 6) |
    (f.poll ? 0x20 : 0) |
    (f.final ? 0x10 : 0) |
    (f.cpi ? 0x08 : 0) |
    (f.demand ? 0x02 : 0);
  out[2] = f.detectMult;
  out[3] = BFD_HEADER_LENGTH;
  out.writeUInt32BE(u32(f.myDiscriminator, 'My Discriminator'), 4);
  out.writeUInt32BE(u32(f.yourDiscriminator, 'Your Discriminator'), 8);
  out.writeUInt32BE(u32(f.desiredMinTxUs, 'Desired Min TX Interval'), 12);
  out.writeUInt32BE(u32(f.requiredMinRxUs, 'Required Min RX Interval'), 16);
  out.writeUInt32BE(u32(f.requiredMinEchoRxUs ?? 0, 'Required Min Echo RX Interval'), 20);
  return out;
}

/** RFC 5881 §4: the source port range of single-hop Control packets. */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;
/** RFC 5881 §4: Control packets go to UDP port 3784. */
export const BFD_CONTROL_PORT = 3784;
/** RFC 5881 §5: sent with TTL / hop limit 255, and only 255 accepted. */
export const BFD_TTL = 255;
