// TypeBox schemas for every request and response of the HTTP API
// (DESIGN.md, "The contract"). They do three jobs: fastify's ajv validates
// requests with them, fast-json-stringify serialises responses with them (so a
// field not listed here never leaks out), and `Static<>` turns them into the
// plain-data types the daemon implements in deps.ts. State names are RFC 4271
// §8.2.2's; NOTIFICATION codes are RFC 4271 §4.5's; reasons are the RIB's
// string unions (rib/decision/context.ts), repeated here as strings so the API
// does not import the RIB.

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PeerBfdSchema } from './bfd-schemas.js';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Count = Type.Integer({ minimum: 0 });

export const FamilySchema = Type.Union([Type.Literal('ipv4-unicast'), Type.Literal('ipv6-unicast')]);
/** RFC 4271 §8.2.2 state names. */
export const SessionStateSchema = Type.Union(
  ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'].map((s) => Type.Literal(s)),
);
/** BGP message types (RFC 4271 §4.1, RFC 2918 ROUTE-REFRESH). */
export const MESSAGE_TYPES = ['open', 'update', 'notification', 'keepalive', 'route-refresh'] as const;
const Community = Type.String({ pattern: '^\\d+:\\d+(:\\d+)?$', description: '"aa:nn" or large "aa:nn:mm"' });
/** Checked by the handler (routes/read.ts parsePrefixOrAddress), which can say "did you mean ...". */
const PrefixText = Type.String({ maxLength: 64, description: 'IPv4 or IPv6 prefix, host bits clear' });

export const ErrorSchema = Type.Object({
  error: Type.String({ description: 'machine-readable code: bad-request, not-found, unauthorized, conflict, ...' }),
  message: Type.String(),
  errors: Opt(Type.Array(Type.String())),
});

// --- status ---------------------------------------------------------------

const PerFamily = Type.Object({ 'ipv4-unicast': Count, 'ipv6-unicast': Count });

export const StatusSchema = Type.Object({
  routerId: Type.String(),
  asn: Type.Integer(),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  startedAt: Type.String({ description: 'ISO 8601' }),
  clusterId: Opt(Type.String()),
  /** adminShutdown: peers down on purpose (neighbors[].shutdown or POST .../shutdown), counted among configured too. */
  peers: Type.Object({ configured: Count, dynamic: Count, established: Count, adminShutdown: Opt(Count) }),
  /** Loc-RIB prefixes (routes) and candidate paths per family. */
  routes: PerFamily,
  paths: PerFamily,
  fib: Type.Object({
    installed: Count,
    pending: Count,
    failed: Count,
    /** kernel | dry-run | disabled, and why it is not kernel. */
    mode: Opt(Type.Union([Type.Literal('kernel'), Type.Literal('dry-run'), Type.Literal('disabled')])),
    reason: Opt(Type.String()),
  }),
});

// --- peers ----------------------------------------------------------------

const PrefixCounts = Type.Object({ received: Count, accepted: Count, advertised: Count });
const MessageCounts = Type.Object(Object.fromEntries(MESSAGE_TYPES.map((t) => [t, Count])) as Record<(typeof MESSAGE_TYPES)[number], typeof Count>);
const NotificationCount = Type.Object({ code: Count, subcode: Count, count: Count });

export const NotificationSchema = Type.Object({
  direction: Type.Union([Type.Literal('sent'), Type.Literal('received')]),
  code: Count,
  subcode: Count,
  /** e.g. "Cease / Administrative Shutdown" (wire/errors.ts notificationName). */
  name: Type.String(),
  /** RFC 9003 shutdown communication, when present. */
  message: Opt(Type.String()),
  at: Type.String({ description: 'ISO 8601' }),
});

export const CapabilitiesSchema = Type.Object({
  families: Type.Array(FamilySchema),
  fourOctetAs: Type.Boolean(),
  routeRefresh: Type.Boolean(),
  enhancedRouteRefresh: Type.Boolean(),
  extendedMessage: Type.Boolean(),
  gracefulRestart: Type.Boolean(),
  /** RFC 7911 per family: what we do with the peer. */
  addPath: Opt(Type.Record(Type.String(), Type.Union([Type.Literal('receive'), Type.Literal('send'), Type.Literal('both')]))),
});

