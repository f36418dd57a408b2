// Error codes (RFC 4271 §4.5 and later RFCs) and the typed results decoders
// return. Decoders never throw for bad input: they return a WireError carrying
// the NOTIFICATION to send, and for UPDATE attributes the RFC 7606 action.

export const ERR_HEADER = 1;
export const ERR_OPEN = 2;
export const ERR_UPDATE = 3;
export const ERR_HOLD_TIMER = 4;
export const ERR_FSM = 5;
export const ERR_CEASE = 6;
/** RFC 7313 */
export const ERR_ROUTE_REFRESH = 7;

// Message Header Error subcodes
export const HDR_NOT_SYNCHRONIZED = 1;
export const HDR_BAD_LENGTH = 2;
export const HDR_BAD_TYPE = 3;

// OPEN Message Error subcodes
export const OPEN_UNSUPPORTED_VERSION = 1;
export const OPEN_BAD_PEER_AS = 2;
export const OPEN_BAD_BGP_ID = 3;
export const OPEN_UNSUPPORTED_OPTIONAL_PARAM = 4;
export const OPEN_UNACCEPTABLE_HOLD_TIME = 6;
/** RFC 5492 */
export const OPEN_UNSUPPORTED_CAPABILITY = 7;
/** RFC 9234 */
export const OPEN_ROLE_MISMATCH = 11;

// UPDATE Message Error subcodes
export const UPD_MALFORMED_ATTRIBUTE_LIST = 1;
export const UPD_UNRECOGNIZED_WELL_KNOWN = 2;
export const UPD_MISSING_WELL_KNOWN = 3;
export const UPD_ATTRIBUTE_FLAGS = 4;
export const UPD_ATTRIBUTE_LENGTH = 5;
export const UPD_INVALID_ORIGIN = 6;
export const UPD_INVALID_NEXT_HOP = 8;
export const UPD_OPTIONAL_ATTRIBUTE = 9;
export const UPD_INVALID_NETWORK_FIELD = 10;
export const UPD_MALFORMED_AS_PATH = 11;

// FSM Error subcodes (RFC 6608)
export const FSM_UNEXPECTED_IN_OPENSENT = 1;
export const FSM_UNEXPECTED_IN_OPENCONFIRM = 2;
export const FSM_UNEXPECTED_IN_ESTABLISHED = 3;

// Cease subcodes (RFC 4486, RFC 8203, RFC 9003)
export const CEASE_MAX_PREFIXES = 1;
export const CEASE_ADMIN_SHUTDOWN = 2;
export const CEASE_PEER_DECONFIGURED = 3;
export const CEASE_ADMIN_RESET = 4;
export const CEASE_CONNECTION_REJECTED = 5;
export const CEASE_OTHER_CONFIG_CHANGE = 6;
export const CEASE_COLLISION_RESOLUTION = 7;
export const CEASE_OUT_OF_RESOURCES = 8;
/** RFC 8538 */
export const CEASE_HARD_RESET = 9;
/** RFC 9384: BFD Down */
export const CEASE_BFD_DOWN = 10;

// ROUTE-REFRESH Message Error subcodes (RFC 7313)
export const RR_INVALID_LENGTH = 1;

/**
 * RFC 7606 §2 error-handling approaches, most severe first. `session-reset`
 * sends the NOTIFICATION and closes; `treat-as-withdraw` withdraws every NLRI
 * of the UPDATE; `attribute-discard` drops the one attribute and goes on.
 */
export type ErrorAction = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';

export interface WireError {
  readonly action: ErrorAction;
  /** NOTIFICATION error code and subcode (sent only for session-reset). */
  readonly code: number;
  readonly subcode: number;
  /** NOTIFICATION data field. */
  readonly data: Buffer;
  /** Human-readable cause for logs and the API. */
  readonly reason: string;
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError };

export function wireError(
  code: number,
  subcode: number,
  reason: string,
  data: Buffer = Buffer.alloc(0),
  action: ErrorAction = 'session-reset',
): WireError {
  return { action, code, subcode, data, reason };
}

export function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

export function fail<T>(error: WireError): Decoded<T> {
  return { ok: false, error };
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    0: 'Unspecified Error',
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "Cease / Administrative Shutdown" style name of a NOTIFICATION code and subcode. */
export function notificationName(code: number, subcode: number): string {
  const codeName = CODE_NAMES[code] ?? `Unknown error code ${code}`;
  if (subcode === 0 && code !== ERR_FSM) return codeName;
  const sub = SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`;
  return `${codeName} / ${sub}`;
}
