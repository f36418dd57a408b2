// Public surface of the pure BGP FSM (RFC 4271 §8), OPEN negotiation
// (RFC 5492 and friends) and connection collision detection (RFC 4271 §6.8).
// The session shell imports from here.

export * from './types.js';
export { step, jitter, connectRetryDelay, idleHoldDelay, notification, cease } from './fsm.js';
export {
  buildOpen,
  negotiate,
  peerFamilies,
  localSettingsFromConfig,
  fsmConfigFromConfig,
  type LocalSettingsExtras,
} from './negotiate.js';
export {
  admitInbound,
  collisionWinner,
  resolveCollision,
  type CollisionInput,
  type CollisionPolicy,
} from './collision.js';
