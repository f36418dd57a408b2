// TypeBox schemas of GET /api/v1/bfd (DESIGN.md contract: every BFD session
// with peer, state, diagnostic, negotiated intervals, detection time) and of
// the peer object's `bfd: {state}`. State names are RFC 5880 §4.1's, the
// diagnostics its Diag codes as names (src/bfd/packet.ts), repeated here as
// strings so the API does not import src/bfd.

import { Type, type Static } from '@sinclair/typebox';

const Count = Type.Integer({ minimum: 0 });
const Ms = Type.Number({ minimum: 0, description: 'milliseconds' });

/** RFC 5880 §4.1 "Sta". */
export const BfdStateSchema = Type.Union(['AdminDown', 'Down', 'Init', 'Up'].map((s) => Type.Literal(s)));

export const PeerBfdSchema = Type.Object({ state: BfdStateSchema });

export const BfdSessionSchema = Type.Object({
  peer: Type.String(),
  localAddress: Type.Optional(Type.String()),
  state: BfdStateSchema,
  remoteState: BfdStateSchema,
  diagnostic: Type.String({ description: 'RFC 5880 §4.1 Diag of the latest state change, e.g. control-detection-time-expired' }),
  lastDownDiagnostic: Type.String(),
  downReason: Type.Optional(
    Type.String({ description: 'why the session is not Up: no-packets-from-peer, peer-admin-down, administratively-down, waiting-for-peer, or the last Down diagnostic' }),
  ),
  localDiscriminator: Count,
  remoteDiscriminator: Count,
  multiplier: Count,
  remoteMultiplier: Count,
  desiredMinTxMs: Ms,
  requiredMinRxMs: Ms,
  remoteMinRxMs: Ms,
  remoteMinTxMs: Ms,
  txIntervalMs: Ms,
  rxIntervalMs: Ms,
  detectionTimeMs: Ms,
  remoteCpi: Type.Boolean({ description: "the peer's C bit (RFC 5880 §4.1)" }),
  polling: Type.Boolean(),
  uptimeSeconds: Count,
  lastChangeSeconds: Count,
  flaps: Count,
  /** Changes to Down by RFC 5880 diagnostic. */
  downsByDiagnostic: Type.Record(Type.String(), Count),
  packetsIn: Count,
  packetsOut: Count,
  sendErrors: Count,
  maxTxGapMs: Ms,
  sourcePort: Count,
});

export const BfdListSchema = Type.Object({
  sessions: Type.Array(BfdSessionSchema),
  /** Datagrams received on UDP 3784. */
  received: Count,
  /** Dropped datagrams by reason (RFC 5880 §6.8.6, RFC 5881 §5). */
  dropped: Type.Record(Type.String(), Count),
});

export type ApiBfdSession = Static<typeof BfdSessionSchema>;
/** What the core hands the API (read-only arrays allowed). */
export interface ApiBfdList {
  readonly sessions: readonly ApiBfdSession[];
  readonly received: number;
  readonly dropped: Readonly<Record<string, number | undefined>>;
}
