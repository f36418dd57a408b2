// Public API of the BGP wire codec (pure: bytes <-> typed messages). Sessions
// import from here; see each module for the RFCs it implements.

export * from './types.js';
export * from './errors.js';
export { Framer, type FramerOutput } from './framer.js';
export { decodeHeader, encodeHeader, allocMessage, writeHeader, markerValid, MIN_LENGTH, type MessageHeader } from './header.js';
export { KEEPALIVE, KEEPALIVE_MESSAGE, encodeKeepalive } from './keepalive.js';
export {
  decodeNotification,
  encodeNotification,
  formatNotification,
  decodeShutdownCommunication,
  encodeShutdownCommunication,
  MAX_SHUTDOWN_COMMUNICATION,
  maxPrefixCeaseData,
  type NotificationInput,
} from './notification.js';
export {
  decodeCapabilities,
  encodeCapability,
  capabilityName,
  afiSafiName,
  CAP_MULTIPROTOCOL,
  CAP_ROUTE_REFRESH,
  CAP_EXTENDED_MESSAGE,
  CAP_GRACEFUL_RESTART,
  CAP_FOUR_OCTET_AS,
  CAP_ADD_PATH,
  CAP_ENHANCED_ROUTE_REFRESH,
  CAP_FQDN,
} from './capabilities.js';
export { decodeOpen, encodeOpen, openAsn, myAsField, BGP_VERSION, type OpenInput } from './open.js';
export { decodeRouteRefresh, encodeRouteRefresh, isKnownRouteRefreshSubtype, RR_REQUEST, RR_BORR, RR_EORR } from './route-refresh.js';
export { decodeMessage, encodeMessage, maxMessageLength, type InboundMessage } from './message.js';
export { decodeUpdate, encodeUpdate, type DecodedUpdate } from './update.js';
