// Public surface of the BGP session shells (RFC 4271 §8 transport side): one
// PeerSession per peer, the listener and connector, the per-peer out queue,
// and Neighbors, which owns the sessions of a config. The daemon imports here.

export { PeerSession } from './peer-session.js';
export type { PeerSessionEvents, PeerSessionOptions, SessionDown } from './types.js';
export { Neighbors, type NeighborsOptions, type PeerKind, type PeerSummary } from './neighbors.js';
export {
  BgpListener,
  findListenRange,
  prefixContainsAddress,
  type AcceptedConnection,
  type ListenerOptions,
} from './listener.js';
export { connectPeer, type ConnectOptions, type ConnectResult, type PendingConnect } from './connector.js';
export { OutQueue, type OutPriority, type OutQueueStats } from './out-queue.js';
export { MESSAGES_PER_SLICE } from './connection.js';
export { MAX_LOGGED_PREFIXES, updateSummary } from './session-log.js';