export const PeerSchema = Type.Object({
  address: Type.String(),
  asn: Type.Integer(),
  description: Opt(Type.String()),
  state: SessionStateSchema,
  /** Seconds in Established; 0 when not Established. */
  uptimeSeconds: Type.Number(),
  /** When the session last changed state (ISO 8601). */
  since: Opt(Type.String()),
  /** Accepted by a listen range rather than configured. */
  dynamic: Type.Boolean(),
  routeReflectorClient: Type.Boolean(),
  adminShutdown: Type.Boolean(),
  localAddress: Opt(Type.String()),
  routerId: Opt(Type.String({ description: "the peer's BGP Identifier" })),
  holdTime: Type.Object({ configured: Count, negotiated: Opt(Count) }),
  keepaliveTime: Opt(Count),
  /** The AS we speak on this session (neighbor localAsn, else ours): equal to asn is iBGP. */
  localAsn: Opt(Type.Integer()),
  /**
   * RFC 4724 timers (seconds): ours as configured, the peer's as it advertised
   * in its OPEN, and, while its routes are kept as stale after it went down
   * without a NOTIFICATION, how long they may still be kept.
   */
  gracefulRestart: Opt(Type.Object({ restartTime: Opt(Count), peerRestartTime: Opt(Count), staleRemainingSeconds: Opt(Type.Number()) })),
  capabilities: Opt(CapabilitiesSchema),
  /** The reason the session last went down (fsm DownReason), with detail. */
  lastError: Opt(Type.String()),
  lastNotification: Opt(NotificationSchema),
  establishedTransitions: Count,
  prefixes: PrefixCounts,
  prefixesByFamily: Type.Object({ 'ipv4-unicast': PrefixCounts, 'ipv6-unicast': PrefixCounts }),
  messages: Type.Object({ received: MessageCounts, sent: MessageCounts }),
  notifications: Type.Object({ sent: Type.Array(NotificationCount), received: Type.Array(NotificationCount) }),
  /** When BFD runs for the peer (RFC 5880 state). */
  bfd: Opt(PeerBfdSchema),
});

export const PeerListSchema = Type.Object({ peers: Type.Array(PeerSchema) });
/** A peer by address or by its description (routes/read.ts resolvePeer). */
export const PeerParamsSchema = Type.Object({ address: Type.String({ minLength: 1, maxLength: 255, description: 'peer address or description' }) });

// --- routes ---------------------------------------------------------------

export const RouteSchema = Type.Object({
  prefix: Type.String(),
  family: FamilySchema,
  /** Address of the peer the path came from; "local" for originated routes. */
  peer: Type.String(),
  peerAsn: Opt(Type.Integer()),
  pathId: Opt(Count),
  best: Type.Boolean(),
  multipath: Opt(Type.Boolean()),
  stale: Opt(Type.Boolean()),
  nextHop: Type.String(),
  asPath: Type.String({ description: 'AS_PATH as text: "64512 64513 {64514,64515}"' }),
  origin: Type.Union([Type.Literal('igp'), Type.Literal('egp'), Type.Literal('incomplete')]),
  med: Opt(Count),
  localPref: Opt(Count),
  communities: Opt(Type.Array(Type.String())),
  largeCommunities: Opt(Type.Array(Type.String())),
  /** RFC 4360 / RFC 7153 text forms: "rt 64512:100", "ro 198.19.0.1:7", else the 8 octets in hex. */
  extCommunities: Opt(Type.Array(Type.String())),
  /** Attributes bgp-ts does not know and passes on (RFC 4271 §5: optional transitive), as received. */
  unknownAttributes: Opt(
    Type.Array(Type.Object({ code: Count, flags: Count, length: Count, hex: Type.String(), text: Type.String({ description: '"code 99 flags 0xc0 length 3 0a0b0c"' }) })),
  ),
  /** Why the path takes no part in the decision (decision/context.ts IneligibleReason), when it does not. */
  ineligible: Opt(Type.String()),
  originatorId: Opt(Type.String()),
  clusterList: Opt(Type.Array(Type.String())),
  ageSeconds: Opt(Type.Number()),
});

export const ROUTES_DEFAULT_LIMIT = 100;
export const ROUTES_MAX_LIMIT = 10_000;

export const RoutesQuerySchema = Type.Object(
  {
    /** A prefix (exact by default) or an address (longest match by default). */
    prefix: Opt(Type.String({ maxLength: 64 })),
    /** exact: that prefix; longest: the longest prefix covering it; subnets: it and every more-specific. */
    match: Opt(Type.Union([Type.Literal('exact'), Type.Literal('longest'), Type.Literal('subnets')])),
    family: Opt(FamilySchema),
    peer: Opt(Type.String({ maxLength: 64 })),
    best: Opt(Type.Boolean()),
    cursor: Opt(Type.String({ maxLength: 512 })),
    limit: Opt(Type.Integer({ minimum: 1, maximum: ROUTES_MAX_LIMIT, default: ROUTES_DEFAULT_LIMIT })),
  },
  { additionalProperties: false },
);

export const RoutePageSchema = Type.Object({
  routes: Type.Array(RouteSchema),
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor: Opt(Type.String()),
});

export const PrefixParamsSchema = Type.Object({ prefix: Type.String({ maxLength: 64 }) });

