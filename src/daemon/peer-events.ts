// The one subscriber to each session's events (DESIGN.md, "One way in per
// peer"). A PeerSession speaks in RFC 4271 terms (state changes, Established
// with what was negotiated, UPDATEs, ROUTE-REFRESH, NOTIFICATIONs, down); this
// turns each event into typed calls on the parts that own the facts:
// - the RIB runner: routes in and out;
// - graceful restart: End-of-RIB (RFC 4724 §2, detected here, once), the
//   restart verdict when a session ends (§4.2) and the restart timer;
// - the peer history the API reports (state times, NOTIFICATIONs, last error).
// Nothing else listens to a session, so the order of effects is the order
// written here.

import { endOfRibFamily } from '../bgp/wire/eor.js';
import type { NegotiatedSession } from '../bgp/fsm/index.js';
import type { PeerSession } from '../bgp/session/index.js';
import type { PeerKind } from '../bgp/session/neighbors.js';
import type { GracefulRestart } from './graceful-restart.js';
import type { PeerHistory } from './peer-history.js';
import type { RibRunner } from './rib-runner.js';

export interface PeerEventSinks {
  readonly runner: RibRunner;
  readonly restart: GracefulRestart;
  readonly history: PeerHistory;
}

/** Subscribes once to a new session (configured or dynamic), before it starts. */
export function attachPeer(session: PeerSession, kind: PeerKind, sinks: PeerEventSinks): void {
  const { runner, restart, history } = sinks;
  const address = session.address;
  const guard = (fn: () => void) => () => runner.guard(fn);
  // What the session negotiated while Established: the restart verdict needs it after the session has ended.
  let negotiated: NegotiatedSession | undefined;
  history.track(session, kind);
  runner.register(session);
  session.on('state', () => history.stateChanged(session));
  session.on('established', (s) =>
    runner.guard(() => {
      negotiated = s;
      history.established(session);
      restart.peerEstablished(address, s.families);
      runner.peerUp(session, s);
    }),
  );
  session.on('update', (u) =>
    runner.guard(() => {
      const family = endOfRibFamily(u.update);
      if (family === undefined) return runner.update(address, u);
      runner.endOfRib(address, family);
      restart.endOfRib(address, family);
    }),
  );
  session.on('route-refresh', (m) => runner.guard(() => runner.routeRefresh(address, m.afi, m.safi, m.subtype)));
  session.on('notification-received', (n) => history.notification(session, 'received', n));
  session.on('notification-sent', (n) => history.notification(session, 'sent', n));
  session.on('down', (d) =>
    runner.guard(() => {
      history.down(session, d);
      if (!d.wasEstablished) return;
      const verdict = restart.peerDown(address, d, negotiated);
      negotiated = undefined;
      const kept = runner.peerDown(address, verdict.graceful);
      if (kept.restartTime !== undefined) restart.staleRoutesKept(address, kept.restartTime);
    }),
  );
  session.on('writable', guard(() => runner.writable(address)));
}

/** The session is gone for good: no record, no writes, no timers. */
export function detachPeer(session: PeerSession, sinks: PeerEventSinks): void {
  sinks.runner.unregister(session);
  sinks.history.untrack(session);
  sinks.restart.peerRemoved(session.address);
}
