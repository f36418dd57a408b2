// The FIB's netlink layer: the pure rtnetlink codec (messages, interfaces,
// events, constants) and the socket shell over the native addon (transport).
// kernel-sync.ts and the benchmarks import from here.
export * as nl from './constants.js';
export { decodeEvent, type RtnlChange, type RtnlEvent } from './events.js';
export { decodeAddress, decodeLink, type KernelAddress, type KernelLink } from './interfaces.js';
export {
  decodeAck, decodeRoute, encodeDumpRequest, encodeRouteBatch, encodeRouteOp, forEachAttr, parseAddress, splitMessages,
  NlWriter, type KernelRoute, type NextHop, type NlAck, type NlMessage, type NlResult, type RouteBatch, type RouteOp,
  type RouteOpKind, type RouteSpec, type RouteType,
} from './messages.js';
export {
  DEFAULT_MONITOR_GROUPS, errnoName, NetlinkMonitor, NetlinkRouteSocket, type MonitorHandlers, type MonitorOptions,
  type NetlinkOutcome, type NetlinkSocketOptions,
} from './transport.js';
