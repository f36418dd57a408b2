// GET /api/v1/cluster: the datastore's state and what it supplied (DESIGN.md,
// "The contract"). The status fields mirror the backend's DatastoreStatus;
// `supplied` is the cluster model's record (src/cluster/model.ts: this node,
// blocks, pools, mesh peers, BGPPeers matched and why, rejected resources).

import { Type, type Static } from '@sinclair/typebox';

const Opt = Type.Optional;

export const ClusterSchema = Type.Object({
  type: Type.String({ description: 'etcdv3 | kubernetes' }),
  endpoints: Type.Array(Type.String()),
  nodeName: Type.String(),
  connected: Type.Boolean(),
  unreachableSince: Opt(Type.String({ description: 'ISO time the datastore was lost; absent while connected' })),
  lastError: Opt(Type.String()),
  revision: Opt(Type.Number({ description: 'datastore revision the supplied state reflects' })),
  lastSync: Opt(Type.String({ description: 'ISO time of the last full list' })),
  resyncs: Type.Integer(),
  lastResync: Opt(Type.String({ description: 'why the last list ran: start, reconnect, compacted, watch cancelled' })),
  lastResyncMs: Opt(Type.Number()),
  keys: Type.Integer({ description: 'datastore keys held' }),
  /** Applying the supplied state: the last outcome of the reload it went through. */
  applied: Opt(Type.Object({ ok: Type.Boolean(), at: Type.String(), changes: Type.Array(Type.String()), errors: Opt(Type.Array(Type.String())) })),
  supplied: Opt(Type.Object({}, { additionalProperties: true })),
});

export type ApiCluster = Static<typeof ClusterSchema>;
