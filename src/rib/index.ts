// The RIB's public surface (PURE, synchronous): the facade the daemon drives,
// its input/output types, and the pieces tests and the API read (peers,
// paths, decision explanations, policy compilation).

export { Rib, type PeerIn, type UpdateGroupInfo } from './rib.js';
export type * from './rib-types.js';
export type { ExportBlock } from './update-group.js';
export { Path, makePeer, localPeer, addressOrder, type PeerInfo, type PeerInit } from './route.js';
export type { AttrSet } from './attr-store.js';
export type { NextHopMode } from './export.js';
export type { CandidateExplanation, ExplainStatus } from './decision/decide.js';
export type { DecisionReason, IneligibleReason } from './decision/context.js';
export { compileGlobalPolicies, type GlobalPolicies } from './policy/index.js';
export { selectRoutes, explainPrefix, type RouteQuery, type RouteRow, type PrefixExplanation } from './query.js';