export const ExplainSchema = Type.Object({
  prefix: Type.String(),
  family: FamilySchema,
  /** The step that separated the best path from the runner-up, or only-path / no-eligible-path. */
  reason: Type.String(),
  /** The decision in one sentence. */
  summary: Type.String(),
  candidates: Type.Array(
    Type.Object({
      route: RouteSchema,
      status: Type.Union([Type.Literal('best'), Type.Literal('multipath'), Type.Literal('lost'), Type.Literal('ineligible')]),
      step: Opt(Type.String()),
      ineligible: Opt(Type.String()),
      text: Type.String(),
    }),
  ),
});

// --- FIB ------------------------------------------------------------------

/** would-install: dry run only (nothing is written, so nothing is called installed). */
export const FibRouteStateSchema = Type.Union([Type.Literal('installed'), Type.Literal('pending'), Type.Literal('failed'), Type.Literal('would-install')]);

export const FibQuerySchema = Type.Object(
  {
    state: Opt(FibRouteStateSchema),
    cursor: Opt(Type.String({ maxLength: 512 })),
    limit: Opt(Type.Integer({ minimum: 1, maximum: ROUTES_MAX_LIMIT, default: ROUTES_DEFAULT_LIMIT })),
  },
  { additionalProperties: false },
);

export const FibSchema = Type.Object({
  /** kernel: netlink writer; dry-run: records what it would do; disabled: fib.enabled false. */
  mode: Type.Union([Type.Literal('kernel'), Type.Literal('dry-run'), Type.Literal('disabled')]),
  /** Why the mode is not kernel: "fib.dryRun is true", "not root and no CAP_NET_ADMIN", "fib.enabled is false". */
  reason: Opt(Type.String()),
  table: Count,
  protocol: Count,
  reconciled: Type.Boolean(),
  lastReconcile: Opt(Type.String({ description: 'ISO 8601' })),
  counts: Type.Object({ installed: Count, pending: Count, failed: Count, wouldInstall: Opt(Count) }),
  routes: Type.Array(
    Type.Object({
      prefix: Type.String(),
      state: FibRouteStateSchema,
      /** pending: what is about to happen. */
      op: Opt(Type.Union([Type.Literal('add'), Type.Literal('replace'), Type.Literal('delete')])),
      nextHops: Type.Array(Type.Object({ gateway: Opt(Type.String()), dev: Opt(Type.String()), onlink: Opt(Type.Boolean()) })),
      kind: Opt(Type.String({ description: 'unicast or blackhole' })),
      error: Opt(Type.String()),
      attempts: Opt(Count),
    }),
  ),
  nextCursor: Opt(Type.String()),
});

// --- control --------------------------------------------------------------

export const AnnounceBodySchema = Type.Object(
  { prefix: PrefixText, communities: Opt(Type.Array(Community, { maxItems: 64 })) },
  { additionalProperties: false },
);

export const ResetBodySchema = Type.Object(
  { soft: Opt(Type.Union([Type.Literal('in'), Type.Literal('out')])) },
  { additionalProperties: false },
);

/** RFC 9003 §2: the shutdown communication is at most 255 octets of UTF-8 (checked in bytes by the handler). */
export const ShutdownBodySchema = Type.Object({ message: Opt(Type.String({ maxLength: 255 })) }, { additionalProperties: false });

export const ActionResponseSchema = Type.Object({ ok: Type.Literal(true), detail: Opt(Type.String()) });

export const ReloadResponseSchema = Type.Object({ ok: Type.Literal(true), changes: Opt(Type.Array(Type.String())) });

// --- health ---------------------------------------------------------------

export const HealthSchema = Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() });
/** notes: what an operator should know although it does not hold readiness back (e.g. the FIB in dry run). */
export const ReadySchema = Type.Object({ ready: Type.Boolean(), reasons: Type.Array(Type.String()), notes: Opt(Type.Array(Type.String())) });

/** The running config is free-form here: its own schema lives in config/schema.ts. */
export const ConfigResponseSchema = Type.Object({}, { additionalProperties: true });

export type Family = Static<typeof FamilySchema>;
export type ApiStatus = Static<typeof StatusSchema>;
export type ApiPeer = Static<typeof PeerSchema>;
export type ApiNotification = Static<typeof NotificationSchema>;
export type ApiRoute = Static<typeof RouteSchema>;
export type RoutesQuery = Static<typeof RoutesQuerySchema>;
export type RoutePage = Static<typeof RoutePageSchema>;
export type ApiExplain = Static<typeof ExplainSchema>;
export type FibQuery = Static<typeof FibQuerySchema>;
export type ApiFib = Static<typeof FibSchema>;
export type ReadyReport = Static<typeof ReadySchema>;
export type MessageType = (typeof MESSAGE_TYPES)[number];
